//! Translating a [`Case`] into levm's inputs: fork, [`Environment`], [`Transaction`] and the
//! pre-state database.
//!
//! levm reads almost everything about the transaction from the [`Environment`] (sender, nonce,
//! gas limit, fees, blob fields); the [`Transaction`] value supplies the recipient, value,
//! data, access list, authorization list and its type. Both are filled from the same case
//! fields so they cannot disagree.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy_primitives::keccak256;
use ethrex_common::types::{
    AccountState, ChainConfig, Code, CodeMetadata, EIP1559Transaction, EIP2930Transaction,
    EIP4844Transaction, EIP7702Transaction, Fork as LevmFork, LegacyTransaction, Transaction,
    TxKind, tx_fields::AuthorizationTuple,
};
use ethrex_common::{Address, H256, NativeCrypto, U256};
use ethrex_levm::db::Database;
use ethrex_levm::errors::DatabaseError;
use ethrex_levm::utils::get_base_fee_per_blob_gas;
use ethrex_levm::{EVMConfig, Environment};
use evmdiff_core::case::{BlockEnv as CaseBlock, Transaction as CaseTx};
use evmdiff_core::{Fork, State};

/// levm's fork for a fork, or `None` before Paris.
///
/// levm is the EVM of ethrex, a post-Merge client: its crate documentation lists Paris,
/// Shanghai, Cancun, Prague and Osaka as the supported forks, and every earlier fork gets its
/// Paris opcode table (`VM::build_opcode_table`). Running an older fork could silently apply
/// post-Merge rules, so the caller reports it as unsupported.
pub(crate) fn fork_of(fork: Fork) -> Option<LevmFork> {
    Some(match fork {
        Fork::Paris => LevmFork::Paris,
        Fork::Shanghai => LevmFork::Shanghai,
        Fork::Cancun => LevmFork::Cancun,
        Fork::Prague => LevmFork::Prague,
        Fork::Osaka => LevmFork::Osaka,
        _ => return None,
    })
}

/// Why a transaction cannot even be built as a levm transaction: a field outside what the
/// transaction encoding allows. Such a transaction is invalid, so the case is rejected (the
/// same rules as the revm adapter's, so both refuse the same cases).
pub(crate) fn invalid_tx(tx: &CaseTx) -> Option<String> {
    let ty = tx.effective_type();
    if ty > 4 {
        return Some(format!("transaction type {ty} is not supported"));
    }
    if matches!(ty, 3 | 4) && tx.to.is_none() {
        return Some(format!("a type-{ty} transaction cannot create a contract"));
    }
    if u64::try_from(tx.nonce).is_err() {
        return Some(format!("nonce {} does not fit in 64 bits", tx.nonce));
    }
    for a in tx.authorization_list.iter().flatten() {
        if u64::try_from(a.nonce).is_err() || u8::try_from(a.v).is_err() {
            return Some("authorization nonce or y-parity out of range (EIP-7702)".into());
        }
    }
    None
}

/// An alloy word as levm's.
pub(crate) fn u256(v: alloy_primitives::U256) -> U256 {
    U256::from_big_endian(&v.to_be_bytes::<32>())
}

/// A levm word as alloy's.
pub(crate) fn alloy_u256(v: U256) -> alloy_primitives::U256 {
    alloy_primitives::U256::from_be_bytes(v.to_big_endian())
}

/// An alloy address as levm's.
pub(crate) fn address(a: alloy_primitives::Address) -> Address {
    Address::from_slice(a.as_slice())
}

/// An alloy hash as levm's.
fn h256(h: alloy_primitives::B256) -> H256 {
    H256(h.0)
}

/// `v` as a `u64`, saturating (an absurd value still fails levm's balance or gas checks).
fn saturate_u64(v: alloy_primitives::U256) -> u64 {
    u64::try_from(v).unwrap_or(u64::MAX)
}

