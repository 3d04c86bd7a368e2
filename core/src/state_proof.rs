//! A [`Witness`] as a stateless executor receives it: the trie nodes that prove every account
//! and slot it holds against the pre-state root, the codes and the key preimages, in the shape
//! of `debug_executionWitness` (geth, reth) that zk provers take as input.
//!
//! The worker protocol's witness request form (docs/protocol.md) sends this instead of the full
//! pre-state: a prover EVM executes from the witness alone, and a read the sequencer's witness
//! does not cover changes its outcome, which is where sequencer and prover part.

use std::collections::BTreeSet;

use alloy_primitives::{B256, Bytes, U256, keccak256};
use alloy_trie::proof::ProofRetainer;
use alloy_trie::{HashBuilder, Nibbles};
use serde::Serialize;

use crate::state::State;
use crate::witness::Witness;

/// The proofs of a witness.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionWitness {
    /// The pre-state root the nodes prove against.
    pub state_root: B256,
    /// RLP of every trie node on the path to a held account (account trie) or slot (its
    /// account's storage trie), deduplicated, in no meaningful order.
    pub state: Vec<Bytes>,
    /// The code of every held account that has code.
    pub codes: Vec<Bytes>,
    /// Preimages of the trie keys: the held addresses (20 bytes) and slots (32 bytes).
    pub keys: Vec<Bytes>,
}

/// The proofs of `witness`'s accounts and slots in `pre`.
pub fn execution_witness(pre: &State, witness: &Witness) -> ExecutionWitness {
    let mut nodes: BTreeSet<Bytes> = BTreeSet::new();
    // The account trie, keyed by keccak(address), with a proof of every held account (of its
    // absence, for one that does not exist).
    let targets: Vec<Nibbles> = witness
        .accounts
        .iter()
        .map(|a| Nibbles::unpack(keccak256(a)))
        .collect();
    let mut leaves: Vec<(Nibbles, Vec<u8>)> = pre
        .iter()
        .map(|(a, acc)| {
            (
                Nibbles::unpack(keccak256(a)),
                alloy_rlp::encode(acc.trie_account()),
            )
        })
        .collect();
    leaves.sort();
    let (state_root, proof) = build(leaves, targets);
    nodes.extend(proof);
    // Each held account's storage trie, with a proof of every held slot.
    for address in &witness.accounts {
        let Some(account) = pre.get(address) else {
            continue;
        };
        let slots: Vec<Nibbles> = witness
            .storage
            .iter()
            .filter(|(a, _)| a == address)
            .map(|(_, slot)| Nibbles::unpack(keccak256(slot.to_be_bytes::<32>())))
            .collect();
        if slots.is_empty() {
            continue;
        }
        let mut leaves: Vec<(Nibbles, Vec<u8>)> = account
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| {
                (
                    Nibbles::unpack(keccak256(k.to_be_bytes::<32>())),
                    alloy_rlp::encode(v),
                )
            })
            .collect();
        leaves.sort();
        nodes.extend(build(leaves, slots).1);
    }
    let codes: BTreeSet<Bytes> = witness
        .accounts
        .iter()
        .filter_map(|a| pre.get(a))
        .filter(|acc| !acc.code.is_empty())
        .map(|acc| acc.code.clone())
        .collect();
    let keys = witness
        .accounts
        .iter()
        .map(|a| Bytes::copy_from_slice(a.as_slice()))
        .chain(
            witness
                .storage
                .iter()
                .map(|(_, s)| Bytes::from(U256::to_be_bytes::<32>(s).to_vec())),
        )
        .collect();
    ExecutionWitness {
        state_root,
        state: nodes.into_iter().collect(),
        codes: codes.into_iter().collect(),
        keys,
    }
}

