//! The `witness` view: each backend's execution witness must be sufficient for its own
//! stateless re-execution (a divergence `<backend>|<backend>-stateless` otherwise), and the
//! backends' witnesses must hold the same entries; an entry only one side read is classified
//! as superfluous (that side reproduces its outcome from the common entries) or needed
//! (`witness.right-only-superfluous.account`, `witness.left-only-needed.storage`, ...).
//!
//! It costs two extra observed executions per backend (the witness and its stateless
//! re-execution), and two more per pair whose witnesses differ.

use crate::error::Result;
use evmdiff_core::compare::Divergence;
use evmdiff_core::field::{Side, WitnessClass};
use evmdiff_core::witness::{Witness, check_stateless, collect, compare_witnesses};
use evmdiff_core::{Backend, Case, ChainOutcome, Field, Profile};

use super::{ProverView, divergence};
use crate::execute::CaseRun;

/// Execution witness and stateless re-execution.
pub struct WitnessView;

impl ProverView for WitnessView {
    fn name(&self) -> &'static str {
        "witness"
    }

    fn help(&self) -> &'static str {
        "each backend's execution witness must suffice for its own stateless re-execution, \
         and the backends' must match"
    }

    fn compare(
        &self,
        backends: &mut [Box<dyn Backend>],
        case: &Case,
        profile: &Profile,
        observed: &[usize],
        _run: &CaseRun,
    ) -> Vec<((usize, usize), Divergence)> {
        let mut found = Vec::new();
        let mut witnesses: Vec<(usize, ChainOutcome, Witness)> = Vec::new();
        for &i in observed {
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
        let Some(((r, rfull, reference), others)) = witnesses.split_first() else {
            return found;
        };
        for (i, full, w) in others {
            let mut d = compare_witnesses(reference, w);
            if d.is_empty() {
                continue;
            }
            // An entry only one backend read is superfluous if that backend reproduces its
            // outcome from the entries both read; otherwise it needed it, and the two use the
            // state differently although their outcomes agree.
            let common = reference.intersection(w);
            let mut needs = |k: usize, full: &ChainOutcome| {
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
            found.push((
                (*r, *i),
                divergence(backends[*r].name(), backends[*i].name(), d),
            ));
        }
        found
    }

    fn trace_extension(&self) -> &'static str {
        "witness.json"
    }

    fn trace(
        &self,
        backend: &mut dyn Backend,
        case: &Case,
        profile: &Profile,
    ) -> Result<Option<Vec<u8>>> {
        let Ok((_, w)) = collect(backend, case, profile) else {
            return Ok(None);
        };
        Ok(Some(serde_json::to_string_pretty(&w)?.into_bytes()))
    }
}
