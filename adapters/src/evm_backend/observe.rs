//! The observed path of the evm backend. evm has no step hook, so three wrappers share one
//! [`Watch`]:
//! * [`StepEtable`] around the whole Etable chain reports each opcode before the profile
//!   rules, the gasometer and the dispatch see it;
//! * [`NotingPrecompiles`] around the profile's precompile set reports each call a
//!   precompile answers;
//! * [`DepthInvoker`] around the transaction invoker keeps the call depth, which evm's
//!   machines do not know.
//!
//! `execute` builds none of them, so its Etable chain and invoker are exactly as before.

use std::cell::{Cell, RefCell};

use alloy_primitives::U256;
use evm::interpreter::etable::Etable;
use evm::interpreter::trap::CallCreateTrap;
use evm::interpreter::{
    Capture, Control, ExitError, ExitException, ExitResult, Interpreter, Machine, Valids,
};
use evm::standard::{PrecompileSet, State};
use evm::uint::H160;
use evm::{Invoker as InvokerT, InvokerControl, InvokerExit};
use evmdiff_core::observe::{Observer, Step, StepState};

use super::convert::{address, u256};

/// The observer and the call depth, shared by the wrappers (evm lends each of them out by
/// shared reference only, hence the cells).
pub(super) struct Watch<'o> {
    observer: RefCell<&'o mut dyn Observer>,
    /// Depth of the running frame, the transaction's frame being 1.
    depth: Cell<usize>,
    /// One entry per substack entered and not yet exited: `true` when it pushed a frame
    /// (code runs), `false` when a precompile answered directly.
    frames: RefCell<Vec<bool>>,
    /// The observer wants each step's machine state.
    state: bool,
    /// Reused buffers for that state in alloy's types (evm's stack words are primitive-types
    /// numbers, and its memory buffer may be longer or shorter than the active memory).
    stack: RefCell<Vec<U256>>,
    memory: RefCell<Vec<u8>>,
    /// Gas before a CALL- or CREATE-family step whose cost is reported once evm has set the
    /// callee's gas aside, which it does when entering the substack, after the step.
    trapped: Cell<Option<u64>>,
    /// The cost of a CREATE-family step, reported once evm has tried to enter its substack:
    /// init code over EIP-3860's limit fails there, an exceptional halt of the creating frame,
    /// whose failing step carries no cost (as every halting step).
    create_cost: Cell<Option<u64>>,
    /// The valid jump destinations of the code last jumped in, with that code: evm checks a
    /// JUMP's destination after the step, so a jump to an invalid one would otherwise report
    /// the cost of a step that halts.
    valids: RefCell<Option<(Vec<u8>, Valids)>>,
}

impl<'o> Watch<'o> {
    /// A watch reporting to `observer`.
    pub(super) fn new(observer: &'o mut dyn Observer) -> Self {
        Watch {
            state: observer.wants_state(),
            observer: RefCell::new(observer),
            depth: Cell::new(1),
            frames: RefCell::new(Vec::new()),
            stack: RefCell::new(Vec::new()),
            memory: RefCell::new(Vec::new()),
            trapped: Cell::new(None),
            create_cost: Cell::new(None),
            valids: RefCell::new(None),
        }
    }
}

impl Watch<'_> {
    /// Whether `dest` is a JUMPDEST of `code` (not inside push data), from a table kept for
    /// the code last asked about.
    fn valid_jump(&self, code: &[u8], dest: usize) -> bool {
        if code.get(dest) != Some(&0x5b) {
            return false;
        }
        let mut cached = self.valids.borrow_mut();
        match &*cached {
            Some((known, v)) if known.as_slice() == code => v.is_valid(dest),
            _ => {
                let v = Valids::new(code);
                let valid = v.is_valid(dest);
                *cached = Some((code.to_vec(), v));
                valid
            }
        }
    }
}

/// Reports every opcode to the watch, then lets `inner` execute it.
pub(super) struct StepEtable<'w, 'o, E> {
    /// The Etable chain that executes.
    pub(super) inner: E,
    /// Where steps go.
    pub(super) watch: &'w Watch<'o>,
}

impl<'config, H, E> Etable<H> for StepEtable<'_, '_, E>
where
    E: Etable<H, State = State<'config>, Trap = CallCreateTrap>,
{
    type State = State<'config>;
    type Trap = CallCreateTrap;

    fn eval(
        &self,
        m: &mut Machine<State<'config>>,
        h: &mut H,
        pos: usize,
    ) -> Control<CallCreateTrap> {
        let gas = m.state.gasometer.gas64();
        // evm 1.1.1 keeps the refund counter private: steps carry none.
        let step = Step::new(self.watch.depth.get(), pos, m.code()[pos], gas);
        let flow = if self.watch.state {
            let mut stack = self.watch.stack.borrow_mut();
            stack.clear();
            stack.extend(m.stack.data().iter().map(|w| u256(*w)));
            // MSIZE is the effective length; the backing vector can differ from it. Borrow
            // it when it is long enough, copy and zero-extend only when it is shorter.
            let data = m.memory.data();
            let size = usize::try_from(u256(m.memory.effective_len())).unwrap_or(data.len());
            let mut copy = self.watch.memory.borrow_mut();
            let memory: &[u8] = if size <= data.len() {
                &data[..size]
            } else {
                copy.clear();
                copy.extend_from_slice(data);
                copy.resize(size, 0);
                &copy
            };
            let state = StepState {
                stack: &stack,
                memory,
                return_data: &m.state.runtime.retbuf,
                address: address(m.state.runtime.context.address),
            };
            self.watch
                .observer
                .borrow_mut()
                .step(&step.with_state(state))
        } else {
            self.watch.observer.borrow_mut().step(&step)
        };
        if flow.is_break() {
            // The frame halts before the instruction; its caller at its next step.
            return Control::Exit(Err(ExitError::Exception(ExitException::OutOfGas)));
        }
        let control = self.inner.eval(m, h, pos);
        match &control {
            // A CALL's cost includes the callee's gas, which evm sets aside when it enters
            // the substack; a CREATE's does not (geth's and the execution spec's
            // convention), so it is complete now, but reported once the substack is entered.
            Control::Trap(_) if !matches!(m.code()[pos], 0xf0 | 0xf5) => {
                self.watch.trapped.set(Some(gas))
            }
            Control::Trap(_) => {
                let cost = gas.saturating_sub(m.state.gasometer.gas64());
                self.watch.create_cost.set(Some(cost));
            }
            Control::Exit(Err(ExitError::Exception(_) | ExitError::Fatal(_))) => {
                self.watch.observer.borrow_mut().step_end(None)
            }
            Control::Jump(dest) if !self.watch.valid_jump(m.code(), *dest) => {
                self.watch.observer.borrow_mut().step_end(None)
            }
            _ => {
                let cost = gas.saturating_sub(m.state.gasometer.gas64());
                self.watch.observer.borrow_mut().step_end(Some(cost));
            }
        }
        control
    }
}

