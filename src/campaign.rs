//! The fuzzing campaign engine behind `evmdiff fuzz`: N worker threads, each with its own
//! backend instances, generating case `i` from `(seed, i)` alone — so a campaign's cases and
//! verdicts do not depend on the number of workers — and keeping every new divergence, crash
//! or slow case as a finding.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use arbitrary::Unstructured;
use evmdiff_core::{BackendError, Case, Profile};
use evmdiff_triage::Signature;
use evmdiff_triage::signature::signature;
use serde::{Deserialize, Serialize};

use crate::allowlist::Allowlist;
use crate::backends::Sampling;
use crate::execute::{CaseRun, run_case_localized_on};
use crate::finding::{self, Finding, Kind, Provenance};
use crate::views::{Views, compare_views};
use crate::write::atomic_write;

/// Bytes of generator input per case.
pub const INPUT_LEN: usize = 4096;

/// The generator input of case `index` in a campaign seeded with `seed` (SplitMix64).
pub fn input_bytes(seed: u64, index: u64) -> Vec<u8> {
    let mut state = seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(INPUT_LEN);
    while out.len() < INPUT_LEN {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// What a campaign runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The profile, and the argument it was loaded from (recorded in findings).
    pub profile: Profile,
    /// The `--profile` argument.
    pub profile_arg: String,
    /// Comma-separated backends.
    pub backends: String,
    /// Worker threads.
    pub jobs: usize,
    /// Campaign seed.
    pub seed: u64,
    /// Stop after this many cases (counted from the first case of this run).
    pub runs: Option<u64>,
    /// Stop after this long.
    pub time: Option<Duration>,
    /// Where findings and the checkpoint go.
    pub out: PathBuf,
    /// Known signatures to fuzz past.
    pub allow: Allowlist,
    /// A case slower than this becomes a `slow` finding.
    pub case_budget: Duration,
    /// A case still running after this long becomes a `hang` finding, and its worker is
    /// abandoned and replaced.
    pub hang_budget: Duration,
    /// Prover views compared on every case (none by default: they cost extra executions).
    pub views: Views,
    /// Backends that run on a fraction of the cases only (`--sample eels=0.05`).
    pub sample: Sampling,
    /// Makes each worker's backends from `backends` (the real registry; tests swap in
    /// wrappers around real backends to provoke hangs).
    pub instantiate: Instantiate,
}

/// Makes a worker's backend instances from a `--backends` list.
pub type Instantiate = fn(&str) -> Result<Vec<Box<dyn evmdiff_core::Backend>>>;

/// One case in this many is also run observed on the first backend, to report which of the
/// profile's opcodes the campaign executes while it runs (about 3% of the first backend's
/// time; `--coverage` measures every case afterwards).
pub const COVERAGE_SAMPLE: u64 = 32;

/// Workers a campaign may start in place of abandoned (hung) ones.
const SPARE_WORKERS: usize = 8;

/// The checkpoint in `OUT/campaign.json`: where to resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Seed of the campaign.
    pub seed: u64,
    /// Profile argument.
    pub profile: String,
    /// Backends.
    pub backends: String,
    /// Sampling rates (`--sample`), empty when every backend runs every case.
    #[serde(default)]
    pub sample: String,
    /// Every case below this index has been run.
    pub next_index: u64,
}

/// Counters of a campaign, also written with `--stats-json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Cases run.
    pub cases: u64,
    /// Cases on which some backends diverged (allowed ones included).
    pub divergent_cases: u64,
    /// Divergent cases whose every divergence is allowlisted.
    pub allowed_cases: u64,
    /// Cases that crashed a backend.
    pub crashes: u64,
    /// Cases over the time budget.
    pub slow: u64,
    /// Cases a backend had not finished after the hang budget.
    pub hangs: u64,
    /// Opcodes the profile allows that sampled cases executed (see [`COVERAGE_SAMPLE`]).
    pub opcodes_executed: usize,
    /// Opcodes the profile allows.
    pub opcodes_allowed: usize,
    /// Cases at least one backend did not support.
    pub unsupported: u64,
    /// Cases that were not generated (the generator ran out of input).
    pub generator_errors: u64,
    /// Findings written in this run.
    pub findings_written: u64,
    /// Top-level status of the reference backend's outcome, by status.
    pub statuses: BTreeMap<String, u64>,
    /// Occurrences per signature (`id: rendered`).
    pub signatures: BTreeMap<String, u64>,
    /// Cases each backend produced an outcome for (sampled backends run on fewer).
    pub outcomes: BTreeMap<String, u64>,
    /// Divergent cases by the side the execution spec took (`reference eels agrees with
    /// revm; disagrees with evm`), when it ran.
    pub reference_sides: BTreeMap<String, u64>,
    /// Seconds elapsed.
    pub seconds: f64,
    /// Cases per second.
    pub cases_per_second: f64,
    /// First case index of this run (after resuming).
    pub first_index: u64,
}

