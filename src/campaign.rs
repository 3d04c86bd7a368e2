//! The fuzzing campaign engine behind `evmdiff fuzz`: N worker threads ([`worker`]), each with
//! its own backend instances, running case `i` — generated from `(seed, i)` alone, so a
//! campaign's cases and verdicts do not depend on the number of workers — through the
//! [`Oracle`], and keeping every new divergence, crash, hang or slow case as a finding; a
//! [`watchdog`] for backends that never return; a [`checkpoint`] to resume from; the
//! [`stats`] everything reports from. A campaign may run one [`shard`] of the cases, so that
//! several processes or machines share one campaign ([`processes`] runs them).

pub mod checkpoint;
pub mod processes;
pub mod shard;
pub mod stats;
mod watchdog;
mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use evmdiff_oracle::Oracle;
use evmdiff_oracle::finding::Finding;

pub use checkpoint::Checkpoint;
pub use shard::Shard;
pub use stats::Stats;
use watchdog::{IDLE, Slot};

/// What a campaign runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// How each case is run and judged (profile, views, sampling, allowlist, case budget).
    pub oracle: Oracle,
    /// Comma-separated backends.
    pub backends: String,
    /// Worker threads.
    pub jobs: usize,
    /// Campaign seed.
    pub seed: u64,
    /// Each generated transaction's most gas (`--case-gas`), if any.
    pub gas_budget: Option<u64>,
    /// The share of the case indices this campaign runs (`Shard::WHOLE`: all).
    pub shard: Shard,
    /// Stop after this many cases (counted from the first case of this run).
    pub runs: Option<u64>,
    /// Stop after this long, wall clock: cases still running then are abandoned (and rerun
    /// on resume).
    pub time: Option<Duration>,
    /// Where findings and the checkpoint go.
    pub out: PathBuf,
    /// A case still running after this long becomes a `hang` finding, and its worker is
    /// abandoned and replaced.
    pub hang_budget: Duration,
    /// Makes each worker's backends from `backends` (the real registry; tests swap in
    /// wrappers around real backends to provoke hangs).
    pub instantiate: Instantiate,
    /// Makes each case: generated and, a chain, sealed by revm
    /// ([`campaign_case_run`](evmdiff_oracle::seal::campaign_case_run); tests provoke a hang
    /// while sealing).
    pub make_case: MakeCase,
}

/// Makes a worker's backend instances from a `--backends` list.
pub type Instantiate = fn(&str) -> evmdiff_oracle::Result<Vec<Box<dyn evmdiff_core::Backend>>>;

/// Makes case `index` of the campaign seeded `seed` under `profile`, each transaction's gas
/// within the budget: the generator's input, the case, revm's run while sealing a chain.
pub type MakeCase = fn(
    &evmdiff_core::Profile,
    u64,
    u64,
    Option<u64>,
) -> Option<(
    Vec<u8>,
    evmdiff_core::Case,
    Option<evmdiff_oracle::seal::SealingRun>,
)>;

/// One case in this many is also run observed on the first backend, to report which of the
/// profile's opcodes the campaign executes while it runs (about 3% of the first backend's
/// time; `--coverage` measures every case afterwards).
pub const COVERAGE_SAMPLE: u64 = 32;

/// Workers a campaign may start in place of abandoned (hung) ones.
const SPARE_WORKERS: usize = 8;

/// How long a campaign whose time is up (or that was interrupted) waits for the cases still
/// running before it abandons them.
const GRACE: Duration = Duration::from_millis(750);

/// Shared state of the workers.
struct Shared {
    config: Config,
    /// The next position in the shard to hand out ([`Shard::case`] gives its case index).
    next: AtomicU64,
    stop: AtomicBool,
    end_index: Option<u64>,
    deadline: Option<Instant>,
    stats: Mutex<Stats>,
    /// Findings written so far: id -> (seed, case index) of the file on disk.
    seen: Mutex<HashMap<String, (u64, u64)>>,
    /// One per worker, and spares for workers started in place of hung ones.
    slots: Vec<Slot>,
    /// Opcodes executed by sampled cases.
    executed: Mutex<[bool; 256]>,
    /// The opcodes the profile allows.
    allowed: Vec<u8>,
    start: Instant,
    /// Milliseconds since the start at which the last of the campaign's first workers (not
    /// one started in place of a hung one) finished preparing its backends.
    ready_ms: AtomicU64,
    names: Vec<String>,
    /// For a shard: the case index each worker slot is running, 8 bytes per slot, written
    /// before and after each case, so that the process that runs the shards can tell which
    /// cases were running when this process died ([`processes`]).
    inflight: Option<std::fs::File>,
    /// `EVMDIFF_ABORT_ON_CASE`: the process aborts as it starts this case. A process that
    /// dies is what `--processes` recovers from, and no backend dies on demand: this is how
    /// its tests (and a user trying it) make one die.
    abort_on: Option<u64>,
}

