//! `evmdiff fuzz`: a differential fuzzing campaign on the in-process backends, and with
//! `--coverage` what its cases executed.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};

use super::options::{BackendsOpt, JobsOpt, ProverOpt};
use crate::Oracle;
use crate::allowlist::Allowlist;
use crate::campaign::{self, Config, Shard, Stats};
use crate::coverage;
use crate::write::atomic_write;
use evmdiff_core::Profile;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Fuzz: generate programs within a profile, run them on every backend, keep every
/// divergence, crash, hang and slow case as a replayable finding in --out.
///
/// Same seed, same cases. Rerunning with the same --out, seed, profile and backends resumes
/// after the last checkpoint (Ctrl-C saves it). The known differences that ship with evmdiff
/// (docs/findings.md) are reported as known, not as new findings. Exit code 0 when the
/// campaign completes (with --fail-on-findings: 1 on any divergent case not on the
/// allowlist, crash, hang or slow case, or a backend that produced no outcome without sitting
/// out), 2 on bad input, 130 when interrupted.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Profile: a built-in name or a .toml file.
    #[arg(long, short, default_value = "mainnet-cancun")]
    pub profile: String,
    /// Which backends run.
    #[command(flatten)]
    pub backends: BackendsOpt,
    /// Worker threads.
    #[command(flatten)]
    pub jobs: JobsOpt,
    /// Campaign seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stop after this many cases.
    #[arg(long)]
    pub runs: Option<u64>,
    /// Stop after this long, wall clock (30s, 5m, 2h): cases still running then are left for
    /// the resumed campaign.
    #[arg(long, value_parser = parse_duration)]
    pub time: Option<Duration>,
    /// Output folder for findings and the checkpoint.
    #[arg(long, default_value = "findings")]
    pub out: PathBuf,
    /// Allowlist of known signatures (TOML, each with a reason), on top of the shipped ones.
    #[arg(long)]
    pub allow: Option<PathBuf>,
    /// Do not recognise the known differences that ship with evmdiff (corpus/allow/, written
    /// up in docs/findings.md): report them as new findings.
    #[arg(long)]
    pub no_known: bool,
    /// Write the final statistics as JSON to this file.
    #[arg(long)]
    pub stats_json: Option<PathBuf>,
    /// At the end, write the report of the campaign's folder (`evmdiff report`) as
    /// `report.md` and `report.html` beside its findings.
    #[arg(long)]
    pub report: bool,
    /// Exit with code 1 on any divergent case not on the allowlist, crash, hang or slow case
    /// (new finding file or not), or a selected backend that produced no outcome at all
    /// without having said it sits out (for CI gates).
    #[arg(long)]
    pub fail_on_findings: bool,
    /// A case slower than this becomes a `slow` finding.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub case_budget: Duration,
    /// A case still running after this long is kept as a `hang` finding; its worker is
    /// abandoned and replaced, and the campaign goes on.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub hang_budget: Duration,
    /// Prover views compared.
    #[command(flatten)]
    pub prover: ProverOpt,
    /// After the campaign, rerun its cases observed on the first backend and report which
    /// allowed opcodes and precompiles they executed, the early-halt share and the status
    /// mix (also in --stats-json, under "coverage").
    #[arg(long, conflicts_with = "shard")]
    pub coverage: bool,
    /// Run slow backends on a fraction of the cases only, so that the fast ones keep their
    /// pace: `eels=0.05,pyevm=0.2`. Which cases is decided by the seed and the case index,
    /// so a rerun samples the same ones.
    #[arg(long, default_value = "", value_name = "NAME=RATE,..")]
    pub sample: String,
    /// Each generated transaction's most gas: the case's work budget. `auto` sizes cases for
    /// the slowest backend in the mix: 1,000,000 when an out-of-process EVM (the execution
    /// spec, py-evm, ethereumjs, a runner) runs any share of the cases, so that it tests
    /// many cases a minute rather than a few that loop for millions of instructions; none
    /// when every backend is in process. `off` for none, or a figure (at least 100000). A
    /// budgeted case is the unbudgeted one with its gas limits capped; findings record it.
    #[arg(long, default_value = "auto", value_name = "auto|off|GAS")]
    pub case_gas: String,
    /// Run the campaign in N processes, each on a share of the cases (`--shard k/N`) with
    /// `--jobs` threads (default 1), all writing findings into --out: a backend that aborts,
    /// overflows its stack or runs out of memory takes one process down, not the campaign.
    /// A process that dies is restarted past the case it died on, which becomes a `crash`
    /// finding. Progress, the summary and stats.json are the whole campaign's; --runs is the
    /// total. Not with --coverage.
    #[arg(long, value_name = "N", value_parser = parse_processes, conflicts_with_all = ["coverage", "shard"])]
    pub processes: Option<usize>,
    /// Run only share K of N of the campaign's cases: K, K+N, K+2N, … (case i is made from
    /// the seed and i alone, so N machines given 0/N..N-1/N of one seed run the whole
    /// campaign once between them). --runs counts this shard's cases; its checkpoint and
    /// statistics are kept under --out/shards/.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
}

