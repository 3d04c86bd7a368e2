//! `evmdiff report`: a campaign folder's findings as a report people read.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::findings_report::write;

/// Write a report of a campaign's findings: one group per bug, ranked (consensus-visible
/// first, then by how many cases showed it), each with its smallest case as an annotated
/// listing, what differs, the steps around the first differing one side by side, the side the
/// execution spec takes, backend versions, how to replay it, and the text to send on (a public
/// issue, or a private advisory where the bug is consensus-visible).
///
/// Made from the folder's files alone (no backend runs). Without --markdown or --html the
/// Markdown is printed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign's folder (`evmdiff fuzz --out DIR`).
    pub dir: PathBuf,
    /// Write the report as Markdown to this file.
    #[arg(long, value_name = "OUT.md")]
    pub markdown: Option<PathBuf>,
    /// Write the report as one self-contained HTML page (no network) to this file.
    #[arg(long, value_name = "OUT.html")]
    pub html: Option<PathBuf>,
}

/// Writes (or prints) the report.
pub fn run(args: &Args) -> Result<ExitCode> {
    if !args.dir.is_dir() {
        bail!("{}: not a campaign folder", args.dir.display());
    }
    let (bugs, md) = write(&args.dir, args.markdown.as_deref(), args.html.as_deref())?;
    let written: Vec<String> = [&args.markdown, &args.html]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    if written.is_empty() {
        print!("{md}");
    } else {
        eprintln!("evmdiff report: {bugs} bug(s) in {}", written.join(" and "));
    }
    Ok(ExitCode::SUCCESS)
}
