//! Watching an execution from the inside: every executed instruction and every precompile
//! actually called, in one canonical shape whatever the backend.
//!
//! An [`Observer`] is handed to [`Backend::execute_observed`](crate::Backend::execute_observed);
//! the plain [`Backend::execute`](crate::Backend::execute) never sees one and pays nothing for
//! this module. Coverage counting needs only the opcode of each step; localizing a divergence
//! ([`crate::localize`]) and writing EIP-3155 traces ([`crate::trace`]) need the machine state
//! too, which an observer asks for with [`Observer::wants_state`] so that counting stays cheap.

use alloy_primitives::{Address, U256};

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
    /// The frame's machine state before the instruction, when the observer asked for it.
    pub state: Option<StepState<'a>>,
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
}

impl<'a> Step<'a> {
    /// A step without machine state.
    pub fn new(depth: usize, pc: usize, opcode: u8, gas: u64) -> Step<'a> {
        Step {
            depth,
            pc,
            opcode,
            gas,
            state: None,
        }
    }

    /// The same step with the frame's machine state.
    pub fn with_state(self, state: StepState<'a>) -> Step<'a> {
        Step {
            state: Some(state),
            ..self
        }
    }
}

/// Receives what an observed execution does. Every method does nothing by default, so an
/// observer implements only what it needs.
pub trait Observer {
    /// Whether steps should carry their [`StepState`]. Asked once per execution, before the
    /// first step.
    fn wants_state(&self) -> bool {
        false
    }

    /// Called before each executed instruction, at every depth, in execution order.
    fn step(&mut self, step: &Step<'_>) {
        let _ = step;
    }

    /// Called when a precompile is actually called: by a CALL-family instruction (after the
    /// CALL's own step) or as the transaction's target. A call that fails before reaching
    /// the precompile (insufficient balance, depth limit) is not reported, nor is a call to
    /// an address the profile makes `absent`; a call the profile turns into a revert, halt or
    /// rejection is, since the call reached the precompile's address as a precompile.
    fn precompile(&mut self, address: Address) {
        let _ = address;
    }
}

/// An observer that ignores everything (what `execute` amounts to).
impl Observer for () {}

/// An observer that keeps everything, in order: for tests and small traces. Steps carry their
/// stack, memory and return data only if made with [`Recorder::with_state`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorder {
    /// Every step, in execution order.
    pub steps: Vec<crate::trace::TraceStep>,
    /// Every precompile call, in execution order.
    pub precompiles: Vec<Address>,
    /// Whether steps are recorded with their machine state.
    pub state: bool,
}

impl Recorder {
    /// A recorder that asks for each step's machine state.
    pub fn with_state() -> Recorder {
        Recorder {
            state: true,
            ..Recorder::default()
        }
    }
}

impl Observer for Recorder {
    fn wants_state(&self) -> bool {
        self.state
    }

    fn step(&mut self, step: &Step<'_>) {
        self.steps.push(crate::trace::TraceStep::from(step));
    }

    fn precompile(&mut self, address: Address) {
        self.precompiles.push(address);
    }
}
