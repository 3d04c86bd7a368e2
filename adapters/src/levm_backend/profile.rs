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
//! * **`absent`** makes the address an ordinary account: it is taken out of dispatch the same
//!   way (and not intercepted), and it must also be *cold* (EIP-2929). levm keeps precompile
//!   addresses warm by construction (`Substate::is_warm_precompile`: `0x01..=0x09` before
//!   Cancun, `..=0x0a` in Cancun, `..=0x11` from Prague, plus `0x100` from Osaka), so the
//!   adapter rebuilds the transaction's initial substate ([`cold_substate`]) with the warmth of
//!   `0x01..=0x09` only and warms the fork's other precompiles explicitly, all but the absent
//!   ones. An `absent` rule for one of `0x01..=0x09` cannot be honoured that way and is
//!   reported as [`BackendError::Unsupported`].
//!
//! * **`keccak-chain-number`** (BLOCKHASH) charges 20, pops the number and pushes
//!   [`evmdiff_core::profile::keccak_chain_number`] of the block's chain id and number.
//! * **Opcode gas rules** charge the profile's figure first (so it decides whether the opcode
//!   runs), hand the standard fixed cost back and run levm's handler, which charges it.
//! * **Precompile gas rules** take the precompile out of dispatch like a precompile rule; the
//!   intercepted call pays the profile's figure and runs levm's own precompile with all the
//!   gas it wants. **Added precompiles** are intercepted the same way (taken out of dispatch
//!   where the base fork has a precompile they replace, warmed explicitly elsewhere) and run
//!   levm's own implementation (`p_256_verify`) at the profile's price.
//!
//! A plain mainnet profile installs nothing: `execute` runs levm's own `VM::execute`, and an
//! observed execution the loop without rules.

use ethrex_common::Address;
use ethrex_common::types::{Fork as LevmFork, TxKind};
use ethrex_levm::vm::{AccessedAddresses, AccessedStorageSlots, Substate, VM};
use evmdiff_core::Fork;
use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::MODEXP;
use evmdiff_core::precompile::Precompile;
use evmdiff_core::profile::{AddedPrecompile, LengthCap, constant_shape, fixed_opcode_gas};
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
    /// BLOCKHASH computed from the block ([`evmdiff_core::profile::keccak_chain_number`]),
    /// charging BLOCKHASH's 20.
    KeccakChainNumber,
    /// Charge `gas` instead of the opcode's fixed cost `standard`, then run levm's handler
    /// (which charges `standard` itself, so it is handed back first).
    Gas {
        /// The profile's figure.
        gas: u64,
        /// What levm's handler charges.
        standard: u64,
    },
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
    /// Precompiles the profile makes `absent`: out of dispatch, never intercepted, cold.
    pub(crate) absent: Vec<Address>,
    /// Precompiles of the base fork with a gas rule: out of dispatch, intercepted, run with
    /// levm's implementation and charged the profile's figure.
    pub(crate) repriced: Vec<(Address, u64)>,
    /// Precompiles the profile adds: intercepted; warmed explicitly where levm has no
    /// precompile, taken out of dispatch where it has one (which they replace).
    pub(crate) added: Vec<(Address, AddedPrecompile)>,
    /// The added addresses where the base fork has a precompile.
    pub(crate) replaced: Vec<Address>,
}

