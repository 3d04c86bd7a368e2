//! The precompiles called directly, each behaviour checked once over every implementation
//! that has the precompile (revm, levm, levm-arkworks, evm): known answers from the EIPs,
//! failures where the EIPs say a call fails, and the gas the EIPs price.

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
    assert_eq!(
        n, 4,
        "revm, levm, levm-arkworks and evm all have identity at Cancun"
    );
    // One unit of gas short of its price: every implementation fails the call.
    assert_eq!(
        check(Fork::Cancun, "identity", &input, 20, &Called::Failure),
        4
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
    assert_eq!(n, 4);
    // (1, 3) is not on the curve: the call fails everywhere.
    let off = [word(1), word(3), word(1), word(2)].concat();
    assert_eq!(
        check(Fork::Cancun, "bn254_add", &off, 10_000, &Called::Failure),
        4
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
        4
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
    assert_eq!(n, 4);
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
    assert_eq!(n, 3, "revm and levm have Osaka's modexp, evm does not");
}

#[test]
fn bls_and_p256_exist_from_their_forks_in_revm_and_levm_only() {
    let (impls, _) = with(Fork::Osaka, "p256verify");
    let names: Vec<&str> = impls.iter().map(|i| i.name()).collect();
    assert_eq!(names, ["revm", "levm", "levm-arkworks"]);
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
    assert_eq!(n, 3);
}

/// An EIP-2537 field element: 16 zero bytes, then the 48-byte big-endian value.
fn fp(be: &str) -> Vec<u8> {
    let v = hex::decode(be).unwrap();
    assert_eq!(v.len(), 48);
    [vec![0u8; 16], v].concat()
}

/// Calls `name` on every implementation at Prague, checks they all return the same, and
/// returns it with how many were called.
fn agreed(name: &str, input: &[u8]) -> (Called, usize) {
    agreed_at(Fork::Prague, name, input)
}

/// [`agreed`] at `fork`.
fn agreed_at(fork: Fork, name: &str, input: &[u8]) -> (Called, usize) {
    let (mut impls, p) = with(fork, name);
    let results: Vec<(String, Called)> = impls
        .iter_mut()
        .map(|i| (i.name().to_string(), i.call(p, input, 10_000_000)))
        .collect();
    for (n, r) in &results[1..] {
        assert_eq!(
            r,
            &results[0].1,
            "{n} and {} differ on {name} 0x{}",
            results[0].0,
            hex::encode(input)
        );
    }
    (results[0].1.clone(), results.len())
}

const BLS_G1: [&str; 2] = [
    "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb",
    "08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1",
];
/// -G1: y replaced by p - y.
const BLS_G1_NEG_Y: &str = "114d1d6855d545a8aa7d76c8cf2e21f267816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca";
/// On the curve (x = 4) outside the order-r subgroup (scripts/subgroup-points.py).
const BLS_G1_OUTSIDE: [&str; 2] = [
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004",
    "0a989badd40d6212b33cffc3f3763e9bc760f988c9926b26da9dd85e928483446346b8ed00e1de5d5ea93e354abe706c",
];
const BLS_G2: [&str; 4] = [
    "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8",
    "13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e",
    "0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801",
    "0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be",
];

fn g1(p: &[&str]) -> Vec<u8> {
    p.iter().flat_map(|c| fp(c)).collect()
}

#[test]
fn blst_and_arkworks_agree_on_bls12_381_arithmetic_and_its_refusals() {
    let g = g1(&BLS_G1);
    let g2 = g1(&BLS_G2);
    let outside = g1(&BLS_G1_OUTSIDE);
    // 2·G by MSM is G + G by addition, in every implementation (blst and arkworks).
    let (sum, n) = agreed("bls12_g1add", &[g.clone(), g.clone()].concat());
    assert_eq!(
        n, 3,
        "revm, levm and levm-arkworks have BLS12-381 at Prague"
    );
    let Called::Success { output: two_g, .. } = sum else {
        panic!("G + G failed: {sum}")
    };
    let (msm, _) = agreed("bls12_g1msm", &[g.clone(), word(2).to_vec()].concat());
    assert!(
        matches!(&msm, Called::Success { output, .. } if *output == two_g),
        "{msm}"
    );
    let (sum2, _) = agreed("bls12_g2add", &[g2.clone(), g2.clone()].concat());
    let (msm2, _) = agreed("bls12_g2msm", &[g2.clone(), word(2).to_vec()].concat());
    match (&sum2, &msm2) {
        (Called::Success { output: a, .. }, Called::Success { output: b, .. }) => {
            assert_eq!(a, b)
        }
        _ => panic!("G2: {sum2} / {msm2}"),
    }
    // A scalar above the group order: any 256-bit integer is taken (EIP-2537).
    let (big, _) = agreed("bls12_g1msm", &[g.clone(), [0xffu8; 32].to_vec()].concat());
    assert_eq!(big.status(), "success", "{big}");
    // e(G1, G2) · e(-G1, G2) = 1.
    let neg_g = g1(&[BLS_G1[0], BLS_G1_NEG_Y]);
    let (pairing, _) = agreed(
        "bls12_pairing",
        &[g.clone(), g2.clone(), neg_g, g2.clone()].concat(),
    );
    assert!(
        matches!(&pairing, Called::Success { output, .. } if *output == word(1)),
        "{pairing}"
    );
    let (pairing, _) = agreed("bls12_pairing", &[g.clone(), g2.clone()].concat());
    assert!(
        matches!(&pairing, Called::Success { output, .. } if *output == word(0)),
        "{pairing}"
    );
    // Outside the subgroup: addition takes the point, MSM and the pairing refuse it.
    let (add, _) = agreed("bls12_g1add", &[outside.clone(), g.clone()].concat());
    assert_eq!(add.status(), "success", "{add}");
    assert_eq!(
        agreed("bls12_g1msm", &[outside.clone(), word(1).to_vec()].concat()).0,
        Called::Failure
    );
    assert_eq!(
        agreed("bls12_pairing", &[outside, g2].concat()).0,
        Called::Failure
    );
    // A coordinate equal to p is not canonical.
    let p = "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab";
    assert_eq!(agreed("bls12_map_fp_to_g1", &fp(p)).0, Called::Failure);
    // Mapping lands in the subgroup: its image is taken by MSM.
    let (mapped, _) = agreed("bls12_map_fp_to_g1", &fp(BLS_G1[1]));
    let Called::Success { output: m, .. } = mapped else {
        panic!("map: {mapped}")
    };
    assert_eq!(
        agreed("bls12_g1msm", &[m, word(3).to_vec()].concat())
            .0
            .status(),
        "success"
    );
    let (mapped2, _) = agreed(
        "bls12_map_fp2_to_g2",
        &[fp(BLS_G1[0]), fp(BLS_G1[1])].concat(),
    );
    assert_eq!(mapped2.status(), "success", "{mapped2}");
}

#[test]
fn rustcrypto_and_arkworks_agree_on_p256verify_and_its_refusals() {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    const N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    const P: &str = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
    let n = U256::from_be_slice(&hex::decode(N).unwrap());
    let key = SigningKey::from_slice(&[0x42; 32]).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let (x, y) = (point.x().unwrap().to_vec(), point.y().unwrap().to_vec());
    let signed = |hash: [u8; 32]| -> (Vec<u8>, Vec<u8>) {
        let sig: p256::ecdsa::Signature = key.sign_prehash(&hash).unwrap();
        let (r, s) = sig.split_bytes();
        (r.to_vec(), s.to_vec())
    };
    let call = |parts: &[&[u8]]| agreed_at(Fork::Osaka, "p256verify", &parts.concat());
    let valid = Called::Success {
        gas_used: 6_900,
        output: word(1).to_vec(),
    };
    let refused = Called::Success {
        gas_used: 6_900,
        output: Vec::new(),
    };
    let hash = [0x11u8; 32];
    let (r, s) = signed(hash);
    let (ok, count) = call(&[&hash, &r, &s, &x, &y]);
    assert_eq!(
        count, 3,
        "revm, levm and levm-arkworks have P256VERIFY at Osaka"
    );
    assert_eq!(ok, valid);
    // EIP-7951 takes the high-s twin of a signature (no malleability check).
    let high_s = (n - U256::from_be_slice(&s)).to_be_bytes::<32>();
    assert_eq!(call(&[&hash, &r, &high_s, &x, &y]).0, valid);
    // A hash above the group order is taken modulo n by the signer and by every verifier.
    let big = [0xffu8; 32];
    let (rb, sb) = signed(big);
    assert_eq!(call(&[&big, &rb, &sb, &x, &y]).0, valid);
    // Refusals: another hash, r or s zero or n, a coordinate equal to p, a key off the curve,
    // the (0, 0) key.
    let n_bytes = hex::decode(N).unwrap();
    let p_bytes = hex::decode(P).unwrap();
    let mut y_off = y.clone();
    y_off[31] ^= 1;
    let zero = [0u8; 32];
    for (why, parts) in [
        ("another hash", [&[0x12u8; 32][..], &r, &s, &x, &y]),
        ("r = 0", [&hash, &zero, &s, &x, &y]),
        ("r = n", [&hash, &n_bytes, &s, &x, &y]),
        ("s = 0", [&hash, &r, &zero, &x, &y]),
        ("s = n", [&hash, &r, &n_bytes, &x, &y]),
        ("x = p", [&hash, &r, &s, &p_bytes, &y]),
        ("off the curve", [&hash, &r, &s, &x, &y_off]),
        ("the (0, 0) key", [&hash, &r, &s, &zero, &zero]),
    ] {
        assert_eq!(call(&parts).0, refused, "{why}");
    }
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
