//! Prover views (`--prover witness,rw-log`): observations compared across backends on top of
//! outcomes and steps, for the cases a prover team cares about.
//!
//! * `witness`: each backend's execution witness must be sufficient for its own stateless
//!   re-execution (a divergence `<backend>|<backend>-stateless` otherwise), and the backends'
//!   witnesses must hold the same entries; an entry only one side read is classified as
//!   superfluous (that side reproduces its outcome from the common entries) or needed
//!   (`witness.right-only-superfluous.account`, `witness.left-only-needed.storage`, ...).
//! * `rw-log`: the backends' read/write logs must be equal (compared for the pairs whose steps
//!   agree: the log is derived from the steps, so where they part the step is the finding).
//!
//! Each costs extra observed executions per backend (witness: two, rw-log: one), so neither
//! runs unless asked for.

use anyhow::{Result, bail};
use evmdiff_core::compare::{Difference, Divergence};
use evmdiff_core::field::{Side, WitnessClass};
use evmdiff_core::rw_log::{RwLog, RwOp, first_difference};
use evmdiff_core::witness::{Witness, check_stateless, collect, compare_witnesses};
use evmdiff_core::{Backend, Case, Field, Outcome, Profile};

use crate::execute::{CaseRun, Verdict};

/// Which prover views to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Views {
    /// Execution witness and stateless re-execution.
    pub witness: bool,
    /// Read/write log.
    pub rw_log: bool,
}

impl Views {
    /// Parses `witness,rw-log` (either, both, or empty for none).
    pub fn parse(list: &str) -> Result<Views> {
        let mut v = Views::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "witness" => v.witness = true,
                "rw-log" => v.rw_log = true,
                other => bail!("unknown prover view `{other}` (known: witness, rw-log)"),
            }
        }
        Ok(v)
    }

    /// True when no view is asked for.
    pub fn none(&self) -> bool {
        !self.witness && !self.rw_log
    }
}

fn divergence(left: &str, right: &str, differences: Vec<Difference>) -> Divergence {
    Divergence {
        left: left.to_string(),
        right: right.to_string(),
        differences,
        step: None,
    }
}

/// Compares the asked-for views of every backend that produced an outcome in `run`, adding
/// a divergence (and its pair of positions) for each view that differs. A backend that fails
/// while observed for a view is left out of that view.
pub fn compare_views(
    backends: &mut [Box<dyn Backend>],
    case: &Case,
    profile: &Profile,
    views: Views,
    run: &mut CaseRun,
) {
    if views.none() {
        return;
    }
    let ok: Vec<usize> = (0..backends.len())
        .filter(|&i| run.executions[i].result.is_ok() && backends[i].observes_steps())
        .collect();
    let names: Vec<&'static str> = backends.iter().map(|b| b.name()).collect();
    let mut found = Vec::new();
    if views.witness {
        let mut witnesses: Vec<(usize, Outcome, Witness)> = Vec::new();
        for &i in &ok {
            let b = backends[i].as_mut();
            let name = b.name();
            let Ok((full, w)) = collect(b, case, profile) else {
                continue;
            };
            if let Ok(missing) = check_stateless(b, case, profile, &full, &w)
                && !missing.is_empty()
            {
                found.push((
                    (i, i),
                    divergence(name, &format!("{name}-stateless"), missing),
                ));
            }
            witnesses.push((i, full, w));
        }
        if let Some(((r, rfull, reference), others)) = witnesses.split_first() {
            for (i, full, w) in others {
                let mut d = compare_witnesses(reference, w);
                if d.is_empty() {
                    continue;
                }
                // An entry only one backend read is superfluous if that backend reproduces
                // its outcome from the entries both read; otherwise it needed it, and the two
                // use the state differently although their outcomes agree.
                let common = reference.intersection(w);
                let mut needs = |k: usize, full: &Outcome| {
                    check_stateless(backends[k].as_mut(), case, profile, full, &common)
                        .map(|m| !m.is_empty())
                        .unwrap_or(false)
                };
                let (left_needs, right_needs) = (needs(*r, rfull), needs(*i, full));
                for x in &mut d {
                    if let Field::Witness { side, class, .. } = &mut x.field {
                        let needed = match side {
                            Side::Left => left_needs,
                            Side::Right => right_needs,
                        };
                        *class = Some(if needed {
                            WitnessClass::Needed
                        } else {
                            WitnessClass::Superfluous
                        });
                    }
                }
                found.push(((*r, *i), divergence(names[*r], names[*i], d)));
            }
        }
    }
    if views.rw_log {
        // The log is derived from the steps: where a pair's steps already part, the first
        // differing step is the finding and the log's difference only follows from it.
        let steps_part = |l: usize, r: usize| {
            run.divergences.iter().zip(&run.pairs).any(|(d, &p)| {
                p == (l, r)
                    && (d.step.is_some() || d.differences.iter().any(|x| x.field == Field::Steps))
            })
        };
        let mut log_of = |i: usize| {
            let mut log = RwLog::default();
            backends[i]
                .execute_observed(case, profile, &mut log)
                .ok()
                .map(|_| log.ops)
        };
        // The reference is the first backend whose observed run succeeds; it runs only once a
        // pair needs comparing, and a pair whose steps part is never executed for its log.
        let mut reference: Option<(usize, Vec<RwOp>)> = None;
        for (k, &i) in ok.iter().enumerate() {
            let Some((r, ref_ops)) = &reference else {
                if ok[k + 1..].iter().all(|&j| steps_part(i, j)) {
                    break;
                }
                reference = log_of(i).map(|ops| (i, ops));
                continue;
            };
            if steps_part(*r, i) {
                continue;
            }
            let Some(ops) = log_of(i) else { continue };
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
                found.push(((*r, i), divergence(names[*r], names[i], vec![d])));
            }
        }
    }
    for (pair, d) in found {
        run.pairs.push(pair);
        run.divergences.push(d);
        run.verdict = Verdict::Diverge;
    }
}