/// The root of the trie of `leaves` (sorted) and the nodes proving `targets`.
fn build(leaves: Vec<(Nibbles, Vec<u8>)>, targets: Vec<Nibbles>) -> (B256, Vec<Bytes>) {
    let mut hb = HashBuilder::default().with_proof_retainer(ProofRetainer::new(targets));
    for (key, value) in &leaves {
        hb.add_leaf(*key, value);
    }
    let root = hb.root();
    let proof = hb
        .take_proof_nodes()
        .into_nodes_sorted()
        .into_iter()
        .map(|(_, node)| node)
        .collect();
    (root, proof)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Account, state_root};
    use alloy_primitives::Address;
    use alloy_trie::TrieAccount;
    use alloy_trie::proof::verify_proof;

    fn state() -> State {
        let mut pre = State::new();
        for i in 1..40u64 {
            let mut acc = Account {
                balance: U256::from(i * 1000),
                nonce: i,
                ..Account::default()
            };
            if i % 3 == 0 {
                acc.code = Bytes::from(vec![0x60, i as u8, 0x00]);
                for s in 0..20u64 {
                    acc.storage.insert(U256::from(s), U256::from(s * i + 1));
                }
            }
            pre.insert(Address::with_last_byte(i as u8), acc);
        }
        pre
    }

    /// The nodes prove every held account and slot, and an absent account's absence, against
    /// the real pre-state root; the codes are those of the held accounts.
    #[test]
    fn the_nodes_prove_every_held_account_and_slot() {
        let pre = state();
        let held = Address::with_last_byte(6);
        let absent = Address::with_last_byte(200);
        let mut witness = Witness::default();
        witness
            .accounts
            .extend([held, Address::with_last_byte(7), absent]);
        witness
            .storage
            .extend([(held, U256::from(4)), (held, U256::from(99))]);
        let w = execution_witness(&pre, &witness);
        assert_eq!(w.state_root, state_root(&pre));
        assert_eq!(w.codes, vec![pre[&held].code.clone()]);
        assert_eq!(w.keys.len(), 5);
        // Verify with alloy-trie's own proof checker, over the nodes of each path.
        let nodes = |root: B256, key: &Nibbles| path_nodes(&w.state, root, key);
        for a in [held, Address::with_last_byte(7)] {
            let key = Nibbles::unpack(keccak256(a));
            let value: TrieAccount = pre[&a].trie_account();
            verify_proof(
                w.state_root,
                key,
                Some(alloy_rlp::encode(value)),
                nodes(w.state_root, &key).iter(),
            )
            .unwrap_or_else(|e| panic!("{a}: {e:?}"));
        }
        let key = Nibbles::unpack(keccak256(absent));
        verify_proof(w.state_root, key, None, nodes(w.state_root, &key).iter()).expect("absence");
        let storage_root = pre[&held].trie_account().storage_root;
        for (slot, value) in [(4u64, Some(U256::from(4 * 6 + 1))), (99, None)] {
            let key = Nibbles::unpack(keccak256(U256::from(slot).to_be_bytes::<32>()));
            verify_proof(
                storage_root,
                key,
                value.map(alloy_rlp::encode),
                nodes(storage_root, &key).iter(),
            )
            .unwrap_or_else(|e| panic!("slot {slot}: {e:?}"));
        }
    }

    /// The nodes of `all` on the path from `root` to `key`, root first, each found by the
    /// hash its parent refers to (the checker wants them in order).
    fn path_nodes(all: &[Bytes], root: B256, key: &Nibbles) -> Vec<Bytes> {
        use alloy_rlp::Decodable;
        use alloy_trie::nodes::TrieNode;
        let by_hash: std::collections::HashMap<B256, &Bytes> =
            all.iter().map(|n| (keccak256(n), n)).collect();
        let mut path = Vec::new();
        let mut next = Some(root);
        let mut at = 0usize;
        while let Some(node) = next.and_then(|h| by_hash.get(&h)) {
            path.push((*node).clone());
            next = match TrieNode::decode(&mut &node[..]) {
                Ok(TrieNode::Branch(b)) if at < key.len() => {
                    let nibble = key.get_unchecked(at);
                    at += 1;
                    b.as_ref()
                        .children()
                        .find(|(i, _)| *i == nibble)
                        .and_then(|(_, c)| c.and_then(|c| c.as_hash()))
                }
                Ok(TrieNode::Extension(e)) => {
                    at += e.key.len();
                    e.child.as_hash()
                }
                _ => None,
            };
        }
        path
    }
}
