//! Typed inputs for each precompile: well-formed ones (valid signatures, points on the curve,
//! valid pairings, a valid KZG opening, BLS12-381 points of the subgroup, P256 signatures) so
//! calls get past input validation and reach the arithmetic, and malformed ones so the
//! failure paths are exercised too.

use alloy_primitives::{Address, B256, U256, hex, keccak256};
use arbitrary::{Result, Unstructured};
use evmdiff_core::Behaviour;
use evmdiff_core::profile::LengthCap;

/// bn254 base field modulus.
const BN_P: &str = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
/// 2 * G1 on bn254 (x, y).
const BN_2G: (&str, &str) = (
    "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3",
    "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4",
);
/// bn254 G2 generator, EIP-197 encoding (x imaginary, x real, y imaginary, y real).
const BN_G2: &str = concat!(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
);
/// A point of bn254's twist (x = 1) outside the order-r subgroup, EIP-197 encoding: EIP-197
/// requires the pairing to refuse it (scripts/subgroup-points.py computed it).
const BN_G2_OUTSIDE: &str = concat!(
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000001",
    "0d1271953ed9ea0836846e70a1934187998c7f790cb4d7511b7f8da82de048a4",
    "2869111d5381f072f8e2728fdb825a51aadd70e52c9830e9ab4b871c0531f1bb",
);
/// The KZG commitment (and proof) of the zero polynomial: the G1 point at infinity. Opening it
/// at any z < the BLS modulus gives y = 0, a valid point evaluation.
const KZG_ZERO_COMMITMENT: [u8; 48] = {
    let mut b = [0u8; 48];
    b[0] = 0xc0;
    b
};
/// Its versioned hash, 0x01 || sha256(commitment)[1..].
const KZG_ZERO_VERSIONED_HASH: &str =
    "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014";

/// A valid point evaluation of a non-zero polynomial (versioned hash, z, y, commitment,
/// proof): c-kzg-4844's test vector `verify_kzg_proof_case_correct_proof_4_4`, the one revm's
/// point evaluation tests with, its versioned hash 0x01 || sha256(commitment)[1..].
const KZG_OPENING: &str = concat!(
    "01e798154708fe7789429634053cbf9f99b619f9f084048927333fce637f549b",
    "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000",
    "1522a4a7f34e1ea350ae07c29c96c7e79655aa926122e95fe69fcbd932ca49e9",
    "8f59a8d2a1a625a17f3fea0fe5eb8c896db3764f3185481bc22f91b4aaffcca25f26936857bc3a7c2539ea8ec3a952b7",
    "a62ad71d14c5719385c0686f1871430475bf3a00f0aa3f7b8dd99a9abc2160744faf0070725e00b60ad9a026a15b1a8c",
);

