//! Watching an execution from the inside: every executed instruction and every precompile
//! actually called, in one canonical shape whatever the backend.
//!
//! An [`Observer`] is handed to [`Backend::execute_observed`](crate::Backend::execute_observed);
//! the plain [`Backend::execute`](crate::Backend::execute) never sees one and pays nothing for
//! this module. Coverage measurement (which opcodes and precompiles generated programs really
//! execute) is the first user; per-step trace comparison between backends can be built on the
//! same hook.

use alloy_primitives::Address;

/// One executed instruction, reported *before* it executes.
///
/// The fields are those of an EIP-3155 trace line that every backend can give cheaply. The
/// struct is `non_exhaustive` so that the stack, memory size or refund counter can be added
/// later without breaking observers; such costlier fields would be captured only when an
/// observer asks for them, so that counting opcodes stays cheap. Build one with
/// [`Step::new`].
///
/// Only instructions that are in the code are steps: the implicit STOP of running past the
/// end of the code is not reported (revm executes a padding byte there, evm does not
/// evaluate anything), so every backend reports the same steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Step {
    /// Call depth of the executing frame: the transaction's own frame is 1 (as in EIP-3155).
    pub depth: usize,
    /// Offset of the instruction in its frame's code.
    pub pc: usize,
    /// The opcode byte at `pc`.
    pub opcode: u8,
    /// Gas remaining in the frame before the instruction is charged.
    pub gas: u64,
}

impl Step {
    /// A step with every field given.
    pub fn new(depth: usize, pc: usize, opcode: u8, gas: u64) -> Step {
        Step {
            depth,
            pc,
            opcode,
            gas,
        }
    }
}

/// Receives what an observed execution does. Every method does nothing by default, so an
/// observer implements only what it needs.
pub trait Observer {
    /// Called before each executed instruction, at every depth, in execution order.
    fn step(&mut self, step: &Step) {
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

/// An observer that keeps everything, in order: for tests and small traces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorder {
    /// Every step, in execution order.
    pub steps: Vec<Step>,
    /// Every precompile call, in execution order.
    pub precompiles: Vec<Address>,
}

impl Observer for Recorder {
    fn step(&mut self, step: &Step) {
        self.steps.push(*step);
    }

    fn precompile(&mut self, address: Address) {
        self.precompiles.push(address);
    }
}
