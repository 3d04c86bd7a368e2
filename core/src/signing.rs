//! A case's transaction as a signed transaction of the field's own types (alloy's
//! `TxEnvelope`): what a block carries, its transactions root commits to, and a client
//! recovers the sender from.

use alloy_consensus::{
    SignableTransaction, TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope, TxLegacy,
    TypedTransaction,
};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_eips::eip7702::{Authorization, SignedAuthorization};
use alloy_primitives::{B256, Signature, TxKind, U256};

use crate::case::Transaction;
use crate::fork::Fork;

/// Why a transaction cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigningError {
    /// The secret key is not a valid secp256k1 key (an imported transaction has none).
    #[error("the transaction of {0} has no usable secret key")]
    NoKey(alloy_primitives::Address),
    /// The key is not the sender's.
    #[error("the secret key is not the key of the sender {0}")]
    WrongKey(alloy_primitives::Address),
    /// A field does not fit the encoding (a nonce over 64 bits, a type that has no `to`).
    #[error("{0}")]
    Unencodable(String),
}

/// `tx` signed with its secret key, on `chain_id` (a legacy transaction before Spurious Dragon
/// is signed without a chain id, EIP-155 not being active). A transaction read signed, without
/// a key, keeps its own signature.
pub fn sign(tx: &Transaction, chain_id: u64, fork: Fork) -> Result<TxEnvelope, SigningError> {
    let typed = typed(tx, chain_id, fork)?;
    let Some(address) = crate::keys::address_of(&tx.secret_key) else {
        return match tx.signature {
            Some(signed) => Ok(TxEnvelope::from((typed, signed.signature))),
            None => Err(SigningError::NoKey(tx.sender)),
        };
    };
    if address != tx.sender {
        return Err(SigningError::WrongKey(tx.sender));
    }
    let signature =
        sign_hash(&tx.secret_key, typed.signature_hash()).ok_or(SigningError::NoKey(tx.sender))?;
    Ok(TxEnvelope::from((typed, signature)))
}

/// `hash` signed with `secret` (RFC 6979's deterministic nonce, low s), by libsecp256k1,
/// which revm already builds for its ECRECOVER: `sign` costs 381,000 instructions with it
/// against 655,000 with k256 (callgrind, the signing hash included), and sealing signs every
/// transaction of every generated chain. RFC 6979 makes the signature a function of the key
/// and the hash alone, so it is k256's byte for byte (a test checks it) and generated cases
/// stay what they were. `None` for a secret that is not a key.
fn sign_hash(secret: &B256, hash: B256) -> Option<Signature> {
    let key = secp256k1::SecretKey::from_byte_array(secret.0).ok()?;
    let message = secp256k1::Message::from_digest(hash.0);
    let (recid, rs) = secp256k1::SECP256K1
        .sign_ecdsa_recoverable(message, &key)
        .serialize_compact();
    Some(Signature::new(
        U256::from_be_slice(&rs[..32]),
        U256::from_be_slice(&rs[32..]),
        i32::from(recid) == 1,
    ))
}

fn small<T: TryFrom<U256>>(v: U256, what: &str) -> Result<T, SigningError> {
    T::try_from(v).map_err(|_| SigningError::Unencodable(format!("{what} {v} is out of range")))
}

