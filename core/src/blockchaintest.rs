//! The ethereum/tests BlockchainTest JSON format, read into chain [`Case`]s.
//!
//! Blocks are taken from their `rlp` (decoded with alloy's consensus types, senders recovered
//! from the signatures), not from the JSON beside it: that is what a client imports, and the
//! only form invalid blocks have. Each test becomes one case of its valid blocks, which must
//! reproduce every header ([`BlockExpect::Valid`]), and one case per invalid block whose
//! rejection is the execution's business — the valid blocks before it, then it
//! ([`BlockExpect::Invalid`]) — since a client refuses an invalid block and goes on from its
//! parent. Invalid blocks whose rejection is a header or encoding rule (uncles after the
//! Merge, timestamps, gas-limit bounds, extra data, RLP shape, roots of the body) are out of
//! scope, each listed in [`TestFile::skipped`] with the rule.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_eips::Typed2718;
use alloy_primitives::B256;
use alloy_rlp::Decodable;
use serde_json::Value;

use crate::case::{AccessListItem, Authorization, Block, BlockEnv, BlockExpect, Case, Transaction};
use crate::fork::Fork;
use crate::statetest::{CaseError, Reader, SkipKind, Skipped, TestFile};

pub mod write;

pub use write::{ExportError, write_chain};

/// The chain id of every BlockchainTest.
const CHAIN_ID: u64 = 1;

/// The exceptions whose block a client refuses on its header or encoding alone, before any
/// execution: out of scope for an EVM.
const HEADER_ONLY: &[&str] = &[
    "BlockException.IMPORT_IMPOSSIBLE_UNCLES_OVER_PARIS",
    "BlockException.IMPORT_IMPOSSIBLE_DIFFICULTY_OVER_PARIS",
    "BlockException.INVALID_GASLIMIT",
    "BlockException.GASLIMIT_TOO_BIG",
    "BlockException.INVALID_BLOCK_TIMESTAMP_OLDER_THAN_PARENT",
    "BlockException.INVALID_BLOCK_NUMBER",
    "BlockException.INVALID_BASEFEE_PER_GAS",
    "BlockException.EXTRA_DATA_TOO_BIG",
    "BlockException.UNKNOWN_PARENT",
    "BlockException.UNKNOWN_PARENT_ZERO",
    "BlockException.INVALID_TRANSACTIONS_ROOT",
    "BlockException.INVALID_WITHDRAWALS_ROOT",
    "BlockException.RLP_",
    "BlockException.INVALID_UNCLES_HASH",
    "BlockException.INCORRECT_EXCESS_BLOB_GAS",
];

/// The header-only rule an `expectException` names, if every name it lists is one.
pub fn header_only(exception: &str) -> Option<&str> {
    let mut names = exception.split('|');
    let first = names.next()?;
    let rule = |n: &str| HEADER_ONLY.iter().any(|h| n.starts_with(h));
    (rule(first) && names.all(rule)).then_some(first)
}

