//! The fast path's view of the steps: one rolling 64-bit hash of everything the lockstep
//! comparator would compare, kept on every fuzzed case.
//!
//! Two backends whose step hashes differ executed differently somewhere, even when their
//! outcomes agree (a wrong intermediate gas or stack value that later instructions wash out);
//! only then is the case re-run in [`lockstep`](crate::lockstep) to find where. The hash costs
//! one pass over each step's stack (and over memory and return data after the steps that can
//! change them) and no allocation.
//!
//! The refund counter is left out: a backend that does not expose it (`evm`) would differ
//! from every backend that does. Refund differences still show in the outcome, and lockstep
//! compares the counters where both sides have them.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;

use crate::observe::{Flow, GasCost, Observer, Step};

/// A rolling hash of every step and its cost, in execution order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepHash {
    /// The hash so far.
    pub hash: u64,
    /// Steps seen.
    pub steps: u64,
    /// The previous step's opcode and depth (`None` before the first step).
    prev: Option<(u8, usize)>,
}

/// True when the contents of memory or return data may have changed since the previous step
/// `prev`: it wrote memory (MSTORE, MSTORE8, the copies, MCOPY), it was a call or create (the
/// callee's output lands in memory and the return data buffer), or the depth changed (a frame
/// returned to its caller, or a callee started with fresh memory). Only those steps hash the
/// contents; every step hashes their sizes. A content difference can only arise at such a
/// step, and every later content hash covers the whole memory, so nothing is missed, while a
/// memory-heavy program no longer hashes all of its memory at every instruction.
fn contents_may_change(prev: Option<(u8, usize)>, depth: usize) -> bool {
    match prev {
        None => true,
        Some((op, d)) => {
            d != depth
                || matches!(
                    op,
                    0x37 | 0x39
                        | 0x3c
                        | 0x3e
                        | 0x52
                        | 0x53
                        | 0x5e
                        | 0xf0
                        | 0xf1
                        | 0xf2
                        | 0xf4
                        | 0xf5
                        | 0xfa
                )
        }
    }
}

/// Fixed seed: the same steps hash the same in every process, so hashes can be compared
/// across runs and workers.
const STATE: FixedState = FixedState::with_seed(0x65766d64696666);

impl Observer for StepHash {
    fn wants_state(&self) -> bool {
        true
    }

    fn step(&mut self, s: &Step<'_>) -> Flow {
        let mut h = STATE.build_hasher();
        (self.hash, s.depth, s.pc, s.opcode, s.gas).hash(&mut h);
        if let Some(st) = &s.state {
            st.stack.hash(&mut h);
            h.write_usize(st.memory.len());
            h.write_usize(st.return_data.len());
            if contents_may_change(self.prev, s.depth) {
                h.write(st.memory);
                h.write(st.return_data);
            }
        }
        self.hash = h.finish();
        self.steps += 1;
        self.prev = Some((s.opcode, s.depth));
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        self.hash = STATE.hash_one((self.hash, gas_cost));
    }
}
