//! Localization in one thread: the first step at which two backends' executions of one case
//! part, found by running them one after the other. What the fuzzing campaign uses on every
//! divergent case.
//!
//! [`lockstep`](crate::lockstep) runs both backends at once, in two threads, and compares
//! their steps as they come. On a campaign's divergent cases that costs more in thread starts,
//! hand-offs and wake-ups than in executing: most differences come within a few hundred
//! steps, and on a campaign that uses every core the two threads only compete with the other
//! workers. Here each step is kept as a fixed-size [`Mark`] (what lockstep compares, the
//! stack hashed whole, no allocation): the left backend runs up to a step limit keeping its
//! marks, then the right one runs against them and stops at the first mark that differs; the
//! limit grows fourfold until the two part or both end, so a difference early in a long
//! execution costs a few thousand steps, not the whole execution (past [`LAST_LIMIT`]
//! steps, lockstep takes over). Only then are the steps a
//! report shows (the differing one and up to [`CONTEXT`] before it) recorded whole, by
//! running both again up to that step.
//!
//! The result is lockstep's, field for field (a test compares the two on every stepping
//! backend and on planted bugs). Should the steps recorded again not differ where the marks
//! did (a 64-bit hash collision, or a backend that does not repeat itself), lockstep decides.

use std::hash::{BuildHasher, Hash, Hasher};

use foldhash::fast::FixedState;

use crate::backend::{Backend, BackendError};
use crate::case::{At, Case};
use crate::lockstep::{CONTEXT, StepDifference, lockstep, observe};
use crate::observe::{Flow, GasCost, Observer, Step};
use crate::profile::Profile;
use crate::trace::{Contents, TraceStep, contents_hashes};

/// Steps the left backend runs in the first round; each further round runs four times as
/// many.
pub const FIRST_LIMIT: usize = 4096;

/// The last round's limit: 1,048,576 steps, whose marks take 80 MB. Executions that agree
/// for longer are left to [`lockstep`], whose memory does not grow with the steps.
pub const LAST_LIMIT: usize = FIRST_LIMIT << 8;

/// The first step at which `left` and `right` execute `case` differently under `profile`, or
/// `None` when every step is the same: what [`lockstep`] returns, computed in the calling
/// thread (see the module's documentation). An error when a backend failed before its steps
/// could be compared to the end.
pub fn first_difference(
    left: &mut dyn Backend,
    right: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
) -> Result<Option<StepDifference>, BackendError> {
    first_difference_within(left, right, case, profile, None)
}

/// [`first_difference`], told that the two part at step `bound` or before
/// ([`StepTrail::parting`](crate::step_trail::StepTrail::parting) of their fast-path runs).
/// Each backend then runs once, up to that step, keeping its marks and recording the steps
/// a report shows around it: two executions, where without a bound there are four. A bound
/// the executions do not bear out is dropped, and the answer is the same.
pub fn first_difference_within(
    left: &mut dyn Backend,
    right: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    bound: Option<usize>,
) -> Result<Option<StepDifference>, BackendError> {
    let bounded = bound
        .filter(|&k| k < LAST_LIMIT)
        .and_then(|k| bounded_round(left, right, case, profile, k));
    let (index, recorded) = match bounded {
        Some((index, recorded)) => (index, Some(recorded)),
        None => match rounds(left, right, case, profile)? {
            Rounds::Parted(index) => (index, None),
            Rounds::Same => return Ok(None),
            Rounds::TooLong => return lockstep(left, right, case, profile),
        },
    };
    let from = index.saturating_sub(CONTEXT);
    let (mut before, mut right_steps) = match recorded.and_then(|r| r.covering(from, index)) {
        Some(steps) => steps,
        None => (
            window(left, case, profile, from, index),
            window(right, case, profile, index, index),
        ),
    };
    let left_step = (before.len() == index - from + 1)
        .then(|| before.pop())
        .flatten();
    let right_step = right_steps.pop();
    let fields = match (&left_step, &right_step) {
        (Some(x), Some(y)) => x.differing_fields(y),
        (None, None) => Vec::new(),
        _ => vec!["end"],
    };
    if fields.is_empty() || before.len() != index - from {
        // The steps recorded again do not show what the marks saw.
        return lockstep(left, right, case, profile);
    }
    Ok(Some(StepDifference::new(
        index, fields, left_step, right_step, before,
    )))
}

