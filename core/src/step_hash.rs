//! The fast path's view of the steps: one rolling 64-bit hash of everything the lockstep
//! comparator would compare, kept on every fuzzed case.
//!
//! Two backends whose step hashes differ executed differently somewhere, even when their
//! outcomes agree (a wrong intermediate gas or stack value that later instructions wash out);
//! only then is the case re-run in [`lockstep`](crate::lockstep) to find where. The hash costs
//! one pass over each step's stack and, after an instruction that writes memory, over the
//! region it wrote; no allocation. A backend that writes the right bytes to the wrong place
//! is caught when they are read (they reach a stack) or reach the outcome, not at the write;
//! lockstep, which hashes all of memory after every write, then names the step.
//!
//! The refund counter is left out: a backend that does not expose it (`evm`) would differ
//! from every backend that does. Refund differences still show in the outcome, and lockstep
//! compares the counters where both sides have them.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;

use crate::observe::{Flow, GasCost, Observer, Step};
use crate::opcode::memory_written;
use crate::trace::contents_may_change;

/// A rolling hash of every step and its cost, in execution order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepHash {
    /// The hash so far.
    pub hash: u64,
    /// Steps seen.
    pub steps: u64,
    /// The previous step's opcode and depth (`None` before the first step): only steps after
    /// which memory and return data may have changed ([`contents_may_change`]) hash their
    /// contents; every step hashes their sizes.
    prev: Option<(u8, usize)>,
    /// The memory region the previous step's instruction writes in its own frame (MSTORE,
    /// MSTORE8, the copies, MCOPY, a call's return region), read from its stack operands.
    /// After such a step only that region is hashed, not all of memory: a memory-heavy
    /// program would otherwise hash its whole memory after every MSTORE. The whole memory is
    /// hashed when the depth changes and after a create.
    written: Option<(usize, usize)>,
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
        let mut written = None;
        if let Some(st) = &s.state {
            st.stack.hash(&mut h);
            h.write_usize(st.memory.len());
            h.write_usize(st.return_data.len());
            if contents_may_change(self.prev, s.depth) {
                let same_frame = self.prev.is_some_and(|(_, d)| d == s.depth);
                match self.written {
                    Some((offset, len)) if same_frame => {
                        let end = offset.saturating_add(len).min(st.memory.len());
                        h.write(&st.memory[offset.min(end)..end]);
                    }
                    _ => h.write(st.memory),
                }
                h.write(st.return_data);
            }
            // A region that does not fit in memory belongs to an instruction that fails.
            written = memory_written(s.opcode, st.stack).and_then(|(offset, len)| {
                Some((usize::try_from(offset).ok()?, usize::try_from(len).ok()?))
            });
        }
        self.hash = h.finish();
        self.steps += 1;
        self.prev = Some((s.opcode, s.depth));
        self.written = written;
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        self.hash = STATE.hash_one((self.hash, gas_cost));
    }
}
