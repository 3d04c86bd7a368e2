//! A scripted difference, on every stepping backend: the backend runs the case with one
//! instruction changed (CHAINID answers 7, through the backend's own profile-rule machinery,
//! applied by a wrapper that revm never sees), and the oracle must sign the divergence from
//! revm at the first step that differs, `after CHAINID: stack`, as it signs any step-level
//! divergence; lockstep must stop the backend there, not let it run to the end of its gas.
//! Written once for every backend whose `Capabilities::steps` is true.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use alloy_primitives::{Bytes, U256};
use evmdiff::execute::{Verdict, run_case_localized};
use evmdiff_core::lockstep::{BATCH, BOUND, lockstep};
use evmdiff_core::observe::{Flow, GasCost, Observer, Step};
use evmdiff_core::statetest::read_file;
use evmdiff_core::{Backend, BackendError, Behaviour, Capabilities, Case, ChainOutcome, Profile};
use evmdiff_triage::signature::signature;

const CHAINID: u8 = 0x46;

/// `inner`, with CHAINID answering 7 whatever the profile says, and counting the steps it
/// reports.
struct Scripted {
    inner: Box<dyn Backend>,
    steps: Arc<AtomicUsize>,
}

impl Scripted {
    fn profile(profile: &Profile) -> Profile {
        let mut p = profile.clone();
        p.opcodes
            .insert(CHAINID, Behaviour::Constant(U256::from(7u64)));
        p
    }
}

struct Counting<'a>(&'a mut dyn Observer, &'a AtomicUsize);

impl Observer for Counting<'_> {
    fn wants_state(&self) -> bool {
        self.0.wants_state()
    }
    fn wants_reads(&self) -> bool {
        self.0.wants_reads()
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
    fn precompile(&mut self, address: alloy_primitives::Address) {
        self.0.precompile(address)
    }
    fn read(&mut self, read: evmdiff_core::observe::StateRead) {
        self.0.read(read)
    }
}

impl Backend for Scripted {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn version(&self) -> &'static str {
        self.inner.version()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.inner.execute(case, &Self::profile(profile))
    }
    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        self.inner.execute_observed(
            case,
            &Self::profile(profile),
            &mut Counting(observer, &self.steps),
        )
    }
}

/// The CODECOPY regression's case (a call to a contract, Cancun) with the target's code
/// replaced by `code`.
fn case(code: &[u8]) -> Case {
    let file = read_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/regressions/codecopy_msize.json"
    )))
    .unwrap();
    let mut case = file.cases.into_iter().next().unwrap();
    let target = case.tx().unwrap().to.unwrap();
    case.pre.get_mut(&target).unwrap().code = Bytes::copy_from_slice(code);
    case.expect = None;
    case
}

/// Every stepping backend but revm, the reference.
fn others() -> Vec<Box<dyn Backend>> {
    let others: Vec<_> = evmdiff_adapters::stepping_backends()
        .into_iter()
        .filter(|b| b.name() != "revm")
        .collect();
    let names: Vec<_> = others.iter().map(|b| b.name()).collect();
    assert!(names.contains(&"levm"), "{names:?}");
    others
}

/// `PUSH1 1 PUSH1 2 ADD POP CHAINID PUSH1 0 SSTORE STOP`: the scripted backend stores 7, revm
/// 1; the steps agree up to CHAINID and part at the next one (index 5), on its stack.
#[test]
fn a_scripted_difference_is_signed_at_its_first_step() {
    let case = case(&[0x60, 1, 0x60, 2, 0x01, 0x50, CHAINID, 0x60, 0, 0x55, 0x00]);
    let profile = Profile::load("mainnet-cancun").unwrap();
    for other in others() {
        let name = other.name();
        let mut backends: Vec<Box<dyn Backend>> = vec![
            evmdiff_adapters::backend("revm").unwrap(),
            Box::new(Scripted {
                inner: other,
                steps: Arc::default(),
            }),
        ];
        let run = run_case_localized(&mut backends, &case, &profile);
        assert_eq!(run.verdict, Verdict::Diverge, "{name}");
        let d = &run.divergences[0];
        let step = d
            .step
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: not localized"));
        assert_eq!(
            (step.index, step.summary().as_str()),
            (5, "after CHAINID: stack"),
            "{name}"
        );
        let (l, r) = (step.left.as_ref().unwrap(), step.right.as_ref().unwrap());
        assert_eq!(
            (l.stack.as_slice(), r.stack.as_slice()),
            (&[U256::from(1u64)][..], &[U256::from(7u64)][..]),
            "{name}"
        );
        assert_eq!(
            signature(d, &profile.name).to_string(),
            format!("revm|{name} mainnet-cancun step after CHAINID: stack")
        );
        // Without the script the two agree, steps included.
        let mut plain = vec![
            evmdiff_adapters::backend("revm").unwrap(),
            evmdiff_adapters::backend(name).unwrap(),
        ];
        assert_eq!(
            run_case_localized(&mut plain, &case, &profile).verdict,
            Verdict::Agree,
            "{name}"
        );
    }
}

/// `CHAINID POP; 2: JUMPDEST PUSH1 2 JUMP`: the loop runs until the 1,000,000 gas run out
/// (about 90,000 steps), but lockstep stops the scripted backend within the channel's bound
/// of step 2, where it parts from revm.
#[test]
fn lockstep_stops_a_scripted_backend_at_the_difference() {
    let case = case(&[CHAINID, 0x50, 0x5b, 0x60, 2, 0x56]);
    let profile = Profile::load("mainnet-cancun").unwrap();
    for other in others() {
        let name = other.name();
        let steps = Arc::new(AtomicUsize::new(0));
        let mut scripted = Scripted {
            inner: other,
            steps: steps.clone(),
        };
        let mut revm = evmdiff_adapters::backend("revm").unwrap();
        let d = lockstep(revm.as_mut(), &mut scripted, &case, &profile)
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: no difference"));
        assert_eq!(
            (d.index, d.summary().as_str()),
            (1, "after CHAINID: stack"),
            "{name}"
        );
        let n = steps.load(Ordering::Relaxed);
        let limit = 1 + (BOUND + 2) * BATCH;
        assert!(n > 1 && n <= limit, "{name}: {n} steps, limit {limit}");
        // Unwatched, the scripted backend runs the loop to the end of its gas.
        let mut rec = evmdiff_core::trace::Recorder::default();
        scripted
            .execute_observed(&case, &profile, &mut rec)
            .unwrap();
        assert!(rec.steps.len() > 50_000, "{name}: {}", rec.steps.len());
    }
}