/// The unsigned transaction of the effective type.
fn typed(tx: &Transaction, chain_id: u64, fork: Fork) -> Result<TypedTransaction, SigningError> {
    let nonce: u64 = small(tx.nonce, "nonce")?;
    let gas_limit: u64 = small(tx.gas_limit, "gas limit")?;
    let to = tx.to.map_or(TxKind::Create, TxKind::Call);
    let access_list = AccessList(
        tx.access_list
            .iter()
            .flatten()
            .map(|i| AccessListItem {
                address: i.address,
                storage_keys: i.storage_keys.clone(),
            })
            .collect(),
    );
    let price = |v: Option<U256>, what| small::<u128>(v.unwrap_or_default(), what);
    let call_to = || {
        tx.to.ok_or_else(|| {
            SigningError::Unencodable(format!(
                "a type-{} transaction cannot create a contract",
                tx.effective_type()
            ))
        })
    };
    Ok(match tx.effective_type() {
        0 => TypedTransaction::Legacy(TxLegacy {
            // As it was signed, when it was read signed; else EIP-155 once it is active.
            chain_id: match tx.signature {
                Some(signed) => signed.chain_id,
                None => (fork >= Fork::SpuriousDragon).then_some(chain_id),
            },
            nonce,
            gas_price: price(tx.gas_price.or(tx.max_fee_per_gas), "gas price")?,
            gas_limit,
            to,
            value: tx.value,
            input: tx.data.clone(),
        }),
        1 => TypedTransaction::Eip2930(TxEip2930 {
            chain_id,
            nonce,
            gas_price: price(tx.gas_price.or(tx.max_fee_per_gas), "gas price")?,
            gas_limit,
            to,
            value: tx.value,
            access_list,
            input: tx.data.clone(),
        }),
        2 => TypedTransaction::Eip1559(TxEip1559 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: price(tx.max_fee_per_gas, "max fee")?,
            max_priority_fee_per_gas: price(tx.max_priority_fee_per_gas, "priority fee")?,
            to,
            value: tx.value,
            access_list,
            input: tx.data.clone(),
        }),
        3 => TypedTransaction::Eip4844(
            TxEip4844 {
                chain_id,
                nonce,
                gas_limit,
                max_fee_per_gas: price(tx.max_fee_per_gas, "max fee")?,
                max_priority_fee_per_gas: price(tx.max_priority_fee_per_gas, "priority fee")?,
                to: call_to()?,
                value: tx.value,
                access_list,
                blob_versioned_hashes: tx.blob_versioned_hashes.clone().unwrap_or_default(),
                max_fee_per_blob_gas: price(tx.max_fee_per_blob_gas, "max blob fee")?,
                input: tx.data.clone(),
            }
            .into(),
        ),
        4 => TypedTransaction::Eip7702(TxEip7702 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: price(tx.max_fee_per_gas, "max fee")?,
            max_priority_fee_per_gas: price(tx.max_priority_fee_per_gas, "priority fee")?,
            to: call_to()?,
            value: tx.value,
            access_list,
            authorization_list: tx
                .authorization_list
                .iter()
                .flatten()
                .map(|a| {
                    Ok(SignedAuthorization::new_unchecked(
                        Authorization {
                            chain_id: a.chain_id,
                            address: a.address,
                            nonce: small(a.nonce, "authorization nonce")?,
                        },
                        small(a.v, "authorization y-parity")?,
                        a.r,
                        a.s,
                    ))
                })
                .collect::<Result<_, SigningError>>()?,
            input: tx.data.clone(),
        }),
        t => return Err(SigningError::Unencodable(format!("transaction type {t}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_consensus::transaction::SignerRecoverable;
    use alloy_primitives::{Bytes, address, b256};

    #[test]
    fn a_signed_transaction_recovers_its_sender() {
        let key = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
        let sender = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
        for ty in [0u8, 1, 2] {
            let mut tx = Transaction::legacy(sender, key, None, Bytes::new(), 50_000, 10);
            tx.tx_type = Some(ty);
            tx.max_fee_per_gas = Some(U256::from(10));
            tx.max_priority_fee_per_gas = Some(U256::from(1));
            let signed = sign(&tx, 1, Fork::Cancun).unwrap();
            assert_eq!(signed.recover_signer().unwrap(), sender, "type {ty}");
        }
        let mut other = Transaction::legacy(sender, key, None, Bytes::new(), 50_000, 10);
        other.sender = address!("00000000000000000000000000000000000000aa");
        assert!(matches!(
            sign(&other, 1, Fork::Cancun),
            Err(SigningError::WrongKey(_))
        ));
    }

    /// libsecp256k1's signatures are k256's, byte for byte and with the same parity, over
    /// 2,000 keys and hashes: cases sealed before the switch are sealed the same after it.
    #[test]
    fn libsecp256k1_signs_what_k256_signs() {
        for i in 1..=2_000u64 {
            let secret = alloy_primitives::keccak256(i.to_be_bytes());
            let hash = alloy_primitives::keccak256(secret);
            let key = k256::ecdsa::SigningKey::from_slice(secret.as_slice()).unwrap();
            let (sig, recid) = key.sign_prehash_recoverable(hash.as_slice()).unwrap();
            assert_eq!(
                sign_hash(&secret, hash),
                Some(Signature::from((sig, recid))),
                "key {secret}"
            );
        }
        assert_eq!(sign_hash(&B256::ZERO, B256::ZERO), None);
    }
}
