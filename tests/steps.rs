//! Every stepping backend reports revm's steps: the same depth, pc, opcode, gas, gas cost,
//! refund (where exposed), stack, memory and return data at every step, and the same
//! precompile calls, on generated cases and on ethereum/tests fixtures, except where a known
//! finding of `docs/findings.md` shows in the steps. Written once, run over every backend
//! whose `Capabilities::steps` is true, so a backend that starts reporting steps is held to
//! revm's conventions without a test of its own.

use std::collections::BTreeMap;
use std::path::Path;

use evmdiff_core::compare::Difference;
use evmdiff_core::expect::skip_reason;
use evmdiff_core::rw_log::{RwLog, first_difference};
use evmdiff_core::statetest::{self, json_files};
use evmdiff_core::trace::Recorder;
use evmdiff_core::witness::{collect, compare_witnesses};
use evmdiff_core::{Backend, Case, Fork, Profile};
use evmdiff_oracle::seal::campaign_case;

/// Differences a backend is known to show in its steps (docs/findings.md), as the first
/// differing step's summary.
fn known(backend: &str, summary: &str) -> bool {
    backend == "evm"
        && (summary == "after CODECOPY: memory_size"
            // evm's machine checks a jump's destination, and its invoker a CREATE's init
            // code size, after the instruction's step has ended: the adapter reports the
            // instruction's cost where revm reports an exceptional halt (`None`).
            || ["JUMP", "JUMPI", "CREATE", "CREATE2"]
                .iter()
                .any(|op| summary.starts_with(&format!("at {op}: gas_cost None against Some("))))
}

/// The first step at which `other`'s steps part from `reference`'s, summarized as the
/// lockstep comparator signs it, or the difference in precompile calls or step counts.
fn parting(reference: &Recorder, other: &Recorder) -> Option<String> {
    for (i, (l, r)) in reference.steps.iter().zip(&other.steps).enumerate() {
        let fields = l.differing_fields(r);
        if fields == ["gas_cost"] {
            return Some(format!(
                "at {}: gas_cost {:?} against {:?}",
                l.op_name, l.gas_cost, r.gas_cost
            ));
        }
        if !fields.is_empty() {
            let after = i
                .checked_sub(1)
                .map_or("transaction start", |p| reference.steps[p].op_name);
            return Some(format!("after {after}: {}", fields.join(",")));
        }
    }
    if reference.steps.len() != other.steps.len() {
        return Some(format!(
            "{} steps against {}",
            reference.steps.len(),
            other.steps.len()
        ));
    }
    (reference.precompiles != other.precompiles).then(|| {
        format!(
            "precompiles {:?} against {:?}",
            reference.precompiles, other.precompiles
        )
    })
}

