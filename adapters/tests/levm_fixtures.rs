//! Replays the ethereum/tests GeneralStateTests fixtures through the levm backend under the
//! plain mainnet profile of each case's fork, and requires the pass rate measured when the
//! backend was added (see `docs/backends.md`) as a floor, with every failure printed.
//!
//! Files on revme's skip list (`evmdiff_core::expect::skip_reason`) are skipped, as for the
//! other backends. levm runs Paris and later only, so every case of an earlier fork must be
//! reported `Unsupported` (and is counted apart); any other unsupported case fails the test.
//!
//! A second test replays the same cases through the adapter's own dispatch loop (the one that
//! applies profile rules, `LevmBackend::with_own_loop`) and requires every outcome to be
//! exactly the one levm's own `VM::execute` gives: the loop must be levm's.
//!
//! Set `EVMDIFF_FIXTURE_FILTER=substring` to replay only matching paths.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use evmdiff_adapters::levm_backend::LevmBackend;
use evmdiff_core::expect::{Check, check, skip_reason};
use evmdiff_core::statetest::json_files;
use evmdiff_core::{Backend, BackendError, Case, Fork, Profile, statetest};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/ethereum-tests/GeneralStateTests"
);

/// The oldest fork levm runs.
const FIRST_FORK: Fork = Fork::Paris;

/// Per fork: passed, failed, unsupported.
type Counts = BTreeMap<Fork, [usize; 3]>;

#[derive(Default)]
struct Tally {
    counts: Counts,
    failures: Vec<String>,
    unsupported: BTreeMap<String, usize>,
    /// Cases whose own-loop outcome differs from `VM::execute`'s (second test only).
    loop_mismatches: Vec<String>,
}

fn files() -> (PathBuf, Vec<PathBuf>, bool) {
    let root = PathBuf::from(FIXTURES);
    assert!(root.is_dir(), "fixtures not found at {}", root.display());
    let filter = std::env::var("EVMDIFF_FIXTURE_FILTER").ok();
    let mut files = json_files(&root).expect("fixtures folder");
    files.sort();
    if filter.is_none() {
        assert!(
            files.len() > 2000,
            "expected the full GeneralStateTests set, found {} files",
            files.len()
        );
    }
    files.retain(|p| {
        skip_reason(p).is_none()
            && filter
                .as_ref()
                .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
    });
    (root, files, filter.is_none())
}

/// Streams the cases of `files` of levm's forks through `threads` workers running `work`.
fn replay(files: &[PathBuf], work: impl Fn(&Path, &Case, &mut Tally) + Sync) -> (Tally, usize) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let (send, receive) = std::sync::mpsc::sync_channel::<(usize, Case)>(256);
    let receive = Mutex::new(receive);
    let mut total = 0;
    let mut t = Tally::default();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut tally = Tally::default();
                    loop {
                        let next = receive.lock().unwrap().recv();
                        let Ok((i, case)) = next else { break tally };
                        work(&files[i], &case, &mut tally);
                    }
                })
            })
            .collect();
        for (i, path) in files.iter().enumerate() {
            let file = statetest::read_file(path).unwrap_or_else(|e| panic!("{e}"));
            total += file.cases.len();
            for case in file.cases {
                send.send((i, case)).expect("workers are running");
            }
        }
        drop(send);
        for w in workers {
            let from = w.join().expect("worker thread panicked");
            for (fork, c) in from.counts {
                let e = t.counts.entry(fork).or_default();
                for k in 0..3 {
                    e[k] += c[k];
                }
            }
            t.failures.extend(from.failures);
            t.loop_mismatches.extend(from.loop_mismatches);
            for (why, n) in from.unsupported {
                *t.unsupported.entry(why).or_default() += n;
            }
        }
    });
    (t, total)
}

