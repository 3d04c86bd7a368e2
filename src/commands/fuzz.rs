//! `evmdiff fuzz`: a differential fuzzing campaign on the in-process backends, and with
//! `--coverage` what its cases executed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use evmdiff::Oracle;
use evmdiff::allowlist::Allowlist;
use evmdiff::campaign::{self, Config, Stats};
use evmdiff::coverage;
use evmdiff::write::atomic_write;
use evmdiff_core::Profile;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Options of `evmdiff fuzz`.
#[derive(Debug)]
pub struct FuzzArgs {
    /// Profile name or file.
    pub profile: String,
    /// Comma-separated backends.
    pub backends: String,
    /// Worker threads.
    pub jobs: usize,
    /// Seed.
    pub seed: u64,
    /// Number of cases.
    pub runs: Option<u64>,
    /// Duration.
    pub time: Option<Duration>,
    /// Output folder.
    pub out: PathBuf,
    /// Allowlist file.
    pub allow: Option<PathBuf>,
    /// Stats file.
    pub stats_json: Option<PathBuf>,
    /// Per-case time budget.
    pub case_budget: Duration,
    /// Time after which a running case is a hang.
    pub hang_budget: Duration,
    /// Prover views compared on every case.
    pub views: evmdiff::views::Views,
    /// After the campaign, measure what its cases executed on the first backend.
    pub coverage: bool,
    /// Sampling rates of slow backends (`eels=0.05,pyevm=0.2`).
    pub sample: String,
    /// Do not recognise the known differences that ship with evmdiff (`corpus/allow/`).
    pub no_known: bool,
}

/// Parses `90`, `90s`, `5m`, `2h`, `1d`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let (num, unit) = s.trim().split_at(
        s.trim()
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(s.trim().len()),
    );
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow::anyhow!("`{s}` is not a duration (examples: 30s, 5m, 2h)"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => bail!("`{s}` is not a duration (examples: 30s, 5m, 2h)"),
    };
    Ok(Duration::from_secs(secs))
}

/// The progress line: counts, rate, and how long is left when the campaign has a bound.
fn line(s: &Stats, runs: Option<u64>, time: Option<Duration>) -> String {
    let left = match (runs, time) {
        (Some(r), _) if s.cases_per_second > 0.0 => {
            Some(r.saturating_sub(s.cases + s.generator_errors) as f64 / s.cases_per_second)
        }
        (None, Some(t)) => Some((t.as_secs_f64() - s.seconds).max(0.0)),
        _ => None,
    };
    let eta = left.map_or(String::new(), |l| format!(", ETA {}", clock(l)));
    format!(
        "{} cases, {:.0}/s{eta}, {} divergent ({} known), {} unique signatures, {} crashes, {} slow, {} hangs, {} findings written, opcodes {}/{} executed (1 case in {} observed)",
        s.cases,
        s.cases_per_second,
        s.divergent_cases,
        s.allowed_cases,
        s.signatures.len(),
        s.crashes,
        s.slow,
        s.hangs,
        s.findings_written,
        s.opcodes_executed,
        s.opcodes_allowed,
        campaign::COVERAGE_SAMPLE
    )
}

