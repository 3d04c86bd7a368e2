//! `evmdiff check`'s conformance scenarios: every row whose profile a backend can run, a halt
//! in the expected place with another halt class passing with a note.

use anyhow::Result;
use evmdiff_conformance::{Scenario, conform, scenarios};
use evmdiff_core::{Backend, Profile, Status};

use super::fixtures::Count;
use crate::backends;

/// Runs every conformance scenario whose profile the backend can run.
pub fn run_scenarios(name: &str) -> Result<Count> {
    let mut backend = backends::instantiate(name)?.remove(0);
    let caps = backend.capabilities();
    let mut count = Count::default();
    let mut scope_checked = false;
    for s in scenarios() {
        let Ok(profile) = s.profile() else {
            continue;
        };
        if caps.sits_out(&profile).is_some() {
            count.out += 1;
            continue;
        }
        if !scope_checked {
            scope_checked = true;
            // A state-test runner answers with a root, an output and a kind of ending only:
            // the scenarios' gas, refunds and storage cannot be checked on it.
            if let Ok(o) = backend.execute(&s.case(), &profile)
                && o.last_tx().is_some_and(|t| !t.scope.is_full())
            {
                count.out = scenarios().len();
                count.not_checkable = true;
                return Ok(count);
            }
        }
        match conform(backend.as_mut(), &s) {
            Ok(()) => count.passed += 1,
            Err(_) if only_halt_class_untold(backend.as_mut(), &s, &profile) => {
                count.passed += 1;
                count.halt_class_untold += 1;
            }
            Err(why) => {
                count.failed += 1;
                let line = why.lines().next().unwrap_or_default();
                let line = line.split_once(": ").map_or(line, |(_, rest)| rest);
                count.failures.push((s.name.to_string(), line.to_string()));
                if count.first.is_none() {
                    count.first = Some((s.name.to_string(), s.case(), why));
                }
            }
        }
    }
    Ok(count)
}

/// True when the backend's outcome on `s` differs from the expectation only in the halt
/// class (`other`, or another one: a halt class is compared as a note only, since
/// implementations classify some halts their own way).
fn only_halt_class_untold(backend: &mut dyn Backend, s: &Scenario, profile: &Profile) -> bool {
    let case = s.case();
    let Ok(Some(mut o)) = backend
        .execute(&case, profile)
        .map(evmdiff_core::ChainOutcome::into_last_tx)
    else {
        return false;
    };
    if !matches!(o.status, Status::Halt(_)) || !matches!(s.expect.status, Status::Halt(_)) {
        return false;
    }
    o.status = s.expect.status;
    s.expect.mismatches(&case, &o).is_empty()
}
