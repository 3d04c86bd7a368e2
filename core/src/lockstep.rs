//! Lockstep: two backends execute one case side by side, in their own threads, and a
//! comparator consumes their step streams in order, stopping both at the first step at which
//! they part.
//!
//! Two outcomes that differ say *that* the backends disagree; the first differing step says
//! *where*: the instruction after which their machine states (stack, memory, gas, control
//! flow) are no longer equal. That instruction is what identifies a bug across the many
//! programs that hit it, so it is what a [`Signature`](../../evmdiff_triage) is built from.
//!
//! Each backend's observer turns its steps into owned [`TraceStep`]s and sends them, in
//! batches of [`BATCH`], over a bounded crossbeam channel, so a backend runs at most
//! [`BOUND`] batches ahead of the comparator and memory stays flat however long the
//! execution. At the first difference the
//! comparator raises a shared flag and hangs up; each observer then breaks
//! ([`Flow::Break`]) and its backend halts every frame at its next instruction. Since nothing
//! after the difference is computed, lockstep costs about one traced execution per backend,
//! run in parallel.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::backend::{Backend, BackendError};
use crate::case::{At, Case};
use crate::observe::{Flow, GasCost, Observer, Step};
use crate::profile::Profile;
use crate::trace::{Contents, TraceStep, contents_hashes, op_name};

/// Steps kept before the first differing one, for the report.
pub const CONTEXT: usize = 4;

/// Where two backends' executions of one case part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDifference {
    /// Index of the first differing step (0-based, counting every step at every depth of
    /// every transaction).
    pub index: usize,
    /// The transaction that step belongs to (the left backend's, unless its steps had ended),
    /// when the case is a chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<At>,
    /// The last instruction both executed identically, whose effects differ: `None` when the
    /// very first step already differs (intrinsic gas, or the first frame's setup).
    pub after: Option<String>,
    /// The step fields that differ (`depth`, `pc`, `opcode`, `gas`, `gas_cost`, `refund`,
    /// `stack`, `memory_size`, `memory`, `return_data`), or `end` when one execution has no
    /// step there.
    pub fields: Vec<String>,
    /// The left backend's step at `index` (`None`: its execution ended before it).
    pub left: Option<TraceStep>,
    /// The right backend's step at `index`.
    pub right: Option<TraceStep>,
    /// Up to [`CONTEXT`] steps before `index`, identical on both.
    pub before: Vec<TraceStep>,
}

impl StepDifference {
    /// The difference at step `index`, whose `fields` differ between `left` and `right` (either
    /// `None` where its execution had ended), after the identical steps `before`; the
    /// transaction is the left step's, else the right one's.
    pub fn new(
        index: usize,
        fields: Vec<&'static str>,
        left: Option<TraceStep>,
        right: Option<TraceStep>,
        before: Vec<TraceStep>,
    ) -> StepDifference {
        StepDifference {
            index,
            at: left.as_ref().or(right.as_ref()).and_then(|s| s.at),
            after: before.last().map(|s| op_name(s.op).to_string()),
            fields: fields.into_iter().map(String::from).collect(),
            left,
            right,
            before,
        }
    }

    /// `after CODECOPY: memory_size` — the part of a signature that names the bug: the
    /// instruction whose effects differ. When only the gas cost differs, the instruction that
    /// is wrong is the differing step's own (`at SSTORE: gas_cost`): everything before it
    /// agreed, and its cost is a property of the step itself.
    pub fn summary(&self) -> String {
        if self.fields == ["gas_cost"]
            && let Some(step) = &self.left
        {
            return format!("at {}: gas_cost", op_name(step.op));
        }
        format!(
            "after {}: {}",
            self.after.as_deref().unwrap_or("transaction start"),
            self.fields.join(",")
        )
    }
}

/// Steps sent at once: a channel operation per step would wake the comparator thread on
/// every step, and the context switches, not the EVMs, would set the pace.
pub const BATCH: usize = 64;

/// Batches a backend may run ahead of the comparator: `BOUND * BATCH` steps.
pub const BOUND: usize = 4;

/// Sends the completed steps (their costs known) to the comparator, a batch at a time.
struct Sender<'a> {
    tx: crossbeam_channel::Sender<Vec<TraceStep>>,
    stop: &'a AtomicBool,
    /// Steps not sent yet; the last one waits for its cost.
    batch: Vec<TraceStep>,
    /// The previous step's opcode and depth, and its memory and return-data hashes, reused
    /// while the contents cannot have changed.
    prev: Contents,
    /// The transaction being executed, in a chain.
    at: Option<At>,
}

