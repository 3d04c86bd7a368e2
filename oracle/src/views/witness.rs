//! The `witness` view, per block (a state test is one block): each backend's execution witness
//! of a block must be sufficient for its own stateless re-execution of the block, and its
//! `debug_executionWitness` must give a stateless guest (ethrex's) the block's post-state
//! root (a divergence `<backend>|<backend>-stateless` otherwise); and the backends' witnesses
//! of each block must hold the same entries; an entry only one side read is classified as
//! superfluous (that side reproduces its outcome from the common entries) or needed
//! (`witness.right-only-superfluous.account`, `witness.left-only-needed.storage`, ...).
//!
//! It costs two extra observed executions of each block per backend (the witness and its
//! stateless re-execution), and two more per pair whose witnesses of a block differ.

use crate::error::Result;
use evmdiff_adapters::ethrex_guest::post_state_root;
use evmdiff_core::block_witness::{BlockWitness, BlockWitnessEntry, collect_blocks};
use evmdiff_core::compare::{Difference, Divergence};
use evmdiff_core::field::{Side, WitnessClass};
use evmdiff_core::witness::{check_stateless, compare_witnesses};
use evmdiff_core::{Backend, Case, Field, Profile};

use super::{ProverView, divergence};
use crate::execute::CaseRun;

/// Execution witness and stateless re-execution.
pub struct WitnessView;

impl ProverView for WitnessView {
    fn name(&self) -> &'static str {
        "witness"
    }

    fn help(&self) -> &'static str {
        "each backend's execution witness of each block must suffice for its own stateless \
         re-execution and give a stateless guest the post-state root, and the backends' \
         must match"
    }

    fn chains(&self) -> bool {
        true
    }

    fn compare(
        &self,
        backends: &mut [Box<dyn Backend>],
        case: &Case,
        profile: &Profile,
        observed: &[usize],
        run: &CaseRun,
    ) -> Vec<((usize, usize), Divergence)> {
        let mut found = Vec::new();
        let mut witnesses: Vec<(usize, Vec<BlockWitness>)> = Vec::new();
        for &i in observed {
            let chain = run.executions[i].result.as_ref().ok();
            let b = backends[i].as_mut();
            let name = b.name();
            let Ok(blocks) = collect_blocks(b, case, profile, chain) else {
                continue;
            };
            for bw in &blocks {
                let mut missing = check_stateless(b, &bw.block, profile, &bw.outcome, &bw.witness)
                    .unwrap_or_default();
                missing.extend(guest_root(bw));
                if !missing.is_empty() {
                    let mut d = divergence(name, &format!("{name}-stateless"), missing);
                    d.at = bw.at(case);
                    found.push(((i, i), d));
                }
            }
            witnesses.push((i, blocks));
        }
        let Some(((r, reference), others)) = witnesses.split_first() else {
            return found;
        };
        for (i, blocks) in others {
            for (left, right) in reference.iter().zip(blocks) {
                let mut d = compare_witnesses(&left.witness, &right.witness);
                if d.is_empty() {
                    continue;
                }
                // An entry only one backend read is superfluous if that backend reproduces its
                // outcome from the entries both read; otherwise it needed it, and the two use
                // the state differently although their outcomes agree.
                let common = left.witness.intersection(&right.witness);
                let mut needs = |k: usize, bw: &BlockWitness| {
                    check_stateless(
                        backends[k].as_mut(),
                        &bw.block,
                        profile,
                        &bw.outcome,
                        &common,
                    )
                    .map(|m| !m.is_empty())
                    .unwrap_or(false)
                };
                let (left_needs, right_needs) = (needs(*r, left), needs(*i, right));
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
                let mut d = divergence(backends[*r].name(), backends[*i].name(), d);
                d.at = left.at(case);
                found.push(((*r, *i), d));
            }
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
        let Ok(blocks) = collect_blocks(backend, case, profile, None) else {
            return Ok(None);
        };
        let entries: Vec<BlockWitnessEntry> = blocks.iter().map(BlockWitnessEntry::from).collect();
        Ok(Some(serde_json::to_string_pretty(&entries)?.into_bytes()))
    }
}

/// The post-state root ethrex's stateless guest computes from the block's
/// `debug_executionWitness` and its changes, when it is not the block's (a `witness_root`
/// difference: the root, and what the guest computed or why it could not).
fn guest_root(bw: &BlockWitness) -> Option<Difference> {
    let (w, post, expected) = (bw.execution_witness()?, bw.post()?, bw.post_root()?);
    let number = bw.block.env().map_or(1, |e| e.number.saturating_to());
    let got = post_state_root(&w, number, &bw.block.pre, post);
    (got.as_ref() != Ok(&expected)).then(|| Difference {
        field: Field::WitnessRoot,
        left: expected.to_string(),
        right: match got {
            Ok(root) => root.to_string(),
            Err(why) => format!("the guest fails: {why}"),
        },
    })
}
