//! Every scenario of the table on every backend: each must pass, or do exactly what its
//! deviation row says. In-process backends always run; the external workers (`eels`,
//! `ethereumjs`, `pyevm`) run when `scripts/setup-external.sh` has installed them, and are
//! reported as skipped (never passed) otherwise.

use std::collections::HashSet;

use evmdiff_adapters::worker::BackendsFile;
use evmdiff_adapters::{any_backend, backend, in_process_names};
use evmdiff_conformance::deviation::{Applies, DEVIATIONS};
use evmdiff_conformance::scenario::Verdict;
use evmdiff_conformance::{Scenario, check, conform, scenarios};
use evmdiff_core::Backend;
use evmdiff_core::compare::compare_chains;

/// Fails with every problem listed.
fn assert_none(problems: &[String]) {
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Runs the whole table, in order, on one instance of `b`; returns every problem.
fn run_table(b: &mut dyn Backend, table: &[Scenario]) -> Vec<String> {
    table.iter().filter_map(|s| conform(b, s).err()).collect()
}

#[test]
fn every_in_process_backend_conforms() {
    let table = scenarios();
    let mut problems = Vec::new();
    for name in in_process_names() {
        let mut b = backend(name).expect("an in-process backend");
        problems.extend(run_table(b.as_mut(), &table));
    }
    assert_none(&problems);
}

#[test]
fn every_installed_external_worker_conforms() {
    let table = scenarios();
    let mut problems = Vec::new();
    let shipped = BackendsFile::shipped();
    for name in shipped.worker.iter().map(|w| w.name.as_str()) {
        match any_backend(name, &BackendsFile::default()) {
            Ok(mut b) => problems.extend(run_table(b.as_mut(), &table)),
            Err(e) => println!("SKIPPED {name}: not installed ({e})"),
        }
    }
    assert_none(&problems);
}

/// Where several in-process backends pass a scenario, their whole outcomes agree field by
/// field (the backend's own words in `detail` aside), not only on what the row checks.
#[test]
fn backends_that_pass_a_scenario_agree_on_everything() {
    let mut backends: Vec<Box<dyn Backend>> = in_process_names()
        .into_iter()
        .map(|n| backend(n).unwrap())
        .collect();
    let mut compared = 0;
    for s in scenarios() {
        let profile = s.profile().unwrap();
        let case = s.case();
        let mut outcomes = Vec::new();
        for b in backends.iter_mut() {
            if check(b.as_mut(), &s) == Verdict::Pass {
                outcomes.push((b.name(), b.execute(&case, &profile).unwrap()));
            }
        }
        for pair in outcomes.windows(2) {
            let ((l, a), (r, b)) = (&pair[0], &pair[1]);
            let d = compare_chains(a, b);
            assert!(d.is_none(), "{}: {l} vs {r}: {d:?}", s.name);
            compared += 1;
        }
    }
    assert!(compared > 100, "only {compared} pairs compared");
}

#[test]
fn the_tables_are_consistent() {
    let table = scenarios();
    let mut names = HashSet::new();
    for s in &table {
        assert!(names.insert(s.name), "duplicate scenario {}", s.name);
        s.profile().unwrap_or_else(|e| panic!("{}: {e}", s.name));
    }
    for d in DEVIATIONS {
        let covered = table.iter().filter(|s| d.covers(d.backend, s)).count();
        assert!(covered > 0, "deviation covers no scenario: {d:?}");
        if let Applies::Scenario(name) = d.applies {
            assert!(names.contains(name), "deviation names no scenario: {d:?}");
        }
    }
}
