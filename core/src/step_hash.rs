//! The fast path's view of the steps: one rolling 64-bit hash of everything the lockstep
//! comparator would compare, kept on every fuzzed case.
//!
//! Two backends whose step hashes differ executed differently somewhere, even when their
//! outcomes agree (a wrong intermediate gas or stack value that later instructions wash out);
//! only then is the case re-run in [`lockstep`](crate::lockstep) to find where. After each
//! instruction the hash takes what it can have changed: the stack's length and the entries it
//! writes (the top, and a SWAP's other entry); after an instruction that writes memory the
//! region it wrote, and when a caller resumes the region it lent for the callee's output; the
//! return data after a call or create; no allocation. A backend that writes the right value to the wrong stack
//! entry or memory region is caught when it is read (it reaches the top of a stack) or
//! reaches the outcome, not at the write; lockstep, which compares whole stacks and hashes all
//! of memory after every write, then names the step.
//!
//! The refund counter is left out: a backend that does not expose it (`evm`) would differ
//! from every backend that does. Refund differences still show in the outcome, and lockstep
//! compares the counters where both sides have them.

use std::hash::BuildHasher;

use alloy_primitives::U256;
use foldhash::fast::FixedState;

use crate::observe::{Flow, GasCost, Observer, Step};
use crate::opcode::{StackWritten, memory_written, sets_return_data, stack_written};
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
    /// hashed at a frame's first step, after a create that ran no code, and wherever no
    /// region is known.
    written: Option<(usize, usize)>,
    /// `returns[d - 1]`: the region of its memory the frame at depth `d` lent its running call
    /// for the callee's output (empty for a create, whose output is code): all that can differ
    /// in that memory when the frame resumes. Hashing the whole memory there instead was most
    /// of the fast path's memory hashing (a caller's memory after each return, 9.6 KB on
    /// average over generated cases). Frames deeper than this keep none and hash it all.
    returns: [Option<(u32, u32)>; RETURN_DEPTHS],
}

/// The depths whose call's return region a [`StepHash`] keeps; generated programs rarely
/// call deeper.
const RETURN_DEPTHS: usize = 16;

