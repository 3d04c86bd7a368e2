//! `evmdiff report`: a campaign's findings as a report people read — one group per bug,
//! ranked, each with its smallest case as an annotated listing, what differs, the steps
//! around the first differing one side by side, the side the execution spec takes, the
//! backends' versions, how to replay it, and the text to send on (a public issue, or a
//! private advisory where the bug is consensus-visible). Made from the folder's files alone.

pub mod group;
pub mod markdown;
pub mod writeup;

use group::Group;

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
