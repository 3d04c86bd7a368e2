//! The report as Markdown: a summary table, then one section per bug.

use std::fmt::Write;

use super::group::{Group, Step};
use super::{replay_command, writeup};

/// The whole report of `groups`, found in `dir`.
pub fn render(dir: &str, groups: &[Group]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# evmdiff report: `{dir}`\n");
    if groups.is_empty() {
        let _ = writeln!(s, "No finding: the backends agreed on every case.");
        return s;
    }
    let _ = writeln!(
        s,
        "{} bug(s), ranked: consensus-visible first, then by the cases that showed them.\n",
        groups.len()
    );
    let _ = writeln!(
        s,
        "| # | signature | cases | impact | backends | smallest case |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for (i, g) in groups.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | `{}` {} | {} | {} | {} | {} instructions |",
            i + 1,
            g.id,
            escape(&g.signature),
            g.count,
            impact(g),
            g.backends.join(", "),
            g.instructions
        );
    }
    for (i, g) in groups.iter().enumerate() {
        let _ = write!(s, "\n{}", section(i + 1, g));
    }
    s
}

/// "consensus" or "none".
pub fn impact(g: &Group) -> &'static str {
    if g.consensus() {
        "consensus"
    } else {
        "no consensus impact"
    }
}

/// One bug's section.
fn section(n: usize, g: &Group) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## {n}. {}\n", escape(&g.signature));
    let _ = writeln!(
        s,
        "- **Signature** `{}` ({}), {} case(s), {}",
        g.id,
        g.kind,
        g.count,
        impact(g)
    );
    let _ = writeln!(
        s,
        "- **Profile** `{}` (fork {}); backends {}",
        g.profile.name,
        g.profile.base_fork,
        g.backends.join(", ")
    );
    if let Some(k) = &g.known {
        let _ = writeln!(s, "- **Known**: {k}");
    }
    if let Some(r) = &g.reference_side {
        let _ = writeln!(s, "- **Execution spec**: {r}");
    }
    if let Some(p) = &g.prover {
        let _ = writeln!(s, "- **Prover views**: {p}");
    }
    let _ = writeln!(
        s,
        "- **Smallest case** `{}`: {} instructions (the finding, `{}`, had {})",
        g.smallest.display(),
        g.instructions,
        g.file.display(),
        g.original_instructions
    );
    if !g.detail.is_empty() {
        let _ = writeln!(s, "- **Detail** {}", g.detail.lines().next().unwrap_or(""));
    }
    for d in &g.divergences {
        let at = d.at.map(|a| format!(" at {a}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "\n### What differs: {} against {}{at}\n",
            d.left, d.right
        );
        let _ = writeln!(s, "| field | {} | {} |", d.left, d.right);
        let _ = writeln!(s, "|---|---|---|");
        for x in &d.differences {
            let _ = writeln!(
                s,
                "| `{}` | `{}` | `{}` |",
                x.field,
                escape(&x.left),
                escape(&x.right)
            );
        }
        if let Some(step) = &d.step {
            let _ = writeln!(
                s,
                "\n### First differing step: #{}{}, {} differ\n",
                step.index,
                step.after
                    .as_ref()
                    .map(|a| format!(" after {a}"))
                    .unwrap_or_default(),
                step.fields.join(", ")
            );
            let _ = writeln!(
                s,
                "| side | depth | pc | op | gas | cost | msize | stack (top first) |"
            );
            let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
            for b in &step.before {
                let _ = writeln!(s, "{}", row("both", b));
            }
            for (side, st) in [(&d.left, &step.left), (&d.right, &step.right)] {
                match st {
                    Some(st) => {
                        let _ = writeln!(s, "{}", row(&format!("**{side}**"), st));
                    }
                    None => {
                        let _ = writeln!(s, "| **{side}** | (ended) | | | | | | |");
                    }
                }
            }
        }
    }
    let listing = evmdiff_oracle::shrink::listing(&g.case);
    if !listing.is_empty() {
        let _ = writeln!(s, "\n### Program\n\n```\n{}```", annotate(&listing, g));
    }
    let _ = writeln!(s, "\n### Replay\n\n```sh\n{}\n```", replay_command(g));
    let title = match writeup::kind(g) {
        writeup::Kind::Issue => "Public issue text",
        writeup::Kind::Advisory => "Private advisory text (coordinated disclosure)",
    };
    let _ = writeln!(s, "\n### {title}\n");
    for line in writeup::text(g, &replay_command(g)).lines() {
        let _ = writeln!(s, "> {line}");
    }
    s
}

/// A trace row.
fn row(side: &str, st: &Step) -> String {
    let cost = st
        .gas_cost
        .as_ref()
        .map(|c| c.to_string().trim_matches('"').to_string())
        .unwrap_or_default();
    let stack: Vec<&str> = st.stack.iter().rev().take(4).map(String::as_str).collect();
    format!(
        "| {side} | {} | {} | {} | {} | {cost} | {} | {} |",
        st.depth,
        st.pc,
        st.op_name,
        st.gas,
        st.mem_size,
        stack.join(" ")
    )
}

/// The listing with the last instruction both backends executed alike marked.
pub fn annotate(listing: &str, g: &Group) -> String {
    let mark = g.divergences.iter().find_map(|d| {
        let s = d.step.as_ref()?;
        let last = s.before.last()?;
        Some((last.pc, last.op_name.clone()))
    });
    let mut out = String::new();
    for line in listing.lines() {
        out.push_str(line);
        if let Some((pc, op)) = &mark
            && line.trim_start().starts_with(&format!("{pc}: {op}"))
        {
            out.push_str("   <-- both execute this alike; the next step differs");
        }
        out.push('\n');
    }
    out
}

/// Text safe in a Markdown table cell.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}