/// The exclusive lock the shards of a campaign writing into `out` take to keep a finding
/// (released when the file is dropped); `None`, with a line on stderr, when it cannot be taken.
fn findings_lock(out: &std::path::Path) -> Option<std::fs::File> {
    let path = out.join("shards").join("findings.lock");
    let locked = std::fs::create_dir_all(out.join("shards"))
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
        })
        .and_then(|f| f.lock().map(|()| f));
    locked
        .map_err(|e| eprintln!("evmdiff: {}: cannot lock: {e}", path.display()))
        .ok()
}

impl Shared {
    /// Milliseconds since the campaign started.
    fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// Writes `f` (found on case `index`) unless a finding with its id is already on disk from
    /// a lower case index: one file per id, holding the lowest case index that hit it, so the
    /// files do not depend on which worker got there first. True when a file was written (a
    /// new one is counted in the stats).
    fn keep(&self, f: &Finding<'_>, index: u64) -> bool {
        let id = f.identity.id();
        let seed = self.config.seed;
        let mut seen = self.seen.lock().expect("seen lock");
        let previous = seen.get(&id).copied();
        let replace = previous.is_some_and(|(s, i)| s == seed && index < i);
        if !(previous.is_none() || replace) {
            return false;
        }
        // Other shards write into the same folder: one of them may have kept this finding
        // from a lower case index since this process looked. The look and the write are
        // made holding the folder's lock, or two shards hitting one id at once could both
        // find no file and the higher index be written last.
        let sharded = !self.config.shard.is_whole();
        let _lock = sharded.then(|| findings_lock(&self.config.out));
        if sharded {
            let path = self.config.out.join(f.identity.file_name());
            let (s, i) = checkpoint::recorded(&path);
            if path.exists() && s == seed && i <= index {
                seen.insert(id, (s, i));
                return false;
            }
        }
        match f.write(&self.config.out) {
            Ok(_) => {
                seen.insert(id, (seed, index));
                if previous.is_none() {
                    self.stats.lock().expect("stats lock").findings_written += 1;
                }
                true
            }
            Err(e) => {
                eprintln!("evmdiff: cannot write finding {id}: {e:#}");
                false
            }
        }
    }

    fn snapshot(&self) -> Stats {
        let mut s = self.stats.lock().expect("stats lock").clone();
        s.seconds = self.start.elapsed().as_secs_f64();
        s.cases_per_second = s.cases as f64 / s.seconds.max(1e-9);
        s.setup_seconds = self.ready_ms.load(Ordering::SeqCst) as f64 / 1e3;
        let executed = self.executed.lock().expect("coverage lock");
        s.opcodes_allowed = self.allowed.len();
        s.opcodes_executed = self
            .allowed
            .iter()
            .filter(|&&b| executed[b as usize])
            .count();
        s
    }

    /// Records that slot `w` now runs case `index` (`IDLE`: none), for [`processes`].
    fn mark_inflight(&self, w: usize, index: u64) {
        #[cfg(unix)]
        if let Some(f) = &self.inflight {
            use std::os::unix::fs::FileExt;
            // Best effort: a lost mark only costs the crash finding of a process that died.
            let _ = f.write_at(&index.to_le_bytes(), 8 * w as u64);
        }
        if index != IDLE && self.abort_on == Some(index) {
            eprintln!("evmdiff: EVMDIFF_ABORT_ON_CASE={index}: aborting");
            std::process::abort();
        }
    }

