//! levm only: under a profile with rules the adapter runs its own copy of levm's dispatch
//! loop (`LevmBackend::with_own_loop`), and an observed execution runs it under every
//! profile, watched. Where no rule fires it must give exactly what levm's own `VM::execute`
//! gives, watched or not: the loop must be levm's.
//!
//! Set `EVMDIFF_FIXTURE_FILTER=substring` to replay only matching paths.

use evmdiff_adapters::levm_backend::LevmBackend;
use evmdiff_conformance::fixture::general_state_tests;
use evmdiff_conformance::scenario::{ProfileSpec, Scenario, Target, call, call_with_calldata};
use evmdiff_conformance::{scenarios, spread};
use evmdiff_core::statetest::json_files;
use evmdiff_core::step_hash::StepHash;
use evmdiff_core::{Backend, Fork, Profile};

/// The oldest fork levm runs.
const FIRST_FORK: Fork = Fork::Paris;

/// Rules that none of the cases below fire: the plain outcome, the outcome under the rules
/// and the own loop's outcome without rules are one.
#[test]
fn rules_that_do_not_fire_change_nothing() {
    let rules = Profile::from_toml(
        "name = \"t\"\nbase_fork = \"Shanghai\"\n[opcodes]\nCOINBASE = \"reject\"\n[precompiles]\nblake2f = \"halt\"\n",
        "rules.toml",
    )
    .unwrap();
    let mainnet = Profile::mainnet(Fork::Shanghai);
    let mut cases: Vec<_> = scenarios()
        .into_iter()
        .filter(|s| s.fork == Fork::Shanghai && s.profile == ProfileSpec::Mainnet)
        .map(|s| s.case())
        .collect();
    let extra = |code| Scenario::new("extra", ProfileSpec::Mainnet, Fork::Shanghai).code(code);
    cases.extend([
        extra(call(0x02, 1)).case(),
        extra(call(0xbeef, 0)).case(),
        extra(vec![0x60, 0x00, 0xff]).case(),
        extra(call_with_calldata(0x05))
            .data(evmdiff_conformance::scenario::modexp_lengths(1, 1, 1))
            .to(Target::Contract)
            .case(),
    ]);
    assert!(cases.len() > 20, "{} cases", cases.len());
    for c in &cases {
        let m = LevmBackend::default().execute(c, &mainnet).unwrap();
        assert_eq!(
            LevmBackend::default().execute(c, &rules).unwrap(),
            m,
            "{}",
            c.name
        );
        assert_eq!(
            LevmBackend::with_own_loop().execute(c, &mainnet).unwrap(),
            m,
            "{}",
            c.name
        );
    }
}

/// Every Paris+ fixture case through the own loop, through the own loop watched by an
/// observer that asks for every step's state (the fuzzing fast path's step hash), and through
/// `VM::execute`.
#[test]
fn own_loop_matches_levm_execute() {
    let mut files = json_files(&general_state_tests()).expect("fixtures folder");
    if let Ok(f) = std::env::var("EVMDIFF_FIXTURE_FILTER") {
        files.retain(|p| p.to_string_lossy().contains(f.as_str()));
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (walk, mismatches) = spread(
        &files,
        threads,
        |c| c.fork >= FIRST_FORK,
        || (),
        |(), path, case, out: &mut Vec<String>| {
            let profile = Profile::mainnet(case.fork);
            let plain = LevmBackend::default().execute(case, &profile);
            let own = LevmBackend::with_own_loop().execute(case, &profile);
            let observed =
                LevmBackend::default().execute_observed(case, &profile, &mut StepHash::default());
            for (what, other) in [("own loop", own), ("observed", observed)] {
                if plain != other {
                    out.push(format!(
                        "{}: {}: execute {:?} / {what} {:?}",
                        path.display(),
                        case.name,
                        plain.as_ref().map(|o| o.last_tx().map(|o| (
                            o.status,
                            o.gas_used,
                            o.state_root()
                        ))),
                        other.as_ref().map(|o| o.last_tx().map(|o| (
                            o.status,
                            o.gas_used,
                            o.state_root()
                        ))),
                    ));
                }
            }
        },
    )
    .unwrap();
    let mismatches: Vec<String> = mismatches.into_iter().flatten().collect();
    println!("own loop vs VM::execute: {} cases compared", walk.cases);
    assert!(walk.cases > 0, "no case compared");
    assert!(
        mismatches.is_empty(),
        "{} cases differ between the adapter's loop and VM::execute:\n{}",
        mismatches.len(),
        mismatches
            .iter()
            .take(50)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
