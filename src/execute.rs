//! Running one case on several backends and judging the results.

use evmdiff_core::compare::{Divergence, compare, halt_class_difference};
use evmdiff_core::expect::{Check, check};
use evmdiff_core::localize::localize;
use evmdiff_core::{Backend, BackendError, Case, Outcome, Profile};
use serde::Serialize;

/// One backend's result on one case.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Backend name.
    pub backend: &'static str,
    /// Backend version.
    pub version: &'static str,
    /// The outcome, or why there is none.
    pub result: Result<Outcome, BackendError>,
    /// The outcome against the case's expectation (only when the profile is mainnet at the
    /// case's own fork; otherwise the expectation does not apply).
    pub check: Check,
}

/// Whether the backends agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every backend that produced an outcome agrees (and at least two did).
    Agree,
    /// At least two backends disagree.
    Diverge,
    /// Fewer than two backends produced an outcome.
    Incomparable,
}

/// Everything about one case run.
#[derive(Debug, Clone)]
pub struct CaseRun {
    /// One entry per backend, in the given order.
    pub executions: Vec<Execution>,
    /// Each backend that disagrees with the first backend that produced an outcome.
    pub divergences: Vec<Divergence>,
    /// The positions in `executions` of each divergence's left and right backend (left <
    /// right: the left one is the reference).
    pub pairs: Vec<(usize, usize)>,
    /// Backends that halted with different halt classes (not visible in state; see
    /// [`halt_class_difference`]): reported, but not a divergence.
    pub notes: Vec<Divergence>,
    /// The verdict.
    pub verdict: Verdict,
}

/// True when `case`'s ethereum/tests expectation applies under `profile`.
pub fn expectation_applies(case: &Case, profile: &Profile) -> bool {
    profile.is_mainnet() && profile.base_fork == case.fork
}

/// Runs `case` on every backend under `profile`, checks expectations and compares outcomes.
/// A backend that panics becomes a `Failed` result, not a dead run.
pub fn run_case(backends: &mut [Box<dyn Backend>], case: &Case, profile: &Profile) -> CaseRun {
    let applies = expectation_applies(case, profile);
    let executions: Vec<Execution> = backends
        .iter_mut()
        .map(|b| {
            let result =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.execute(case, profile)))
                    .unwrap_or_else(|p| {
                        Err(BackendError::Failed(format!(
                            "panic: {}",
                            panic_message(&p)
                        )))
                    });
            let check = match (&result, applies) {
                (Ok(o), true) => check(case, o),
                _ => Check::NoExpectation,
            };
            Execution {
                backend: b.name(),
                version: b.version(),
                result,
                check,
            }
        })
        .collect();
    let mut divergences = Vec::new();
    let mut notes = Vec::new();
    let mut pairs = Vec::new();
    let mut outcomes = executions
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.result.as_ref().ok().map(|o| (i, e.backend, o)));
    let reference = outcomes.next();
    let mut compared = 0;
    if let Some((ref_index, ref_name, ref_outcome)) = reference {
        for (index, name, outcome) in outcomes {
            compared += 1;
            if let Some(d) = halt_class_difference(ref_outcome, outcome) {
                notes.push(Divergence {
                    left: ref_name.to_string(),
                    right: name.to_string(),
                    differences: vec![d],
                    step: None,
                });
            }
            let differences = compare(ref_outcome, outcome);
            if !differences.is_empty() {
                divergences.push(Divergence {
                    left: ref_name.to_string(),
                    right: name.to_string(),
                    differences,
                    step: None,
                });
                pairs.push((ref_index, index));
            }
        }
    }
    let verdict = if !divergences.is_empty() {
        Verdict::Diverge
    } else if compared == 0 {
        Verdict::Incomparable
    } else {
        Verdict::Agree
    };
    CaseRun {
        executions,
        divergences,
        pairs,
        notes,
        verdict,
    }
}

/// [`run_case`], then [`localize_divergences`] when the outcomes differ: the code path of a
/// fuzzing campaign, whose signatures need the first differing step.
pub fn run_case_localized(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
) -> CaseRun {
    let mut run = run_case(backends, case, profile);
    if !run.divergences.is_empty() {
        localize_divergences(backends, case, profile, &mut run);
    }
    run
}

/// Finds, for every divergence of `run`, the first step at which its two backends part
/// ([`localize`]), re-running the case observed on both. A backend that fails or panics while
/// observed leaves that divergence unlocalized: the outcome comparison still stands.
fn localize_divergences(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    run: &mut CaseRun,
) {
    for (d, &(l, r)) in run.divergences.iter_mut().zip(&run.pairs) {
        // The left backend is the reference, which comes before every other (`run_case`).
        let (first, second) = backends.split_at_mut(r);
        let (left, right) = (&mut first[l], &mut second[0]);
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            localize(left.as_mut(), right.as_mut(), case, profile)
        }));
        d.step = found.ok().and_then(Result::ok).flatten();
    }
}

/// The text of a panic payload.
pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
