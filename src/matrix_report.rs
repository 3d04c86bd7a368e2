//! A conformance matrix as a document (Markdown and one self-contained HTML page, through the
//! findings report's renderers) and as JSON: the table first (rows the rules, columns the
//! backends), then every differing cell with its contexts, why, the case file and how to
//! replay it, then who sat out and what was not probed.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, Result};
use evmdiff_core::case::Expectation;
use evmdiff_core::statetest::write_case;

use evmdiff_conformance::matrix::{Cell, Context, Matrix, State};
use evmdiff_conformance::scenario::Verdict;
use evmdiff_core::network::label;
use serde_json::{Value, json};

use crate::findings_report::document::{Block, Inline, code, text};
use crate::write::atomic_write;

/// The case file written for a failing probe: (row, column, context) → path.
pub type CaseFiles = BTreeMap<(usize, usize, Context), String>;

/// What a cell says in the table.
fn summary(cell: &Cell) -> String {
    let ran = cell
        .verdicts
        .iter()
        .filter(|(_, v)| !matches!(v, Verdict::Unsupported(_)))
        .count();
    match cell.state() {
        State::Behaves if ran == cell.verdicts.len() => "✓ behaves".into(),
        State::Behaves => format!("✓ behaves ({ran} of {} contexts ran)", cell.verdicts.len()),
        State::Differs => {
            let failing: Vec<&str> = cell.contexts(false).iter().map(|c| c.name()).collect();
            format!("✗ differs: {}", failing.join(", "))
        }
        State::SitsOut => "– sits out".into(),
    }
}

/// The document.
pub fn document(m: &Matrix, cases: &CaseFiles) -> Vec<Block> {
    let p = &m.profile;
    let mut d = vec![Block::Heading(
        1,
        format!("Conformance matrix: {} ({})", p.name, label(p)),
    )];
    let mut intro = text(format!(
        "{}. Base fork {}",
        p.description.trim_end_matches('.'),
        p.base_fork
    ));
    if let Some(date) = &p.as_of {
        intro.push((format!(", rules as of {date}"), false));
    }
    intro.push((".".into(), false));
    d.push(Block::Paragraph(intro));
    if !p.sources.is_empty() {
        d.push(Block::List(
            p.sources
                .iter()
                .map(|s| ("source".to_string(), text(s)))
                .collect(),
        ));
    }
    d.push(Block::Paragraph(text(
        "Each rule is probed in six contexts: a plain call, a call with value, under \
         STATICCALL, in init code, as the transaction's target, and in a frame that reverts \
         afterwards. A cell behaves when every context gives what the rule's behaviour \
         implies (status, success flag, return data, value pushed, and the gas, derived from \
         the fork's costs), differs when one does not, and sits out when the backend cannot \
         run the profile.",
    )));
    let mut header = vec!["rule".to_string(), "the profile says".to_string()];
    header.extend(m.columns.iter().map(|c| c.name.clone()));
    let rows = m
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![text(&r.rule.name), text(r.rule.says.to_string())];
            cells.extend(r.cells.iter().map(|c| text(summary(c))));
            cells
        })
        .collect();
    d.push(Block::Table(header, rows));
    if m.rows.is_empty() {
        d.push(Block::Paragraph(text(
            "The profile names no opcode or precompile: there is nothing to probe.",
        )));
    }

    let differing: Vec<(usize, usize)> = m
        .rows
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            row.cells
                .iter()
                .enumerate()
                .filter(|(_, c)| c.state() == State::Differs)
                .map(move |(col, _)| (r, col))
        })
        .collect();
    if !differing.is_empty() {
        d.push(Block::Heading(2, "Differences".into()));
    }
    for (r, col) in differing {
        let row = &m.rows[r];
        let backend = &m.columns[col].name;
        d.push(Block::Heading(3, format!("{backend}: {}", row.rule.name)));
        let mut items = Vec::new();
        for (ctx, v) in &row.cells[col].verdicts {
            let Verdict::Fail(why) = v else { continue };
            let mut line = text(format!("{why}."));
            if let Some(path) = cases.get(&(r, col, *ctx)) {
                line.push((" Case: ".into(), false));
                line.push((path.clone(), true));
                if let Some((by, _)) = row.expected.get(ctx) {
                    line.push((format!(" (expected outcome from {by})"), false));
                }
            }
            items.push((ctx.name().to_string(), line));
        }
        d.push(Block::List(items));
        if let Some(path) = cases
            .iter()
            .find(|((rr, cc, _), _)| *rr == r && *cc == col)
            .map(|(_, p)| p)
        {
            d.push(Block::Code(
                "sh".into(),
                format!("evmdiff run --backends {backend} {path}"),
            ));
        }
    }

    let sitting: Vec<(String, Inline)> = m
        .columns
        .iter()
        .filter_map(|c| c.sits_out.as_ref().map(|why| (c.name.clone(), text(why))))
        .collect();
    if !sitting.is_empty() {
        d.push(Block::Heading(2, "Sitting out".into()));
        d.push(Block::List(sitting));
    }
    if !m.unprobed.is_empty() {
        d.push(Block::Heading(2, "Not probed".into()));
        d.push(Block::List(
            m.unprobed
                .iter()
                .map(|u| (u.name.clone(), text(&u.why)))
                .collect(),
        ));
    }
    d.push(Block::Heading(2, "Backends".into()));
    d.push(Block::List(
        m.columns
            .iter()
            .map(|c| (c.name.clone(), code(&c.version)))
            .collect(),
    ));
    d
}

