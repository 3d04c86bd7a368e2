//! A [`Witness`] as a stateless executor receives it: the trie nodes that prove every account
//! and slot it holds against the pre-state root, the codes and the key preimages, in the shape
//! of `debug_executionWitness` (geth, reth) that zk provers take as input.
//!
//! The worker protocol's witness request form (docs/protocol.md) sends this instead of the full
//! pre-state: a prover EVM executes from the witness alone, and a read the sequencer's witness
//! does not cover changes its outcome, which is where sequencer and prover part.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_trie::proof::ProofRetainer;
use alloy_trie::{HashBuilder, Nibbles};
use serde::Serialize;

use crate::case::Case;
use crate::state::{State, changes};
use crate::witness::Witness;

/// The proofs of a witness.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionWitness {
    /// The pre-state root the nodes prove against.
    pub state_root: B256,
    /// RLP of every trie node on the path to a held account (account trie) or slot (its
    /// account's storage trie), deduplicated, sorted.
    pub state: Vec<Bytes>,
    /// The code of every held account that has code, sorted.
    pub codes: Vec<Bytes>,
    /// Preimages of the trie keys: the held addresses (20 bytes) and slots (32 bytes).
    pub keys: Vec<Bytes>,
    /// RLP of the headers a block's execution needs, ascending by number: its parent (whose
    /// state root the nodes prove against) and every header back to the oldest one BLOCKHASH
    /// read, so that each is proven by the `parentHash` of the next. Empty for a state test,
    /// which has no headers.
    pub headers: Vec<Bytes>,
}

/// The proofs of `witness`'s accounts and slots in `pre`: what the worker protocol's witness
/// request sends a prover EVM in place of the pre-state (it computes the post-state, not its
/// root, so the reads are all it needs).
pub fn execution_witness(pre: &State, witness: &Witness) -> ExecutionWitness {
    proofs(pre, witness, &Targets::reads(pre, witness))
}

/// The `debug_executionWitness` of one block (`block`, a [`Case::block_alone`]) whose execution
/// read `witness` and left `post`: the proofs of what it read and of what it changed, with,
/// for every account or slot it deleted, the proofs of its nearest surviving neighbours in
/// key order. A deletion that leaves a branch node with one child makes the trie merge that
/// child into its parent, which needs the child's node; the child lies on the path to one of
/// the two neighbours, in whatever order a guest applies the changes (geth applies updates
/// before deletions, ethrex applies them in address order). Nodes beyond those a given order
/// needs are harmless: a guest only looks up the ones it reaches.
pub fn block_execution_witness(block: &Case, witness: &Witness, post: &State) -> ExecutionWitness {
    let targets = Targets::block(&block.pre, witness, post);
    let mut w = proofs(&block.pre, witness, &targets);
    w.headers = witness
        .ancestors_read(block)
        .chain(&block.genesis)
        .map(|h| Bytes::from(alloy_rlp::encode(h)))
        .collect();
    w
}

/// The keys a witness proves, each trie's hashed keys (nibbles).
struct Targets {
    /// Account trie keys.
    accounts: BTreeSet<Nibbles>,
    /// Storage trie keys, by account (accounts of the pre-state only: a new account's storage
    /// trie starts empty and needs no proof).
    storage: BTreeMap<Address, BTreeSet<Nibbles>>,
    /// The addresses and slots whose preimages are sent.
    preimages: Vec<Bytes>,
}

fn account_key(a: &Address) -> Nibbles {
    Nibbles::unpack(keccak256(a))
}

fn slot_key(s: &U256) -> Nibbles {
    Nibbles::unpack(keccak256(s.to_be_bytes::<32>()))
}

impl Targets {
    /// What `witness` read.
    fn reads(pre: &State, witness: &Witness) -> Targets {
        let mut t = Targets {
            accounts: witness.accounts.iter().map(account_key).collect(),
            storage: BTreeMap::new(),
            preimages: Vec::new(),
        };
        for (a, s) in &witness.storage {
            if pre.contains_key(a) {
                t.storage.entry(*a).or_default().insert(slot_key(s));
            }
        }
        t.preimages = witness
            .accounts
            .iter()
            .map(|a| Bytes::copy_from_slice(a.as_slice()))
            .chain(
                witness
                    .storage
                    .iter()
                    .map(|(_, s)| Bytes::from(s.to_be_bytes::<32>().to_vec())),
            )
            .collect();
        t
    }

