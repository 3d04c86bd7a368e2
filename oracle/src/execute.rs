//! Running one case on several backends and judging the results.

use evmdiff_core::compare::{Difference, Divergence, chain_halt_class_difference, compare_chains};
use evmdiff_core::expect::{Check, check};
use evmdiff_core::localize::first_difference_within;
use evmdiff_core::lockstep::lockstep;
use evmdiff_core::step_hash::StepHash;
use evmdiff_core::step_trail::StepTrail;
use evmdiff_core::{Backend, BackendError, Case, ChainOutcome, Field, Profile};
use serde::Serialize;
use std::time::{Duration, Instant};

use crate::seal::SealingRun;

/// One backend's result on one case.
#[derive(Debug, Clone)]
pub struct Execution {
    /// Backend name.
    pub backend: &'static str,
    /// Backend version.
    pub version: &'static str,
    /// The outcome of every transaction and block, or why there is none.
    pub result: Result<ChainOutcome, BackendError>,
    /// The rolling hash of the steps, when the case ran on the fast path
    /// ([`run_case_localized`]) and the backend produced an outcome.
    pub steps: Option<StepHash>,
    /// The outcome against the case's expectation (only when the profile is mainnet at the
    /// case's own fork; otherwise the expectation does not apply).
    pub check: Check,
    /// Whether the backend reports its steps ([`Backend::observes_steps`]): a divergence of
    /// one that does not is never localized to a step.
    pub observes_steps: bool,
    /// How long its execution took (zero when it did not run).
    pub took: Duration,
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
    /// When backends diverge and the executable specification is one of them: which of the
    /// others it agrees with.
    pub reference: Option<ReferenceSide>,
    /// How long the whole run took (executions, localization and views; the sealer's
    /// execution while sealing, when the run took it, included).
    pub took: Duration,
}

/// The side the reference (the Python execution spec) takes in a divergence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReferenceSide {
    /// The reference backend.
    pub reference: &'static str,
    /// Backends whose outcome equals the reference's.
    pub agree: Vec<&'static str>,
    /// Backends whose outcome differs from the reference's.
    pub disagree: Vec<&'static str>,
}

impl std::fmt::Display for ReferenceSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |v: &[&str]| {
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        write!(
            f,
            "reference {} agrees with {}; disagrees with {}",
            self.reference,
            list(&self.agree),
            list(&self.disagree)
        )
    }
}

/// Which side the reference takes, when `run` diverges and a reference backend has an outcome.
fn reference_side(executions: &[Execution]) -> Option<ReferenceSide> {
    let (r, ref_outcome) = executions.iter().enumerate().find_map(|(i, e)| {
        crate::backends::is_reference(e.backend)
            .then_some(())
            .and(e.result.as_ref().ok().map(|o| (i, o)))
    })?;
    let mut side = ReferenceSide {
        reference: executions[r].backend,
        agree: Vec::new(),
        disagree: Vec::new(),
    };
    for (i, e) in executions.iter().enumerate() {
        let Ok(o) = &e.result else { continue };
        if i == r {
            continue;
        }
        let same = compare_chains(ref_outcome, o).is_none()
            && match (executions[r].steps, e.steps) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
        if same {
            side.agree.push(e.backend);
        } else {
            side.disagree.push(e.backend);
        }
    }
    Some(side)
}

/// True when `case`'s expectation applies under `profile`: the case was computed under that
/// profile (one it records, as an export, a finding or a matrix case does, filed under
/// `<Fork>+<profile>`), or it records none and `profile` is mainnet at its fork (an
/// ethereum/tests fixture).
pub fn expectation_applies(case: &Case, profile: &Profile) -> bool {
    if profile.base_fork != case.fork {
        return false;
    }
    match Profile::recorded(case).and_then(Result::ok) {
        Some(recorded) if recorded.is_mainnet() => profile.is_mainnet(),
        Some(recorded) => recorded.content_id() == profile.content_id(),
        None => profile.is_mainnet(),
    }
}

