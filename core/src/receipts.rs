//! A block's receipts, from a backend's outcomes: what its header commits to (receipts root,
//! logs bloom, gas used), computed once here with alloy's consensus types for every backend.

use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom};
use alloy_primitives::{B256, Bloom};

use crate::case::Block;
use crate::fork::Fork;
use crate::outcome::{BlockOutcome, Status};

/// The receipts of the transactions a backend included in `block` (a refused one has none),
/// in order: status (from Byzantium; the state root after the transaction before it),
/// cumulative gas and logs.
pub fn receipts(block: &Block, outcome: &BlockOutcome, fork: Fork) -> Vec<ReceiptEnvelope> {
    let mut cumulative = 0u64;
    block
        .txs
        .iter()
        .zip(&outcome.txs)
        .filter(|(_, o)| o.status != Status::Rejected)
        .map(|(tx, o)| {
            cumulative += o.gas_used;
            let status = if fork >= Fork::Byzantium {
                Eip658Value::Eip658(o.status == Status::Success)
            } else {
                Eip658Value::PostState(o.state_root())
            };
            let receipt = ReceiptWithBloom::from(Receipt {
                status,
                cumulative_gas_used: cumulative,
                logs: o.logs.clone(),
            });
            match tx.effective_type() {
                1 => ReceiptEnvelope::Eip2930(receipt),
                2 => ReceiptEnvelope::Eip1559(receipt),
                3 => ReceiptEnvelope::Eip4844(receipt),
                4 => ReceiptEnvelope::Eip7702(receipt),
                _ => ReceiptEnvelope::Legacy(receipt),
            }
        })
        .collect()
}

/// The receipts root of `receipts`.
pub fn receipts_root(receipts: &[ReceiptEnvelope]) -> B256 {
    alloy_consensus::proofs::calculate_receipt_root(receipts)
}

/// The logs bloom of a block: every receipt's bloom, or-ed.
pub fn logs_bloom(receipts: &[ReceiptEnvelope]) -> Bloom {
    receipts
        .iter()
        .fold(Bloom::ZERO, |acc, r| acc | *r.logs_bloom())
}