/// Reads the BlockchainTest `name` into `out`.
pub(crate) fn test(
    r: &Reader<'_>,
    name: &str,
    test: &Value,
    out: &mut TestFile,
) -> Result<(), CaseError> {
    let t = r.obj(test)?;
    let network = r.at("network");
    let label: String = network.parse_str(r.field(t, "network")?, "a fork name")?;
    let (fork, profile) = crate::network::parse(&label).map_err(|e| network.err(e))?;
    let pre = r.at("pre").state(r.field(t, "pre")?)?;
    let genesis = decode_block(&r.at("genesisRLP"), r.field(t, "genesisRLP")?)?
        .map_err(|e| r.at("genesisRLP").err(e))?
        .header;
    let blocks_r = r.at("blocks");
    let Some(list) = r.field(t, "blocks")?.as_array() else {
        return Err(blocks_r.err("expected an array"));
    };
    let mut valid: Vec<Block> = Vec::new();
    let mut invalid: Vec<(usize, Block)> = Vec::new();
    for (i, b) in list.iter().enumerate() {
        let br = blocks_r.at(&i.to_string());
        let m = br.obj(b)?;
        let exception = Reader::opt(m, "expectException")
            .and_then(Value::as_str)
            .map(str::to_string);
        let skip = |reason: String| Skipped {
            name: format!("{name}/block {}", i + 1),
            reason,
            kind: SkipKind::OutOfScope,
        };
        if let Some(rule) = exception.as_deref().and_then(header_only) {
            out.skipped
                .push(skip(format!("header or encoding rule {rule}")));
            continue;
        }
        let decoded = match decode_block(&br.at("rlp"), br.field(m, "rlp")?)? {
            Ok(block) => block,
            Err(e) if exception.is_some() => {
                out.skipped
                    .push(skip(format!("its RLP does not decode ({e})")));
                continue;
            }
            Err(e) => return Err(br.at("rlp").err(e)),
        };
        let block = match block_of(decoded, fork) {
            Ok(block) => block,
            Err(e) if exception.is_some() => {
                out.skipped.push(skip(e));
                continue;
            }
            Err(e) => return Err(br.at("rlp").err(e)),
        };
        match exception {
            Some(x) => invalid.push((
                i,
                Block {
                    expect: Some(BlockExpect::Invalid(x)),
                    ..block
                },
            )),
            None => valid.push(block),
        }
    }
    // What evmdiff wrote beside the blocks: its metadata, every sender's key, and the
    // transactions the execution dropped (not in any block's RLP).
    let meta = Reader::opt(t, "_info")
        .and_then(|i| i.get("evmdiff"))
        .cloned();
    if let Some(m) = &meta {
        restore(&r.at("_info.evmdiff"), m, &mut valid)?;
    }
    let case = |name: String, blocks: Vec<Block>| Case {
        name,
        fork,
        pre: pre.clone(),
        blocks,
        genesis: Some(genesis.clone()),
        ancestors: Vec::new(),
        expect: None,
        meta: crate::statetest::with_profile(meta.clone(), profile),
    };
    // Blocks are linked by their parent hashes, not by their order in the file: a test may
    // hold side chains. Each block is replayed after its ancestors.
    let genesis_hash = genesis.hash_slow();
    let by_hash: std::collections::HashMap<B256, &Block> = valid
        .iter()
        .filter_map(|b| b.header.as_ref().map(|h| (h.hash_slow(), b)))
        .collect();
    let ancestry = |parent: B256| -> Option<Vec<Block>> {
        let mut path = Vec::new();
        let mut at = parent;
        while at != genesis_hash {
            let b = by_hash.get(&at)?;
            path.push((*b).clone());
            at = b.header.as_ref()?.parent_hash;
        }
        path.reverse();
        Some(path)
    };
    let parent_of = |b: &Block| b.header.as_ref().map_or(B256::ZERO, |h| h.parent_hash);
    for (i, block) in invalid {
        let Some(mut blocks) = ancestry(parent_of(&block)) else {
            out.skipped.push(Skipped {
                name: format!("{name}/block {}", i + 1),
                reason: "its parent is not a valid block of the test".into(),
                kind: SkipKind::OutOfScope,
            });
            continue;
        };
        blocks.push(block);
        out.cases.push(case(
            format!("{name}/{fork}/invalid-block-{}", i + 1),
            blocks,
        ));
    }
    // The canonical chain ends at `lastblockhash`; a valid block off it is replayed after its
    // own ancestors.
    let last: Option<B256> = Reader::opt(t, "lastblockhash")
        .map(|v| r.at("lastblockhash").parse_str(v, "a 32-byte hash"))
        .transpose()?;
    let canonical = last.and_then(|h| {
        let tip = by_hash.get(&h)?;
        let mut chain = ancestry(parent_of(tip))?;
        chain.push((*tip).clone());
        Some(chain)
    });
    let on_chain: std::collections::HashSet<B256> = canonical
        .iter()
        .flatten()
        .filter_map(|b| b.header.as_ref().map(|h| h.hash_slow()))
        .collect();
    if let Some(chain) = canonical {
        out.cases.push(case(format!("{name}/{fork}/valid"), chain));
    }
    for (k, block) in valid.iter().enumerate() {
        let hash = block
            .header
            .as_ref()
            .map(|h| h.hash_slow())
            .unwrap_or_default();
        if on_chain.contains(&hash) {
            continue;
        }
        if let Some(mut blocks) = ancestry(parent_of(block)) {
            blocks.push(block.clone());
            out.cases
                .push(case(format!("{name}/{fork}/side-block-{}", k + 1), blocks));
        }
    }
    Ok(())
}