    fn checkpoint(&self) -> Checkpoint {
        let next = self.next.load(Ordering::SeqCst);
        let shard = self.config.shard;
        let running = self
            .slots
            .iter()
            .map(|c| c.index.load(Ordering::SeqCst))
            .filter(|&i| i != IDLE)
            .map(|i| shard.position(i))
            .min()
            .unwrap_or(IDLE);
        let cfg = &self.config;
        Checkpoint {
            seed: cfg.seed,
            profile: cfg.oracle.profile.name.clone(),
            profile_id: cfg.oracle.profile.content_id(),
            backends: cfg.backends.clone(),
            sample: cfg.oracle.sample.render(),
            shard,
            next_index: next.min(running).min(self.end_index.unwrap_or(u64::MAX)),
        }
    }
}

/// Runs a campaign until `runs` cases, `time` (wall clock), or `stop` is set (Ctrl-C);
/// `progress` is called about four times a second with the current stats. `sitting_out`
/// names the selected backends that will run no case and why (recorded in the stats).
pub fn run(
    config: Config,
    sitting_out: std::collections::BTreeMap<String, String>,
    stop: Arc<AtomicBool>,
    mut progress: impl FnMut(&Stats),
) -> Result<Stats> {
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("{}: cannot create the output folder", config.out.display()))?;
    let names: Vec<String> = (config.instantiate)(&config.backends)?
        .iter()
        .map(|b| format!("{} {}", b.name(), b.version()))
        .collect();
    let slots = config.jobs.max(1) + SPARE_WORKERS;
    let inflight = if config.shard.is_whole() {
        None
    } else {
        Some(processes::open_inflight(&config.out, config.shard, slots)?)
    };
    let mut shared = Shared {
        inflight,
        abort_on: std::env::var("EVMDIFF_ABORT_ON_CASE")
            .ok()
            .and_then(|v| v.trim().parse().ok()),
        end_index: None,
        deadline: config.time.map(|t| Instant::now() + t),
        next: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        stats: Mutex::new(Stats::default()),
        seen: Mutex::new(checkpoint::existing_findings(&config.out)),
        slots: (0..slots).map(|_| Slot::new()).collect(),
        executed: Mutex::new([false; 256]),
        allowed: crate::coverage::allowed_opcodes(&config.oracle.profile),
        start: Instant::now(),
        ready_ms: AtomicU64::new(0),
        names,
        config,
    };
    let first = match checkpoint::read(&shared.config.out, shared.config.shard)? {
        Some(cp) if cp.same_campaign(&shared.checkpoint()) => cp.next_index,
        _ => 0,
    };
    shared.next = AtomicU64::new(first);
    shared.end_index = shared.config.runs.map(|r| first + r);
    {
        let mut st = shared.stats.lock().expect("stats lock");
        st.first_index = first;
        st.sitting_out = sitting_out;
    }
    let shared = Arc::new(shared);
    let spawn = |w: usize| {
        let s = Arc::clone(&shared);
        (w, std::thread::spawn(move || worker::work(&s, w)))
    };
    let mut handles: Vec<_> = (0..shared.config.jobs.max(1)).map(spawn).collect();
    let mut next_slot = handles.len();
    let mut last_checkpoint = Instant::now();
    let mut ending: Option<Instant> = None;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let time_up = shared.deadline.is_some_and(|d| Instant::now() >= d);
        if (stop.load(Ordering::Relaxed) || time_up) && ending.is_none() {
            shared.stop.store(true, Ordering::Relaxed);
            ending = Some(Instant::now());
        }
        for w in watchdog::watch(&shared) {
            // The hung thread cannot be stopped (it is inside a backend); it is left behind,
            // and a fresh worker with fresh backends takes its place.
            handles.retain(|(slot, _)| *slot != w);
            if next_slot < shared.slots.len() {
                handles.push(spawn(next_slot));
                next_slot += 1;
            } else {
                eprintln!("evmdiff: no spare worker left to replace a hung one");
            }
        }
        progress(&shared.snapshot());
        if last_checkpoint.elapsed() > Duration::from_secs(2) {
            checkpoint::write(&shared.config.out, &shared.checkpoint())?;
            last_checkpoint = Instant::now();
        }
        if handles.iter().all(|(_, h)| h.is_finished()) {
            break;
        }
        if ending.is_some_and(|e| e.elapsed() > GRACE) {
            // The time is up (or the user asked to stop) and some cases are still running, in
            // a slow worker or a long case: the limit is wall clock, so they are abandoned;
            // the checkpoint stays before them, and a resumed campaign reruns them.
            for (w, h) in &handles {
                if !h.is_finished() {
                    shared.slots[*w].abandoned.store(true, Ordering::SeqCst);
                }
            }
            shared.stats.lock().expect("stats lock").interrupted = true;
            break;
        }
    }
    if stop.load(Ordering::Relaxed) {
        shared.stats.lock().expect("stats lock").interrupted = true;
    }
    for (_, h) in handles {
        if h.is_finished() {
            let _ = h.join();
        }
    }
    checkpoint::write(&shared.config.out, &shared.checkpoint())?;
    Ok(shared.snapshot())
}

