//! The stateless guest of a zk prover, run on a block's `debug_executionWitness`: ethrex's
//! `GuestProgramState` (the state its zkVM guest program builds from the witness, applies the
//! block's changes to, and takes the post-state root of). evmdiff builds its witnesses with
//! alloy's trie; a real guest's trie code reading them back, and reaching the block header's
//! root, is what shows a prover team can feed them to its own guest.

use alloy_primitives::B256;
use ethrex_common::types::block_execution_witness::{
    GuestProgramState, RpcExecutionWitness, decode_witness_headers,
};
use ethrex_common::types::{AccountInfo, AccountUpdate, BlockHeader, ChainConfig, Code};
use ethrex_common::{H256, NativeCrypto};
use ethrex_rlp::encode::RLPEncode;
use evmdiff_core::State;
use evmdiff_core::state::changes;
use evmdiff_core::state_proof::ExecutionWitness;

use crate::levm_backend::env::{address, u256};

/// The post-state root the guest computes for block `number` from `witness` alone, given the
/// block's changes (from `pre` to `post`); why it cannot, if it cannot (a node the witness
/// lacks, a header that does not decode).
///
/// A state test has no headers; the guest is then given a stand-in parent header carrying
/// the witness's pre-state root, which it reads nothing else from.
pub fn post_state_root(
    witness: &ExecutionWitness,
    number: u64,
    pre: &State,
    post: &State,
) -> Result<B256, String> {
    let number = number.max(1);
    let mut headers: Vec<bytes::Bytes> = witness
        .headers
        .iter()
        .map(|h| bytes::Bytes::copy_from_slice(h))
        .collect();
    if headers.is_empty() {
        let parent = BlockHeader {
            number: number - 1,
            state_root: H256(witness.state_root.0),
            ..BlockHeader::default()
        };
        headers.push(parent.encode_to_vec().into());
    }
    let decoded = decode_witness_headers(&headers).map_err(|e| e.to_string())?;
    let rpc = RpcExecutionWitness {
        state: witness
            .state
            .iter()
            .map(|n| bytes::Bytes::copy_from_slice(n))
            .collect(),
        keys: Vec::new(),
        codes: witness
            .codes
            .iter()
            .map(|c| bytes::Bytes::copy_from_slice(c))
            .collect(),
        headers,
    };
    let w = rpc
        .into_execution_witness(ChainConfig::default(), number, &decoded, &NativeCrypto)
        .map_err(|e| e.to_string())?;
    let mut guest = GuestProgramState::from_witness(w, &NativeCrypto).map_err(|e| e.to_string())?;
    guest
        .apply_account_updates(&updates(pre, post), &NativeCrypto)
        .map_err(|e| e.to_string())?;
    let root = guest
        .state_trie_root(&NativeCrypto)
        .map_err(|e| e.to_string())?;
    Ok(B256::from(root.0))
}