/// Shared state of the workers.
struct Shared {
    config: Config,
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
    names: Vec<String>,
}

const IDLE: u64 = u64::MAX;

/// What one worker is doing, as the checkpoint and the hang watchdog see it.
struct Slot {
    /// The case index it is running (`IDLE` between cases), for the checkpoint.
    index: AtomicU64,
    /// When it started executing that case, in milliseconds since the campaign started
    /// (`IDLE` when not executing), for the watchdog.
    started: AtomicU64,
    /// Its worker hung: it records nothing more if it ever returns.
    abandoned: AtomicBool,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            index: AtomicU64::new(IDLE),
            started: AtomicU64::new(IDLE),
            abandoned: AtomicBool::new(false),
        }
    }
}

fn checkpoint_path(out: &Path) -> PathBuf {
    out.join("campaign.json")
}

/// Findings already in `out` (files `<kind>-<id>.json`), with the seed and case index each
/// records, so a resumed campaign neither rewrites nor recounts them.
fn existing_findings(out: &Path) -> HashMap<String, (u64, u64)> {
    let mut found = HashMap::new();
    for entry in std::fs::read_dir(out).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, id)) = name.strip_suffix(".json").and_then(|s| s.split_once('-')) else {
            continue;
        };
        let meta = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        let info = meta.as_ref().and_then(|v| {
            v.as_object()?
                .values()
                .next()?
                .get("_info")?
                .get("evmdiff")
                .cloned()
        });
        let field = |k: &str| {
            info.as_ref()
                .and_then(|i| i.get(k)?.as_u64())
                .unwrap_or(u64::MAX)
        };
        found.insert(id.to_string(), (field("seed"), field("index")));
    }
    found
}

/// Runs a campaign until `runs`, `time`, or `stop` is set; `progress` is called about four
/// times a second with the current stats.
pub fn run(
    config: Config,
    stop: Arc<AtomicBool>,
    mut progress: impl FnMut(&Stats),
) -> Result<Stats> {
    std::fs::create_dir_all(&config.out)
        .with_context(|| format!("{}: cannot create the output folder", config.out.display()))?;
    let first = match std::fs::read_to_string(checkpoint_path(&config.out)) {
        Ok(text) => {
            let cp: Checkpoint = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: corrupt checkpoint",
                    checkpoint_path(&config.out).display()
                )
            })?;
            if cp.seed == config.seed
                && cp.profile == config.profile_arg
                && cp.backends == config.backends
                && cp.sample == config.sample.render()
            {
                cp.next_index
            } else {
                0
            }
        }
        Err(_) => 0,
    };
    let names: Vec<String> = (config.instantiate)(&config.backends)?
        .iter()
        .map(|b| format!("{} {}", b.name(), b.version()))
        .collect();
    let shared = Arc::new(Shared {
        end_index: config.runs.map(|r| first + r),
        deadline: config.time.map(|t| Instant::now() + t),
        next: AtomicU64::new(first),
        stop: AtomicBool::new(false),
        stats: Mutex::new(Stats {
            first_index: first,
            ..Default::default()
        }),
        seen: Mutex::new(existing_findings(&config.out)),
        slots: (0..config.jobs.max(1) + SPARE_WORKERS)
            .map(|_| Slot::new())
            .collect(),
        executed: Mutex::new([false; 256]),
        allowed: crate::coverage::allowed_opcodes(&config.profile),
        start: Instant::now(),
        names,
        config,
    });
    let spawn = |w: usize| {
        let s = Arc::clone(&shared);
        (w, std::thread::spawn(move || worker(&s, w)))
    };
    let mut handles: Vec<_> = (0..shared.config.jobs.max(1)).map(spawn).collect();
    let mut next_slot = handles.len();
    let mut last_checkpoint = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if stop.load(Ordering::Relaxed) {
            shared.stop.store(true, Ordering::Relaxed);
        }
        for w in watch_for_hangs(&shared) {
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
        let snapshot = snapshot(&shared);
        progress(&snapshot);
        if last_checkpoint.elapsed() > Duration::from_secs(2) {
            write_checkpoint(&shared)?;
            last_checkpoint = Instant::now();
        }
        if handles.iter().all(|(_, h)| h.is_finished()) {
            break;
        }
    }
    for (_, h) in handles {
        let _ = h.join();
    }
    write_checkpoint(&shared)?;
    Ok(snapshot(&shared))
}

