//! Sealing a chain: completing its headers so that it is a valid blockchain and BLOCKHASH
//! reads real header hashes.
//!
//! What a header takes from its parent (parent hash, base fee, excess blob gas) is set before
//! its block executes ([`prepare`]); what it commits to (state root, receipts root, bloom, gas
//! used, blob gas used, the roots of its transactions and withdrawals) is filled from a
//! reference execution of the block ([`fill`]). Block `i`'s hash depends on its state root,
//! and block `i + 1` may read it, so a chain is sealed block by block: by a reference that
//! runs the chain once and is told each block's hash as the block is sealed
//! ([`process_sealing`], revm's), or by running any reference on each prefix (the oracle's
//! `seal_with`). The rules are the field's: base fee by
//! `alloy_eips::calc_next_block_base_fee`, excess blob gas by the fork's `BlobParams`, roots
//! by `alloy_consensus::proofs`.

use alloy_consensus::constants::EMPTY_OMMER_ROOT_HASH;
use alloy_consensus::proofs::{calculate_transaction_root, calculate_withdrawals_root};
use alloy_eips::eip1559::{BaseFeeParams, calc_next_block_base_fee};
use alloy_eips::eip7840::BlobParams;
use alloy_primitives::{B256, U256};
use alloy_trie::EMPTY_ROOT_HASH;

use crate::backend::BackendError;
use crate::block_processing::{BlockExecutor, GAS_PER_BLOB, process_block};
use crate::case::Case;
use crate::fork::Fork;
use crate::outcome::{BlockOutcome, ChainOutcome, Status};
use crate::receipts::{logs_bloom, receipts, receipts_root};
use crate::signing::{SigningError, sign};
use crate::state::state_root;

/// The blob parameters of `fork`.
fn blob_params(fork: Fork) -> BlobParams {
    if fork >= Fork::Osaka {
        BlobParams::osaka()
    } else if fork >= Fork::Prague {
        BlobParams::prague()
    } else {
        BlobParams::cancun()
    }
}

/// Makes the genesis header commit to the pre-state: its state root, and the empty roots of a
/// block without transactions.
pub fn seal_genesis(case: &mut Case) {
    let root = state_root(&case.pre);
    if let Some(g) = &mut case.genesis {
        g.state_root = root;
        g.ommers_hash = EMPTY_OMMER_ROOT_HASH;
        g.transactions_root = EMPTY_ROOT_HASH;
        g.receipts_root = EMPTY_ROOT_HASH;
        g.gas_used = 0;
        if g.blob_gas_used.is_some() {
            g.blob_gas_used = Some(0);
        }
    }
}

/// Sets what block `index`'s header and environment take from the parent header: the parent
/// hash, the base fee and the excess blob gas.
pub fn prepare(case: &mut Case, index: usize) {
    let fork = case.fork;
    let Some(parent) = (match index {
        0 => case.genesis.clone(),
        i => case.blocks.get(i - 1).and_then(|b| b.header.clone()),
    }) else {
        return;
    };
    let block = &mut case.blocks[index];
    let Some(header) = &mut block.header else {
        return;
    };
    header.parent_hash = parent.hash_slow();
    header.ommers_hash = EMPTY_OMMER_ROOT_HASH;
    if let Some(parent_fee) = parent.base_fee_per_gas {
        let fee = calc_next_block_base_fee(
            parent.gas_used,
            parent.gas_limit,
            parent_fee,
            BaseFeeParams::ethereum(),
        );
        header.base_fee_per_gas = Some(fee);
        block.env.base_fee = Some(U256::from(fee));
    }
    if fork >= Fork::Cancun {
        let excess = blob_params(fork).next_block_excess_blob_gas_osaka(
            parent.excess_blob_gas.unwrap_or(0),
            parent.blob_gas_used.unwrap_or(0),
            parent.base_fee_per_gas.unwrap_or(0),
        );
        header.excess_blob_gas = Some(excess);
        block.env.excess_blob_gas = Some(excess);
    }
}

