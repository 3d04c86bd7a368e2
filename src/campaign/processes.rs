//! `evmdiff fuzz --processes N`: one campaign in N processes, each running a [`Shard`] of its
//! cases, findings in one folder.
//!
//! Threads share one address space: a backend that aborts, overflows its stack, or eats the
//! memory takes every worker down with it, and a long campaign is lost at its first such
//! case. Here each share of the cases runs in its own `evmdiff fuzz --shard k/N` process;
//! when one dies, the cases it was running (each process marks them in a small file before
//! it starts one, [`open_inflight`]) become `crash` findings that replay the death, its
//! checkpoint moves past them, and it is started again. The processes' statistics snapshots
//! make the progress line and, merged, the summary and `stats.json` of the whole campaign.
//! The same `--shard` runs one share on another machine.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use evmdiff_core::Profile;
use evmdiff_oracle::Origin;
use evmdiff_oracle::finding::{Finding, Provenance};
use evmdiff_triage::Identity;

use super::checkpoint::{self, Checkpoint};
use super::shard::Shard;
use super::stats::Stats;
use super::watchdog::IDLE;
use crate::commands::fuzz::{self, Args};

/// Deaths in a row without a case marked as running after which a shard is given up: its
/// process dies between cases (at start, or in a path no mark covers), so a restart would
/// only die again.
const MAX_BLIND_DEATHS: u32 = 3;

/// Opens (and resets) the file where a shard's workers mark the case each is running.
pub fn open_inflight(out: &Path, shard: Shard, slots: usize) -> Result<File> {
    let path = shard.file(out, "inflight");
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    let f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    let idle: Vec<u8> = (0..slots).flat_map(|_| IDLE.to_le_bytes()).collect();
    std::io::Write::write_all(&mut &f, &idle)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(f)
}

/// The case indices marked as running in a shard's file.
fn read_inflight(out: &Path, shard: Shard) -> Vec<u64> {
    let bytes = std::fs::read(shard.file(out, "inflight")).unwrap_or_default();
    bytes
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .filter(|&i| i != IDLE && i % shard.count == shard.index)
        .collect()
}

/// A shard's statistics snapshot, if its process wrote one.
fn read_stats(out: &Path, shard: Shard) -> Option<Stats> {
    let text = std::fs::read_to_string(shard.file(out, "stats.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// One shard and its process.
struct Runner {
    shard: Shard,
    child: Option<Child>,
    /// What its earlier processes counted (those that died), and the finished one's.
    counted: Stats,
    /// The position this invocation stops before, when --runs bounds it.
    end: Option<u64>,
    /// The position its current process started at.
    began: u64,
    /// Its campaign's checkpoint at position 0: what a checkpoint on disk must match to be
    /// resumed from (as the process itself decides).
    fresh: Checkpoint,
    /// Deaths in a row with no running case marked.
    blind_deaths: u32,
    /// Restarts after a death.
    restarts: u32,
    /// Why it stopped early, if it did.
    gave_up: Option<String>,
}

/// The command line for one shard: this process's own, without the options the runner
/// answers for the whole campaign, and with the shard, its share of --runs, the time left
/// of --time, and one thread unless --jobs says otherwise.
fn child_args(args: &Args, shard: Shard, runs: Option<u64>, time: Option<Duration>) -> Vec<String> {
    const WITH_VALUE: &[&str] = &["--processes", "--runs", "--time", "--stats-json"];
    const FLAGS: &[&str] = &["--report", "--fail-on-findings"];
    let mut out = Vec::new();
    let mut argv = std::env::args().skip(1);
    while let Some(a) = argv.next() {
        let name = a.split('=').next().unwrap_or_default();
        if WITH_VALUE.contains(&name) {
            if !a.contains('=') {
                argv.next();
            }
            continue;
        }
        if FLAGS.contains(&a.as_str()) {
            continue;
        }
        out.push(a);
    }
    out.extend(["--shard".into(), shard.to_string()]);
    if let Some(r) = runs {
        out.extend(["--runs".into(), r.to_string()]);
    }
    if let Some(t) = time {
        out.extend(["--time".into(), format!("{}s", t.as_secs().max(1))]);
    }
    if args.jobs.jobs.is_none() {
        out.extend(["--jobs".into(), "1".into()]);
    }
    out
}

/// "signal 11 (SIGSEGV)", "exit code 101".
fn describe(status: &ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                4 => " (SIGILL)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                9 => " (SIGKILL: out of memory?)",
                11 => " (SIGSEGV: a stack overflow or a bad access)",
                _ => "",
            };
            return format!("signal {sig}{name}");
        }
    }
    match status.code() {
        Some(c) => format!("exit code {c}"),
        None => "an unknown status".into(),
    }
}

