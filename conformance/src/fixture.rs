//! Replaying ethereum/tests GeneralStateTest files on a backend: one walker that spreads the
//! cases over threads ([`spread`]), one replay of a backend that checks each case's own
//! expectation under `Profile::mainnet(case.fork)` ([`replay`]), and the pass-rate floors each
//! backend must hold ([`FLOORS`], [`Floor::judge`]).
//!
//! Cases, not files, are spread over the threads: one file (`vmPerformance/loopExp.json`, 15
//! EXP loops of 80M gas) takes most of the time in a debug build, and would otherwise keep one
//! thread busy alone. One thread reads the files and streams their cases through a bounded
//! channel, so only a few hundred cases are in memory at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::sync_channel;

use evmdiff_core::expect::{Check, check, skip_reason};
use evmdiff_core::statetest::{SkipKind, json_files, read_file};
use evmdiff_core::{Backend, BackendError, Case, Fork, Profile};

/// The GeneralStateTests folder of the ethereum/tests checkout next to the repository.
pub fn general_state_tests() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/ethereum-tests/GeneralStateTests")
}

/// What the reading side of [`spread`] saw.
#[derive(Debug, Default, Clone)]
pub struct Walk {
    /// Cases sent to the workers.
    pub cases: usize,
    /// Files on the skip list (`expect::skip_reason`), with the reason.
    pub skipped_files: Vec<(PathBuf, &'static str)>,
    /// `post` entries of forks evmdiff does not know.
    pub unknown_fork_entries: usize,
    /// Invalid blocks of BlockchainTests refused for a header or encoding rule (out of scope
    /// for an EVM), by rule.
    pub out_of_scope: BTreeMap<String, usize>,
}

/// Reads `files` (skipping those on the skip list and those `keep` refuses) and runs `work` on
/// every case, on `threads` workers each with its own state made by `make` (in the worker's
/// thread). Returns the walk and every worker's accumulator. A file that does not parse is an
/// error.
pub fn spread<W, T: Default + Send>(
    files: &[PathBuf],
    threads: usize,
    keep: impl Fn(&Case) -> bool,
    make: impl Fn() -> W + Sync,
    work: impl Fn(&mut W, &Path, &Case, &mut T) + Sync,
) -> Result<(Walk, Vec<T>), String> {
    let (feed, jobs) = sync_channel::<(usize, Case)>(256);
    let jobs = Mutex::new(jobs);
    let mut walk = Walk::default();
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut state = make();
                    let mut acc = T::default();
                    loop {
                        let next = jobs.lock().expect("no worker panics holding it").recv();
                        let Ok((i, case)) = next else { break acc };
                        work(&mut state, &files[i], &case, &mut acc);
                    }
                })
            })
            .collect();
        let mut read = || -> Result<(), String> {
            for (i, path) in files.iter().enumerate() {
                if let Some(why) = skip_reason(path) {
                    walk.skipped_files.push((path.clone(), why));
                    continue;
                }
                let file = read_file(path).map_err(|e| e.to_string())?;
                for skipped in &file.skipped {
                    match skipped.kind {
                        SkipKind::UnknownFork => walk.unknown_fork_entries += 1,
                        SkipKind::OutOfScope => {
                            *walk.out_of_scope.entry(skipped.reason.clone()).or_default() += 1
                        }
                    }
                }
                for case in file.cases.into_iter().filter(|c| keep(c)) {
                    walk.cases += 1;
                    feed.send((i, case)).map_err(|_| "a worker stopped early")?;
                }
            }
            Ok(())
        };
        let read = read();
        drop(feed);
        let accs: Vec<T> = workers
            .into_iter()
            .map(|w| w.join().expect("a replay thread panicked"))
            .collect();
        read.map(|()| (walk, accs))
    })
}

