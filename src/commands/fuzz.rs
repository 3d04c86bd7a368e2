//! `evmdiff fuzz`: a differential fuzzing campaign on the in-process backends, and with
//! `--coverage` what its cases executed.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::{Result, bail};
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

fn line(s: &Stats) -> String {
    format!(
        "{} cases, {:.0}/s, {} divergent ({} allowed), {} unique signatures, {} crashes, {} slow, {} hangs, {} findings written, opcodes {}/{} executed (1 case in {} observed)",
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

/// Runs the campaign; returns the final stats.
pub fn fuzz(args: &FuzzArgs) -> Result<Stats> {
    let profile = Profile::load(&args.profile)?;
    evmdiff::backends::instantiate(&args.backends)?;
    let sample = evmdiff::backends::Sampling::parse(&args.sample, &args.backends)?;
    let allow = match &args.allow {
        Some(p) => Allowlist::load(p)?,
        None => Allowlist::default(),
    };
    if args.runs.is_none() && args.time.is_none() {
        eprintln!(
            "evmdiff: no --runs or --time given: fuzzing until interrupted (findings and the checkpoint survive)"
        );
    }
    let config = Config {
        profile,
        profile_arg: args.profile.clone(),
        backends: args.backends.clone(),
        jobs: args.jobs,
        seed: args.seed,
        runs: args.runs,
        time: args.time,
        out: args.out.clone(),
        allow,
        case_budget: args.case_budget,
        hang_budget: args.hang_budget,
        views: args.views,
        sample,
        instantiate: evmdiff::backends::instantiate,
    };
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{elapsed_precise} {msg}").expect("valid template"));
    let mut last_print = std::time::Instant::now();
    let hidden = bar.is_hidden();
    let stats = campaign::run(config, Arc::new(AtomicBool::new(false)), |s| {
        bar.set_message(line(s));
        // Without a terminal, a plain progress line every 10 s.
        if hidden && last_print.elapsed() > Duration::from_secs(10) {
            eprintln!("{}", line(s));
            last_print = std::time::Instant::now();
        }
    })?;
    bar.finish_and_clear();
    println!("{}", line(&stats));
    println!(
        "first case index {}, {:.1} s, findings in {}",
        stats.first_index,
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
    for (sig, n) in &stats.signatures {
        println!("  {n:>8}  {sig}");
    }
    for (side, n) in &stats.reference_sides {
        println!("  {n:>8}  divergent cases where the {side}");
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
    Ok(stats)
}