/// Writes the crash finding of a case a process died on.
struct CrashWriter {
    profile: Profile,
    backends: String,
    names: Vec<String>,
    seed: u64,
    gas_budget: Option<u64>,
    out: PathBuf,
}

impl CrashWriter {
    /// Writes the crash finding of case `index`, on which a process died with `status`;
    /// true when the file is new.
    fn crash_finding(&self, index: u64, status: &str) -> Result<bool> {
        let Some((input, case)) = evmdiff_oracle::seal::campaign_case_within(
            &self.profile,
            self.seed,
            index,
            self.gas_budget,
        ) else {
            return Ok(false);
        };
        let origin = Origin {
            seed: self.seed,
            index,
            input: &input,
            gas_budget: self.gas_budget,
        };
        let message = format!("the fuzzing process died: {status}");
        let finding = Finding {
            identity: Identity::crash(&self.backends, &self.profile.name, &message),
            case: &case,
            reference: None,
            reference_side: None,
            provenance: Provenance::new(&self.profile, self.names.clone(), Some(origin)),
            divergences: Vec::new(),
            detail: format!(
                "the process running backends {} died ({status}) while it ran this case \
                 (evmdiff fuzz --processes): replaying it reproduces the death",
                self.backends
            ),
        };
        let fresh = !self.out.join(finding.identity.file_name()).exists();
        if fresh {
            finding.write(&self.out)?;
        }
        Ok(fresh)
    }
}

