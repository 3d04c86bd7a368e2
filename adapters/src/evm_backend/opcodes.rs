//! Opcode rules of a profile, as an Etable chained *before* evm's gasometer.
//!
//! Placed first, a rule sees the opcode before evm charges gas for it or refuses it as
//! inactive in the fork, so it fully replaces the opcode. Opcodes without a rule return
//! `NoAction`, and the chain falls through to the gasometer and the standard dispatch table:
//! for plain mainnet the whole cost is one table load per executed opcode.

use std::cell::RefCell;
use std::marker::PhantomData;

use evm::interpreter::etable::Etable;
use evm::interpreter::trap::CallCreateTrap;
use evm::interpreter::{Control, ExitError, ExitException, ExitFatal, Machine, Opcode};
use evm::standard::State;
use evm::uint::U256 as EU256;
use evmdiff_core::opcode::Opcode as CoreOpcode;
use evmdiff_core::profile::{constant_shape, keccak_chain_number};
use evmdiff_core::{BackendError, Behaviour, Profile};

use super::convert::{eu256, u256 as core_u256};

/// What a profile rule does when its opcode executes.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Pop `pops` items, charge `gas`, push `value` (checks as the original opcode would).
    Constant { value: EU256, pops: usize, gas: u64 },
    /// Exceptional halt, like an undefined opcode.
    Invalid,
    /// Revert the frame with empty data, keeping its unused gas.
    RevertRefund,
    /// Refuse the whole transaction.
    Reject,
    /// BLOCKHASH computed from the block: charge 20, replace the number on top of the stack
    /// with this case's [`keccak_chain_number`].
    KeccakChainNumber,
}

/// Why evm cannot apply `profile`'s rules, if it cannot: evm's gasometer is a separate step
/// that charges an opcode's cost before any rule sees the opcode's effect, and it prices
/// precompiles inside evm-precompile, so gas rules have no place to go; and evm-precompile has
/// no secp256r1 (P256) implementation for an added P256VERIFY.
pub(super) fn cannot_apply(profile: &Profile) -> Option<String> {
    if !profile.gas.opcodes.is_empty() {
        return Some(
            "rust-ethereum evm cannot change an opcode's gas: its gasometer charges the \
             standard cost in its own step, outside the profile's rules"
                .into(),
        );
    }
    if !profile.gas.precompiles.is_empty() {
        return Some(
            "rust-ethereum evm cannot change a precompile's gas: evm-precompile prices each \
             call itself"
                .into(),
        );
    }
    if let Some(p) = profile.added.values().next() {
        return Some(format!(
            "rust-ethereum evm has no {} implementation (evm-precompile has no secp256r1)",
            p.implementation
        ));
    }
    None
}

/// Set when a profile `reject` rule fires: the transaction must be refused. Shared by the
/// opcode and precompile wrappers, which evm only lends out by shared reference.
#[derive(Debug, Default)]
pub(super) struct Refusal(RefCell<Option<String>>);

impl Refusal {
    /// Records why the transaction is refused (the first reason wins).
    pub(super) fn refuse(&self, why: String) {
        self.0.borrow_mut().get_or_insert(why);
    }

    /// The reason, if the transaction was refused.
    pub(super) fn take(&self) -> Option<String> {
        self.0.borrow_mut().take()
    }

    /// The frame-level error that unwinds a refused transaction as fast as possible: a fatal
    /// error stops every frame above it. The outcome is discarded anyway.
    pub(super) fn unwind() -> ExitError {
        ExitFatal::Other("transaction refused by the profile".into()).into()
    }
}

/// The opcode rules of one profile.
pub(super) struct ProfileEtable<'a, 'config> {
    /// Per opcode byte, 0 for "no rule", else 1 + index into `rules`.
    index: [u8; 256],
    rules: Vec<(u8, Rule)>,
    refusal: &'a Refusal,
    /// The case's chain id and block number, for block-derived rules.
    chain_id: EU256,
    number: EU256,
    _config: PhantomData<&'config ()>,
}

