//! `evmdiff report`: a campaign's findings as a report people read — one group per bug,
//! ranked, each with its smallest case as an annotated listing, what differs, the steps
//! around the first differing one side by side, the side the execution spec takes, the
//! backends' versions, how to replay it, and the text to send on (a public issue, or a
//! private advisory where the bug is consensus-visible). Made from the folder's files alone.

pub mod document;
pub mod group;
pub mod html;
pub mod markdown;
pub mod writeup;

use std::path::Path;

use anyhow::Result;
use group::Group;

use crate::write::atomic_write;

/// Reads the campaign folder `dir` and writes its report as Markdown and as HTML where asked;
/// returns the groups and the Markdown.
pub fn write(dir: &Path, markdown: Option<&Path>, html: Option<&Path>) -> Result<(usize, String)> {
    let groups = group::groups(dir)?;
    let title = dir.display().to_string();
    let doc = document::build(&title, &groups);
    let md = markdown::render(&doc);
    if let Some(path) = markdown {
        atomic_write(path, md.as_bytes())?;
    }
    if let Some(path) = html {
        let page = html::render(&format!("evmdiff report: {title}"), &doc);
        atomic_write(path, page.as_bytes())?;
    }
    Ok((groups.len(), md))
}

/// The command that replays a group's smallest case.
pub fn replay_command(g: &Group) -> String {
    let prover = g
        .prover
        .as_ref()
        .map(|p| format!(" --prover {p}"))
        .unwrap_or_default();
    format!(
        "evmdiff run -b {}{prover} {}",
        g.backend_list(),
        g.smallest.display()
    )
}
