//! Localization on the real backends: where two executions part, and that they do not part
//! where they agree.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arbitrary::Unstructured;
use evmdiff::execute::{Verdict, run_case};
use evmdiff_core::Profile;
use evmdiff_core::localize::{FIRST_LIMIT, LAST_LIMIT, first_difference, first_difference_within};
use evmdiff_core::lockstep::{BATCH, BOUND, CONTEXT, lockstep};
use evmdiff_core::observe::{Flow, GasCost, Observer, Step};
use evmdiff_core::statetest::read_file;
use evmdiff_core::step_trail::StepTrail;
use evmdiff_core::{Backend, BackendError, Case, ChainOutcome};
use evmdiff_generator::input_bytes;

/// Over generated cases on which revm and another stepping backend (evm, levm) produce the
/// same outcome, their steps agree too, except where a known evm bug shows in the steps
/// before it is repaired by a later instruction (CODECOPY's memory size, docs/findings.md #1).
/// revm against itself always agrees step for step.
#[test]
fn agreeing_backends_agree_step_by_step() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    // Lockstep needs steps: every backend that reports them; the first is revm, the rest
    // are compared with it.
    let mut backends = evmdiff_adapters::stepping_backends();
    let mut revm2 = evmdiff_adapters::backend("revm").unwrap();
    let mut step_only: BTreeMap<String, usize> = BTreeMap::new();
    let (mut agreeing, mut compared) = (0, 0);
    for i in 0..400 {
        let input = input_bytes(11, i);
        let Ok(generated) = evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
        else {
            continue;
        };
        let case = generated.case;
        let run = run_case(&mut backends, &case, &profile);
        let (revm, others) = backends.split_at_mut(1);
        assert_eq!(
            lockstep(revm[0].as_mut(), revm2.as_mut(), &case, &profile).unwrap(),
            None,
            "revm against itself, case {i}"
        );
        // A chain is compared only among the backends that run chains.
        compared += (run.verdict != Verdict::Incomparable) as usize;
        if run.verdict != Verdict::Agree {
            continue;
        }
        agreeing += 1;
        for other in others.iter_mut() {
            if let Some(d) = lockstep(revm[0].as_mut(), other.as_mut(), &case, &profile).unwrap() {
                *step_only.entry(d.summary()).or_default() += 1;
            }
        }
    }
    assert!(
        compared > 250 && agreeing * 4 > compared * 3,
        "only {agreeing} agreeing cases of {compared} compared"
    );
    for summary in step_only.keys() {
        assert_eq!(summary, "after CODECOPY: memory_size", "{step_only:?}");
    }
}

/// A backend that counts the steps it reports, to see lockstep stop it.
struct Counting(Box<dyn Backend>, Arc<AtomicUsize>);

/// Backend `name`, counting the steps it reports into the counter returned with it.
fn counting(name: &str) -> (Counting, Arc<AtomicUsize>) {
    let n = Arc::new(AtomicUsize::new(0));
    (
        Counting(evmdiff_adapters::backend(name).unwrap(), n.clone()),
        n,
    )
}

struct CountingObserver<'a>(&'a mut dyn Observer, &'a AtomicUsize);

impl Observer for CountingObserver<'_> {
    fn wants_state(&self) -> bool {
        self.0.wants_state()
    }
    fn transaction(&mut self, at: evmdiff_core::At) {
        self.0.transaction(at)
    }
    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.1.fetch_add(1, Ordering::Relaxed);
        self.0.step(step)
    }
    fn step_end(&mut self, cost: GasCost) {
        self.0.step_end(cost)
    }
}

impl Backend for Counting {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn version(&self) -> &'static str {
        self.0.version()
    }
    fn capabilities(&self) -> evmdiff_core::Capabilities {
        self.0.capabilities()
    }
    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.0.execute(case, profile)
    }
    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        self.0
            .execute_observed(case, profile, &mut CountingObserver(observer, &self.1))
    }
}

/// The regression case of finding #1 (evm's CODECOPY does not grow MSIZE) with its contract
/// running `code` instead.
fn codecopy_msize_running(code: &[u8]) -> Case {
    let file = read_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/regressions/codecopy_msize.json"),
    )
    .unwrap();
    let mut case = file.cases.into_iter().next().unwrap();
    let target = case.tx().unwrap().to.unwrap();
    case.pre.get_mut(&target).unwrap().code = code.to_vec().into();
    case
}

