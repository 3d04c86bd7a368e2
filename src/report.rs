//! Rendering case runs for people (a side-by-side table) and for tools (one JSON object).

use std::fmt::Write as _;

use evmdiff_core::expect::Check;
use evmdiff_core::lockstep::StepDifference;
use evmdiff_core::trace::TraceStep;
use evmdiff_core::{BackendError, Case, Outcome, Profile};
use serde_json::{Value, json};

use evmdiff_triage::signature::signature;

use crate::execute::{CaseRun, Verdict};

/// Shortens long hex for the table: first 10 and last 4 characters.
fn short(s: String) -> String {
    if s.len() > 22 {
        format!("{}…{}", &s[..12], &s[s.len() - 4..])
    } else {
        s
    }
}

fn rows(o: &Outcome) -> Vec<String> {
    // A state-test runner observed only the ending, the output and the root.
    let seen = |s: String| if o.scope.is_full() { s } else { "-".into() };
    vec![
        o.status.to_string(),
        seen(o.gas_used.to_string()),
        seen(o.refund.to_string()),
        short(o.output.to_string()),
        seen(format!(
            "{} {}",
            o.logs.len(),
            short(o.logs_hash().to_string())
        )),
        seen(o.post.len().to_string()),
        short(o.state_root().to_string()),
        o.detail.clone(),
    ]
}

const FIELDS: [&str; 8] = [
    "status",
    "gas used",
    "refund",
    "output",
    "logs",
    "accounts",
    "state root",
    "detail",
];

/// The expectation cell; a failure's reason goes to the notes under the table, whole.
fn check_text(c: &Check, backend: &str, notes: &mut Vec<String>) -> String {
    match c {
        Check::Pass => "pass".into(),
        Check::Fail(r) => {
            notes.push(format!("{backend}: expectation failed: {r}"));
            format!("FAIL [{}]", notes.len())
        }
        Check::NoExpectation => "-".into(),
    }
}

/// The side-by-side table of one case.
pub fn text(case: &Case, profile: &Profile, run: &CaseRun) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "case {}  (profile {}, fork {})",
        case.name, profile.name, profile.base_fork
    );
    // Reasons are never cut: a cell names the kind and a note number, and the notes under
    // the table hold the whole text (a worker's stderr included).
    let mut notes: Vec<String> = Vec::new();
    let cols: Vec<Vec<String>> = run
        .executions
        .iter()
        .map(|e| {
            let mut col = vec![format!("{} {}", e.backend, e.version)];
            match &e.result {
                Ok(o) => match o.last_tx() {
                    Some(o) => col.extend(rows(o)),
                    None => col.extend(std::iter::repeat_n(String::new(), FIELDS.len())),
                },
                Err(err) => {
                    notes.push(format!("{}: {err}", e.backend));
                    let kind = match err {
                        BackendError::Unsupported(_) => "unsupported",
                        BackendError::Failed(_) => "FAILED",
                        BackendError::Timeout(_) => "NO ANSWER IN TIME",
                        BackendError::NotSampled => "not sampled",
                        BackendError::SitsOut(_) => "sits out",
                    };
                    col.push(format!("{kind} [{}]", notes.len()));
                    col.extend(std::iter::repeat_n(String::new(), FIELDS.len() - 1));
                }
            }
            col.push(check_text(&e.check, e.backend, &mut notes));
            col
        })
        .collect();
    let labels: Vec<&str> = std::iter::once("")
        .chain(FIELDS)
        .chain(std::iter::once("expected"))
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .map(|c| {
            c.iter()
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
                .max(8)
        })
        .collect();
    for (i, label) in labels.iter().enumerate() {
        let _ = write!(s, "  {label:<11}");
        for (c, w) in cols.iter().zip(&widths) {
            let _ = write!(s, "  {:<w$}", c[i], w = *w);
        }
        s.push('\n');
    }
    for (i, n) in notes.iter().enumerate() {
        let _ = writeln!(s, "  [{}] {n}", i + 1);
    }
    match run.verdict {
        Verdict::Agree => s.push_str("verdict: agree\n"),
        Verdict::Incomparable => {
            s.push_str("verdict: incomparable (fewer than two backends produced an outcome)\n")
        }
        Verdict::Diverge => {
            s.push_str("verdict: DIVERGENCE\n");
            for d in &run.divergences {
                let _ = writeln!(
                    s,
                    "  {} vs {} (signature {}):",
                    d.left,
                    d.right,
                    signature(d, &profile.name).id()
                );
                for diff in &d.differences {
                    let _ = writeln!(s, "    {diff}");
                }
                let view = d.differences.iter().any(|x| x.field.is_view());
                let observed = |name: &str| {
                    run.executions
                        .iter()
                        .any(|e| e.backend == name && e.observes_steps)
                };
                let unobserved = !(observed(&d.left) && observed(&d.right));
                match &d.step {
                    Some(step) => s.push_str(&step_text(step, &d.left, &d.right)),
                    None if view => {}
                    None if unobserved => {}
                    None => s.push_str(
                        "    every executed step is identical: the outcomes part after the last instruction\n",
                    ),
                }
            }
        }
    }
    if let Some(r) = &run.reference {
        let _ = writeln!(s, "{r}");
    }
    for n in &run.notes {
        for diff in &n.differences {
            let _ = writeln!(
                s,
                "note: {} vs {}: {diff} (not visible in state)",
                n.left, n.right
            );
        }
    }
    s
}