/// The environment of the case's transaction under `fork`.
///
/// The effective gas price is computed here, as levm expects it from its caller: the legacy
/// gas price, or `min(max_fee, base_fee + priority_fee)` for fee-market transactions (levm
/// itself refuses `max_fee < base_fee` and `priority > max_fee` from the fee fields). Two
/// defaults make any case runnable under a later fork than it was written for, as in the revm
/// adapter: a missing PREVRANDAO is zero, and a missing excess blob gas is zero from Cancun on.
pub(crate) fn environment(b: &CaseBlock, t: &CaseTx, fork: LevmFork) -> Environment {
    let config = EVMConfig::new(fork, EVMConfig::canonical_values(fork));
    let base_fee = b.base_fee.map(u256).unwrap_or_default();
    let fee_market = t.effective_type() >= 2;
    let max_fee = t.max_fee_per_gas.map(u256);
    let priority = t.max_priority_fee_per_gas.map(u256);
    let gas_price = if fee_market {
        let max_fee = max_fee.unwrap_or_default();
        max_fee.min(base_fee.saturating_add(priority.unwrap_or_default()))
    } else {
        t.gas_price
            .or(t.max_fee_per_gas)
            .map(u256)
            .unwrap_or_default()
    };
    let excess = match b.excess_blob_gas {
        Some(e) => Some(e),
        None if fork >= LevmFork::Cancun => Some(0),
        None => None,
    };
    // Cannot fail for a u64 excess (levm's fake exponential works on U256).
    let base_blob_fee = get_base_fee_per_blob_gas(excess, &config).unwrap_or(U256::MAX);
    Environment {
        origin: address(t.sender),
        gas_limit: saturate_u64(t.gas_limit),
        config,
        block_number: saturate_u64(b.number),
        coinbase: address(b.coinbase),
        timestamp: saturate_u64(b.timestamp),
        prev_randao: Some(b.random.map(h256).unwrap_or_default()),
        difficulty: u256(b.difficulty),
        slot_number: U256::zero(),
        chain_id: U256::from(b.chain_id),
        base_fee_per_gas: base_fee,
        base_blob_fee_per_gas: base_blob_fee,
        gas_price,
        block_excess_blob_gas: excess,
        block_blob_gas_used: None,
        tx_blob_hashes: t
            .blob_versioned_hashes
            .iter()
            .flatten()
            .map(|h| h256(*h))
            .collect(),
        tx_max_priority_fee_per_gas: if fee_market { priority } else { None },
        tx_max_fee_per_gas: if fee_market { max_fee } else { None },
        tx_max_fee_per_blob_gas: if t.effective_type() == 3 {
            Some(t.max_fee_per_blob_gas.map(u256).unwrap_or(U256::MAX))
        } else {
            None
        },
        tx_nonce: saturate_u64(t.nonce),
        block_gas_limit: saturate_u64(b.gas_limit),
        is_privileged: false,
        fee_token: None,
        disable_balance_check: false,
        disable_nonce_check: false,
        trace_eth_transfers: false,
        disable_gas_allowance_check: false,
        disable_sender_eoa_check: false,
        disable_execution_gas_cap: false,
        is_system_call: false,
    }
}

/// The case's transaction as levm's, of its effective type. `invalid_tx` must have accepted
/// it. Signatures are left empty: levm takes the sender from the environment and never
/// recovers it (only authorization tuples are recovered, from their own signatures).
pub(crate) fn transaction(t: &CaseTx, chain_id: u64) -> Transaction {
    let nonce = saturate_u64(t.nonce);
    let gas = saturate_u64(t.gas_limit);
    let kind = t.to.map_or(TxKind::Create, |a| TxKind::Call(address(a)));
    let to = address(t.to.unwrap_or_default());
    let value = u256(t.value);
    let data = t.data.0.clone();
    let fee_u64 = |v: Option<alloy_primitives::U256>| v.map(saturate_u64).unwrap_or_default();
    let access_list = t
        .access_list
        .iter()
        .flatten()
        .map(|i| {
            (
                address(i.address),
                i.storage_keys.iter().map(|k| h256(*k)).collect(),
            )
        })
        .collect();
    match t.effective_type() {
        0 => Transaction::LegacyTransaction(LegacyTransaction {
            nonce,
            gas_price: t.gas_price.map(u256).unwrap_or_default(),
            gas,
            to: kind,
            value,
            data,
            ..Default::default()
        }),
        1 => Transaction::EIP2930Transaction(EIP2930Transaction {
            chain_id,
            nonce,
            gas_price: t.gas_price.map(u256).unwrap_or_default(),
            gas_limit: gas,
            to: kind,
            value,
            data,
            access_list,
            ..Default::default()
        }),
        2 => Transaction::EIP1559Transaction(EIP1559Transaction {
            chain_id,
            nonce,
            max_priority_fee_per_gas: fee_u64(t.max_priority_fee_per_gas),
            max_fee_per_gas: fee_u64(t.max_fee_per_gas),
            gas_limit: gas,
            to: kind,
            value,
            data,
            access_list,
            ..Default::default()
        }),
        3 => Transaction::EIP4844Transaction(EIP4844Transaction {
            chain_id,
            nonce,
            max_priority_fee_per_gas: fee_u64(t.max_priority_fee_per_gas),
            max_fee_per_gas: fee_u64(t.max_fee_per_gas),
            gas,
            to,
            value,
            data,
            access_list,
            max_fee_per_blob_gas: t.max_fee_per_blob_gas.map(u256).unwrap_or(U256::MAX),
            blob_versioned_hashes: t
                .blob_versioned_hashes
                .iter()
                .flatten()
                .map(|h| h256(*h))
                .collect(),
            ..Default::default()
        }),
        _ => Transaction::EIP7702Transaction(EIP7702Transaction {
            chain_id,
            nonce,
            max_priority_fee_per_gas: fee_u64(t.max_priority_fee_per_gas),
            max_fee_per_gas: fee_u64(t.max_fee_per_gas),
            gas_limit: gas,
            to,
            value,
            data,
            access_list,
            authorization_list: t
                .authorization_list
                .iter()
                .flatten()
                .map(|a| AuthorizationTuple {
                    chain_id: u256(a.chain_id),
                    address: address(a.address),
                    nonce: saturate_u64(a.nonce),
                    y_parity: u256(a.v),
                    r_signature: u256(a.r),
                    s_signature: u256(a.s),
                })
                .collect(),
            ..Default::default()
        }),
    }
}

