//! Localizing a divergence: the first executed step at which two backends part.
//!
//! Two outcomes that differ say *that* the backends disagree; the first differing step says
//! *where*: the instruction after which their machine states (stack, memory, gas, control
//! flow) are no longer equal. That instruction is what identifies a bug across the many
//! programs that hit it, so it is what a [`Signature`](../../evmdiff_triage) is built from.
//!
//! Localization re-runs the case observed, twice per backend: first keeping a 64-bit
//! [`digest`] of every step (8 bytes a step, whatever the stack and memory), then keeping the
//! full steps of a short window ending at the first digest that differs. It costs four
//! observed executions, so it runs only on cases whose outcomes already differ.

use serde::Serialize;

use crate::backend::{Backend, BackendError};
use crate::case::Case;
use crate::observe::{Observer, Step};
use crate::profile::Profile;
use crate::trace::{TraceStep, digest, op_name};

/// Steps kept before the first differing one, for the report.
pub const CONTEXT: usize = 4;

/// Where two backends' executions of one case part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepDifference {
    /// Index of the first differing step (0-based, counting every step at every depth).
    pub index: usize,
    /// The last instruction both executed identically, whose effects differ: `None` when the
    /// very first step already differs (intrinsic gas, or the first frame's setup).
    pub after: Option<String>,
    /// The step fields that differ (`depth`, `pc`, `opcode`, `gas`, `stack`, `memory_size`,
    /// `memory`, `return_data`), or `end` when one execution has no step there.
    pub fields: Vec<String>,
    /// The left backend's step at `index` (`None`: its execution ended before it).
    pub left: Option<TraceStep>,
    /// The right backend's step at `index`.
    pub right: Option<TraceStep>,
    /// Up to [`CONTEXT`] steps before `index`, identical on both.
    pub before: Vec<TraceStep>,
}

impl StepDifference {
    /// `after CODECOPY: memory_size` — the part of a signature that names the bug.
    pub fn summary(&self) -> String {
        format!(
            "after {}: {}",
            self.after.as_deref().unwrap_or("transaction start"),
            self.fields.join(",")
        )
    }
}

/// Keeps a digest of every step.
#[derive(Default)]
struct Digests(Vec<u64>);

impl Observer for Digests {
    fn wants_state(&self) -> bool {
        true
    }

    fn step(&mut self, step: &Step<'_>) {
        self.0.push(digest(step));
    }
}

/// Keeps the full steps with index in `from..=to`.
struct Window {
    from: usize,
    to: usize,
    seen: usize,
    steps: Vec<TraceStep>,
}

impl Observer for Window {
    fn wants_state(&self) -> bool {
        true
    }

    fn step(&mut self, step: &Step<'_>) {
        if (self.from..=self.to).contains(&self.seen) {
            self.steps.push(TraceStep::from(step));
        }
        self.seen += 1;
    }
}

/// The first step at which `left` and `right` execute `case` differently under `profile`, or
/// `None` when every step is the same (the outcomes then differ only in what happens after the
/// last instruction: refunds, fees, the commit of state).
pub fn localize(
    left: &mut dyn Backend,
    right: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
) -> Result<Option<StepDifference>, BackendError> {
    let mut a = Digests::default();
    let mut b = Digests::default();
    left.execute_observed(case, profile, &mut a)?;
    right.execute_observed(case, profile, &mut b)?;
    let common = a.0.iter().zip(&b.0).take_while(|(x, y)| x == y).count();
    if common == a.0.len() && common == b.0.len() {
        return Ok(None);
    }
    let from = common.saturating_sub(CONTEXT);
    let window = |backend: &mut dyn Backend| -> Result<Vec<TraceStep>, BackendError> {
        let mut w = Window {
            from,
            to: common,
            seen: 0,
            steps: Vec::new(),
        };
        backend.execute_observed(case, profile, &mut w)?;
        Ok(w.steps)
    };
    // Both windows hold the same steps before `common`; keep the left one's as the context.
    let mut before = window(left)?;
    let right_step = window(right)?.into_iter().nth(common - from);
    let left_step = before.drain(common - from..).next();
    let fields = match (&left_step, &right_step) {
        (Some(x), Some(y)) => x.differing_fields(y),
        _ => vec!["end"],
    };
    // A digest collision inside the window would show as a step that differs in no field;
    // name it rather than report an empty difference.
    let fields = if fields.is_empty() {
        vec!["digest"]
    } else {
        fields
    };
    Ok(Some(StepDifference {
        index: common,
        after: before.last().map(|s| op_name(s.op)),
        fields: fields.into_iter().map(String::from).collect(),
        left: left_step,
        right: right_step,
        before,
    }))
}
