//! The observed path of the levm backend: [`Watch`], the [`Hook`] the adapter's copy of levm's
//! dispatch loop calls around every instruction, turning levm's own shapes into canonical
//! [`Step`]s once, here, so that levm's step stream is revm's for the same program:
//!
//! * **Fused jumps.** levm's JUMP and JUMPI handlers execute the destination's JUMPDEST
//!   themselves (they advance past it and charge its gas), so the loop never sees it. A taken
//!   jump is split back into two steps: the jump, costing its own gas, then the JUMPDEST at
//!   the destination with the gas left after the jump, costing 1 (or halting, when that 1 gas
//!   is what the frame lacks).
//! * **Padded code.** levm pads code with 33 STOPs, so a frame that runs past its end executes
//!   a STOP that is not in the code: not a step ([`Step`]'s rule).
//! * **Call costs.** A CALL-family instruction that reaches a precompile, or fails before its
//!   callee starts (no funds, too deep), gives the unused gas back inside its handler, so the
//!   gas difference around it is not the canonical cost (which includes the gas made
//!   available to the callee). levm's own struct-log tracer knows that cost: its CALL and
//!   CREATE handlers write it to `opcode_tracer.last_opcode_gas_cost` when the tracer is
//!   active. The observed path activates that tracer with nothing to capture and reads the
//!   value; it changes nothing else levm does.
//! * **Precompiles.** levm runs a precompile inside the CALL's handler, without a frame; a call
//!   that leaves the depth unchanged, to an address levm dispatches as a precompile, past the
//!   depth and balance checks, reached it.
//! * **Reads.** levm's database records every account it loaded from the store, and every slot
//!   of it, in `initial_accounts_state` ([`report_reads`]).

use alloy_primitives::U256 as AlloyU256;
use ethrex_common::{Address, U256};
use ethrex_levm::db::gen_db::GeneralizedDatabase;
use ethrex_levm::errors::{ExceptionalHalt, OpcodeResult, VMError};
use ethrex_levm::precompiles::is_precompile_with_moves;
use ethrex_levm::tracing::{LevmOpcodeTracer, OpcodeTracerConfig};
use ethrex_levm::vm::VM;
use evmdiff_core::observe::{Flow, GasCost, Observer, StateRead, Step, StepState};

use super::dispatch::Hook;

const JUMP: u8 = 0x56;
const JUMPI: u8 = 0x57;
const JUMPDEST: u8 = 0x5b;
const CALL: u8 = 0xf1;
const CALLCODE: u8 = 0xf2;
const DELEGATECALL: u8 = 0xf4;
const STATICCALL: u8 = 0xfa;

/// levm's struct-log tracer with nothing to capture: active only so that its handlers record
/// the canonical cost of CALL- and CREATE-family instructions (see the module documentation).
pub(super) fn cost_tracer() -> LevmOpcodeTracer {
    LevmOpcodeTracer::new(OpcodeTracerConfig {
        disable_stack: true,
        enable_memory: false,
        disable_storage: true,
        enable_return_data: false,
        limit: 0,
    })
}

/// The reported step whose `step_end` is due.
#[derive(Debug, Clone, Copy)]
struct Pending {
    pc: usize,
    opcode: u8,
    depth: usize,
    gas: u64,
    /// For a CALL-family instruction to an address levm dispatches as a precompile, that
    /// address, when the call passes the checks made before the precompile runs.
    precompile: Option<Address>,
}

/// Reports levm's steps to an observer (see the module documentation).
pub(super) struct Watch<'o> {
    observer: &'o mut dyn Observer,
    /// The observer wants each step's machine state.
    state: bool,
    /// Reused buffer for the stack in alloy's words, bottom first.
    stack: Vec<AlloyU256>,
    pending: Option<Pending>,
    /// The observer has broken: every frame halts at its next instruction, unreported.
    stopped: bool,
}