/// BLS12-381 base field modulus p (48 bytes).
const BLS_P: [u8; 48] = hex!(
    "1a0111ea397fe69a4b1ba7b6434bacd764774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab"
);
/// BLS12-381 G1 points, unpadded x and y: the generator, the EIP-2537 test vector P1, and a
/// point outside the subgroup.
const BLS_G1: [[[u8; 48]; 2]; 3] = [
    [
        hex!(
            "17f1d3a73197d7942695638c4fa9ac0fc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb"
        ),
        hex!(
            "08b3f481e3aaa0f1a09e30ed741d8ae4fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1"
        ),
    ],
    [
        hex!(
            "112b98340eee2777cc3c14163dea3ec97977ac3dc5c70da32e6e87578f44912e902ccef9efe28d4a78b8999dfbca9426"
        ),
        hex!(
            "186b28d92356c4dfec4b5201ad099dbdede3781f8998ddf929b4cd7756192185ca7b8f4ef7088f813270ac3d48868a21"
        ),
    ],
    // On the curve (x = 4, the smallest x with a point) but outside the order-r subgroup:
    // G1ADD takes it (EIP-2537 checks no subgroup there), MSM and the pairing must refuse it.
    // The kind of point goevmlab found BLS bugs with. Computed by scripts/subgroup-points.py.
    [
        hex!(
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000004"
        ),
        hex!(
            "0a989badd40d6212b33cffc3f3763e9bc760f988c9926b26da9dd85e928483446346b8ed00e1de5d5ea93e354abe706c"
        ),
    ],
];
/// BLS12-381 G2 points, unpadded x.c0, x.c1, y.c0, y.c1: the generator, the EIP-2537 test
/// vector P2, and a point outside the subgroup.
const BLS_G2: [[[u8; 48]; 4]; 3] = [
    [
        hex!(
            "024aa2b2f08f0a91260805272dc51051c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8"
        ),
        hex!(
            "13e02b6052719f607dacd3a088274f65596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e"
        ),
        hex!(
            "0ce5d527727d6e118cc9cdc6da2e351aadfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801"
        ),
        hex!(
            "0606c4a02ea734cc32acd2b02bc28b99cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be"
        ),
    ],
    [
        hex!(
            "103121a2ceaae586d240843a398967325f8eb5a93e8fea99b62b9f88d8556c80dd726a4b30e84a36eeabaf3592937f27"
        ),
        hex!(
            "086b990f3da2aeac0a36143b7d7c824428215140db1bb859338764cb58458f081d92664f9053b50b3fbd2e4723121b68"
        ),
        hex!(
            "0f9e7ba9a86a8f7624aa2b42dcc8772e1af4ae115685e60abc2c9b90242167acef3d0be4050bf935eed7c3b6fc7ba77e"
        ),
        hex!(
            "0d22c3652d0dc6f0fc9316e14268477c2049ef772e852108d269d9c38dba1d4802e8dae479818184c08f9a569d878451"
        ),
    ],
    // On the twist (x = 2) but outside the order-r subgroup, like the third G1 point.
    [
        hex!(
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002"
        ),
        [0u8; 48],
        hex!(
            "013a59858b6809fca4d9a3b6539246a70051a3c88899964a42bc9a69cf9acdd9dd387cfa9086b894185b9a46a402be73"
        ),
        hex!(
            "02d27e0ec3356299a346a09ad7dc4ef68a483c3aed53f9139d2f929a3eecebf72082e5e58c6da24ee32e03040c406d4f"
        ),
    ],
];

fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes()
}

fn bn_g1(u: &mut Unstructured<'_>) -> Result<[u8; 64]> {
    let p = U256::from_str_radix(BN_P, 16).expect("constant");
    let (x, y) = match u.int_in_range(0..=7)? {
        0 => (U256::ZERO, U256::ZERO),               // infinity
        1..=3 => (U256::from(1), U256::from(2)),     // G1
        4 | 5 => (U256::from(1), p - U256::from(2)), // -G1
        6 => (
            U256::from_str_radix(BN_2G.0, 16).expect("constant"),
            U256::from_str_radix(BN_2G.1, 16).expect("constant"),
        ), // 2 * G1
        _ => (U256::from(1), U256::from(3)),         // not on the curve
    };
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&word(x));
    out[32..].copy_from_slice(&word(y));
    Ok(out)
}

/// Valid ecrecover inputs (hash, v, r, s), signed once: signing costs tens of microseconds,
/// far more than generating the rest of a case, and a table of valid signatures exercises
/// recovery just as well as fresh ones.
fn valid_signatures() -> &'static [[u8; 128]] {
    static TABLE: std::sync::OnceLock<Vec<[u8; 128]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (0u8..32)
            .filter_map(|i| {
                let key =
                    k256::ecdsa::SigningKey::from_slice(keccak256([i, 0xec]).as_slice()).ok()?;
                let msg = keccak256([i, 0x5a]);
                let (sig, recid) = key.sign_prehash_recoverable(msg.as_slice()).ok()?;
                let mut out = [0u8; 128];
                out[..32].copy_from_slice(msg.as_slice());
                out[32..64].copy_from_slice(&word(U256::from(27 + recid.to_byte() as u64)));
                out[64..].copy_from_slice(&sig.to_bytes());
                Some(out)
            })
            .collect()
    })
}

fn ecrecover(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    if !u.ratio(1, 6)? {
        let mut input = u.choose(valid_signatures())?.to_vec();
        if u.ratio(1, 8)? {
            input[0] ^= 1; // a valid signature of another hash: recovers another address
        }
        return Ok(input);
    }
    // A malformed one: bad v, or r/s out of range.
    let msg: [u8; 32] = u.arbitrary()?;
    let mut out = msg.to_vec();
    out.extend_from_slice(&word(U256::from(*u.choose(&[0u64, 27, 28, 29])?)));
    out.extend_from_slice(&word(*u.choose(crate::operands::edge_values())?));
    out.extend_from_slice(&word(*u.choose(crate::operands::edge_values())?));
    Ok(out)
}

