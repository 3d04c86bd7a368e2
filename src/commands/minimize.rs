//! `evmdiff minimize`: shrink a divergent case to the instructions that make the backends part.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use super::options::ProverOpt;
use crate::Oracle;
use crate::shrink::{listing, shrink, write_minimized};
use crate::{backends, inputs, report};
use evmdiff_core::Profile;
use evmdiff_triage::signature::signature;

/// Shrink a divergent case (a finding) to the few instructions that make the backends
/// part, keeping its signature; writes the result as a state test and prints its listing.
///
/// Exit code 0 when a minimized case was written, 2 when the file has no divergence.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The divergent state-test file.
    pub case: PathBuf,
    /// Where to write the minimized case (default: CASE with `.min.json`).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Profile (default: the one the finding records, else mainnet at the case's fork).
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Comma-separated backends (default: those the finding records, when this build has
    /// them all, else the default list).
    #[arg(long, short)]
    pub backends: Option<String>,
    /// Keep this divergence signature id (default: the first divergence's).
    #[arg(long)]
    pub signature: Option<String>,
    /// At most this many trial runs of the case.
    #[arg(long, default_value_t = 20_000)]
    pub budget: usize,
    /// No trial run starts after this long (the edits kept by then stand): a case that runs
    /// long (a gas-burning loop under the prover views) gets a bounded wait, not the smallest
    /// case. `0s` for no limit.
    #[arg(long, value_parser = super::fuzz::parse_duration, default_value = "5s")]
    pub time: std::time::Duration,
    /// Prover views the predicate compares too (needed to keep a divergence only a view
    /// shows): `witness`, `rw-log`.
    #[command(flatten)]
    pub prover: ProverOpt,
}

/// Minimizes the first case of the file; returns the path written.
pub fn run(args: &Args) -> Result<ExitCode> {
    let given = args.profile.as_deref().map(Profile::load).transpose()?;
    let loaded = inputs::load(&args.case)?;
    let Some(case) = loaded.cases.first() else {
        bail!("{}: no case to minimize", args.case.display());
    };
    let list = &inputs::backends_for(Some(case), args.backends.as_deref());
    let mut backends = backends::instantiate(list)?;
    let profile = inputs::profile_for(case, given.as_ref())?;
    let mut oracle = Oracle::new(profile.clone());
    oracle.views = inputs::views_for(case, args.prover.views()?)?;
    let run = oracle.run(&mut backends, case, None);
    let ids: Vec<String> = run
        .divergences
        .iter()
        .map(|d| signature(d, &profile.name).id())
        .collect();
    let id = match &args.signature {
        Some(s) if ids.contains(s) => s.clone(),
        Some(s) => bail!(
            "{}: no divergence with signature {s} on {} (signatures: {})",
            args.case.display(),
            list,
            if ids.is_empty() {
                "none, the backends agree".to_string()
            } else {
                ids.join(", ")
            }
        ),
        None => match ids.first() {
            Some(id) => id.clone(),
            None => bail!(
                "{}: the backends {} agree on this case: nothing to minimize",
                args.case.display(),
                list
            ),
        },
    };
    let started = std::time::Instant::now();
    let deadline = (!args.time.is_zero()).then(|| started + args.time);
    let m = shrink(&oracle, &mut backends, case, &id, args.budget, deadline);
    let took = started.elapsed();
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .case
            .file_stem()
            .map_or("case".into(), |s| s.to_string_lossy().into_owned());
        args.case.with_file_name(format!("{stem}.min.json"))
    });
    write_minimized(&out, &oracle, &mut backends, &m, &id)?;
    println!(
        "signature {id}: {} -> {} instructions ({} attempts, {} edits kept, {:.2} s)",
        m.instructions.0,
        m.instructions.1,
        m.attempts,
        m.kept,
        took.as_secs_f64()
    );
    print!("{}", listing(&m.case));
    // Report the case as written: its expectation is now the minimized case's own.
    let written = inputs::load(&out)?.cases.remove(0);
    let run = oracle.run(&mut backends, &written, None);
    println!("{}", report::text(&written, &profile, &run));
    println!("written to {}", out.display());
    Ok(ExitCode::SUCCESS)
}