#[test]
fn levm_reproduces_the_general_state_tests() {
    let start = Instant::now();
    let (root, files, full) = files();
    let (t, total) = replay(&files, |path, case, tally| {
        let counts = tally.counts.entry(case.fork).or_default();
        match LevmBackend::default().execute(case, &Profile::mainnet(case.fork)) {
            Ok(outcome) => match check(case, &outcome) {
                Check::Pass => counts[0] += 1,
                Check::Fail(why) => {
                    counts[1] += 1;
                    tally.failures.push(format!(
                        "{}: {}: {why} [{}, {} gas]",
                        path.strip_prefix(FIXTURES).unwrap_or(path).display(),
                        case.name,
                        outcome.detail,
                        outcome.gas_used
                    ));
                }
                Check::NoExpectation => {
                    panic!("{}: {} has no expectation", path.display(), case.name)
                }
            },
            Err(BackendError::Unsupported(why)) => {
                counts[2] += 1;
                *tally.unsupported.entry(why).or_default() += 1;
            }
            Err(e) => {
                counts[1] += 1;
                tally
                    .failures
                    .push(format!("{}: {}: {e}", path.display(), case.name));
            }
        }
    });

    let [mut pass, mut fail, mut unsup] = [0; 3];
    println!(
        "levm fixture replay: {} files under {} ({total} cases)",
        files.len(),
        root.display()
    );
    println!(
        "{:<18} {:>7} {:>7} {:>12}",
        "fork", "pass", "fail", "unsupported"
    );
    for (fork, [p, f, u]) in &t.counts {
        println!("{:<18} {p:>7} {f:>7} {u:>12}", fork.name());
        pass += p;
        fail += f;
        unsup += u;
    }
    println!("{:<18} {pass:>7} {fail:>7} {unsup:>12}", "total");
    for (why, n) in &t.unsupported {
        println!("unsupported ({n} cases): {why}");
    }
    let mut failures = t.failures.clone();
    failures.sort();
    for f in &failures {
        println!("FAIL {f}");
    }
    println!("wall time: {:.1?}", start.elapsed());

    assert_eq!(pass + fail + unsup, total, "every case is counted once");
    let unexpected: usize = t
        .counts
        .iter()
        .filter(|(f, _)| **f >= FIRST_FORK)
        .map(|(_, c)| c[2])
        .sum();
    assert_eq!(unexpected, 0, "only forks before Paris may be unsupported");
    let supported: usize = t
        .counts
        .iter()
        .filter(|(f, _)| **f >= FIRST_FORK)
        .map(|(_, c)| c[0] + c[1])
        .sum();
    assert!(supported > 0, "no case of a fork levm runs");
    // The rate measured when the backend was added (docs/backends.md): every Paris+ case
    // passes, so any failure is new and fails the test (it is printed above).
    assert_eq!(
        fail, 0,
        "{fail} of {supported} Paris+ cases failed; all passed when the backend was added"
    );
    if full {
        assert!(pass > 21_000, "only {pass} cases passed");
    }
}

#[test]
fn own_loop_matches_levm_execute() {
    let (_, files, _) = files();
    let (t, _) = replay(&files, |path, case, tally| {
        if case.fork < FIRST_FORK {
            return;
        }
        let profile = Profile::mainnet(case.fork);
        let plain = LevmBackend::default().execute(case, &profile);
        let own = LevmBackend::with_own_loop().execute(case, &profile);
        tally.counts.entry(case.fork).or_default()[0] += 1;
        if plain != own {
            tally.loop_mismatches.push(format!(
                "{}: {}: execute {:?} / own loop {:?}",
                path.strip_prefix(FIXTURES).unwrap_or(path).display(),
                case.name,
                plain.as_ref().map(|o| (o.status, o.gas_used, o.state_root)),
                own.as_ref().map(|o| (o.status, o.gas_used, o.state_root)),
            ));
        }
    });
    let compared: usize = t.counts.values().map(|c| c[0]).sum();
    println!("own loop vs VM::execute: {compared} cases compared");
    for m in t.loop_mismatches.iter().take(50) {
        println!("MISMATCH {m}");
    }
    assert!(compared > 0, "no case compared");
    assert!(
        t.loop_mismatches.is_empty(),
        "{} cases differ between the adapter's loop and VM::execute",
        t.loop_mismatches.len()
    );
}