/// Reports each call that a precompile of `inner` answers (`None` means the address is not
/// a precompile, or one the profile makes absent: its code runs instead).
pub(super) struct NotingPrecompiles<'w, 'o, P> {
    /// The profile's precompile set.
    pub(super) inner: P,
    /// Where calls go.
    pub(super) watch: &'w Watch<'o>,
}

impl<'config, H, P> PrecompileSet<State<'config>, H> for NotingPrecompiles<'_, '_, P>
where
    P: PrecompileSet<State<'config>, H>,
{
    fn execute(
        &self,
        code_address: H160,
        input: &[u8],
        state: &mut State<'config>,
        handler: &mut H,
    ) -> Option<(ExitResult, Vec<u8>)> {
        let result = self.inner.execute(code_address, input, state, handler);
        if result.is_some() {
            self.watch
                .observer
                .borrow_mut()
                .precompile(address(code_address));
        }
        result
    }

    fn on_transaction(&self, state: &mut State<'config>, handler: &mut H) {
        self.inner.on_transaction(state, handler);
    }
}

/// The transaction invoker `I`, keeping the watch's depth up to date.
pub(super) struct DepthInvoker<'w, 'o, I> {
    /// The invoker that does the work.
    pub(super) inner: I,
    /// Whose depth to keep.
    pub(super) watch: &'w Watch<'o>,
}

impl<'config, H, I: InvokerT<H, State = State<'config>>> InvokerT<H> for DepthInvoker<'_, '_, I> {
    type State = I::State;
    type Interpreter = I::Interpreter;
    type Interrupt = I::Interrupt;
    type TransactArgs = I::TransactArgs;
    type TransactInvoke = I::TransactInvoke;
    type TransactValue = I::TransactValue;
    type SubstackInvoke = I::SubstackInvoke;

    #[allow(clippy::type_complexity)]
    fn new_transact(
        &self,
        args: Self::TransactArgs,
        handler: &mut H,
    ) -> Result<
        (
            Self::TransactInvoke,
            InvokerControl<Self::Interpreter, Self::State>,
        ),
        ExitError,
    > {
        self.watch.depth.set(1);
        self.watch.frames.borrow_mut().clear();
        self.inner.new_transact(args, handler)
    }

    fn finalize_transact(
        &self,
        invoke: &Self::TransactInvoke,
        exit: InvokerExit<Self::State>,
        handler: &mut H,
    ) -> Result<Self::TransactValue, ExitError> {
        self.inner.finalize_transact(invoke, exit, handler)
    }

    #[allow(clippy::type_complexity)]
    fn enter_substack(
        &self,
        trap: <Self::Interpreter as Interpreter<H>>::Trap,
        machine: &mut Self::Interpreter,
        handler: &mut H,
        depth: usize,
    ) -> Capture<
        Result<
            (
                Self::SubstackInvoke,
                InvokerControl<Self::Interpreter, Self::State>,
            ),
            ExitError,
        >,
        Self::Interrupt,
    > {
        let entered = self.inner.enter_substack(trap, machine, handler, depth);
        if let Some(cost) = self.watch.create_cost.take() {
            // An error here halts the creating frame (init code over the limit); a creation
            // that merely fails (no funds, too deep) exits Ok with a direct exit.
            let halted = matches!(entered, Capture::Exit(Err(_)));
            self.watch
                .observer
                .borrow_mut()
                .step_end((!halted).then_some(cost));
        }
        if let Some(before) = self.watch.trapped.take() {
            let after = machine.state().gasometer.gas64();
            self.watch
                .observer
                .borrow_mut()
                .step_end(Some(before.saturating_sub(after)));
        }
        // A substack that failed to start (no funds, too deep) is never exited.
        if let Capture::Exit(Ok((_, control))) = &entered {
            let pushed = matches!(control, InvokerControl::Enter(_));
            self.watch.frames.borrow_mut().push(pushed);
            if pushed {
                self.watch.depth.set(self.watch.depth.get() + 1);
            }
        }
        entered
    }

    fn exit_substack(
        &self,
        trap_data: Self::SubstackInvoke,
        exit: InvokerExit<Self::State>,
        parent: &mut Self::Interpreter,
        handler: &mut H,
    ) -> Result<(), ExitError> {
        if self.watch.frames.borrow_mut().pop() == Some(true) {
            self.watch.depth.set(self.watch.depth.get() - 1);
        }
        self.inner.exit_substack(trap_data, exit, parent, handler)
    }
}
