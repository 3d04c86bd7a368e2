//! Replays every ethereum/tests GeneralStateTest fixture on the `evm` backend, each case under
//! plain mainnet at the case's fork, and checks the post-state root and logs hash.
//!
//! The test fails when the pass count drops below [`MIN_PASS`], or when a case fails that is
//! not in [`KNOWN_GAPS`] (each entry names its cause; see `docs/backends.md`), or when a known
//! gap starts passing (so the list and the floor are raised together).
//!
//! `cargo test -p evmdiff-adapters --test evm_fixtures -- --nocapture` prints the counts;
//! `EVMDIFF_FIXTURES_VERBOSE=1` also prints every failure with its reason.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use evmdiff_adapters::evm_backend::EvmBackend;
use evmdiff_core::expect::{Check, check, skip_reason};
use evmdiff_core::statetest::{json_files, read_file};
use evmdiff_core::{Backend, BackendError, Case, Profile};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/ethereum-tests/GeneralStateTests"
);

/// The number of passing cases this adapter reached; it must never drop.
const MIN_PASS: usize = 21_387;

/// A case that fails because of a gap in evm 1.1.1 itself.
struct Gap {
    /// The case name (`test/Fork/dDgGvV`); a trailing `*` matches any suffix.
    case: &'static str,
    /// Text the failure must contain, so that a known case failing some other way is caught.
    symptom: &'static str,
    /// Why, in a sentence (the full story is in `docs/backends.md`).
    cause: &'static str,
}

/// Every failure this adapter is allowed: gaps of evm, each proven in `tests/evm_gaps.rs`.
const KNOWN_GAPS: &[Gap] = &[
    Gap {
        case: "buffer/Cancun/d170g0v0",
        symptom: "NotSupported",
        cause: CREATE_LEN_FATAL,
    },
    Gap {
        case: "buffer/Cancun/d173g0v0",
        symptom: "NotSupported",
        cause: CREATE_LEN_FATAL,
    },
    Gap {
        case: "createNameRegistratorOOG_MemExpansionOOV/Cancun/d0g0v0",
        symptom: "NotSupported",
        cause: CREATE_LEN_FATAL,
    },
];

/// Proof: `tests/evm_gaps.rs`, `create_with_a_length_over_64_bits_is_fatal_from_shanghai`.
const CREATE_LEN_FATAL: &str = "evm 1.1.1 aborts the transaction (ExitFatal::NotSupported) on CREATE with a length over \
     64 bits from Shanghai: its EIP-3860 init-code price converts the length to usize before the memory cost makes the \
     frame run out of gas";

#[derive(Default)]
struct Tally {
    pass: usize,
    fail: Vec<(String, String)>,
    unsupported: BTreeMap<String, usize>,
    skipped_files: Vec<(String, &'static str)>,
    skipped_cases: usize,
    skipped_entries: usize,
    no_expectation: usize,
}

/// The known gap that explains `name` failing with `why`, if any.
fn known_gap(name: &str, why: &str) -> Option<&'static Gap> {
    KNOWN_GAPS
        .iter()
        .find(|g| matches_pattern(name, g.case) && why.contains(g.symptom))
}

/// Runs the cases it receives until the channel closes; returns what it saw.
fn replay(jobs: &Mutex<Receiver<(Arc<str>, Case)>>) -> Tally {
    let mut backend = EvmBackend::default();
    let mut t = Tally::default();
    loop {
        let Ok((rel, case)) = jobs.lock().unwrap().recv() else {
            return t;
        };
        match backend.execute(&case, &Profile::mainnet(case.fork)) {
            Ok(outcome) => match check(&case, &outcome) {
                Check::Pass => t.pass += 1,
                Check::Fail(why) => t.fail.push((
                    case.name.clone(),
                    format!("{rel}: {why} [{}]", outcome.detail),
                )),
                Check::NoExpectation => t.no_expectation += 1,
            },
            Err(BackendError::Unsupported(why)) => *t.unsupported.entry(why).or_default() += 1,
            Err(
                e @ (BackendError::Failed(_) | BackendError::Timeout(_) | BackendError::NotSampled),
            ) => t.fail.push((case.name.clone(), format!("{rel}: {e}"))),
        }
    }
}

