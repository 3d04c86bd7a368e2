//! The fast path on the real backends: a divergence that shows only in the steps is found,
//! and localized, although the outcomes agree.

use std::path::Path;

use alloy_primitives::Bytes;
use evmdiff::execute::{Verdict, run_case, run_case_localized};
use evmdiff_core::statetest::read_file;
use evmdiff_core::{Case, Field, Profile};

/// The CODECOPY regression's case with the target's code replaced by `code`.
fn case(code: &[u8]) -> Case {
    let file = read_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/regressions/codecopy_msize.json"
    )))
    .unwrap();
    let mut case = file.cases.into_iter().next().unwrap();
    let target = case.tx().unwrap().to.unwrap();
    case.pre.get_mut(&target).unwrap().code = Bytes::copy_from_slice(code);
    case.expect = None;
    case
}

/// CODECOPY then MSIZE, whose value is dropped: evm's MSIZE is wrong (docs/findings.md #1)
/// but nothing of it reaches the outcome. Outcomes alone agree; the step hashes do not, and
/// lockstep names the step.
#[test]
fn a_step_only_divergence_is_found_and_localized() {
    // PUSH1 32 PUSH1 0 PUSH1 0 CODECOPY MSIZE POP STOP
    let case = case(&[0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x39, 0x59, 0x50, 0x00]);
    let profile = Profile::load("mainnet-cancun").unwrap();
    // Step hashes need steps: every backend that reports them.
    let mut backends = evmdiff_adapters::stepping_backends();
    let plain = run_case(&mut backends, &case, &profile);
    assert_eq!(plain.verdict, Verdict::Agree, "{:?}", plain.divergences);
    let fast = run_case_localized(&mut backends, &case, &profile);
    assert_eq!(fast.verdict, Verdict::Diverge);
    let d = &fast.divergences[0];
    assert_eq!(d.differences.len(), 1);
    assert_eq!(d.differences[0].field, Field::Steps);
    let step = d.step.as_ref().expect("localized");
    assert_eq!(step.summary(), "after CODECOPY: memory_size");
    assert_eq!(step.index, 4);
    let (l, r) = (step.left.as_ref().unwrap(), step.right.as_ref().unwrap());
    assert_eq!((l.mem_size, r.mem_size), (32, 0));
    // The same program on revm twice agrees on the fast path too.
    let mut twice = evmdiff::backends::instantiate("revm,revm").unwrap();
    assert_eq!(
        run_case_localized(&mut twice, &case, &profile).verdict,
        Verdict::Agree
    );
}

/// The step hash hashes, after each instruction, only the stack entries `stack_written` names
/// (and the length): that is sound only if no instruction changes another entry. Checked on
/// every stepping backend over generated cases: between two consecutive steps of one frame,
/// every entry still on the stack at the same position is unchanged unless it is the top or,
/// after SWAPn, the nth below it.
#[test]
fn instructions_change_only_the_stack_entries_the_step_hash_hashes() {
    use evmdiff_core::opcode::{StackWritten, stack_written};
    let profile = Profile::load("mainnet-cancun").unwrap();
    let mut pairs = 0u64;
    let mut swaps = 0u64;
    for mut backend in evmdiff_adapters::stepping_backends() {
        for index in 0..150 {
            let Some((_, case)) = evmdiff_oracle::seal::campaign_case(&profile, 11, index) else {
                continue;
            };
            let mut seen = evmdiff_core::trace::Recorder::with_state();
            let _ = backend.execute_observed(&case, &profile, &mut seen);
            for w in seen.steps.windows(2) {
                let (op, before, after) = (&w[0].op, &w[0].stack, &w[1].stack);
                if w[0].depth != w[1].depth {
                    continue;
                }
                pairs += 1;
                let top = after.len().checked_sub(1);
                let swapped = match stack_written(*op) {
                    StackWritten::TopAnd(n) => {
                        swaps += 1;
                        after.len().checked_sub(n + 1)
                    }
                    StackWritten::Top => None,
                    StackWritten::All => continue,
                };
                for k in 0..before.len().min(after.len()) {
                    if before[k] != after[k] {
                        assert!(
                            Some(k) == top || Some(k) == swapped,
                            "{}, case {index}: {op:#04x} changed entry {k} of {} (bottom first)",
                            backend.name(),
                            after.len()
                        );
                    }
                }
            }
        }
    }
    assert!(
        pairs > 100_000 && swaps > 1_000,
        "{pairs} pairs, {swaps} swaps"
    );
}

