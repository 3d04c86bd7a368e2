//! keccak256 of what state roots hash again and again, remembered per thread.
//!
//! Every backend gives the state root after every transaction, and a root hashes every
//! account: its address, its code, each of its slots, its storage trie. Between two roots
//! most of that has not changed (the same accounts, the same codes, most storages untouched),
//! yet hashing it again was the larger part of a backend's cost on generated cases after its
//! EVM. These tables remember the hashes by content, never by pointer: a hit is an input equal
//! byte for byte to one hashed before, so a root is the same with or without them. Each table
//! is emptied when it holds more than its bound, so a long run's memory stays flat.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
use alloy_trie::root::storage_root_unsorted;
use foldhash::fast::RandomState;

/// A bounded table from inputs to their hash.
struct Table<K> {
    map: HashMap<K, B256, RandomState>,
    /// Weight held (entries, or slots for storages) and the most held before emptying.
    held: usize,
    bound: usize,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new(bound: usize) -> Table<K> {
        Table {
            map: HashMap::default(),
            held: 0,
            bound,
        }
    }

    /// The hash of `key`, computed by `hash` the first time.
    fn get(&mut self, key: &K, weight: usize, hash: impl FnOnce(&K) -> B256) -> B256 {
        if let Some(h) = self.map.get(key) {
            return *h;
        }
        let h = hash(key);
        if self.held + weight > self.bound {
            self.map.clear();
            self.held = 0;
        }
        self.held += weight;
        self.map.insert(key.clone(), h);
        h
    }
}

/// Codes are up to 24 KiB (more when a profile raises the limit): at most this many bytes
/// are held.
const CODE_BYTES: usize = 16 << 20;
/// Addresses and slots: 64 bytes an entry.
const KEYS: usize = 1 << 16;
/// Storages, by the slots they hold together.
const STORAGE_SLOTS: usize = 1 << 16;

thread_local! {
    static CODES: RefCell<Table<Bytes>> = RefCell::new(Table::new(CODE_BYTES));
    static ADDRESSES: RefCell<Table<Address>> = RefCell::new(Table::new(KEYS));
    static SLOTS: RefCell<Table<U256>> = RefCell::new(Table::new(KEYS));
    static STORAGES: RefCell<Table<BTreeMap<U256, U256>>> =
        RefCell::new(Table::new(STORAGE_SLOTS));
}

/// keccak256 of `code` (the empty code's well-known hash for none).
pub fn code(code: &Bytes) -> B256 {
    if code.is_empty() {
        return KECCAK256_EMPTY;
    }
    CODES.with(|t| t.borrow_mut().get(code, code.len(), |c| keccak256(c)))
}

/// An account's key in the state trie: keccak256 of its address.
pub fn address(address: &Address) -> B256 {
    ADDRESSES.with(|t| t.borrow_mut().get(address, 1, |a| keccak256(a)))
}

/// A slot's key in a storage trie: keccak256 of the slot as a 32-byte word.
pub fn slot(slot: &U256) -> B256 {
    SLOTS.with(|t| t.borrow_mut().get(slot, 1, |s| keccak256(B256::from(*s))))
}

/// The root of the storage trie of `storage`'s non-zero slots.
pub fn storage_root(storage: &BTreeMap<U256, U256>) -> B256 {
    let compute = |s: &BTreeMap<U256, U256>| {
        storage_root_unsorted(
            s.iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(k, v)| (slot(k), *v)),
        )
    };
    if storage.is_empty() {
        return EMPTY_ROOT_HASH;
    }
    STORAGES.with(|t| t.borrow_mut().get(storage, storage.len(), compute))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_trie::root::{state_root_unhashed, storage_root_unhashed};

    /// Remembered or not, and past the tables' bounds, each hash is the one computed afresh:
    /// codes, addresses, slots, and storages with and without zero slots.
    #[test]
    fn remembered_hashes_are_the_hashes() {
        let fresh_storage = |s: &BTreeMap<U256, U256>| {
            storage_root_unhashed(
                s.iter()
                    .filter(|(_, v)| !v.is_zero())
                    .map(|(k, v)| (B256::from(*k), *v)),
            )
        };
        for round in 0..2u64 {
            for i in 0..(KEYS as u64 + 100) {
                let a = Address::from_word(B256::from(U256::from(i)));
                if i % 97 == round {
                    assert_eq!(address(&a), keccak256(a), "address {i}");
                    assert_eq!(slot(&U256::from(i)), keccak256(B256::from(U256::from(i))));
                } else {
                    address(&a);
                }
            }
            for len in [1usize, 2, 33, 1000, 24 * 1024] {
                let c = Bytes::from(vec![round as u8 ^ 0x5b; len]);
                assert_eq!(code(&c), keccak256(&c), "code of {len} bytes");
            }
            let mut s = BTreeMap::new();
            for i in 0..40u64 {
                s.insert(U256::from(i * 3), U256::from(i + round));
                assert_eq!(storage_root(&s), fresh_storage(&s), "{} slots", s.len());
            }
            s.insert(U256::from(1), U256::ZERO);
            assert_eq!(storage_root(&s), fresh_storage(&s), "with a zero slot");
        }
        assert_eq!(code(&Bytes::new()), KECCAK256_EMPTY);
        assert_eq!(storage_root(&BTreeMap::new()), EMPTY_ROOT_HASH);
        // The state root over remembered keys is alloy's.
        let state: Vec<(Address, alloy_trie::TrieAccount)> = (0..5u64)
            .map(|i| {
                (
                    Address::with_last_byte(i as u8),
                    alloy_trie::TrieAccount {
                        nonce: i,
                        ..Default::default()
                    },
                )
            })
            .collect();
        assert_eq!(
            alloy_trie::root::state_root_unsorted(state.iter().map(|(a, acc)| (address(a), *acc))),
            state_root_unhashed(state.clone())
        );
    }
}