/// Fills block `index`'s header with what the reference's execution of it (`outcome`)
/// committed to. The transactions the reference dropped are not part of the block.
pub fn fill(case: &mut Case, index: usize, outcome: &BlockOutcome) -> Result<(), SigningError> {
    let fork = case.fork;
    let chain_id = case.blocks[index].env.chain_id;
    let block = &case.blocks[index];
    let included: Vec<_> = block
        .txs
        .iter()
        .zip(&outcome.txs)
        .filter(|(_, o)| o.status != Status::Rejected)
        .map(|(t, _)| sign(t, chain_id, fork))
        .collect::<Result<_, _>>()?;
    let blobs: u64 = block
        .txs
        .iter()
        .zip(&outcome.txs)
        .filter(|(_, o)| o.status != Status::Rejected)
        .map(|(t, _)| t.blob_versioned_hashes.as_ref().map_or(0, Vec::len) as u64)
        .sum();
    let receipts = receipts(block, outcome, fork);
    let withdrawals_root = block
        .withdrawals
        .as_ref()
        .map(|w| calculate_withdrawals_root(w));
    let Some(header) = &mut case.blocks[index].header else {
        return Ok(());
    };
    header.transactions_root = calculate_transaction_root(&included);
    header.receipts_root = receipts_root(&receipts);
    header.logs_bloom = logs_bloom(&receipts);
    if let Some(end) = &outcome.end {
        header.state_root = end.state_root();
        header.gas_used = end.gas_used;
    }
    if fork >= Fork::Shanghai {
        header.withdrawals_root = Some(withdrawals_root.unwrap_or(EMPTY_ROOT_HASH));
    }
    if fork >= Fork::Cancun {
        header.blob_gas_used = Some(blobs * GAS_PER_BLOB);
    }
    Ok(())
}

/// A state test as a chain of one block on a genesis (`None` for a case that is already a
/// chain): what exporting a state-test finding as a BlockchainTest starts from, sealed then
/// like any chain. The block keeps the state test's environment where the header rules allow:
/// its number (at least 1, a genesis comes before it), its timestamp (at least 12 after a
/// genesis at 0 or later), and its base fee, the genesis's being chosen so that the rule gives
/// it back (where no genesis base fee does, the rule's value is taken). BLOCKHASH then reads
/// the genesis's real hash where the state test read the fillers' convention.
pub fn as_chain(case: &Case) -> Option<Case> {
    let (env, tx) = case.single()?;
    let mut env = env.clone();
    env.number = env.number.max(U256::from(1));
    env.timestamp = env.timestamp.max(U256::from(12));
    let mut chain = Case::chain(
        &case.name,
        case.fork,
        case.pre.clone(),
        vec![(env, vec![tx.clone()])],
    );
    chain.meta.clone_from(&case.meta);
    let genesis = chain.genesis.as_mut()?;
    if let (Some(fee), true) = (genesis.base_fee_per_gas, case.fork >= Fork::London) {
        let limit = genesis.gas_limit;
        let back = |g: u64| calc_next_block_base_fee(0, limit, g, BaseFeeParams::ethereum());
        // With an empty parent the fee falls by an eighth: the parent's is about 8/7 of it.
        let guess = u64::try_from(u128::from(fee) * 8 / 7).unwrap_or(u64::MAX);
        if let Some(g) =
            (guess.saturating_sub(2)..=guess.saturating_add(2)).find(|g| back(*g) == fee)
        {
            genesis.base_fee_per_gas = Some(g);
        }
    }
    Some(chain)
}

/// A block executor that can seal the chain it runs: told each block's hash once the block is
/// sealed, it answers BLOCKHASH with it from then on.
pub trait SealingExecutor: BlockExecutor {
    /// Block `number`'s hash is now `hash`.
    fn sealed(&mut self, number: u64, hash: B256);
}

/// Why a chain could not be sealed.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The reference failed to execute a block.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// An included transaction could not be signed into the block.
    #[error(transparent)]
    Signing(#[from] SigningError),
}

/// Executes `case`'s blocks on `exec` and seals each as it finishes: block `i` is
/// [`prepare`]d, executed, [`fill`]ed, and its hash given to `exec` before block `i + 1`
/// runs, so one execution of the chain does what the prefixes `0..=i` did one by one. The
/// genesis must be sealed already ([`seal_genesis`]) and `exec` built on it. A block the
/// reference refuses ends the chain (nothing after it could be sealed). Returns the outcome
/// of the sealed chain.
pub fn process_sealing(
    case: &mut Case,
    fork: Fork,
    exec: &mut dyn SealingExecutor,
) -> Result<ChainOutcome, SealError> {
    let mut blocks = Vec::with_capacity(case.blocks.len());
    for index in 0..case.blocks.len() {
        prepare(case, index);
        let block = process_block(case, index, fork, exec)?;
        fill(case, index, &block)?;
        if let Some(header) = &case.blocks[index].header {
            exec.sealed(header.number, header.hash_slow());
        }
        let refused = block.invalid.is_some();
        blocks.push(block);
        if refused {
            case.blocks.truncate(index + 1);
            break;
        }
    }
    Ok(ChainOutcome { blocks })
}