impl<'a> ProfileEtable<'a, '_> {
    /// The rules of `profile`, reporting refusals to `refusal`.
    pub(super) fn new(
        profile: &Profile,
        refusal: &'a Refusal,
        chain_id: u64,
        number: alloy_primitives::U256,
    ) -> Result<Self, BackendError> {
        let mut index = [0u8; 256];
        let mut rules = Vec::new();
        for (&op, &behaviour) in &profile.opcodes {
            let rule = match behaviour {
                Behaviour::Supported => continue,
                Behaviour::Constant(v) => {
                    let (pops, gas) = constant_shape(CoreOpcode(op)).ok_or_else(|| {
                        BackendError::Failed(format!(
                            "profile gives {} a constant, which it cannot have",
                            CoreOpcode(op)
                        ))
                    })?;
                    Rule::Constant {
                        value: eu256(v),
                        pops,
                        gas,
                    }
                }
                Behaviour::Invalid => Rule::Invalid,
                Behaviour::RevertRefund => Rule::RevertRefund,
                Behaviour::Reject => Rule::Reject,
                Behaviour::KeccakChainNumber => Rule::KeccakChainNumber,
                b @ (Behaviour::Halt | Behaviour::Absent) => {
                    return Err(BackendError::Failed(format!(
                        "behaviour `{b}` does not apply to opcode {}",
                        CoreOpcode(op)
                    )));
                }
            };
            rules.push((op, rule));
            index[op as usize] = rules.len() as u8;
        }
        Ok(ProfileEtable {
            index,
            rules,
            refusal,
            chain_id: EU256::from(chain_id),
            number: eu256(number),
            _config: PhantomData,
        })
    }
}

impl<'config, H> Etable<H> for ProfileEtable<'_, 'config> {
    type State = State<'config>;
    type Trap = CallCreateTrap;

    fn eval(
        &self,
        m: &mut Machine<State<'config>>,
        _h: &mut H,
        pos: usize,
    ) -> Control<CallCreateTrap> {
        let op = m.code()[pos];
        let slot = self.index[op as usize];
        if slot == 0 {
            return Control::NoAction;
        }
        match self.rules[slot as usize - 1].1 {
            Rule::Constant { value, pops, gas } => {
                // The same checks, in the same order, as evm applies to the original opcode:
                // static gas first (the gasometer runs before the opcode), then the stack.
                let checked = m
                    .state
                    .gasometer
                    .record_gas64(gas)
                    .and_then(|()| m.stack.check_pop_push(pops, 1).map_err(ExitError::from));
                if let Err(e) = checked {
                    m.state.gasometer.oog();
                    return Control::Exit(Err(e));
                }
                for _ in 0..pops {
                    // Checked above, cannot fail.
                    let _ = m.stack.pop();
                }
                match m.stack.push(value) {
                    Ok(()) => Control::Continue(1),
                    Err(e) => Control::Exit(Err(e.into())),
                }
            }
            Rule::KeccakChainNumber => {
                // As evm's BLOCKHASH: its 20 gas first, then the stack.
                let checked = m
                    .state
                    .gasometer
                    .record_gas64(20)
                    .and_then(|()| m.stack.check_pop_push(1, 1).map_err(ExitError::from));
                if let Err(e) = checked {
                    m.state.gasometer.oog();
                    return Control::Exit(Err(e));
                }
                let requested = m.stack.pop().unwrap_or_default();
                let value = keccak_chain_number(
                    core_u256(self.chain_id),
                    core_u256(self.number),
                    core_u256(requested),
                );
                match m.stack.push(eu256(value)) {
                    Ok(()) => Control::Continue(1),
                    Err(e) => Control::Exit(Err(e.into())),
                }
            }
            Rule::Invalid => {
                // Exactly what evm does for an undefined opcode: all the frame's gas is gone.
                m.state.gasometer.oog();
                Control::Exit(ExitException::InvalidOpcode(Opcode(op)).into())
            }
            Rule::RevertRefund => {
                // The opcode is not charged: the frame stops as if it executed REVERT(0, 0).
                m.retval.clear();
                Control::Exit(Err(ExitError::Reverted))
            }
            Rule::Reject => {
                self.refusal
                    .refuse(format!("profile rejects opcode {}", CoreOpcode(op)));
                Control::Exit(Err(Refusal::unwind()))
            }
        }
    }
}
