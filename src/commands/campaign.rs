//! `evmdiff campaign`: a long coverage-guided campaign of a cargo-fuzz target, run by
//! libFuzzer's own fork mode over the cores, its crashes turned into evmdiff findings.
//!
//! libFuzzer does the scheduling (`-fork=N`: N child processes, each fuzzing for a while and
//! handing its new inputs back to the main corpus), so a crashing, hanging or out-of-memory
//! input costs one child, not the campaign (`-ignore_crashes`, `-ignore_timeouts`,
//! `-ignore_ooms`). evmdiff adds what makes it a campaign of ours: the target's configuration
//! (its options file), findings written as evmdiff finding files by the target itself
//! (`EVMDIFF_FINDINGS`), every crash input replayed into one afterwards (an input that killed
//! its process without a panic included), the corpus merged, a summary, and a folder a rerun
//! resumes from.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use evmdiff_core::Profile;
use evmdiff_oracle::fuzz_target::TargetConfig;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::fuzz::parse_duration;
use super::options::JobsOpt;
use crate::write::atomic_write;

/// Run a cargo-fuzz target as a long libFuzzer campaign: `-fork` over the cores, crashes
/// turned into evmdiff findings, the corpus merged at the end, a summary; rerun with the same
/// --out to resume.
///
/// The target binary comes from `cargo fuzz build -O -s none` (or `scripts/oss-fuzz-local.sh`,
/// or an OSS-Fuzz/ClusterFuzzLite build). OUT holds `corpus/` (what the next run resumes
/// from), `crashes/` (libFuzzer's crash, timeout and out-of-memory inputs), `findings/`
/// (evmdiff finding files: `evmdiff report OUT/findings`), `libfuzzer.log` and
/// `campaign-libfuzzer.json` (one entry per run).
///
/// Exit 0 when the campaign found nothing, 1 when it has findings or crash inputs, 2 on bad
/// input (an unknown target, no binary, a bad profile or backend).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The cargo-fuzz target (`differential`, `chain`, `prover_views`, `precompiles`), or the
    /// path of a target's .options file.
    #[arg(long, short, default_value = "differential")]
    pub target: String,
    /// The target's binary (default:
    /// `fuzz/target/x86_64-unknown-linux-gnu/release/<target>`).
    #[arg(long, value_name = "FILE")]
    pub binary: Option<PathBuf>,
    /// The campaign folder; a rerun with the same folder resumes from its corpus.
    #[arg(long, default_value = "campaign")]
    pub out: PathBuf,
    /// Seed inputs, read on the first run (default: `corpus/seeds/<target>` when it exists).
    #[arg(long, value_name = "DIR")]
    pub seeds: Option<PathBuf>,
    /// How long libFuzzer fuzzes (`30s`, `15m`, `8h`).
    #[arg(long, value_parser = parse_duration, default_value = "15m")]
    pub time: Duration,
    /// Child processes (libFuzzer's `-fork`).
    #[command(flatten)]
    pub jobs: JobsOpt,
    /// Profile instead of the target's.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Backends instead of the target's (`revm,revm+sdiv-overflow` tries a planted bug).
    #[arg(long, short)]
    pub backends: Option<String>,
    /// Keep the corpus as libFuzzer left it (no `-merge=1` at the end).
    #[arg(long)]
    pub no_merge: bool,
    /// More libFuzzer flags, after `--` (`-- -use_value_profile=1`).
    #[arg(last = true, value_name = "LIBFUZZER-FLAGS")]
    pub libfuzzer: Vec<String>,
}

/// The last status line libFuzzer printed (`#N: cov: .. ft: .. corp: .. exec/s: ..`).
#[derive(Debug, Default, Clone)]
struct Status {
    execs: u64,
    cov: u64,
    ft: u64,
    corpus: u64,
    exec_per_sec: u64,
    crashes: u64,
}