/// One step of a trace, as a line of the step report.
fn step_line(s: &TraceStep) -> String {
    let stack: Vec<String> = s
        .stack
        .iter()
        .rev()
        .take(6)
        .map(|w| format!("{w:#x}"))
        .collect();
    let more = if s.stack.len() > 6 { " …" } else { "" };
    format!(
        "depth {} pc {:>4} {:<14} gas {:>9}  msize {:>5}  rdata {:>4}  stack (top first) [{}{more}]",
        s.depth,
        s.pc,
        s.op_name,
        s.gas,
        s.mem_size,
        s.return_data_size,
        stack.join(" ")
    )
}

/// Where two executions part: the steps before, and each side's step at the first difference.
fn step_text(d: &StepDifference, left: &str, right: &str) -> String {
    let mut s = format!(
        "    first differing step #{} ({}), differing in {}:\n",
        d.index,
        d.after
            .as_deref()
            .map_or("the first step".to_string(), |a| format!("after {a}")),
        d.fields.join(", ")
    );
    for b in &d.before {
        let _ = writeln!(s, "      {:<6} {}", "both", step_line(b));
    }
    for (name, step) in [(left, &d.left), (right, &d.right)] {
        let line = step
            .as_ref()
            .map_or("(execution has ended)".to_string(), step_line);
        let _ = writeln!(s, "      {name:<6} {line}");
    }
    s
}

/// One JSON object describing the run.
pub fn json(case: &Case, profile: &Profile, run: &CaseRun) -> Value {
    let executions: Vec<Value> = run
        .executions
        .iter()
        .map(|e| {
            let mut v = json!({ "backend": e.backend, "version": e.version });
            match &e.result {
                Ok(o) => v["outcome"] = serde_json::to_value(o).unwrap_or(Value::Null),
                Err(err) => v["error"] = json!(err.to_string()),
            }
            v["expected"] = match &e.check {
                Check::Pass => json!("pass"),
                Check::Fail(r) => json!({ "fail": r }),
                Check::NoExpectation => Value::Null,
            };
            v
        })
        .collect();
    json!({
        "case": case.name,
        "profile": profile.name,
        "fork": profile.base_fork,
        "verdict": run.verdict,
        "executions": executions,
        "divergences": run.divergences,
        "notes": run.notes,
        "reference": run.reference,
        "signatures": run.divergences.iter().map(|d| signature(d, &profile.name).to_string()).collect::<Vec<_>>(),
    })
}
