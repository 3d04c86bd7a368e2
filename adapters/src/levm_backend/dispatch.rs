//! levm's `VM::execute`, rebuilt from levm's public parts so that profile rules are consulted
//! before each instruction (see `profile.rs` for why and for each rule's semantics).
//!
//! Every step is levm's own: the L1 hooks (validation, fees, refunds, self-destructs), the
//! create-transaction handling, the frame handling (`handle_opcode_result`,
//! `handle_opcode_error`, `handle_return`, `handle_state_backup`) and, for every opcode
//! without a rule, levm's handler type for that opcode in the fork's table. What levm's
//! `execute` does and this one leaves out is only what cannot apply here: the frame-transaction
//! branch (EIP-8141, Hegota), the block-access-list checkpoints (no recorder is installed), the
//! tracers (disabled), the Amsterdam state-gas bookkeeping (levm runs Paris..Osaka here), and
//! the codeless-transfer fast path, which is an optimisation: running empty code executes one
//! STOP with the same result, and is where a call to a precompile taken out of dispatch is
//! intercepted.
//!
//! The replay test `levm_own_loop::own_loop_matches_levm_execute` runs the fixtures through
//! this loop with no rules and checks that every outcome equals `VM::execute`'s.
//!
//! The loop is also where an observed execution watches levm ([`Hook`], implemented by
//! [`super::observe::Watch`]): levm has no step hook of its own, and its own `VM::execute`
//! cannot be watched, so every observed execution runs here, under every profile.

use std::rc::Rc;

use ethrex_common::types::Fork;
use ethrex_common::{Address, Bytes};
use ethrex_levm::errors::{
    ContextResult, ExceptionalHalt, ExecutionReport, InternalError, OpcodeResult, PrecompileError,
    TxResult, VMError,
};
use ethrex_levm::opcode_handlers::{
    OpInvalidHandler, OpStopHandler, OpcodeHandler, arithmetic::*, bitwise_comparison::*, block::*,
    dup::*, environment::*, exchange::*, keccak::*, logging::*, push::*,
    stack_memory_storage_flow::*, system::*,
};
use ethrex_levm::opcodes::Opcode;
use ethrex_levm::precompiles::{is_precompile_with_moves, p_256_verify};
use ethrex_levm::vm::VM;
use evmdiff_core::Behaviour;
use evmdiff_core::observe::Flow;
use evmdiff_core::opcode::Opcode as CoreOpcode;

use super::profile::{Intercept, OpRule, Rules};
use evmdiff_core::precompile::modexp_exceeds;
use evmdiff_core::profile::{AddedPrecompile, Implementation, keccak_chain_number};