impl Status {
    /// Reads a libFuzzer status line (fork mode's or a single process's); `None` for others.
    fn parse(line: &str, previous: &Status) -> Option<Status> {
        let rest = line.strip_prefix('#')?;
        let words: Vec<&str> = rest.split_whitespace().collect();
        let execs = words.first()?.trim_end_matches(':').parse().ok()?;
        let after = |key: &str| -> Option<&str> {
            let i = words.iter().position(|w| w.trim_end_matches(':') == key)?;
            words.get(i + 1).copied()
        };
        let num =
            |key: &str| after(key).and_then(|v| v.trim_end_matches(['b', 'K', 'M']).parse().ok());
        let mut s = previous.clone();
        s.execs = execs;
        s.cov = num("cov").unwrap_or(s.cov);
        s.ft = num("ft").unwrap_or(s.ft);
        s.corpus = after("corp")
            .and_then(|v| v.split('/').next()?.parse().ok())
            .unwrap_or(s.corpus);
        s.exec_per_sec = num("exec/s").unwrap_or(s.exec_per_sec);
        // Fork mode: `oom/timeout/crash: 0/0/3`.
        if let Some(v) = after("oom/timeout/crash") {
            s.crashes = v.split('/').filter_map(|n| n.parse::<u64>().ok()).sum();
        }
        Some(s)
    }
}

