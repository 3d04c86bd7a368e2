//! The mutation benchmark: how many generated cases evmdiff needs to see each bug planted in
//! revm (`evmdiff planted`, docs/coverage.md "Planted bugs in revm").
//!
//! Cheap by construction, so that a generator change is judged in minutes: the cases are
//! generated once, plain revm's outcomes and step hashes are recorded once, then each planted
//! revm runs over the same cases in this process, at revm's speed. A bug counts as seen on a
//! case when the planted revm's outcome or step hash differs from plain revm's there, exactly
//! what a campaign of revm against a correct EVM would flag. The first such case is what a
//! campaign needs; how many cases show it says how well the generator reaches it.
//!
//! Optionally each bug is also run over real ethereum/tests fixtures: a fixture shows it when
//! the planted revm fails the fixture's expectation while plain revm passes it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use evmdiff_adapters::revm_backend::{Planted, RevmBackend};
use evmdiff_core::compare::compare_chains;
use evmdiff_core::expect::{Check, check};
use evmdiff_core::step_hash::StepHash;
use evmdiff_core::{Backend, BackendError, Case, ChainOutcome, Profile};

/// One run of a backend on one case, as the benchmark compares it.
#[derive(Debug, Clone)]
struct Run {
    outcome: Result<ChainOutcome, String>,
    steps: StepHash,
}

fn run(backend: &mut RevmBackend, case: &Case, profile: &Profile) -> Run {
    let mut steps = StepHash::default();
    // A planted bug that makes revm panic is seen, as a crashing backend is in a campaign.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        backend.execute_observed(case, profile, &mut steps)
    }))
    .unwrap_or_else(|_| Err(BackendError::Failed("panic".into())))
    .map_err(|e| e.to_string());
    Run { outcome, steps }
}

/// What differs between a reference run and a planted one, if anything: the outcome's first
/// differing field, or `steps` when only the step hashes differ.
fn difference(reference: &Run, planted: &Run) -> Option<String> {
    match (&reference.outcome, &planted.outcome) {
        (Ok(a), Ok(b)) => {
            if let Some((_, diffs)) = compare_chains(a, b) {
                return Some(
                    diffs
                        .first()
                        .map_or("outcome".into(), |d| d.field.to_string()),
                );
            }
        }
        (Err(a), Err(b)) if a == b => {}
        _ => return Some("backend result".into()),
    }
    (reference.steps != planted.steps).then(|| "steps".into())
}

/// A generated case of the benchmark: its campaign index and the case.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The case's index in the campaign (`evmdiff fuzz --seed S` runs the same case there).
    pub index: u64,
    /// The case.
    pub case: Case,
}

/// A fixture case: where it comes from and the case with its expectation.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// File and case name, for the report.
    pub name: String,
    /// The case (run under mainnet at its own fork).
    pub case: Case,
}

/// What the benchmark found for one planted bug (or the control, `bug: None`).
#[derive(Debug, Clone)]
pub struct BugResult {
    /// The bug; `None` for the control, plain revm against its own recorded runs.
    pub bug: Option<Planted>,
    /// Why the bug cannot show under the profile, if it cannot (its fork, or a rule of the
    /// profile for its opcode or precompile); then no case runs it.
    pub sits_out: Option<String>,
    /// The campaign index of the first generated case that shows the bug.
    pub first: Option<u64>,
    /// What differed on that case (an outcome field, or `steps`).
    pub first_shown_as: Option<String>,
    /// The first generated case whose outcome (not only its steps) shows the bug: what a
    /// backend without step traces would need.
    pub first_in_outcome: Option<u64>,
    /// Generated cases that show the bug.
    pub showing: u64,
    /// Fixtures whose expectation the planted revm fails while plain revm passes.
    pub fixtures_failing: u64,
    /// The first of them.
    pub first_fixture: Option<String>,
}

impl BugResult {
    /// Whether the bug can show under the profile at all.
    pub fn applies(&self) -> bool {
        self.sits_out.is_none()
    }
}