impl Sender<'_> {
    /// Sends the batch; false once the comparator has hung up.
    fn flush(&mut self) -> bool {
        if self.batch.is_empty() {
            return true;
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        self.tx.send(batch).is_ok()
    }
}

impl Observer for Sender<'_> {
    fn wants_state(&self) -> bool {
        true
    }

    fn transaction(&mut self, at: At) {
        self.at = Some(at);
        self.prev = None;
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        if self.stop.load(Ordering::Relaxed) || (self.batch.len() >= BATCH && !self.flush()) {
            return Flow::Break(());
        }
        let (memory, return_data) = contents_hashes(&mut self.prev, step);
        let mut t = TraceStep::with_contents(step, memory, return_data);
        t.at = self.at;
        self.batch.push(t);
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        if let Some(p) = self.batch.last_mut() {
            p.gas_cost = gas_cost;
        }
    }
}

/// Runs `backend` on `case` in lockstep mode, sending its steps on `tx`.
fn produce(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    tx: crossbeam_channel::Sender<Vec<TraceStep>>,
    stop: &AtomicBool,
) -> Result<(), BackendError> {
    let mut sender = Sender {
        tx,
        stop,
        batch: Vec::with_capacity(BATCH),
        prev: None,
        at: None,
    };
    let result = observe(backend, case, profile, &mut sender);
    sender.flush();
    result
}

/// Runs `backend` on `case` observed by `observer`; a panic becomes a failure of its own.
pub(crate) fn observe(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    observer: &mut dyn Observer,
) -> Result<(), BackendError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        backend.execute_observed(case, profile, observer)
    }))
    .unwrap_or_else(|p| {
        Err(BackendError::Failed(format!(
            "panic while observed: {}",
            crate::backend::panic_message(&p)
        )))
    })
    .map(|_| ())
}

/// The first step at which `left` and `right` execute `case` differently under `profile`, or
/// `None` when every step is the same (the outcomes then differ only in what happens after the
/// last instruction: refunds, fees, the commit of state). The two run in parallel threads;
/// both are stopped at the first difference.
pub fn lockstep(
    left: &mut dyn Backend,
    right: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
) -> Result<Option<StepDifference>, BackendError> {
    let stop = AtomicBool::new(false);
    let (ltx, lrx) = crossbeam_channel::bounded(BOUND);
    let (rtx, rrx) = crossbeam_channel::bounded(BOUND);
    std::thread::scope(|scope| {
        let lt = scope.spawn(|| produce(left, case, profile, ltx, &stop));
        let rt = scope.spawn(|| produce(right, case, profile, rtx, &stop));
        let found = compare_streams(&lrx, &rrx);
        if found.is_some() {
            stop.store(true, Ordering::Relaxed);
        }
        // Hanging up unblocks a backend waiting on a full channel.
        drop((lrx, rrx));
        let joined = |t: std::thread::ScopedJoinHandle<'_, Result<(), BackendError>>| {
            t.join()
                .unwrap_or_else(|_| Err(BackendError::Failed("lockstep thread panicked".into())))
        };
        let (l, r) = (joined(lt), joined(rt));
        // A backend that failed before its first difference leaves nothing to localize; one
        // that failed after it (because it was stopped) does not matter.
        if found.is_none() {
            l?;
            r?;
        }
        Ok(found)
    })
}

/// Reads both streams in step order until they differ or both end.
fn compare_streams(
    left: &crossbeam_channel::Receiver<Vec<TraceStep>>,
    right: &crossbeam_channel::Receiver<Vec<TraceStep>>,
) -> Option<StepDifference> {
    let mut left = left.iter().flatten();
    let mut right = right.iter().flatten();
    let mut before: VecDeque<TraceStep> = VecDeque::with_capacity(CONTEXT + 1);
    for index in 0.. {
        let (l, r) = (left.next(), right.next());
        let fields = match (&l, &r) {
            (None, None) => return None,
            (Some(x), Some(y)) => x.differing_fields(y),
            _ => vec!["end"],
        };
        if fields.is_empty() {
            if before.len() == CONTEXT {
                before.pop_front();
            }
            before.extend(l);
            continue;
        }
        return Some(StepDifference::new(index, fields, l, r, before.into()));
    }
    unreachable!("the step index is unbounded")
}