fn modexp(u: &mut Unstructured<'_>, cap: Option<LengthCap>) -> Result<Vec<u8>> {
    // Lengths around the EIP-7823 cap (1024) and the gas formula's 32-byte boundaries.
    let lens = [0u64, 1, 2, 31, 32, 33, 64, 128, 512, 513, 1024, 1025];
    // A profile that rejects lengths over its cap refuses the whole transaction for one,
    // so such lengths are kept for one call in sixteen.
    let within: Vec<u64> = match cap {
        Some(c) if c.behaviour == Behaviour::Reject && !u.ratio(1, 16)? => {
            lens.iter().copied().filter(|l| *l <= c.max_len).collect()
        }
        _ => lens.to_vec(),
    };
    let (bl, el, ml) = (
        *u.choose(&within)?,
        *u.choose(&[0u64, 1, 2, 32, 33, 64])?,
        *u.choose(&within)?,
    );
    let mut out = Vec::new();
    for l in [bl, el, ml] {
        out.extend_from_slice(&word(U256::from(l)));
    }
    // Supply up to 96 bytes of body; the rest is zero-padded by the precompile.
    let body = u.int_in_range(0..=96)?;
    for _ in 0..body {
        out.push(u.arbitrary()?);
    }
    Ok(out)
}

fn blake2f(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let rounds: u32 = if u.ratio(1, 8)? {
        *u.choose(&[0u32, 1, 12, 1000])?
    } else {
        u.int_in_range(0..=24)?
    };
    let mut out = rounds.to_be_bytes().to_vec();
    for _ in 0..(64 + 128 + 16) {
        out.push(u.arbitrary()?);
    }
    out.push(*u.choose(&[0u8, 0, 0, 1, 1, 1, 1, 2])?); // 2 is an invalid final flag
    if u.ratio(1, 16)? {
        out.pop(); // wrong length
    }
    Ok(out)
}

/// The bn254 G2 generator `g2` made invalid one way: a coordinate equal to the field modulus
/// (x's, then y's), the point at infinity (all zero, which is valid), a point off the curve,
/// or a point of the curve outside the subgroup.
fn bad_g2(u: &mut Unstructured<'_>, g2: &[u8]) -> Result<Vec<u8>> {
    let p = word(U256::from_str_radix(BN_P, 16).expect("constant"));
    let mut out = g2.to_vec();
    match u.int_in_range(0..=4)? {
        0 => out[..32].copy_from_slice(&p),
        1 => out[64..96].copy_from_slice(&p),
        2 => out.iter_mut().for_each(|b| *b = 0),
        3 => out[127] ^= 1,
        _ => out = hex::decode(BN_G2_OUTSIDE).expect("constant"),
    }
    Ok(out)
}

fn point_evaluation(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut out = hex::decode(KZG_ZERO_VERSIONED_HASH).expect("constant");
    let hash_mismatch = u.ratio(1, 8)?;
    let z: [u8; 32] = u.arbitrary()?;
    let mut z = z;
    z[0] &= 0x3f; // below the BLS12-381 scalar modulus
    out.extend_from_slice(&z);
    let y_wrong = u.ratio(1, 6)?; // a wrong claimed value
    out.extend_from_slice(&word(U256::from(y_wrong as u64)));
    out.extend_from_slice(&KZG_ZERO_COMMITMENT);
    out.extend_from_slice(&KZG_ZERO_COMMITMENT);
    // One in three: c-kzg's opening of a real polynomial instead, at z = r - 1, so that the
    // pairing check runs on points other than infinity (a wrong y, or z = r, fails it).
    if u.ratio(1, 3)? {
        out = hex::decode(KZG_OPENING).expect("constant");
        if y_wrong {
            out[95] ^= 1;
        } else if u.ratio(1, 8)? {
            out[63] += 1; // z = r: not a field element
        }
    }
    if hash_mismatch {
        out[31] ^= 1; // a versioned hash that does not match the commitment
    }
    Ok(out)
}

