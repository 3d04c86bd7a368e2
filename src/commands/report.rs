//! `evmdiff report`: a campaign folder's findings as a report people read.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

use crate::findings_report::{group, markdown};
use crate::write::atomic_write;

/// Write a report of a campaign's findings: one group per bug, ranked (consensus-visible
/// first, then by how many cases showed it), each with its smallest case as an annotated
/// listing, what differs, the steps around the first differing one side by side, the side the
/// execution spec takes, backend versions, how to replay it, and the text to send on (a public
/// issue, or a private advisory where the bug is consensus-visible).
///
/// Made from the folder's files alone (no backend runs). Without --markdown it is printed.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The campaign's folder (`evmdiff fuzz --out DIR`).
    pub dir: PathBuf,
    /// Write the report as Markdown to this file.
    #[arg(long, value_name = "OUT.md")]
    pub markdown: Option<PathBuf>,
}

/// Writes (or prints) the report.
pub fn run(args: &Args) -> Result<ExitCode> {
    if !args.dir.is_dir() {
        bail!("{}: not a campaign folder", args.dir.display());
    }
    let groups = group::groups(&args.dir)?;
    let text = markdown::render(&args.dir.display().to_string(), &groups);
    match &args.markdown {
        Some(path) => {
            atomic_write(path, text.as_bytes())?;
            eprintln!(
                "evmdiff report: {} bug(s) in {}",
                groups.len(),
                path.display()
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