/// Runs `case` observed on revm and on every other stepping backend that runs it, and records
/// each unexpected parting under the backend's name.
fn compare(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    label: &str,
    partings: &mut BTreeMap<String, Vec<String>>,
) -> usize {
    let (revm, others) = backends.split_at_mut(1);
    let mut reference = Recorder::with_state();
    if revm[0]
        .execute_observed(case, profile, &mut reference)
        .is_err()
    {
        return 0;
    }
    // The prover views of the reference, computed once a backend's steps agree with it.
    let mut views = None;
    let mut compared = 0;
    for other in others {
        let mut rec = Recorder::with_state();
        if other.execute_observed(case, profile, &mut rec).is_err() {
            continue;
        }
        compared += 1;
        let name = other.name().to_string();
        if let Some(p) = parting(&reference, &rec) {
            if !known(&name, &p) {
                partings
                    .entry(name)
                    .or_default()
                    .push(format!("{label}: {p}"));
            }
            continue;
        }
        // Equal steps: the read/write log (derived from them, with each frame's address)
        // and the witness (what each loaded from the pre-state) must be equal too.
        let (ref_log, ref_witness) = views.get_or_insert_with(|| {
            let mut log = RwLog::default();
            revm[0].execute_observed(case, profile, &mut log).unwrap();
            (log.ops, collect(revm[0].as_mut(), case, profile).unwrap().1)
        });
        let mut log = RwLog::default();
        other.execute_observed(case, profile, &mut log).unwrap();
        if let Some((i, a, b)) = first_difference(ref_log, &log.ops) {
            partings
                .entry(name.clone())
                .or_default()
                .push(format!("{label}: rw-log op {i}: {a:?} against {b:?}"));
        }
        // Witnesses are compared here for state tests; a chain's, per block, in tests/witness.rs.
        if case.is_chain() {
            continue;
        }
        let (_, witness) = collect(other.as_mut(), case, profile).unwrap();
        let differences = compare_witnesses(ref_witness, &witness);
        if !differences.is_empty() && !known_witness(&name, &rec, &differences) {
            partings.entry(name).or_default().push(format!(
                "{label}: witness: {}",
                differences
                    .iter()
                    .map(|d| format!("{} {} against {}", d.field, d.left, d.right))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    compared
}

/// Witness differences known from docs/findings.md #4: evm's superfluous reads; levm's load
/// of a SELFDESTRUCT's beneficiary before the gas check that fails (levm checks first only
/// from Amsterdam), an account only levm reads.
fn known_witness(backend: &str, steps: &Recorder, differences: &[Difference]) -> bool {
    const SELFDESTRUCT: u8 = 0xff;
    match backend {
        "evm" => true,
        "levm" => {
            steps
                .steps
                .iter()
                .any(|s| s.op == SELFDESTRUCT && s.gas_cost.is_none())
                && differences.iter().all(|d| {
                    d.field
                        .to_string()
                        .starts_with("witness.right-only.account[")
                })
        }
        _ => false,
    }
}

fn stepping_backends_after_revm() -> Vec<Box<dyn Backend>> {
    let backends = evmdiff_adapters::stepping_backends();
    assert_eq!(backends[0].name(), "revm", "revm is the reference");
    assert!(
        backends.iter().any(|b| b.name() == "levm"),
        "levm reports steps"
    );
    backends
}

fn assert_none(partings: &BTreeMap<String, Vec<String>>) {
    let text: Vec<String> = partings
        .iter()
        .map(|(b, ps)| {
            format!(
                "{b}: {} cases part from revm, first: {}",
                ps.len(),
                ps.iter().take(10).cloned().collect::<Vec<_>>().join("; ")
            )
        })
        .collect();
    assert!(partings.is_empty(), "{}", text.join("\n"));
}

/// A few hundred generated cases per profile, with and without rules.
#[test]
fn steps_equal_revm_on_generated_cases() {
    let mut backends = stepping_backends_after_revm();
    let mut partings = BTreeMap::new();
    let mut compared = 0;
    for (name, seed, n) in [
        ("mainnet-cancun", 1, 300),
        ("mainnet-prague", 2, 200),
        ("mainnet-shanghai", 3, 100),
        ("polygon-zkevm", 4, 100),
    ] {
        let profile = Profile::load(name).unwrap();
        for i in 0..n {
            let Some((_, case)) = campaign_case(&profile, seed, i) else {
                continue;
            };
            compared += compare(
                &mut backends,
                &case,
                &profile,
                &format!("{name} seed {seed} case {i}"),
                &mut partings,
            );
        }
    }
    println!("{compared} step streams compared with revm's");
    assert!(compared > 500, "only {compared} compared");
    assert_none(&partings);
}

/// Every 7th Paris+ fixture file of ethereum/tests, minus the slow ones.
#[test]
fn steps_equal_revm_on_fixtures() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/fixtures/ethereum-tests/GeneralStateTests"
    ));
    let files = json_files(root).expect("fixtures folder");
    let mut backends = stepping_backends_after_revm();
    let mut partings = BTreeMap::new();
    let mut compared = 0;
    for path in files.iter().step_by(7) {
        let name = path.to_string_lossy();
        if skip_reason(path).is_some()
            || ["Performance", "TimeConsuming", "Quadratic", "Stress"]
                .iter()
                .any(|s| name.contains(s))
        {
            continue;
        }
        let file = statetest::read_file(path).unwrap_or_else(|e| panic!("{e}"));
        for case in file.cases.iter().filter(|c| c.fork >= Fork::Paris) {
            let profile = Profile::mainnet(case.fork);
            compared += compare(
                &mut backends,
                case,
                &profile,
                &format!("{}: {}", path.display(), case.name),
                &mut partings,
            );
        }
    }
    println!("{compared} step streams compared with revm's");
    assert!(compared > 1000, "only {compared} compared");
    assert_none(&partings);
}
