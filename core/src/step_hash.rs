//! The fast path's view of the steps: one rolling 64-bit hash of everything the lockstep
//! comparator would compare, kept on every fuzzed case.
//!
//! Two backends whose step hashes differ executed differently somewhere, even when their
//! outcomes agree (a wrong intermediate gas or stack value that later instructions wash out);
//! only then is the case re-run in [`lockstep`](crate::lockstep) to find where. After each
//! instruction the hash takes what it can have changed: the stack's length and the entries it
//! writes (the top, and a SWAP's other entry), and after an instruction that writes memory the
//! region it wrote; no allocation. A backend that writes the right value to the wrong stack
//! entry or memory region is caught when it is read (it reaches the top of a stack) or
//! reaches the outcome, not at the write; lockstep, which compares whole stacks and hashes all
//! of memory after every write, then names the step.
//!
//! The refund counter is left out: a backend that does not expose it (`evm`) would differ
//! from every backend that does. Refund differences still show in the outcome, and lockstep
//! compares the counters where both sides have them.

use std::hash::{BuildHasher, Hash, Hasher};

use alloy_primitives::U256;
use foldhash::fast::FixedState;

use crate::observe::{Flow, GasCost, Observer, Step};
use crate::opcode::{StackWritten, memory_written, stack_written};
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

/// Hashes `stack`'s length and the entries the previous instruction of the same frame
/// (`prev`) can have changed ([`stack_written`]); the whole stack at a frame's first step and
/// when the frame resumes after a call or create. Hashing every entry on every step was most
/// of the fast path's cost: a deep stack is hashed again after every instruction though one
/// entry changed.
fn hash_stack(h: &mut impl Hasher, stack: &[U256], prev: Option<(u8, usize)>) {
    h.write_usize(stack.len());
    match prev.map(|(op, _)| stack_written(op)) {
        Some(StackWritten::Top) => hash_entry(h, stack, 0),
        Some(StackWritten::TopAnd(n)) => {
            hash_entry(h, stack, 0);
            hash_entry(h, stack, n);
        }
        Some(StackWritten::All) | None => {
            for word in stack {
                hash_word(h, word);
            }
        }
    }
}

/// Hashes the `n`th entry below the top of `stack`, if there is one.
#[inline]
fn hash_entry(h: &mut impl Hasher, stack: &[U256], n: usize) {
    if let Some(i) = stack.len().checked_sub(n + 1) {
        hash_word(h, &stack[i]);
    }
}

#[inline]
fn hash_word(h: &mut impl Hasher, word: &U256) {
    for limb in word.as_limbs() {
        h.write_u64(*limb);
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
        let mut written = None;
        if let Some(st) = &s.state {
            let same_frame = self.prev.is_some_and(|(_, d)| d == s.depth);
            hash_stack(&mut h, st.stack, self.prev.filter(|_| same_frame));
            h.write_usize(st.memory.len());
            h.write_usize(st.return_data.len());
            if contents_may_change(self.prev, s.depth) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::StepState;
    use alloy_primitives::Address;

    /// The hash of steps `(opcode, stack)` at depth 1, each costing 3 gas.
    fn hash(steps: &[(u8, &[u64])]) -> u64 {
        let mut h = StepHash::default();
        for (pc, (op, stack)) in steps.iter().enumerate() {
            let stack: Vec<U256> = stack.iter().map(|v| U256::from(*v)).collect();
            let step = Step::new(1, pc, *op, 100 - 3 * pc as u64).with_state(StepState {
                stack: &stack,
                memory: &[],
                return_data: &[],
                address: Address::ZERO,
            });
            let _ = h.step(&step);
            h.step_end(Some(3));
        }
        h.hash
    }

    /// A value an instruction pushed, a SWAP's deep entry and the stack's length each change
    /// the hash, even when a later instruction drops the value; the same steps hash the same.
    #[test]
    fn every_written_stack_entry_reaches_the_hash() {
        // PUSH1 PUSH1 ADD POP STOP, the ADD's result 5 or 6.
        let add = |r| {
            hash(&[
                (0x60, &[]),
                (0x60, &[2]),
                (0x01, &[2, 3]),
                (0x50, &[r]),
                (0x00, &[]),
            ])
        };
        assert_eq!(add(5), add(5));
        assert_ne!(add(5), add(6));
        // SWAP3 on [1, 2, 3, 4] (top last) then POP: the deep entry is 4 or 5.
        let swap = |deep| {
            hash(&[
                (0x92, &[1, 2, 3, 4]),
                (0x50, &[deep, 2, 3, 1]),
                (0x00, &[deep, 2, 3]),
            ])
        };
        assert_ne!(swap(4), swap(5));
        // A POP that popped two entries.
        let pop = |rest: &'static [u64]| hash(&[(0x50, &[1, 2, 3]), (0x00, rest)]);
        assert_ne!(pop(&[1, 2]), pop(&[1]));
    }
}