    /// What `witness` read, what changed from `pre` to `post`, and the neighbours of what was
    /// deleted.
    fn block(pre: &State, witness: &Witness, post: &State) -> Targets {
        let mut t = Targets::reads(pre, witness);
        let mut preimages: BTreeSet<Bytes> = t.preimages.drain(..).collect();
        let mut deleted = BTreeSet::new();
        for c in changes(pre, post) {
            let a = &c.address;
            t.accounts.insert(account_key(a));
            preimages.insert(Bytes::copy_from_slice(a.as_slice()));
            let (Some(before), Some(_)) = (c.before, c.after) else {
                if c.before.is_some() {
                    deleted.insert(account_key(a));
                }
                continue;
            };
            // Slots whose value changed, and the neighbours of those that were cleared.
            let mut cleared = BTreeSet::new();
            for (s, value) in &c.slots {
                t.storage.entry(*a).or_default().insert(slot_key(s));
                preimages.insert(Bytes::from(s.to_be_bytes::<32>().to_vec()));
                if value.is_zero() {
                    cleared.insert(slot_key(s));
                }
            }
            let surviving = before
                .storage
                .iter()
                .filter(|(_, v)| !v.is_zero())
                .map(|(s, _)| slot_key(s))
                .filter(|k| !cleared.contains(k));
            let neighbours = neighbours(&cleared, surviving);
            t.storage.entry(*a).or_default().extend(neighbours);
        }
        let surviving = pre.keys().map(account_key).filter(|k| !deleted.contains(k));
        t.accounts.extend(neighbours(&deleted, surviving));
        t.storage.retain(|_, keys| !keys.is_empty());
        t.preimages = preimages.into_iter().collect();
        t
    }
}

/// The nearest key of `surviving` before and after each key of `deleted`.
fn neighbours(
    deleted: &BTreeSet<Nibbles>,
    surviving: impl Iterator<Item = Nibbles>,
) -> Vec<Nibbles> {
    if deleted.is_empty() {
        return Vec::new();
    }
    let surviving: BTreeSet<Nibbles> = surviving.collect();
    deleted
        .iter()
        .flat_map(|k| {
            [
                surviving.range(..*k).next_back(),
                surviving.range(*k..).next(),
            ]
        })
        .flatten()
        .copied()
        .collect()
}

/// The proofs of `targets` in `pre`, and the codes of `witness`'s accounts.
fn proofs(pre: &State, witness: &Witness, targets: &Targets) -> ExecutionWitness {
    let mut nodes: BTreeSet<Bytes> = BTreeSet::new();
    // The account trie, keyed by keccak(address), with a proof of every target (of its
    // absence, for an account that does not exist).
    let mut leaves: Vec<(Nibbles, Vec<u8>)> = pre
        .iter()
        .map(|(a, acc)| (account_key(a), alloy_rlp::encode(acc.trie_account())))
        .collect();
    leaves.sort();
    let (state_root, proof) = build(leaves, targets.accounts.iter().copied().collect());
    nodes.extend(proof);
    // Each target account's storage trie, with a proof of every target slot.
    for (address, slots) in &targets.storage {
        let Some(account) = pre.get(address) else {
            continue;
        };
        let mut leaves: Vec<(Nibbles, Vec<u8>)> = account
            .storage
            .iter()
            .filter(|(_, v)| !v.is_zero())
            .map(|(k, v)| (slot_key(k), alloy_rlp::encode(v)))
            .collect();
        leaves.sort();
        nodes.extend(build(leaves, slots.iter().copied().collect()).1);
    }
    let codes: BTreeSet<Bytes> = witness
        .accounts
        .iter()
        .filter_map(|a| pre.get(a))
        .filter(|acc| !acc.code.is_empty())
        .map(|acc| acc.code.clone())
        .collect();
    ExecutionWitness {
        state_root,
        state: nodes.into_iter().collect(),
        codes: codes.into_iter().collect(),
        keys: targets.preimages.clone(),
        headers: Vec::new(),
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
