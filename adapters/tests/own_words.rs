//! Each adapter keeps its implementation's own words in `Outcome::detail` (shown in reports,
//! never compared), while the status is the canonical one the conformance suite checks. Which
//! words those are is the adapter's business, so it is tested here, per adapter.

use evmdiff_conformance::find;
use evmdiff_core::Outcome;

fn run(backend: &str, scenario: &str) -> Outcome {
    let s = find(scenario).expect("a scenario");
    evmdiff_adapters::backend(backend)
        .unwrap()
        .execute(&s.case(), &s.profile().unwrap())
        .unwrap()
        .into_last_tx()
        .unwrap()
}

/// (scenario, backend, a word its detail holds).
const WORDS: &[(&str, &str, &str)] = &[
    // The three ways of being an invalid opcode: revm names each, levm has one word.
    ("halt/tload-before-cancun", "revm", "NotActivated"),
    ("halt/designated-invalid", "revm", "InvalidFEOpcode"),
    ("halt/undefined-opcode", "revm", "OpcodeNotFound"),
    ("halt/tload-before-cancun", "levm", "InvalidOpcode"),
    ("halt/designated-invalid", "levm", "InvalidOpcode"),
    ("halt/undefined-opcode", "levm", "InvalidOpcode"),
    // A rejection names what the profile refused.
    ("precompile/reject-rule-recorded", "evm", "0x2"),
    ("opcode/reject-in-a-callee", "evm", "NUMBER"),
];

#[test]
fn details_keep_the_implementations_words() {
    for (scenario, backend, word) in WORDS {
        let o = run(backend, scenario);
        assert!(
            o.detail.contains(word),
            "{backend} on {scenario}: {}",
            o.detail
        );
    }
}