/// Milliseconds since the campaign started.
fn now_ms(shared: &Shared) -> u64 {
    shared.start.elapsed().as_millis() as u64
}

/// Abandons every worker whose case has run longer than the hang budget, writing the case as
/// a `hang` finding first; returns the abandoned slots.
fn watch_for_hangs(shared: &Shared) -> Vec<usize> {
    let cfg = &shared.config;
    let budget = cfg.hang_budget.as_millis() as u64;
    let now = now_ms(shared);
    let mut hung = Vec::new();
    for (w, slot) in shared.slots.iter().enumerate() {
        let started = slot.started.load(Ordering::SeqCst);
        if started == IDLE || now.saturating_sub(started) <= budget {
            continue;
        }
        if slot.abandoned.swap(true, Ordering::SeqCst) {
            continue;
        }
        let index = slot.index.load(Ordering::SeqCst);
        if let Some((input, case)) = generate_case(&cfg.profile, cfg.seed, index) {
            let finding = Finding {
                kind: Kind::Hang,
                id: format!("{index:016x}"),
                case: &case,
                reference: None,
                reference_side: None,
                provenance: provenance(cfg, &shared.names, index, &input),
                signature: format!(
                    "hang {} case: no outcome after {:?}",
                    cfg.profile.name, cfg.hang_budget
                ),
                divergences: Vec::new(),
                detail: format!(
                    "backends {} had not finished after {:?}; the worker was abandoned",
                    cfg.backends, cfg.hang_budget
                ),
            };
            match finding.write(&cfg.out) {
                Ok(_) => shared.stats.lock().expect("stats lock").findings_written += 1,
                Err(e) => eprintln!("evmdiff: cannot write finding {}: {e:#}", finding.id),
            }
        }
        {
            let mut st = shared.stats.lock().expect("stats lock");
            st.hangs += 1;
            st.cases += 1;
        }
        // The case is kept as a finding, so the checkpoint may move past it.
        slot.index.store(IDLE, Ordering::SeqCst);
        slot.started.store(IDLE, Ordering::SeqCst);
        hung.push(w);
    }
    hung
}

fn provenance(cfg: &Config, names: &[String], index: u64, input: &[u8]) -> Provenance {
    Provenance {
        profile: cfg.profile_arg.clone(),
        seed: cfg.seed,
        index,
        input: finding::input_hex(input),
        backends: names.to_vec(),
    }
}

fn snapshot(shared: &Shared) -> Stats {
    let mut s = shared.stats.lock().expect("stats lock").clone();
    s.seconds = shared.start.elapsed().as_secs_f64();
    s.cases_per_second = s.cases as f64 / s.seconds.max(1e-9);
    let executed = shared.executed.lock().expect("coverage lock");
    s.opcodes_allowed = shared.allowed.len();
    s.opcodes_executed = shared
        .allowed
        .iter()
        .filter(|&&b| executed[b as usize])
        .count();
    s
}

fn write_checkpoint(shared: &Shared) -> Result<()> {
    let next = shared.next.load(Ordering::SeqCst);
    let running = shared
        .slots
        .iter()
        .map(|c| c.index.load(Ordering::SeqCst))
        .min()
        .unwrap_or(IDLE);
    let cp = Checkpoint {
        seed: shared.config.seed,
        profile: shared.config.profile_arg.clone(),
        backends: shared.config.backends.clone(),
        sample: shared.config.sample.render(),
        next_index: next.min(running).min(shared.end_index.unwrap_or(u64::MAX)),
    };
    atomic_write(
        &checkpoint_path(&shared.config.out),
        serde_json::to_string_pretty(&cp)?.as_bytes(),
    )
}

