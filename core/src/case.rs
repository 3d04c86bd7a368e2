//! A `Case`: one executable test — block environment, pre-state and one transaction — plus
//! what ethereum/tests expects of it, when that is known.
//!
//! Its file form is the ethereum/tests GeneralStateTest JSON (see [`crate::statetest`]).

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Serialize};

use crate::fork::Fork;
use crate::state::State;

/// One executable test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// `test-name/Fork/dDgGvV`: unique within its file.
    pub name: String,
    /// The fork the expectation was filled for.
    pub fork: Fork,
    /// Block environment.
    pub env: BlockEnv,
    /// Accounts before the transaction.
    pub pre: State,
    /// The transaction.
    pub tx: Transaction,
    /// What ethereum/tests expects (post-state root, logs hash, exception), if known.
    pub expect: Option<Expectation>,
    /// evmdiff's own metadata (`_info.evmdiff`): the profile a finding was made under, seed...
    pub meta: Option<serde_json::Value>,
}

/// Block environment of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEnv {
    /// Beneficiary of the fees.
    pub coinbase: Address,
    /// Block gas limit.
    pub gas_limit: U256,
    /// Block number.
    pub number: U256,
    /// Timestamp.
    pub timestamp: U256,
    /// Difficulty (pre-Merge).
    pub difficulty: U256,
    /// Base fee (London+).
    pub base_fee: Option<U256>,
    /// PREVRANDAO (Paris+).
    pub random: Option<B256>,
    /// Excess blob gas (Cancun+).
    pub excess_blob_gas: Option<u64>,
    /// Chain id (1 unless the test says otherwise).
    pub chain_id: u64,
}

/// One transaction, with every field the state-test format can carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// Sender address (derived from `secret_key` when the file omits it).
    pub sender: Address,
    /// The sender's private key; kept so the test can be re-signed by other runners.
    pub secret_key: B256,
    /// Recipient; `None` creates a contract.
    pub to: Option<Address>,
    /// Nonce.
    pub nonce: U256,
    /// Call data or init code.
    pub data: Bytes,
    /// Gas limit.
    pub gas_limit: U256,
    /// Value transferred.
    pub value: U256,
    /// Legacy / type-1 gas price.
    pub gas_price: Option<U256>,
    /// Type-2+ max fee.
    pub max_fee_per_gas: Option<U256>,
    /// Type-2+ priority fee.
    pub max_priority_fee_per_gas: Option<U256>,
    /// EIP-2930 access list (type 1+); `None` when the tx has none at all.
    pub access_list: Option<Vec<AccessListItem>>,
    /// Type-3 max blob fee.
    pub max_fee_per_blob_gas: Option<U256>,
    /// Type-3 blob hashes.
    pub blob_versioned_hashes: Option<Vec<B256>>,
    /// Type-4 (EIP-7702) authorizations.
    pub authorization_list: Option<Vec<Authorization>>,
    /// Explicit tx type, when the file gives one.
    pub tx_type: Option<u8>,
}

impl Transaction {
    /// A legacy (type 0) transaction with no value and no typed fields: what hand-written tests
    /// and most generated cases need. Set the other fields on the result.
    pub fn legacy(
        sender: Address,
        secret_key: B256,
        to: Option<Address>,
        data: Bytes,
        gas_limit: u64,
        gas_price: u64,
    ) -> Transaction {
        Transaction {
            sender,
            secret_key,
            to,
            nonce: U256::ZERO,
            data,
            gas_limit: U256::from(gas_limit),
            value: U256::ZERO,
            gas_price: Some(U256::from(gas_price)),
            max_fee_per_gas: None,
            max_priority_fee_per_gas: None,
            access_list: None,
            max_fee_per_blob_gas: None,
            blob_versioned_hashes: None,
            authorization_list: None,
            tx_type: None,
        }
    }

    /// The EIP-2718 type: explicit, or inferred from the fields present, in the order revm's
    /// state-test runner infers it (blob fee, then authorizations, then fee cap, then access list).
    pub fn effective_type(&self) -> u8 {
        if let Some(t) = self.tx_type {
            return t;
        }
        if self.max_fee_per_blob_gas.is_some() {
            3
        } else if self.authorization_list.is_some() {
            4
        } else if self.max_fee_per_gas.is_some() {
            2
        } else if self.access_list.is_some() {
            1
        } else {
            0
        }
    }
}

/// One access-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListItem {
    /// Address to pre-warm.
    pub address: Address,
    /// Slots to pre-warm.
    pub storage_keys: Vec<B256>,
}

/// One EIP-7702 authorization tuple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authorization {
    /// Chain id.
    pub chain_id: U256,
    /// Delegate address.
    pub address: Address,
    /// Authority nonce.
    pub nonce: U256,
    /// Signature y-parity.
    pub v: U256,
    /// Signature r.
    pub r: U256,
    /// Signature s.
    pub s: U256,
    /// Recovered signer, when the file states it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Address>,
}

/// What the test expects after the transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Post-state root.
    pub hash: B256,
    /// keccak256(rlp(logs)).
    pub logs: B256,
    /// Set when the transaction must be refused (the exception names, `|`-separated).
    pub exception: Option<String>,
    /// Expected output, when the file states it (top-level `out`).
    pub out: Option<Bytes>,
}