/// The matrix as JSON: every verdict of every context, the case files, who sat out and why.
pub fn json(m: &Matrix, cases: &CaseFiles) -> Value {
    let rows: Vec<Value> = m
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            let cells: serde_json::Map<String, Value> = m
                .columns
                .iter()
                .zip(&row.cells)
                .enumerate()
                .map(|(col, (c, cell))| {
                    let contexts: serde_json::Map<String, Value> = cell
                        .verdicts
                        .iter()
                        .map(|(ctx, v)| {
                            let (verdict, why) = match v {
                                Verdict::Pass => ("behaves", None),
                                Verdict::Fail(w) => ("differs", Some(w)),
                                Verdict::Unsupported(w) => ("sits out", Some(w)),
                            };
                            let mut o = json!({ "verdict": verdict });
                            if let Some(w) = why {
                                o["why"] = json!(w);
                            }
                            if let Some(path) = cases.get(&(r, col, *ctx)) {
                                o["case"] = json!(path);
                            }
                            (ctx.name().to_string(), o)
                        })
                        .collect();
                    (
                        c.name.clone(),
                        json!({ "state": cell.state().name(), "contexts": contexts }),
                    )
                })
                .collect();
            json!({
                "rule": row.rule.name,
                "says": row.rule.says.to_string(),
                "cells": cells,
            })
        })
        .collect();
    json!({
        "profile": m.profile.name,
        "label": label(&m.profile),
        "base_fork": m.profile.base_fork.name(),
        "contexts": Context::ALL.iter().map(|c| c.name()).collect::<Vec<_>>(),
        "backends": m.columns.iter().map(|c| json!({
            "name": c.name,
            "version": c.version,
            "sits_out": c.sits_out,
        })).collect::<Vec<_>>(),
        "rows": rows,
        "not_probed": m.unprobed.iter().map(|u| json!({ "rule": u.name, "why": u.why })).collect::<Vec<_>>(),
    })
}

/// Writes every failed probe as `DIR/<backend>-<case>.json`: a state test of the profile's
/// network label, with the profile's rules and, when a backend behaved there, its outcome as
/// the expectation.
pub fn write_cases(m: &Matrix, dir: &Path) -> Result<CaseFiles> {
    let mut files = CaseFiles::new();
    let network = label(&m.profile);
    for (r, row) in m.rows.iter().enumerate() {
        for (col, cell) in row.cells.iter().enumerate() {
            let backend = &m.columns[col].name;
            for (ctx, case) in &cell.failed {
                let mut case = case.clone();
                let expected = row.expected.get(ctx);
                case.expect = expected.map(|(_, o)| {
                    Expectation::of(o, || format!("evmdiff matrix: rejected ({})", o.detail))
                });
                let why = cell
                    .verdicts
                    .iter()
                    .find(|(c, _)| c == ctx)
                    .map(|(_, v)| v.to_string());
                case.meta = Some(json!({
                    "profile": m.profile.name,
                    "profile_toml": m.profile.to_toml(),
                    "matrix": {
                        "rule": row.rule.name,
                        "says": row.rule.says.to_string(),
                        "context": ctx.name(),
                        "backend": backend,
                        "verdict": why,
                        "expected_from": expected.map(|(b, _)| b),
                    },
                }));
                let comment = format!(
                    "evmdiff matrix: {} ({}) in {}, where {backend} differs",
                    row.rule.name,
                    row.rule.says,
                    ctx.name()
                );
                let name = format!("{backend}-{}", case.name);
                let test = write_case(&case, &name, &comment, &network)
                    .context("a matrix probe is a state test")?;
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("{}: cannot create", dir.display()))?;
                let path = dir.join(format!("{name}.json"));
                atomic_write(&path, serde_json::to_string_pretty(&test)?.as_bytes())?;
                files.insert((r, col, *ctx), path.display().to_string());
            }
        }
    }
    Ok(files)
}