/// Gives the transactions of `blocks` their senders' keys and puts back, where they were, the
/// transactions evmdiff's export left out of the blocks (`keys`, `dropped`).
fn restore(r: &Reader<'_>, meta: &Value, blocks: &mut [Block]) -> Result<(), CaseError> {
    if let Some(keys) = meta.get("keys").and_then(Value::as_object) {
        for block in blocks.iter_mut() {
            for tx in &mut block.txs {
                if let Some(k) = keys.get(&format!("{:#x}", tx.sender)) {
                    tx.secret_key = r.at("keys").parse_str(k, "a 32-byte key")?;
                }
            }
        }
    }
    let Some(dropped) = meta.get("dropped").and_then(Value::as_array) else {
        return Ok(());
    };
    for (i, d) in dropped.iter().enumerate() {
        let dr = r.at(&format!("dropped.{i}"));
        let at = |k: &str| {
            d.get(k)
                .and_then(Value::as_u64)
                .map(|n| n as usize)
                .ok_or_else(|| dr.err(format!("missing `{k}`")))
        };
        let (b, position) = (at("block")?, at("position")?);
        let tx = dr
            .at("transaction")
            .single_transaction(d.get("transaction").unwrap_or(&Value::Null))?;
        // Only a last block the execution refused can follow the valid ones; what it dropped
        // stays out with it.
        let Some(block) = blocks.get_mut(b) else {
            continue;
        };
        if position > block.txs.len() {
            return Err(dr.err(format!("no position {position} in block {b}")));
        }
        block.txs.insert(position, tx);
        // The file expects the block without it; the case holds it, as the fuzzer ran it.
        block.expect = None;
    }
    Ok(())
}

/// A block from its RLP hex; the inner error says why the bytes are not a block.
fn decode_block(
    r: &Reader<'_>,
    v: &Value,
) -> Result<Result<alloy_consensus::Block<TxEnvelope>, String>, CaseError> {
    let bytes = r.bytes(v)?;
    Ok(
        alloy_consensus::Block::<TxEnvelope>::decode(&mut bytes.as_ref())
            .map_err(|e| e.to_string()),
    )
}

/// A decoded block as a case's block, each transaction's sender recovered.
fn block_of(block: alloy_consensus::Block<TxEnvelope>, fork: Fork) -> Result<Block, String> {
    let env = BlockEnv::of_header(&block.header, fork, CHAIN_ID);
    let txs = block
        .body
        .transactions
        .iter()
        .enumerate()
        .map(|(i, tx)| transaction(tx).map_err(|e| format!("transaction {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Block {
        env,
        txs,
        withdrawals: block.body.withdrawals.map(|w| w.into_inner()),
        header: Some(block.header),
        expect: Some(BlockExpect::Valid),
    })
}

/// A signed transaction as a case's transaction. The private key is not known: it stays zero,
/// and the sender is the recovered signer.
fn transaction(tx: &TxEnvelope) -> Result<Transaction, String> {
    let sender = tx
        .recover_signer()
        .map_err(|e| format!("no sender can be recovered from its signature: {e}"))?;
    let ty = tx.ty();
    let u = alloy_primitives::U256::from;
    let w = |v: u128| alloy_primitives::U256::from(v);
    let fee_market = ty >= 2;
    Ok(Transaction {
        sender,
        secret_key: Default::default(),
        to: tx.to(),
        nonce: u(tx.nonce()),
        data: tx.input().clone(),
        gas_limit: u(tx.gas_limit()),
        value: tx.value(),
        gas_price: (!fee_market).then(|| w(tx.max_fee_per_gas())),
        max_fee_per_gas: fee_market.then(|| w(tx.max_fee_per_gas())),
        max_priority_fee_per_gas: tx.max_priority_fee_per_gas().map(w).filter(|_| fee_market),
        access_list: tx.access_list().map(|l| {
            l.iter()
                .map(|i| AccessListItem {
                    address: i.address,
                    storage_keys: i.storage_keys.clone(),
                })
                .collect()
        }),
        max_fee_per_blob_gas: tx.max_fee_per_blob_gas().map(w),
        blob_versioned_hashes: tx.blob_versioned_hashes().map(<[_]>::to_vec),
        authorization_list: tx.authorization_list().map(|l| {
            l.iter()
                .map(|a| Authorization {
                    chain_id: a.chain_id,
                    address: a.address,
                    nonce: u(a.nonce),
                    v: u(a.y_parity() as u64),
                    r: a.r(),
                    s: a.s(),
                    signer: None,
                })
                .collect()
        }),
        tx_type: Some(ty),
        signature: Some(crate::case::Signed {
            signature: *tx.signature(),
            chain_id: tx.chain_id(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules_are_told_from_execution_rules() {
        assert_eq!(
            header_only(
                "BlockException.RLP_STRUCTURES_ENCODING|BlockException.RLP_INVALID_ADDRESS"
            ),
            Some("BlockException.RLP_STRUCTURES_ENCODING")
        );
        assert_eq!(
            header_only("TransactionException.INTRINSIC_GAS_TOO_LOW"),
            None
        );
        assert_eq!(header_only("BlockException.INVALID_STATE_ROOT"), None);
        assert_eq!(
            header_only(
                "BlockException.INVALID_GASLIMIT|TransactionException.NONCE_MISMATCH_TOO_LOW"
            ),
            None
        );
    }
}
