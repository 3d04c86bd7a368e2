//! Profile rules inside revm: replacement instructions for opcode rules and a precompile
//! provider wrapping revm's own for precompile rules.
//!
//! revm instructions are plain `fn` pointers that cannot capture anything, so there is one
//! function per behaviour and the per-execution data they need (constant values, the "rejected"
//! note) lives in the context's `chain` field, [`ProfileChain`], which every instruction reaches
//! through its host. The precompile provider is owned by the EVM and holds its rules itself.
//!
//! Block-derived BLOCKHASH (`keccak-chain-number`) is one more replacement instruction, reading
//! the chain id and block number from its host; opcode gas rules rewrite the table's static gas
//! (the whole cost of the fixed-cost opcodes they may name). Precompile gas rules and added
//! precompiles live in the provider: a re-priced precompile runs revm's own with all the gas
//! it wants and is charged the profile's figure, an added P256VERIFY runs revm-precompile's
//! `secp256r1::verify_impl` at its price, and both kinds of address are warm.
//!
//! A plain mainnet profile installs nothing: the instruction table is revm's own and the
//! precompile provider delegates after a single `bool` test.

use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::{MODEXP, modexp_exceeds};
use evmdiff_core::profile::{
    AddedPrecompile, Implementation, LengthCap, P256_VALID, constant_shape, keccak_chain_number,
};
use evmdiff_core::{BackendError, Behaviour, Profile};
use revm::context::{Cfg, ContextError, LocalContextTr};
use revm::context_interface::{ContextTr, Host, JournalTr};
use revm::handler::instructions::EthInstructions;
use revm::handler::{EthPrecompiles, PrecompileProvider, precompile_output_to_interpreter_result};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::Jumps;
use revm::interpreter::{
    CallInput, CallInputs, Instruction, InstructionContext, InstructionExecResult,
    InstructionResult, InterpreterResult,
};
use revm::precompile::secp256r1::verify_impl;
use revm::precompile::{PrecompileHalt, PrecompileOutput, PrecompileStatus};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, AddressSet, Bytes, U256};

use super::Ctx;

/// Per-execution profile data that instructions read and write through the context.
#[derive(Debug, Default)]
pub(crate) struct ProfileChain {
    /// `(opcode, inputs popped, value pushed)` of every `constant` rule.
    constants: Vec<(u8, usize, U256)>,
    /// Set when a `reject` rule fired: the transaction is refused, whatever else happened.
    pub(crate) rejected: Option<String>,
    /// Precompiles called and not yet reported to an observer (only the observed path
    /// writes here; see `observe.rs`).
    pub(crate) precompile_calls: Vec<Address>,
    /// The transient storage as the last frame to end left it, noted by the observed path
    /// when asked: the planted bug [`Planted::KeepsTransientStorage`] carries it into the
    /// next transaction. Not cleared by [`reset`](ProfileChain::reset).
    ///
    /// [`Planted::KeepsTransientStorage`]: super::Planted::KeepsTransientStorage
    pub(crate) transient_seen: Option<revm::state::TransientStorage>,
}

impl ProfileChain {
    /// Loads the constant rules of `profile` and clears the rejection note.
    pub(crate) fn reset(&mut self, profile: &Profile) {
        self.rejected = None;
        self.constants.clear();
        self.precompile_calls.clear();
        for (&op, b) in &profile.opcodes {
            if let Behaviour::Constant(v) = b
                && let Some((inputs, _)) = constant_shape(Opcode(op))
            {
                self.constants.push((op, inputs, *v));
            }
        }
    }
}