/// The smallest `--case-gas`: below it, a creating transaction's intrinsic gas alone (up to
/// 49,152 bytes of init code) may not fit.
const MIN_CASE_GAS: u64 = 100_000;
/// `--case-gas auto` when an out-of-process backend runs.
pub const AUTO_CASE_GAS: u64 = 1_000_000;

/// The gas budget `--case-gas` asks for, given the backends and their sampling, and why.
pub fn case_gas(
    arg: &str,
    backends: &[Box<dyn evmdiff_core::Backend>],
    sample: &crate::backends::Sampling,
) -> Result<(Option<u64>, String)> {
    match arg.trim() {
        "off" | "none" => Ok((None, "off".into())),
        "auto" => {
            let slow: Vec<String> = backends
                .iter()
                .filter(|b| !b.capabilities().in_process && sample.rate(b.name()) > 0.0)
                .map(|b| b.name().to_string())
                .collect();
            Ok(if slow.is_empty() {
                (None, "none (every backend is in process)".into())
            } else {
                (
                    Some(AUTO_CASE_GAS),
                    format!(
                        "{AUTO_CASE_GAS} gas per transaction, sized for {}",
                        slow.join(", ")
                    ),
                )
            })
        }
        n => {
            let gas: u64 = n.replace('_', "").parse().map_err(|_| {
                anyhow::anyhow!("--case-gas {n}: expected auto, off or a gas figure")
            })?;
            if gas < MIN_CASE_GAS {
                bail!(
                    "--case-gas {gas}: at least {MIN_CASE_GAS} (a creating transaction's intrinsic gas)"
                );
            }
            Ok((Some(gas), format!("{gas} gas per transaction")))
        }
    }
}

/// `--processes`: at least one.
fn parse_processes(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("`{s}` is not a number of processes (1 or more)")),
    }
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

/// Prints a campaign's summary: the final counts, the outcomes, each signature with its
/// count (and why it is known), and where an interrupted one's checkpoint is (`checkpoint`).
pub fn summary(stats: &Stats, out: &std::path::Path, checkpoint: &std::path::Path) {
    println!("{}", line(stats, None, None));
    let resumed = if stats.first_index > 0 {
        format!("resumed after {} cases, ", stats.first_index)
    } else {
        String::new()
    };
    // A setup of seconds (revm's KZG trusted setup) is most of a short run: said, so that
    // its rate is not read as the campaign's.
    let setup = if stats.setup_seconds >= 0.5 {
        format!(
            " ({:.1} s of it preparing the backends)",
            stats.setup_seconds
        )
    } else {
        String::new()
    };
    println!(
        "{resumed}{:.1} s{setup}, findings in {}",
        stats.seconds,
        out.display()
    );
    let statuses: Vec<String> = stats
        .statuses
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    println!("outcomes: {}", statuses.join(", "));
    if stats.chains > 0 {
        println!(
            "chains: {} of {} cases, {} transactions",
            stats.chains, stats.cases, stats.chain_transactions
        );
    }
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
            checkpoint.display()
        );
    }
}

/// Writes `stats` as JSON to `path`, atomically.
pub fn write_stats(path: &std::path::Path, stats: &Stats) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    atomic_write(path, serde_json::to_string_pretty(stats)?.as_bytes())?;
    Ok(())
}

/// The progress line: counts, rate, and how long is left when the campaign has a bound.
pub fn line(s: &Stats, runs: Option<u64>, time: Option<Duration>) -> String {
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

/// Runs the campaign and prints its summary; exit 1 when `--fail-on-findings` and the gate
/// fails.
pub fn run(args: &Args) -> Result<ExitCode> {
    if let Some(n) = args.processes.filter(|&n| n > 1) {
        return campaign::processes::run(args, n);
    }
    let (stats, gate) = fuzz(args)?;
    if args.fail_on_findings && !gate.is_empty() {
        println!("--fail-on-findings: {}", gate.join("; "));
    }
    // A selected backend that did nothing, without having said it sits out and without a
    // finding, fails the run with or without a gate: a campaign that compared less than it
    // says is no pass.
    let silent = stats.silent(&selected_rates(args));
    for s in &silent {
        eprintln!("evmdiff: {s}: the run fails");
    }
    Ok(crate::cli::exit(
        (args.fail_on_findings && !gate.is_empty()) || !silent.is_empty(),
    ))
}

/// Each selected backend with its sampling rate.
pub fn selected_rates(args: &Args) -> Vec<(String, f64)> {
    let list = &args.backends.backends;
    let sample = crate::backends::Sampling::parse(&args.sample, list).unwrap_or_default();
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| (n.to_string(), sample.rate(n)))
        .collect()
}

