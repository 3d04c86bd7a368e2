//! Writing a chain as an ethereum/tests BlockchainTest: the one exporter of chains.
//!
//! Headers, transactions, withdrawals and blocks are alloy's consensus types: the block RLP is
//! alloy's encoding of `Block<TxEnvelope>` (what the execution spec and most clients import),
//! transactions are signed with each sender's key, and the JSON beside it (`blockHeader`,
//! `transactions`, `withdrawals`, what revm's `revme blockchaintest` reads) is rendered from
//! the same values. The case must be sealed (`evmdiff_core::seal`) by the execution given as
//! `outcome`: its headers commit to that execution's results, which `postState` repeats.
//!
//! A transaction the execution dropped as invalid is not in its block (a client would refuse
//! the block); it is kept, with its position, in `_info.evmdiff.dropped`, and every sender's
//! key in `_info.evmdiff.keys`, so that reading the file back ([`super::test`]) gives the very
//! case that was written, dropped transactions included.

use alloy_consensus::{BlockBody, Header, Transaction as _, TxEnvelope};
use alloy_eips::Typed2718;
use alloy_eips::eip4895::Withdrawals;
use alloy_primitives::{B256, U256};
use alloy_rlp::Encodable;
use serde_json::{Map, Value, json};

use crate::case::Case;
use crate::outcome::{ChainOutcome, Status};
use crate::signing::{SigningError, sign};
use crate::state::State;
use crate::statetest::{state_json, transaction_json};

/// Why a chain cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The case is a state test.
    #[error("a state test is written as a state test, not a blockchain test")]
    NotAChain,
    /// A transaction cannot be signed.
    #[error("block {block}: {source}")]
    Signing {
        /// The block (counted from 1).
        block: usize,
        /// Why.
        source: SigningError,
    },
    /// The execution has fewer blocks than the case.
    #[error("the execution stops before block {0}")]
    Incomplete(usize),
}

/// `n` as the fixtures write numbers: `0x`-prefixed, at least two hex digits.
fn num<T>(n: T) -> Value
where
    U256: alloy_primitives::ruint::UintTryFrom<T>,
{
    let s = format!("{:x}", U256::from(n));
    json!(format!("0x{}{s}", if s.len() % 2 == 1 { "0" } else { "" }))
}

/// A header in the fixtures' JSON keys.
pub fn header_json(h: &Header) -> Value {
    let mut m = Map::new();
    m.insert("parentHash".into(), json!(h.parent_hash));
    m.insert("uncleHash".into(), json!(h.ommers_hash));
    m.insert("coinbase".into(), json!(h.beneficiary));
    m.insert("stateRoot".into(), json!(h.state_root));
    m.insert("transactionsTrie".into(), json!(h.transactions_root));
    m.insert("receiptTrie".into(), json!(h.receipts_root));
    m.insert("bloom".into(), json!(h.logs_bloom));
    m.insert("difficulty".into(), num(h.difficulty));
    m.insert("number".into(), num(h.number));
    m.insert("gasLimit".into(), num(h.gas_limit));
    m.insert("gasUsed".into(), num(h.gas_used));
    m.insert("timestamp".into(), num(h.timestamp));
    m.insert("extraData".into(), json!(h.extra_data));
    m.insert("mixHash".into(), json!(h.mix_hash));
    m.insert("nonce".into(), json!(h.nonce));
    if let Some(f) = h.base_fee_per_gas {
        m.insert("baseFeePerGas".into(), num(f));
    }
    if let Some(r) = h.withdrawals_root {
        m.insert("withdrawalsRoot".into(), json!(r));
    }
    if let Some(g) = h.blob_gas_used {
        m.insert("blobGasUsed".into(), num(g));
    }
    if let Some(g) = h.excess_blob_gas {
        m.insert("excessBlobGas".into(), num(g));
    }
    if let Some(r) = h.parent_beacon_block_root {
        m.insert("parentBeaconBlockRoot".into(), json!(r));
    }
    if let Some(r) = h.requests_hash {
        m.insert("requestsHash".into(), json!(r));
    }
    m.insert("hash".into(), json!(h.hash_slow()));
    Value::Object(m)
}

/// A signed transaction in the fixtures' JSON keys (what `txs.json` of a t8n tool holds too).
pub fn signed_json(tx: &TxEnvelope, sender: alloy_primitives::Address) -> Value {
    let mut m = Map::new();
    let ty = tx.ty();
    if ty > 0 {
        m.insert("type".into(), num(ty));
        m.insert("chainId".into(), num(tx.chain_id().unwrap_or(1)));
    }
    m.insert("nonce".into(), num(tx.nonce()));
    if ty < 2 {
        m.insert("gasPrice".into(), num(tx.max_fee_per_gas()));
    } else {
        m.insert("maxFeePerGas".into(), num(tx.max_fee_per_gas()));
        m.insert(
            "maxPriorityFeePerGas".into(),
            num(tx.max_priority_fee_per_gas().unwrap_or_default()),
        );
    }
    m.insert("gasLimit".into(), num(tx.gas_limit()));
    m.insert("to".into(), tx.to().map_or(json!(""), |a| json!(a)));
    m.insert("value".into(), num(tx.value()));
    m.insert("data".into(), json!(tx.input()));
    if let Some(list) = tx.access_list() {
        m.insert("accessList".into(), json!(list));
    }
    if let Some(f) = tx.max_fee_per_blob_gas() {
        m.insert("maxFeePerBlobGas".into(), num(f));
    }
    if let Some(h) = tx.blob_versioned_hashes() {
        m.insert("blobVersionedHashes".into(), json!(h));
    }
    if let Some(list) = tx.authorization_list() {
        let list: Vec<Value> = list
            .iter()
            .map(|a| {
                json!({
                    "chainId": num(a.chain_id),
                    "address": a.address,
                    "nonce": num(a.nonce),
                    "v": num(a.y_parity()),
                    "r": num(a.r()),
                    "s": num(a.s()),
                })
            })
            .collect();
        m.insert("authorizationList".into(), json!(list));
    }
    let sig = tx.signature();
    let v = if ty == 0 {
        U256::from(alloy_consensus::transaction::to_eip155_value(
            sig.v(),
            tx.chain_id(),
        ))
    } else {
        U256::from(sig.v() as u8)
    };
    m.insert("v".into(), num(v));
    m.insert("r".into(), num(sig.r()));
    m.insert("s".into(), num(sig.s()));
    m.insert("sender".into(), json!(sender));
    Value::Object(m)
}