/// Runs the campaign.
pub fn run(args: &Args) -> Result<ExitCode> {
    let mut config = TargetConfig::load(&args.target)?;
    if let Some(p) = &args.profile {
        config.profile.clone_from(p);
    }
    if let Some(b) = &args.backends {
        config.backends.clone_from(b);
    }
    // Bad input is said before libFuzzer starts, not found in its log.
    Profile::load(&config.profile)?;
    crate::backends::instantiate(&config.backends)?;
    let binary = args.binary.clone().unwrap_or_else(|| {
        Path::new("fuzz/target/x86_64-unknown-linux-gnu/release").join(&config.target)
    });
    if !binary.is_file() {
        bail!(
            "{}: no target binary (build it with `cargo fuzz build -O -s none {}` in evmdiff's \
             folder, or give --binary)",
            binary.display(),
            config.target
        );
    }
    let binary = binary.canonicalize()?;
    let out = &args.out;
    let (corpus, crashes, findings) = (
        out.join("corpus"),
        out.join("crashes"),
        out.join("findings"),
    );
    for d in [&corpus, &crashes, &findings] {
        std::fs::create_dir_all(d)
            .with_context(|| format!("{}: cannot create folder", d.display()))?;
    }
    let resumed = std::fs::read_dir(&corpus)?.next().is_some();
    let seeds = args.seeds.clone().or_else(|| {
        let d = Path::new("corpus/seeds").join(&config.target);
        d.is_dir().then_some(d)
    });
    let jobs = args.jobs.get();
    eprintln!(
        "evmdiff campaign: {} ({} on {}{}), {} process(es), {} s, {}{}",
        config.target,
        config.profile,
        config.backends,
        if config.prover.is_empty() {
            String::new()
        } else {
            format!(", views {}", config.prover)
        },
        jobs,
        args.time.as_secs(),
        if resumed { "resuming from " } else { "corpus " },
        corpus.display()
    );

    let mut cmd = Command::new(&binary);
    cmd.arg(format!("-fork={jobs}"))
        .args([
            "-ignore_crashes=1",
            "-ignore_timeouts=1",
            "-ignore_ooms=1",
            "-print_final_stats=1",
        ])
        .arg(format!("-max_total_time={}", args.time.as_secs().max(1)))
        .arg(format!(
            "-artifact_prefix={}/",
            crashes.canonicalize()?.display()
        ));
    for (k, v) in &config.libfuzzer {
        if k == "dict" {
            // The dictionary sits next to the options file (corpus/ in evmdiff's folder).
            let d = Path::new("corpus").join(v);
            if d.is_file() {
                cmd.arg(format!("-dict={}", d.canonicalize()?.display()));
            }
        } else {
            cmd.arg(format!("-{k}={v}"));
        }
    }
    cmd.args(&args.libfuzzer).arg(&corpus);
    if let Some(s) = seeds.as_ref().filter(|_| !resumed) {
        cmd.arg(s);
    }
    target_env(&mut cmd, &config, Some(&findings.canonicalize()?));
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());

    // Ctrl-C stops libFuzzer (same process group); evmdiff stays to write the summary.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));

    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("{}: cannot start", binary.display()))?;
    let mut log = std::fs::File::create(out.join("libfuzzer.log"))?;
    let bar = ProgressBar::with_draw_target(
        Some(args.time.as_secs().max(1)),
        ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut status = Status::default();
    let stderr = child.stderr.take().expect("piped");
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        let _ = writeln!(log, "{line}");
        if let Some(s) = Status::parse(&line, &status) {
            status = s;
            bar.set_position(start.elapsed().as_secs().min(args.time.as_secs()));
            bar.set_message(format!(
                "{} execs, {}/s, cov {}, corpus {}, crash inputs {}, findings {}",
                status.execs,
                status.exec_per_sec,
                status.cov,
                status.corpus,
                status.crashes,
                count_json(&findings)
            ));
        }
    }
    let exit = child.wait()?;
    bar.finish_and_clear();
    let fuzzed = start.elapsed();

    // Every crash input through `evmdiff run --fuzz-target`: all in one process first (one
    // start-up, not one per input); if an input aborts that process without a panic, each
    // again in a process of its own, and the ones that abort their own are listed.
    let mut unreplayed = Vec::new();
    let crash_files = crate::inputs::raw_files(std::slice::from_ref(&crashes))?;
    let crash_inputs: Vec<&PathBuf> = crash_files
        .iter()
        .filter(|f| file_name(f).starts_with("crash-"))
        .collect();
    let replay = |inputs: &[&PathBuf]| -> Result<bool> {
        let mut replay = Command::new(std::env::current_exe()?);
        replay
            .args(["run", "--format", "json", "--fuzz-target"])
            .arg(&args.target)
            .args(["--profile", &config.profile, "--backends", &config.backends])
            .arg("--findings")
            .arg(&findings)
            .args(inputs)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if !config.prover.is_empty() {
            replay.args(["--prover", &config.prover]);
        }
        Ok(matches!(replay.status()?.code(), Some(0 | 1)))
    };
    if !crash_inputs.is_empty() && !replay(&crash_inputs)? {
        for f in &crash_inputs {
            if !replay(std::slice::from_ref(f))? {
                unreplayed.push(file_name(f));
            }
        }
    }
    let others: Vec<String> = crash_files
        .iter()
        .map(|f| file_name(f))
        .filter(|n| !n.starts_with("crash-"))
        .collect();

    let before_merge = count_files(&corpus);
    if !args.no_merge && !interrupted.load(Ordering::SeqCst) && before_merge > 0 {
        merge(&binary, &config, &corpus)?;
    }
    let after_merge = count_files(&corpus);
    let found = finding_lines(&findings)?;

    println!(
        "{} s of {} on {}: {} execs ({}/s in the end), coverage {} edges {} features, corpus {} \
         inputs ({} after merging), {} crash input(s)",
        fuzzed.as_secs(),
        config.target,
        config.backends,
        status.execs,
        status.exec_per_sec,
        status.cov,
        status.ft,
        before_merge,
        after_merge,
        crash_files.len() - others.len(),
    );
    println!("findings in {}: {}", findings.display(), found.len());
    for (kind_id, text) in &found {
        println!("  {kind_id}  {text}");
    }
    if !others.is_empty() {
        println!(
            "timeouts and out-of-memory inputs (in {}): {}",
            crashes.display(),
            others.join(", ")
        );
    }
    if !unreplayed.is_empty() {
        println!(
            "crash inputs that also kill a replay (no finding file: replay each with `evmdiff run \
             --fuzz-target {}`): {}",
            args.target,
            unreplayed.join(", ")
        );
    }
    if !found.is_empty() {
        println!("report: evmdiff report {}", findings.display());
    }
    record(
        out,
        args,
        &config,
        &status,
        fuzzed,
        before_merge,
        after_merge,
        found.len(),
        exit.code(),
    )?;
    let clean = found.is_empty() && unreplayed.is_empty() && crash_files.is_empty();
    Ok(crate::cli::exit(!clean))
}