/// Runs the campaign `args` describes in `n` processes; the exit code as `evmdiff fuzz`'s.
pub fn run(args: &Args, n: usize) -> Result<ExitCode> {
    // Bad input is refused here, once, rather than by N processes.
    let profile = Profile::load(&args.profile)?;
    let list = args.backends.backends.clone();
    let instances = crate::backends::instantiate(&list)?;
    let sample = crate::backends::Sampling::parse(&args.sample, &list)?;
    let (gas_budget, _) = fuzz::case_gas(&args.case_gas, &instances, &sample)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("{}: cannot create the output folder", args.out.display()))?;
    let ctx = CrashWriter {
        names: instances
            .iter()
            .map(|b| format!("{} {}", b.name(), b.version()))
            .collect(),
        profile,
        backends: list,
        seed: args.seed,
        gas_budget,
        out: args.out.clone(),
    };
    let exe = std::env::current_exe().context("cannot find the evmdiff executable")?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        // Ctrl-C reaches the processes too (one process group): each saves its checkpoint
        // and summary; the runner waits for them and merges.
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let campaign = |shard| Checkpoint {
        seed: args.seed,
        profile: ctx.profile.name.clone(),
        profile_id: ctx.profile.content_id(),
        backends: ctx.backends.clone(),
        sample: sample.render(),
        shard,
        next_index: 0,
    };
    let mut runners: Vec<Runner> = (0..n as u64)
        .map(|k| {
            let shard = Shard {
                index: k,
                count: n as u64,
            };
            let fresh = campaign(shard);
            let start = resume_position(&args.out, &fresh);
            Runner {
                shard,
                child: None,
                counted: Stats::default(),
                end: args.runs.map(|r| start + shard.share_of(r)),
                began: start,
                fresh,
                blind_deaths: 0,
                restarts: 0,
                gave_up: None,
            }
        })
        .collect();
    eprintln!(
        "evmdiff: {n} processes, shards 0/{n}..{}/{n} of seed {}, findings in {} (each process's log: {})",
        n - 1,
        args.seed,
        args.out.display(),
        Shard {
            index: 0,
            count: n as u64
        }
        .file(&args.out, "log")
        .display()
    );
    let started = Instant::now();
    let deadline = args.time.map(|t| started + t);
    for r in &mut runners {
        start(r, args, &exe, deadline)?;
    }
    let mut last_line = Instant::now();
    let mut forwarded = false;
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if stop.load(Ordering::SeqCst) && !forwarded {
            // A Ctrl-C at a terminal reached them already; a SIGINT sent to this process
            // alone did not.
            interrupt(&runners);
            forwarded = true;
        }
        let mut running = 0;
        let mut refused = None;
        for r in &mut runners {
            let Some(child) = r.child.as_mut() else {
                continue;
            };
            let Some(status) = child.try_wait()? else {
                running += 1;
                continue;
            };
            r.child = None;
            let last = read_stats(&args.out, r.shard).unwrap_or_default();
            match status.code() {
                Some(0 | 1 | 130) => r.counted.merge(&last),
                Some(2) => {
                    refused = Some(r.shard);
                    break;
                }
                _ => {
                    // Died: what it counted up to its last snapshot stands; the cases it was
                    // running become crash findings and it restarts past them.
                    r.counted.merge(&last);
                    let how = describe(&status);
                    let inflight = read_inflight(&args.out, r.shard);
                    for &i in &inflight {
                        let fresh = ctx.crash_finding(i, &how)?;
                        r.counted.crashes += 1;
                        r.counted.cases += 1;
                        r.counted.findings_written += u64::from(fresh);
                        eprintln!(
                            "evmdiff: shard {} died ({how}) on case {i}: kept as a crash finding, restarting after it",
                            r.shard
                        );
                    }
                    let mut cp = checkpoint::read(&args.out, r.shard)?
                        .filter(|cp| cp.same_campaign(&r.fresh))
                        .unwrap_or_else(|| r.fresh.clone());
                    if let Some(past) = inflight.iter().map(|&i| r.shard.position(i) + 1).max() {
                        cp.next_index = cp.next_index.max(past);
                        r.blind_deaths = 0;
                        // The cases it ran after its last snapshot are counted as cases
                        // (their findings are on disk; their details went with the process).
                        let covered = past.saturating_sub(r.began);
                        let seen = last.cases + last.generator_errors + inflight.len() as u64;
                        r.counted.cases += covered.saturating_sub(seen);
                    } else {
                        r.blind_deaths += 1;
                        eprintln!(
                            "evmdiff: shard {} died ({how}) with no case running",
                            r.shard
                        );
                    }
                    checkpoint::write(&args.out, &cp)?;
                    let done = r.end.is_some_and(|e| cp.next_index >= e);
                    if r.blind_deaths >= MAX_BLIND_DEATHS {
                        r.gave_up = Some(format!(
                            "died {MAX_BLIND_DEATHS} times in a row ({how}) with no case running: given up"
                        ));
                    } else if !done
                        && !stop.load(Ordering::SeqCst)
                        && start(r, args, &exe, deadline)?
                    {
                        r.restarts += 1;
                        running += 1;
                    }
                }
            }
        }
        if let Some(shard) = refused {
            for c in runners.iter_mut().filter_map(|r| r.child.as_mut()) {
                let _ = c.kill();
            }
            bail!(
                "shard {shard} refused its input (exit code 2): see {}",
                shard.file(&args.out, "log").display()
            );
        }
        let now = merged(&runners, &args.out, started);
        if last_line.elapsed() > Duration::from_secs(10) {
            eprintln!("{}", fuzz::line(&now, args.runs, args.time));
            last_line = Instant::now();
        }
        if running == 0 {
            break;
        }
    }
    let mut stats = merged(&runners, &args.out, started);
    stats.interrupted |= stop.load(Ordering::SeqCst);
    // Each share has its checkpoint, in one folder.
    fuzz::summary(&stats, &args.out, &args.out.join("shards"));
    for r in &runners {
        if r.restarts > 0 {
            println!(
                "shard {}: restarted {} time(s) after its process died",
                r.shard, r.restarts
            );
        }
        if let Some(why) = &r.gave_up {
            println!(
                "shard {}: {why} (log: {})",
                r.shard,
                r.shard.file(&args.out, "log").display()
            );
        }
    }
    fuzz::write_stats(&args.out.join("stats.json"), &stats)?;
    if let Some(p) = &args.stats_json {
        fuzz::write_stats(p, &stats)?;
    }
    if args.report {
        let (md, html) = (args.out.join("report.md"), args.out.join("report.html"));
        crate::findings_report::write(&args.out, Some(&md), Some(&html))?;
        eprintln!("report: {} and {}", md.display(), html.display());
    }
    let rates = fuzz::selected_rates(args);
    let gate = stats.gate_failures(&rates);
    if args.fail_on_findings && !gate.is_empty() {
        println!("--fail-on-findings: {}", gate.join("; "));
    }
    let silent = stats.silent(&rates);
    for s in &silent {
        eprintln!("evmdiff: {s}: the run fails");
    }
    let gave_up = runners.iter().any(|r| r.gave_up.is_some());
    if stats.interrupted && stop.load(Ordering::SeqCst) {
        return Ok(ExitCode::from(130));
    }
    Ok(crate::cli::exit(
        (args.fail_on_findings && !gate.is_empty()) || !silent.is_empty() || gave_up,
    ))
}

