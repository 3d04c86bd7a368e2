//! `evmdiff replay`: run state-test files on every backend, check each against the file's
//! expectations (state root, logs hash, expected exception), compare the backends with each
//! other, and report pass rates.

use std::path::{Path, PathBuf};

use std::process::ExitCode;

use anyhow::{Result, anyhow, bail};
use evmdiff_conformance::spread;
use evmdiff_core::compare::Divergence;
use evmdiff_core::expect::Check;
use evmdiff_core::{BackendError, Case, Fork};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::options::{BackendsOpt, ForkOpt, JobsOpt};
use crate::execute::{Verdict, run_case};
use crate::write::atomic_write;
use crate::{backends, inputs};

/// Replay ethereum/tests state tests: check every backend against the files' expected
/// state roots and logs, compare the backends, print pass rates. A file filed under a
/// profile's label (an export, a matrix case) replays under the profile it carries.
///
/// Ends with the line `N passed, M failed, K skipped` (cases); exit code 1 if any failed, 2
/// when there is no case to replay.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State-test files or folders (walked recursively for *.json).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Which backends run.
    #[command(flatten)]
    pub backends: BackendsOpt,
    /// Which fork's cases.
    #[command(flatten)]
    pub fork: ForkOpt,
    /// Write every failure (file, case, backend, reason; tab-separated) to this file.
    #[arg(long)]
    pub failures: Option<PathBuf>,
    /// Worker threads.
    #[command(flatten)]
    pub jobs: JobsOpt,
    /// Also print each backend's pass rate per folder (the folder of each file).
    #[arg(long)]
    pub by_folder: bool,
}

/// Per-backend counts.
#[derive(Debug, Default, Clone)]
struct Tally {
    passed: usize,
    failed: usize,
    unsupported: usize,
}

/// One failing (case, backend) or (case, pair).
#[derive(Debug, Clone)]
struct Failure {
    file: String,
    case: String,
    who: String,
    reason: String,
}

/// Everything the cases one worker thread ran contributed.
#[derive(Debug, Default)]
struct Results {
    tallies: Vec<Tally>,
    passed: usize,
    failed: usize,
    skipped: usize,
    notes: Vec<Failure>,
    failures: Vec<Failure>,
    /// Per folder, per backend.
    folders: std::collections::BTreeMap<PathBuf, Vec<Tally>>,
}

/// A record of two backends that differ on a case: the first differing field, `prefix`ed.
fn pair_record(file: &str, case: &str, d: &Divergence, prefix: &str) -> Failure {
    let first = d
        .differences
        .first()
        .map(|x| x.to_string())
        .unwrap_or_default();
    Failure {
        file: file.to_string(),
        case: case.to_string(),
        who: format!("{} vs {}", d.left, d.right),
        reason: format!("{prefix}{first}"),
    }
}