/// A BLS12-381 field element in EIP-2537's 64-byte encoding (16 zero bytes, then 48).
fn fp(v: &[u8; 48]) -> [u8; 64] {
    let mut out = [0u8; 64];
    out[16..].copy_from_slice(v);
    out
}

/// p - v for a field element v (0 stays 0): the y of a negated point.
fn fp_neg(v: &[u8; 48]) -> [u8; 48] {
    if v.iter().all(|b| *b == 0) {
        return *v;
    }
    let mut out = [0u8; 48];
    let mut borrow = 0i16;
    for i in (0..48).rev() {
        let d = BLS_P[i] as i16 - v[i] as i16 - borrow;
        borrow = (d < 0) as i16;
        out[i] = d.rem_euclid(256) as u8;
    }
    out
}

/// A random element below p: 48 bytes whose first is below p's 0x1a.
fn fp_random(u: &mut Unstructured<'_>) -> Result<[u8; 64]> {
    let mut v: [u8; 48] = u.arbitrary()?;
    v[0] &= 0x0f;
    Ok(fp(&v))
}

/// A G1 point: mostly in the subgroup (the generator, P1, their negations, infinity),
/// sometimes off the curve.
fn bls_g1(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let [x, y] = *u.choose(&BLS_G1[..2])?;
    Ok(match u.int_in_range(0..=15)? {
        0 => vec![0; 128],
        1 | 2 => [fp(&x), fp(&fp_neg(&y))].concat(),
        3 => {
            let mut y = y;
            y[47] ^= 1;
            [fp(&x), fp(&y)].concat()
        }
        4 => [fp(&BLS_G1[2][0]), fp(&BLS_G1[2][1])].concat(),
        _ => [fp(&x), fp(&y)].concat(),
    })
}

/// A G2 point, like [`bls_g1`].
fn bls_g2(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let [x0, x1, y0, y1] = *u.choose(&BLS_G2[..2])?;
    Ok(match u.int_in_range(0..=15)? {
        0 => vec![0; 256],
        1 | 2 => [fp(&x0), fp(&x1), fp(&fp_neg(&y0)), fp(&fp_neg(&y1))].concat(),
        3 => {
            let mut y0 = y0;
            y0[47] ^= 1;
            [fp(&x0), fp(&x1), fp(&y0), fp(&y1)].concat()
        }
        4 => BLS_G2[2].iter().flat_map(fp).collect(),
        _ => [fp(&x0), fp(&x1), fp(&y0), fp(&y1)].concat(),
    })
}

/// An MSM scalar: small, an edge value, or arbitrary (any 256-bit value is accepted).
fn bls_scalar(u: &mut Unstructured<'_>) -> Result<[u8; 32]> {
    Ok(match u.int_in_range(0..=2)? {
        0 => word(U256::from(u.int_in_range(0u64..=3)?)),
        1 => word(*u.choose(crate::operands::edge_values())?),
        _ => u.arbitrary()?,
    })
}

/// Inputs for the EIP-2537 precompiles 0x0b..=0x11.
fn bls(u: &mut Unstructured<'_>, n: u16) -> Result<Vec<u8>> {
    let pairs = u.int_in_range(1..=3)?;
    let mut out = Vec::new();
    match n {
        0x0b => {
            out.extend(bls_g1(u)?);
            out.extend(bls_g1(u)?);
        }
        0x0c => {
            for _ in 0..pairs {
                out.extend(bls_g1(u)?);
                out.extend(bls_scalar(u)?);
            }
        }
        0x0d => {
            out.extend(bls_g2(u)?);
            out.extend(bls_g2(u)?);
        }
        0x0e => {
            for _ in 0..pairs {
                out.extend(bls_g2(u)?);
                out.extend(bls_scalar(u)?);
            }
        }
        0x0f => {
            if u.ratio(1, 2)? {
                // e(P, Q) * e(-P, Q) = 1: a pairing check that succeeds.
                let [x, y] = *u.choose(&BLS_G1[..2])?;
                let q = bls_g2(u)?;
                out.extend(fp(&x));
                out.extend(fp(&y));
                out.extend(&q);
                out.extend(fp(&x));
                out.extend(fp(&fp_neg(&y)));
                out.extend(&q);
            } else {
                for _ in 0..pairs {
                    out.extend(bls_g1(u)?);
                    out.extend(bls_g2(u)?);
                }
            }
        }
        0x10 => out.extend(fp_random(u)?),
        _ => {
            out.extend(fp_random(u)?);
            out.extend(fp_random(u)?);
        }
    }
    Ok(out)
}

