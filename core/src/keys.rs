//! The addresses of secret keys, derived once per thread.
//!
//! Deriving a secp256k1 public key is a scalar multiplication (tens of microseconds), and a
//! campaign derives the same few keys over and over: every generated chain names its senders
//! by their keys' addresses, and sealing checks each transaction's key against its sender
//! before signing it. A small per-thread table keeps each key's address; it is emptied when
//! full, so a run over many imported keys costs what it did before.

use std::cell::RefCell;
use std::collections::HashMap;

use alloy_primitives::{Address, B256};
use k256::ecdsa::SigningKey;

/// Keys kept per thread before the table is emptied.
const KEPT: usize = 256;

thread_local! {
    static ADDRESSES: RefCell<HashMap<B256, Option<Address>>> = RefCell::new(HashMap::new());
}

/// The address of `secret`, or `None` when `secret` is not a valid secp256k1 key (zero, or
/// not below the group order).
pub fn address_of(secret: &B256) -> Option<Address> {
    ADDRESSES.with(|addresses| {
        let mut addresses = addresses.borrow_mut();
        if let Some(known) = addresses.get(secret) {
            return *known;
        }
        let derived = SigningKey::from_slice(secret.as_slice())
            .ok()
            .map(|key| Address::from_private_key(&key));
        if addresses.len() >= KEPT {
            addresses.clear();
        }
        addresses.insert(*secret, derived);
        derived
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same answers as deriving afresh, for valid keys asked twice, beyond the table's
    /// size, and for keys that are not keys.
    #[test]
    fn derived_once_or_afresh_the_answer_is_the_same() {
        let fresh = |s: &B256| {
            SigningKey::from_slice(s.as_slice())
                .ok()
                .map(|k| Address::from_private_key(&k))
        };
        let keys: Vec<B256> = (1..=(KEPT as u64 + 10))
            .map(|i| B256::from(alloy_primitives::U256::from(i * 7919)))
            .chain([B256::ZERO, B256::repeat_byte(0xff)])
            .collect();
        for round in 0..2 {
            for k in &keys {
                assert_eq!(address_of(k), fresh(k), "round {round}, key {k}");
            }
        }
        assert_eq!(address_of(&B256::ZERO), None);
        assert_eq!(address_of(&B256::repeat_byte(0xff)), None);
        // The key of the ethereum/tests fixtures' usual sender.
        let k: B256 = "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
            .parse()
            .unwrap();
        assert_eq!(
            address_of(&k),
            Some(
                "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b"
                    .parse()
                    .unwrap()
            )
        );
    }
}