impl<'o> Watch<'o> {
    pub(super) fn new(observer: &'o mut dyn Observer) -> Watch<'o> {
        Watch {
            state: observer.wants_state(),
            observer,
            stack: Vec::new(),
            pending: None,
            stopped: false,
        }
    }

    /// Reports a step of the current frame (with its state, when asked for) and returns the
    /// observer's answer.
    fn report(&mut self, vm: &mut VM<'_>, pc: usize, opcode: u8, gas: u64) -> Flow {
        let depth = vm.call_frames.len() + 1;
        // levm's counter is the transaction's (a reverted frame's refunds are rolled back
        // with its substate), which is the canonical one.
        let refund = i64::try_from(vm.substate.refunded_gas).unwrap_or(i64::MAX);
        let step = Step::new(depth, pc, opcode, gas).with_refund(refund);
        if !self.state {
            return self.observer.step(&step);
        }
        let frame = &mut vm.current_call_frame;
        // levm keeps the stack top first.
        let stack = &frame.stack;
        self.stack.clear();
        self.stack.extend(
            stack.values[stack.offset.min(stack.values.len())..]
                .iter()
                .rev()
                .map(|w| AlloyU256::from_limbs(w.0)),
        );
        let address = alloy_primitives::Address::from(frame.to.0);
        let return_data: &[u8] = &frame.sub_return_data;
        let len = frame.memory.len();
        let (observer, stack) = (&mut *self.observer, &self.stack);
        // Memory is a window of a buffer shared with the other frames; `with_range` lends
        // exactly this frame's active bytes (it grows nothing: `len` is the current size).
        frame
            .memory
            .with_range(0, len, |memory| {
                observer.step(&step.with_state(StepState {
                    stack,
                    memory,
                    return_data,
                    address,
                }))
            })
            .unwrap_or(Flow::Continue(()))
    }

    fn end(&mut self, cost: GasCost) {
        self.observer.step_end(cost);
    }

    /// The balance check a CALL or CALLCODE with value makes before it reaches its callee:
    /// true when it passes. Read from levm's cache only (the executing account is in it), so
    /// that observing loads nothing levm would not.
    fn funded(vm: &VM<'_>, value: U256) -> bool {
        value.is_zero()
            || vm
                .db
                .current_accounts_state
                .get(&vm.current_call_frame.to)
                .is_none_or(|a| a.info.balance >= value)
    }
}

/// Gas remaining in the current frame, never negative.
fn gas_of(vm: &VM<'_>) -> u64 {
    u64::try_from(vm.current_call_frame.gas_remaining).unwrap_or(0)
}

/// The stack item `n` below the top of the current frame, if there is one.
fn peek(vm: &VM<'_>, n: usize) -> Option<U256> {
    let stack = &vm.current_call_frame.stack;
    stack.values.get(stack.offset.checked_add(n)?).copied()
}

impl Hook for Watch<'_> {
    fn before(&mut self, vm: &mut VM<'_>, pc: usize, opcode: u8) -> Flow {
        if self.stopped {
            return Flow::Break(());
        }
        // Past the end of the code: one of levm's padding STOPs, not an instruction.
        if pc >= vm.current_call_frame.bytecode.len() {
            return Flow::Continue(());
        }
        let gas = gas_of(vm);
        if self.report(vm, pc, opcode, gas).is_break() {
            self.stopped = true;
            return Flow::Break(());
        }
        let precompile = match opcode {
            CALL | CALLCODE | DELEGATECALL | STATICCALL => peek(vm, 1).and_then(|callee| {
                let callee = Address::from_slice(&callee.to_big_endian()[12..]);
                let value = match opcode {
                    CALL | CALLCODE => peek(vm, 2).unwrap_or_default(),
                    _ => U256::zero(),
                };
                let reached = is_precompile_with_moves(
                    &callee,
                    vm.env.config.fork,
                    vm.vm_type,
                    vm.db.precompile_moves.as_deref(),
                ) && vm.current_call_frame.depth < 1024
                    && Self::funded(vm, value);
                reached.then_some(callee)
            }),
            _ => None,
        };
        vm.opcode_tracer.last_opcode_gas_cost = None;
        self.pending = Some(Pending {
            pc,
            opcode,
            depth: vm.call_frames.len() + 1,
            gas,
            precompile,
        });
        Flow::Continue(())
    }

    fn after(
        &mut self,
        vm: &mut VM<'_>,
        result: Result<OpcodeResult, VMError>,
    ) -> Result<OpcodeResult, VMError> {
        let Some(p) = self.pending.take() else {
            return result;
        };
        let recorded = vm.opcode_tracer.last_opcode_gas_cost.take();
        let depth = vm.call_frames.len() + 1;
        if matches!(p.opcode, JUMP | JUMPI) {
            // The tracer's copy of the fused JUMPDEST step: not read, not kept.
            vm.opcode_tracer.logs.clear();
            vm.opcode_tracer.last_step_index = None;
            if vm.current_call_frame.pc != p.pc + 1 {
                return self.fused_jumpdest(vm, p, result);
            }
        }
        let cost = match &result {
            // REVERT ends the frame normally, keeping its unused gas.
            Err(VMError::RevertOpcode) => Some(p.gas.saturating_sub(gas_of(vm))),
            Err(_) => None,
            Ok(_) if depth > p.depth => {
                // A callee frame started: the caller's gas is the parent's now.
                recorded.or_else(|| {
                    let caller = vm.call_frames.last().map_or(0, |f| f.gas_remaining);
                    Some(p.gas.saturating_sub(u64::try_from(caller).unwrap_or(0)))
                })
            }
            Ok(_) => Some(recorded.unwrap_or_else(|| p.gas.saturating_sub(gas_of(vm)))),
        };
        self.end(cost);
        if let (Ok(_), Some(address)) = (&result, p.precompile)
            && depth == p.depth
        {
            self.observer
                .precompile(alloy_primitives::Address::from(address.0));
        }
        result
    }

    fn precompile(&mut self, address: Address) {
        if !self.stopped {
            self.observer
                .precompile(alloy_primitives::Address::from(address.0));
        }
    }
}

impl Watch<'_> {
    /// A taken JUMP or JUMPI, whose handler also executed the JUMPDEST at the destination
    /// (the pc is past it and its gas charged, or the frame ran out of gas charging it):
    /// reported as the two steps they are.
    fn fused_jumpdest(
        &mut self,
        vm: &mut VM<'_>,
        p: Pending,
        result: Result<OpcodeResult, VMError>,
    ) -> Result<OpcodeResult, VMError> {
        const JUMPDEST_GAS: i64 = 1;
        let target = vm.current_call_frame.pc - 1;
        let after_jump =
            u64::try_from(vm.current_call_frame.gas_remaining + JUMPDEST_GAS).unwrap_or(0);
        self.end(Some(p.gas.saturating_sub(after_jump)));
        if self.report(vm, target, JUMPDEST, after_jump).is_break() {
            self.stopped = true;
            return Err(ExceptionalHalt::OutOfGas.into());
        }
        self.end(result.is_ok().then_some(1));
        result
    }
}

/// Reports what levm loaded from the pre-state: its database keeps every account it read from
/// the store, with every slot it read of it, as the state before the transaction.
pub(super) fn report_reads(db: &GeneralizedDatabase, observer: &mut dyn Observer) {
    for (address, account) in &db.initial_accounts_state {
        let address = alloy_primitives::Address::from(address.0);
        observer.read(StateRead::Account(address));
        for slot in account.storage.keys() {
            observer.read(StateRead::Storage(
                address,
                AlloyU256::from_be_bytes(slot.0),
            ));
        }
    }
}