/// Starts `r`'s process, its output appended to its log; false when its time is up.
fn start(r: &mut Runner, args: &Args, exe: &Path, deadline: Option<Instant>) -> Result<bool> {
    let time = deadline.map(|d| d.saturating_duration_since(Instant::now()));
    if time.is_some_and(|t| t < Duration::from_secs(1)) {
        return Ok(false);
    }
    r.began = resume_position(&args.out, &r.fresh);
    let runs = r.end.map(|e| e.saturating_sub(r.began));
    let log_path = r.shard.file(&args.out, "log");
    if let Some(dir) = log_path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .with_context(|| format!("{}: cannot open", log_path.display()))?;
    // The previous process's snapshot is counted already.
    let _ = std::fs::remove_file(r.shard.file(&args.out, "stats.json"));
    let child = Command::new(exe)
        .args(child_args(args, r.shard, runs, time))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", exe.display()))?;
    r.child = Some(child);
    Ok(true)
}

/// Sends SIGINT to every running process: each stops after its cases in flight, saving its
/// checkpoint and statistics.
fn interrupt(runners: &[Runner]) {
    for c in runners.iter().filter_map(|r| r.child.as_ref()) {
        let pid = nix::unistd::Pid::from_raw(c.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
    }
}

/// Where a process of campaign `fresh` resumes: its checkpoint's position when the
/// checkpoint on disk is this campaign's, else 0 (as the process decides for itself).
fn resume_position(out: &Path, fresh: &Checkpoint) -> u64 {
    checkpoint::read(out, fresh.shard)
        .ok()
        .flatten()
        .filter(|cp| cp.same_campaign(fresh))
        .map_or(0, |cp| cp.next_index)
}

/// The whole campaign's statistics now: every shard's counted runs and its running
/// process's latest snapshot.
fn merged(runners: &[Runner], out: &Path, started: Instant) -> Stats {
    let mut total = Stats::default();
    for r in runners {
        total.merge(&r.counted);
        if r.child.is_some()
            && let Some(s) = read_stats(out, r.shard)
        {
            total.merge(&s);
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total.cases_per_second = total.cases as f64 / total.seconds.max(1e-9);
    total
}
