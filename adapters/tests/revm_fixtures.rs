//! Replays every ethereum/tests GeneralStateTests fixture through the revm backend under the
//! plain mainnet profile of each case's fork, and requires every case to reproduce the expected
//! state root and logs hash (or to be refused when an exception is expected).
//!
//! Files on revme's own skip list (`evmdiff_core::expect::skip_reason`) are skipped. The only
//! other cases not checked are those revm cannot run at all: the original Constantinople, which
//! revm 43 has no spec for (the backend says `Unsupported`, and revme skips it too). Any other
//! unsupported case, any failure and any backend error fails the test.
//!
//! Cases, not files, are spread over the threads: one file (`vmPerformance/loopExp.json`, 15
//! EXP loops of 80M gas) takes most of the time in a debug build, and would otherwise keep one
//! thread busy alone. Set `EVMDIFF_FIXTURE_FILTER=substring` to replay only matching paths.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Instant;

use evmdiff_adapters::revm_backend::RevmBackend;
use evmdiff_core::expect::{Check, check, skip_reason};
use evmdiff_core::statetest::json_files;
use evmdiff_core::{Backend, BackendError, Case, Fork, Profile, statetest};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/ethereum-tests/GeneralStateTests"
);

/// Per fork: passed, failed, unsupported.
type Counts = BTreeMap<Fork, [usize; 3]>;

#[derive(Default)]
struct Tally {
    counts: Counts,
    failures: Vec<String>,
    unsupported: BTreeMap<String, usize>,
}

fn run_case(backend: &mut RevmBackend, path: &Path, case: &Case, tally: &mut Tally) {
    let counts = tally.counts.entry(case.fork).or_default();
    match backend.execute(case, &Profile::mainnet(case.fork)) {
        Ok(outcome) => match check(case, &outcome) {
            Check::Pass => counts[0] += 1,
            Check::Fail(why) => {
                counts[1] += 1;
                tally.failures.push(format!(
                    "{}: {}: {why} [{}, {} gas]",
                    path.display(),
                    case.name,
                    outcome.detail,
                    outcome.gas_used
                ));
            }
            Check::NoExpectation => panic!("{}: {} has no expectation", path.display(), case.name),
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
}

#[test]
fn revm_reproduces_every_general_state_test() {
    let start = Instant::now();
    let root = Path::new(FIXTURES);
    assert!(root.is_dir(), "fixtures not found at {}", root.display());
    let filter = std::env::var("EVMDIFF_FIXTURE_FILTER").ok();
    let mut files = Vec::new();
    files.extend(json_files(root).expect("fixtures folder"));
    files.sort();
    if filter.is_none() {
        assert!(
            files.len() > 2000,
            "expected the full GeneralStateTests set, found {} files",
            files.len()
        );
    }
    files.retain(|p| {
        filter
            .as_ref()
            .is_none_or(|f| p.to_string_lossy().contains(f.as_str()))
    });
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);

    // One thread reads the files and streams their cases through a bounded channel (so that
    // only a few hundred cases are in memory at once) to the workers.
    let (send, receive) = std::sync::mpsc::sync_channel::<(usize, Case)>(256);
    let receive = Mutex::new(receive);
    let mut skipped_files = Vec::new();
    let mut unknown_fork_entries = 0;
    let mut total_cases = 0;
    let mut t = Tally::default();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut backend = RevmBackend::default();
                    let mut tally = Tally::default();
                    loop {
                        let next = receive.lock().unwrap().recv();
                        let Ok((i, case)) = next else { break tally };
                        run_case(&mut backend, &files[i], &case, &mut tally);
                    }
                })
            })
            .collect();
        for (i, path) in files.iter().enumerate() {
            if let Some(why) = skip_reason(path) {
                // Counted when readable: the `ValueOverflow` files are not (values over 256 bits).
                skipped_files.push((
                    path,
                    why,
                    statetest::read_file(path).map_or(0, |f| f.cases.len()),
                ));
                continue;
            }
            let file = statetest::read_file(path).unwrap_or_else(|e| panic!("{e}"));
            unknown_fork_entries += file.skipped.len();
            total_cases += file.cases.len();
            for case in file.cases {
                send.send((i, case)).expect("workers are running");
            }
        }
        drop(send);
        for w in workers {
            merge(&mut t, w.join().expect("worker thread panicked"));
        }
    });

    let [mut pass, mut fail, mut unsup] = [0; 3];
    println!(
        "revm fixture replay: {} files ({total_cases} cases), {} files skipped, {threads} threads",
        files.len() - skipped_files.len(),
        skipped_files.len()
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
    let skipped_cases: usize = skipped_files.iter().map(|s| s.2).sum();
    println!(
        "skipped: {} files ({skipped_cases} readable cases) on revme's skip list; {unknown_fork_entries} post entries of forks evmdiff does not know",
        skipped_files.len()
    );
    for (path, why, n) in &skipped_files {
        println!(
            "  {} ({n} cases): {why}",
            path.strip_prefix(root).unwrap_or(path).display()
        );
    }
    for (why, n) in &t.unsupported {
        println!("unsupported ({n} cases): {why}");
    }
    for f in t.failures.iter().take(50) {
        println!("FAIL {f}");
    }
    println!("wall time: {:.1?}", start.elapsed());

    assert_eq!(
        pass + fail + unsup,
        total_cases,
        "every case is counted once"
    );
    assert_eq!(
        fail, 0,
        "{fail} cases failed (the first ones are printed above)"
    );
    let unexpected: usize = t
        .counts
        .iter()
        .filter(|(f, _)| **f != Fork::Constantinople)
        .map(|(_, c)| c[2])
        .sum();
    assert_eq!(
        unexpected, 0,
        "only the original Constantinople may be unsupported"
    );
    if filter.is_none() {
        assert!(pass > 20_000, "only {pass} cases passed");
    }
}

fn merge(into: &mut Tally, from: Tally) {
    for (fork, c) in from.counts {
        let e = into.counts.entry(fork).or_default();
        for k in 0..3 {
            e[k] += c[k];
        }
    }
    into.failures.extend(from.failures);
    for (why, n) in from.unsupported {
        *into.unsupported.entry(why).or_default() += n;
    }
}
