//! The ethereum/tests GeneralStateTests replay of every backend against its floor
//! (`fixture::FLOORS`): in-process backends on the whole set, one test each (they are the
//! slowest tests of the workspace and run in parallel); the external workers on their
//! representative folders when `scripts/setup-external.sh` has installed them, reported as
//! skipped (never passed) otherwise.
//!
//! `EVMDIFF_FIXTURE_FILTER=substring` replays only the matching paths (the pass floor and the
//! known-failure list are then not checked); `--nocapture` prints the tallies.

use std::time::Instant;

use evmdiff_adapters::worker::BackendsFile;
use evmdiff_adapters::{any_backend, backend, in_process_names};
use evmdiff_conformance::fixture::{Floor, general_state_tests};
use evmdiff_conformance::{FLOORS, replay};

fn threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
}

/// Replays `floor`'s files on backends made by `make` and judges the floor.
fn holds(floor: &Floor, threads: usize, make: impl Fn() -> Box<dyn evmdiff_core::Backend> + Sync) {
    let start = Instant::now();
    let mut files = floor.files(&general_state_tests()).unwrap();
    let filter = std::env::var("EVMDIFF_FIXTURE_FILTER").ok();
    if let Some(f) = &filter {
        files.retain(|p| p.to_string_lossy().contains(f.as_str()));
    }
    let t = replay(&files, threads, floor.skip, make).unwrap();
    println!(
        "{} on {} files:\n{}",
        floor.backend,
        files.len(),
        t.summary()
    );
    for (name, why) in t.failed.iter().take(50) {
        println!("FAIL {name}: {why}");
    }
    println!("wall time: {:.1?}", start.elapsed());
    floor
        .judge(&t, filter.is_none())
        .unwrap_or_else(|e| panic!("{e}"));
}

fn in_process(name: &'static str) {
    let floor = Floor::of(name).expect("every in-process backend has a floor");
    holds(floor, threads(), || backend(name).unwrap());
}

#[test]
fn revm_holds_its_floor() {
    in_process("revm");
}

#[test]
fn evm_holds_its_floor() {
    in_process("evm");
}

#[test]
fn levm_holds_its_floor() {
    in_process("levm");
}

#[test]
fn every_in_process_backend_has_a_floor_test() {
    for name in in_process_names() {
        assert!(
            ["revm", "evm", "levm"].contains(&name) && Floor::of(name).is_some(),
            "{name}: add a floor and a test above"
        );
    }
}

#[test]
fn installed_external_workers_hold_their_floors() {
    for floor in FLOORS
        .iter()
        .filter(|f| !in_process_names().contains(&f.backend))
    {
        let runners = BackendsFile::default();
        match any_backend(floor.backend, &runners) {
            // One worker process: the Python workers are single-threaded and slow to start.
            Ok(_) => holds(floor, 1, || any_backend(floor.backend, &runners).unwrap()),
            Err(e) => println!("SKIPPED {}: not installed ({e})", floor.backend),
        }
    }
}
