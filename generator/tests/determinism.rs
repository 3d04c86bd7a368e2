//! Same bytes, same case: the generator is a pure function of its input.

use arbitrary::Unstructured;
use evmdiff_core::Profile;
use evmdiff_core::profile::builtin_names;
use evmdiff_generator::generate;

/// Deterministic pseudo-random bytes (xorshift), so the test needs no RNG crate.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn same_bytes_give_the_same_case_under_every_profile() {
    for name in builtin_names() {
        let profile = Profile::load(name).unwrap();
        for seed in 0..100 {
            let data = bytes(seed, 4096);
            let a = generate(&mut Unstructured::new(&data), &profile).unwrap();
            let b = generate(&mut Unstructured::new(&data), &profile).unwrap();
            assert_eq!(a.case, b.case, "{name} seed {seed}");
            assert_eq!(a.config, b.config);
            assert_eq!(a.case.fork, profile.base_fork);
        }
    }
}

#[test]
fn short_inputs_still_give_a_case() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    for len in 0..64 {
        let data = bytes(len as u64, len);
        let g = generate(&mut Unstructured::new(&data), &profile).unwrap();
        assert!(!g.case.pre.is_empty());
    }
}
