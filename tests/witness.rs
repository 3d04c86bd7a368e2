//! The witness view on the real backends: every backend's witness suffices for its own
//! stateless re-execution; revm never reads an entry evm does not; and what evm reads beyond
//! revm is superfluous (evm reproduces its outcome from revm's smaller witness).

use arbitrary::Unstructured;
use evmdiff::campaign::input_bytes;
use evmdiff_core::Profile;
use evmdiff_core::witness::{check_stateless, collect, compare_witnesses};

#[test]
fn witnesses_suffice_and_evm_reads_only_superfluous_extras() {
    for profile in ["mainnet-cancun", "mainnet-shanghai"] {
        let profile = Profile::load(profile).unwrap();
        let mut backends = evmdiff::backends::instantiate("revm,evm").unwrap();
        let (mut checked, mut extra) = (0, 0);
        for i in 0..300 {
            let input = input_bytes(5, i);
            let Ok(generated) =
                evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
            else {
                continue;
            };
            let case = generated.case;
            let mut runs = Vec::new();
            for b in backends.iter_mut() {
                let (full, w) = collect(b.as_mut(), &case, &profile).unwrap();
                let missing = check_stateless(b.as_mut(), &case, &profile, &full, &w).unwrap();
                assert!(
                    missing.is_empty(),
                    "{} case {i}: stateless re-execution differs: {missing:?}",
                    b.name()
                );
                runs.push((full, w));
            }
            checked += 1;
            let differences = compare_witnesses(&runs[0].1, &runs[1].1);
            if differences.is_empty() {
                continue;
            }
            extra += 1;
            for d in &differences {
                assert_eq!(
                    (d.left.as_str(), d.right.as_str()),
                    ("-", "read"),
                    "case {i}: {d}"
                );
            }
            let with_revms = check_stateless(
                backends[1].as_mut(),
                &case,
                &profile,
                &runs[1].0,
                &runs[0].1,
            )
            .unwrap();
            assert!(with_revms.is_empty(), "case {i}: {with_revms:?}");
        }
        assert!(checked > 250, "only {checked} cases");
        // The extras come from instructions that fail (docs/findings.md #4): rare.
        assert!(
            extra * 10 < checked,
            "{}: {extra} of {checked}",
            profile.name
        );
    }
}

/// A witness that lacks an entry the execution needs is caught: dropping the sender from
/// revm's witness changes the stateless outcome.
#[test]
fn a_missing_witness_entry_is_caught() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    let mut revm = evmdiff_adapters::backend("revm").unwrap();
    let input = input_bytes(5, 1);
    let case = evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
        .unwrap()
        .case;
    let (full, mut w) = collect(revm.as_mut(), &case, &profile).unwrap();
    assert!(w.accounts.remove(&case.tx.sender));
    let missing = check_stateless(revm.as_mut(), &case, &profile, &full, &w).unwrap();
    assert!(!missing.is_empty());
    assert!(missing.iter().all(|d| d.field.starts_with("stateless.")));
}