/// One round of the rolling hash: foldhash's folded multiply (the 128-bit product's halves
/// xored) of the hash so far and the next word. A step takes one round per word, about ten,
/// where hashing it through `Hasher` (a hasher built, every field written, finished, and the
/// cost hashed again) took about 200 instructions, on every step of every backend.
#[inline(always)]
fn mix(h: u64, word: u64) -> u64 {
    /// An odd constant with its bits well spread (the fractional part of the golden ratio).
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let product = u128::from(h ^ word) * u128::from(K);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The rolling hash of `h` and `stack`'s entries the previous instruction of the same frame
/// (`prev`) can have changed ([`stack_written`]); the whole stack at a frame's first step and
/// when the frame resumes after a call or create. Hashing every entry on every step was most
/// of the fast path's cost: a deep stack is hashed again after every instruction though one
/// entry changed.
#[inline]
fn hash_stack(mut h: u64, stack: &[U256], prev: Option<(u8, usize)>) -> u64 {
    match prev.map(|(op, _)| stack_written(op)) {
        Some(StackWritten::Top) => hash_entry(h, stack, 0),
        Some(StackWritten::TopAnd(n)) => hash_entry(hash_entry(h, stack, 0), stack, n),
        Some(StackWritten::All) | None => {
            for word in stack {
                h = hash_word(h, word);
            }
            h
        }
    }
}

/// `h` and the `n`th entry below the top of `stack`, if there is one.
#[inline]
fn hash_entry(h: u64, stack: &[U256], n: usize) -> u64 {
    match stack.len().checked_sub(n + 1) {
        Some(i) => hash_word(h, &stack[i]),
        None => h,
    }
}

#[inline]
fn hash_word(h: u64, word: &U256) -> u64 {
    word.as_limbs().iter().fold(h, |h, limb| mix(h, *limb))
}

/// Fixed seed for byte strings: the same steps hash the same in every process, so hashes can
/// be compared across runs and workers.
const STATE: FixedState = FixedState::with_seed(0x65766d64696666);

/// `h` and the bytes `b` (their length included).
#[inline]
fn hash_bytes(h: u64, b: &[u8]) -> u64 {
    mix(h, STATE.hash_one(b))
}

/// A step's position in one word: its pc (below 2^34), opcode, stack length (at most 1024)
/// and depth (at most 1025), each in bits of its own, so that two different steps give two
/// different words.
#[inline]
fn position(pc: usize, opcode: u8, stack_len: usize, depth: usize) -> u64 {
    (pc as u64 & ((1 << 34) - 1))
        | u64::from(opcode) << 34
        | (stack_len as u64 & 0x7ff) << 42
        | (depth as u64 & 0x7ff) << 53
}

/// The cost word of a step that reports none: no cost is this large (gas fits in 63 bits).
const NO_COST: u64 = u64::MAX;

impl StepHash {
    /// A callee's first step: the frame at depth `caller`, whose last step was `op`, lent
    /// the region `written` then named for the callee's output (none for a create).
    #[inline]
    fn entered(&mut self, caller: usize, op: u8) {
        if let Some(slot) = caller.checked_sub(1).and_then(|i| self.returns.get_mut(i)) {
            *slot = if matches!(op, 0xf0 | 0xf5) {
                Some((0, 0))
            } else {
                self.written.and_then(|(offset, len)| {
                    u32::try_from(offset).ok().zip(u32::try_from(len).ok())
                })
            };
        }
    }

    /// The return region of the call the frame at `depth` resumes after, when known.
    #[inline]
    fn returned(&self, depth: usize) -> Option<(usize, usize)> {
        let (offset, len) = (*self.returns.get(depth.checked_sub(1)?)?)?;
        Some((offset as usize, len as usize))
    }
}

impl Observer for StepHash {
    fn wants_state(&self) -> bool {
        true
    }

    #[inline]
    fn step(&mut self, s: &Step<'_>) -> Flow {
        let stack_len = s.state.as_ref().map_or(0, |st| st.stack.len());
        let mut h = mix(self.hash, position(s.pc, s.opcode, stack_len, s.depth));
        h = mix(h, s.gas);
        let mut written = None;
        if let Some(st) = &s.state {
            let same_frame = self.prev.is_some_and(|(_, d)| d == s.depth);
            h = hash_stack(h, st.stack, self.prev.filter(|_| same_frame));
            // Memory grows in words and return data is bounded by memory: each fits in 32
            // bits wherever gas is finite.
            h = mix(
                h,
                st.memory.len() as u64 | (st.return_data.len() as u64) << 32,
            );
            if contents_may_change(self.prev, s.depth) {
                // The region that can have changed: what the previous instruction of this
                // frame wrote, or the return region of the call it resumes after; the whole
                // memory at a frame's first step (empty) or where no region is known.
                let region = match self.prev {
                    Some((_, d)) if d == s.depth => self.written,
                    Some((_, d)) if d > s.depth => self.returned(s.depth),
                    _ => None,
                };
                h = match region {
                    Some((offset, len)) => {
                        let end = offset.saturating_add(len).min(st.memory.len());
                        hash_bytes(h, &st.memory[offset.min(end)..end])
                    }
                    None => hash_bytes(h, st.memory),
                };
                if !same_frame || self.prev.is_some_and(|(op, _)| sets_return_data(op)) {
                    h = hash_bytes(h, st.return_data);
                }
            }
            if let Some((op, d)) = self.prev
                && s.depth > d
            {
                self.entered(d, op);
            }
            // A region that does not fit in memory belongs to an instruction that fails.
            written = memory_written(s.opcode, st.stack).and_then(|(offset, len)| {
                Some((usize::try_from(offset).ok()?, usize::try_from(len).ok()?))
            });
        }
        self.hash = h;
        self.steps += 1;
        self.prev = Some((s.opcode, s.depth));
        self.written = written;
        Flow::Continue(())
    }

    #[inline]
    fn step_end(&mut self, gas_cost: GasCost) {
        self.hash = mix(self.hash, gas_cost.unwrap_or(NO_COST));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::StepState;
    use alloy_primitives::Address;

    /// The hash of steps `(opcode, stack)` at depth 1, each costing 3 gas.
    fn hash(steps: &[(u8, &[u64])]) -> u64 {
        let steps: Vec<(usize, u8, &[u64], &[u8])> = steps
            .iter()
            .map(|(op, stack)| (1, *op, *stack, &[][..]))
            .collect();
        hash_frames(&steps)
    }

    /// The hash of steps `(depth, opcode, stack, memory)`, each costing 3 gas.
    fn hash_frames(steps: &[(usize, u8, &[u64], &[u8])]) -> u64 {
        let mut h = StepHash::default();
        for (pc, (depth, op, stack, memory)) in steps.iter().enumerate() {
            let stack: Vec<U256> = stack.iter().map(|v| U256::from(*v)).collect();
            let step = Step::new(*depth, pc, *op, 100 - 3 * pc as u64).with_state(StepState {
                stack: &stack,
                memory,
                return_data: &[],
                address: Address::ZERO,
            });
            let _ = h.step(&step);
            h.step_end(Some(3));
        }
        h.hash
    }

    /// When a caller resumes, the region it lent for the callee's output reaches the hash: a
    /// CALL (retOffset 0, retSize 2) into a callee of one step, then the caller's next step
    /// with its memory's first bytes as the callee left them. A callee at the depth limit of
    /// the kept regions and deeper ones hash the caller's whole memory, and differ as well.
    #[test]
    fn a_callers_return_region_reaches_the_hash() {
        // CALL's operands, bottom first: retSize 2, retOffset 0, argsSize, argsOffset, value,
        // address 9, gas 100.
        let call: &[u64] = &[2, 0, 0, 0, 0, 9, 100];
        let resumed = |depth: usize, out: &'static [u8]| {
            hash_frames(&[
                (depth, 0xf1, call, &[0; 4]),
                (depth + 1, 0x00, &[], &[]),
                (depth, 0x00, &[1], out),
            ])
        };
        for depth in [1, RETURN_DEPTHS, RETURN_DEPTHS + 1] {
            assert_eq!(resumed(depth, &[7, 7, 0, 0]), resumed(depth, &[7, 7, 0, 0]));
            assert_ne!(resumed(depth, &[7, 7, 0, 0]), resumed(depth, &[7, 8, 0, 0]));
        }
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