/// What one backend did on fixture cases.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Cases that reproduce their expectation.
    pub passed: usize,
    /// (case name, `file: reason`) of every failure, including backend errors and cases
    /// without an expectation.
    pub failed: Vec<(String, String)>,
    /// Unsupported cases by fork.
    pub unsupported: BTreeMap<Fork, usize>,
    /// Unsupported cases by the backend's reason.
    pub unsupported_reasons: BTreeMap<String, usize>,
    /// Per fork: passed, failed, unsupported.
    pub by_fork: BTreeMap<Fork, [usize; 3]>,
    /// The reading side: cases read, files skipped.
    pub walk: Walk,
}

impl Tally {
    /// Counts one backend result on `case` (from `file`).
    pub fn count(&mut self, file: &Path, case: &Case, result: Result<Check, BackendError>) {
        let fork = self.by_fork.entry(case.fork).or_default();
        let mut fail = |why: String| {
            fork[1] += 1;
            self.failed
                .push((case.name.clone(), format!("{}: {why}", file.display())));
        };
        match result {
            Ok(Check::Pass) => {
                fork[0] += 1;
                self.passed += 1;
            }
            Ok(Check::Fail(why)) => fail(why),
            Ok(Check::NoExpectation) => fail("no expectation to check".into()),
            Err(BackendError::Unsupported(why)) => {
                fork[2] += 1;
                *self.unsupported.entry(case.fork).or_default() += 1;
                *self.unsupported_reasons.entry(why).or_default() += 1;
            }
            Err(e) => fail(e.to_string()),
        }
    }

    /// Adds the counts of another thread's tally.
    pub fn merge(&mut self, from: Tally) {
        self.passed += from.passed;
        self.failed.extend(from.failed);
        for (k, v) in from.unsupported {
            *self.unsupported.entry(k).or_default() += v;
        }
        for (k, v) in from.unsupported_reasons {
            *self.unsupported_reasons.entry(k).or_default() += v;
        }
        for (k, v) in from.by_fork {
            let e = self.by_fork.entry(k).or_default();
            for i in 0..3 {
                e[i] += v[i];
            }
        }
    }

    /// Every case counted: passed, failed and unsupported.
    pub fn counted(&self) -> usize {
        self.passed + self.failed.len() + self.unsupported.values().sum::<usize>()
    }

    /// A table per fork, the skipped files and the unsupported reasons, for test output.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "{} cases: {} passed, {} failed, {} unsupported; {} files skipped, {} post entries of unknown forks\n",
            self.walk.cases,
            self.passed,
            self.failed.len(),
            self.unsupported.values().sum::<usize>(),
            self.walk.skipped_files.len(),
            self.walk.unknown_fork_entries
        );
        s += &format!(
            "{:<18} {:>7} {:>7} {:>12}\n",
            "fork", "pass", "fail", "unsupported"
        );
        for (fork, [p, f, u]) in &self.by_fork {
            s += &format!("{:<18} {p:>7} {f:>7} {u:>12}\n", fork.name());
        }
        for (why, n) in &self.unsupported_reasons {
            s += &format!("unsupported ({n} cases): {why}\n");
        }
        for (path, why) in &self.walk.skipped_files {
            s += &format!("skipped {}: {why}\n", path.display());
        }
        s
    }
}

/// Replays `files` on backends made by `make` (one per thread), each case under plain mainnet
/// at its fork, checked against its own expectation. Files named in `skip` are left out.
pub fn replay(
    files: &[PathBuf],
    threads: usize,
    skip: &[&str],
    make: impl Fn() -> Box<dyn Backend> + Sync,
) -> Result<Tally, String> {
    let files: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !skip.contains(&name)
        })
        .cloned()
        .collect();
    let (walk, tallies) = spread(
        &files,
        threads,
        |_| true,
        make,
        |backend, file, case, t: &mut Tally| {
            let result = backend
                .execute(case, &Profile::mainnet(case.fork))
                .map(|o| check(case, &o));
            t.count(file, case, result);
        },
    )?;
    let mut t = Tally {
        walk,
        ..Tally::default()
    };
    for x in tallies {
        t.merge(x);
    }
    t.failed.sort();
    Ok(t)
}

/// A fixture case a backend is allowed to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownFailure {
    /// The case name (`test/Fork/dDgGvV`); a trailing `*` matches any suffix.
    pub case: &'static str,
    /// Text the failure must contain, so that a known case failing some other way is caught.
    pub symptom: &'static str,
    /// Why, in a sentence (the full story is in `docs/backends.md`).
    pub cause: &'static str,
}

