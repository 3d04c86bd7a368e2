//! P256VERIFY's check (EIP-7951) on arkworks' secp256r1 curve (ark-secp256r1): levm's
//! `Crypto::secp256r1_verify` in [`super::arkworks::ArkworksCrypto`], a second family beside
//! RustCrypto's `p256`, which revm and levm's native provider both verify with.
//!
//! ark-secp256r1 gives the curve and its fields, not ECDSA, so the verification equation is
//! written here, as EIP-7951 states it: r and s in [1, n), the key's coordinates below p and
//! on the curve (the cofactor is 1, so on the curve is in the group; the point at infinity has
//! no encoding), h the 32-byte hash taken modulo n, R' = (h·s⁻¹)·G + (r·s⁻¹)·Q not the point
//! at infinity, and R'.x modulo n equal to r.

use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{BigInteger, Field, PrimeField, Zero};
use ark_secp256r1::{Affine, Fq, Fr};

/// `be` as a field element when it is canonical (below the modulus).
fn canonical<F: PrimeField>(be: &[u8]) -> Option<F> {
    let v = F::from_be_bytes_mod_order(be);
    (v.into_bigint().to_bytes_be() == be).then_some(v)
}

/// Whether `sig` (r ‖ s) signs the hash `msg` under the key `pk` (x ‖ y), big-endian words.
pub(crate) fn verify(msg: &[u8; 32], sig: &[u8; 64], pk: &[u8; 64]) -> bool {
    let scalar = |be: &[u8]| canonical::<Fr>(be).filter(|v| !v.is_zero());
    let (Some(r), Some(s)) = (scalar(&sig[..32]), scalar(&sig[32..])) else {
        return false;
    };
    let (Some(x), Some(y)) = (canonical::<Fq>(&pk[..32]), canonical::<Fq>(&pk[32..])) else {
        return false;
    };
    let q = Affine::new_unchecked(x, y);
    if !q.is_on_curve() {
        return false;
    }
    let w = s.inverse().expect("s is not zero");
    let h = Fr::from_be_bytes_mod_order(msg);
    let point = (Affine::generator() * (h * w) + q * (r * w)).into_affine();
    if point.is_zero() {
        return false;
    }
    Fr::from_be_bytes_mod_order(&point.x.into_bigint().to_bytes_be()) == r
}