/// The pre-state as levm's backing store. levm's `GeneralizedDatabase` loads accounts, code
/// and slots from it on first use and keeps every change in its own cache, so this store is
/// never written.
#[derive(Debug)]
pub(crate) struct PreState {
    accounts: BTreeMap<Address, (AccountState, Code)>,
    storage: BTreeMap<(Address, H256), U256>,
    /// A chain's header hashes by number; `None` in a state test.
    hashes: Option<BTreeMap<u64, alloy_primitives::B256>>,
}

/// Any root other than the empty trie's: levm reads the storage root only to know whether an
/// account has storage (EIP-7610 create collisions), never to walk a trie.
fn non_empty_root() -> H256 {
    H256::repeat_byte(0x01)
}

impl PreState {
    /// The store for `pre`, with a chain's header hashes (`None` in a state test). Code is
    /// analysed (jump destinations, hash) once here.
    pub(crate) fn new(
        pre: &State,
        hashes: Option<BTreeMap<u64, alloy_primitives::B256>>,
    ) -> Arc<PreState> {
        let mut accounts = BTreeMap::new();
        let mut storage = BTreeMap::new();
        for (addr, acc) in pre {
            let a = address(*addr);
            let code = Code::from_bytecode(acc.code.0.clone(), &NativeCrypto);
            let slots: Vec<_> = acc.storage.iter().filter(|(_, v)| !v.is_zero()).collect();
            let state = AccountState {
                nonce: acc.nonce,
                balance: u256(acc.balance),
                storage_root: if slots.is_empty() {
                    *ethrex_common::constants::EMPTY_TRIE_HASH
                } else {
                    non_empty_root()
                },
                code_hash: code.hash,
            };
            for (k, v) in slots {
                storage.insert((a, H256(k.to_be_bytes::<32>())), u256(*v));
            }
            accounts.insert(a, (state, code));
        }
        Arc::new(PreState {
            accounts,
            storage,
            hashes,
        })
    }
}

impl Database for PreState {
    fn get_account_state(&self, address: Address) -> Result<AccountState, DatabaseError> {
        Ok(self
            .accounts
            .get(&address)
            .map(|(s, _)| *s)
            .unwrap_or_default())
    }

    fn get_storage_value(&self, address: Address, key: H256) -> Result<U256, DatabaseError> {
        Ok(self
            .storage
            .get(&(address, key))
            .copied()
            .unwrap_or_default())
    }

    /// In a chain, the hash of the case's header of that number (zero for none). In a state
    /// test, what ethereum/tests fillers use for `BLOCKHASH(n)`: `keccak256(decimal(n))`, as
    /// the revm adapter's empty backing store answers it. levm itself enforces the 256-block
    /// window.
    fn get_block_hash(&self, block_number: u64) -> Result<H256, DatabaseError> {
        Ok(match &self.hashes {
            Some(hashes) => hashes
                .get(&block_number)
                .map_or_else(H256::zero, |h| H256(h.0)),
            None => H256(keccak256(block_number.to_string().as_bytes()).0),
        })
    }

    fn get_chain_config(&self) -> Result<ChainConfig, DatabaseError> {
        Ok(ChainConfig::default())
    }

    fn get_account_code(&self, code_hash: H256) -> Result<Code, DatabaseError> {
        if code_hash == *ethrex_common::constants::EMPTY_KECCAK_HASH {
            return Ok(Code::default());
        }
        self.accounts
            .values()
            .find(|(s, _)| s.code_hash == code_hash)
            .map(|(_, c)| c.clone())
            .ok_or_else(|| DatabaseError::Custom(format!("no code with hash {code_hash:#x}")))
    }

    fn get_code_metadata(&self, code_hash: H256) -> Result<CodeMetadata, DatabaseError> {
        let code = self.get_account_code(code_hash)?;
        Ok(CodeMetadata {
            length: code.len() as u64,
        })
    }
}