/// Generates case `index` of a campaign; `None` if the generator could not build one.
pub fn generate_case(profile: &Profile, seed: u64, index: u64) -> Option<(Vec<u8>, Case)> {
    let input = input_bytes(seed, index);
    let generated = evmdiff_generator::generate(&mut Unstructured::new(&input), profile).ok()?;
    Some((input, generated.case))
}

/// What one case produced: the findings it would write (before deduplication) and its
/// signatures, for the statistics.
#[derive(Debug)]
pub struct Judgement<'a> {
    /// Candidate findings: divergences not allowlisted, crashes, a slow case.
    pub findings: Vec<Finding<'a>>,
    /// Every divergence's signature, allowed or not.
    pub signatures: Vec<Signature>,
    /// A backend crashed.
    pub crashed: bool,
    /// A backend did not support the case.
    pub unsupported: bool,
    /// The case was over the time budget.
    pub slow: bool,
    /// There were divergences and every one is allowlisted.
    pub all_allowed: bool,
}

/// Classifies one run: the per-case work of a campaign after execution, shared by the workers
/// and by `evmdiff bench --generated` (which measures it).
pub fn judge<'a>(
    cfg: &Config,
    names: &[String],
    index: u64,
    input: &[u8],
    case: &'a Case,
    run: &'a CaseRun,
    took: Duration,
) -> Judgement<'a> {
    let reference = expectation_source(run);
    let reference_side = run.reference.as_ref().map(|r| r.to_string());
    let finding = |kind, id, signature, divergences, detail| Finding {
        kind,
        id,
        case,
        reference,
        reference_side: reference_side.clone(),
        provenance: provenance(cfg, names, index, input),
        signature,
        divergences,
        detail,
    };
    let mut j = Judgement {
        findings: Vec::new(),
        signatures: Vec::new(),
        crashed: false,
        unsupported: false,
        slow: took > cfg.case_budget,
        all_allowed: !run.divergences.is_empty(),
    };
    for e in &run.executions {
        match &e.result {
            Err(BackendError::Failed(msg)) => {
                j.crashed = true;
                let first_line = msg
                    .lines()
                    .next()
                    .unwrap_or("")
                    .split(" at ")
                    .next()
                    .unwrap_or("")
                    .to_string();
                let text = format!("crash {} {}: {}", e.backend, cfg.profile.name, first_line);
                let id = alloy_primitives::hex::encode(
                    &alloy_primitives::keccak256(text.as_bytes())[..8],
                );
                j.findings
                    .push(finding(Kind::Crash, id, text, Vec::new(), msg.clone()));
            }
            Err(BackendError::Unsupported(_)) => j.unsupported = true,
            Err(BackendError::NotSampled) | Ok(_) => {}
        }
    }
    for d in &run.divergences {
        let sig = signature(d, &cfg.profile.name);
        if cfg.allow.reason(&sig).is_none() {
            j.all_allowed = false;
            j.findings.push(finding(
                Kind::Divergence,
                sig.id(),
                sig.to_string(),
                vec![d.clone()],
                String::new(),
            ));
        }
        j.signatures.push(sig);
    }
    if j.slow {
        let text = format!("slow {} case over {:?}", cfg.profile.name, cfg.case_budget);
        j.findings.push(finding(
            Kind::Slow,
            format!("{index:016x}"),
            text,
            Vec::new(),
            format!("took {took:?}"),
        ));
    }
    j
}

/// The outcome a finding's `post` expectation is written from: the execution spec's when it
/// ran, else the first backend's that observed everything (a state-test runner has no logs
/// hash to write).
pub fn expectation_source(run: &CaseRun) -> Option<&evmdiff_core::Outcome> {
    let full = |e: &&crate::execute::Execution| e.result.as_ref().is_ok_and(|o| o.scope.is_full());
    let preferred = run.reference.as_ref().and_then(|r| {
        run.executions
            .iter()
            .filter(full)
            .find(|e| e.backend == r.reference)
    });
    preferred
        .or_else(|| run.executions.iter().find(full))
        .and_then(|e| e.result.as_ref().ok())
}

