//! Profile rules inside levm.
//!
//! levm has no extension point for either kind of rule: its opcode table is a crate-private
//! `&'static` per-fork table and its dispatch loop is private. What it does make public is
//! every piece the loop is made of (the handler types, the frame-handling methods, the hooks),
//! so under a profile with rules the adapter drives levm through its own copy of the loop
//! ([`super::dispatch`]), which consults these rules before each instruction:
//!
//! * **Opcode rules** replace the handler: `constant` charges the opcode's static gas from
//!   [`constant_shape`] (as levm's own handlers do, before popping), pops the inputs and pushes
//!   the value; `invalid` halts like levm's undefined-opcode handler; `revert-refund` ends the
//!   frame like REVERT with empty data, keeping its unused gas; `reject` aborts the transaction.
//! * **Precompile rules** (`revert-refund`, `halt`, `reject`, and every call to modexp when
//!   a length cap is set) take the address out of levm's precompile dispatch through its
//!   `PrecompileMoves` (the geth state-override mechanism, which makes an address an ordinary
//!   account), so a call to it enters a frame with no code; the loop intercepts that frame's
//!   first step and ends it as the rule says: `revert-refund` as a revert keeping all the
//!   gas forwarded to it, `halt` as a precompile failure consuming it, `reject` by aborting,
//!   and modexp under the cap by running levm's own modexp on the frame's input. levm keeps
//!   precompile addresses warm by construction (`Substate::is_warm_precompile`, independent of
//!   dispatch), so these addresses stay warm, as the rules require.
//! * **`absent`** needs the address to be *cold* (EIP-2929) as an ordinary account is, and
//!   levm's warmth of precompile addresses cannot be changed from outside: it is reported as
//!   [`BackendError::Unsupported`], never approximated.
//!
//! A plain mainnet profile installs nothing and runs levm's own `VM::execute`.

use ethrex_common::Address;
use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::MODEXP;
use evmdiff_core::profile::{LengthCap, constant_shape};
use evmdiff_core::{BackendError, Behaviour, Profile};

use super::env::{address, u256};

/// What the loop does instead of an opcode's handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpRule {
    /// Charge `gas`, pop `inputs`, push `value`.
    Constant {
        /// Items popped.
        inputs: usize,
        /// Static gas charged.
        gas: u64,
        /// Value pushed.
        value: ethrex_common::U256,
    },
    /// Exceptional halt, as an undefined opcode.
    Invalid,
    /// Revert with empty data, keeping the unused gas.
    RevertRefund,
    /// Refuse the transaction.
    Reject,
}

/// A profile's rules in the form the loop reads them.
#[derive(Debug, Clone)]
pub(crate) struct Rules {
    /// Per opcode byte; `None` runs levm's handler.
    pub(crate) opcodes: [Option<OpRule>; 256],
    /// Precompile addresses taken out of levm's dispatch, with their rule (`Supported` for
    /// modexp under a length cap, whose calls run levm's modexp when under the cap).
    pub(crate) precompiles: Vec<(Address, Behaviour)>,
    /// The modexp length cap, if any.
    pub(crate) modexp_cap: Option<LengthCap>,
}