/// Runs the campaign; returns the final stats and, when a CI gate would fail it, why.
pub fn fuzz(args: &Args) -> Result<(Stats, Vec<String>)> {
    let profile = Profile::load(&args.profile)?;
    let list = &args.backends.backends;
    let jobs = args.jobs.get();
    let views = args.prover.views()?;
    // Made here to check the list (and asked below what runs out of process); each worker
    // makes its own.
    let instances = crate::backends::instantiate(list)?;
    let sample = crate::backends::Sampling::parse(&args.sample, list)?;
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
    if !views.none() {
        for (name, why) in crate::backends::without_views(list)? {
            eprintln!(
                "evmdiff: backend {name} gives no prover view ({why}): --prover compares the others"
            );
        }
    }
    let sitting_out = crate::backends::sitting_out(list, &profile)?;
    for (name, why) in &sitting_out {
        eprintln!("evmdiff: backend {name} sits out this campaign: {why}");
    }
    if profile.base_fork >= evmdiff_core::Fork::Paris {
        for name in crate::backends::without_chains(list)? {
            if !sitting_out.contains_key(&name) {
                eprintln!(
                    "evmdiff: backend {name} runs single transactions only: it sits out the \
                     campaign's chains (about a quarter of the cases)"
                );
            }
        }
    }
    let running = list
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty() && !sitting_out.contains_key(*n))
        .count();
    let selected = list.split(',').filter(|n| !n.trim().is_empty()).count();
    // One backend alone is a campaign too (crash hunting, `--coverage`); asking for several
    // and being left with one is nothing to compare.
    if running == 0 || (selected >= 2 && running < 2) {
        bail!(
            "under profile {} only {running} of the backends {} can run: nothing to compare",
            profile.name,
            list
        );
    }
    let (gas_budget, why) = case_gas(&args.case_gas, &instances, &sample)?;
    if gas_budget.is_some() {
        eprintln!("evmdiff: case budget: {why} (--case-gas)");
    }
    let mut oracle = Oracle::new(profile);
    oracle.views = views;
    oracle.sample = sample.clone();
    oracle.allow = allow;
    oracle.case_budget = args.case_budget;
    let shard = args.shard.unwrap_or_default();
    let config = Config {
        oracle,
        backends: list.clone(),
        jobs,
        seed: args.seed,
        gas_budget,
        shard,
        runs: args.runs,
        time: args.time,
        out: args.out.clone(),
        hang_budget: args.hang_budget,
        instantiate: crate::backends::instantiate,
        make_case: evmdiff_oracle::seal::campaign_case_run,
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
    let mut last_snapshot = std::time::Instant::now();
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
        // A shard's statistics as it goes: what `--processes` reports progress from, and
        // what it counts if this process dies.
        if !shard.is_whole() && last_snapshot.elapsed() > Duration::from_secs(1) {
            let _ = write_stats(&shard.file(&args.out, "stats.json"), s);
            last_snapshot = std::time::Instant::now();
        }
    })?;
    bar.finish_and_clear();
    summary(
        &stats,
        &args.out,
        &crate::campaign::checkpoint::path(&args.out, shard),
    );
    let coverage = if args.coverage {
        let first_backend = list.split(',').next().unwrap_or_default();
        let cov = coverage::measure(&coverage::Options {
            profile: Profile::load(&args.profile)?,
            backend: first_backend.to_string(),
            seed: args.seed,
            gas_budget,
            first: stats.first_index,
            runs: stats.cases + stats.generator_errors,
            jobs,
        })?;
        print!("{}", cov.text());
        Some(cov)
    } else {
        None
    };
    let mut json = serde_json::to_value(&stats)?;
    if let (Some(cov), Some(obj)) = (&coverage, json.as_object_mut()) {
        obj.insert("coverage".into(), serde_json::to_value(cov)?);
    }
    let json = serde_json::to_string_pretty(&json)?;
    // Always beside the findings too: `evmdiff report` counts each signature's cases from it
    // (a shard's are the process runner's to merge).
    atomic_write(&shard.file(&args.out, "stats.json"), json.as_bytes())?;
    if let Some(p) = &args.stats_json {
        atomic_write(p, json.as_bytes())?;
    }
    if args.report {
        let (md, html) = (args.out.join("report.md"), args.out.join("report.html"));
        crate::findings_report::write(&args.out, Some(&md), Some(&html))?;
        eprintln!("report: {} and {}", md.display(), html.display());
    }
    let gate = stats.gate_failures(&selected_rates(args));
    if stats.interrupted && stop.load(Ordering::SeqCst) {
        std::process::exit(130);
    }
    Ok((stats, gate))
}
