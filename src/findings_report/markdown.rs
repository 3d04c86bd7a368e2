//! The report rendered as Markdown.

use super::document::{Block, Inline};

/// `doc` as Markdown.
pub fn render(doc: &[Block]) -> String {
    let mut s = String::new();
    for b in doc {
        match b {
            Block::Heading(level, t) => {
                s.push_str(&format!(
                    "{} {}\n\n",
                    "#".repeat(usize::from(*level)),
                    escape(t)
                ));
            }
            Block::Paragraph(i) => s.push_str(&format!("{}\n\n", inline(i))),
            Block::List(items) => {
                for (label, i) in items {
                    s.push_str(&format!("- **{label}**: {}\n", inline(i)));
                }
                s.push('\n');
            }
            Block::Table(head, rows) => {
                s.push_str(&format!("| {} |\n", head.join(" | ")));
                s.push_str(&format!("|{}\n", "---|".repeat(head.len())));
                for r in rows {
                    let cells: Vec<String> = r
                        .iter()
                        .map(|c| match c.first() {
                            Some((t, false)) if t.starts_with('*') => {
                                format!("**{}**", &t[1..])
                            }
                            _ => inline(c),
                        })
                        .collect();
                    s.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                s.push('\n');
            }
            Block::Code(lang, text) => {
                s.push_str(&format!("```{lang}\n{}\n```\n\n", text.trim_end()));
            }
            Block::Quote(text) => {
                for line in text.lines() {
                    s.push_str(&format!("> {line}\n"));
                }
                s.push('\n');
            }
        }
    }
    s
}

/// An inline as Markdown (code spans in backticks, `|` escaped for tables).
fn inline(i: &Inline) -> String {
    i.iter()
        .map(|(t, code)| {
            if *code {
                format!("`{}`", t.replace('|', "\\|"))
            } else {
                escape(t)
            }
        })
        .collect()
}

/// Text safe in a Markdown table cell.
fn escape(s: &str) -> String {
    s.replace('|', "\\|")
}
