//! `evmdiff matrix`: the conformance matrix of a profile, the table a prover team hands its
//! auditors.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use evmdiff_conformance::matrix;
use evmdiff_core::Profile;

use super::options::BackendsOpt;
use crate::backends;
use crate::findings_report::{html, markdown};
use crate::matrix_report::{document, json, write_cases};
use crate::write::atomic_write;

/// Build the conformance matrix of a profile: every opcode and precompile it names (and each
/// side of a modexp cap), against every backend: behaves as the profile says, differs (with
/// the case), or sits out.
///
/// Each rule is probed in six contexts (a plain call, a call with value, under STATICCALL, in
/// init code, as the transaction's target, in a frame that reverts afterwards) by a targeted
/// case that records what the backend did (status, success flag, return data, the value
/// pushed, the gas of the subject); the record is judged against the rule's behaviour, with
/// the gas derived from the fork's costs. Every differing probe is written to --cases as a
/// state test filed under `<Fork>+<profile>`, expecting the outcome of a backend that
/// behaves, so `evmdiff run` replays it. Exit 0 when no cell differs, 1 when one does, 2 on
/// bad input.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The profile: a built-in name (`evmdiff profiles`) or a profile TOML file.
    #[arg(long, short)]
    pub profile: String,
    /// The backends (columns).
    #[command(flatten)]
    pub backends: BackendsOpt,
    /// How the matrix is written.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Write the matrix to this file (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Where the case of every differing probe is written.
    #[arg(long, default_value = "matrix-cases", value_name = "DIR")]
    pub cases: PathBuf,
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// One self-contained HTML page.
    Html,
    /// JSON, every verdict of every context.
    Json,
}

/// Builds and writes the matrix.
pub fn run(args: &Args) -> Result<ExitCode> {
    let profile = Profile::load(&args.profile)?;
    let mut bs = backends::instantiate(&args.backends.backends)?;
    let rules = matrix::rules(&profile).0.len();
    eprintln!(
        "evmdiff matrix: {} rule(s) of {} × {} contexts on {}",
        rules,
        profile.name,
        matrix::Context::ALL.len(),
        args.backends.backends
    );
    let m = matrix::run(&profile, &mut bs, |name, ran| {
        eprintln!("  {name}: {ran} probe(s) run");
    });
    let cases = write_cases(&m, &args.cases)?;
    let text = match args.format {
        Format::Md => markdown::render(&document(&m, &cases)),
        Format::Html => html::render(
            &format!("Conformance matrix: {}", profile.name),
            &document(&m, &cases),
        ),
        Format::Json => serde_json::to_string_pretty(&json(&m, &cases))? + "\n",
    };
    match &args.output {
        Some(path) => {
            atomic_write(path, text.as_bytes())?;
            eprintln!("evmdiff matrix: written to {}", path.display());
        }
        None => print!("{text}"),
    }
    let differing = m.differing();
    if differing > 0 {
        eprintln!(
            "evmdiff matrix: {differing} cell(s) differ; their cases are in {}",
            args.cases.display()
        );
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
