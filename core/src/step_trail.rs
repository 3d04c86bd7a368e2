//! The fast path's step hash, kept after every step: where two backends' trails part bounds
//! the step at which localization has to look.
//!
//! A divergent case is localized by running its two backends again
//! ([`first_difference`](crate::localize::first_difference)). Without a hint, the left one
//! runs to its end (or a step limit) and the right one against it; then both run again up to
//! the difference, to record the steps a report shows: four executions. The fast path has
//! already run both with a [`StepHash`]; kept after every step (8 bytes a step), the two
//! hashes' first difference says how far the executions agree at most. Every field the step
//! hash reads is one lockstep compares, so lockstep's first difference is at or before that
//! step. Localization then runs each backend once, up to that step, comparing and recording
//! together. A bound that turns out wrong (a backend that does not repeat itself) only costs
//! time: localization then looks without one.

use crate::observe::{Flow, GasCost, Observer, Step};
use crate::step_hash::StepHash;

/// Steps whose hashes a trail keeps: as many as localization ever compares
/// ([`LAST_LIMIT`](crate::localize::LAST_LIMIT)), 8 MB.
pub const TRAIL_LIMIT: usize = crate::localize::LAST_LIMIT;

/// A [`StepHash`] and its value after each of the first [`TRAIL_LIMIT`] steps.
#[derive(Debug, Clone, Default)]
pub struct StepTrail {
    /// The rolling hash, as the fast path compares it.
    pub hash: StepHash,
    /// `trail[i]`: the hash once step `i` is hashed (its cost comes into `trail[i + 1]`).
    trail: Vec<u64>,
}

impl StepTrail {
    /// An empty trail with room for `steps` steps (a generated case's execution takes a few
    /// hundred to a few thousand).
    pub fn with_capacity(steps: usize) -> Self {
        StepTrail {
            hash: StepHash::default(),
            trail: Vec::with_capacity(steps.min(TRAIL_LIMIT)),
        }
    }

    /// The first step at which lockstep would find `self`'s and `other`'s executions
    /// different, at the latest, when their hashes show they differ; `None` when the hashes
    /// agree, or part only past what the trails keep.
    pub fn parting(&self, other: &StepTrail) -> Option<usize> {
        let (a, b) = (&self.trail, &other.trail);
        let n = a.len().min(b.len());
        if let Some(i) = (0..n).find(|&i| a[i] != b[i]) {
            return Some(i);
        }
        let kept_all = |t: &StepTrail| t.trail.len() as u64 == t.hash.steps;
        if !(kept_all(self) && kept_all(other)) {
            return None;
        }
        if a.len() != b.len() {
            // One of them has a step `n` and the other has not.
            return Some(n);
        }
        // Every step agrees but the last one's cost.
        (self.hash != other.hash)
            .then(|| n.checked_sub(1))
            .flatten()
    }
}

impl Observer for StepTrail {
    fn wants_state(&self) -> bool {
        self.hash.wants_state()
    }

    fn step(&mut self, s: &Step<'_>) -> Flow {
        let flow = self.hash.step(s);
        if self.trail.len() < TRAIL_LIMIT {
            self.trail.push(self.hash.hash);
        }
        flow
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        self.hash.step_end(gas_cost);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::StepState;
    use alloy_primitives::{Address, U256};

    /// The trail of steps `(opcode, stack top, cost)` at depth 1.
    fn trail(steps: &[(u8, u64, u64)]) -> StepTrail {
        let mut t = StepTrail::default();
        let mut gas = 1000;
        for (pc, &(op, top, cost)) in steps.iter().enumerate() {
            let stack = [U256::from(top)];
            let step = Step::new(1, pc, op, gas).with_state(StepState {
                stack: &stack,
                memory: &[],
                return_data: &[],
                address: Address::ZERO,
            });
            let _ = t.step(&step);
            t.step_end(Some(cost));
            gas -= cost;
        }
        t
    }

    /// The trails part at the first step whose hashed fields differ, at the step one of them
    /// lacks, or at the last step when only its cost differs; not at all when they agree.
    #[test]
    fn trails_part_where_the_steps_first_differ() {
        let base = [(0x60, 1, 3), (0x60, 2, 3), (0x01, 3, 3), (0x00, 3, 0)];
        let same = trail(&base);
        assert_eq!(trail(&base).parting(&same), None);
        let mut top = base;
        top[2].1 = 4;
        assert_eq!(trail(&top).parting(&same), Some(2));
        // A different cost shows in the next step's gas.
        let mut cost = base;
        cost[1].2 = 5;
        assert_eq!(trail(&cost).parting(&same), Some(2));
        let mut last = base;
        last[3].2 = 1;
        assert_eq!(trail(&last).parting(&same), Some(3));
        assert_eq!(trail(&base[..3]).parting(&same), Some(3));
        assert_eq!(same.parting(&trail(&base[..3])), Some(3));
    }
}
