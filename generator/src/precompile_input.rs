//! Typed inputs for each precompile: well-formed ones (valid signatures, points on the curve,
//! valid pairings, a valid KZG opening) so calls get past input validation and reach the
//! arithmetic, and malformed ones so the failure paths are exercised too.

use alloy_primitives::{Address, B256, U256, hex, keccak256};
use arbitrary::{Result, Unstructured};

/// bn254 base field modulus.
const BN_P: &str = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
/// bn254 G2 generator, EIP-197 encoding (x imaginary, x real, y imaginary, y real).
const BN_G2: &str = concat!(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
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

fn word(v: U256) -> [u8; 32] {
    v.to_be_bytes()
}

fn bn_g1(u: &mut Unstructured<'_>) -> Result<[u8; 64]> {
    let p = U256::from_str_radix(BN_P, 16).expect("constant");
    let (x, y) = match u.int_in_range(0..=4)? {
        0 => (U256::ZERO, U256::ZERO),           // infinity
        1 | 2 => (U256::from(1), U256::from(2)), // G1
        3 => (U256::from(1), p - U256::from(2)), // -G1
        _ => (U256::from(1), U256::from(3)),     // not on the curve
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

fn modexp(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    // Lengths around the EIP-7823 cap (1024) and the gas formula's 32-byte boundaries.
    let lens = [0u64, 1, 2, 31, 32, 33, 64, 128, 512, 513, 1024, 1025];
    let (bl, el, ml) = (
        *u.choose(&lens)?,
        *u.choose(&[0u64, 1, 2, 32, 33, 64])?,
        *u.choose(&lens)?,
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
    out.push(*u.choose(&[0u8, 1, 1, 2])?); // 2 is an invalid final flag
    if u.ratio(1, 8)? {
        out.pop(); // wrong length
    }
    Ok(out)
}

fn point_evaluation(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    let mut out = hex::decode(KZG_ZERO_VERSIONED_HASH).expect("constant");
    let z: [u8; 32] = u.arbitrary()?;
    let mut z = z;
    z[0] &= 0x3f; // below the BLS12-381 scalar modulus
    out.extend_from_slice(&z);
    let y_nonzero = u.ratio(1, 6)?; // a wrong claimed value
    out.extend_from_slice(&word(U256::from(y_nonzero as u64)));
    out.extend_from_slice(&KZG_ZERO_COMMITMENT);
    out.extend_from_slice(&KZG_ZERO_COMMITMENT);
    Ok(out)
}

/// An input for the precompile at `address`: usually well formed, sometimes not.
pub fn input(u: &mut Unstructured<'_>, address: Address) -> Result<Vec<u8>> {
    let n = address.as_slice()[19] as u16 | (address.as_slice()[18] as u16) << 8;
    if u.ratio(1, 10)? {
        let len = u.int_in_range(0..=200)?;
        return Ok(u.bytes(len).unwrap_or_default().to_vec());
    }
    Ok(match n {
        0x01 => ecrecover(u)?,
        0x05 => modexp(u)?,
        0x06 => [bn_g1(u)?, bn_g1(u)?].concat(),
        0x07 => [
            bn_g1(u)?.as_slice(),
            &word(*u.choose(crate::operands::edge_values())?),
        ]
        .concat(),
        0x08 => {
            let g2 = hex::decode(BN_G2).expect("constant");
            match u.int_in_range(0..=3)? {
                0 => Vec::new(), // the empty product is 1
                1 => [bn_g1(u)?.as_slice(), &g2].concat(),
                // e(G1, G2) * e(-G1, G2) = 1
                2 => {
                    let p = U256::from_str_radix(BN_P, 16).expect("constant");
                    let g1 = [word(U256::from(1)), word(U256::from(2))].concat();
                    let neg = [word(U256::from(1)), word(p - U256::from(2))].concat();
                    [g1, g2.clone(), neg, g2].concat()
                }
                _ => [bn_g1(u)?.as_slice(), &g2[..100]].concat(), // not a multiple of 192
            }
        }
        0x09 => blake2f(u)?,
        0x0a => point_evaluation(u)?,
        _ => {
            // sha256, ripemd160, identity; BLS and P256 get sized random bytes for now.
            let sizes: &[usize] = match n {
                0x0b | 0x0d => &[256, 512],
                0x0c | 0x0e => &[160, 288],
                0x0f => &[384],
                0x10 => &[64],
                0x11 => &[128],
                0x100 => &[160],
                _ => &[0, 1, 31, 32, 33, 64, 100],
            };
            let len = *u.choose(sizes)?;
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
