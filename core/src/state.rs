//! World state as evmdiff compares it: accounts with balance, nonce, code and storage, and the
//! roots that ethereum/tests expects (`hash` and `logs`), computed with alloy-trie/alloy-rlp.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, Log, U256, keccak256};
use alloy_trie::TrieAccount;
use alloy_trie::root::state_root_unsorted;
use serde::{Deserialize, Serialize};

/// One account. Zero-valued storage slots are never kept, so two equal states compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Balance in wei.
    pub balance: U256,
    /// Nonce.
    pub nonce: u64,
    /// Code.
    pub code: Bytes,
    /// Non-zero storage slots.
    pub storage: BTreeMap<U256, U256>,
}

impl Account {
    /// EIP-161 emptiness: no code, zero nonce, zero balance.
    pub fn is_empty(&self) -> bool {
        self.code.is_empty() && self.nonce == 0 && self.balance.is_zero()
    }

    /// The account's leaf in the state trie.
    pub fn trie_account(&self) -> TrieAccount {
        TrieAccount {
            nonce: self.nonce,
            balance: self.balance,
            storage_root: crate::hashed::storage_root(&self.storage),
            code_hash: crate::hashed::code(&self.code),
        }
    }
}

/// A world state: every existing account by address.
pub type State = BTreeMap<Address, Account>;

/// One account's change from one state to the next: what a stateless client applies to its
/// trie (a witness proves these keys; a guest computes the next root from them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change<'a> {
    /// The account.
    pub address: Address,
    /// It before (`None`: it did not exist).
    pub before: Option<&'a Account>,
    /// It after (`None`: it was deleted).
    pub after: Option<&'a Account>,
    /// The slots whose value changed, with the new value (zero: cleared), in slot order; none
    /// for a deleted account, whose storage goes with it.
    pub slots: Vec<(U256, U256)>,
}

/// Every account that differs between `pre` and `post`, in address order.
pub fn changes<'a>(pre: &'a State, post: &'a State) -> Vec<Change<'a>> {
    let addresses: std::collections::BTreeSet<&Address> = pre.keys().chain(post.keys()).collect();
    addresses
        .into_iter()
        .filter_map(|a| {
            let (before, after) = (pre.get(a), post.get(a));
            if before == after {
                return None;
            }
            let empty = BTreeMap::new();
            let old = before.map_or(&empty, |b| &b.storage);
            let slots = match after {
                None => Vec::new(),
                Some(after) => {
                    let keys: std::collections::BTreeSet<&U256> =
                        old.keys().chain(after.storage.keys()).collect();
                    keys.into_iter()
                        .filter_map(|s| {
                            let x = old.get(s).copied().unwrap_or_default();
                            let y = after.storage.get(s).copied().unwrap_or_default();
                            (x != y).then_some((*s, y))
                        })
                        .collect()
                }
            };
            Some(Change {
                address: *a,
                before,
                after,
                slots,
            })
        })
        .collect()
}

/// The state-trie root over every account in `state` (the `hash` of a state test).
pub fn state_root(state: &State) -> B256 {
    state_root_unsorted(
        state
            .iter()
            .map(|(a, acc)| (crate::hashed::address(a), acc.trie_account())),
    )
}

/// keccak256 of the RLP list of logs (the `logs` of a state test).
pub fn logs_hash(logs: &[Log]) -> B256 {
    let mut buf = Vec::new();
    alloy_rlp::encode_list(logs, &mut buf);
    keccak256(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::b256;

    #[test]
    fn empty_roots_are_the_well_known_constants() {
        assert_eq!(state_root(&State::new()), alloy_trie::EMPTY_ROOT_HASH);
        assert_eq!(
            logs_hash(&[]),
            b256!("1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
        );
        let acc = Account::default();
        assert_eq!(acc.trie_account().storage_root, alloy_trie::EMPTY_ROOT_HASH);
    }
}