fn worker(shared: &Shared, w: usize) {
    let Ok(mut backends) = (shared.config.instantiate)(&shared.config.backends) else {
        return;
    };
    let cfg = &shared.config;
    let slot = &shared.slots[w];
    loop {
        if shared.stop.load(Ordering::Relaxed)
            || shared.deadline.is_some_and(|d| Instant::now() >= d)
        {
            break;
        }
        let i = shared.next.fetch_add(1, Ordering::SeqCst);
        if shared.end_index.is_some_and(|e| i >= e) {
            break;
        }
        slot.index.store(i, Ordering::SeqCst);
        let Some((input, case)) = generate_case(&cfg.profile, cfg.seed, i) else {
            shared.stats.lock().expect("stats lock").generator_errors += 1;
            continue;
        };
        slot.started.store(now_ms(shared), Ordering::SeqCst);
        let t = Instant::now();
        let active: Option<Vec<bool>> = (!cfg.sample.is_empty()).then(|| {
            backends
                .iter()
                .map(|b| cfg.sample.runs(b.name(), cfg.seed, i))
                .collect()
        });
        let mut run = run_case_localized_on(&mut backends, &case, &cfg.profile, active.as_deref());
        compare_views(&mut backends, &case, &cfg.profile, cfg.views, &mut run);
        let took = t.elapsed();
        if slot.abandoned.load(Ordering::SeqCst) {
            // The watchdog gave up on this case and kept it as a hang finding.
            return;
        }
        slot.started.store(IDLE, Ordering::SeqCst);
        if i.is_multiple_of(COVERAGE_SAMPLE)
            && let Some(b) = backends.iter_mut().find(|b| b.observes_steps())
        {
            sample_coverage(shared, b.as_mut(), &case);
        }
        let j = judge(cfg, &shared.names, i, &input, &case, &run, took);
        let reference = run.executions.iter().find_map(|e| e.result.as_ref().ok());
        let mut written = 0;
        for f in &j.findings {
            // One file per id, holding the lowest case index that hit it, so the files do not
            // depend on which worker got there first.
            let mut seen = shared.seen.lock().expect("seen lock");
            let previous = seen.get(&f.id).copied();
            let replace = previous.is_some_and(|(seed, index)| seed == cfg.seed && i < index);
            if !(previous.is_none() || replace) {
                continue;
            }
            match f.write(&cfg.out) {
                Ok(_) => {
                    seen.insert(f.id.clone(), (cfg.seed, i));
                    written += previous.is_none() as u64;
                }
                Err(e) => {
                    eprintln!("evmdiff: cannot write finding {}: {e:#}", f.id);
                    continue;
                }
            }
            // Minimizing runs the case thousands of times: not while other workers wait for
            // the lock.
            drop(seen);
            if f.kind == Kind::Divergence {
                write_minimized(cfg, &mut backends, f);
            }
        }
        let mut st = shared.stats.lock().expect("stats lock");
        st.cases += 1;
        st.findings_written += written;
        st.crashes += j.crashed as u64;
        st.unsupported += j.unsupported as u64;
        st.slow += j.slow as u64;
        if !run.divergences.is_empty() {
            st.divergent_cases += 1;
            st.allowed_cases += j.all_allowed as u64;
        }
        if let Some(o) = reference {
            *st.statuses.entry(o.status.to_string()).or_default() += 1;
        }
        for e in run.executions.iter().filter(|e| e.result.is_ok()) {
            *st.outcomes.entry(e.backend.to_string()).or_default() += 1;
        }
        if let Some(r) = &run.reference {
            *st.reference_sides.entry(r.to_string()).or_default() += 1;
        }
        for sig in j.signatures {
            *st.signatures
                .entry(format!("{}: {sig}", sig.id()))
                .or_default() += 1;
        }
        drop(st);
        slot.index.store(IDLE, Ordering::SeqCst);
    }
    slot.index.store(IDLE, Ordering::SeqCst);
}