/// The whole benchmark's result.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// Generated cases run (the campaign's cases the generator produced).
    pub cases: u64,
    /// Fixture cases plain revm passes (the ones the bugs are run over).
    pub fixtures: u64,
    /// Seconds spent recording the reference runs.
    pub reference_seconds: f64,
    /// Seconds spent on the planted runs, all bugs together.
    pub planted_seconds: f64,
    /// One result per bug asked for, then the control.
    pub bugs: Vec<BugResult>,
}

/// Runs every bug in `bugs` (and the control) over `cases` and `fixtures` under `profile`,
/// on `jobs` threads; `done` is told of each bug as it finishes.
pub fn measure(
    profile: &Profile,
    cases: &[Generated],
    fixtures: &[Fixture],
    bugs: &[Planted],
    jobs: usize,
    done: &(dyn Fn(&BugResult) + Sync),
) -> Measurement {
    let jobs = jobs.max(1);
    let start = Instant::now();
    let reference = parallel(cases.len(), jobs, |i| {
        run(&mut RevmBackend::default(), &cases[i].case, profile)
    });
    let fixture_ok: Vec<bool> = parallel(fixtures.len(), jobs, |i| {
        fixture_fails(&mut RevmBackend::default(), &fixtures[i].case).is_none()
    });
    let reference_seconds = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let subjects: Vec<Option<Planted>> = bugs.iter().copied().map(Some).chain([None]).collect();
    let results = parallel(subjects.len(), jobs, |k| {
        let bug = subjects[k];
        let result = measure_one(bug, profile, cases, &reference, fixtures, &fixture_ok);
        done(&result);
        result
    });
    Measurement {
        cases: cases.len() as u64,
        fixtures: fixture_ok.iter().filter(|ok| **ok).count() as u64,
        reference_seconds,
        planted_seconds: start.elapsed().as_secs_f64(),
        bugs: results,
    }
}

fn measure_one(
    bug: Option<Planted>,
    profile: &Profile,
    cases: &[Generated],
    reference: &[Run],
    fixtures: &[Fixture],
    fixture_ok: &[bool],
) -> BugResult {
    let sits_out = bug.and_then(|b| b.sits_out(profile));
    let mut result = BugResult {
        bug,
        sits_out,
        first: None,
        first_shown_as: None,
        first_in_outcome: None,
        showing: 0,
        fixtures_failing: 0,
        first_fixture: None,
    };
    let mut backend = bug.map_or_else(RevmBackend::default, RevmBackend::with_planted);
    if result.applies() {
        for (g, reference) in cases.iter().zip(reference) {
            let planted = run(&mut backend, &g.case, profile);
            let Some(what) = difference(reference, &planted) else {
                continue;
            };
            result.showing += 1;
            if result.first.is_none() {
                result.first = Some(g.index);
                result.first_shown_as = Some(what.clone());
            }
            if what != "steps" && result.first_in_outcome.is_none() {
                result.first_in_outcome = Some(g.index);
            }
        }
    }
    for (f, ok) in fixtures.iter().zip(fixture_ok) {
        if *ok && fixture_fails(&mut backend, &f.case).is_some() {
            result.fixtures_failing += 1;
            result.first_fixture.get_or_insert_with(|| f.name.clone());
        }
    }
    result
}

/// Why `backend` fails the fixture's expectation, if it does.
fn fixture_fails(backend: &mut RevmBackend, case: &Case) -> Option<String> {
    match backend.execute(case, &Profile::mainnet(case.fork)) {
        Ok(outcome) => match check(case, &outcome) {
            Check::Fail(why) => Some(why),
            Check::Pass | Check::NoExpectation => None,
        },
        Err(BackendError::Unsupported(_) | BackendError::SitsOut(_)) => None,
        Err(e) => Some(e.to_string()),
    }
}

/// `f(0..n)` on `jobs` threads, results in index order.
fn parallel<T: Send>(n: usize, jobs: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.min(n.max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let value = f(i);
                    out.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(value);
                }
            });
        }
    });
    out.into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|v| v.expect("every index ran"))
        .collect()
}