/// The environment the target reads: its configuration made explicit (so the children run
/// exactly what the summary says), and where to write findings.
fn target_env(cmd: &mut Command, config: &TargetConfig, findings: Option<&Path>) {
    cmd.env("EVMDIFF_PROFILE", &config.profile)
        .env("EVMDIFF_BACKENDS", &config.backends)
        .env("EVMDIFF_PROVER", &config.prover);
    if let Some(f) = findings {
        cmd.env("EVMDIFF_FINDINGS", f);
    }
}

/// `-merge=1`: the corpus reduced to the inputs that keep its coverage, swapped in only once
/// complete (a killed merge leaves the old corpus).
fn merge(binary: &Path, config: &TargetConfig, corpus: &Path) -> Result<()> {
    let merged = corpus.with_extension("merging");
    let _ = std::fs::remove_dir_all(&merged);
    std::fs::create_dir_all(&merged)?;
    eprintln!("evmdiff campaign: merging the corpus");
    let mut cmd = Command::new(binary);
    cmd.arg("-merge=1").arg(&merged).arg(corpus);
    for (k, v) in config.libfuzzer.iter().filter(|(k, _)| k == "max_len") {
        cmd.arg(format!("-{k}={v}"));
    }
    target_env(&mut cmd, config, None);
    let ok = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?
        .success();
    if !ok || count_files(&merged) == 0 {
        let _ = std::fs::remove_dir_all(&merged);
        eprintln!("evmdiff campaign: the merge failed; the corpus is kept as it was");
        return Ok(());
    }
    let old = corpus.with_extension("old");
    let _ = std::fs::remove_dir_all(&old);
    std::fs::rename(corpus, &old)?;
    std::fs::rename(&merged, corpus)?;
    std::fs::remove_dir_all(&old)?;
    Ok(())
}

/// Appends this run to `OUT/campaign-libfuzzer.json`.
#[allow(clippy::too_many_arguments)]
fn record(
    out: &Path,
    args: &Args,
    config: &TargetConfig,
    s: &Status,
    fuzzed: Duration,
    before: usize,
    after: usize,
    findings: usize,
    exit: Option<i32>,
) -> Result<()> {
    let path = out.join("campaign-libfuzzer.json");
    let mut runs: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    runs.push(json!({
        "target": config.target,
        "profile": config.profile,
        "backends": config.backends,
        "prover": config.prover,
        "processes": args.jobs.get(),
        "seconds": fuzzed.as_secs(),
        "execs": s.execs,
        "exec_per_sec": s.exec_per_sec,
        "edges": s.cov,
        "features": s.ft,
        "corpus": before,
        "corpus_merged": after,
        "crash_inputs": s.crashes,
        "findings": findings,
        "libfuzzer_exit": exit,
    }));
    atomic_write(&path, serde_json::to_string_pretty(&runs)?.as_bytes())?;
    Ok(())
}

/// `kind-id` and signature of each finding file in `dir`.
fn finding_lines(dir: &Path) -> Result<Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir)? {
        let p = e?.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        let sig = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                let first = v.as_object()?.values().next()?.clone();
                first["_info"]["evmdiff"]["signature"]
                    .as_str()
                    .map(str::to_string)
            })
            .unwrap_or_default();
        out.insert(file_name(&p).trim_end_matches(".json").to_string(), sig);
    }
    Ok(out.into_iter().collect())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter(|e| e.is_ok()).count())
}

fn count_json(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn reads_fork_mode_and_single_process_status_lines() {
        let s = Status::parse(
            "#1234: cov: 8012 ft: 31000 corp: 1200 exec/s 310 oom/timeout/crash: 0/1/2 time: 60s job: 4 dft_time: 0",
            &Status::default(),
        )
        .unwrap();
        assert_eq!(
            (s.execs, s.cov, s.ft, s.corpus, s.exec_per_sec, s.crashes),
            (1234, 8012, 31000, 1200, 310, 3)
        );
        let s = Status::parse(
            "#8192	pulse  cov: 8399 ft: 34453 corp: 1175/2251Kb lim: 4096 exec/s: 292 rss: 166Mb",
            &s,
        )
        .unwrap();
        assert_eq!(
            (s.execs, s.cov, s.corpus, s.exec_per_sec, s.crashes),
            (8192, 8399, 1175, 292, 3)
        );
        assert!(Status::parse("INFO: Seed: 1", &s).is_none());
    }
}
