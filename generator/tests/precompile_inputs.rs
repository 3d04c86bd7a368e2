//! The typed precompile inputs are what they claim: run on revm's own precompiles (Osaka, with
//! gas to spare), most inputs of every precompile are accepted, and the well-formed
//! signatures and pairings verify. A precompile whose inputs were all malformed would still
//! be "called" by generated programs, but would only ever test its input checks.

use alloy_primitives::Address;
use arbitrary::Unstructured;
use evmdiff_core::Fork;
use evmdiff_core::precompile::Precompile;
use evmdiff_generator::precompile_input::input;
use revm::precompile::{PrecompileStatus, Precompiles};

/// Deterministic pseudo-random bytes (xorshift).
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

/// (accepted, returned a non-empty output, returned exactly 1 as a word) out of `n` inputs.
fn run(address: Address, n: u64) -> (u64, u64, u64) {
    let precompile = Precompiles::osaka()
        .get(&address)
        .expect("an Osaka precompile");
    let one = {
        let mut w = [0u8; 32];
        w[31] = 1;
        w
    };
    let (mut ok, mut nonempty, mut true_word) = (0, 0, 0);
    for seed in 0..n {
        let data = bytes(seed + 1, 4096);
        let input = input(&mut Unstructured::new(&data), address, None).unwrap();
        let Ok(out) = precompile.execute(&input, 50_000_000, 0) else {
            continue;
        };
        if matches!(out.status, PrecompileStatus::Success) {
            ok += 1;
            nonempty += !out.bytes.is_empty() as u64;
            true_word += (out.bytes.as_ref() == one) as u64;
        }
    }
    (ok, nonempty, true_word)
}

#[test]
fn most_inputs_of_every_precompile_are_accepted() {
    const N: u64 = 400;
    for p in Precompile::active_in(Fork::Osaka) {
        let (ok, _, _) = run(p.address, N);
        // The malformed share is 1/10 random bytes plus each precompile's own bad cases
        // (points off the curve, bad flags, modexp lengths over EIP-7823's cap).
        assert!(
            ok * 100 >= N * 55,
            "{}: only {ok} of {N} inputs accepted",
            p.name
        );
    }
}

#[test]
fn signatures_and_pairing_checks_verify() {
    const N: u64 = 200;
    let at = |n: u16| Precompile::lookup(&format!("{n:#x}")).unwrap().address;
    // ecrecover returns the signer for a valid signature, P256VERIFY returns 1.
    let (_, recovered, _) = run(at(0x01), N);
    assert!(recovered * 100 >= N * 60, "ecrecover: {recovered} of {N}");
    let (_, _, verified) = run(at(0x100), N);
    assert!(verified * 100 >= N * 60, "p256verify: {verified} of {N}");
    // Pairing checks built to hold (e(P, Q) * e(-P, Q) = 1, or an empty product).
    let (_, _, held) = run(at(0x08), N);
    assert!(held * 100 >= N * 25, "bn254 pairing: {held} of {N}");
    let (_, _, held) = run(at(0x0f), N);
    assert!(held * 100 >= N * 30, "bls12 pairing: {held} of {N}");
}
