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
    /// BLOCKHASH only: a value computed from the block rather than looked up. For a number
    /// `n` with `1 <= NUMBER - n <= 256` it pushes keccak256 of the chain id (8 bytes
    /// big-endian) followed by `n` (8 bytes big-endian), 0 otherwise; it charges BLOCKHASH's
    /// 20 gas. This is Scroll's BLOCKHASH before its Feynman upgrade: scroll-tech/scroll-revm
    /// `src/instructions.rs` at commit 01030c48e50c55a9a2cf271478753c3f4aa84f9d, `fn
    /// blockhash` (line 95) and `fn compute_block_hash` (`input[..8]` = chain id,
    /// `input[8..]` = block number, both `to_be_bytes`). Chain id and number saturate at
    /// 2^64 - 1, as there.
    KeccakChainNumber,
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
            Behaviour::KeccakChainNumber => "keccak-chain-number",
        }
    }

    /// Every keyword, for error messages.
    pub const KEYWORDS: &'static str =
        "supported, constant, invalid, revert-refund, halt, absent, reject, keccak-chain-number";

    /// True when this behaviour makes sense for `subject`.
    pub fn applies_to(self, subject: Subject) -> bool {
        match self {
            Behaviour::Supported | Behaviour::RevertRefund | Behaviour::Reject => true,
            Behaviour::Constant(_) | Behaviour::Invalid | Behaviour::KeccakChainNumber => {
                subject == Subject::Opcode
            }
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

/// The value of a [`Behaviour::KeccakChainNumber`] BLOCKHASH: `requested` under a block
/// numbered `current` on chain `chain_id`. Every adapter computes it with this function, so the
/// byte layout is written down once.
pub fn keccak_chain_number(chain_id: U256, current: U256, requested: U256) -> U256 {
    let Some(diff) = current.checked_sub(requested) else {
        return U256::ZERO;
    };
    if diff.is_zero() || diff > U256::from(256) {
        return U256::ZERO;
    }
    let saturated = |v: U256| u64::try_from(v).unwrap_or(u64::MAX);
    let mut input = [0u8; 16];
    input[..8].copy_from_slice(&saturated(chain_id).to_be_bytes());
    input[8..].copy_from_slice(&saturated(requested).to_be_bytes());
    U256::from_be_bytes(alloy_primitives::keccak256(input).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keccak_chain_number_hashes_chain_then_number_in_the_window() {
        // keccak256(0x0000000000000001_0000000000000000), computed outside Rust with a plain
        // Keccak-256 (original 0x01 padding) over those 16 bytes.
        let h = keccak_chain_number(U256::from(1), U256::from(1), U256::ZERO);
        assert_eq!(
            h,
            "0x1b3dc907f2c72f8fba8e45cebb54b5ff1cb577e25373135a90900c10ed2cdaa3"
                .parse::<U256>()
                .unwrap()
        );
        // The current block, a future one, and one 257 back are 0; 256 back is not.
        assert_eq!(
            keccak_chain_number(U256::from(1), U256::from(1), U256::from(1)),
            U256::ZERO
        );
        assert_eq!(
            keccak_chain_number(U256::from(1), U256::from(1), U256::from(9)),
            U256::ZERO
        );
        assert_eq!(
            keccak_chain_number(U256::from(1), U256::from(300), U256::from(43)),
            U256::ZERO
        );
        assert_ne!(
            keccak_chain_number(U256::from(1), U256::from(300), U256::from(44)),
            U256::ZERO
        );
        // The chain id is part of the hash.
        assert_ne!(
            keccak_chain_number(U256::from(2), U256::from(1), U256::ZERO),
            h
        );
    }
}