/// Which unsupported cases a floor allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MayBeUnsupported {
    /// Cases at these forks.
    Forks(&'static [Fork]),
    /// Cases at forks before this one.
    Before(Fork),
    /// Any (the floor on passes bounds them).
    Any,
}

/// The pass rate a backend must hold on a set of fixture folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    /// The backend's name.
    pub backend: &'static str,
    /// Folders under GeneralStateTests (empty: all of them, at least 2000 files).
    pub folders: &'static [&'static str],
    /// File names left out (too slow for this backend).
    pub skip: &'static [&'static str],
    /// Passing cases it must reach (only checked on the whole set, without a filter).
    pub min_passed: usize,
    /// Failures it is allowed; each must still occur.
    pub known: &'static [KnownFailure],
    /// Unsupported cases it is allowed.
    pub unsupported: MayBeUnsupported,
}

/// Folders every external worker replays: small, and between them every status, CREATE,
/// precompiles, refunds, access lists, EIP-1559 and Cancun's opcodes.
pub const REPRESENTATIVE: &[&str] = &[
    "stExample",
    "stRevertTest",
    "stSStoreTest",
    "stRefundTest",
    "stEIP2930",
    "stEIP1559",
    "Cancun",
];

/// Fixture files that run for minutes in the Python implementations (tens of thousands of
/// TSTOREs); the Rust backends replay them.
pub const TOO_SLOW_FOR_PYTHON: &[&str] = &[
    "15_tstoreCannotBeDosd.json",
    "21_tstoreCannotBeDosdOOO.json",
];

/// Proof: `adapters/tests/evm_gaps.rs`, `create_with_a_length_over_64_bits_is_fatal_from_shanghai`.
const CREATE_LEN_FATAL: &str = "evm 1.1.1 aborts the transaction (ExitFatal::NotSupported) on CREATE with a length over \
     64 bits from Shanghai: its EIP-3860 init-code price converts the length to usize before the memory cost makes the \
     frame run out of gas";

/// py-evm 0.12.1b1 accepts three invalid transactions (docs/backends.md, py-evm's classified
/// failures).
const PYEVM_ACCEPTS_INVALID: &str = "py-evm 0.12.1b1 accepts an invalid transaction: a priority fee over the fee cap, a \
     sender short of the value plus the maximum fee, or a blob transaction creating a contract";

/// One row per (backend, fixture folders): what the fixture replay must reach.
pub const FLOORS: &[Floor] = &[
    // Every case reproduces; revm 43 has no spec for the original Constantinople.
    Floor {
        backend: "revm",
        folders: &[],
        skip: &[],
        min_passed: 20_001,
        known: &[],
        unsupported: MayBeUnsupported::Forks(&[Fork::Constantinople]),
    },
    // The count evm reached; its failures are gaps of evm 1.1.1, each proven in evm_gaps.rs.
    Floor {
        backend: "evm",
        folders: &[],
        skip: &[],
        min_passed: 21_387,
        known: &[
            KnownFailure {
                case: "buffer/Cancun/d170g0v0",
                symptom: "NotSupported",
                cause: CREATE_LEN_FATAL,
            },
            KnownFailure {
                case: "buffer/Cancun/d173g0v0",
                symptom: "NotSupported",
                cause: CREATE_LEN_FATAL,
            },
            KnownFailure {
                case: "createNameRegistratorOOG_MemExpansionOOV/Cancun/d0g0v0",
                symptom: "NotSupported",
                cause: CREATE_LEN_FATAL,
            },
        ],
        unsupported: MayBeUnsupported::Any,
    },
    // Every Paris+ case passed when the backend was added (docs/backends.md).
    Floor {
        backend: "levm",
        folders: &[],
        skip: &[],
        min_passed: 21_001,
        known: &[],
        unsupported: MayBeUnsupported::Before(Fork::Paris),
    },
    representative("eels", &[]),
    representative("ethereumjs", &[]),
    representative(
        "pyevm",
        &[
            KnownFailure {
                case: "tipTooHigh/*",
                symptom: "",
                cause: PYEVM_ACCEPTS_INVALID,
            },
            KnownFailure {
                case: "transactionIntinsicBug_Paris/*",
                symptom: "",
                cause: PYEVM_ACCEPTS_INVALID,
            },
            KnownFailure {
                case: "createBlobhashTx/*",
                symptom: "",
                cause: PYEVM_ACCEPTS_INVALID,
            },
        ],
    ),
];

