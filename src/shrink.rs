//! Shrinking a divergent case on the real backends: the triage minimizer with the predicate
//! "these backends still diverge, with the same signature", and the minimized case written as
//! a replayable state test.

use std::path::Path;

use anyhow::Result;
use evmdiff_core::case::Expectation;
use evmdiff_core::statetest::write_case;
use evmdiff_core::{Backend, Case, Profile, Status};
use evmdiff_triage::minimize::{Minimized, disassemble, minimize};
use evmdiff_triage::signature::signature;
use serde_json::json;

use crate::execute::run_case_localized;
use crate::write::atomic_write;

/// Predicate evaluations a campaign spends on each new finding (a few hundred microseconds
/// each on the in-process backends).
pub const CAMPAIGN_BUDGET: usize = 3_000;

/// Minimizes `case` under `profile` while `backends` still produce a divergence whose
/// signature id is `id`.
pub fn shrink(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    id: &str,
    budget: usize,
) -> Minimized {
    minimize(
        case,
        |c| {
            run_case_localized(backends, c, profile)
                .divergences
                .iter()
                .any(|d| signature(d, &profile.name).id() == id)
        },
        budget,
    )
}

/// Writes `m.case` atomically to `path` as a state test whose expectation is the first
/// backend's outcome, keeping the original's `_info.evmdiff` metadata (so `evmdiff run`
/// replays it under the recorded profile) and noting what was minimized.
pub fn write_minimized(
    path: &Path,
    backends: &mut [Box<dyn Backend>],
    m: &Minimized,
    profile: &Profile,
    id: &str,
) -> Result<()> {
    let mut case = m.case.clone();
    let run = run_case_localized(backends, &case, profile);
    let reference = run.executions.iter().find_map(|e| e.result.as_ref().ok());
    case.expect = reference.map(|o| Expectation {
        hash: o.state_root,
        logs: o.logs_hash,
        exception: (o.status == Status::Rejected).then(|| "evmdiff: rejected".to_string()),
        out: None,
    });
    let mut meta = case.meta.clone().unwrap_or_else(|| json!({}));
    if let Some(obj) = meta.as_object_mut() {
        obj.insert("profile".into(), json!(profile.name));
        obj.insert("signature_id".into(), json!(id));
        obj.insert("divergences".into(), json!(run.divergences));
        obj.insert(
            "minimized".into(),
            json!({
                "instructions_before": m.instructions.0,
                "instructions_after": m.instructions.1,
                "attempts": m.attempts,
            }),
        );
    }
    case.meta = Some(meta);
    let name = format!("minimized-{id}");
    let comment = format!(
        "evmdiff: divergence {id} minimized from {} to {} instructions",
        m.instructions.0, m.instructions.1
    );
    let json = write_case(&case, &name, &comment);
    atomic_write(path, serde_json::to_string_pretty(&json)?.as_bytes())
}

/// The listing of every code in a case: each account's, then the init code.
pub fn listing(case: &Case) -> String {
    let mut s = String::new();
    for (addr, acc) in &case.pre {
        if !acc.code.is_empty() {
            s.push_str(&format!("code of {addr}:\n{}", disassemble(&acc.code)));
        }
    }
    if case.tx.to.is_none() && !case.tx.data.is_empty() {
        s.push_str(&format!(
            "init code (transaction data):\n{}",
            disassemble(&case.tx.data)
        ));
    }
    s
}
