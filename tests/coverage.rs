//! What generated programs execute, measured on revm: under every built-in profile, the
//! first 2,000 cases of seed 0 execute every opcode and call every precompile the profile
//! allows, and fewer than 5% of them halt within their first five top-frame instructions.
//! A generator change that loses an opcode or makes cases die early fails here. The same
//! targets over 10,000 cases are checked with `evmdiff fuzz --coverage` (docs/coverage.md).
//!
//! Also: the observed path gives the outcome of the plain one on generated cases (which reach
//! far more profile rules than the fixtures), the measurement does not depend on the number
//! of threads, and `evmdiff fuzz --coverage` reports it in text and in `--stats-json`.

use std::process::Command;

use arbitrary::Unstructured;
use evmdiff::coverage::{Coverage, Options, measure};
use evmdiff_core::profile::builtin_names;
use evmdiff_core::trace::Recorder;
use evmdiff_core::{BackendError, Profile};
use evmdiff_generator::input_bytes;

/// Cases per profile: at this size every profile's rarest allowed opcode (a DUPn or SWAPn)
/// still runs in 15 cases or more, so the test has a margin without taking a minute.
const CASES: u64 = 2_000;
/// Early halts must stay under this share of cases, in percent.
const MAX_EARLY_HALT_PERCENT: f64 = 5.0;

fn coverage(profile: &str, runs: u64, jobs: usize) -> Coverage {
    measure(&Options {
        profile: Profile::load(profile).unwrap(),
        backend: "revm".into(),
        seed: 0,
        gas_budget: None,
        first: 0,
        runs,
        jobs,
    })
    .unwrap()
}

fn check_targets(profile: &str) -> Coverage {
    let cov = coverage(profile, CASES, 1);
    assert_eq!(cov.cases, CASES, "{profile}: every case generated and run");
    let missed: Vec<String> = cov
        .missed_opcodes()
        .iter()
        .chain(&cov.missed_precompiles())
        .map(|i| format!("{} ({})", i.name, i.code))
        .collect();
    assert!(
        missed.is_empty(),
        "{profile}: allowed but never executed in {CASES} cases: {}\n{}",
        missed.join(", "),
        cov.text()
    );
    assert!(
        cov.early_halt_percent() < MAX_EARLY_HALT_PERCENT,
        "{profile}: {:.2}% of cases halt within their first 5 top-frame instructions\n{}",
        cov.early_halt_percent(),
        cov.text()
    );
    // The allowed sets are the profile's, not everything: nothing is counted twice.
    let executed: u64 = cov.statuses.values().sum();
    assert_eq!(executed, cov.cases);
    cov
}

#[test]
fn mainnet_shanghai_reaches_its_targets() {
    check_targets("mainnet-shanghai");
}

#[test]
fn mainnet_cancun_reaches_its_targets() {
    let cov = check_targets("mainnet-cancun");
    // Cancun has every instruction the feature tags are about: each tag is hit.
    assert!(
        cov.missed_features().is_empty(),
        "feature tags no case hit in {CASES}: {:?}\n{}",
        cov.missed_features(),
        cov.text()
    );
}

#[test]
fn mainnet_prague_reaches_its_targets() {
    check_targets("mainnet-prague");
}

#[test]
fn mainnet_osaka_reaches_its_targets() {
    check_targets("mainnet-osaka");
}

#[test]
fn eip7530_a_reaches_its_targets() {
    check_targets("eip7530-a");
}

#[test]
fn eip7530_b_reaches_its_targets() {
    check_targets("eip7530-b");
}

#[test]
fn scroll_reaches_its_targets() {
    check_targets("scroll");
}

#[test]
fn linea_reaches_its_targets() {
    check_targets("linea");
}

#[test]
fn polygon_zkevm_reaches_its_targets() {
    check_targets("polygon-zkevm");
}

#[test]
fn taiko_reaches_its_targets() {
    check_targets("taiko");
}

#[test]
fn every_builtin_profile_has_a_coverage_test() {
    let this = include_str!("coverage.rs");
    for name in builtin_names() {
        let test = format!("fn {}_reaches_its_targets", name.replace('-', "_"));
        assert!(this.contains(&test), "no `{test}` for built-in {name}");
    }
}