/// Finding #1's case parting revm and evm at step 4 (CODECOPY then MSIZE), then looping until
/// its 1,000,000 gas run out (about 250,000 steps).
fn codecopy_msize_looping() -> Case {
    // PUSH1 32 PUSH1 0 PUSH1 0 CODECOPY MSIZE POP; 9: JUMPDEST PUSH1 9 JUMP
    codecopy_msize_running(&[
        0x60, 0x20, 0x60, 0, 0x60, 0, 0x39, 0x59, 0x50, 0x5b, 0x60, 9, 0x56,
    ])
}

/// Lockstep stops both backends at the first differing step: after CODECOPY and MSIZE
/// (finding #1) the program loops until its 1,000,000 gas run out (about 250,000 steps), but
/// neither backend gets further than the channel's bound past step 4.
#[test]
fn lockstep_stops_both_backends_at_the_first_difference() {
    let case = codecopy_msize_looping();
    let profile = Profile::load("mainnet-cancun").unwrap();
    let ((mut left, nl), (mut right, nr)) = (counting("revm"), counting("evm"));
    let d = lockstep(&mut left, &mut right, &case, &profile)
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.index, d.summary().as_str()),
        (4, "after CODECOPY: memory_size")
    );
    let limit = 4 + (BOUND + 2) * BATCH;
    for n in [&nl, &nr] {
        let n = n.load(Ordering::Relaxed);
        assert!(n > 4 && n <= limit, "{n} steps reported, limit {limit}");
    }
    // Unobserved, the same program runs to the end of its gas.
    let mut all = Counting(
        evmdiff_adapters::backend("revm").unwrap(),
        Arc::new(AtomicUsize::new(0)),
    );
    let mut rec = evmdiff_core::trace::Recorder::default();
    all.execute_observed(&case, &profile, &mut rec).unwrap();
    assert!(rec.steps.len() > 100_000, "{}", rec.steps.len());
}

/// `backend`'s trail of step hashes on `case`, as the fast path keeps it.
fn trail(backend: &mut dyn Backend, case: &Case, profile: &Profile) -> StepTrail {
    let mut t = StepTrail::default();
    backend.execute_observed(case, profile, &mut t).unwrap();
    t
}

/// Localization in one thread gives lockstep's answer, field for field (index, transaction,
/// fields, both steps, the steps before): over generated campaign cases, chains among them,
/// revm against every other stepping backend and against revm with each planted bug; with
/// the bound the two backends' trails of step hashes give, as the campaign localizes, and
/// without.
#[test]
fn one_thread_localization_is_lockstep() {
    use evmdiff_adapters::revm_backend::{Planted, RevmBackend};
    let profile = Profile::load("mainnet-cancun").unwrap();
    let mut backends = evmdiff_adapters::stepping_backends();
    backends.extend(
        Planted::ALL
            .iter()
            .map(|p| Box::new(RevmBackend::with_planted(*p)) as Box<dyn Backend>),
    );
    let (mut localized, mut chains, mut bounded, mut near) = (0, 0, 0, 0);
    let mut indices = std::collections::BTreeSet::new();
    for i in 0..60 {
        let Some((_, case)) = evmdiff_oracle::seal::campaign_case(&profile, 3, i) else {
            continue;
        };
        chains += case.is_chain() as usize;
        let (revm, others) = backends.split_at_mut(1);
        for other in others.iter_mut() {
            let name = other.name();
            let one = first_difference(revm[0].as_mut(), other.as_mut(), &case, &profile);
            let two = lockstep(revm[0].as_mut(), other.as_mut(), &case, &profile);
            let (one, two) = (
                one.map_err(|e| e.to_string()),
                two.map_err(|e| e.to_string()),
            );
            assert_eq!(one, two, "case {i}, revm against {name}");
            let bound = trail(revm[0].as_mut(), &case, &profile).parting(&trail(
                other.as_mut(),
                &case,
                &profile,
            ));
            let within =
                first_difference_within(revm[0].as_mut(), other.as_mut(), &case, &profile, bound)
                    .map_err(|e| e.to_string());
            assert_eq!(
                within, two,
                "case {i}, revm against {name}, bound {bound:?}"
            );
            if let (Some(k), Ok(Some(d))) = (bound, &within) {
                assert!(
                    d.index <= k,
                    "case {i}, revm against {name}: bound {k}, {d:?}"
                );
                bounded += 1;
                near += (d.index + CONTEXT >= k) as usize;
            }
            if let Ok(Some(d)) = one {
                localized += 1;
                indices.insert(d.index);
            }
        }
    }
    assert!(chains > 5, "{chains} chains");
    // Nearly every difference is bounded, and close enough to its bound that the bounded
    // round recorded the steps the report shows (a difference in a step's cost shows in the
    // hash of the next step).
    assert!(
        bounded * 10 > localized * 9 && near == bounded,
        "{bounded} of {localized} bounded, {near} within {CONTEXT} steps of the bound"
    );
    assert!(
        localized > 150 && indices.len() > 60,
        "{localized} differences localized, at {} distinct steps",
        indices.len()
    );
}