/// Runs one case on every backend, checks each against the case's expectation, compares
/// them, and records it all in `r`.
fn replay_case(
    path: &Path,
    case: &Case,
    backends: &mut [Box<dyn evmdiff_core::Backend>],
    r: &mut Results,
) {
    let file = path.display().to_string();
    if r.tallies.len() < backends.len() {
        r.tallies.resize(backends.len(), Tally::default());
    }
    // A file filed under a profile's label (`Cancun+eip7530-b`: an export, a matrix case)
    // replays under the profile it carries; any other under mainnet at its fork.
    let profile = match inputs::profile_for(case, None) {
        Ok(p) => p,
        Err(e) => {
            r.failed += 1;
            r.failures.push(Failure {
                file,
                case: case.name.clone(),
                who: "the file".into(),
                reason: format!("{e:#}"),
            });
            return;
        }
    };
    let run = run_case(backends, case, &profile);
    let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let per_folder = r
        .folders
        .entry(folder)
        .or_insert_with(|| vec![Tally::default(); backends.len()]);
    for (i, e) in run.executions.iter().enumerate() {
        let t = &mut per_folder[i];
        match (&e.result, &e.check) {
            (Err(BackendError::Unsupported(_) | BackendError::SitsOut(_)), _) => t.unsupported += 1,
            (Err(_), _) | (Ok(_), Check::Fail(_)) => t.failed += 1,
            (Ok(_), _) => t.passed += 1,
        }
    }
    let mut ok = true;
    let mut any_ran = false;
    for (i, e) in run.executions.iter().enumerate() {
        let t = &mut r.tallies[i];
        let fail = |reason: String| Failure {
            file: file.clone(),
            case: case.name.clone(),
            who: e.backend.to_string(),
            reason,
        };
        match (&e.result, &e.check) {
            (Err(BackendError::Unsupported(_) | BackendError::SitsOut(_)), _) => t.unsupported += 1,
            (Err(err), _) => {
                t.failed += 1;
                ok = false;
                any_ran = true;
                r.failures.push(fail(err.to_string()));
            }
            (Ok(_), Check::Fail(reason)) => {
                t.failed += 1;
                ok = false;
                any_ran = true;
                r.failures.push(fail(reason.clone()));
            }
            (Ok(_), _) => {
                t.passed += 1;
                any_ran = true;
            }
        }
    }
    if run.verdict == Verdict::Diverge {
        ok = false;
        for d in &run.divergences {
            r.failures
                .push(pair_record(&file, &case.name, d, "divergence: "));
        }
    }
    for n in &run.notes {
        let mut note = pair_record(&file, &case.name, n, "");
        note.who.push_str(" (note)");
        r.notes.push(note);
    }
    if !any_ran {
        r.skipped += 1;
    } else if ok {
        r.passed += 1;
    } else {
        r.failed += 1;
    }
}

/// The number of cases in a file that is skipped without being parsed into cases (skipped
/// files may hold values evmdiff cannot represent, such as a value over 2^256).
fn count_post_entries(path: &Path, fork: Option<Fork>) -> Result<usize> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| anyhow!("{}: invalid JSON: {e}", path.display()))?;
    let tests = v.as_object().into_iter().flat_map(|m| m.values());
    let posts = tests.filter_map(|t| t.get("post")?.as_object());
    Ok(posts
        .flat_map(|p| p.iter())
        .filter(|(k, _)| fork.is_none_or(|f| k.parse::<Fork>().ok() == Some(f)))
        .map(|(_, v)| v.as_array().map_or(0, Vec::len))
        .sum())
}