/// The changes from `pre` to `post` ([`changes`]), as ethrex's account updates: a removed
/// account, or an account's new nonce, balance and code and each slot whose value changed
/// (zero to clear it).
fn updates(pre: &State, post: &State) -> Vec<AccountUpdate> {
    changes(pre, post)
        .into_iter()
        .map(|c| {
            let Some(after) = c.after else {
                return AccountUpdate::removed(address(c.address));
            };
            let mut u = AccountUpdate::new(address(c.address));
            let code =
                Code::from_bytecode(bytes::Bytes::copy_from_slice(&after.code), &NativeCrypto);
            u.info = Some(AccountInfo {
                code_hash: code.hash,
                balance: u256(after.balance),
                nonce: after.nonce,
            });
            if c.before.is_none_or(|b| b.code != after.code) {
                u.code = Some(code);
            }
            for (slot, value) in c.slots {
                u.added_storage
                    .insert(H256(slot.to_be_bytes::<32>()), u256(value));
            }
            u
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{Address, U256};
    use evmdiff_core::state::{Account, state_root};
    use evmdiff_core::state_proof::{block_execution_witness, execution_witness};
    use evmdiff_core::witness::Witness;
    use evmdiff_core::{Case, Fork};

    /// 48 accounts; every third has code and 24 slots.
    fn pre() -> State {
        let mut pre = State::new();
        for i in 1..=48u64 {
            let mut acc = Account {
                balance: U256::from(i * 1000),
                nonce: i,
                ..Account::default()
            };
            if i % 3 == 0 {
                acc.code = vec![0x60, i as u8, 0x00].into();
                for s in 0..24u64 {
                    acc.storage.insert(U256::from(s), U256::from(s * i + 1));
                }
            }
            pre.insert(Address::with_last_byte(i as u8), acc);
        }
        pre
    }

    /// A block on `pre` whose parent header carries `pre`'s root.
    fn block(pre: &State) -> Case {
        let mut case = Case::chain("guest", Fork::Cancun, pre.clone(), Vec::new());
        case.genesis.as_mut().unwrap().state_root = state_root(pre);
        case
    }

    /// The guest's root from the block witness, and from the proofs of the reads alone.
    fn roots(pre: &State, post: &State, reads: &Witness) -> (Result<B256, String>, bool) {
        let case = block(pre);
        let full = block_execution_witness(&case, reads, post);
        let mut bare = execution_witness(pre, reads);
        bare.headers = full.headers.clone();
        let bare_ok = post_state_root(&bare, 1, pre, post) == Ok(state_root(post));
        (post_state_root(&full, 1, pre, post), bare_ok)
    }

    /// Deleting any one account, or clearing any one slot, the guest reaches the post-state
    /// root from the block witness; from the proofs of the reads alone it cannot for some of
    /// them (the branch left with one child needs its sibling's node).
    #[test]
    fn deletions_need_their_neighbours_and_the_block_witness_has_them() {
        let pre = pre();
        let (mut short, mut cases) = (0, 0);
        for a in pre.keys() {
            let mut post = pre.clone();
            post.remove(a);
            let reads = Witness {
                accounts: [*a].into(),
                ..Witness::default()
            };
            let (full, bare_ok) = roots(&pre, &post, &reads);
            assert_eq!(full, Ok(state_root(&post)), "deleting {a}");
            short += usize::from(!bare_ok);
            cases += 1;
        }
        let holder = Address::with_last_byte(3);
        for s in 0..24u64 {
            let mut post = pre.clone();
            post.get_mut(&holder)
                .unwrap()
                .storage
                .remove(&U256::from(s));
            let reads = Witness {
                accounts: [holder].into(),
                storage: [(holder, U256::from(s))].into(),
                ..Witness::default()
            };
            let (full, bare_ok) = roots(&pre, &post, &reads);
            assert_eq!(full, Ok(state_root(&post)), "clearing slot {s}");
            short += usize::from(!bare_ok);
            cases += 1;
        }
        assert!(short > 0, "no deletion of {cases} needed a neighbour");
        println!("{short} of {cases} deletions need a neighbour's node");
    }

    /// A witness missing a node the guest reaches fails, and so does one whose parent header
    /// carries another root.
    #[test]
    fn a_missing_node_or_a_wrong_parent_fails() {
        let pre = pre();
        let a = Address::with_last_byte(9);
        let mut post = pre.clone();
        post.get_mut(&a).unwrap().balance = U256::from(7);
        post.get_mut(&a)
            .unwrap()
            .storage
            .insert(U256::from(3), U256::from(99));
        let reads = Witness {
            accounts: [a].into(),
            storage: [(a, U256::from(3))].into(),
            ..Witness::default()
        };
        let case = block(&pre);
        let w = block_execution_witness(&case, &reads, &post);
        assert_eq!(post_state_root(&w, 1, &pre, &post), Ok(state_root(&post)));
        for i in 0..w.state.len() {
            let mut short = w.clone();
            short.state.remove(i);
            assert_ne!(
                post_state_root(&short, 1, &pre, &post),
                Ok(state_root(&post)),
                "node {i} of {} dropped",
                w.state.len()
            );
        }
        let mut wrong = block(&pre);
        wrong.genesis.as_mut().unwrap().state_root = B256::repeat_byte(1);
        let w = block_execution_witness(&wrong, &reads, &post);
        assert!(post_state_root(&w, 1, &pre, &post).is_err());
    }
}