/// What the rounds of marks found.
enum Rounds {
    /// The first step that differs.
    Parted(usize),
    /// Every step is the same.
    Same,
    /// The two agree past [`LAST_LIMIT`] steps.
    TooLong,
}

/// The left backend runs up to a limit keeping its marks, the right one against them; the
/// limit grows fourfold until they part or both end.
fn rounds(
    left: &mut dyn Backend,
    right: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
) -> Result<Rounds, BackendError> {
    let mut limit = FIRST_LIMIT;
    loop {
        let mut l = Marker::new(limit, None);
        let l_result = observe(left, case, profile, &mut l);
        let mut r = Marker::new(limit, Some(l.against()));
        let r_result = observe(right, case, profile, &mut r);
        match r.finish() {
            Some(index) => return Ok(Rounds::Parted(index)),
            None if r.truncated && limit < LAST_LIMIT => limit *= 4,
            None if r.truncated => return Ok(Rounds::TooLong),
            None => {
                l_result?;
                r_result?;
                return Ok(Rounds::Same);
            }
        }
    }
}

/// One round up to step `bound`, both backends also recording whole the steps a report of a
/// difference at or up to [`CONTEXT`] steps before `bound` shows: the first differing step
/// and those records, or `None` when the two agree up to `bound`.
fn bounded_round(
    left: &mut dyn Backend,
    right: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    bound: usize,
) -> Option<(usize, Recorded)> {
    let from = bound.saturating_sub(2 * CONTEXT);
    let mut l = Marker::new(bound + 1, None).recording(from);
    let _ = observe(left, case, profile, &mut l);
    let mut r = Marker::new(bound + 1, Some(l.against())).recording(from);
    let _ = observe(right, case, profile, &mut r);
    let index = r.finish()?;
    let right = r.recorded;
    Some((
        index,
        Recorded {
            from,
            to: bound,
            left: l.recorded,
            right,
        },
    ))
}

/// Steps both backends recorded whole from step `from` on, in a bounded round.
struct Recorded {
    from: usize,
    /// The last step recorded (the bound).
    to: usize,
    left: Vec<TraceStep>,
    right: Vec<TraceStep>,
}

impl Recorded {
    /// What [`window`] would record again: the left backend's steps `from..=to` and the right
    /// one's step `to`, if the round recorded that far back.
    fn covering(self, from: usize, to: usize) -> Option<(Vec<TraceStep>, Vec<TraceStep>)> {
        let start = from.checked_sub(self.from)?;
        if to > self.to {
            return None;
        }
        let slice = |steps: Vec<TraceStep>, start: usize| {
            let end = steps.len().min(to + 1 - self.from);
            steps.into_iter().take(end).skip(start).collect::<Vec<_>>()
        };
        Some((slice(self.left, start), slice(self.right, to - self.from)))
    }
}

/// Steps `from..=to` of `backend`'s execution of `case`, recorded whole (fewer when it ends
/// before `to`); the execution is stopped after step `to`. A failure ends the steps, as it
/// ends a lockstep stream.
fn window(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    from: usize,
    to: usize,
) -> Vec<TraceStep> {
    let mut w = Window {
        from,
        to,
        next: 0,
        cursor: Cursor::default(),
        steps: Vec::with_capacity(to + 1 - from),
    };
    let _ = observe(backend, case, profile, &mut w);
    w.steps
}

/// Where an observer is in the execution: the transaction, the previous step's contents
/// hashes, and whether the last step it kept still waits for its cost.
#[derive(Default)]
struct Cursor {
    at: Option<At>,
    prev: Contents,
    /// The last step kept still waits for its cost ([`Observer::step_end`]).
    open: bool,
}

impl Cursor {
    fn transaction(&mut self, at: At) {
        self.at = Some(at);
        self.prev = None;
    }