/// Replays the files and prints the report; exit 1 when a case failed.
pub fn run(args: &Args) -> Result<ExitCode> {
    let fork = args.fork.get()?;
    let list = &args.backends.backends;
    let files = inputs::json_files(&args.paths)?;
    let names: Vec<&'static str> = backends::instantiate(list)?
        .iter()
        .map(|b| b.name())
        .collect();
    let versions: Vec<&'static str> = backends::instantiate(list)?
        .iter()
        .map(|b| b.version())
        .collect();
    // Cases are spread over the threads by the conformance suite's fixture walker (the
    // slowest files hold many cases); the bar counts cases as the walker reads them.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} cases {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let (walk, results) = spread(
        &files,
        args.jobs.get(),
        |case| {
            let keep = fork.is_none_or(|f| case.fork == f);
            bar.inc_length(keep as u64);
            keep
        },
        || backends::instantiate(list).expect("validated above"),
        |backends, path, case, r: &mut Results| {
            replay_case(path, case, backends, r);
            bar.inc(1);
        },
    )
    .map_err(|e| anyhow!(e))?;
    bar.finish_and_clear();

    let mut tallies = vec![Tally::default(); names.len()];
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut notes = Vec::new();
    let mut folders: std::collections::BTreeMap<PathBuf, Vec<Tally>> = Default::default();
    for (path, _) in &walk.skipped_files {
        skipped += count_post_entries(path, fork)?;
    }
    for r in results {
        for (t, x) in tallies.iter_mut().zip(&r.tallies) {
            t.passed += x.passed;
            t.failed += x.failed;
            t.unsupported += x.unsupported;
        }
        passed += r.passed;
        failed += r.failed;
        skipped += r.skipped;
        failures.extend(r.failures);
        notes.extend(r.notes);
        for (folder, ts) in r.folders {
            let into = folders
                .entry(folder)
                .or_insert_with(|| vec![Tally::default(); names.len()]);
            for (t, x) in into.iter_mut().zip(ts) {
                t.passed += x.passed;
                t.failed += x.failed;
                t.unsupported += x.unsupported;
            }
        }
    }
    // Threads finish cases in any order: list them in file and case order.
    let order = |f: &Failure| (f.file.clone(), f.case.clone(), f.who.clone());
    failures.sort_by_key(order);
    notes.sort_by_key(order);

    println!(
        "{:<14} {:<9} {:>8} {:>8} {:>12} {:>10}",
        "backend", "version", "passed", "failed", "unsupported", "pass rate"
    );
    for ((name, version), t) in names.iter().zip(&versions).zip(&tallies) {
        let ran = t.passed + t.failed;
        let rate = if ran == 0 {
            0.0
        } else {
            100.0 * t.passed as f64 / ran as f64
        };
        println!(
            "{name:<14} {version:<9} {:>8} {:>8} {:>12} {:>9.2}%",
            t.passed, t.failed, t.unsupported, rate
        );
    }
    if args.by_folder {
        println!("\nper folder (passed/failed/unsupported):");
        println!(
            "{:<48} {}",
            "folder",
            names.iter().map(|n| format!("{n:>16}")).collect::<String>()
        );
        for (folder, ts) in &folders {
            let cells: String = ts
                .iter()
                .map(|t| {
                    format!(
                        "{:>16}",
                        format!("{}/{}/{}", t.passed, t.failed, t.unsupported)
                    )
                })
                .collect();
            let shown = folder
                .iter()
                .rev()
                .take(2)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .map(|c| c.to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            println!("{shown:<48} {cells}");
        }
    }
    if !walk.out_of_scope.is_empty() {
        println!(
            "\n{} invalid blocks not replayed: refused for a header or encoding rule, not by \
             execution",
            walk.out_of_scope.values().sum::<usize>()
        );
        for (rule, n) in &walk.out_of_scope {
            println!("  {n:>6}  {rule}");
        }
    }
    if !notes.is_empty() {
        println!(
            "\n{} halt-class notes: both backends halted exceptionally (same state, same gas) but name the error differently{}",
            notes.len(),
            if args.failures.is_some() {
                "; listed in the --failures file"
            } else {
                ""
            }
        );
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for n in &notes {
            *kinds.entry(n.reason.as_str()).or_default() += 1;
        }
        for (k, v) in kinds {
            println!("  {v:>6}  {k}");
        }
    }
    if !failures.is_empty() {
        println!(
            "\nfailures ({}; first 20 shown{}):",
            failures.len(),
            if args.failures.is_some() {
                ", all in the --failures file"
            } else {
                ""
            }
        );
        for f in failures.iter().take(20) {
            println!("  {} {} [{}]: {}", f.file, f.case, f.who, f.reason);
        }
    }
    if let Some(path) = &args.failures {
        let text: String = failures
            .iter()
            .chain(&notes)
            .map(|f| format!("{}\t{}\t{}\t{}\n", f.file, f.case, f.who, f.reason))
            .collect();
        atomic_write(path, text.as_bytes())?;
    }
    println!("{passed} passed, {failed} failed, {skipped} skipped");
    if passed + failed + skipped == 0 {
        bail!(
            "{}: no state-test case to replay{}",
            super::run::paths_text(&args.paths),
            fork.map_or(String::new(), |f| format!(" at fork {f}"))
        );
    }
    Ok(crate::cli::exit(failed > 0))
}
