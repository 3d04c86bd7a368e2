//! levm's BLS12-381 precompiles (EIP-2537) with arkworks' curve arithmetic in place of blst,
//! and its P256VERIFY on arkworks' secp256r1 ([`super::p256_arkworks`]): a second family for
//! the `precompiles` target.
//!
//! revm and levm both compute BLS12-381 with blst (revm compiles its arkworks backend only
//! without the `blst` feature, and one build cannot have both), so comparing them checks their
//! framing but not blst's arithmetic. ethrex's [`Crypto`] trait is levm's seam for exactly this
//! (its zkVM guests override the BLS operations with their own libraries): levm keeps its
//! input parsing, padding checks and gas, and this provider does the curve work with
//! ark-bls12-381, the library revm's own arkworks backend uses. Everything that is neither BLS
//! nor P-256 stays levm's native code ([`NativeCrypto`]).
//!
//! The validation rules are EIP-2537's and the same as ethrex's blst provider: coordinates
//! must be canonical (below p), points on the curve, in the subgroup for MSM and pairing (a
//! point at infinity is the identity, encoded as zeros), MSM scalars any 256-bit integer.

use ark_bls12_381::{Bls12_381, Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::hashing::curve_maps::wb::WBMap;
use ark_ec::hashing::map_to_curve_hasher::MapToCurve;
use ark_ec::pairing::Pairing;
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{One, PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ethrex_common::NativeCrypto;
use ethrex_crypto::{Crypto, CryptoError};

/// Bytes of one base-field element, big-endian, unpadded.
const FP: usize = 48;

type G1Bytes = ([u8; FP], [u8; FP]);
type G2Bytes = ([u8; FP], [u8; FP], [u8; FP], [u8; FP]);

/// levm's native crypto with BLS12-381 on arkworks.
#[derive(Debug, Default)]
pub struct ArkworksCrypto;

/// A canonical field element: arkworks' uncompressed deserialization rejects values `>= p`.
fn fp(be: &[u8; FP]) -> Result<Fq, CryptoError> {
    let mut le = *be;
    le.reverse();
    Fq::deserialize_uncompressed(&le[..])
        .map_err(|_| CryptoError::InvalidInput("fp coordinate >= field modulus"))
}

fn fp_bytes(x: &Fq, out: &mut [u8]) {
    let mut le = [0u8; FP];
    x.serialize_uncompressed(&mut le[..])
        .expect("a field element serializes into 48 bytes");
    le.reverse();
    out.copy_from_slice(&le);
}

fn g1_on_curve((x, y): &G1Bytes) -> Result<G1Affine, CryptoError> {
    let (x, y) = (fp(x)?, fp(y)?);
    if x.is_zero() && y.is_zero() {
        return Ok(G1Affine::zero());
    }
    // `new` would panic off the curve: check it here and fail the call instead.
    let point = G1Affine::new_unchecked(x, y);
    if !point.is_on_curve() {
        return Err(CryptoError::InvalidPoint("G1 point not on curve"));
    }
    Ok(point)
}

fn g1_in_subgroup(p: &G1Bytes) -> Result<G1Affine, CryptoError> {
    let point = g1_on_curve(p)?;
    if !point.is_in_correct_subgroup_assuming_on_curve() {
        return Err(CryptoError::InvalidPoint("G1 point not in subgroup"));
    }
    Ok(point)
}

fn g2_on_curve((x0, x1, y0, y1): &G2Bytes) -> Result<G2Affine, CryptoError> {
    let x = Fq2::new(fp(x0)?, fp(x1)?);
    let y = Fq2::new(fp(y0)?, fp(y1)?);
    if x.is_zero() && y.is_zero() {
        return Ok(G2Affine::zero());
    }
    let point = G2Affine::new_unchecked(x, y);
    if !point.is_on_curve() {
        return Err(CryptoError::InvalidPoint("G2 point not on curve"));
    }
    Ok(point)
}

fn g2_in_subgroup(p: &G2Bytes) -> Result<G2Affine, CryptoError> {
    let point = g2_on_curve(p)?;
    if !point.is_in_correct_subgroup_assuming_on_curve() {
        return Err(CryptoError::InvalidPoint("G2 point not in subgroup"));
    }
    Ok(point)
}

fn g1_bytes(p: &G1Affine) -> [u8; 96] {
    let mut out = [0u8; 96];
    if let Some((x, y)) = p.xy() {
        fp_bytes(&x, &mut out[..FP]);
        fp_bytes(&y, &mut out[FP..]);
    }
    out
}

fn g2_bytes(p: &G2Affine) -> [u8; 192] {
    let mut out = [0u8; 192];
    if let Some((x, y)) = p.xy() {
        for (i, c) in [x.c0, x.c1, y.c0, y.c1].iter().enumerate() {
            fp_bytes(c, &mut out[i * FP..(i + 1) * FP]);
        }
    }
    out
}

/// An MSM scalar: any 256-bit integer, since for a point of order r, s·P = (s mod r)·P.
fn scalar(be: &[u8; 32]) -> Fr {
    Fr::from_be_bytes_mod_order(be)
}

/// Σ sᵢ·Pᵢ over validated points. The identity and zero scalars add nothing and are left out
/// (as blst's provider and revm's arkworks backend do).
fn msm<A>(terms: Vec<(A, Fr)>) -> A
where
    A: AffineRepr<ScalarField = Fr>,
    A::Group: VariableBaseMSM<MulBase = A>,
{
    let (points, scalars): (Vec<A>, Vec<Fr>) = terms
        .into_iter()
        .filter(|(p, s)| !p.is_zero() && !s.is_zero())
        .unzip();
    if points.is_empty() {
        return A::zero();
    }
    A::Group::msm(&points, &scalars)
        .expect("as many scalars as points")
        .into_affine()
}

impl Crypto for ArkworksCrypto {
    // Not BLS: levm's native code, as in `NativeCrypto`.
    fn bn254_g1_add(&self, p1: &[u8], p2: &[u8]) -> Result<[u8; 64], CryptoError> {
        NativeCrypto.bn254_g1_add(p1, p2)
    }

    fn bn254_g1_mul(&self, point: &[u8], scalar: &[u8]) -> Result<[u8; 64], CryptoError> {
        NativeCrypto.bn254_g1_mul(point, scalar)
    }

    fn bn254_pairing_check(&self, pairs: &[(&[u8], &[u8])]) -> Result<bool, CryptoError> {
        NativeCrypto.bn254_pairing_check(pairs)
    }

    fn modexp(&self, base: &[u8], exp: &[u8], modulus: &[u8]) -> Result<Vec<u8>, CryptoError> {
        NativeCrypto.modexp(base, exp, modulus)
    }

    // P-256 on arkworks too (ark-secp256r1), beside the native provider's RustCrypto p256.
    fn secp256r1_verify(&self, msg: &[u8; 32], sig: &[u8; 64], pk: &[u8; 64]) -> bool {
        super::p256_arkworks::verify(msg, sig, pk)
    }

    // EIP-2537 on arkworks. Additions check the curve only; MSM and pairing the subgroup too.
    fn bls12_381_g1_add(&self, a: G1Bytes, b: G1Bytes) -> Result<[u8; 96], CryptoError> {
        let sum = G1Projective::from(g1_on_curve(&a)?) + g1_on_curve(&b)?;
        Ok(g1_bytes(&sum.into_affine()))
    }

    fn bls12_381_g2_add(&self, a: G2Bytes, b: G2Bytes) -> Result<[u8; 192], CryptoError> {
        let sum = G2Projective::from(g2_on_curve(&a)?) + g2_on_curve(&b)?;
        Ok(g2_bytes(&sum.into_affine()))
    }

    fn bls12_381_g1_msm(&self, pairs: &[(G1Bytes, [u8; 32])]) -> Result<[u8; 96], CryptoError> {
        let terms = pairs
            .iter()
            .map(|(p, s)| Ok((g1_in_subgroup(p)?, scalar(s))))
            .collect::<Result<Vec<_>, CryptoError>>()?;
        Ok(g1_bytes(&msm(terms)))
    }

    fn bls12_381_g2_msm(&self, pairs: &[(G2Bytes, [u8; 32])]) -> Result<[u8; 192], CryptoError> {
        let terms = pairs
            .iter()
            .map(|(p, s)| Ok((g2_in_subgroup(p)?, scalar(s))))
            .collect::<Result<Vec<_>, CryptoError>>()?;
        Ok(g2_bytes(&msm(terms)))
    }

    fn bls12_381_pairing_check(&self, pairs: &[(G1Bytes, G2Bytes)]) -> Result<bool, CryptoError> {
        let mut g1 = Vec::with_capacity(pairs.len());
        let mut g2 = Vec::with_capacity(pairs.len());
        for (p, q) in pairs {
            let (p, q) = (g1_in_subgroup(p)?, g2_in_subgroup(q)?);
            // A pair with a point at infinity contributes one to the product.
            if !p.is_zero() && !q.is_zero() {
                g1.push(p);
                g2.push(q);
            }
        }
        if g1.is_empty() {
            return Ok(true);
        }
        Ok(Bls12_381::multi_pairing(&g1, &g2).0.is_one())
    }

    fn bls12_381_fp_to_g1(&self, x: &[u8; 48]) -> Result<[u8; 96], CryptoError> {
        let point = WBMap::map_to_curve(fp(x)?)
            .map_err(|_| CryptoError::Other("map to G1 failed".into()))?
            .clear_cofactor();
        Ok(g1_bytes(&point))
    }

    fn bls12_381_fp2_to_g2(
        &self,
        (c0, c1): ([u8; 48], [u8; 48]),
    ) -> Result<[u8; 192], CryptoError> {
        let point = WBMap::map_to_curve(Fq2::new(fp(&c0)?, fp(&c1)?))
            .map_err(|_| CryptoError::Other("map to G2 failed".into()))?
            .clear_cofactor();
        Ok(g2_bytes(&point))
    }
}
