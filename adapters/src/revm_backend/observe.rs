//! The observed path of the revm backend: an [`Inspector`] that turns revm's `step` hook into
//! canonical [`Step`]s, and a precompile-provider wrapper that notes every precompile call.
//!
//! Neither exists on the plain path: [`inspect`] takes this thread's EVM apart, rebuilds it
//! around the inspector and the wrapper for one transaction, and puts the parts back, so the
//! reused EVM of `execute` keeps revm's uninstrumented `transact` and `()` inspector.
//!
//! The provider cannot reach the observer (the inspector owns it), so it notes the call in the
//! context's [`ProfileChain`](super::profile::ProfileChain), which both see; the inspector
//! passes the notes on when the call ends, before the caller's next step, and once more after
//! the transaction for calls that aborted it (a profile's `reject`).

use evmdiff_core::observe::{Observer, StateRead, Step, StepState};
use revm::context::result::{EVMError, ExecResultAndState, ExecutionResult, HaltReason};
use revm::context::{Evm, TxEnv};
use revm::context_interface::{Cfg, ContextTr, JournalTr};
use revm::handler::PrecompileProvider;
use revm::inspector::{InspectEvm, Inspector};
use revm::interpreter::interpreter::EthInterpreter;
use revm::interpreter::interpreter_types::{InputsTr, Jumps, LoopControl, ReturnData};
use revm::interpreter::{
    CallInputs, CallOutcome, FrameInput, InstructionResult, Interpreter, InterpreterAction,
    InterpreterResult,
};
use revm::primitives::{Address, AddressSet};
use revm::state::EvmState;

use super::profile::ProfilePrecompiles;
use super::{Cached, Ctx};

/// What revm's `transact` and `inspect_tx` return for this adapter's EVM.
pub(super) type TxResult = Result<
    ExecResultAndState<ExecutionResult<HaltReason>, EvmState>,
    EVMError<std::convert::Infallible>,
>;

/// Runs `tx` on `cached`'s EVM with `observer` watching, and gives the EVM back unchanged.
/// With `note_transient`, the transient storage each frame leaves is noted in the context
/// (`ProfileChain::transient_seen`).
pub(super) fn inspect(
    cached: Box<Cached>,
    tx: TxEnv,
    observer: &mut dyn Observer,
    note_transient: bool,
) -> (TxResult, Box<Cached>) {
    let Cached {
        evm,
        spec,
        opcodes,
        gas,
        planted,
        cfg_planted,
    } = *cached;
    let Evm {
        ctx,
        inspector: (),
        instruction,
        precompiles,
        frame_stack,
    } = evm;
    let mut watched = Evm {
        ctx,
        inspector: StepInspector {
            state: observer.wants_state(),
            observer,
            gas_before: None,
            refunds: Vec::new(),
            note_transient,
        },
        instruction,
        precompiles: NotingPrecompiles(precompiles),
        frame_stack,
    };
    let result = watched.inspect_tx(tx);
    let Evm {
        mut ctx,
        inspector,
        instruction,
        precompiles: NotingPrecompiles(precompiles),
        frame_stack,
    } = watched;
    for address in ctx.chain.precompile_calls.drain(..) {
        inspector.observer.precompile(address);
    }
    let evm = Evm {
        ctx,
        inspector: (),
        instruction,
        precompiles,
        frame_stack,
    };
    (
        result,
        Box::new(Cached {
            evm,
            spec,
            opcodes,
            gas,
            planted,
            cfg_planted,
        }),
    )
}

/// Reports revm's steps and the provider's precompile notes to an observer.
struct StepInspector<'o> {
    observer: &'o mut dyn Observer,
    /// The observer wants each step's stack, memory and return data.
    state: bool,
    /// Gas remaining before the reported step whose `step_end` is due.
    gas_before: Option<u64>,
    /// The refund counter of each active frame at its last step (index depth - 1). revm
    /// keeps a refund counter per frame and merges a callee's into its caller when it
    /// returns; the canonical counter (geth's and the execution spec's) is the
    /// transaction's, which is the sum over the active frames, since a caller's counter
    /// does not change while its callee runs.
    refunds: Vec<i64>,
    /// Note the transient storage each frame leaves (for a planted bug).
    note_transient: bool,
}

impl StepInspector<'_> {
    /// The transaction's refund counter at a step of the frame at `depth` whose own counter
    /// is `frame`.
    fn refund(&mut self, depth: usize, frame: i64) -> i64 {
        self.refunds.truncate(depth);
        self.refunds.resize(depth, 0);
        self.refunds[depth - 1] = frame;
        self.refunds.iter().sum()
    }
}

