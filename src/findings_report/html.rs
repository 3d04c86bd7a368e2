//! The report rendered as one self-contained HTML page: inline styles, no script, no font or
//! image fetched, so it opens anywhere, offline, and can be attached to an advisory. Wide
//! content (tables, listings) scrolls inside its own box, so the page itself never scrolls
//! sideways, down to a phone's width.

use super::document::{Block, Inline};

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1f24;background:#fff}\
main{max-width:1100px;margin:0 auto;padding:16px}\
h1{font-size:1.5em;overflow-wrap:anywhere}h2{font-size:1.25em;margin-top:2em;border-top:1px solid #d0d7de;padding-top:1em;overflow-wrap:anywhere}\
h3{font-size:1.05em;overflow-wrap:anywhere}\
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}\
code{background:#f3f4f6;padding:0 3px;border-radius:3px;overflow-wrap:anywhere}\
pre{background:#f6f8fa;padding:10px;border-radius:6px;overflow-x:auto}\
.wide{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;margin:8px 0}\
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}\
th{background:#f6f8fa}tr.em td{background:#fff5d6;font-weight:600}\
ul{padding-left:1.2em}li{overflow-wrap:anywhere}\
blockquote{margin:8px 0;padding:8px 12px;border-left:4px solid #8c959f;background:#fafbfc;white-space:pre-wrap;overflow-wrap:anywhere}\
";

/// `doc` as a page titled `title`.
pub fn render(title: &str, doc: &[Block]) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\n",
        esc(title)
    );
    for b in doc {
        match b {
            Block::Heading(level, t) => {
                s.push_str(&format!("<h{level}>{}</h{level}>\n", esc(t)));
            }
            Block::Paragraph(i) => s.push_str(&format!("<p>{}</p>\n", inline(i))),
            Block::List(items) => {
                s.push_str("<ul>");
                for (label, i) in items {
                    s.push_str(&format!("<li><b>{}</b>: {}</li>", esc(label), inline(i)));
                }
                s.push_str("</ul>\n");
            }
            Block::Table(head, rows) => {
                s.push_str("<div class=\"wide\"><table><thead><tr>");
                for h in head {
                    s.push_str(&format!("<th>{}</th>", esc(h)));
                }
                s.push_str("</tr></thead><tbody>");
                for r in rows {
                    let em = matches!(r.first().and_then(|c| c.first()), Some((t, false)) if t.starts_with('*'));
                    s.push_str(if em { "<tr class=\"em\">" } else { "<tr>" });
                    for c in r {
                        let cell = match c.first() {
                            Some((t, false)) if t.starts_with('*') => esc(&t[1..]),
                            _ => inline(c),
                        };
                        s.push_str(&format!("<td>{cell}</td>"));
                    }
                    s.push_str("</tr>");
                }
                s.push_str("</tbody></table></div>\n");
            }
            Block::Code(_, text) => {
                s.push_str(&format!("<pre>{}</pre>\n", esc(text.trim_end())));
            }
            Block::Quote(text) => {
                s.push_str(&format!(
                    "<blockquote>{}</blockquote>\n",
                    esc(text.trim_end())
                ));
            }
        }
    }
    s.push_str("</main></body></html>\n");
    s
}

fn inline(i: &Inline) -> String {
    i.iter()
        .map(|(t, code)| {
            if *code {
                format!("<code>{}</code>", esc(t))
            } else {
                esc(t)
            }
        })
        .collect()
}

/// Text as HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
