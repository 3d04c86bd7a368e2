//! What a profile can say about one opcode or one precompile.

use std::fmt;

use alloy_primitives::U256;

/// The behaviour a profile assigns to an opcode or a precompile.
///
/// The set is the union of what EIP-7530 proposes and what production rollups do (see
/// `docs/profiles.md`); each variant is documented with the exact semantics every backend
/// adapter must implement, so that two backends configured alike can be compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Behaviour {
    /// As in the base fork.
    Supported,
    /// Opcodes only: pops the opcode's inputs, charges its normal static gas and pushes this
    /// value (e.g. PREVRANDAO = 0 on most rollups).
    Constant(U256),
    /// Opcodes only: an exceptional halt of the executing frame, consuming all its gas, exactly
    /// like an undefined opcode.
    Invalid,
    /// EIP-7530 "treated as a revert": for a precompile, the call returns success 0 with empty
    /// return data and all gas forwarded to it comes back (the CALL's own charges are paid);
    /// for an opcode, the executing frame reverts with empty data and keeps its unused gas.
    RevertRefund,
    /// Precompiles only: fails like an L1 precompile failure, consuming the forwarded gas.
    Halt,
    /// Precompiles only: the address is an ordinary account (no code, cold under EIP-2929);
    /// a call to it succeeds with no output.
    Absent,
    /// The whole transaction is refused (as a sequencer refuses it): no state change, no fee.
    Reject,
}

/// What a rule applies to: an opcode or a precompile. Behaviours are valid for one or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An opcode rule.
    Opcode,
    /// A precompile rule.
    Precompile,
}

impl Behaviour {
    /// The name used in profile files.
    pub fn keyword(self) -> &'static str {
        match self {
            Behaviour::Supported => "supported",
            Behaviour::Constant(_) => "constant",
            Behaviour::Invalid => "invalid",
            Behaviour::RevertRefund => "revert-refund",
            Behaviour::Halt => "halt",
            Behaviour::Absent => "absent",
            Behaviour::Reject => "reject",
        }
    }

    /// Every keyword, for error messages.
    pub const KEYWORDS: &'static str =
        "supported, constant, invalid, revert-refund, halt, absent, reject";

    /// True when this behaviour makes sense for `subject`.
    pub fn applies_to(self, subject: Subject) -> bool {
        match self {
            Behaviour::Supported | Behaviour::RevertRefund | Behaviour::Reject => true,
            Behaviour::Constant(_) | Behaviour::Invalid => subject == Subject::Opcode,
            Behaviour::Halt | Behaviour::Absent => subject == Subject::Precompile,
        }
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Behaviour::Constant(v) => write!(f, "constant {v:#x}"),
            other => f.write_str(other.keyword()),
        }
    }
}
