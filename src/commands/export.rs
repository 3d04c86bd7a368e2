//! `evmdiff export`: findings (or any test files) as tests other tools run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::ValueEnum;
use evmdiff_core::{Case, Profile};
use evmdiff_oracle::export::{Format, export};

use crate::write::atomic_write;
use crate::{backends, inputs};

/// Export findings as ethereum/tests state tests or BlockchainTests that other tools replay.
///
/// Each case is run again on its backends (those the finding records, or --backends); the
/// expected outcome is the execution spec's when it runs, otherwise the majority's; on a tie
/// the case is not exported and the sides are named. Under a mainnet profile the export is a
/// test any client's runner takes; under another profile its expectations are filed under
/// `<Fork>+<profile>` (e.g. `Cancun+eip7530-b`) and the profile's rules travel in
/// `_info.evmdiff.profile_toml`, so no client mistakes it for a mainnet test.
///
/// Exit code 0 when every case is exported, 1 when one is not (a tie, no outcome), 2 on bad
/// input.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Finding files (or folders of test files) to export.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format (default: each case's own: a chain is a blockchaintest). A state test
    /// becomes a one-block chain on a genesis; a chain cannot become a state test.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Folder the exports are written into (`<file>.<format>.json`, one test per case).
    #[arg(long, short, default_value = "export")]
    pub out: PathBuf,
    /// Profile to run under (default: the one a finding records, else mainnet at the case's
    /// fork).
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Backends that decide the expected outcome, comma-separated (default: the ones a
    /// finding records, else the default backends).
    #[arg(long, short)]
    pub backends: Option<String>,
}

/// `--format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// An ethereum/tests state test.
    Statetest,
    /// An ethereum/tests BlockchainTest.
    Blockchaintest,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Statetest => Format::StateTest,
            FormatArg::Blockchaintest => Format::BlockchainTest,
        }
    }
}

/// Exports every case of every file.
pub fn run(args: &Args) -> Result<ExitCode> {
    let given = args.profile.as_deref().map(Profile::load).transpose()?;
    if let Some(list) = &args.backends {
        backends::instantiate(list)?;
    }
    let files = inputs::json_files(&args.paths)?;
    let (mut written, mut refused) = (0, 0);
    for file in &files {
        let loaded = inputs::load(file)?;
        for skipped in &loaded.skipped {
            eprintln!(
                "{}: skipped {}: {}",
                file.display(),
                skipped.name,
                skipped.reason
            );
        }
        let many = loaded.cases.len() > 1;
        for (k, case) in loaded.cases.iter().enumerate() {
            let profile = inputs::profile_for(case, given.as_ref())?;
            let list = match &args.backends {
                Some(l) => l.clone(),
                None => recorded_backends(case, file),
            };
            let mut bs = backends::instantiate(&list)?;
            let format = args.format.map_or(Format::of(case), Format::from);
            let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("case");
            let stem = if many {
                format!("{stem}-{k}")
            } else {
                stem.to_string()
            };
            let name = test_name(case);
            match export(case, &profile, &mut bs, format, &name) {
                Ok(e) => {
                    let path = args.out.join(format!("{stem}.{}.json", format.name()));
                    atomic_write(&path, serde_json::to_string_pretty(&e.json)?.as_bytes())?;
                    let disagree = if e.disagree.is_empty() {
                        String::new()
                    } else {
                        format!("; {} differ", e.disagree.join(", "))
                    };
                    println!(
                        "{}: {} `{}`, expected outcome from {}{disagree}",
                        path.display(),
                        format.name(),
                        e.network,
                        e.expected
                    );
                    written += 1;
                }
                Err(why) => {
                    println!("{}: {}: not exported: {why}", file.display(), case.name);
                    refused += 1;
                }
            }
        }
    }
    if written + refused == 0 {
        bail!("{}: no case to export", super::run::paths_text(&args.paths));
    }
    eprintln!(
        "evmdiff export: {written} exported, {refused} not, into {}",
        args.out.display()
    );
    Ok(crate::cli::exit(refused > 0))
}

/// The backends a finding records (`name version` each), those this build has; the default
/// list for a file that records none.
fn recorded_backends(case: &Case, file: &Path) -> String {
    let recorded: Vec<String> = case
        .meta
        .as_ref()
        .and_then(|m| m.get("backends"))
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
        .filter_map(|b| b.as_str()?.split_whitespace().next().map(String::from))
        .collect();
    let known = backends::registry().names();
    let (have, missing): (Vec<String>, Vec<String>) =
        recorded.into_iter().partition(|n| known.contains(n));
    if !missing.is_empty() {
        eprintln!(
            "evmdiff: {}: recorded backend(s) {} not available here (declare them with \
             --backends-file); the others decide",
            file.display(),
            missing.join(", ")
        );
    }
    if have.is_empty() {
        backends::default_list()
    } else {
        have.join(",")
    }
}

/// The test's name in the export: the case's without its fork and vector (`name/Cancun/d0g0v0`
/// is `name`).
fn test_name(case: &Case) -> String {
    case.name.split('/').next().unwrap_or("case").to_string()
}
