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
use crate::execute::{CaseRun, run_case_localized};
use crate::finding::{self, Finding, Kind, Provenance};
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
}

/// The checkpoint in `OUT/campaign.json`: where to resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Seed of the campaign.
    pub seed: u64,
    /// Profile argument.
    pub profile: String,
    /// Backends.
    pub backends: String,
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
    /// The index each worker is running (u64::MAX when idle), for the checkpoint.
    current: Vec<AtomicU64>,
    names: Vec<String>,
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
            {
                cp.next_index
            } else {
                0
            }
        }
        Err(_) => 0,
    };
    let names: Vec<String> = crate::backends::instantiate(&config.backends)?
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
        current: (0..config.jobs.max(1))
            .map(|_| AtomicU64::new(u64::MAX))
            .collect(),
        names,
        config,
    });
    let start = Instant::now();
    let handles: Vec<_> = (0..shared.current.len())
        .map(|w| {
            let s = Arc::clone(&shared);
            std::thread::spawn(move || worker(&s, w))
        })
        .collect();
    let mut last_checkpoint = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if stop.load(Ordering::Relaxed) {
            shared.stop.store(true, Ordering::Relaxed);
        }
        let snapshot = snapshot(&shared, start);
        progress(&snapshot);
        if last_checkpoint.elapsed() > Duration::from_secs(2) {
            write_checkpoint(&shared)?;
            last_checkpoint = Instant::now();
        }
        if handles.iter().all(|h| h.is_finished()) {
            break;
        }
    }
    for h in handles {
        let _ = h.join();
    }
    write_checkpoint(&shared)?;
    Ok(snapshot(&shared, start))
}

fn snapshot(shared: &Shared, start: Instant) -> Stats {
    let mut s = shared.stats.lock().expect("stats lock").clone();
    s.seconds = start.elapsed().as_secs_f64();
    s.cases_per_second = s.cases as f64 / s.seconds.max(1e-9);
    s
}

fn write_checkpoint(shared: &Shared) -> Result<()> {
    let next = shared.next.load(Ordering::SeqCst);
    let running = shared
        .current
        .iter()
        .map(|c| c.load(Ordering::SeqCst))
        .min()
        .unwrap_or(u64::MAX);
    let cp = Checkpoint {
        seed: shared.config.seed,
        profile: shared.config.profile_arg.clone(),
        backends: shared.config.backends.clone(),
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
    let reference = run.executions.iter().find_map(|e| e.result.as_ref().ok());
    let finding = |kind, id, signature, divergences, detail| Finding {
        kind,
        id,
        case,
        reference,
        provenance: Provenance {
            profile: cfg.profile_arg.clone(),
            seed: cfg.seed,
            index,
            input: finding::input_hex(input),
            backends: names.to_vec(),
        },
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
            Ok(_) => {}
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

fn worker(shared: &Shared, w: usize) {
    let Ok(mut backends) = crate::backends::instantiate(&shared.config.backends) else {
        return;
    };
    let cfg = &shared.config;
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
        shared.current[w].store(i, Ordering::SeqCst);
        let Some((input, case)) = generate_case(&cfg.profile, cfg.seed, i) else {
            shared.stats.lock().expect("stats lock").generator_errors += 1;
            continue;
        };
        let t = Instant::now();
        let run = run_case_localized(&mut backends, &case, &cfg.profile);
        let took = t.elapsed();
        let j = judge(cfg, &shared.names, i, &input, &case, &run, took);
        let reference = run.executions.iter().find_map(|e| e.result.as_ref().ok());
        let mut written = 0;
        for f in &j.findings {
            // One file per id, holding the lowest case index that hit it, so the files do not
            // depend on which worker got there first.
            let mut seen = shared.seen.lock().expect("seen lock");
            let previous = seen.get(&f.id).copied();
            let replace = previous.is_some_and(|(seed, index)| seed == cfg.seed && i < index);
            if previous.is_none() || replace {
                match f.write(&cfg.out) {
                    Ok(_) => {
                        seen.insert(f.id.clone(), (cfg.seed, i));
                        written += previous.is_none() as u64;
                    }
                    Err(e) => eprintln!("evmdiff: cannot write finding {}: {e:#}", f.id),
                }
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
        for sig in j.signatures {
            *st.signatures
                .entry(format!("{}: {sig}", sig.id()))
                .or_default() += 1;
        }
        drop(st);
        shared.current[w].store(u64::MAX, Ordering::SeqCst);
    }
    shared.current[w].store(u64::MAX, Ordering::SeqCst);
}