#[test]
fn evm_replays_ethereum_state_tests() {
    let start = Instant::now();
    let mut files = Vec::new();
    files.extend(json_files(Path::new(FIXTURES)).expect("fixtures folder"));
    assert!(
        files.len() > 2000,
        "expected the ethereum/tests fixtures at {FIXTURES}, found {} files",
        files.len()
    );

    // One thread reads the files and feeds cases, one per core runs them: the slowest files
    // (e.g. vmPerformance/loopExp) hold many cases, so cases, not files, are spread.
    let (feed, jobs) = sync_channel::<(Arc<str>, Case)>(256);
    let jobs = Mutex::new(jobs);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let mut t = Tally::default();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let jobs = &jobs;
                // Default 2 MiB stacks: evm moves frames past `HEAP_DEPTH` to the heap, so
                // 1024-deep calls fit.
                std::thread::Builder::new()
                    .spawn_scoped(s, move || replay(jobs))
                    .expect("spawn a replay thread")
            })
            .collect();
        for path in &files {
            let rel: Arc<str> = path
                .strip_prefix(FIXTURES)
                .unwrap_or(path)
                .display()
                .to_string()
                .into();
            if let Some(reason) = skip_reason(path) {
                // Some skipped files do not even parse (values over 256 bits): count what does.
                t.skipped_cases += read_file(path).map_or(0, |f| f.cases.len());
                t.skipped_files.push((rel.to_string(), reason));
                continue;
            }
            let file = read_file(path).unwrap_or_else(|e| panic!("{e}"));
            t.skipped_entries += file.skipped.len();
            for case in file.cases {
                feed.send((rel.clone(), case))
                    .expect("a replay thread stopped early");
            }
        }
        drop(feed);
        for w in workers {
            let mut r = w.join().expect("a replay thread panicked");
            t.pass += r.pass;
            t.fail.append(&mut r.fail);
            for (k, v) in r.unsupported {
                *t.unsupported.entry(k).or_default() += v;
            }
            t.no_expectation += r.no_expectation;
        }
    });
    t.fail.sort();

    let unsupported: usize = t.unsupported.values().sum();
    println!(
        "evm 1.1.1 on {} fixture files: {} passed, {} failed, {} unsupported, {} skipped ({} files, cases counted where they parse), {} post entries of unknown forks, {:.1}s",
        files.len(),
        t.pass,
        t.fail.len(),
        unsupported,
        t.skipped_cases,
        t.skipped_files.len(),
        t.skipped_entries,
        start.elapsed().as_secs_f64()
    );
    for (why, n) in &t.unsupported {
        println!("  unsupported x{n}: {why}");
    }
    for (file, why) in &t.skipped_files {
        println!("  skipped {file}: {why}");
    }
    let verbose = std::env::var_os("EVMDIFF_FIXTURES_VERBOSE").is_some();
    let mut unexplained = Vec::new();
    let mut explained: BTreeMap<&str, usize> = BTreeMap::new();
    for (name, why) in &t.fail {
        match known_gap(name, why) {
            Some(gap) => *explained.entry(gap.cause).or_default() += 1,
            None => unexplained.push(format!("{name}: {why}")),
        }
        if verbose {
            println!("  FAIL {name}: {why}");
        }
    }
    for (cause, n) in &explained {
        println!("  known gap x{n}: {cause}");
    }
    let stale: Vec<&str> = KNOWN_GAPS
        .iter()
        .filter(|g| {
            !t.fail
                .iter()
                .any(|(name, why)| known_gap(name, why).is_some_and(|k| std::ptr::eq(k, *g)))
        })
        .map(|g| g.case)
        .collect();

    assert_eq!(
        t.no_expectation, 0,
        "every fixture case carries an expectation"
    );
    assert!(
        unexplained.is_empty(),
        "{} failures outside the known gaps:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "known gaps that no longer fail (remove them and raise MIN_PASS): {stale:?}"
    );
    assert!(
        t.pass >= MIN_PASS,
        "{} cases passed, fewer than the {MIN_PASS} reached before",
        t.pass
    );
}

fn matches_pattern(name: &str, pattern: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}
