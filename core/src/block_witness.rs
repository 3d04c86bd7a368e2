//! A chain's execution witnesses are per block, as a prover proves blocks: what block `i`
//! read from the state before it (the state after block `i - 1`, which the backend computed
//! itself), and the headers its BLOCKHASH reads and system calls need.
//!
//! Each block's witness is taken of the block on its own ([`Case::block_alone`]): a backend
//! that runs the block alone on the state before it reports what it read from that state,
//! whatever its caches kept from earlier blocks. A state test is its own one block, so the
//! witness view is one code path for both.

use alloy_primitives::B256;
use serde::Serialize;

use crate::backend::{Backend, BackendError};
use crate::case::{At, Case};
use crate::outcome::ChainOutcome;
use crate::profile::Profile;
use crate::state::{State, state_root};
use crate::state_proof::{ExecutionWitness, block_execution_witness};
use crate::witness::{Witness, collect};

/// One block's witness on one backend.
#[derive(Debug, Clone)]
pub struct BlockWitness {
    /// The block's index in the case.
    pub index: usize,
    /// The block alone on the state before it: what a stateless executor re-executes.
    pub block: Case,
    /// The block's execution with the whole state before it.
    pub outcome: ChainOutcome,
    /// What that execution read.
    pub witness: Witness,
}

impl BlockWitness {
    /// Where a divergence of this block's witness is: the block of a chain, nothing for a
    /// state test.
    pub fn at(&self, case: &Case) -> Option<At> {
        case.is_chain().then_some(At {
            block: self.index,
            tx: None,
        })
    }

    /// The state after the block.
    pub fn post(&self) -> Option<&State> {
        self.outcome.post()
    }

    /// The state root after the block: what a stateless guest must compute from the
    /// [`execution_witness`](Self::execution_witness) and the block's changes.
    pub fn post_root(&self) -> Option<B256> {
        self.post().map(state_root)
    }

    /// The witness in the `debug_executionWitness` shape: the trie nodes proving what the
    /// block read and changed, codes, keys, headers.
    pub fn execution_witness(&self) -> Option<ExecutionWitness> {
        Some(block_execution_witness(
            &self.block,
            &self.witness,
            self.post()?,
        ))
    }
}

/// Each block of `case` that `chain` (the backend's own execution of it) completed, alone on
/// the state before it.
pub fn blocks_alone(case: &Case, chain: &ChainOutcome) -> Vec<(usize, Case)> {
    if !case.is_chain() {
        return vec![(0, case.block_alone(0, case.pre.clone()))];
    }
    let mut pre = &case.pre;
    let mut out = Vec::new();
    for (index, block) in chain.blocks.iter().enumerate() {
        let Some(end) = &block.end else { break };
        out.push((index, case.block_alone(index, pre.clone())));
        pre = &end.post;
    }
    out
}

/// The witness of every block of `case` that `backend` completes: `chain` is its execution of
/// the whole case when the caller has it (executed here otherwise).
pub fn collect_blocks(
    backend: &mut dyn Backend,
    case: &Case,
    profile: &Profile,
    chain: Option<&ChainOutcome>,
) -> Result<Vec<BlockWitness>, BackendError> {
    let owned;
    let chain = match chain {
        Some(c) => c,
        None => {
            owned = backend.execute(case, profile)?;
            &owned
        }
    };
    blocks_alone(case, chain)
        .into_iter()
        .map(|(index, block)| {
            let (outcome, witness) = collect(backend, &block, profile)?;
            Ok(BlockWitness {
                index,
                block,
                outcome,
                witness,
            })
        })
        .collect()
}

/// One block's witness as a `.witness.json` trace file lists it: what the backend read, and
/// the `debug_executionWitness` a prover team feeds its guest.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockWitnessEntry {
    /// The block, counted from 1 (1 for a state test).
    pub block: usize,
    /// Its number.
    pub number: u64,
    /// The state root after it, which the guest must reach from the witness alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub post_state_root: Option<B256>,
    /// What it read.
    pub reads: Witness,
    /// The `debug_executionWitness` of the block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_witness: Option<ExecutionWitness>,
}

impl From<&BlockWitness> for BlockWitnessEntry {
    fn from(bw: &BlockWitness) -> BlockWitnessEntry {
        BlockWitnessEntry {
            block: bw.index + 1,
            number: bw.block.env().map_or(0, |e| e.number.saturating_to()),
            post_state_root: bw.post_root(),
            reads: bw.witness.clone(),
            execution_witness: bw.execution_witness(),
        }
    }
}
