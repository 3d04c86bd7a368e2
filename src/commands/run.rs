//! `evmdiff run`: every case on every backend, side by side, with a verdict.

use std::path::PathBuf;

use anyhow::Result;
use evmdiff_core::{BackendError, Profile};

use crate::OutputFormat;
use evmdiff::Oracle;
use evmdiff::execute::Verdict;
use evmdiff::trace_files::write_traces;
use evmdiff::views::Views;
use evmdiff::{backends, inputs, report};

/// Options of `evmdiff run`.
#[derive(Debug)]
pub struct RunArgs {
    /// State-test files or folders.
    pub paths: Vec<PathBuf>,
    /// Profile for every case (else per case: recorded or mainnet).
    pub profile: Option<String>,
    /// Comma-separated backends.
    pub backends: String,
    /// Text table or JSON lines.
    pub format: OutputFormat,
    /// Folder for one EIP-3155 trace per case and backend.
    pub trace: Option<PathBuf>,
    /// Prover views to compare.
    pub views: Views,
}

/// Runs the cases; returns true when some backends diverged or one failed internally.
pub fn run(args: &RunArgs) -> Result<bool> {
    let given = args.profile.as_deref().map(Profile::load).transpose()?;
    let mut backends = backends::instantiate(&args.backends)?;
    let files = inputs::json_files(&args.paths)?;
    let mut diverged = false;
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
            oracle.views = args.views;
            let run = oracle.run(&mut backends, case, None);
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
                for path in write_traces(dir, &file, &mut backends, case, &profile, args.views)? {
                    eprintln!("trace: {}", path.display());
                }
            }
        }
    }
    Ok(diverged)
}