/// Checks that every rule of `profile` is one this adapter can apply, before anything runs.
pub(crate) fn check(profile: &Profile) -> Result<(), BackendError> {
    for (&op, b) in &profile.opcodes {
        let ok = match b {
            Behaviour::Constant(_) => constant_shape(Opcode(op)).is_some(),
            Behaviour::Halt | Behaviour::Absent => false,
            _ => true,
        };
        if !ok {
            return Err(BackendError::Unsupported(format!(
                "opcode rule `{b}` for 0x{op:02x}"
            )));
        }
    }
    for (addr, b) in &profile.precompiles {
        if matches!(b, Behaviour::Constant(_) | Behaviour::Invalid) {
            return Err(BackendError::Unsupported(format!(
                "precompile rule `{b}` for {addr}"
            )));
        }
    }
    for (&op, &gas) in &profile.gas.opcodes {
        if u16::try_from(gas).is_err() {
            return Err(BackendError::Unsupported(format!(
                "gas rule of {gas} for opcode 0x{op:02x}: revm's static gas table holds at most {}",
                u16::MAX
            )));
        }
    }
    if let Some(cap) = &profile.limits.modexp
        && !matches!(
            cap.behaviour,
            Behaviour::RevertRefund | Behaviour::Halt | Behaviour::Reject
        )
    {
        return Err(BackendError::Unsupported(format!(
            "modexp cap behaviour `{}`",
            cap.behaviour
        )));
    }
    Ok(())
}

