//! `evmdiff run`: every case on every backend, side by side, with a verdict.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use evmdiff_core::{BackendError, Case, Profile};
use evmdiff_oracle::Judgement;
use evmdiff_oracle::allowlist::Allowlist;
use evmdiff_oracle::execute::CaseRun;
use evmdiff_oracle::finding::Finding;
use evmdiff_oracle::fuzz_target::{Target, TargetConfig};
use evmdiff_oracle::precompile_target::PrecompileHarness;

use super::options::ProverOpt;
use crate::Oracle;
use crate::execute::Verdict;
use crate::trace_files::write_traces;
use crate::{backends, inputs, report};

/// Execute state-test cases on every backend and print outcomes side by side.
///
/// Exit code 0 when all backends agree on every case, 1 on any divergence or backend
/// failure, 2 on bad input (no case to run is bad input).
///
/// With --fuzz-target the paths are inputs of a cargo-fuzz target instead (a crash file of
/// libFuzzer, ClusterFuzzLite or OSS-Fuzz, a corpus entry): each runs as the target ran it, and
/// --findings turns what it shows into an evmdiff finding that `report` and `minimize` take.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// State-test JSON files (or folders of them); a fuzzer finding is one. With
    /// --fuzz-target: the target's input files (or folders of them).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Profile to run every case under: a built-in name or a .toml file. Without it, a
    /// finding runs under the profile it records, a fuzz target's input under the target's,
    /// and any other case under mainnet at its own fork.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Comma-separated backends; a name may repeat (revm,revm checks self-consistency). See
    /// `evmdiff --help` for the list. Default: the default list; with --fuzz-target, the
    /// target's.
    #[arg(long, short)]
    pub backends: Option<String>,
    /// The paths are inputs of this cargo-fuzz target (`differential`, `chain`,
    /// `prover_views`, `precompiles`, or the path of a target's .options file): the generator's bytes, run
    /// under the profile, backends and prover views of the `[evmdiff]` section of the
    /// target's options unless --profile, --backends or --prover say otherwise, and judged
    /// with the allowlist that ships with evmdiff, as the target judges them.
    #[arg(long, value_name = "TARGET")]
    pub fuzz_target: Option<String>,
    /// Write each case's findings (divergences not allowlisted, crashes) into this folder as
    /// evmdiff finding files, which `evmdiff report` and `evmdiff minimize` take.
    #[arg(long, value_name = "DIR")]
    pub findings: Option<PathBuf>,
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
    if let Some(target) = &args.fuzz_target {
        return fuzz_inputs(args, target);
    }
    let given = args.profile.as_deref().map(Profile::load).transpose()?;
    let views = args.prover.views()?;
    let list = args.backends.clone().unwrap_or_else(backends::default_list);
    let mut backends = backends::instantiate(&list)?;
    if !views.none() {
        for (name, why) in backends::without_views(&list)? {
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
            // What a campaign would not report, --findings does not write either.
            oracle.allow = Allowlist::shipped();
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
            print(args, case, &profile, &run);
            if let Some(dir) = &args.findings {
                save(dir, oracle.judge(case, &run, None))?;
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

/// Prints one case's outcomes in the format asked for.
fn print(args: &Args, case: &Case, profile: &Profile, run: &CaseRun) {
    match args.format {
        OutputFormat::Text => println!("{}", report::text(case, profile, run)),
        OutputFormat::Json => println!("{}", report::json(case, profile, run)),
    }
}

/// Writes a case's findings into `dir`, naming each on stderr.
fn save(dir: &Path, judgement: Judgement<'_>) -> Result<()> {
    for f in &judgement.findings {
        eprintln!("finding: {}", f.write(dir)?.display());
    }
    Ok(())
}

/// `run --fuzz-target`: every input file of the target, generated, run and judged as the
/// target does; exit 1 when one shows a finding (what made libFuzzer keep it as a crash).
fn fuzz_inputs(args: &Args, target: &str) -> Result<ExitCode> {
    let mut config = TargetConfig::load(target)?;
    if let Some(p) = &args.profile {
        config.profile.clone_from(p);
    }
    if let Some(b) = &args.backends {
        config.backends.clone_from(b);
    }
    if !args.prover.prover.is_empty() {
        config.prover.clone_from(&args.prover.prover);
    }
    let mut harness = match Target::new(config, Default::default())? {
        Target::Cases(h) => h,
        Target::Precompiles(h) => return precompile_inputs(args, h),
    };
    let files = inputs::raw_files(&args.paths)?;
    let (mut ran, mut found) = (0, false);
    for file in &files {
        let data = std::fs::read(file)
            .with_context(|| format!("{}: cannot read fuzz input", file.display()))?;
        let Some(mut case) = harness.case(&data) else {
            eprintln!(
                "{}: the generator builds no case from these {} bytes under {} (the target \
                 skips it too)",
                file.display(),
                data.len(),
                harness.config.target
            );
            continue;
        };
        case.name = file
            .file_name()
            .map_or_else(|| case.name.clone(), |n| n.to_string_lossy().into_owned());
        let run = harness.run(&case);
        ran += 1;
        print(args, &case, &harness.oracle.profile, &run);
        let judgement = harness.judge(&case, &run, &data);
        found |= !judgement.findings.is_empty();
        for f in &judgement.findings {
            say_finding(file, f);
        }
        if let Some(dir) = &args.findings {
            save(dir, judgement)?;
        }
        if let Some(dir) = &args.trace {
            let views = harness.oracle.views;
            let profile = harness.oracle.profile.clone();
            for path in write_traces(dir, file, &mut harness.backends, &case, &profile, views)? {
                eprintln!("trace: {}", path.display());
            }
        }
    }
    ran_something(args, ran, files.len(), "case", &harness.config.target)?;
    Ok(crate::cli::exit(found))
}

/// Names the finding input `file` showed, on stderr.
fn say_finding(file: &Path, f: &Finding<'_>) {
    eprintln!(
        "{}: {} {}: {}",
        file.display(),
        f.identity.kind.name(),
        f.identity.id(),
        f.identity
    );
}

/// The error of a `run --fuzz-target` in which no input gave a `what` to run.
fn ran_something(args: &Args, ran: usize, files: usize, what: &str, target: &str) -> Result<()> {
    if ran == 0 {
        bail!(
            "{}: no {what} to run ({files} input file(s), none gave a {what} under target {target})",
            paths_text(&args.paths),
        );
    }
    Ok(())
}

/// `run --fuzz-target` of a precompiles target: each input's call, made on every
/// implementation, one line per implementation; exit 1 when one shows a finding.
fn precompile_inputs(args: &Args, mut harness: PrecompileHarness) -> Result<ExitCode> {
    if args.trace.is_some() {
        bail!("--trace: a precompiles target runs no transaction, so there is nothing to trace");
    }
    let files = inputs::raw_files(&args.paths)?;
    let (mut ran, mut found) = (0, false);
    for file in &files {
        let data = std::fs::read(file)
            .with_context(|| format!("{}: cannot read fuzz input", file.display()))?;
        let Some(call) = harness.call(&data) else {
            eprintln!(
                "{}: the generator builds no call from these {} bytes under {} (the target \
                 skips it too)",
                file.display(),
                data.len(),
                harness.profile.name
            );
            continue;
        };
        let results = harness.run(&call);
        ran += 1;
        println!(
            "{}: {} with {} gas, {} bytes of input",
            file.display(),
            call.precompile.name,
            call.gas_limit,
            call.input.len()
        );
        for (name, called) in &results {
            println!("  {name:<12} {called}");
        }
        let Some(f) = harness.judge(&call, &results, &data) else {
            continue;
        };
        found = true;
        let f = f.finding();
        say_finding(file, &f);
        if let Some(dir) = &args.findings {
            eprintln!("finding: {}", f.write(dir)?.display());
        }
    }
    ran_something(args, ran, files.len(), "call", &harness.config.target)?;
    Ok(crate::cli::exit(found))
}

/// The paths as given, for messages.
pub fn paths_text(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