    /// `step` recorded whole, its memory and return data hashing as given, in this
    /// transaction.
    fn whole(&self, step: &Step<'_>, memory_hash: u64, return_data_hash: u64) -> TraceStep {
        let mut t = TraceStep::with_contents(step, memory_hash, return_data_hash);
        t.at = self.at;
        t
    }

    /// `last`, the last step kept, if the cost now reported is its own.
    fn costed<'a, T>(&mut self, last: Option<&'a mut T>) -> Option<&'a mut T> {
        std::mem::take(&mut self.open).then_some(last).flatten()
    }
}

/// One step as lockstep compares it, in a fixed size: the fields compared exactly hashed
/// together, those compared only where both backends report them kept apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mark {
    /// The transaction, depth, pc, opcode, gas, whole stack and memory size, hashed.
    core: u64,
    gas_cost: GasCost,
    refund: Option<i64>,
    /// The memory's hash, `None` when the backend left it out.
    memory: Option<u64>,
    /// The return data's size and hash, `None` when the backend left it out.
    return_data: Option<(usize, u64)>,
}

impl Mark {
    /// Whether lockstep would find the two steps equal ([`TraceStep::differing_fields`]).
    fn agrees(&self, other: &Mark) -> bool {
        fn differ<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
            matches!((a, b), (Some(x), Some(y)) if x != y)
        }
        self.core == other.core
            && self.gas_cost == other.gas_cost
            && !differ(self.refund, other.refund)
            && !differ(self.memory, other.memory)
            && !differ(self.return_data, other.return_data)
    }
}

/// Fixed seed: a mark of one backend is compared with a mark of another.
const STATE: FixedState = FixedState::with_seed(0x6c6f63616c697a65);

/// The left backend's marks, as the right one is compared with them.
struct Against<'a> {
    marks: &'a [Mark],
    /// Whether they are all its steps (it ended before the limit).
    ended: bool,
}

/// Keeps the marks of an execution's first `limit` steps; against the left backend's marks,
/// stops at the first step that differs.
struct Marker<'a> {
    marks: Vec<Mark>,
    limit: usize,
    against: Option<Against<'a>>,
    /// Stopped at the limit (or, against marks that stop at it, at their end).
    truncated: bool,
    /// The first step that differs, once seen.
    found: Option<usize>,
    cursor: Cursor,
    /// Record steps whole from this one on (a bounded round).
    record_from: Option<usize>,
    /// The steps recorded whole.
    recorded: Vec<TraceStep>,
    /// The last step recorded still waits for its cost.
    record_open: bool,
}

impl<'a> Marker<'a> {
    fn new(limit: usize, against: Option<Against<'a>>) -> Self {
        Marker {
            marks: Vec::with_capacity(limit.min(FIRST_LIMIT)),
            limit,
            against,
            truncated: false,
            found: None,
            cursor: Cursor::default(),
            record_from: None,
            recorded: Vec::new(),
            record_open: false,
        }
    }

    /// The same marker, also recording steps whole from step `from` on.
    fn recording(self, from: usize) -> Self {
        Marker {
            record_from: Some(from),
            recorded: Vec::with_capacity(self.limit.saturating_sub(from).min(4 * CONTEXT)),
            ..self
        }
    }

