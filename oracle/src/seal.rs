//! Sealing a generated chain with the reference, revm: each block's header completed from its
//! parent and from revm's execution of the chain up to it (`evmdiff_core::seal`), so that
//! BLOCKHASH reads real header hashes and the chain exports as a valid blockchain test.
//!
//! Every caller that makes a campaign's case `i` from `(seed, i)` seals it here
//! ([`campaign_case`]), so the case is the same wherever it is regenerated.

use std::time::{Duration, Instant};

use evmdiff_adapters::revm_backend::RevmBackend;
use evmdiff_core::seal::{fill, prepare, seal_genesis};
use evmdiff_core::step_trail::StepTrail;
use evmdiff_core::{Backend, Case, ChainOutcome, Observer, Profile};

/// Seals `case` (a chain; a state test is left alone) under `profile` with revm, block by
/// block: block `i` is executed after blocks `0..i` are sealed, since it may read their hashes.
/// A block revm refuses ends the chain (nothing after it could be sealed). `Err` says why
/// revm could not seal it (it cannot run the profile); the case is then left as it was.
/// revm seals in one execution of the chain ([`RevmBackend::seal`]), which gives what
/// [`seal_with`] gives with revm (a test checks it) for a fraction of the time.
pub fn seal(case: &mut Case, profile: &Profile) -> Result<(), String> {
    RevmBackend::default()
        .seal(case, profile)
        .map_err(|e| format!("revm cannot seal the chain: {e}"))
}

/// [`seal`] with any backend as the reference, one prefix of the chain at a time: what an
/// export does when the expected outcome is not revm's.
pub fn seal_with(
    case: &mut Case,
    profile: &Profile,
    reference: &mut dyn Backend,
) -> Result<(), String> {
    if !case.is_chain() {
        return Ok(());
    }
    let name = reference.name();
    let mut sealed = case.clone();
    seal_genesis(&mut sealed);
    for i in 0..sealed.blocks.len() {
        prepare(&mut sealed, i);
        let mut prefix = sealed.clone();
        prefix.blocks.truncate(i + 1);
        let outcome = reference
            .execute(&prefix, profile)
            .map_err(|e| format!("{name} cannot seal the chain: {e}"))?;
        let Some(block) = outcome.blocks.get(i) else {
            return Err(format!("{name} executed no block {}", i + 1));
        };
        fill(&mut sealed, i, block).map_err(|e| e.to_string())?;
        if block.invalid.is_some() {
            sealed.blocks.truncate(i + 1);
            break;
        }
    }
    *case = sealed;
    Ok(())
}

/// Case `index` of a campaign seeded with `seed` under `profile`, sealed, with the generator
/// input it was made from: `evmdiff_generator::campaign_case`, then [`seal`].
pub fn campaign_case(profile: &Profile, seed: u64, index: u64) -> Option<(Vec<u8>, Case)> {
    campaign_case_within(profile, seed, index, None)
}

/// [`campaign_case`] with each transaction given at most `gas_budget` gas (the campaign's
/// `--case-gas`).
pub fn campaign_case_within(
    profile: &Profile,
    seed: u64,
    index: u64,
    gas_budget: Option<u64>,
) -> Option<(Vec<u8>, Case)> {
    let (input, mut case) =
        evmdiff_generator::campaign_case_within(profile, seed, index, gas_budget)?;
    // A chain revm cannot seal keeps placeholder headers: every backend still reads the same
    // block hashes from them; only its export would not be a valid blockchain.
    let _ = seal(&mut case, profile);
    Some((input, case))
}

/// revm's execution of a chain while sealing it, observed as the fast path observes every
/// backend: its execution of the sealed chain, which [`Oracle::run_sealed`](crate::Oracle::run_sealed)
/// takes as the sealer's ([`Backend::is_sealer`]) instead of running the chain again.
#[derive(Debug, Clone)]
pub struct SealingRun {
    /// The outcome of the sealed chain.
    pub outcome: ChainOutcome,
    /// Its steps' hashes (`None` when it was not observed: it then stands only for a run
    /// that compares outcomes, not steps).
    pub trail: Option<StepTrail>,
    /// How long the execution took.
    pub took: Duration,
}

/// [`campaign_case_within`], with revm's execution of the chain while sealing it (`None` for a
/// state test, or a chain revm could not seal): the campaign's way to make a case, which runs
/// a chain on revm once.
pub fn campaign_case_run(
    profile: &Profile,
    seed: u64,
    index: u64,
    gas_budget: Option<u64>,
) -> Option<(Vec<u8>, Case, Option<SealingRun>)> {
    case_and_sealing_run(profile, seed, index, gas_budget, true)
}

/// [`campaign_case_run`] with revm's execution while sealing not observed: what a run that
/// compares outcomes only takes (bench's floor of the pipeline's cost).
pub fn campaign_case_run_unobserved(
    profile: &Profile,
    seed: u64,
    index: u64,
) -> Option<(Vec<u8>, Case, Option<SealingRun>)> {
    case_and_sealing_run(profile, seed, index, None, false)
}

fn case_and_sealing_run(
    profile: &Profile,
    seed: u64,
    index: u64,
    gas_budget: Option<u64>,
    observe: bool,
) -> Option<(Vec<u8>, Case, Option<SealingRun>)> {
    let (input, mut case) =
        evmdiff_generator::campaign_case_within(profile, seed, index, gas_budget)?;
    if !case.is_chain() {
        return Some((input, case, None));
    }
    let mut trail = observe.then(|| StepTrail::with_capacity(crate::execute::TRAIL_CAPACITY));
    let start = Instant::now();
    // As in `campaign_case_within`, a chain revm cannot seal is run unsealed.
    let observer = trail.as_mut().map(|t| t as &mut dyn Observer);
    let sealed = RevmBackend::default().seal_observed(&mut case, profile, observer);
    let run = sealed.ok().flatten().map(|outcome| SealingRun {
        outcome,
        trail,
        took: start.elapsed(),
    });
    Some((input, case, run))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sealing in one pass is sealing prefix by prefix: the same headers, blocks and hashes,
    /// on generated chains under forks with and without EIP-2935's history contract (which
    /// stores the parent's hash) and with BLOCKHASH among the generated opcodes.
    #[test]
    fn revm_seals_in_one_pass_what_the_prefixes_seal() {
        let mut chains = 0;
        for profile in ["mainnet-cancun", "mainnet-prague"] {
            let profile = Profile::load(profile).unwrap();
            for index in 0..150 {
                let Some((_, case)) = evmdiff_generator::campaign_case(&profile, 5, index)
                    .filter(|(_, c)| c.is_chain())
                else {
                    continue;
                };
                chains += 1;
                let (mut one_pass, mut prefixes) = (case.clone(), case.clone());
                let a = seal(&mut one_pass, &profile);
                let b = seal_with(&mut prefixes, &profile, &mut RevmBackend::default());
                assert_eq!(a.is_ok(), b.is_ok(), "case {index}: {a:?} / {b:?}");
                assert_eq!(one_pass, prefixes, "case {index} under {}", profile.name);
                assert_ne!(one_pass, case, "case {index}: sealing changed nothing");
            }
        }
        assert!(chains > 40, "only {chains} chains");
    }
}
