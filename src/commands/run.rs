//! `evmdiff run`: every case on every backend, side by side, with a verdict.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::ValueEnum;
use evmdiff_core::{BackendError, Profile};

use super::options::{BackendsOpt, ProverOpt};
use crate::Oracle;
use crate::execute::Verdict;
use crate::trace_files::write_traces;
use crate::{backends, inputs, report};

/// Execute state-test cases on every backend and print outcomes side by side.
///
/// Exit code 0 when all backends agree on every case, 1 on any divergence or backend
/// failure, 2 on bad input (no case to run is bad input).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State-test JSON files (or folders of them); a fuzzer finding is one.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Profile to run every case under: a built-in name or a .toml file. Without it, a
    /// finding runs under the profile it records and any other case under mainnet at its
    /// own fork.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Which backends run.
    #[command(flatten)]
    pub backends: BackendsOpt,
    /// Output format: a table per case, or one JSON object per case.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Also write one EIP-3155 trace per case and backend into this folder
    /// (`<case>.<backend>.jsonl`: a JSON line per instruction, then a summary line with
    /// stateRoot, output, gasUsed, pass and fork). With --prover, each backend's read/write
    /// log (`.rw.jsonl`) and witness (`.witness.json`) are written next to its trace.
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
    /// Prover views compared.
    #[command(flatten)]
    pub prover: ProverOpt,
}

/// How `run` prints results.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// Side-by-side table.
    Text,
    /// One JSON object per case, one per line.
    Json,
}

/// Runs the cases; exit 1 when some backends diverged or one failed internally.
pub fn run(args: &Args) -> Result<ExitCode> {
    let given = args.profile.as_deref().map(Profile::load).transpose()?;
    let views = args.prover.views()?;
    let mut backends = backends::instantiate(&args.backends.backends)?;
    if !views.none() {
        for (name, why) in backends::without_views(&args.backends.backends)? {
            eprintln!(
                "evmdiff: backend {name} gives no prover view ({why}): --prover compares the others"
            );
        }
    }
    let files = inputs::json_files(&args.paths)?;
    let files_count = files.len();
    let mut diverged = false;
    let mut ran = 0;
    for file in files {
        let loaded = inputs::load(&file)?;
        for skipped in &loaded.skipped {
            eprintln!(
                "{}: skipped {}: {}",
                file.display(),
                skipped.name,
                skipped.reason
            );
        }
        for case in &loaded.cases {
            let profile = inputs::profile_for(case, given.as_ref())?;
            let mut oracle = Oracle::new(profile.clone());
            oracle.views = inputs::views_for(case, views)?;
            let run = oracle.run(&mut backends, case, None);
            ran += 1;
            // A backend that failed internally is as much a problem as a divergence.
            diverged |= run.verdict == Verdict::Diverge
                || run.executions.iter().any(|e| {
                    matches!(
                        e.result,
                        Err(BackendError::Failed(_) | BackendError::Timeout(_))
                    )
                });
            match args.format {
                OutputFormat::Text => println!("{}", report::text(case, &profile, &run)),
                OutputFormat::Json => println!("{}", report::json(case, &profile, &run)),
            }
            if let Some(dir) = &args.trace {
                for path in write_traces(dir, &file, &mut backends, case, &profile, oracle.views)? {
                    eprintln!("trace: {}", path.display());
                }
            }
        }
    }
    if ran == 0 {
        bail!(
            "{}: no case to run (no state-test vector in {} file(s))",
            paths_text(&args.paths),
            files_count
        );
    }
    Ok(crate::cli::exit(diverged))
}

/// The paths as given, for messages.
pub fn paths_text(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
