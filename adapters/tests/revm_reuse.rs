//! revm only: the backend reuses one EVM per thread, swapping database, block, transaction,
//! instruction table and precompile rules between executions. Running cases under alternating
//! profiles (forks, opcode rules, precompile rules, warm sets all change from one execution to
//! the next) must give exactly what a fresh EVM gives for each.

use evmdiff_adapters::revm_backend::RevmBackend;
use evmdiff_conformance::fixture::general_state_tests;
use evmdiff_conformance::scenarios;
use evmdiff_core::{Backend, Profile};

#[test]
fn a_reused_evm_matches_a_fresh_one() {
    let dir = general_state_tests();
    let profiles = [
        None,
        Some(Profile::load("eip7530-b").unwrap()),
        Some(Profile::load("scroll").unwrap()),
        Some(Profile::load("linea").unwrap()),
        Some(Profile::load("polygon-zkevm").unwrap()),
    ];
    let mut reused = RevmBackend::default();
    let mut fresh = RevmBackend::with_fresh_evm();
    let mut compared = 0;
    for sub in [
        "stPreCompiledContracts2",
        "stRevertTest",
        "stSelfBalance",
        "stRefundTest",
    ] {
        for path in evmdiff_core::statetest::json_files(&dir.join(sub)).unwrap() {
            for (i, c) in evmdiff_core::statetest::read_file(&path)
                .unwrap()
                .cases
                .iter()
                .enumerate()
            {
                let p = profiles[i % profiles.len()]
                    .clone()
                    .unwrap_or_else(|| Profile::mainnet(c.fork));
                let a = reused.execute(c, &p);
                let b = fresh.execute(c, &p);
                assert_eq!(a, b, "{}: {} under {}", path.display(), c.name, p.name);
                compared += 1;
            }
        }
    }
    // Every conformance scenario (hand-built cases that the rules change), each under its own
    // profile and under every profile above in turn, twice.
    let table = scenarios();
    for _ in 0..2 {
        for s in &table {
            let c = s.case();
            let own = s.profile().unwrap();
            for p in std::iter::once(&Some(own)).chain(&profiles) {
                let p = p.clone().unwrap_or_else(|| Profile::mainnet(c.fork));
                assert_eq!(
                    reused.execute(&c, &p),
                    fresh.execute(&c, &p),
                    "{} under {}",
                    s.name,
                    p.name
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 1500, "only {compared} cases compared");
}