/// Runs `case` on every backend under `profile`, checks expectations and compares outcomes.
/// A backend that panics becomes a `Failed` result, not a dead run.
pub fn run_case(backends: &mut [Box<dyn Backend>], case: &Case, profile: &Profile) -> CaseRun {
    run_case_with(backends, case, profile, false, None, None).0
}

/// [`run_case`] of a chain the sealer executed while sealing it (`sealed`): the sealer does
/// not run it again.
pub fn run_case_sealed(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    sealed: Option<SealingRun>,
) -> CaseRun {
    run_case_with(backends, case, profile, false, None, sealed).0
}

/// Steps a hashed run's trail has room for before it grows: most generated cases' executions.
pub(crate) const TRAIL_CAPACITY: usize = 2048;

/// [`run_case`], hashing every backend's steps when `hash_steps` (the fast path): two backends
/// whose outcomes agree but whose step hashes do not diverge on the field `steps`. With the
/// run, each backend's trail of step hashes (empty where not hashed), which bounds where
/// localization looks. The sealer's execution is `sealed`'s, when given (a campaign's chain,
/// which revm executed while sealing it).
fn run_case_with(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    hash_steps: bool,
    active: Option<&[bool]>,
    mut sealed: Option<SealingRun>,
) -> (CaseRun, Vec<StepTrail>) {
    let applies = expectation_applies(case, profile);
    // The sealer's execution while sealing, if taken: part of the case's time.
    let mut sealing_took = Duration::ZERO;
    let mut trails = Vec::with_capacity(backends.len());
    let executions: Vec<Execution> = backends
        .iter_mut()
        .enumerate()
        .map(|(i, b)| {
            // Asked once per backend and case: a backend builds its capabilities on each ask.
            let caps = b.capabilities();
            let observes_steps = caps.steps;
            let hashed = hash_steps && caps.live_steps();
            let sits_out = caps.sits_out_case(case);
            if active.is_some_and(|a| !a[i]) || sits_out.is_some() {
                trails.push(StepTrail::default());
                return Execution {
                    backend: b.name(),
                    version: b.version(),
                    steps: None,
                    result: Err(sits_out.map_or(BackendError::NotSampled, BackendError::SitsOut)),
                    check: Check::NoExpectation,
                    observes_steps,
                    took: Duration::ZERO,
                };
            }
            // An unobserved sealing run stands for the sealer's only where steps are not hashed.
            let taken = sealed.take_if(|s| b.is_sealer() && (s.trail.is_some() || !hashed));
            let (result, took, hash) = match taken {
                Some(run) => {
                    sealing_took = run.took;
                    (Ok(run.outcome), run.took, run.trail.unwrap_or_default())
                }
                None => {
                    let start = Instant::now();
                    let mut hash = if hashed {
                        StepTrail::with_capacity(TRAIL_CAPACITY)
                    } else {
                        StepTrail::default()
                    };
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        if hashed {
                            b.execute_observed(case, profile, &mut hash)
                        } else {
                            b.execute(case, profile)
                        }
                    }))
                    .unwrap_or_else(|p| {
                        Err(BackendError::Failed(format!(
                            "panic: {}",
                            panic_message(&p)
                        )))
                    });
                    (result, start.elapsed(), hash)
                }
            };
            let check = match (&result, applies) {
                (Ok(o), true) => check(case, o),
                _ => Check::NoExpectation,
            };
            let steps = (hashed && result.is_ok()).then_some(hash.hash);
            trails.push(hash);
            Execution {
                backend: b.name(),
                version: b.version(),
                steps,
                result,
                check,
                observes_steps,
                took,
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
            let single = case.single().is_some();
            let at = |a| (!single).then_some(a);
            if let Some((a, d)) = chain_halt_class_difference(ref_outcome, outcome) {
                notes.push(Divergence {
                    left: ref_name.to_string(),
                    right: name.to_string(),
                    at: at(a),
                    differences: vec![d],
                    step: None,
                });
            }
            let (place, mut differences) = compare_chains(ref_outcome, outcome)
                .map_or((None, Vec::new()), |(a, d)| (at(a), d));
            if differences.is_empty()
                && let (Some(a), Some(b)) = (executions[ref_index].steps, executions[index].steps)
                && a != b
            {
                differences.push(steps_difference(a, b));
            }
            if !differences.is_empty() {
                divergences.push(Divergence {
                    left: ref_name.to_string(),
                    right: name.to_string(),
                    at: place,
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
    let reference = if divergences.is_empty() {
        None
    } else {
        reference_side(&executions)
    };
    let run = CaseRun {
        executions,
        divergences,
        pairs,
        notes,
        verdict,
        reference,
        took: sealing_took,
    };
    (run, trails)
}

/// The difference of two backends whose outcomes agree but whose steps do not.
fn steps_difference(a: StepHash, b: StepHash) -> Difference {
    let render = |h: StepHash| format!("{:016x} ({} steps)", h.hash, h.steps);
    Difference {
        field: Field::Steps,
        left: render(a),
        right: render(b),
    }
}

/// The fast path of a fuzzing campaign: [`run_case`] with a rolling hash of every backend's
/// steps, then, for the pairs whose outcomes or step hashes differ, [`localize_divergences`]
/// (lockstep's answer, in this thread where it can be), since signatures need the first
/// differing step.
pub fn run_case_localized(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
) -> CaseRun {
    run_case_localized_on(backends, case, profile, None, None)
}

/// [`run_case_localized`] on the backends whose `active` entry is true only (a campaign's
/// sampling); the others get [`BackendError::NotSampled`]. The sealer's execution is
/// `sealed`'s, when given.
pub fn run_case_localized_on(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    active: Option<&[bool]>,
    sealed: Option<SealingRun>,
) -> CaseRun {
    let (mut run, trails) = run_case_with(backends, case, profile, true, active, sealed);
    if !run.divergences.is_empty() {
        localize_divergences(backends, case, profile, &mut run, &trails);
    }
    run
}

/// Finds, for every divergence of `run`, the first step at which its two backends part:
/// [`first_difference_within`] (lockstep's answer, the two re-run one after the other in this
/// thread, up to where their `trails` part) when both run in process, else [`lockstep`]. A
/// backend that fails or panics while observed leaves that divergence unlocalized: the
/// outcome comparison still stands.
fn localize_divergences(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    run: &mut CaseRun,
    trails: &[StepTrail],
) {
    for (d, &(l, r)) in run.divergences.iter_mut().zip(&run.pairs) {
        // The left backend is the reference, which comes before every other (`run_case`).
        let (first, second) = backends.split_at_mut(r);
        let (left, right) = (&mut first[l], &mut second[0]);
        if !(left.observes_steps_of(case) && right.observes_steps_of(case)) {
            continue;
        }
        // Both turn a backend's panic into a failure of its own. A worker's steps all come
        // after its whole run, so stopping it early saves nothing and each round would run it
        // again: a pair with one runs in lockstep, each side once.
        let in_process = left.capabilities().in_process && right.capabilities().in_process;
        d.step = if in_process {
            // Only from two hashed runs with outcomes.
            let hashed = |i: usize| run.executions[i].steps.is_some();
            let bound = (hashed(l) && hashed(r))
                .then(|| trails[l].parting(&trails[r]))
                .flatten();
            first_difference_within(left.as_mut(), right.as_mut(), case, profile, bound)
        } else {
            lockstep(left.as_mut(), right.as_mut(), case, profile)
        }
        .ok()
        .flatten();
        // Outcomes that agree with steps that do not: the transaction is the first
        // differing step's.
        if d.at.is_none() && case.single().is_none() {
            d.at = d.step.as_ref().and_then(|s| s.at);
        }
    }
}

pub use evmdiff_core::backend::panic_message;