/// A P256VERIFY (RIP-7212) input: hash, r, s, public key x and y. Mostly a valid signature,
/// sometimes one over another hash (verification fails: empty output, not an error).
fn p256verify(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    use p256::ecdsa::signature::hazmat::PrehashSigner;
    let seed: [u8; 32] = u.arbitrary()?;
    let mut hash: [u8; 32] = u.arbitrary()?;
    let key = p256::ecdsa::SigningKey::from_slice(keccak256(seed).as_slice());
    let signed = key.ok().and_then(|k| {
        let sig: p256::ecdsa::Signature = k.sign_prehash(&hash).ok()?;
        Some((sig, *k.verifying_key()))
    });
    let Some((sig, public)) = signed else {
        return Ok(vec![0; 160]);
    };
    let point = public.to_encoded_point(false);
    if u.ratio(1, 6)? {
        hash[0] ^= 1;
    }
    let mut out = hash.to_vec();
    out.extend_from_slice(&sig.to_bytes());
    // An uncompressed point always has both coordinates.
    for c in [point.x(), point.y()] {
        out.extend_from_slice(c.map_or(&[0u8; 32][..], |c| &c[..]));
    }
    Ok(out)
}

/// An input for the precompile at `address`: usually well formed, sometimes not. `modexp_cap`
/// is the profile's cap on modexp's lengths, if any.
pub fn input(
    u: &mut Unstructured<'_>,
    address: Address,
    modexp_cap: Option<LengthCap>,
) -> Result<Vec<u8>> {
    let n = address.as_slice()[19] as u16 | (address.as_slice()[18] as u16) << 8;
    if u.ratio(1, 10)? {
        let len = u.int_in_range(0..=200)?;
        return Ok(u.bytes(len).unwrap_or_default().to_vec());
    }
    Ok(match n {
        0x01 => ecrecover(u)?,
        0x05 => modexp(u, modexp_cap)?,
        0x06 => [bn_g1(u)?, bn_g1(u)?].concat(),
        0x07 => [
            bn_g1(u)?.as_slice(),
            &word(*u.choose(crate::operands::edge_values())?),
        ]
        .concat(),
        0x08 => {
            let g2 = hex::decode(BN_G2).expect("constant");
            match u.int_in_range(0..=9)? {
                0 => Vec::new(), // the empty product is 1
                1 | 2 => [bn_g1(u)?.as_slice(), &g2].concat(),
                // e(G1, G2) * e(-G1, G2) = 1
                3..=6 => {
                    let p = U256::from_str_radix(BN_P, 16).expect("constant");
                    let g1 = [word(U256::from(1)), word(U256::from(2))].concat();
                    let neg = [word(U256::from(1)), word(p - U256::from(2))].concat();
                    [g1, g2.clone(), neg, g2].concat()
                }
                // A malformed G2 point: each of the checks the spec makes on one
                // (coordinates under the field modulus, infinity, on the curve).
                7 | 8 => [bn_g1(u)?.as_slice(), &bad_g2(u, &g2)?].concat(),
                _ => [bn_g1(u)?.as_slice(), &g2[..100]].concat(), // not a multiple of 192
            }
        }
        0x09 => blake2f(u)?,
        0x0a => point_evaluation(u)?,
        0x0b..=0x11 => bls(u, n)?,
        0x100 => p256verify(u)?,
        _ => {
            // sha256, ripemd160, identity, and any address that is not a precompile.
            let len = *u.choose(&[0usize, 1, 31, 32, 33, 64, 100])?;
            let mut v = u.bytes(len.min(u.len())).unwrap_or_default().to_vec();
            v.resize(len, 0);
            v
        }
    })
}

/// The versioned hash that [`input`]'s valid point evaluations open, for blob transactions.
pub fn kzg_versioned_hash() -> B256 {
    KZG_ZERO_VERSIONED_HASH.parse().expect("constant")
}
