//! Shrinking a divergent case on the real backends: the triage minimizer with the oracle's
//! predicate "these backends still diverge, with the same signature" (on the whole pipeline,
//! prover views included), and the minimized case written as a replayable state test.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Result;
use evmdiff_core::blockchaintest::write_chain;
use evmdiff_core::case::Expectation;
use evmdiff_core::network::label;
use evmdiff_core::statetest::write_case;
use evmdiff_core::{Backend, Case};
use evmdiff_triage::minimize::{Minimized, disassemble, minimize};
use serde_json::json;

use crate::finding::backend_names;
use crate::oracle::Oracle;
use crate::write::atomic_write;

/// Predicate evaluations a campaign spends on each new finding (a few hundred microseconds
/// each on the in-process backends).
pub const CAMPAIGN_BUDGET: usize = 3_000;

/// Wall-clock time a campaign spends minimizing one new finding: with a backend in another
/// process each evaluation costs milliseconds to seconds, and a campaign must not stall on
/// one finding (`evmdiff minimize` goes on from the file, without this limit).
pub const CAMPAIGN_TIME: Duration = Duration::from_secs(20);

/// Minimizes `case` while `backends`, run by `oracle`, still produce a divergence whose
/// signature id is `id`: at most `budget` evaluations, and none started after `deadline`
/// (the edits kept by then stand). A chain is sealed again after every edit (dropping a
/// transaction changes the roots, hashes and base fees of the blocks after it), so the case
/// that keeps the divergence is the sealed one, which is what is returned.
pub fn shrink(
    oracle: &Oracle,
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    id: &str,
    budget: usize,
    deadline: Option<Instant>,
) -> Minimized {
    let sealed = |c: &Case| {
        let mut c = c.clone();
        let _ = crate::seal::seal(&mut c, &oracle.profile);
        c
    };
    let mut m = minimize(
        case,
        |c| {
            deadline.is_none_or(|d| Instant::now() < d)
                && oracle.diverges_with(backends, &sealed(c), id)
        },
        budget,
    );
    m.case = sealed(&m.case);
    m
}

/// Writes `m.case` atomically to `path` as a state test whose expectation is the first
/// backend's outcome, keeping the original's `_info.evmdiff` metadata (seed, index, generator
/// bytes) with the profile's full content (so `evmdiff run` replays it from any folder) and
/// noting what was minimized.
pub fn write_minimized(
    path: &Path,
    oracle: &Oracle,
    backends: &mut [Box<dyn Backend>],
    m: &Minimized,
    id: &str,
) -> Result<()> {
    let profile = &oracle.profile;
    let mut case = m.case.clone();
    let run = oracle.run(backends, &case, None);
    let reference = run.executions.iter().find_map(|e| e.result.as_ref().ok());
    case.expect = reference
        .and_then(|o| o.last_tx())
        .map(|o| Expectation::of(o, || "evmdiff: rejected".to_string()));
    let mut meta = case.meta.clone().unwrap_or_else(|| json!({}));
    if let Some(obj) = meta.as_object_mut() {
        obj.insert("profile".into(), json!(profile.name));
        obj.insert("profile_toml".into(), json!(profile.to_toml()));
        obj.insert("backends".into(), json!(backend_names(&run)));
        if !oracle.views.none() {
            obj.insert("prover".into(), json!(oracle.views.render()));
        }
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
    let json = if case.is_chain() {
        write_chain(&case, reference, &name, &comment, &label(profile))
            .map_err(|e| crate::error::OracleError::input(format!("{name}: {e}")))?
    } else {
        write_case(&case, &name, &comment, &label(profile))
            .ok_or_else(|| crate::error::OracleError::input(format!("{name}: not a state test")))?
    };
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
    for (at, tx) in case.transactions() {
        if tx.to.is_none() && !tx.data.is_empty() {
            let which = if case.tx_count() == 1 {
                String::new()
            } else {
                format!(" of {at}")
            };
            s.push_str(&format!(
                "init code (transaction data{which}):\n{}",
                disassemble(&tx.data)
            ));
        }
    }
    s
}