/// An instruction of this adapter's EVM.
type OpFn = fn(InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult;

/// revm's instruction table for `spec` with the opcode rules of `profile` installed.
///
/// `invalid`, `revert-refund` and `reject` get a static gas of 0, so that they take effect
/// before any gas check, as an undefined opcode does; `constant` charges the original opcode's
/// static gas from [`constant_shape`], exactly like the opcode it replaces.
pub(crate) fn instructions(
    spec: SpecId,
    profile: &Profile,
) -> EthInstructions<EthInterpreter, Ctx> {
    let mut table = EthInstructions::new_mainnet_with_spec(spec);
    for (&op, b) in &profile.opcodes {
        let (f, gas): (OpFn, u64) = match b {
            Behaviour::Supported | Behaviour::Halt | Behaviour::Absent => continue,
            Behaviour::Constant(_) => match constant_shape(Opcode(op)) {
                Some((_, gas)) => (op_constant, gas),
                None => continue,
            },
            Behaviour::Invalid => (op_invalid, 0),
            Behaviour::RevertRefund => (op_revert_refund, 0),
            Behaviour::Reject => (op_reject, 0),
            // BLOCKHASH's own static gas, 20 (a fixed cost: `fixed_opcode_gas`).
            Behaviour::KeccakChainNumber => (op_keccak_chain_number, 20),
        };
        table.insert_instruction(
            op,
            Instruction::new(f),
            u16::try_from(gas).unwrap_or(u16::MAX),
        );
    }
    // A gas rule is for an opcode whose whole cost is its static gas (`fixed_opcode_gas`), so
    // the table's entry is all there is to change; `check` refused figures over u16.
    for (&op, &gas) in &profile.gas.opcodes {
        table.insert_gas(op, u16::try_from(gas).unwrap_or(u16::MAX));
    }
    table
}

/// `keccak-chain-number` (BLOCKHASH; its 20 gas charged by the table): replaces the requested
/// number with [`keccak_chain_number`] of the block's chain id and number.
fn op_keccak_chain_number(
    ctx: InstructionContext<'_, Ctx, EthInterpreter>,
) -> InstructionExecResult {
    let (chain_id, current) = (ctx.host.chain_id(), ctx.host.block_number());
    let stack = &mut ctx.interpreter.stack;
    let Some([requested]) = stack.popn::<1>() else {
        return Err(InstructionResult::StackUnderflow);
    };
    if !stack.push(keccak_chain_number(chain_id, current, requested)) {
        return Err(InstructionResult::StackOverflow);
    }
    Ok(())
}

/// The opcode being executed: the interpreter has already stepped past it.
fn current_opcode(ctx: &mut InstructionContext<'_, Ctx, EthInterpreter>) -> u8 {
    let bytecode = &mut ctx.interpreter.bytecode;
    bytecode.relative_jump(-1);
    let op = bytecode.opcode();
    bytecode.relative_jump(1);
    op
}

/// `constant`: the static gas was charged by the table; pops the inputs, pushes the value.
fn op_constant(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    let op = current_opcode(&mut ctx);
    let Some(&(_, inputs, value)) = ctx.host.chain.constants.iter().find(|c| c.0 == op) else {
        // The table and the chain data are installed from the same profile, so this is an
        // adapter bug: fail the execution (a backend failure) rather than push a wrong value.
        ctx.host.error = Err(ContextError::Custom(format!(
            "adapter bug: no constant for opcode 0x{op:02x}"
        )));
        return Err(InstructionResult::OpcodeNotFound);
    };
    let stack = &mut ctx.interpreter.stack;
    if stack.len() < inputs {
        return Err(InstructionResult::StackUnderflow);
    }
    for _ in 0..inputs {
        let _ = stack.popn::<1>();
    }
    if !stack.push(value) {
        return Err(InstructionResult::StackOverflow);
    }
    Ok(())
}

/// `invalid`: the same result as an undefined opcode (exceptional halt, all gas consumed).
fn op_invalid(_: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    Err(InstructionResult::OpcodeNotFound)
}

/// `revert-refund`: the frame reverts with empty data and keeps its unused gas.
fn op_revert_refund(_: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    Err(InstructionResult::Revert)
}

/// `reject`: notes the rejection and aborts the transaction. A context error makes revm's
/// handler return `EVMError::Custom` as soon as this frame returns, whatever its depth.
fn op_reject(mut ctx: InstructionContext<'_, Ctx, EthInterpreter>) -> InstructionExecResult {
    let op = current_opcode(&mut ctx);
    let why = format!(
        "profile rejects opcode {}",
        Opcode(op).name().unwrap_or_else(|| format!("0x{op:02x}"))
    );
    ctx.host.error = Err(ContextError::Custom(why.clone()));
    ctx.host.chain.rejected = Some(why);
    Err(InstructionResult::OpcodeNotFound)
}

/// revm's precompiles with a profile's precompile rules and modexp cap applied.
#[derive(Debug)]
pub(crate) struct ProfilePrecompiles {
    inner: EthPrecompiles,
    /// Rules other than `supported`, for precompiles active in the base fork.
    rules: Vec<(Address, Behaviour)>,
    modexp_cap: Option<LengthCap>,
    /// Gas rules per precompile address (precompiles of the base fork with a fixed price).
    gas: Vec<(Address, u64)>,
    /// Precompiles the profile adds, or puts in place of the base fork's.
    added: Vec<(Address, AddedPrecompile)>,
    /// `true` when there is any rule or cap: the only test paid on the mainnet path.
    active: bool,
    /// revm's precompile addresses minus the `absent` ones: those are cold (EIP-2929).
    warm: AddressSet,
    /// The warm set must be recomputed and handed to the journal.
    dirty: bool,
    /// A planted bug that rewrites a precompile's input (see `planted.rs`).
    pub(crate) planted: Option<super::Planted>,
}

impl ProfilePrecompiles {
    /// revm's precompiles of `spec`, without rules.
    pub(crate) fn new(spec: SpecId) -> Self {
        let inner = EthPrecompiles::new(spec);
        let warm = inner.warm_addresses().clone();
        ProfilePrecompiles {
            inner,
            rules: Vec::new(),
            modexp_cap: None,
            gas: Vec::new(),
            added: Vec::new(),
            active: false,
            warm,
            dirty: true,
            planted: None,
        }
    }

    /// Installs the precompile rules of `profile`.
    pub(crate) fn configure(&mut self, profile: &Profile) {
        let rules = profile.precompile_rules();
        if rules != self.rules {
            self.rules = rules;
            self.dirty = true;
        }
        let added: Vec<_> = profile.added.iter().map(|(a, p)| (*a, *p)).collect();
        if added != self.added {
            self.added = added;
            self.dirty = true;
        }
        self.modexp_cap = profile.limits.modexp;
        self.gas = profile
            .gas
            .precompiles
            .iter()
            .map(|(a, g)| (*a, *g))
            .collect();
        self.active = !self.rules.is_empty()
            || self.modexp_cap.is_some()
            || !self.gas.is_empty()
            || !self.added.is_empty();
    }

    /// Runs an added precompile: its own price, then its implementation.
    fn run_added(
        &self,
        ctx: &Ctx,
        inputs: &CallInputs,
        added: AddedPrecompile,
    ) -> InterpreterResult {
        let status = if added.gas > inputs.gas_limit {
            PrecompileStatus::Halt(PrecompileHalt::OutOfGas)
        } else {
            PrecompileStatus::Success
        };
        let bytes = match (&status, added.implementation) {
            (PrecompileStatus::Success, Implementation::P256VerifyRip7212) => {
                let input = inputs.input.as_bytes(ctx);
                if verify_impl(&input) {
                    Bytes::copy_from_slice(&P256_VALID)
                } else {
                    Bytes::new()
                }
            }
            _ => Bytes::new(),
        };
        let output = PrecompileOutput {
            status,
            gas_used: added.gas,
            gas_refunded: 0,
            state_gas_used: 0,
            state_gas_spilled: 0,
            reservoir: inputs.reservoir,
            bytes,
        };
        precompile_output_to_interpreter_result(output, inputs.gas_limit)
    }

    /// Runs revm's precompile at a fixed price of `gas` instead of its own: out of gas below
    /// it; otherwise revm's result (with as much gas as it wants), charged `gas` on success. A
    /// failure consumes the forwarded gas whatever the price, as every precompile failure does.
    fn run_repriced(
        &mut self,
        ctx: &mut Ctx,
        inputs: &CallInputs,
        gas: u64,
    ) -> Result<Option<InterpreterResult>, String> {
        let limit = inputs.gas_limit;
        if gas > limit {
            let output = PrecompileOutput {
                status: PrecompileStatus::Halt(PrecompileHalt::OutOfGas),
                gas_used: gas,
                gas_refunded: 0,
                state_gas_used: 0,
                state_gas_spilled: 0,
                reservoir: inputs.reservoir,
                bytes: Bytes::new(),
            };
            return Ok(Some(precompile_output_to_interpreter_result(output, limit)));
        }
        let mut generous = inputs.clone();
        generous.gas_limit = u64::MAX / 2;
        let Some(inner) =
            <EthPrecompiles as PrecompileProvider<Ctx>>::run(&mut self.inner, ctx, &generous)?
        else {
            return Ok(None);
        };
        let status = if inner.result.is_ok() {
            PrecompileStatus::Success
        } else {
            PrecompileStatus::Halt(PrecompileHalt::other_static("precompile failed"))
        };
        let output = PrecompileOutput {
            status,
            gas_used: gas,
            gas_refunded: 0,
            state_gas_used: 0,
            state_gas_spilled: 0,
            reservoir: inputs.reservoir,
            bytes: inner.output,
        };
        Ok(Some(precompile_output_to_interpreter_result(output, limit)))
    }

    fn rule(&self, address: &Address) -> Option<Behaviour> {
        self.rules
            .iter()
            .find(|(a, _)| a == address)
            .map(|(_, b)| *b)
    }

    /// What happens to this call under the profile, if anything other than the precompile.
    fn override_for(&self, ctx: &Ctx, inputs: &CallInputs) -> Option<(Behaviour, &'static str)> {
        let address = &inputs.bytecode_address;
        if let Some(b) = self.rule(address) {
            return Some((b, "precompile rule"));
        }
        let cap = self.modexp_cap?;
        // The cap is about the precompile: before Byzantium 0x05 is an ordinary account.
        if *address != MODEXP || !self.inner.contains(&MODEXP) {
            return None;
        }
        let input = inputs.input.as_bytes(ctx);
        modexp_exceeds(&input, cap.max_len).then_some((cap.behaviour, "modexp length cap"))
    }
}

impl PrecompileProvider<Ctx> for ProfilePrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <<Ctx as ContextTr>::Cfg as Cfg>::Spec) -> bool {
        let changed = <EthPrecompiles as PrecompileProvider<Ctx>>::set_spec(&mut self.inner, spec);
        if !(changed || self.dirty) {
            return false;
        }
        self.warm.clone_from(self.inner.warm_addresses());
        for (a, b) in &self.rules {
            if *b == Behaviour::Absent {
                self.warm.remove(a);
            }
        }
        // An added precompile is a precompile: warm from the start (EIP-2929).
        for (a, _) in &self.added {
            self.warm.insert(*a);
        }
        self.dirty = false;
        // Tells the journal to take the new warm set.
        true
    }

    fn run(
        &mut self,
        ctx: &mut Ctx,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        if let Some(bug) = self.planted {
            let rewritten =
                bug.precompile_input(&inputs.bytecode_address, &inputs.input.as_bytes(ctx));
            if let Some(rewritten) = rewritten {
                let mut planted = inputs.clone();
                planted.input = CallInput::Bytes(rewritten.into());
                return self.run_profile(ctx, &planted);
            }
        }
        self.run_profile(ctx, inputs)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }

    fn contains(&self, address: &Address) -> bool {
        self.warm.contains(address)
    }
}