/// A difference after the first round's limit (the limit grows until the backends part) and
/// one after the last round's (lockstep takes over): the answer is lockstep's. The contract
/// counts `rounds` down, 7 steps a round, before CODECOPY and MSIZE part revm and evm.
#[test]
fn one_thread_localization_finds_a_difference_past_its_limits() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    let mut revm = evmdiff_adapters::backend("revm").unwrap();
    let mut evm = evmdiff_adapters::backend("evm").unwrap();
    for rounds in [4096u32, (LAST_LIMIT / 7 + 1000) as u32] {
        // PUSH3 rounds; 4: JUMPDEST PUSH1 1 SWAP1 SUB DUP1 PUSH1 4 JUMPI; POP
        // PUSH1 32 PUSH1 0 PUSH1 0 CODECOPY MSIZE POP STOP
        let [_, a, b, c] = rounds.to_be_bytes();
        let mut case = codecopy_msize_running(&[
            0x62, a, b, c, 0x5b, 0x60, 1, 0x90, 0x03, 0x80, 0x60, 4, 0x57, 0x50, 0x60, 0x20, 0x60,
            0, 0x60, 0, 0x39, 0x59, 0x50, 0x00,
        ]);
        // 26 gas a round.
        case.tx_mut().unwrap().gas_limit = alloy_primitives::U256::from(29_000_000);
        let d = first_difference(revm.as_mut(), evm.as_mut(), &case, &profile)
            .unwrap()
            .unwrap();
        assert_eq!(d.index, 7 * rounds as usize + 6, "{rounds} rounds");
        assert_eq!(d.summary(), "after CODECOPY: memory_size");
        assert_eq!(d.before.len(), CONTEXT);
        assert_eq!(
            Some(d),
            lockstep(revm.as_mut(), evm.as_mut(), &case, &profile).unwrap()
        );
    }
}

/// Localization in one thread stops both backends soon after the first differing step: the
/// left one at its first round's limit, the right one at the difference, both again where
/// the steps shown are recorded; not after the 250,000 steps the program loops for.
#[test]
fn one_thread_localization_stops_both_backends_early() {
    let case = codecopy_msize_looping();
    let profile = Profile::load("mainnet-cancun").unwrap();
    let ((mut left, nl), (mut right, nr)) = (counting("revm"), counting("evm"));
    let d = first_difference(&mut left, &mut right, &case, &profile)
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.index, d.summary().as_str()),
        (4, "after CODECOPY: memory_size")
    );
    let (nl, nr) = (nl.load(Ordering::Relaxed), nr.load(Ordering::Relaxed));
    assert!(nl <= FIRST_LIMIT + 8, "left: {nl} steps reported");
    assert!(nr <= 12, "right: {nr} steps reported");
}

/// Told where the step hashes part, localization runs each backend once, up to that step:
/// the steps a report shows are recorded in the same run, not in a second one.
#[test]
fn bounded_localization_runs_each_backend_once() {
    let case = codecopy_msize_looping();
    let profile = Profile::load("mainnet-cancun").unwrap();
    let ((mut left, nl), (mut right, nr)) = (counting("revm"), counting("evm"));
    let bound = trail(&mut left, &case, &profile).parting(&trail(&mut right, &case, &profile));
    assert_eq!(bound, Some(4));
    nl.store(0, Ordering::Relaxed);
    nr.store(0, Ordering::Relaxed);
    let d = first_difference_within(&mut left, &mut right, &case, &profile, bound)
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.index, d.summary().as_str(), d.before.len()),
        (4, "after CODECOPY: memory_size", CONTEXT)
    );
    // Steps 0 to 4, and the step at which each was stopped.
    assert_eq!(
        (nl.load(Ordering::Relaxed), nr.load(Ordering::Relaxed)),
        (6, 6)
    );
    assert_eq!(
        Some(d),
        lockstep(&mut left, &mut right, &case, &profile).unwrap()
    );
    // A bound the executions do not bear out (they agree up to step 2) changes nothing.
    assert_eq!(
        first_difference_within(&mut left, &mut right, &case, &profile, Some(2)).unwrap(),
        first_difference(&mut left, &mut right, &case, &profile).unwrap()
    );
}