/// A campaign runs a generated chain on revm once, while sealing it: that execution is revm's
/// execution of the sealed chain (the same outcome and step hashes as running it again), so
/// the oracle's whole run, divergences and their localized steps included, is the same with
/// it as without it. Chains under Cancun and Prague, revm against evm and levm, and against
/// revm with each planted bug (none of them the sealer: each runs the chain itself). Sealed
/// unobserved, the run stands for revm's in a run that compares outcomes only.
#[test]
fn the_sealing_run_is_revms_run_of_the_chain() {
    use evmdiff_adapters::revm_backend::{Planted, RevmBackend};
    use evmdiff_core::Backend;
    use evmdiff_core::step_trail::StepTrail;
    let (mut chains, mut divergent) = (0, 0);
    for name in ["mainnet-cancun", "mainnet-prague"] {
        let profile = Profile::load(name).unwrap();
        let oracle = evmdiff::Oracle::new(profile.clone());
        let mut backends = evmdiff_adapters::stepping_backends();
        backends.extend(
            Planted::ALL
                .iter()
                .map(|p| Box::new(RevmBackend::with_planted(*p)) as Box<dyn Backend>),
        );
        assert!(backends[0].is_sealer() && !backends.last().unwrap().is_sealer());
        for index in 0..40 {
            let Some((_, case, Some(sealed))) =
                evmdiff_oracle::seal::campaign_case_run(&profile, 5, index, None)
            else {
                continue;
            };
            chains += 1;
            assert_eq!(
                Some(case.clone()),
                evmdiff_oracle::seal::campaign_case(&profile, 5, index).map(|(_, c)| c),
                "case {index}: sealed as campaign_case seals it"
            );
            let mut trail = StepTrail::default();
            let outcome = backends[0].execute_observed(&case, &profile, &mut trail);
            assert_eq!(
                outcome.as_ref(),
                Ok(&sealed.outcome),
                "case {index} under {name}"
            );
            let sealing_trail = sealed.trail.as_ref().expect("observed");
            assert_eq!(trail.hash, sealing_trail.hash, "case {index} under {name}");
            assert_eq!(trail.parting(sealing_trail), None);
            let sealing_took = sealed.took;
            let with = oracle.run_sealed(&mut backends, &case, None, Some(sealed));
            // The case's time, which a `slow` finding is judged by, includes revm's.
            assert!(with.took > sealing_took, "case {index}");
            let without = oracle.run(&mut backends, &case, None);
            let results = |r: &evmdiff::execute::CaseRun| {
                r.executions
                    .iter()
                    .map(|e| (e.result.clone().map_err(|e| e.to_string()), e.steps))
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                results(&with),
                results(&without),
                "case {index} under {name}"
            );
            assert_eq!(
                format!("{:?}", with.divergences),
                format!("{:?}", without.divergences),
                "case {index} under {name}"
            );
            divergent += !with.divergences.is_empty() as usize;
            // Unobserved, the sealing run stands for revm's in a run of outcomes only.
            let (_, same, plain_sealing) =
                evmdiff_oracle::seal::campaign_case_run_unobserved(&profile, 5, index).unwrap();
            assert_eq!(same, case);
            let plain_sealing = plain_sealing.expect("sealed");
            assert!(plain_sealing.trail.is_none());
            let reused = evmdiff::execute::run_case_sealed(
                &mut backends,
                &case,
                &profile,
                Some(plain_sealing),
            );
            let plain = evmdiff::execute::run_case(&mut backends, &case, &profile);
            assert_eq!(results(&reused), results(&plain), "case {index}");
            assert_eq!(
                format!("{:?}", reused.divergences),
                format!("{:?}", plain.divergences),
                "case {index} under {name}"
            );
        }
    }
    assert!(
        chains > 15 && divergent > 10,
        "{chains} chains, {divergent} divergent"
    );
}

/// The fast path computes no state root and no logs hash: two complete outcomes are compared
/// on the states and logs the roots are functions of. Over generated state tests and chains
/// under Cancun on every stepping backend (divergent cases localized too), no outcome and no
/// block end has a root once the oracle is done; asked for, each is the trie's root of its
/// post-state.
#[test]
fn the_fast_path_computes_no_root() {
    use evmdiff_core::state::state_root;
    let profile = Profile::load("mainnet-cancun").unwrap();
    let oracle = evmdiff::Oracle::new(profile.clone());
    let mut backends = evmdiff_adapters::stepping_backends();
    let (mut outcomes, mut ends) = (0, 0);
    for index in 0..30 {
        let Some((_, case)) = evmdiff_oracle::seal::campaign_case(&profile, 11, index) else {
            continue;
        };
        let run = oracle.run(&mut backends, &case, None);
        for e in &run.executions {
            let Ok(chain) = &e.result else { continue };
            for block in &chain.blocks {
                for o in &block.txs {
                    assert!(!o.roots_known(), "case {index} on {}", e.backend);
                    assert_eq!(o.state_root(), state_root(&o.post));
                    outcomes += 1;
                }
                if let Some(end) = &block.end {
                    assert!(!end.root_known(), "case {index} on {}", e.backend);
                    assert_eq!(end.state_root(), state_root(&end.post));
                    ends += 1;
                }
            }
        }
    }
    assert!(
        outcomes > 60 && ends > 10,
        "{outcomes} outcomes, {ends} block ends"
    );
}