#[test]
fn the_allowed_sets_follow_the_profile() {
    let scroll = coverage("scroll", 1, 1);
    let names = |items: &[evmdiff::coverage::Item]| -> Vec<String> {
        items.iter().map(|i| i.name.clone()).collect()
    };
    let ops = names(&scroll.opcodes);
    for forbidden in ["SELFDESTRUCT", "BLOBHASH", "BLOBBASEFEE", "CLZ"] {
        assert!(!ops.contains(&forbidden.to_string()), "{forbidden}");
    }
    for kept in ["PREVRANDAO", "COINBASE", "INVALID", "PUSH0", "MCOPY"] {
        assert!(ops.contains(&kept.to_string()), "{kept}");
    }
    // Osaka's 150 opcodes (INVALID included) minus the four scroll makes invalid.
    assert_eq!(scroll.opcodes.len(), 146);
    // Absent precompiles are not allowed, halting ones are.
    assert_eq!(
        names(&scroll.precompiles),
        [
            "ecrecover",
            "sha256",
            "ripemd160",
            "identity",
            "modexp",
            "bn254_add",
            "bn254_mul",
            "bn254_pairing",
            "blake2f",
            "p256verify"
        ]
    );
    // Rejected precompiles count as allowed: calling one is what tests the rule.
    let linea = coverage("linea", 1, 1);
    assert_eq!(linea.precompiles.len(), 18);
    assert!(linea.precompiles.iter().any(|p| p.behaviour == "reject"));
    // An added precompile is allowed, even outside the base fork (P256VERIFY on Shanghai),
    // so `polygon_zkevm_reaches_its_targets` requires that the generator calls it.
    let polygon = coverage("polygon-zkevm", 1, 1);
    let p256 = polygon.precompiles.iter().find(|p| p.code == "0x100");
    assert_eq!(
        p256.map(|p| p.behaviour.as_str()),
        Some("p256verify-rip7212 (3450 gas)")
    );
    assert_eq!(
        scroll.precompiles.last().map(|p| p.behaviour.as_str()),
        Some("supported")
    );
}

#[test]
fn the_measurement_does_not_depend_on_the_threads() {
    let one = serde_json::to_value(coverage("eip7530-b", 300, 1)).unwrap();
    let two = serde_json::to_value(coverage("eip7530-b", 300, 2)).unwrap();
    assert_eq!(one, two);
}

#[test]
fn observed_outcomes_match_plain_ones_on_generated_cases() {
    for name in builtin_names() {
        let profile = Profile::load(name).unwrap();
        // Every in-process backend: observed, each must give `execute`'s outcome.
        for backend_name in evmdiff_adapters::in_process_names() {
            let mut backend = evmdiff_adapters::backend(backend_name).unwrap();
            for i in 0..150 {
                let input = input_bytes(7, i);
                let case = evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
                    .unwrap()
                    .case;
                let plain = backend.execute(&case, &profile);
                if matches!(plain, Err(BackendError::Unsupported(_))) {
                    break;
                }
                let mut rec = Recorder::default();
                let observed = backend.execute_observed(&case, &profile, &mut rec);
                assert_eq!(plain, observed, "{backend_name} {name} case {i}");
            }
        }
    }
}

#[test]
fn fuzz_coverage_prints_the_report_and_writes_it_to_the_stats() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let out = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args([
            "fuzz",
            "--profile",
            "scroll",
            "--backends",
            "revm",
            "--runs",
            "200",
        ])
        .args(["--jobs", "1", "--coverage", "--out"])
        .arg(dir.path().join("findings"))
        .arg("--stats-json")
        .arg(&stats)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("coverage on revm 43.0.3 under scroll: seed 0, cases 0..200"),
        "{text}"
    );
    assert!(text.contains("early halts"), "{text}");
    assert!(text.contains("executed, not allowed"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(json["cases"], 200);
    let cov = &json["coverage"];
    assert_eq!(cov["cases"], 200);
    assert_eq!(cov["opcodes"].as_array().unwrap().len(), 146);
    let sstore = cov["opcodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["name"] == "SSTORE")
        .unwrap();
    assert!(sstore["executed"].as_u64().unwrap() > 0);
    assert_eq!(sstore["code"], "0x55");
}
