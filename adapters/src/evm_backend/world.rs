//! The world evm reads from: the case's pre-state and block, seen through evm's backend traits,
//! and the way evm's change set is applied back onto an evmdiff [`State`].
//!
//! evm's own `InMemoryBackend` clones a whole account (storage included) on every balance or
//! nonce read and keeps transient storage in the account, so the adapter reads the case's
//! [`State`] directly instead and applies the change set itself.

use std::cell::RefCell;
use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, U256, keccak256};
use evm::backend::{OverlayedChangeSet, RuntimeBaseBackend, RuntimeEnvironment};
use evm::uint::{H160, H256, U256 as EU256, U256Ext};
use evmdiff_core::case::BlockEnv;
use evmdiff_core::observe::StateRead;
use evmdiff_core::{Account, Fork, State};

use super::convert::{address, eu256, h160, h256, h256_of, u256, u256_of};

/// Number of past blocks BLOCKHASH can see.
const BLOCK_HASH_HISTORY: u64 = 256;

/// Blob gas per blob (EIP-4844).
pub(super) const GAS_PER_BLOB: u64 = 131_072;

/// The block as evm sees it, with the fork's rules for which fields exist already applied.
#[derive(Debug, Clone)]
pub(super) struct Block {
    coinbase: H160,
    number: EU256,
    timestamp: EU256,
    difficulty: EU256,
    /// PREVRANDAO from Paris on; `None` before, so that opcode 0x44 reads the difficulty.
    randomness: Option<H256>,
    gas_limit: EU256,
    base_fee: EU256,
    blob_base_fee: EU256,
    blob_hashes: Vec<H256>,
    chain_id: EU256,
}

impl Block {
    /// The block of `env` under `fork`, for a transaction carrying `blob_hashes`.
    pub(super) fn new(env: &BlockEnv, fork: Fork, blob_hashes: &[B256]) -> Block {
        Block {
            coinbase: h160(env.coinbase),
            number: eu256(env.number),
            timestamp: eu256(env.timestamp),
            difficulty: eu256(env.difficulty),
            // State tests leave PREVRANDAO zero when a Paris+ test omits it (as revm does).
            randomness: fork
                .includes(Fork::Paris)
                .then(|| h256(env.random.unwrap_or_default())),
            gas_limit: eu256(env.gas_limit),
            base_fee: if fork.includes(Fork::London) {
                eu256(env.base_fee.unwrap_or_default())
            } else {
                EU256::ZERO
            },
            blob_base_fee: eu256(blob_base_fee(env, fork)),
            blob_hashes: blob_hashes.iter().map(|h| h256(*h)).collect(),
            chain_id: EU256::from_u64(env.chain_id),
        }
    }
}

impl Block {
    /// The block as a system call sees it: a base fee of zero, so that a call at gas price
    /// zero is valid and pays nothing (EIP-4788).
    pub(super) fn without_base_fee(mut self) -> Block {
        self.base_fee = EU256::ZERO;
        self
    }
}

/// The blob base fee of the block (EIP-4844 `get_base_fee_per_blob_gas`), zero before Cancun.
pub(super) fn blob_base_fee(env: &BlockEnv, fork: Fork) -> U256 {
    if !fork.includes(Fork::Cancun) {
        return U256::ZERO;
    }
    // Cancun's update fraction; Prague changed it, but evm has no Prague blob rules at all and
    // Prague cases are refused before this point.
    fake_exponential(
        U256::from(1u64),
        U256::from(env.excess_blob_gas.unwrap_or(0)),
        U256::from(3_338_477u64),
    )
}

/// EIP-4844 `fake_exponential`: factor * e ** (numerator / denominator), in integers.
fn fake_exponential(factor: U256, numerator: U256, denominator: U256) -> U256 {
    let mut i = U256::from(1u64);
    let mut output = U256::ZERO;
    let mut accum = factor * denominator;
    while !accum.is_zero() {
        output += accum;
        accum = accum * numerator / (denominator * i);
        i += U256::from(1u64);
    }
    output / denominator
}

/// The pre-state and block, read-only, as evm's base backend. An `OverlayedBackend` on top
/// records every change.
pub(super) struct World<'a> {
    pub(super) block: &'a Block,
    pub(super) accounts: &'a State,
    /// A chain's header hashes by number, for BLOCKHASH; `None` in a state test.
    pub(super) hashes: Option<&'a BTreeMap<u64, B256>>,
    /// Every account and slot read, when the execution is observed (`None` otherwise, so the
    /// plain path records nothing). evm asks its base backend only for what its overlay has
    /// not cached, so this is what evm loaded from the pre-state: its witness.
    pub(super) reads: Option<RefCell<Vec<StateRead>>>,
}

impl World<'_> {
    fn account(&self, a: H160) -> Option<&Account> {
        let a = address(a);
        if let Some(reads) = &self.reads {
            reads.borrow_mut().push(StateRead::Account(a));
        }
        self.accounts.get(&a)
    }
}

