//! The text to send on for one bug: a public issue where the difference has no consensus
//! impact, a private advisory for the implementation's security contact where it has one
//! (state, gas, status or logs differ under a mainnet profile), since a consensus bug made
//! public before it is fixed can split a network.

use super::group::Group;

/// What kind of text a group gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A public issue.
    Issue,
    /// A private advisory.
    Advisory,
}

/// The kind of write-up `g` gets.
pub fn kind(g: &Group) -> Kind {
    if g.consensus() {
        Kind::Advisory
    } else {
        Kind::Issue
    }
}

/// The implementation the text is addressed to: the side the execution spec disagrees with
/// when it ran, else the right side of the pair (the left is the campaign's reference), and
/// whether that attribution is established.
pub fn addressee(g: &Group) -> (String, bool) {
    let Some((_, right)) = g.pair() else {
        return (g.backend_list(), false);
    };
    if let Some(side) = &g.reference_side
        && let Some(dis) = side.split("disagrees with ").nth(1)
    {
        let first = dis.split(',').next().unwrap_or(dis).trim();
        if first != "none" {
            return (first.to_string(), true);
        }
    }
    (right.to_string(), false)
}

/// `blockchain` or `state-test`.
fn case_kind(g: &Group) -> &'static str {
    if g.case.is_chain() {
        "blockchain"
    } else {
        "state-test"
    }
}

/// The backend a crash, hang or slow finding names (`hang eels mainnet-cancun: ...`).
fn failing_backend(g: &Group) -> String {
    g.signature
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

/// The write-up of a crash, hang or slow case: one backend failed to finish, no pair differs.
fn failure_text(g: &Group, replay: &str) -> String {
    let who = failing_backend(g);
    let what = match g.kind.as_str() {
        "crash" => "crashes on",
        "hang" => "does not finish",
        _ => "is slow on",
    };
    // Its first line, and the end of what follows (a stderr tail ends where it was).
    let lines: Vec<&str> = g.detail.lines().collect();
    let mut detail: Vec<&str> = lines.iter().take(1).copied().collect();
    detail.extend(&lines[lines.len().saturating_sub(7).max(1.min(lines.len()))..]);
    format!(
        "**Title:** {who}: {} ({})\n\n{} {what} a {} case under the `{}` profile (fork {}), \
         found by evmdiff's differential fuzzing ({} instruction(s) in the case). What it \
         said:\n\n```\n{}\n```\n\nTo reproduce, with the attached test file:\n\n```sh\n{replay}\n```\n\n\
         Impact: no state difference was observed; a transaction that {what} a node or a \
         prover can stall it.\n",
        g.signature,
        g.id,
        g.version_of(&who),
        case_kind(g),
        g.profile.name,
        g.profile.base_fork,
        g.instructions,
        detail.join("\n"),
    )
}

/// The write-up of `g`, in Markdown, naming `replay` (the command that replays it).
pub fn text(g: &Group, replay: &str) -> String {
    if g.divergences.is_empty() {
        return failure_text(g, replay);
    }
    let (to, established) = addressee(g);
    let version = g.version_of(&to);
    let (left, right) = g.pair().unwrap_or(("?", "?"));
    let what: Vec<String> = g
        .divergences
        .iter()
        .flat_map(|d| d.differences.iter())
        .take(6)
        .map(|x| {
            format!(
                "- `{}`: {left} `{}`, {right} `{}`",
                x.field, x.left, x.right
            )
        })
        .collect();
    let step = g
        .divergences
        .iter()
        .find_map(|d| d.step.as_ref())
        .map(|s| {
            format!(
                "The executions part at step {}{}: {} differ{}.\n",
                s.index,
                s.after
                    .as_ref()
                    .map(|a| format!(", right after {a}"))
                    .unwrap_or_default(),
                s.fields.join(", "),
                if s.fields.len() == 1 { "s" } else { "" }
            )
        })
        .unwrap_or_default();
    let attribution = if established {
        format!(
            "The execution specification ({}) sides with the others.",
            g.reference_side.as_deref().unwrap_or("")
        )
    } else {
        format!(
            "The execution specification did not run on it: which of {left} and {right} is at \
             fault is not established (`evmdiff export` with `-b {},eels` settles it).",
            g.backend_list()
        )
    };
    let body = format!(
        "{version} and {} differ on a {} case under the `{}` profile (fork {}), found by \
         evmdiff's differential fuzzing and minimized to {} instruction(s).\n\n{}\n\n{step}\n\
         {attribution}\n\nTo reproduce, with the attached test file:\n\n```sh\n{replay}\n```\n",
        g.version_of(if to == right { left } else { right }),
        case_kind(g),
        g.profile.name,
        g.profile.base_fork,
        g.instructions,
        what.join("\n"),
    );
    match kind(g) {
        Kind::Issue => format!(
            "**Title:** {to}: {} ({})\n\n{body}\nImpact: no consensus impact ({}).\n",
            g.signature,
            g.id,
            if g.profile.is_mainnet() {
                "the outcomes agree: only steps, halt classes or prover views differ"
            } else {
                "found under a non-mainnet profile"
            }
        ),
        Kind::Advisory => format!(
            "**To:** the security contact of {to} (private; not a public issue)\n\n\
             **Subject:** consensus difference in {version}: {}\n\n{body}\n\
             Impact: consensus. Under mainnet rules the post-state, gas, status or logs \
             differ, so nodes running {to} would disagree with the rest of the network on \
             this transaction. Consensus bugs need coordinated disclosure: please confirm \
             receipt and keep this private until a fixed release is out; we will not publish \
             the case before then.\n",
            g.signature
        ),
    }
}
