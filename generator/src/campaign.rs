//! How a campaign derives case `i` from `(seed, i)`: the generator owns it, so that the
//! campaign, `evmdiff generate`, coverage runs and benchmarks make exactly the same cases, and
//! a finding that records its seed and index regenerates anywhere.

use arbitrary::Unstructured;
use evmdiff_core::{Case, Profile};

/// Bytes of generator input per case.
pub const INPUT_LEN: usize = 4096;

/// The generator input of case `index` in a campaign seeded with `seed` (SplitMix64): a pure
/// function of the two, independent of threads and timing.
pub fn input_bytes(seed: u64, index: u64) -> Vec<u8> {
    let mut state = seed ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(INPUT_LEN);
    while out.len() < INPUT_LEN {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.extend_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
    out
}

/// Case `index` of a campaign seeded with `seed` under `profile`, with the input bytes it was
/// generated from; `None` if the generator could not build one from them.
pub fn campaign_case(profile: &Profile, seed: u64, index: u64) -> Option<(Vec<u8>, Case)> {
    campaign_case_within(profile, seed, index, None)
}

/// [`campaign_case`] with each transaction given at most `gas_budget` gas
/// ([`GeneratorConfig::gas_budget`](crate::GeneratorConfig::gas_budget)).
pub fn campaign_case_within(
    profile: &Profile,
    seed: u64,
    index: u64,
    gas_budget: Option<u64>,
) -> Option<(Vec<u8>, Case)> {
    let input = input_bytes(seed, index);
    let generated =
        crate::generate_within(&mut Unstructured::new(&input), profile, gas_budget).ok()?;
    Some((input, generated.case))
}