impl Rules {
    /// The rules of `profile`, or `None` when it has none (plain mainnet: levm runs unchanged),
    /// or why one of them cannot be honoured.
    pub(crate) fn of(profile: &Profile) -> Result<Option<Rules>, BackendError> {
        let mut opcodes = [None; 256];
        let mut any = false;
        for (&op, b) in &profile.opcodes {
            let rule = match b {
                Behaviour::Supported => continue,
                Behaviour::Constant(v) => {
                    let Some((inputs, gas)) = constant_shape(Opcode(op)) else {
                        return Err(unsupported_op(op, b, "no constant shape"));
                    };
                    OpRule::Constant {
                        inputs,
                        gas,
                        value: u256(*v),
                    }
                }
                Behaviour::Invalid => OpRule::Invalid,
                Behaviour::RevertRefund => OpRule::RevertRefund,
                Behaviour::Reject => OpRule::Reject,
                Behaviour::Halt | Behaviour::Absent => {
                    return Err(unsupported_op(op, b, "a precompile-only behaviour"));
                }
            };
            opcodes[op as usize] = Some(rule);
            any = true;
        }
        let mut precompiles = Vec::new();
        for a in profile.precompiles.keys() {
            // Rules for precompiles the base fork does not have are moot.
            let Some(b) = profile.precompile(a) else {
                continue;
            };
            match b {
                Behaviour::Supported => {}
                Behaviour::RevertRefund | Behaviour::Halt | Behaviour::Reject => {
                    precompiles.push((address(*a), b));
                }
                Behaviour::Absent => {
                    return Err(BackendError::Unsupported(format!(
                        "precompile rule `absent` for {a}: levm keeps precompile addresses warm \
                         by construction (Substate::is_warm_precompile), so it cannot make one a \
                         cold ordinary account"
                    )));
                }
                Behaviour::Constant(_) | Behaviour::Invalid => {
                    return Err(BackendError::Unsupported(format!(
                        "precompile rule `{b}` for {a}"
                    )));
                }
            }
        }
        let modexp_cap = profile.limits.modexp;
        if let Some(cap) = &modexp_cap {
            if !matches!(
                cap.behaviour,
                Behaviour::RevertRefund | Behaviour::Halt | Behaviour::Reject
            ) {
                return Err(BackendError::Unsupported(format!(
                    "modexp cap behaviour `{}`",
                    cap.behaviour
                )));
            }
            // The cap is about the precompile: before Byzantium 0x05 is an ordinary account
            // (and levm runs Paris and later only, so modexp always exists here).
            let modexp = address(MODEXP);
            if profile.precompile(&MODEXP).is_some()
                && !precompiles.iter().any(|(a, _)| *a == modexp)
            {
                precompiles.push((modexp, Behaviour::Supported));
            }
        }
        any |= !precompiles.is_empty();
        Ok(any.then_some(Rules {
            opcodes,
            precompiles,
            modexp_cap,
        }))
    }

    /// No rule at all: the adapter's loop then runs exactly levm's `execute`.
    pub(crate) fn none() -> Rules {
        Rules {
            opcodes: [None; 256],
            precompiles: Vec::new(),
            modexp_cap: None,
        }
    }

    /// The rule for a call to `address`, if it is one of the precompiles taken out of levm's
    /// dispatch.
    pub(crate) fn precompile(&self, address: &Address) -> Option<Behaviour> {
        self.precompiles
            .iter()
            .find(|(a, _)| a == address)
            .map(|(_, b)| *b)
    }
}

fn unsupported_op(op: u8, b: &Behaviour, why: &str) -> BackendError {
    BackendError::Unsupported(format!("opcode rule `{b}` for 0x{op:02x}: {why}"))
}

/// True when one of modexp's three length fields (the first three 32-byte big-endian words of
/// the input, zero-padded) exceeds `max_len`: the revm adapter's reading of the cap.
pub(crate) fn modexp_exceeds(input: &[u8], max_len: u64) -> bool {
    (0..3).any(|i| {
        let mut word = [0u8; 32];
        let start = (i * 32).min(input.len());
        let end = (start + 32).min(input.len());
        word[..end - start].copy_from_slice(&input[start..end]);
        ethrex_common::U256::from_big_endian(&word) > ethrex_common::U256::from(max_len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modexp_lengths_are_read_zero_padded() {
        let mut input = vec![0u8; 96];
        input[31] = 4;
        input[63] = 5;
        input[95] = 6;
        assert!(!modexp_exceeds(&input, 6));
        assert!(modexp_exceeds(&input, 5));
        let short = &[[0u8; 64].as_slice(), &[1u8]].concat();
        assert!(modexp_exceeds(short, u64::MAX));
        assert!(!modexp_exceeds(&[], 0));
    }
}