impl Inspector<Ctx, EthInterpreter> for StepInspector<'_> {
    fn step(&mut self, interp: &mut Interpreter<EthInterpreter>, ctx: &mut Ctx) {
        let pc = interp.bytecode.pc();
        // revm calls `step` once more when a frame has already stopped (the loop checks for
        // the end after the hook), and executes a STOP from the padding past the code's end;
        // neither is an instruction of the code.
        if interp.bytecode.is_end() || pc >= revm::bytecode::Bytecode::len(&interp.bytecode) {
            return;
        }
        let gas = interp.gas.remaining();
        let depth = ctx.journal().depth();
        let refund = self.refund(depth, interp.gas.refunded());
        let step = Step::new(depth, pc, interp.bytecode.opcode(), gas).with_refund(refund);
        let flow = if self.state {
            let memory = interp.memory.context_memory();
            self.observer.step(&step.with_state(StepState {
                stack: interp.stack.data(),
                memory: &memory,
                return_data: interp.return_data.buffer(),
                address: interp.input.target_address(),
            }))
        } else {
            self.observer.step(&step)
        };
        if flow.is_break() {
            // Halting makes revm's loop end before executing the instruction; the caller's
            // frame halts the same way at its next step.
            interp.halt(InstructionResult::OutOfGas);
            self.gas_before = None;
            return;
        }
        self.gas_before = Some(gas);
    }

    fn step_end(&mut self, interp: &mut Interpreter<EthInterpreter>, _ctx: &mut Ctx) {
        let Some(before) = self.gas_before.take() else {
            return;
        };
        // For a CALL or CREATE revm has already set the callee's gas aside here (the frame
        // starts after this hook). The canonical cost, geth's and the execution spec's,
        // includes it for the CALL family and not for the CREATE family, so a CREATE's init
        // gas is given back.
        let halted = interp
            .bytecode
            .instruction_result()
            .is_some_and(InstructionResult::is_halt);
        let init_gas = match interp.bytecode.action() {
            Some(InterpreterAction::NewFrame(FrameInput::Create(inputs))) => inputs.gas_limit(),
            _ => 0,
        };
        let cost = (!halted).then(|| {
            before
                .saturating_sub(interp.gas.remaining())
                .saturating_sub(init_gas)
        });
        self.observer.step_end(cost);
    }

    fn call_end(&mut self, ctx: &mut Ctx, _inputs: &CallInputs, _outcome: &mut CallOutcome) {
        for address in ctx.chain.precompile_calls.drain(..) {
            self.observer.precompile(address);
        }
        if self.note_transient {
            ctx.chain.transient_seen = Some(ctx.journaled_state.inner.transient_storage.clone());
        }
    }

    fn create_end(
        &mut self,
        ctx: &mut Ctx,
        _inputs: &revm::interpreter::CreateInputs,
        _outcome: &mut revm::interpreter::CreateOutcome,
    ) {
        if self.note_transient {
            ctx.chain.transient_seen = Some(ctx.journaled_state.inner.transient_storage.clone());
        }
    }
}

/// The profile's precompile provider, noting each call that reaches a precompile.
struct NotingPrecompiles(ProfilePrecompiles);

impl PrecompileProvider<Ctx> for NotingPrecompiles {
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: <<Ctx as ContextTr>::Cfg as Cfg>::Spec) -> bool {
        self.0.set_spec(spec)
    }

    fn run(
        &mut self,
        ctx: &mut Ctx,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        let result = self.0.run(ctx, inputs);
        // `Ok(None)`: not a precompile (or one the profile makes absent), the account's code
        // runs. `Err`: the profile rejected the call, which did reach the precompile.
        if !matches!(result, Ok(None)) {
            ctx.chain.precompile_calls.push(inputs.bytecode_address);
        }
        result
    }

    fn warm_addresses(&self) -> &AddressSet {
        <ProfilePrecompiles as PrecompileProvider<Ctx>>::warm_addresses(&self.0)
    }

    fn contains(&self, address: &Address) -> bool {
        <ProfilePrecompiles as PrecompileProvider<Ctx>>::contains(&self.0, address)
    }
}

/// Reports what revm loaded from the pre-state: its journal keeps every account it loaded
/// (touched or not) and every slot it loaded, which is exactly its witness. Accounts and
/// slots that are not in the pre-state were loaded too (as absent), and are reported: a
/// stateless execution must be able to prove their absence.
///
/// Precompile accounts are warm from the start without being loaded, so revm reports them
/// only when it read them (a balance check, a call with value). Slots of accounts the
/// transaction created are left out: revm answers them without a load.
pub(super) fn report_reads(state: &EvmState, observer: &mut dyn Observer) {
    for (address, account) in state {
        observer.read(StateRead::Account(*address));
        // The slots of an account created by the transaction are known to be empty and are
        // never loaded (revm keeps them in the journal all the same).
        if account.is_created() {
            continue;
        }
        for slot in account.storage.keys() {
            observer.read(StateRead::Storage(*address, *slot));
        }
    }
}