    /// Its marks, to compare the right backend with.
    fn against(&self) -> Against<'_> {
        Against {
            marks: &self.marks,
            ended: !self.truncated,
        }
    }

    /// Whether mark `i` differs from the left backend's (which has it).
    fn differs(&self, i: usize) -> bool {
        self.against
            .as_ref()
            .is_some_and(|a| !self.marks[i].agrees(&a.marks[i]))
    }

    /// After the execution: the first step that differs from the left backend's, including
    /// the last one and an end that comes at a different step.
    fn finish(&mut self) -> Option<usize> {
        if self.found.is_some() || self.truncated {
            return self.found;
        }
        let against = self.against.as_ref()?;
        let n = self.marks.len();
        if n > 0 && n <= against.marks.len() && self.differs(n - 1) {
            return Some(n - 1);
        }
        // This one ended at step `n`: so did the left one, or not.
        (n < against.marks.len() || (n == against.marks.len() && !against.ended)).then_some(n)
    }

    /// The mark of `step`, whose memory and return data hash as given.
    fn mark(&self, step: &Step<'_>, memory_hash: u64, return_data_hash: u64) -> Mark {
        let mut h = STATE.build_hasher();
        self.cursor.at.hash(&mut h);
        h.write_usize(step.depth);
        h.write_usize(step.pc);
        h.write_u8(step.opcode);
        h.write_u64(step.gas);
        let return_data_size = match &step.state {
            Some(st) => {
                h.write_usize(st.stack.len());
                for word in st.stack {
                    for limb in word.as_limbs() {
                        h.write_u64(*limb);
                    }
                }
                h.write_usize(st.memory.len());
                st.return_data.len()
            }
            None => {
                h.write_usize(0);
                h.write_usize(0);
                0
            }
        };
        Mark {
            core: h.finish(),
            gas_cost: None,
            refund: step.refund,
            memory: (!step.omitted.memory).then_some(memory_hash),
            return_data: (!step.omitted.return_data)
                .then_some((return_data_size, return_data_hash)),
        }
    }
}

impl Observer for Marker<'_> {
    fn wants_state(&self) -> bool {
        true
    }

    fn transaction(&mut self, at: At) {
        self.cursor.transaction(at);
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.cursor.open = false;
        self.record_open = false;
        let i = self.marks.len();
        if self.found.is_some() || self.truncated {
            return Flow::Break(());
        }
        // The previous step is complete now, its cost known.
        if i > 0 && self.differs(i - 1) {
            self.found = Some(i - 1);
            return Flow::Break(());
        }
        // Whether the left backend has no step `i` because it ended (else it was stopped).
        let left_lacks = self
            .against
            .as_ref()
            .and_then(|a| (i >= a.marks.len()).then_some(a.ended));
        if left_lacks == Some(false) {
            self.truncated = true;
            return Flow::Break(());
        }
        if i >= self.limit {
            self.truncated = true;
            return Flow::Break(());
        }
        let (memory_hash, return_data_hash) = contents_hashes(&mut self.cursor.prev, step);
        let record = self.record_from.is_some_and(|from| i >= from);
        if record {
            let whole = self.cursor.whole(step, memory_hash, return_data_hash);
            self.recorded.push(whole);
            self.record_open = true;
        }
        if left_lacks == Some(true) {
            // The left backend ended before this step: here they part. A step recorded for
            // the report runs on to its cost.
            self.found = Some(i);
            return if record {
                Flow::Continue(())
            } else {
                Flow::Break(())
            };
        }
        let mark = self.mark(step, memory_hash, return_data_hash);
        self.marks.push(mark);
        self.cursor.open = true;
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        if let Some(m) = self.cursor.costed(self.marks.last_mut()) {
            m.gas_cost = gas_cost;
        }
        if std::mem::take(&mut self.record_open)
            && let Some(t) = self.recorded.last_mut()
        {
            t.gas_cost = gas_cost;
        }
    }
}

/// Records steps `from..=to` whole and stops the execution after step `to`.
struct Window {
    from: usize,
    to: usize,
    /// The index of the next step.
    next: usize,
    cursor: Cursor,
    steps: Vec<TraceStep>,
}

impl Observer for Window {
    fn wants_state(&self) -> bool {
        true
    }

    fn transaction(&mut self, at: At) {
        self.cursor.transaction(at);
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.cursor.open = false;
        let i = self.next;
        if i > self.to {
            return Flow::Break(());
        }
        self.next += 1;
        // Every step's, as lockstep's hashes of a step depend on the steps before it.
        let (m, r) = contents_hashes(&mut self.cursor.prev, step);
        if i >= self.from {
            self.steps.push(self.cursor.whole(step, m, r));
            self.cursor.open = true;
        }
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        if let Some(s) = self.cursor.costed(self.steps.last_mut()) {
            s.gas_cost = gas_cost;
        }
    }
}