#[cfg(test)]
mod tests {
    use super::*;
    use evmdiff_core::{Backend, BackendError, Case, ChainOutcome, Observer, Profile};
    use std::sync::atomic::AtomicUsize;

    /// Executions of hooked backends so far, over every instance.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    /// The call that never returns.
    const STALL_AT: usize = 5;

    /// A real backend with `before` run ahead of each of its executions: how a backend that
    /// gets stuck, or is slow, looks from the campaign.
    struct Hooked(Box<dyn Backend>, fn());

    impl Backend for Hooked {
        fn name(&self) -> &'static str {
            self.0.name()
        }
        fn version(&self) -> &'static str {
            self.0.version()
        }
        fn capabilities(&self) -> evmdiff_core::Capabilities {
            self.0.capabilities()
        }
        fn execute(
            &mut self,
            case: &Case,
            profile: &Profile,
        ) -> Result<ChainOutcome, BackendError> {
            (self.1)();
            self.0.execute(case, profile)
        }
        fn execute_observed(
            &mut self,
            case: &Case,
            profile: &Profile,
            observer: &mut dyn Observer,
        ) -> Result<ChainOutcome, BackendError> {
            // The campaign's fast path executes observed.
            (self.1)();
            self.0.execute_observed(case, profile, observer)
        }
    }

    /// The backends of `list`, the last one hooked.
    fn hook_last(list: &str, before: fn()) -> evmdiff_oracle::Result<Vec<Box<dyn Backend>>> {
        let mut backends = crate::backends::instantiate(list)?;
        let last = backends.pop().expect("two backends");
        backends.push(Box::new(Hooked(last, before)));
        Ok(backends)
    }

    /// Never returns on the `STALL_AT`-th execution.
    fn stall_once() {
        if CALLS.fetch_add(1, Ordering::SeqCst) == STALL_AT {
            loop {
                std::thread::park();
            }
        }
    }

    fn with_a_stalling_backend(list: &str) -> evmdiff_oracle::Result<Vec<Box<dyn Backend>>> {
        hook_last(list, stall_once)
    }

    fn with_a_slow_backend(list: &str) -> evmdiff_oracle::Result<Vec<Box<dyn Backend>>> {
        hook_last(list, || std::thread::sleep(Duration::from_secs(3)))
    }

    #[test]
    fn a_hung_backend_becomes_a_finding_and_the_campaign_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut oracle = Oracle::new(Profile::load("mainnet-cancun").unwrap());
        oracle.case_budget = Duration::from_secs(60);
        let started = Instant::now();
        // Above the one-off cost of a backend's first KZG point evaluation (loading the
        // trusted setup, seconds under load), which a case of these may call.
        let stats = hanging_campaign(
            oracle,
            dir.path(),
            Duration::from_secs(8),
            with_a_stalling_backend,
            evmdiff_oracle::seal::campaign_case_run,
        );
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(stats.hangs, 1);
        assert_eq!(stats.cases + stats.generator_errors, 30, "{stats:?}");
        assert_eq!(stats.divergent_cases, 0);
        let hangs = hang_findings(dir.path());
        assert_eq!(hangs.len(), 1, "{hangs:?}");
        // The finding is a readable state test that records the case that hung.
        let file = evmdiff_core::statetest::read_file(&hangs[0]).unwrap();
        let meta = file.cases[0].meta.clone().unwrap();
        assert_eq!(meta["kind"], "hang");
        let index = meta["index"].as_u64().unwrap();
        let (_, case) = evmdiff_oracle::seal::campaign_case(
            &Profile::load("mainnet-cancun").unwrap(),
            3,
            index,
        )
        .unwrap();
        assert_eq!(file.cases[0].pre, case.pre);
        // The checkpoint moved past every case, the hung one included.
        let cp: Checkpoint = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("campaign.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(cp.next_index, 30);
    }

    /// 30 cases of seed 3 on revm,revm, one worker, into `out`: with `make_case` or a backend
    /// of `instantiate`'s hanging once. Ended after a minute whatever happens, so that a
    /// hang nobody watches fails a test instead of stalling it.
    fn hanging_campaign(
        oracle: Oracle,
        out: &std::path::Path,
        hang_budget: Duration,
        instantiate: Instantiate,
        make_case: MakeCase,
    ) -> Stats {
        let config = Config {
            oracle,
            backends: "revm,revm".into(),
            jobs: 1,
            seed: 3,
            gas_budget: None,
            shard: Shard::WHOLE,
            runs: Some(30),
            time: Some(Duration::from_secs(60)),
            out: out.to_path_buf(),
            hang_budget,
            instantiate,
            make_case,
        };
        run(
            config,
            Default::default(),
            Arc::new(AtomicBool::new(false)),
            |_| {},
        )
        .unwrap()
    }

    /// The `hang-*` finding files in `dir`.
    fn hang_findings(dir: &std::path::Path) -> Vec<PathBuf> {
        let hang = |p: &PathBuf| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("hang-"))
        };
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(hang)
            .collect()
    }

    /// Chains sealed so far by [`sealing_stalls_once`].
    static SEALED: AtomicUsize = AtomicUsize::new(0);

    /// Makes cases as a campaign does, but never returns from sealing the third chain: revm
    /// hanging while it seals.
    fn sealing_stalls_once(
        profile: &Profile,
        seed: u64,
        index: u64,
        gas: Option<u64>,
    ) -> Option<(Vec<u8>, Case, Option<evmdiff_oracle::seal::SealingRun>)> {
        let made = evmdiff_oracle::seal::campaign_case_run(profile, seed, index, gas);
        if made.as_ref().is_some_and(|(_, c, _)| c.is_chain())
            && SEALED.fetch_add(1, Ordering::SeqCst) == 2
        {
            loop {
                std::thread::park();
            }
        }
        made
    }

    /// A hang while sealing a chain (revm's execution of it, before the oracle runs the case)
    /// is watched as a backend's is: a `hang` finding that keeps the case as generated, and
    /// the campaign goes on.
    #[test]
    fn a_hang_while_sealing_becomes_a_finding_and_the_campaign_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let oracle = Oracle::new(Profile::load("mainnet-shanghai").unwrap());
        let stats = hanging_campaign(
            oracle,
            dir.path(),
            Duration::from_secs(3),
            crate::backends::instantiate,
            sealing_stalls_once,
        );
        assert_eq!(stats.hangs, 1, "{stats:?}");
        assert_eq!(stats.cases + stats.generator_errors, 30, "{stats:?}");
        let hangs = hang_findings(dir.path());
        assert_eq!(hangs.len(), 1, "{hangs:?}");
        let text = std::fs::read_to_string(&hangs[0]).unwrap();
        assert!(
            text.contains("revm had not finished sealing the chain"),
            "{text:.400}"
        );
        let cp = checkpoint::read(dir.path(), Shard::WHOLE).unwrap().unwrap();
        assert_eq!(cp.next_index, 30);
    }

    #[test]
    fn the_time_limit_is_wall_clock_whatever_the_backends_do() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            oracle: Oracle::new(Profile::load("mainnet-cancun").unwrap()),
            backends: "revm,revm".into(),
            jobs: 2,
            seed: 3,
            gas_budget: None,
            shard: Shard::WHOLE,
            runs: None,
            time: Some(Duration::from_secs(1)),
            out: dir.path().to_path_buf(),
            hang_budget: Duration::from_secs(60),
            instantiate: with_a_slow_backend,
            make_case: evmdiff_oracle::seal::campaign_case_run,
        };
        let started = Instant::now();
        let stats = run(
            config,
            Default::default(),
            Arc::new(AtomicBool::new(false)),
            |_| {},
        )
        .unwrap();
        let took = started.elapsed();
        assert!(took < Duration::from_millis(2500), "took {took:?}");
        assert!(stats.interrupted);
        assert_eq!(stats.cases, 0);
        // The cases still running were not recorded: the checkpoint is before them.
        let cp = checkpoint::read(dir.path(), Shard::WHOLE).unwrap().unwrap();
        assert_eq!(cp.next_index, 0);
    }
}