/// Runs `case` observed on `backend` and adds the opcodes it executed to the campaign's.
fn sample_coverage(shared: &Shared, backend: &mut dyn evmdiff_core::Backend, case: &Case) {
    if let Some(seen) = crate::coverage::opcodes_run(backend, case, &shared.config.profile) {
        let mut executed = shared.executed.lock().expect("coverage lock");
        for (e, s) in executed.iter_mut().zip(seen) {
            *e |= s;
        }
    }
}

/// Minimizes a new divergence finding into `OUT/minimized/divergence-<id>.json`.
fn write_minimized(cfg: &Config, backends: &mut [Box<dyn evmdiff_core::Backend>], f: &Finding<'_>) {
    let m = crate::shrink::shrink(
        backends,
        f.case,
        &cfg.profile,
        &f.id,
        crate::shrink::CAMPAIGN_BUDGET,
    );
    let path = cfg
        .out
        .join("minimized")
        .join(format!("divergence-{}.json", f.id));
    if let Err(e) = crate::shrink::write_minimized(&path, backends, &m, &cfg.profile, &f.id) {
        eprintln!("evmdiff: cannot write minimized finding {}: {e:#}", f.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use evmdiff_core::{Backend, Observer, Outcome};
    use std::sync::atomic::AtomicUsize;

    /// Calls of [`Stalls::execute`] so far, over every instance.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    /// The call that never returns.
    const STALL_AT: usize = 5;

    /// A real backend that never returns from one call: what a backend stuck in an endless
    /// loop looks like from the campaign.
    struct Stalls(Box<dyn Backend>);

    impl Backend for Stalls {
        fn name(&self) -> &'static str {
            self.0.name()
        }
        fn version(&self) -> &'static str {
            self.0.version()
        }
        fn execute(&mut self, case: &Case, profile: &Profile) -> Result<Outcome, BackendError> {
            stall_once();
            self.0.execute(case, profile)
        }
        fn execute_observed(
            &mut self,
            case: &Case,
            profile: &Profile,
            observer: &mut dyn Observer,
        ) -> Result<Outcome, BackendError> {
            // The campaign's fast path executes observed.
            stall_once();
            self.0.execute_observed(case, profile, observer)
        }
    }

    /// Never returns on the `STALL_AT`-th execution.
    fn stall_once() {
        if CALLS.fetch_add(1, Ordering::SeqCst) == STALL_AT {
            loop {
                std::thread::park();
            }
        }
    }

    fn with_a_stalling_backend(list: &str) -> Result<Vec<Box<dyn Backend>>> {
        let mut backends = crate::backends::instantiate(list)?;
        let last = backends.pop().expect("two backends");
        backends.push(Box::new(Stalls(last)));
        Ok(backends)
    }

    #[test]
    fn a_hung_backend_becomes_a_finding_and_the_campaign_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            sample: Default::default(),
            profile: Profile::load("mainnet-cancun").unwrap(),
            profile_arg: "mainnet-cancun".into(),
            backends: "revm,revm".into(),
            jobs: 1,
            seed: 3,
            runs: Some(30),
            time: None,
            out: dir.path().to_path_buf(),
            allow: Allowlist::default(),
            case_budget: Duration::from_secs(60),
            hang_budget: Duration::from_millis(500),
            views: Views::default(),
            instantiate: with_a_stalling_backend,
        };
        let started = Instant::now();
        let stats = run(config, Arc::new(AtomicBool::new(false)), |_| {}).unwrap();
        assert!(started.elapsed() < Duration::from_secs(30));
        assert_eq!(stats.hangs, 1);
        assert_eq!(stats.cases + stats.generator_errors, 30, "{stats:?}");
        assert_eq!(stats.divergent_cases, 0);
        let hangs: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("hang-")
            })
            .collect();
        assert_eq!(hangs.len(), 1, "{hangs:?}");
        // The finding is a readable state test that records the case that hung.
        let file = evmdiff_core::statetest::read_file(&hangs[0]).unwrap();
        let meta = file.cases[0].meta.clone().unwrap();
        assert_eq!(meta["kind"], "hang");
        let index = meta["index"].as_u64().unwrap();
        let (_, case) = generate_case(&Profile::load("mainnet-cancun").unwrap(), 3, index).unwrap();
        assert_eq!(file.cases[0].pre, case.pre);
        // The checkpoint moved past every case, the hung one included.
        let cp: Checkpoint = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("campaign.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(cp.next_index, 30);
    }
}
