//! The regression corpus (`corpus/regressions/`): state tests that once diverged. Every file
//! must pass on revm (its expectation was filled by revm, the reference), and each known
//! divergence must still be detected, field by field, until the implementation at fault is
//! fixed (then the entry moves to "agrees").

use std::path::Path;

use evmdiff::execute::{Verdict, run_case};
use evmdiff_core::Profile;
use evmdiff_core::expect::Check;
use evmdiff_core::statetest::read_file;

/// (file, the field the divergence must show; None when the backends now agree).
const KNOWN: &[(&str, Option<&str>)] = &[
    // evm 1.1.1: CODECOPY does not grow MSIZE (docs/findings.md #1).
    (
        "codecopy_msize.json",
        Some("state[0x00000000000000000000000000000000C0DE0001].storage[0x0]"),
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
    let mut backends = evmdiff::backends::instantiate("revm,evm").unwrap();
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (_, field) = KNOWN
            .iter()
            .find(|(f, _)| *f == name)
            .unwrap_or_else(|| panic!("{name} not in KNOWN"));
        for case in read_file(&path).unwrap().cases {
            let profile = Profile::mainnet(case.fork);
            let run = run_case(&mut backends, &case, &profile);
            assert_eq!(
                run.executions[0].check,
                Check::Pass,
                "{name}: revm must match the expectation"
            );
            match field {
                Some(f) => {
                    assert_eq!(run.verdict, Verdict::Diverge, "{name}");
                    assert!(
                        run.divergences[0].differences.iter().any(|d| d.field == *f),
                        "{name}: {:?}",
                        run.divergences
                    );
                }
                None => assert_eq!(run.verdict, Verdict::Agree, "{name}"),
            }
        }
    }
}
