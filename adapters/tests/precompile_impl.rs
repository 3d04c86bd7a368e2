//! The precompiles called directly, each behaviour checked once over every implementation
//! that has the precompile (revm, levm, evm): known answers from the EIPs, failures where the
//! EIPs say a call fails, and the gas the EIPs price.

use alloy_primitives::{U256, hex};
use evmdiff_adapters::precompile_impl::{self, Called, NAMES, PrecompileImpl};
use evmdiff_core::Fork;
use evmdiff_core::precompile::Precompile;

/// Every implementation at `fork`, with the precompile called `name`.
fn with(fork: Fork, name: &str) -> (Vec<Box<dyn PrecompileImpl>>, &'static Precompile) {
    let p = Precompile::lookup(name).expect("a precompile of core's table");
    let impls: Vec<_> = NAMES
        .iter()
        .filter_map(|n| precompile_impl::make(n, fork).ok())
        .filter(|i| i.has(p))
        .collect();
    (impls, p)
}

/// Calls `name` on every implementation at `fork` and checks each against `expected`; returns
/// how many implementations were checked.
fn check(fork: Fork, name: &str, input: &[u8], gas: u64, expected: &Called) -> usize {
    let (mut impls, p) = with(fork, name);
    for i in &mut impls {
        assert_eq!(
            &i.call(p, input, gas),
            expected,
            "{} at {fork}: {name} with input 0x{}",
            i.name(),
            hex::encode(input)
        );
    }
    impls.len()
}

fn word(n: u64) -> [u8; 32] {
    U256::from(n).to_be_bytes()
}

#[test]
fn identity_copies_its_input_at_15_plus_3_a_word() {
    let input = [7u8; 33];
    let n = check(
        Fork::Cancun,
        "identity",
        &input,
        1_000,
        &Called::Success {
            gas_used: 15 + 3 * 2,
            output: input.to_vec(),
        },
    );
    assert_eq!(n, 3, "revm, levm and evm all have identity at Cancun");
    // One unit of gas short of its price: every implementation fails the call.
    assert_eq!(
        check(Fork::Cancun, "identity", &input, 20, &Called::Failure),
        3
    );
}

#[test]
fn bn254_add_of_the_generator_to_itself_is_2g() {
    let g = [word(1), word(2)].concat();
    let two_g = hex!(
        "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3"
        "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"
    );
    let expected = Called::Success {
        gas_used: 150,
        output: two_g.to_vec(),
    };
    let n = check(
        Fork::Cancun,
        "bn254_add",
        &[g.clone(), g].concat(),
        10_000,
        &expected,
    );
    assert_eq!(n, 3);
    // (1, 3) is not on the curve: the call fails everywhere.
    let off = [word(1), word(3), word(1), word(2)].concat();
    assert_eq!(
        check(Fork::Cancun, "bn254_add", &off, 10_000, &Called::Failure),
        3
    );
}

#[test]
fn the_empty_bn254_pairing_is_one_at_45000() {
    let mut one = [0u8; 32];
    one[31] = 1;
    let expected = Called::Success {
        gas_used: 45_000,
        output: one.to_vec(),
    };
    assert_eq!(
        check(Fork::Prague, "bn254_pairing", &[], 100_000, &expected),
        3
    );
}

#[test]
fn modexp_is_compared_where_each_implementation_has_osakas() {
    // 3^5 mod 7 = 5, Berlin pricing (200 minimum) at Cancun.
    let input = [&word(1)[..], &word(1), &word(1), &[3, 5, 7]].concat();
    let n = check(
        Fork::Cancun,
        "modexp",
        &input,
        100_000,
        &Called::Success {
            gas_used: 200,
            output: vec![5],
        },
    );
    assert_eq!(n, 3);
    // Osaka re-priced modexp (EIP-7883: 500 minimum): evm's is Berlin's, so it sits out.
    let n = check(
        Fork::Osaka,
        "modexp",
        &input,
        100_000,
        &Called::Success {
            gas_used: 500,
            output: vec![5],
        },
    );
    assert_eq!(n, 2, "revm and levm have Osaka's modexp, evm does not");
}

#[test]
fn bls_and_p256_exist_from_their_forks_in_revm_and_levm_only() {
    let (impls, _) = with(Fork::Osaka, "p256verify");
    let names: Vec<&str> = impls.iter().map(|i| i.name()).collect();
    assert_eq!(names, ["revm", "levm"]);
    let (impls, _) = with(Fork::Cancun, "bls12_g1add");
    assert!(impls.is_empty(), "no BLS12-381 precompile before Prague");
    // G1 + infinity = G1 (EIP-2537), at 375 gas.
    let g1 = hex!(
        "0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
        "0000000000000000000000000000000008b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1"
    );
    let input = [g1.to_vec(), vec![0u8; 128]].concat();
    let n = check(
        Fork::Prague,
        "bls12_g1add",
        &input,
        10_000,
        &Called::Success {
            gas_used: 375,
            output: g1.to_vec(),
        },
    );
    assert_eq!(n, 2);
}

#[test]
fn a_planted_bug_changes_the_direct_call_as_it_changes_the_transaction() {
    // ecrecover-raw-v reads v = 0 as 27: a signature with v = 0 recovers an address under
    // the bug, and fails the call (empty output, success) everywhere else.
    let msg = [0x11u8; 32];
    let key = k256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
    let (sig, recid) = key.sign_prehash_recoverable(&msg).unwrap();
    let input = [
        msg.to_vec(),
        word(recid.to_byte() as u64).to_vec(),
        sig.to_bytes().to_vec(),
    ]
    .concat();
    let p = Precompile::lookup("ecrecover").unwrap();
    let mut planted = precompile_impl::make("revm+ecrecover-raw-v", Fork::Cancun).unwrap();
    let mut plain = precompile_impl::make("revm", Fork::Cancun).unwrap();
    assert_eq!(planted.name(), "revm+ecrecover-raw-v");
    let (a, b) = (plain.call(p, &input, 5_000), planted.call(p, &input, 5_000));
    assert_eq!(
        a,
        Called::Success {
            gas_used: 3_000,
            output: Vec::new()
        }
    );
    assert!(
        matches!(&b, Called::Success { output, .. } if output.len() == 32),
        "{b}"
    );
}

#[test]
fn an_unknown_implementation_is_named_in_the_error() {
    let err = precompile_impl::make("geth", Fork::Cancun).err().unwrap();
    assert!(
        err.to_string()
            .contains("unknown precompile implementation `geth`")
    );
    assert!(precompile_impl::make("levm", Fork::Berlin).is_err());
}

#[test]
fn every_implementations_library_is_named() {
    for p in Precompile::active_in(Fork::Osaka) {
        for n in NAMES {
            let i = precompile_impl::make(n, Fork::Osaka).unwrap();
            if i.has(p) {
                assert!(
                    precompile_impl::library(n, p.name).is_some(),
                    "{n} has {} but no library is named for it",
                    p.name
                );
            }
        }
    }
}