/// The RLP of a block, hex.
fn block_rlp(header: &Header, txs: Vec<TxEnvelope>, withdrawals: Option<Withdrawals>) -> Value {
    let block = alloy_consensus::Block {
        header: header.clone(),
        body: BlockBody {
            transactions: txs,
            ommers: Vec::new(),
            withdrawals,
        },
    };
    let mut out = Vec::new();
    block.encode(&mut out);
    json!(alloy_primitives::Bytes::from(out))
}

/// Writes `case` as a one-test BlockchainTest named `test_name` (see the module docs), its
/// `network` a fork name or a profile's label ([`crate::network`]). Without an `outcome` (a
/// case no backend finished), every transaction is in its block and the file has no
/// `postState`.
pub fn write_chain(
    case: &Case,
    outcome: Option<&ChainOutcome>,
    test_name: &str,
    comment: &str,
    network: &str,
) -> Result<Value, ExportError> {
    let genesis = case.genesis.as_ref().ok_or(ExportError::NotAChain)?;
    let mut blocks = Vec::new();
    let mut dropped = Vec::new();
    let mut keys = Map::new();
    let mut post: Option<&State> = None;
    let mut last = genesis.hash_slow();
    for (i, block) in case.blocks.iter().enumerate() {
        let result = match outcome {
            Some(o) => Some(o.blocks.get(i).ok_or(ExportError::Incomplete(i + 1))?),
            None => None,
        };
        let header = block.header.clone().unwrap_or_default();
        let chain_id = block.env.chain_id;
        let mut txs = Vec::new();
        let mut txs_json = Vec::new();
        for (t, tx) in block.txs.iter().enumerate() {
            keys.insert(format!("{:#x}", tx.sender), json!(tx.secret_key));
            let status = result.and_then(|r| r.txs.get(t)).map(|o| o.status);
            if status == Some(Status::Rejected) {
                dropped.push(json!({
                    "block": i,
                    "position": t,
                    "transaction": transaction_json(tx),
                }));
                continue;
            }
            let signed = sign(tx, chain_id, case.fork).map_err(|source| ExportError::Signing {
                block: i + 1,
                source,
            })?;
            txs_json.push(signed_json(&signed, tx.sender));
            txs.push(signed);
        }
        let withdrawals = block.withdrawals.clone().map(Withdrawals::new);
        let mut b = Map::new();
        b.insert("rlp".into(), block_rlp(&header, txs, withdrawals.clone()));
        b.insert("transactions".into(), json!(txs_json));
        b.insert("uncleHeaders".into(), json!([]));
        if let Some(w) = &withdrawals {
            let w: Vec<Value> = w
                .iter()
                .map(|w| {
                    json!({
                        "index": num(w.index),
                        "validatorIndex": num(w.validator_index),
                        "address": w.address,
                        "amount": num(w.amount),
                    })
                })
                .collect();
            b.insert("withdrawals".into(), json!(w));
        }
        match result.and_then(|r| r.invalid.as_ref()) {
            Some(why) => {
                b.insert("expectException".into(), json!(format!("evmdiff: {why}")));
            }
            None => {
                b.insert("blockHeader".into(), header_json(&header));
                b.insert("blocknumber".into(), json!(header.number.to_string()));
                last = header.hash_slow();
                post = result
                    .and_then(|r| r.end.as_ref())
                    .map(|e| &e.post)
                    .or(post);
            }
        }
        blocks.push(Value::Object(b));
    }
    let mut info = Map::new();
    info.insert("comment".into(), json!(comment));
    let mut evmdiff = case
        .meta
        .clone()
        .and_then(|m| m.as_object().cloned())
        .unwrap_or_default();
    evmdiff.insert("keys".into(), Value::Object(keys));
    if !dropped.is_empty() {
        evmdiff.insert("dropped".into(), json!(dropped));
    }
    info.insert("evmdiff".into(), Value::Object(evmdiff));
    let genesis_rlp = block_rlp(
        genesis,
        Vec::new(),
        genesis.withdrawals_root.map(|_| Withdrawals::default()),
    );
    let mut test = json!({
        "_info": Value::Object(info),
        "blocks": blocks,
        "genesisBlockHeader": header_json(genesis),
        "genesisRLP": genesis_rlp,
        "lastblockhash": B256::from(last),
        "network": network,
        "pre": state_json(&case.pre),
        "sealEngine": "NoProof",
    });
    if outcome.is_some() {
        test["postState"] = state_json(post.unwrap_or(&case.pre));
    }
    Ok(json!({ test_name: test }))
}
