//! Watching an execution from the inside: every executed instruction and every precompile
//! actually called, in one canonical shape whatever the backend.
//!
//! An [`Observer`] is handed to [`Backend::execute_observed`](crate::Backend::execute_observed);
//! the plain [`Backend::execute`](crate::Backend::execute) never sees one and pays nothing for
//! this module. Coverage counting needs only the opcode of each step; localizing a divergence
//! ([`crate::lockstep`]) and writing EIP-3155 traces ([`crate::eip3155`]) need the machine state
//! too, which an observer asks for with [`Observer::wants_state`] so that counting stays cheap.
//!
//! A step is reported in two halves: [`Observer::step`] before the instruction (what it sees)
//! and [`Observer::step_end`] after it (what it cost). The state must be borrowed before the
//! instruction changes it, and the cost is only known after; reporting both halves lets the
//! backend lend its own stack and memory instead of copying them on every step.

use alloy_primitives::{Address, U256};

use crate::case::At;

/// One executed instruction, reported *before* it executes.
///
/// The fields are those of an EIP-3155 trace line. `state` is filled only for an observer whose
/// [`Observer::wants_state`] is true: copying the stack on every step is what makes tracing
/// expensive, so nobody pays for it unasked.
///
/// Only instructions that are in the code are steps: the implicit STOP of running past the
/// end of the code is not reported (revm executes a padding byte there, evm does not
/// evaluate anything), so every backend reports the same steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Step<'a> {
    /// Call depth of the executing frame: the transaction's own frame is 1 (as in EIP-3155).
    pub depth: usize,
    /// Offset of the instruction in its frame's code.
    pub pc: usize,
    /// The opcode byte at `pc`.
    pub opcode: u8,
    /// Gas remaining in the frame before the instruction is charged.
    pub gas: u64,
    /// The transaction's refund counter before the instruction (the counters of every active
    /// frame summed, a frame's own including what its successful callees merged into it, so
    /// it can be negative under EIP-2200; what geth's EIP-3155 traces print), when the
    /// backend exposes it: `None` for a backend that keeps it private (`evm`).
    pub refund: Option<i64>,
    /// The frame's machine state before the instruction, when the observer asked for it.
    pub state: Option<StepState<'a>>,
    /// Parts of that state the backend did not report (an external backend's trace often
    /// leaves memory and return data out for speed): they are never compared.
    pub omitted: Omitted,
}

/// Parts of a step's machine state a backend left out. In-process backends report
/// everything; a trace read from another program ([`crate::replay`]) may not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Omitted {
    /// The contents of memory (its size is always reported).
    pub memory: bool,
    /// The return data buffer, size and contents.
    pub return_data: bool,
}

/// The machine state of a frame before an instruction, borrowed from the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StepState<'a> {
    /// The stack, bottom first (EIP-3155 order).
    pub stack: &'a [U256],
    /// The frame's active memory: exactly `MSIZE` bytes.
    pub memory: &'a [u8],
    /// The return data buffer of the frame's last call (what RETURNDATASIZE measures).
    pub return_data: &'a [u8],
    /// The account whose storage the frame uses (ADDRESS; the caller's for DELEGATECALL and
    /// CALLCODE).
    pub address: Address,
}

impl<'a> Step<'a> {
    /// A step without machine state.
    pub fn new(depth: usize, pc: usize, opcode: u8, gas: u64) -> Step<'a> {
        Step {
            depth,
            pc,
            opcode,
            gas,
            refund: None,
            state: None,
            omitted: Omitted::default(),
        }
    }

    /// The same step with the frame's refund counter.
    pub fn with_refund(self, refund: i64) -> Step<'a> {
        Step {
            refund: Some(refund),
            ..self
        }
    }

    /// The same step, saying which parts of its state were not reported.
    pub fn with_omitted(self, omitted: Omitted) -> Step<'a> {
        Step { omitted, ..self }
    }

    /// The same step with the frame's machine state.
    pub fn with_state(self, state: StepState<'a>) -> Step<'a> {
        Step {
            state: Some(state),
            ..self
        }
    }
}

/// Whether the backend goes on executing after a step: an observer that has seen enough (the
/// lockstep comparator, at the first differing step) breaks, and the backend halts every
/// frame as it reaches its next instruction. The outcome of a stopped execution means nothing.
pub type Flow = std::ops::ControlFlow<()>;

/// The gas an instruction cost in its own frame, reported after it executed: gas remaining
/// before it minus gas remaining after it, where for the CALL family "after" is once the
/// callee's gas has been set aside (the cost includes the gas made available to the callee)
/// and for the CREATE family it is not (the init code's gas is not part of the cost): the
/// convention of geth's and the execution spec's EIP-3155 traces. `None` for an instruction
/// that halts exceptionally: backends differ in what they charge before giving up (all
/// remaining gas, or only what was paid), and the frame loses all its gas either way.
pub type GasCost = Option<u64>;

/// A read of the pre-state by a backend: what an execution witness must contain for the
/// transaction to be re-executed without the rest of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StateRead {
    /// An account's leaf (balance, nonce, code hash, whether it has storage) and its code.
    Account(Address),
    /// One storage slot of an account.
    Storage(Address, U256),
}

/// Receives what an observed execution does. Every method does nothing by default, so an
/// observer implements only what it needs.
pub trait Observer {
    /// Whether steps should carry their [`StepState`]. Asked once per execution, before the
    /// first step.
    fn wants_state(&self) -> bool {
        false
    }

    /// Whether the backend should report its pre-state reads ([`read`](Observer::read)).
    /// Asked once per execution. Recording them costs a push per state access, which the
    /// fuzzing fast path, observed on every case, must not pay.
    fn wants_reads(&self) -> bool {
        false
    }

    /// Called before the steps of each transaction of the case (every transaction, also one
    /// refused before execution), so that steps can be told apart by transaction.
    fn transaction(&mut self, at: At) {
        let _ = at;
    }

    /// Called before each executed instruction, at every depth, in execution order.
    fn step(&mut self, step: &Step<'_>) -> Flow {
        let _ = step;
        Flow::Continue(())
    }

    /// Called after the instruction of the last [`step`](Observer::step), before the next
    /// step (the callee's first, for a call), with its [`GasCost`]. A backend that cannot
    /// tell may skip it; the step's cost is then unknown.
    fn step_end(&mut self, gas_cost: GasCost) {
        let _ = gas_cost;
    }

    /// Called when a precompile is actually called: by a CALL-family instruction (after the
    /// CALL's own step) or as the transaction's target. A call that fails before reaching
    /// the precompile (insufficient balance, depth limit) is not reported, nor is a call to
    /// an address the profile makes `absent`; a call the profile turns into a revert, halt or
    /// rejection is, since the call reached the precompile's address as a precompile.
    fn precompile(&mut self, address: Address) {
        let _ = address;
    }

    /// Called, when [`wants_reads`](Observer::wants_reads), for every account and slot the
    /// backend loaded from the pre-state, once the execution is over, in no particular order (duplicates allowed). Only backends whose
    /// state is loaded lazily can tell; what each reports is listed in `docs/backends.md`.
    fn read(&mut self, read: StateRead) {
        let _ = read;
    }
}

/// An observer that ignores everything (what `execute` amounts to).
impl Observer for () {}