/// `1:02:03` or `2:03`.
fn clock(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Runs the campaign; returns the final stats and, when a CI gate would fail it, why.
pub fn fuzz(args: &FuzzArgs) -> Result<(Stats, Vec<String>)> {
    let profile = Profile::load(&args.profile)?;
    evmdiff::backends::instantiate(&args.backends)?;
    let sample = evmdiff::backends::Sampling::parse(&args.sample, &args.backends)?;
    let allow = match &args.allow {
        Some(p) => Allowlist::load(p)?,
        None => Allowlist::default(),
    };
    let allow = if args.no_known {
        allow
    } else {
        allow.with(Allowlist::shipped())
    };
    if args.runs.is_none() && args.time.is_none() {
        eprintln!(
            "evmdiff: no --runs or --time given: fuzzing until interrupted (Ctrl-C; findings and the checkpoint survive)"
        );
    }
    let sitting_out = evmdiff::backends::sitting_out(&args.backends, &profile)?;
    for (name, why) in &sitting_out {
        eprintln!("evmdiff: backend {name} sits out this campaign: {why}");
    }
    let running = args
        .backends
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && !sitting_out.contains_key(*n))
        .count();
    if running < 2 {
        bail!(
            "under profile {} only {running} of the backends {} can run: nothing to compare",
            profile.name,
            args.backends
        );
    }
    let mut oracle = Oracle::new(profile);
    oracle.views = args.views;
    oracle.sample = sample.clone();
    oracle.allow = allow;
    oracle.case_budget = args.case_budget;
    let config = Config {
        oracle,
        backends: args.backends.clone(),
        jobs: args.jobs,
        seed: args.seed,
        runs: args.runs,
        time: args.time,
        out: args.out.clone(),
        hang_budget: args.hang_budget,
        instantiate: evmdiff::backends::instantiate,
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // The first Ctrl-C stops the campaign after the cases in flight (a summary and the
        // checkpoint follow); a second one exits at once.
        let _ = ctrlc::set_handler(move || {
            if stop.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
        });
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{elapsed_precise} {msg}").expect("valid template"));
    bar.enable_steady_tick(Duration::from_millis(250));
    let mut last_print = std::time::Instant::now();
    let hidden = bar.is_hidden();
    let mut resumed = false;
    let stats = campaign::run(config, sitting_out, Arc::clone(&stop), |s| {
        if !resumed && s.first_index > 0 {
            bar.suspend(|| {
                eprintln!(
                    "evmdiff: resumed after {} cases (checkpoint in {})",
                    s.first_index,
                    args.out.display()
                )
            });
        }
        resumed = true;
        bar.set_message(line(s, args.runs, args.time));
        // Without a terminal, a plain progress line every 10 s.
        if hidden && last_print.elapsed() > Duration::from_secs(10) {
            eprintln!("{}", line(s, args.runs, args.time));
            last_print = std::time::Instant::now();
        }
    })?;
    bar.finish_and_clear();
    println!("{}", line(&stats, None, None));
    let resumed = if stats.first_index > 0 {
        format!("resumed after {} cases, ", stats.first_index)
    } else {
        String::new()
    };
    println!(
        "{resumed}{:.1} s, findings in {}",
        stats.seconds,
        args.out.display()
    );
    let statuses: Vec<String> = stats
        .statuses
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("outcomes: {}", statuses.join(", "));
    let per_backend: Vec<String> = stats
        .outcomes
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!(
        "cases with an outcome, per backend: {}",
        per_backend.join(", ")
    );
    for (name, why) in &stats.sitting_out {
        println!("sat out: {name} ({why})");
    }
    for (sig, n) in &stats.signatures {
        match stats.known.get(sig) {
            Some(reason) => println!("  {n:>8}  {sig}\n            known: {reason}"),
            None => println!("  {n:>8}  {sig}"),
        }
    }
    for (side, n) in &stats.reference_sides {
        println!("  {n:>8}  divergent cases where the {side}");
    }
    if stats.interrupted {
        println!(
            "stopped before the end: checkpoint saved in {}, rerun the same command to resume",
            evmdiff::campaign::checkpoint::path(&args.out).display()
        );
    }
    let coverage = if args.coverage {
        let first_backend = args.backends.split(',').next().unwrap_or_default();
        let cov = coverage::measure(&coverage::Options {
            profile: Profile::load(&args.profile)?,
            backend: first_backend.to_string(),
            seed: args.seed,
            first: stats.first_index,
            runs: stats.cases + stats.generator_errors,
            jobs: args.jobs,
        })?;
        print!("{}", cov.text());
        Some(cov)
    } else {
        None
    };
    if let Some(p) = &args.stats_json {
        let mut json = serde_json::to_value(&stats)?;
        if let (Some(cov), Some(obj)) = (&coverage, json.as_object_mut()) {
            obj.insert("coverage".into(), serde_json::to_value(cov)?);
        }
        atomic_write(p, serde_json::to_string_pretty(&json)?.as_bytes())?;
    }
    let selected: Vec<(String, f64)> = args
        .backends
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| (n.to_string(), sample.rate(n)))
        .collect();
    let gate = stats.gate_failures(&selected);
    if stats.interrupted && stop.load(Ordering::SeqCst) {
        std::process::exit(130);
    }
    Ok((stats, gate))
}