/// One opcode's implementation: a levm handler's `eval`.
pub(crate) type Handler = fn(&mut VM<'_>) -> Result<OpcodeResult, VMError>;

/// What the loop tells an observer, and where it lets it stop the execution. The unit hook
/// does nothing and compiles away, so the unobserved loop pays nothing for it.
pub(crate) trait Hook {
    /// Before the instruction `opcode` at `pc` of the current frame (the pc already advanced
    /// past it). `Break` halts the frame instead of executing it.
    fn before(&mut self, vm: &mut VM<'_>, pc: usize, opcode: u8) -> Flow;
    /// After the instruction of the last `before`, with its handler's result, which it may
    /// replace (an observer that stops at a step levm executes inside another's handler).
    fn after(
        &mut self,
        vm: &mut VM<'_>,
        result: Result<OpcodeResult, VMError>,
    ) -> Result<OpcodeResult, VMError>;
    /// A precompile ran as a frame of its own: the transaction's target, or a call to one
    /// taken out of levm's dispatch by a rule.
    fn precompile(&mut self, address: Address);
}

impl Hook for () {
    #[inline(always)]
    fn before(&mut self, _: &mut VM<'_>, _: usize, _: u8) -> Flow {
        Flow::Continue(())
    }
    #[inline(always)]
    fn after(
        &mut self,
        _: &mut VM<'_>,
        result: Result<OpcodeResult, VMError>,
    ) -> Result<OpcodeResult, VMError> {
        result
    }
    #[inline(always)]
    fn precompile(&mut self, _: Address) {}
}

/// Executes the transaction levm's way, with `rules` applied and `hook` watching. A `reject`
/// rule that fires sets `rejected` and aborts with an internal error, which the caller turns
/// into a refusal.
pub(crate) fn execute(
    vm: &mut VM<'_>,
    rules: &Rules,
    rejected: &mut Option<String>,
    hook: &mut impl Hook,
) -> Result<ExecutionReport, VMError> {
    let table = table(vm.env.config.fork);
    for i in 0..vm.hooks.len() {
        let levm_hook = Rc::clone(&vm.hooks[i]);
        if let Err(e) = levm_hook.borrow_mut().prepare_execution(vm) {
            // As `VM::execute` does: an invalid transaction leaves the cache as it was, which
            // matters when the database goes on to the next transaction of a chain.
            vm.restore_cache_state()?;
            return Err(e);
        }
    }
    // What prepare_execution changed (nonce, fee) stays even if the transaction reverts.
    vm.current_call_frame.call_frame_backup.clear();
    if !vm.pending_prep_oog
        && vm.is_create()?
        && let Some(ctx) = vm.handle_create_transaction()?
    {
        return finalize(vm, ctx);
    }
    vm.substate.push_backup();
    let ctx = run(vm, rules, &table, rejected, hook)?;
    finalize(vm, ctx)
}

/// levm's `run_execution`: the top-level precompile, or the dispatch loop.
fn run(
    vm: &mut VM<'_>,
    rules: &Rules,
    table: &[Handler; 256],
    rejected: &mut Option<String>,
    hook: &mut impl Hook,
) -> Result<ContextResult, VMError> {
    if vm.current_call_frame.gas_remaining < 0 || vm.pending_prep_oog {
        let gas_limit = vm.current_call_frame.gas_limit;
        return Ok(ContextResult {
            result: TxResult::Revert(ExceptionalHalt::OutOfGas.into()),
            gas_used: gas_limit,
            gas_spent: gas_limit,
            output: Bytes::new(),
        });
    }
    let frame = &vm.current_call_frame;
    if is_precompile_with_moves(
        &frame.to,
        vm.env.config.fork,
        vm.vm_type,
        vm.db.precompile_moves.as_deref(),
    ) {
        hook.precompile(frame.code_address);
        let gas_limit = frame.gas_limit;
        let mut gas_remaining = u64::try_from(frame.gas_remaining).unwrap_or(0);
        let result = vm.execute_precompile(
            frame.code_address,
            &frame.calldata,
            gas_limit,
            &mut gas_remaining,
        );
        vm.current_call_frame.gas_remaining =
            i64::try_from(gas_remaining).map_err(|_| InternalError::Overflow)?;
        return result;
    }

    loop {
        let pc = vm.current_call_frame.pc;
        let opcode = vm.current_call_frame.next_opcode();
        vm.advance_pc();
        let intercept = if pc == 0 {
            intercepted(vm, rules)?
        } else {
            None
        };
        let step = if let Some(i) = intercept {
            // The frame is the precompile's, not code: no step.
            hook.precompile(vm.current_call_frame.code_address);
            match i {
                Intercept::Rule(b) => precompile_rule(vm, b, rules, rejected),
                Intercept::Repriced(gas) => run_repriced(vm, gas),
                Intercept::Added(p) => run_added(vm, p),
            }
        } else if hook.before(vm, pc, opcode).is_break() {
            // The observer has seen enough: the frame halts, and its callers at their next
            // instruction.
            Err(ExceptionalHalt::OutOfGas.into())
        } else {
            let result = if let Some(rule) = rules.opcodes[opcode as usize] {
                opcode_rule(vm, opcode, rule, table, rejected)
            } else {
                table[opcode as usize](vm)
            };
            hook.after(vm, result)
        };
        let result = match step {
            Ok(OpcodeResult::Continue) => continue,
            Ok(OpcodeResult::Halt) => vm.handle_opcode_result()?,
            Err(e) if rejected.is_some() => return Err(e),
            Err(e) => vm.handle_opcode_error(e)?,
        };
        if vm.is_initial_call_frame() {
            // No hook of an L1 VM reads the top-level backup afterwards, so it is consumed.
            vm.handle_state_backup(&result, true)?;
            return Ok(result);
        }
        vm.handle_return(&result)?;
    }
}

/// levm's `finalize_execution`: the hooks' finalization, then the report.
fn finalize(vm: &mut VM<'_>, mut ctx: ContextResult) -> Result<ExecutionReport, VMError> {
    for i in 0..vm.hooks.len() {
        let levm_hook = Rc::clone(&vm.hooks[i]);
        levm_hook.borrow_mut().finalize_execution(vm, &mut ctx)?;
    }
    vm.tracer.exit_context(&ctx, true)?;
    let logs = if ctx.is_success() {
        vm.substate.extract_logs()
    } else {
        Vec::new()
    };
    let state_gas_used =
        u64::try_from(vm.state_gas_used.max(0)).map_err(|_| InternalError::Overflow)?;
    Ok(ExecutionReport {
        result: ctx.result.clone(),
        gas_used: ctx.gas_used,
        gas_spent: ctx.gas_spent,
        gas_refunded: vm.substate.refunded_gas,
        state_gas_used,
        output: std::mem::take(&mut ctx.output),
        logs,
        payer_address: None,
        frame_results: None,
    })
}

/// The rule for the frame about to run its first instruction, when that frame is a call to a
/// precompile taken out of levm's dispatch. An EIP-7702 account delegated to a precompile runs
/// its (empty) code, not the precompile, as on mainnet, so it is not intercepted.
fn intercepted(vm: &mut VM<'_>, rules: &Rules) -> Result<Option<Intercept>, VMError> {
    if rules.intercepts_nothing() {
        return Ok(None);
    }
    let frame = &vm.current_call_frame;
    let (to, code_address) = (frame.to, frame.code_address);
    let Some(b) = rules.intercept(&code_address) else {
        return Ok(None);
    };
    if to != code_address && is_delegation_to(vm, to, code_address)? {
        return Ok(None);
    }
    Ok(Some(b))
}

/// True when `account`'s code is the EIP-7702 delegation designator to `target`.
fn is_delegation_to(vm: &mut VM<'_>, account: Address, target: Address) -> Result<bool, VMError> {
    let code = vm.db.get_account_code(account)?.code();
    Ok(code.len() == 23 && code[..3] == [0xef, 0x01, 0x00] && code[3..] == target.0)
}

/// Ends the frame of an intercepted precompile call as `behaviour` says (`Supported`: modexp
/// under a length cap).
fn precompile_rule(
    vm: &mut VM<'_>,
    behaviour: Behaviour,
    rules: &Rules,
    rejected: &mut Option<String>,
) -> Result<OpcodeResult, VMError> {
    let address = vm.current_call_frame.code_address;
    let (behaviour, why) = match (behaviour, rules.modexp_cap) {
        (Behaviour::Supported, Some(cap)) => {
            let input = vm.current_call_frame.calldata.to_bytes()?;
            if modexp_exceeds(&input, cap.max_len) {
                (cap.behaviour, "modexp length cap")
            } else {
                return run_precompile(vm);
            }
        }
        (b, _) => (b, "precompile rule"),
    };
    match behaviour {
        // All the forwarded gas comes back: the frame has used none of it.
        Behaviour::RevertRefund => {
            vm.current_call_frame.output = Bytes::new();
            Err(VMError::RevertOpcode)
        }
        // Consumes the forwarded gas, exactly as an L1 precompile failure does.
        Behaviour::Halt => {
            Err(ExceptionalHalt::Precompile(PrecompileError::ParsingInputError).into())
        }
        _ => {
            let msg = format!("profile rejects the call to precompile {address:#x} ({why})");
            *rejected = Some(msg.clone());
            Err(InternalError::Custom(msg).into())
        }
    }
}

/// The frame's gas, or levm's precompile out-of-gas failure when it cannot pay `price`.
fn pay(vm: &VM<'_>, price: u64) -> Result<(), VMError> {
    let available = u64::try_from(vm.current_call_frame.gas_remaining).unwrap_or(0);
    if price > available {
        return Err(ExceptionalHalt::Precompile(PrecompileError::NotEnoughGas).into());
    }
    Ok(())
}

/// Ends the frame successfully with `output`, `price` charged.
fn succeed(vm: &mut VM<'_>, price: u64, output: Bytes) -> Result<OpcodeResult, VMError> {
    let frame = &mut vm.current_call_frame;
    frame.gas_remaining -= i64::try_from(price).map_err(|_| InternalError::Overflow)?;
    frame.output = output;
    Ok(OpcodeResult::Halt)
}

/// A precompile of the base fork at the profile's price: out of gas below it; otherwise
/// levm's own precompile (given all the gas it wants) decides success and output, and a
/// failure consumes the frame's gas as every precompile failure does.
fn run_repriced(vm: &mut VM<'_>, price: u64) -> Result<OpcodeResult, VMError> {
    pay(vm, price)?;
    let frame = &vm.current_call_frame;
    let generous = u64::MAX / 2;
    let mut remaining = generous;
    let ctx = vm.execute_precompile(
        frame.code_address,
        &frame.calldata,
        generous,
        &mut remaining,
    )?;
    match ctx.result {
        TxResult::Success => succeed(vm, price, ctx.output),
        TxResult::Revert(e) => Err(e),
    }
}

/// An added precompile: its price, then its implementation. P256VERIFY runs levm's own
/// secp256r1 verification (`precompiles::p_256_verify`, which checks the 160-byte length and
/// returns the word 1 or nothing) with all the gas it wants, so only the profile's price is
/// charged.
fn run_added(vm: &mut VM<'_>, added: AddedPrecompile) -> Result<OpcodeResult, VMError> {
    pay(vm, added.gas)?;
    let input = vm.current_call_frame.calldata.to_bytes()?;
    let output = match added.implementation {
        Implementation::P256VerifyRip7212 => {
            let mut generous = u64::MAX / 2;
            p_256_verify(&input, &mut generous, vm.env.config.fork, vm.crypto)?
        }
    };
    succeed(vm, added.gas, output)
}

/// Runs levm's own precompile for the current frame's code address on its input, and ends the
/// frame with its result as levm's precompile dispatch would: output and unused gas on
/// success, a failure consuming all the gas otherwise.
fn run_precompile(vm: &mut VM<'_>) -> Result<OpcodeResult, VMError> {
    let frame = &vm.current_call_frame;
    let gas_limit = frame.gas_limit;
    let mut gas_remaining = u64::try_from(frame.gas_remaining).unwrap_or(0);
    let ctx = vm.execute_precompile(
        frame.code_address,
        &frame.calldata,
        gas_limit,
        &mut gas_remaining,
    )?;
    match ctx.result {
        TxResult::Success => {
            let frame = &mut vm.current_call_frame;
            frame.gas_remaining =
                i64::try_from(gas_remaining).map_err(|_| InternalError::Overflow)?;
            frame.output = ctx.output;
            Ok(OpcodeResult::Halt)
        }
        TxResult::Revert(e) => Err(e),
    }
}

/// Runs an opcode rule in place of the opcode's handler.
fn opcode_rule(
    vm: &mut VM<'_>,
    opcode: u8,
    rule: OpRule,
    table: &[Handler; 256],
    rejected: &mut Option<String>,
) -> Result<OpcodeResult, VMError> {
    match rule {
        OpRule::Constant { inputs, gas, value } => {
            let frame = &mut vm.current_call_frame;
            frame.increase_consumed_gas(gas)?;
            for _ in 0..inputs {
                frame.stack.pop1()?;
            }
            frame.stack.push(value)?;
            Ok(OpcodeResult::Continue)
        }
        OpRule::KeccakChainNumber => {
            let (chain_id, number) = (vm.env.chain_id, vm.env.block_number);
            let frame = &mut vm.current_call_frame;
            frame.increase_consumed_gas(20)?;
            let requested = frame.stack.pop1()?;
            let value = keccak_chain_number(
                alloy_primitives::U256::from_be_bytes(chain_id.to_big_endian()),
                alloy_primitives::U256::from(number),
                alloy_primitives::U256::from_be_bytes(requested.to_big_endian()),
            );
            frame.stack.push(ethrex_common::U256::from_big_endian(
                &value.to_be_bytes::<32>(),
            ))?;
            Ok(OpcodeResult::Continue)
        }
        OpRule::Gas { gas, standard } => {
            // The profile decides whether the opcode runs at all; the handler then charges
            // its standard cost out of gas handed back for it, so the net charge is `gas`.
            let frame = &mut vm.current_call_frame;
            frame.increase_consumed_gas(gas)?;
            frame.gas_remaining += standard as i64;
            table[opcode as usize](vm)
        }
        OpRule::Invalid => Err(ExceptionalHalt::InvalidOpcode.into()),
        OpRule::RevertRefund => {
            vm.current_call_frame.output = Bytes::new();
            Err(VMError::RevertOpcode)
        }
        OpRule::Reject => {
            let op = CoreOpcode(opcode);
            let msg = format!(
                "profile rejects opcode {}",
                op.name().unwrap_or_else(|| format!("0x{opcode:02x}"))
            );
            *rejected = Some(msg.clone());
            Err(InternalError::Custom(msg).into())
        }
    }
}
/// levm's opcode table for `fork` (Paris..Osaka), as levm's own `build_opcode_table` builds it:
/// the same handler type for every opcode, so a rule-free opcode runs exactly levm's code.
/// The `own_loop_matches_levm_execute` replay test checks it against `VM::execute` on the
/// fixtures.
#[allow(clippy::too_many_lines)]
pub(crate) fn table(fork: Fork) -> [Handler; 256] {
    let mut t: [Handler; 256] = [<OpInvalidHandler as OpcodeHandler>::eval; 256];
    t[Opcode::STOP as usize] = <OpStopHandler as OpcodeHandler>::eval;
    t[Opcode::MLOAD as usize] = <OpMLoadHandler as OpcodeHandler>::eval;
    t[Opcode::MSTORE as usize] = <OpMStoreHandler as OpcodeHandler>::eval;
    t[Opcode::MSTORE8 as usize] = <OpMStore8Handler as OpcodeHandler>::eval;
    t[Opcode::JUMP as usize] = <OpJumpHandler as OpcodeHandler>::eval;
    t[Opcode::SLOAD as usize] = <OpSLoadHandler as OpcodeHandler>::eval;
    t[Opcode::SSTORE as usize] = <OpSStoreHandler as OpcodeHandler>::eval;
    t[Opcode::MSIZE as usize] = <OpMSizeHandler as OpcodeHandler>::eval;
    t[Opcode::GAS as usize] = <OpGasHandler as OpcodeHandler>::eval;
    t[Opcode::PUSH1 as usize] = <OpPushHandler<1> as OpcodeHandler>::eval;
    t[Opcode::PUSH2 as usize] = <OpPushHandler<2> as OpcodeHandler>::eval;
    t[Opcode::PUSH3 as usize] = <OpPushHandler<3> as OpcodeHandler>::eval;
    t[Opcode::PUSH4 as usize] = <OpPushHandler<4> as OpcodeHandler>::eval;
    t[Opcode::PUSH5 as usize] = <OpPushHandler<5> as OpcodeHandler>::eval;
    t[Opcode::PUSH6 as usize] = <OpPushHandler<6> as OpcodeHandler>::eval;
    t[Opcode::PUSH7 as usize] = <OpPushHandler<7> as OpcodeHandler>::eval;
    t[Opcode::PUSH8 as usize] = <OpPushHandler<8> as OpcodeHandler>::eval;
    t[Opcode::PUSH9 as usize] = <OpPushHandler<9> as OpcodeHandler>::eval;
    t[Opcode::PUSH10 as usize] = <OpPushHandler<10> as OpcodeHandler>::eval;
    t[Opcode::PUSH11 as usize] = <OpPushHandler<11> as OpcodeHandler>::eval;
    t[Opcode::PUSH12 as usize] = <OpPushHandler<12> as OpcodeHandler>::eval;
    t[Opcode::PUSH13 as usize] = <OpPushHandler<13> as OpcodeHandler>::eval;
    t[Opcode::PUSH14 as usize] = <OpPushHandler<14> as OpcodeHandler>::eval;
    t[Opcode::PUSH15 as usize] = <OpPushHandler<15> as OpcodeHandler>::eval;
    t[Opcode::PUSH16 as usize] = <OpPushHandler<16> as OpcodeHandler>::eval;
    t[Opcode::PUSH17 as usize] = <OpPushHandler<17> as OpcodeHandler>::eval;
    t[Opcode::PUSH18 as usize] = <OpPushHandler<18> as OpcodeHandler>::eval;
    t[Opcode::PUSH19 as usize] = <OpPushHandler<19> as OpcodeHandler>::eval;
    t[Opcode::PUSH20 as usize] = <OpPushHandler<20> as OpcodeHandler>::eval;
    t[Opcode::PUSH21 as usize] = <OpPushHandler<21> as OpcodeHandler>::eval;
    t[Opcode::PUSH22 as usize] = <OpPushHandler<22> as OpcodeHandler>::eval;
    t[Opcode::PUSH23 as usize] = <OpPushHandler<23> as OpcodeHandler>::eval;
    t[Opcode::PUSH24 as usize] = <OpPushHandler<24> as OpcodeHandler>::eval;
    t[Opcode::PUSH25 as usize] = <OpPushHandler<25> as OpcodeHandler>::eval;
    t[Opcode::PUSH26 as usize] = <OpPushHandler<26> as OpcodeHandler>::eval;
    t[Opcode::PUSH27 as usize] = <OpPushHandler<27> as OpcodeHandler>::eval;
    t[Opcode::PUSH28 as usize] = <OpPushHandler<28> as OpcodeHandler>::eval;
    t[Opcode::PUSH29 as usize] = <OpPushHandler<29> as OpcodeHandler>::eval;
    t[Opcode::PUSH30 as usize] = <OpPushHandler<30> as OpcodeHandler>::eval;
    t[Opcode::PUSH31 as usize] = <OpPushHandler<31> as OpcodeHandler>::eval;
    t[Opcode::PUSH32 as usize] = <OpPushHandler<32> as OpcodeHandler>::eval;
    t[Opcode::DUP1 as usize] = <OpDupHandler<0> as OpcodeHandler>::eval;
    t[Opcode::DUP2 as usize] = <OpDupHandler<1> as OpcodeHandler>::eval;
    t[Opcode::DUP3 as usize] = <OpDupHandler<2> as OpcodeHandler>::eval;
    t[Opcode::DUP4 as usize] = <OpDupHandler<3> as OpcodeHandler>::eval;
    t[Opcode::DUP5 as usize] = <OpDupHandler<4> as OpcodeHandler>::eval;
    t[Opcode::DUP6 as usize] = <OpDupHandler<5> as OpcodeHandler>::eval;
    t[Opcode::DUP7 as usize] = <OpDupHandler<6> as OpcodeHandler>::eval;
    t[Opcode::DUP8 as usize] = <OpDupHandler<7> as OpcodeHandler>::eval;
    t[Opcode::DUP9 as usize] = <OpDupHandler<8> as OpcodeHandler>::eval;
    t[Opcode::DUP10 as usize] = <OpDupHandler<9> as OpcodeHandler>::eval;
    t[Opcode::DUP11 as usize] = <OpDupHandler<10> as OpcodeHandler>::eval;
    t[Opcode::DUP12 as usize] = <OpDupHandler<11> as OpcodeHandler>::eval;
    t[Opcode::DUP13 as usize] = <OpDupHandler<12> as OpcodeHandler>::eval;
    t[Opcode::DUP14 as usize] = <OpDupHandler<13> as OpcodeHandler>::eval;
    t[Opcode::DUP15 as usize] = <OpDupHandler<14> as OpcodeHandler>::eval;
    t[Opcode::DUP16 as usize] = <OpDupHandler<15> as OpcodeHandler>::eval;
    t[Opcode::SWAP1 as usize] = <OpSwapHandler<1> as OpcodeHandler>::eval;
    t[Opcode::SWAP2 as usize] = <OpSwapHandler<2> as OpcodeHandler>::eval;
    t[Opcode::SWAP3 as usize] = <OpSwapHandler<3> as OpcodeHandler>::eval;
    t[Opcode::SWAP4 as usize] = <OpSwapHandler<4> as OpcodeHandler>::eval;
    t[Opcode::SWAP5 as usize] = <OpSwapHandler<5> as OpcodeHandler>::eval;
    t[Opcode::SWAP6 as usize] = <OpSwapHandler<6> as OpcodeHandler>::eval;
    t[Opcode::SWAP7 as usize] = <OpSwapHandler<7> as OpcodeHandler>::eval;
    t[Opcode::SWAP8 as usize] = <OpSwapHandler<8> as OpcodeHandler>::eval;
    t[Opcode::SWAP9 as usize] = <OpSwapHandler<9> as OpcodeHandler>::eval;
    t[Opcode::SWAP10 as usize] = <OpSwapHandler<10> as OpcodeHandler>::eval;
    t[Opcode::SWAP11 as usize] = <OpSwapHandler<11> as OpcodeHandler>::eval;
    t[Opcode::SWAP12 as usize] = <OpSwapHandler<12> as OpcodeHandler>::eval;
    t[Opcode::SWAP13 as usize] = <OpSwapHandler<13> as OpcodeHandler>::eval;
    t[Opcode::SWAP14 as usize] = <OpSwapHandler<14> as OpcodeHandler>::eval;
    t[Opcode::SWAP15 as usize] = <OpSwapHandler<15> as OpcodeHandler>::eval;
    t[Opcode::SWAP16 as usize] = <OpSwapHandler<16> as OpcodeHandler>::eval;
    t[Opcode::POP as usize] = <OpPopHandler as OpcodeHandler>::eval;
    t[Opcode::ADD as usize] = <OpAddHandler as OpcodeHandler>::eval;
    t[Opcode::MUL as usize] = <OpMulHandler as OpcodeHandler>::eval;
    t[Opcode::SUB as usize] = <OpSubHandler as OpcodeHandler>::eval;
    t[Opcode::DIV as usize] = <OpDivHandler as OpcodeHandler>::eval;
    t[Opcode::SDIV as usize] = <OpSDivHandler as OpcodeHandler>::eval;
    t[Opcode::MOD as usize] = <OpModHandler as OpcodeHandler>::eval;
    t[Opcode::SMOD as usize] = <OpSModHandler as OpcodeHandler>::eval;
    t[Opcode::ADDMOD as usize] = <OpAddModHandler as OpcodeHandler>::eval;
    t[Opcode::MULMOD as usize] = <OpMulModHandler as OpcodeHandler>::eval;
    t[Opcode::EXP as usize] = <OpExpHandler as OpcodeHandler>::eval;
    t[Opcode::CALL as usize] = <OpCallHandler as OpcodeHandler>::eval;
    t[Opcode::CALLCODE as usize] = <OpCallCodeHandler as OpcodeHandler>::eval;
    t[Opcode::RETURN as usize] = <OpReturnHandler as OpcodeHandler>::eval;
    t[Opcode::DELEGATECALL as usize] = <OpDelegateCallHandler as OpcodeHandler>::eval;
    t[Opcode::STATICCALL as usize] = <OpStaticCallHandler as OpcodeHandler>::eval;
    t[Opcode::CREATE as usize] = <OpCreateHandler as OpcodeHandler>::eval;
    t[Opcode::CREATE2 as usize] = <OpCreate2Handler as OpcodeHandler>::eval;
    t[Opcode::JUMPI as usize] = <OpJumpIHandler as OpcodeHandler>::eval;
    t[Opcode::JUMPDEST as usize] = <OpJumpDestHandler as OpcodeHandler>::eval;
    t[Opcode::ADDRESS as usize] = <OpAddressHandler as OpcodeHandler>::eval;
    t[Opcode::ORIGIN as usize] = <OpOriginHandler as OpcodeHandler>::eval;
    t[Opcode::BALANCE as usize] = <OpBalanceHandler as OpcodeHandler>::eval;
    t[Opcode::CALLER as usize] = <OpCallerHandler as OpcodeHandler>::eval;
    t[Opcode::CALLVALUE as usize] = <OpCallValueHandler as OpcodeHandler>::eval;
    t[Opcode::CODECOPY as usize] = <OpCodeCopyHandler as OpcodeHandler>::eval;
    t[Opcode::SIGNEXTEND as usize] = <OpSignExtendHandler as OpcodeHandler>::eval;
    t[Opcode::LT as usize] = <OpLtHandler as OpcodeHandler>::eval;
    t[Opcode::GT as usize] = <OpGtHandler as OpcodeHandler>::eval;
    t[Opcode::SLT as usize] = <OpSLtHandler as OpcodeHandler>::eval;
    t[Opcode::SGT as usize] = <OpSGtHandler as OpcodeHandler>::eval;
    t[Opcode::EQ as usize] = <OpEqHandler as OpcodeHandler>::eval;
    t[Opcode::ISZERO as usize] = <OpIsZeroHandler as OpcodeHandler>::eval;
    t[Opcode::KECCAK256 as usize] = <OpKeccak256Handler as OpcodeHandler>::eval;
    t[Opcode::CALLDATALOAD as usize] = <OpCallDataLoadHandler as OpcodeHandler>::eval;
    t[Opcode::CALLDATASIZE as usize] = <OpCallDataSizeHandler as OpcodeHandler>::eval;
    t[Opcode::CALLDATACOPY as usize] = <OpCallDataCopyHandler as OpcodeHandler>::eval;
    t[Opcode::RETURNDATASIZE as usize] = <OpReturnDataSizeHandler as OpcodeHandler>::eval;
    t[Opcode::RETURNDATACOPY as usize] = <OpReturnDataCopyHandler as OpcodeHandler>::eval;
    t[Opcode::PC as usize] = <OpPcHandler as OpcodeHandler>::eval;
    t[Opcode::BLOCKHASH as usize] = <OpBlockHashHandler as OpcodeHandler>::eval;
    t[Opcode::COINBASE as usize] = <OpCoinbaseHandler as OpcodeHandler>::eval;
    t[Opcode::TIMESTAMP as usize] = <OpTimestampHandler as OpcodeHandler>::eval;
    t[Opcode::NUMBER as usize] = <OpNumberHandler as OpcodeHandler>::eval;
    t[Opcode::PREVRANDAO as usize] = <OpPrevRandaoHandler as OpcodeHandler>::eval;
    t[Opcode::GASLIMIT as usize] = <OpGasLimitHandler as OpcodeHandler>::eval;
    t[Opcode::CHAINID as usize] = <OpChainIdHandler as OpcodeHandler>::eval;
    t[Opcode::BASEFEE as usize] = <OpBaseFeeHandler as OpcodeHandler>::eval;
    t[Opcode::AND as usize] = <OpAndHandler as OpcodeHandler>::eval;
    t[Opcode::OR as usize] = <OpOrHandler as OpcodeHandler>::eval;
    t[Opcode::XOR as usize] = <OpXorHandler as OpcodeHandler>::eval;
    t[Opcode::NOT as usize] = <OpNotHandler as OpcodeHandler>::eval;
    t[Opcode::BYTE as usize] = <OpByteHandler as OpcodeHandler>::eval;
    t[Opcode::SHL as usize] = <OpShlHandler as OpcodeHandler>::eval;
    t[Opcode::SHR as usize] = <OpShrHandler as OpcodeHandler>::eval;
    t[Opcode::SAR as usize] = <OpSarHandler as OpcodeHandler>::eval;
    t[Opcode::SELFBALANCE as usize] = <OpSelfBalanceHandler as OpcodeHandler>::eval;
    t[Opcode::CODESIZE as usize] = <OpCodeSizeHandler as OpcodeHandler>::eval;
    t[Opcode::GASPRICE as usize] = <OpGasPriceHandler as OpcodeHandler>::eval;
    t[Opcode::EXTCODESIZE as usize] = <OpExtCodeSizeHandler as OpcodeHandler>::eval;
    t[Opcode::EXTCODECOPY as usize] = <OpExtCodeCopyHandler as OpcodeHandler>::eval;
    t[Opcode::EXTCODEHASH as usize] = <OpExtCodeHashHandler as OpcodeHandler>::eval;
    t[Opcode::REVERT as usize] = <OpRevertHandler as OpcodeHandler>::eval;
    t[Opcode::INVALID as usize] = <OpInvalidHandler as OpcodeHandler>::eval;
    t[Opcode::SELFDESTRUCT as usize] = <OpSelfDestructHandler as OpcodeHandler>::eval;
    t[Opcode::LOG0 as usize] = <OpLogHandler<0> as OpcodeHandler>::eval;
    t[Opcode::LOG1 as usize] = <OpLogHandler<1> as OpcodeHandler>::eval;
    t[Opcode::LOG2 as usize] = <OpLogHandler<2> as OpcodeHandler>::eval;
    t[Opcode::LOG3 as usize] = <OpLogHandler<3> as OpcodeHandler>::eval;
    t[Opcode::LOG4 as usize] = <OpLogHandler<4> as OpcodeHandler>::eval;
    if fork >= Fork::Shanghai {
        t[Opcode::PUSH0 as usize] = <OpPush0Handler as OpcodeHandler>::eval;
    }
    if fork >= Fork::Cancun {
        t[Opcode::MCOPY as usize] = <OpMCopyHandler as OpcodeHandler>::eval;
        t[Opcode::TLOAD as usize] = <OpTLoadHandler as OpcodeHandler>::eval;
        t[Opcode::TSTORE as usize] = <OpTStoreHandler as OpcodeHandler>::eval;
        t[Opcode::BLOBBASEFEE as usize] = <OpBlobBaseFeeHandler as OpcodeHandler>::eval;
        t[Opcode::BLOBHASH as usize] = <OpBlobHashHandler as OpcodeHandler>::eval;
    }
    if fork >= Fork::Osaka {
        t[Opcode::CLZ as usize] = <OpClzHandler as OpcodeHandler>::eval;
    }
    t
}