impl ProfilePrecompiles {
    /// Runs the precompile call under the profile's rules.
    fn run_profile(
        &mut self,
        ctx: &mut Ctx,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        if self.active
            && let Some((_, added)) = self
                .added
                .iter()
                .find(|(a, _)| *a == inputs.bytecode_address)
        {
            return Ok(Some(self.run_added(ctx, inputs, *added)));
        }
        if self.active
            && let Some(&(_, gas)) = self.gas.iter().find(|(a, _)| *a == inputs.bytecode_address)
        {
            return self.run_repriced(ctx, inputs, gas);
        }
        if self.active
            && let Some((behaviour, why)) = self.override_for(ctx, inputs)
        {
            let status = match behaviour {
                Behaviour::Supported => None,
                // An ordinary empty account: revm runs its (empty) code.
                Behaviour::Absent => return Ok(None),
                Behaviour::RevertRefund => Some(PrecompileStatus::Revert),
                Behaviour::Halt => Some(PrecompileStatus::Halt(PrecompileHalt::other_static(
                    "halted by the profile",
                ))),
                Behaviour::Reject
                | Behaviour::Constant(_)
                | Behaviour::Invalid
                | Behaviour::KeccakChainNumber => {
                    let msg = format!(
                        "profile rejects the call to precompile {} ({why})",
                        inputs.bytecode_address
                    );
                    ctx.chain.rejected = Some(msg.clone());
                    return Err(msg);
                }
            };
            if let Some(status) = status {
                if matches!(status, PrecompileStatus::Halt(_)) && ctx.journal().depth() == 1 {
                    // As revm does for a failing precompile called by the transaction itself,
                    // so the halt's detail says why.
                    ctx.local_mut()
                        .set_precompile_error_context(format!("{why}: halt"));
                }
                // No gas used: revert returns all of it; halt consumes all of it in the
                // conversion, exactly as an L1 precompile failure does.
                let output = PrecompileOutput {
                    status,
                    gas_used: 0,
                    gas_refunded: 0,
                    state_gas_used: 0,
                    state_gas_spilled: 0,
                    reservoir: inputs.reservoir,
                    bytes: Bytes::new(),
                };
                return Ok(Some(precompile_output_to_interpreter_result(
                    output,
                    inputs.gas_limit,
                )));
            }
        }
        <EthPrecompiles as PrecompileProvider<Ctx>>::run(&mut self.inner, ctx, inputs)
    }
}
