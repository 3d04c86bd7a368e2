//! Localization on the real backends: where two executions part, and that they do not part
//! where they agree.

use std::collections::BTreeMap;

use arbitrary::Unstructured;
use evmdiff::campaign::input_bytes;
use evmdiff::execute::{Verdict, run_case};
use evmdiff_core::Profile;
use evmdiff_core::lockstep::lockstep;

/// Over generated cases on which revm and evm produce the same outcome, their steps agree too,
/// except where a known evm bug shows in the steps before it is repaired by a later
/// instruction (CODECOPY's memory size, docs/findings.md #1). revm against itself always
/// agrees step for step.
#[test]
fn agreeing_backends_agree_step_by_step() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    let mut backends = evmdiff::backends::instantiate("revm,evm").unwrap();
    let mut revm2 = evmdiff_adapters::backend("revm").unwrap();
    let mut step_only: BTreeMap<String, usize> = BTreeMap::new();
    let mut agreeing = 0;
    for i in 0..400 {
        let input = input_bytes(11, i);
        let Ok(generated) = evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
        else {
            continue;
        };
        let case = generated.case;
        let run = run_case(&mut backends, &case, &profile);
        let (revm, evm) = backends.split_at_mut(1);
        assert_eq!(
            lockstep(revm[0].as_mut(), revm2.as_mut(), &case, &profile).unwrap(),
            None,
            "revm against itself, case {i}"
        );
        if run.verdict != Verdict::Agree {
            continue;
        }
        agreeing += 1;
        if let Some(d) = lockstep(revm[0].as_mut(), evm[0].as_mut(), &case, &profile).unwrap() {
            *step_only.entry(d.summary()).or_default() += 1;
        }
    }
    assert!(agreeing > 300, "only {agreeing} agreeing cases");
    for summary in step_only.keys() {
        assert_eq!(summary, "after CODECOPY: memory_size", "{step_only:?}");
    }
}