/// The floor of an external worker: the representative folders without the files too slow for
/// Python, 2900 passes, any unsupported case (forks the implementation stops before).
const fn representative(backend: &'static str, known: &'static [KnownFailure]) -> Floor {
    Floor {
        backend,
        folders: REPRESENTATIVE,
        skip: TOO_SLOW_FOR_PYTHON,
        min_passed: 2900,
        known,
        unsupported: MayBeUnsupported::Any,
    }
}

impl KnownFailure {
    fn explains(&self, name: &str, why: &str) -> bool {
        let matches = match self.case.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.case,
        };
        matches && why.contains(self.symptom)
    }
}

impl Floor {
    /// The floor of `backend`, if it has one.
    pub fn of(backend: &str) -> Option<&'static Floor> {
        FLOORS.iter().find(|f| f.backend == backend)
    }

    /// The fixture files of this floor under `root`, sorted.
    pub fn files(&self, root: &Path) -> Result<Vec<PathBuf>, String> {
        let mut files = Vec::new();
        if self.folders.is_empty() {
            files = json_files(root).map_err(|e| format!("{}: {e}", root.display()))?;
            if files.len() < 2000 {
                return Err(format!(
                    "expected the full GeneralStateTests set at {}, found {} files",
                    root.display(),
                    files.len()
                ));
            }
        }
        for dir in self.folders {
            let dir = root.join(dir);
            files.extend(json_files(&dir).map_err(|e| format!("{}: {e}", dir.display()))?);
        }
        Ok(files)
    }

    /// Whether `t` holds this floor: every case counted once, no failure outside the known
    /// ones, every known one still failing, unsupported cases only where allowed, and (when
    /// `whole`, not a filtered subset) at least `min_passed` passes.
    pub fn judge(&self, t: &Tally, whole: bool) -> Result<(), String> {
        let mut problems = Vec::new();
        if t.counted() != t.walk.cases {
            problems.push(format!(
                "{} cases read, {} counted",
                t.walk.cases,
                t.counted()
            ));
        }
        let unexplained: Vec<String> = t
            .failed
            .iter()
            .filter(|(name, why)| !self.known.iter().any(|k| k.explains(name, why)))
            .map(|(name, why)| format!("  {name}: {why}"))
            .collect();
        if !unexplained.is_empty() {
            problems.push(format!(
                "{} failures outside the known ones:\n{}",
                unexplained.len(),
                unexplained.join("\n")
            ));
        }
        if whole {
            let stale: Vec<&str> = self
                .known
                .iter()
                .filter(|k| !t.failed.iter().any(|(n, w)| k.explains(n, w)))
                .map(|k| k.case)
                .collect();
            if !stale.is_empty() {
                problems.push(format!(
                    "known failures that no longer fail (remove them and raise min_passed): {stale:?}"
                ));
            }
            if t.passed < self.min_passed {
                problems.push(format!(
                    "{} cases passed, fewer than the floor of {}",
                    t.passed, self.min_passed
                ));
            }
        }
        let unexpected: Vec<String> = t
            .unsupported
            .iter()
            .filter(|(fork, _)| match self.unsupported {
                MayBeUnsupported::Forks(forks) => !forks.contains(fork),
                MayBeUnsupported::Before(first) => **fork >= first,
                MayBeUnsupported::Any => false,
            })
            .map(|(fork, n)| format!("{fork} x{n}"))
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!(
                "unexpectedly unsupported: {}",
                unexpected.join(", ")
            ));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(format!("{}: {}", self.backend, problems.join("\n")))
        }
    }
}
