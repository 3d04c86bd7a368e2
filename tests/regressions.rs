//! The regression corpus (`corpus/regressions/`): state tests that once diverged. Every file
//! must pass on revm (its expectation was filled by revm, the reference), and each known
//! divergence must still be detected, field by field, until the implementation at fault is
//! fixed (then the entry moves to "agrees").

use std::path::Path;

use evmdiff::execute::{Verdict, run_case_localized};
use evmdiff_core::Profile;
use evmdiff_core::expect::Check;
use evmdiff_core::statetest::read_file;

/// A divergence a regression file must still show.
struct Known {
    /// An outcome field that must differ.
    field: &'static str,
    /// Where localization must place it (`None`: every step agrees).
    step: Option<&'static str>,
}

/// (file, the divergence; None when the backends now agree).
const KNOWN: &[(&str, Option<Known>)] = &[
    // evm 1.1.1: CODECOPY does not grow MSIZE (docs/findings.md #1).
    (
        "codecopy_msize.json",
        Some(Known {
            field: "state[0x00000000000000000000000000000000C0DE0001].storage[0x0]",
            step: Some("after CODECOPY: memory_size"),
        }),
    ),
    // evm 1.1.1: a refund earned after a nested SELFDESTRUCT of the contract being created is
    // lost (docs/findings.md #2). Every step agrees; only the refund differs.
    (
        "refund_lost_after_selfdestruct_in_create.json",
        Some(Known {
            field: "refund",
            step: None,
        }),
    ),
    // evm 1.1.1: SSTORE gas in a nested frame after a deeper SELFDESTRUCT of the contract
    // being created (docs/findings.md #3): the frame returns with 19,900 gas less.
    (
        "sstore_gas_after_selfdestruct_in_create.json",
        Some(Known {
            field: "gas_used",
            step: Some("at SSTORE: gas_cost"),
        }),
    ),
];

#[test]
fn every_regression_replays_with_its_known_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/regressions");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        KNOWN.len(),
        "every regression file needs an entry in KNOWN"
    );
    // Localization needs steps: every backend that reports them.
    let mut backends = evmdiff_adapters::stepping_backends();
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (_, field) = KNOWN
            .iter()
            .find(|(f, _)| *f == name)
            .unwrap_or_else(|| panic!("{name} not in KNOWN"));
        for case in read_file(&path).unwrap().cases {
            let profile = Profile::mainnet(case.fork);
            let run = run_case_localized(&mut backends, &case, &profile);
            assert_eq!(
                run.executions[0].check,
                Check::Pass,
                "{name}: revm must match the expectation"
            );
            match field {
                Some(known) => {
                    assert_eq!(run.verdict, Verdict::Diverge, "{name}");
                    let d = &run.divergences[0];
                    assert!(
                        d.differences
                            .iter()
                            .any(|x| x.field.to_string() == known.field),
                        "{name}: {:?}",
                        d.differences
                    );
                    assert_eq!(
                        d.step.as_ref().map(|s| s.summary()).as_deref(),
                        known.step,
                        "{name}"
                    );
                }
                None => assert_eq!(run.verdict, Verdict::Agree, "{name}"),
            }
        }
    }
}