/// What the loop does with a frame whose code address is intercepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Intercept {
    /// A precompile rule (`Supported`: modexp under a length cap).
    Rule(Behaviour),
    /// levm's precompile at this gas.
    Repriced(u64),
    /// An added precompile.
    Added(AddedPrecompile),
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
                Behaviour::KeccakChainNumber => OpRule::KeccakChainNumber,
                Behaviour::Halt | Behaviour::Absent => {
                    return Err(unsupported_op(op, b, "a precompile-only behaviour"));
                }
            };
            opcodes[op as usize] = Some(rule);
            any = true;
        }
        for (&op, &gas) in &profile.gas.opcodes {
            let Some(standard) = fixed_opcode_gas(Opcode(op)) else {
                return Err(BackendError::Failed(format!(
                    "profile re-prices {}, which has no fixed cost",
                    Opcode(op)
                )));
            };
            if gas > i64::MAX as u64 / 2 {
                return Err(BackendError::Unsupported(format!(
                    "gas rule of {gas} for {}: levm counts gas in an i64",
                    Opcode(op)
                )));
            }
            opcodes[op as usize] = Some(OpRule::Gas { gas, standard });
            any = true;
        }
        let mut precompiles = Vec::new();
        let mut absent = Vec::new();
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
                Behaviour::Absent if always_warm(a) => {
                    return Err(BackendError::Unsupported(format!(
                        "precompile rule `absent` for {a}: levm keeps 0x01..=0x09 warm by \
                         construction in every fork (Substate::is_warm_precompile), so it cannot \
                         make that address a cold ordinary account"
                    )));
                }
                Behaviour::Absent => absent.push(address(*a)),
                Behaviour::Constant(_) | Behaviour::Invalid | Behaviour::KeccakChainNumber => {
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
        let repriced: Vec<_> = profile
            .gas
            .precompiles
            .iter()
            .map(|(a, g)| (address(*a), *g))
            .collect();
        let added: Vec<_> = profile
            .added
            .iter()
            .map(|(a, p)| (address(*a), *p))
            .collect();
        let replaced = profile
            .added
            .keys()
            .filter(|a| profile.precompile(a).is_some())
            .map(|a| address(*a))
            .collect();
        any |= !precompiles.is_empty()
            || !absent.is_empty()
            || !repriced.is_empty()
            || !added.is_empty();
        Ok(any.then_some(Rules {
            opcodes,
            precompiles,
            modexp_cap,
            absent,
            repriced,
            added,
            replaced,
        }))
    }

    /// No rule at all: the adapter's loop then runs exactly levm's `execute`.
    pub(crate) fn none() -> Rules {
        Rules {
            opcodes: [None; 256],
            precompiles: Vec::new(),
            modexp_cap: None,
            absent: Vec::new(),
            repriced: Vec::new(),
            added: Vec::new(),
            replaced: Vec::new(),
        }
    }

    /// True when no call is intercepted.
    pub(crate) fn intercepts_nothing(&self) -> bool {
        self.precompiles.is_empty() && self.repriced.is_empty() && self.added.is_empty()
    }

    /// What to do with a call whose code address is `address`, if it is intercepted.
    pub(crate) fn intercept(&self, address: &Address) -> Option<Intercept> {
        if let Some((_, p)) = self.added.iter().find(|(a, _)| a == address) {
            return Some(Intercept::Added(*p));
        }
        if let Some((_, g)) = self.repriced.iter().find(|(a, _)| a == address) {
            return Some(Intercept::Repriced(*g));
        }
        self.precompile(address).map(Intercept::Rule)
    }

    /// Addresses levm's precompile dispatch must not handle: every intercepted precompile
    /// of the base fork, and the absent ones.
    pub(crate) fn moved(&self) -> impl Iterator<Item = Address> + '_ {
        self.precompiles
            .iter()
            .map(|(a, _)| *a)
            .chain(self.repriced.iter().map(|(a, _)| *a))
            .chain(self.replaced.iter().copied())
            .chain(self.absent.iter().copied())
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

/// True for the precompile addresses levm warms by construction in every fork.
fn always_warm(a: &alloy_primitives::Address) -> bool {
    a.0[..18] == [0u8; 18] && (1..=9).contains(&u16::from_be_bytes([a.0[18], a.0[19]]))
}

/// The transaction's initial substate as levm's `Substate::initialize` and `get_tx_callee`
/// build it (sender; coinbase from Shanghai, EIP-3651; the access list; the recipient, or the
/// created address, also marked created), except for precompile warmth: only `0x01..=0x09`
/// are warm by construction (the pre-Cancun range), and every other precompile of `fork` is
/// warmed explicitly unless it is in `absent`. Must replace `vm.substate` right after
/// `VM::new`, before anything else touched it.
pub(crate) fn cold_substate(vm: &VM<'_>, fork: Fork, absent: &[Address]) -> Substate {
    let env = &vm.env;
    let mut addresses = AccessedAddresses::default();
    addresses.insert(env.origin);
    if env.config.fork >= LevmFork::Shanghai {
        addresses.insert(env.coinbase);
    }
    let mut slots = AccessedStorageSlots::default();
    for (a, keys) in vm.tx.access_list() {
        addresses.insert(*a);
        let warm = slots.entry(*a).or_default();
        for k in keys {
            warm.insert(*k);
        }
    }
    let mut substate = Substate::from_accesses(LevmFork::Paris, addresses, slots);
    for p in Precompile::active_in(fork) {
        let a = address(p.address);
        if !absent.contains(&a) {
            substate.add_accessed_address(a);
        }
    }
    let callee = vm.current_call_frame.to;
    substate.add_accessed_address(callee);
    if matches!(vm.tx.to(), TxKind::Create) {
        substate.add_created_account(callee);
    }
    substate
}

fn unsupported_op(op: u8, b: &Behaviour, why: &str) -> BackendError {
    BackendError::Unsupported(format!("opcode rule `{b}` for 0x{op:02x}: {why}"))
}
