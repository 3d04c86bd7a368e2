//! The report as a document of plain blocks (headings, lists, tables, code, quotes), built
//! once from the groups and rendered by [`markdown`](super::markdown) and [`html`](super::html),
//! so both say the same.

use super::group::{Group, Step};
use super::{replay_command, writeup};

/// Text with inline code spans: `(text, is_code)` pieces.
pub type Inline = Vec<(String, bool)>;

/// One block.
#[derive(Debug, Clone)]
pub enum Block {
    /// A heading of this level (1 is the title).
    Heading(u8, String),
    /// A paragraph.
    Paragraph(Inline),
    /// A bullet list, each item a label and its text.
    List(Vec<(String, Inline)>),
    /// A table: header and rows of cells; a row whose first cell starts with `*` is
    /// emphasized (the differing steps).
    Table(Vec<String>, Vec<Vec<Inline>>),
    /// Preformatted text, with the language (`sh`, or empty).
    Code(String, String),
    /// A quoted text to send on (Markdown inside).
    Quote(String),
}

/// Plain text as an inline.
pub fn text(s: impl Into<String>) -> Inline {
    vec![(s.into(), false)]
}

/// Code as an inline.
pub fn code(s: impl Into<String>) -> Inline {
    vec![(s.into(), true)]
}

/// "consensus" or "no consensus impact".
pub fn impact(g: &Group) -> &'static str {
    if g.consensus() {
        "consensus"
    } else {
        "no consensus impact"
    }
}

/// The report of `groups`, found in `dir`.
pub fn build(dir: &str, groups: &[Group]) -> Vec<Block> {
    let mut d = vec![Block::Heading(1, format!("evmdiff report: {dir}"))];
    if groups.is_empty() {
        d.push(Block::Paragraph(text(
            "No finding: the backends agreed on every case.",
        )));
        return d;
    }
    d.push(Block::Paragraph(text(format!(
        "{} bug(s), ranked: consensus-visible first, then by the cases that showed them.",
        groups.len()
    ))));
    d.push(Block::Table(
        [
            "#",
            "signature",
            "cases",
            "impact",
            "backends",
            "smallest case",
        ]
        .map(String::from)
        .to_vec(),
        groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut sig = code(&g.id);
                sig.push((format!(" {}", g.signature), false));
                vec![
                    text((i + 1).to_string()),
                    sig,
                    text(g.count.to_string()),
                    text(impact(g)),
                    text(g.backends.join(", ")),
                    text(format!("{} instructions", g.instructions)),
                ]
            })
            .collect(),
    ));
    for (i, g) in groups.iter().enumerate() {
        section(&mut d, i + 1, g);
    }
    d
}

/// One bug's section.
fn section(d: &mut Vec<Block>, n: usize, g: &Group) {
    d.push(Block::Heading(2, format!("{n}. {}", g.signature)));
    let mut facts = vec![
        ("Signature".to_string(), {
            let mut s = code(&g.id);
            s.push((
                format!(" ({}), {} case(s), {}", g.kind, g.count, impact(g)),
                false,
            ));
            s
        }),
        ("Profile".to_string(), {
            let mut s = code(&g.profile.name);
            s.push((
                format!(
                    " (fork {}); backends {}",
                    g.profile.base_fork,
                    g.backends.join(", ")
                ),
                false,
            ));
            s
        }),
    ];
    if let Some(k) = &g.known {
        facts.push(("Known".into(), text(k)));
    }
    if let Some(r) = &g.reference_side {
        facts.push(("Execution spec".into(), text(r)));
    }
    if let Some(p) = &g.prover {
        facts.push(("Prover views".into(), text(p)));
    }
    facts.push(("Smallest case".into(), {
        let mut s = code(g.smallest.display().to_string());
        s.push((
            format!(
                ": {} instructions (the finding had {})",
                g.instructions, g.original_instructions
            ),
            false,
        ));
        s
    }));
    if !g.detail.is_empty() {
        facts.push(("Detail".into(), text(g.detail.lines().next().unwrap_or(""))));
    }
    d.push(Block::List(facts));
    for dv in &g.divergences {
        let at = dv.at.map(|a| format!(" at {a}")).unwrap_or_default();
        d.push(Block::Heading(
            3,
            format!("What differs: {} against {}{at}", dv.left, dv.right),
        ));
        d.push(Block::Table(
            vec!["field".into(), dv.left.clone(), dv.right.clone()],
            dv.differences
                .iter()
                .map(|x| vec![code(x.field.to_string()), code(&x.left), code(&x.right)])
                .collect(),
        ));
        if let Some(step) = &dv.step {
            d.push(Block::Heading(
                3,
                format!(
                    "First differing step: #{}{}, {} differ",
                    step.index,
                    step.after
                        .as_ref()
                        .map(|a| format!(" after {a}"))
                        .unwrap_or_default(),
                    step.fields.join(", ")
                ),
            ));
            let mut rows: Vec<Vec<Inline>> = step.before.iter().map(|b| row("both", b)).collect();
            for (side, st) in [(&dv.left, &step.left), (&dv.right, &step.right)] {
                let side = format!("*{side}");
                rows.push(match st {
                    Some(st) => row(&side, st),
                    None => vec![text(side), text("(ended)")],
                });
            }
            d.push(Block::Table(
                [
                    "side",
                    "depth",
                    "pc",
                    "op",
                    "gas",
                    "cost",
                    "msize",
                    "stack (top first)",
                ]
                .map(String::from)
                .to_vec(),
                rows,
            ));
        }
    }
    let listing = evmdiff_oracle::shrink::listing(&g.case);
    if !listing.is_empty() {
        d.push(Block::Heading(3, "Program".into()));
        d.push(Block::Code(String::new(), annotate(&listing, g)));
    }
    d.push(Block::Heading(3, "Replay".into()));
    d.push(Block::Code("sh".into(), replay_command(g)));
    d.push(Block::Heading(
        3,
        match writeup::kind(g) {
            writeup::Kind::Issue => "Public issue text".into(),
            writeup::Kind::Advisory => "Private advisory text (coordinated disclosure)".into(),
        },
    ));
    d.push(Block::Quote(writeup::text(g, &replay_command(g))));
}

/// A trace row.
fn row(side: &str, st: &Step) -> Vec<Inline> {
    let cost = st
        .gas_cost
        .as_ref()
        .map(|c| c.to_string().trim_matches('"').to_string())
        .unwrap_or_default();
    let stack: Vec<&str> = st.stack.iter().rev().take(4).map(String::as_str).collect();
    vec![
        text(side),
        text(st.depth.to_string()),
        text(st.pc.to_string()),
        text(&st.op_name),
        text(st.gas.to_string()),
        text(cost),
        text(st.mem_size.to_string()),
        code(stack.join(" ")),
    ]
}

/// The listing with the last instruction both backends executed alike marked.
fn annotate(listing: &str, g: &Group) -> String {
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