impl RuntimeEnvironment for World<'_> {
    /// For the 256 blocks before the current one: in a chain, the hash of the case's header of
    /// that number; in a state test, the fillers' convention (geth's and revm's test runners),
    /// keccak256 of `n` in decimal. Zero otherwise.
    fn block_hash(&self, number: EU256) -> H256 {
        let current = self.block.number;
        if number >= current || current - number > EU256::from_u64(BLOCK_HASH_HISTORY) {
            return H256::zero();
        }
        match self.hashes {
            Some(hashes) => u64::try_from(u256(number))
                .ok()
                .and_then(|n| hashes.get(&n))
                .map_or_else(H256::zero, |h| h256(*h)),
            None => H256(keccak256(u256(number).to_string().as_bytes()).0),
        }
    }

    fn block_number(&self) -> EU256 {
        self.block.number
    }

    fn block_coinbase(&self) -> H160 {
        self.block.coinbase
    }

    fn block_timestamp(&self) -> EU256 {
        self.block.timestamp
    }

    fn block_difficulty(&self) -> EU256 {
        self.block.difficulty
    }

    fn block_randomness(&self) -> Option<H256> {
        self.block.randomness
    }

    fn block_gas_limit(&self) -> EU256 {
        self.block.gas_limit
    }

    fn block_base_fee_per_gas(&self) -> EU256 {
        self.block.base_fee
    }

    fn blob_versioned_hash(&self, index: EU256) -> H256 {
        if index < EU256::from_usize(self.block.blob_hashes.len()) {
            self.block.blob_hashes[index.low_usize()]
        } else {
            H256::zero()
        }
    }

    fn blob_base_fee_per_gas(&self) -> EU256 {
        self.block.blob_base_fee
    }

    fn chain_id(&self) -> EU256 {
        self.block.chain_id
    }
}

impl RuntimeBaseBackend for World<'_> {
    fn balance(&self, a: H160) -> EU256 {
        self.account(a)
            .map_or(EU256::ZERO, |acc| eu256(acc.balance))
    }

    fn code_size(&self, a: H160) -> EU256 {
        EU256::from_usize(self.account(a).map_or(0, |acc| acc.code.len()))
    }

    fn code(&self, a: H160) -> Vec<u8> {
        self.account(a)
            .map(|acc| acc.code.to_vec())
            .unwrap_or_default()
    }

    fn storage(&self, a: H160, index: H256) -> H256 {
        if let Some(reads) = &self.reads {
            reads
                .borrow_mut()
                .push(StateRead::Storage(address(a), u256_of(index)));
        }
        self.account(a)
            .and_then(|acc| acc.storage.get(&u256_of(index)))
            .map_or(H256::zero(), |v| h256_of(*v))
    }

    /// Transient storage starts empty in every transaction (EIP-1153).
    fn transient_storage(&self, _a: H160, _index: H256) -> H256 {
        H256::zero()
    }

    /// Pre-EIP-161 existence: being in the state at all. The overlay applies EIP-161's
    /// "exists = non-empty" itself on forks that have it.
    fn exists(&self, a: H160) -> bool {
        self.account(a).is_some()
    }

    /// EIP-7610 (retroactive to every fork): an address with code, nonce or storage cannot be
    /// created at.
    fn can_create(&self, a: H160) -> bool {
        self.account(a)
            .is_none_or(|acc| acc.nonce == 0 && acc.code.is_empty() && acc.storage.is_empty())
    }

    fn nonce(&self, a: H160) -> EU256 {
        EU256::from_u64(self.account(a).map_or(0, |acc| acc.nonce))
    }
}

/// Applies evm's change set to `state`, giving the post-state.
///
/// Transient storage in the change set is ignored (it never outlives the transaction); zero
/// slots are dropped; the overlay has already turned EIP-161's "touched and empty" into
/// deletions on forks that have it, and lists the accounts a pre-EIP-161 fork keeps (touched
/// ones, the coinbase) in `touched`. Deletions (self-destructs, EIP-161) come last.
pub(super) fn apply(changes: &OverlayedChangeSet, state: &mut State) {
    for (a, balance) in &changes.balances {
        state.entry(address(*a)).or_default().balance = u256(*balance);
    }
    for (a, code) in &changes.codes {
        state.entry(address(*a)).or_default().code = code.clone().into();
    }
    for (a, nonce) in &changes.nonces {
        // evm refuses to increment a nonce past u64::MAX - 1 (EIP-2681), so this never saturates.
        state.entry(address(*a)).or_default().nonce =
            u64::try_from(u256(*nonce)).unwrap_or(u64::MAX);
    }
    for a in &changes.storage_resets {
        state.entry(address(*a)).or_default().storage.clear();
    }
    for ((a, key), value) in &changes.storages {
        let storage = &mut state.entry(address(*a)).or_default().storage;
        let (key, value) = (u256_of(*key), u256_of(*value));
        if value.is_zero() {
            storage.remove(&key);
        } else {
            storage.insert(key, value);
        }
    }
    for a in &changes.touched {
        state.entry(address(*a)).or_default();
    }
    for a in &changes.deletes {
        state.remove(&address(*a));
    }
}

/// The caller's balance minus `amount` (the blob fee, which evm does not charge), in place.
pub(super) fn debit(state: &mut State, who: Address, amount: U256) {
    if let Some(acc) = state.get_mut(&who) {
        acc.balance = acc.balance.saturating_sub(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_base_fee_follows_eip4844() {
        // The minimum blob base fee is 1 wei; EIP-4844's own example points.
        assert_eq!(
            fake_exponential(U256::from(1u64), U256::ZERO, U256::from(3_338_477u64)),
            U256::from(1u64)
        );
        assert_eq!(
            fake_exponential(
                U256::from(1u64),
                U256::from(10_000_000u64),
                U256::from(3_338_477u64)
            ),
            U256::from(19u64)
        );
    }
}
