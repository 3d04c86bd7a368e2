//! The `rw-log` view: the backends' read/write logs must be equal. It is compared for the
//! pairs whose steps agree only: the log is derived from the steps, so where they part the
//! step is the finding. It costs one extra observed execution per backend compared.

use crate::error::Result;
use evmdiff_core::compare::{Difference, Divergence};
use evmdiff_core::rw_log::{RwLog, RwOp, first_difference};
use evmdiff_core::{Backend, Case, Field, Profile};

use super::{ProverView, divergence};
use crate::execute::CaseRun;

/// Read/write log.
pub struct RwLogView;

/// The log of `backend`'s execution of `case`, `None` when it fails.
fn log_of(backend: &mut dyn Backend, case: &Case, profile: &Profile) -> Option<Vec<RwOp>> {
    let mut log = RwLog::default();
    backend
        .execute_observed(case, profile, &mut log)
        .ok()
        .map(|_| log.ops)
}

impl ProverView for RwLogView {
    fn name(&self) -> &'static str {
        "rw-log"
    }

    fn help(&self) -> &'static str {
        "the backends' ordered read/write operations must be equal"
    }

    fn compare(
        &self,
        backends: &mut [Box<dyn Backend>],
        case: &Case,
        profile: &Profile,
        observed: &[usize],
        run: &CaseRun,
    ) -> Vec<((usize, usize), Divergence)> {
        // The log is derived from the steps: where a pair's steps already part, the first
        // differing step is the finding and the log's difference only follows from it.
        let steps_part = |l: usize, r: usize| {
            run.divergences.iter().zip(&run.pairs).any(|(d, &p)| {
                p == (l, r)
                    && (d.step.is_some() || d.differences.iter().any(|x| x.field == Field::Steps))
            })
        };
        let mut found = Vec::new();
        // The reference is the first backend whose observed run succeeds; it runs only once a
        // pair needs comparing, and a pair whose steps part is never executed for its log.
        let mut reference: Option<(usize, Vec<RwOp>)> = None;
        for (k, &i) in observed.iter().enumerate() {
            let Some((r, ref_ops)) = &reference else {
                if observed[k + 1..].iter().all(|&j| steps_part(i, j)) {
                    break;
                }
                reference = log_of(backends[i].as_mut(), case, profile).map(|ops| (i, ops));
                continue;
            };
            if steps_part(*r, i) {
                continue;
            }
            let Some(ops) = log_of(backends[i].as_mut(), case, profile) else {
                continue;
            };
            if let Some((index, a, b)) = first_difference(ref_ops, &ops) {
                let render = |o: &Option<RwOp>| {
                    o.as_ref().map_or("(log ended)".to_string(), |o| {
                        serde_json::to_string(o).unwrap_or_default()
                    })
                };
                // The logs differ at `index`, so at least one of them has an operation there.
                let target = a.as_ref().or(b.as_ref()).expect("one log has it").target;
                let d = Difference {
                    field: Field::RwLog { target, index },
                    left: render(&a),
                    right: render(&b),
                };
                found.push((
                    (*r, i),
                    divergence(backends[*r].name(), backends[i].name(), vec![d]),
                ));
            }
        }
        found
    }

    fn trace_extension(&self) -> &'static str {
        "rw.jsonl"
    }

    fn trace(
        &self,
        backend: &mut dyn Backend,
        case: &Case,
        profile: &Profile,
    ) -> Result<Option<Vec<u8>>> {
        let Some(ops) = log_of(backend, case, profile) else {
            return Ok(None);
        };
        let mut text = String::new();
        for op in &ops {
            text.push_str(&serde_json::to_string(op)?);
            text.push('\n');
        }
        Ok(Some(text.into_bytes()))
    }
}
