//! What a chain's block gets around its transactions, fork by fork: the system calls before
//! and after them, the withdrawals and the miner's reward.
//!
//! The rules are data here so that every in-process adapter applies the same ones with its own
//! EVM (a system call is executed by the backend, never by evmdiff), and [`process`] walks a
//! case's blocks with them over any adapter's [`BlockExecutor`]; backends in other processes
//! apply their implementation's own (the execution spec's `apply_body`, ethereumjs's
//! `runBlock`). A state test gets none of this.

use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, B256, Bytes, U256, address};

use crate::backend::BackendError;
use crate::case::{At, BlockEnv, Case, Transaction};
use crate::fork::Fork;
use crate::observe::{Observer, StateRead};
use crate::outcome::{BlockEnd, BlockOutcome, ChainOutcome, Outcome, Status};
use crate::state::State;

/// The caller of every system call (EIP-4788).
pub const SYSTEM_ADDRESS: Address = address!("0xfffffffffffffffffffffffffffffffffffffffe");
/// EIP-4788's beacon roots contract (Cancun).
pub const BEACON_ROOTS: Address = address!("0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02");
/// EIP-2935's block hash history contract (Prague).
pub const HISTORY_STORAGE: Address = address!("0x0000F90827F1C53a10cb7A02335B175320002935");
/// EIP-7002's withdrawal request contract (Prague).
pub const WITHDRAWAL_REQUESTS: Address = address!("0x00000961Ef480Eb55e80D19ad83579A64c007002");
/// EIP-7251's consolidation request contract (Prague).
pub const CONSOLIDATION_REQUESTS: Address = address!("0x0000BBdDc7CE488642fb579F8B00f3a590007251");
/// The gas a system call is given (EIP-4788); it does not count towards the block's gas.
pub const SYSTEM_CALL_GAS: u64 = 30_000_000;

/// One system call: `SYSTEM_ADDRESS` calls `address` with `data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemCall {
    /// The contract called.
    pub address: Address,
    /// The call data.
    pub data: Bytes,
    /// The block is invalid when the contract has no code or the call fails (EIP-7002 and
    /// EIP-7251); otherwise such a call does nothing (EIP-4788, EIP-2935).
    pub required: bool,
}

/// The system calls before block `index`'s transactions.
pub fn before_transactions(case: &Case, index: usize, fork: Fork) -> Vec<SystemCall> {
    let mut calls = Vec::new();
    if fork >= Fork::Cancun {
        let root = case.blocks[index]
            .header
            .as_ref()
            .and_then(|h| h.parent_beacon_block_root)
            .unwrap_or(B256::ZERO);
        calls.push(SystemCall {
            address: BEACON_ROOTS,
            data: Bytes::copy_from_slice(root.as_slice()),
            required: false,
        });
    }
    if fork >= Fork::Prague {
        let parent = case.parent_hash(index).unwrap_or_default();
        calls.push(SystemCall {
            address: HISTORY_STORAGE,
            data: Bytes::copy_from_slice(parent.as_slice()),
            required: false,
        });
    }
    calls
}

/// The system calls after a block's transactions and withdrawals.
pub fn after_transactions(fork: Fork) -> Vec<SystemCall> {
    if fork < Fork::Prague {
        return Vec::new();
    }
    [WITHDRAWAL_REQUESTS, CONSOLIDATION_REQUESTS]
        .into_iter()
        .map(|address| SystemCall {
            address,
            data: Bytes::new(),
            required: true,
        })
        .collect()
}

/// The miner's reward for a block without uncles, before the Merge: 5 ether, 3 from Byzantium,
/// 2 from Constantinople; `None` from Paris on.
pub fn block_reward(fork: Fork) -> Option<U256> {
    let ether = U256::from(10u64).pow(U256::from(18));
    match fork {
        f if f >= Fork::Paris => None,
        f if f >= Fork::Constantinople => Some(ether * U256::from(2)),
        f if f >= Fork::Byzantium => Some(ether * U256::from(3)),
        _ => Some(ether * U256::from(5)),
    }
}

/// What a withdrawal credits, in wei (its amount is in gwei).
pub fn withdrawal_wei(w: &Withdrawal) -> U256 {
    U256::from(w.amount) * U256::from(1_000_000_000u64)
}

/// Gas per blob (EIP-4844).
pub const GAS_PER_BLOB: u64 = 1 << 17;

/// The blob gas a block may use: 6 blobs from Cancun (EIP-4844), 9 from Prague (EIP-7691).
pub fn max_blob_gas_per_block(fork: Fork) -> u64 {
    GAS_PER_BLOB * if fork >= Fork::Prague { 9 } else { 6 }
}

/// Why `tx` cannot be included after transactions that used `gas_used` gas and `blob_gas_used`
/// blob gas of the block with `env`: the block has not enough gas left for its limit, or not
/// enough blob gas for its blobs. A sequencer drops such a transaction and the block goes on.
pub fn over_block_limits(
    tx: &crate::case::Transaction,
    env: &crate::case::BlockEnv,
    fork: Fork,
    gas_used: u64,
    blob_gas_used: u64,
) -> Option<String> {
    let left = env.gas_limit.saturating_sub(U256::from(gas_used));
    if tx.gas_limit > left {
        return Some(format!(
            "gas limit {} over the {left} gas left in the block",
            tx.gas_limit
        ));
    }
    let blobs = tx.blob_versioned_hashes.as_ref().map_or(0, Vec::len) as u64;
    let max = max_blob_gas_per_block(fork);
    if blobs > 0 && blob_gas_used + blobs * GAS_PER_BLOB > max {
        return Some(format!(
            "{blobs} blobs over the {} blob gas left in the block",
            max.saturating_sub(blob_gas_used)
        ));
    }
    None
}

/// The system contracts a chain at `fork` needs in its genesis state, with their code as the
/// EIPs deploy it (alloy's copies): the beacon roots contract from Cancun, the history and
/// request contracts from Prague (without the request contracts a Prague block is invalid).
pub fn system_contracts(fork: Fork) -> Vec<(Address, Bytes)> {
    let mut out = Vec::new();
    if fork >= Fork::Cancun {
        out.push((BEACON_ROOTS, alloy_eips::eip4788::BEACON_ROOTS_CODE.clone()));
    }
    if fork >= Fork::Prague {
        out.push((
            HISTORY_STORAGE,
            alloy_eips::eip2935::HISTORY_STORAGE_CODE.clone(),
        ));
        out.push((
            WITHDRAWAL_REQUESTS,
            alloy_eips::eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_CODE.clone(),
        ));
        out.push((
            CONSOLIDATION_REQUESTS,
            alloy_eips::eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_CODE.clone(),
        ));
    }
    out
}

/// A backend's EVM holding a case's state, as [`process`] drives it. Each in-process adapter
/// implements it with its own EVM and its own state store: the state a transaction leaves is
/// the one the implementation carries into the next, never rebuilt from a reported outcome.
pub trait BlockExecutor {
    /// The state the backend's commits have left so far, as reported: what a dropped
    /// transaction's outcome and a block's end carry. Asked only for those, so a backend
    /// need not keep a reported copy of its state after every transaction.
    fn state(&mut self) -> Result<State, BackendError>;
    /// Makes block `index` of the case the current one (what its system calls and
    /// transactions see), with environment `env`: the case's, which sealing may have set
    /// after the case was handed to the backend (a base fee follows the parent's gas used).
    fn begin_block(&mut self, index: usize, env: &BlockEnv) -> Result<(), BackendError>;
    /// Whether `address` has code in the backend's state (a system contract deployed).
    fn has_code(&mut self, address: Address) -> Result<bool, BackendError>;
    /// Executes `call` as a system call with the backend's EVM and commits it, without
    /// `SYSTEM_ADDRESS` and the beneficiary; `Ok(Err(why))` when the call failed or the EVM
    /// refused it.
    fn system_call(&mut self, call: &SystemCall) -> Result<Result<(), String>, BackendError>;
    /// The observer of the execution, if any: told where each transaction starts (also one
    /// dropped before execution), and told of the reads the block's own processing makes
    /// (a system contract looked up, an account credited), so that a block witness holds
    /// them on every backend alike.
    fn observer(&mut self) -> Option<&mut dyn Observer>;
    /// Executes `tx` (refusing it if the backend finds it invalid) and commits it.
    fn transaction(&mut self, at: At, tx: &Transaction) -> Result<Outcome, BackendError>;
    /// Credits `amount` to `address` (a withdrawal, the miner's reward); an account left empty
    /// is removed from Spurious Dragon on (EIP-161).
    fn credit(&mut self, address: Address, amount: U256) -> Result<(), BackendError>;
}

/// Every block of `case` on `exec`, under `fork`. A state test is its one transaction and
/// nothing else; a chain gets the block rules of this module around its transactions, and
/// stops after a block the backend refuses.
pub fn process(
    case: &Case,
    fork: Fork,
    exec: &mut dyn BlockExecutor,
) -> Result<ChainOutcome, BackendError> {
    let mut blocks = Vec::with_capacity(case.blocks.len());
    for index in 0..case.blocks.len() {
        let block = process_block(case, index, fork, exec)?;
        let refused = block.invalid.is_some();
        blocks.push(block);
        if refused {
            break;
        }
    }
    Ok(ChainOutcome { blocks })
}

/// Block `index`: system calls, transactions within the block's limits, withdrawals, reward,
/// the system calls after it.
pub(crate) fn process_block(
    case: &Case,
    index: usize,
    fork: Fork,
    exec: &mut dyn BlockExecutor,
) -> Result<BlockOutcome, BackendError> {
    let block = &case.blocks[index];
    let chain = case.is_chain();
    exec.begin_block(index, &block.env)?;
    let refused = |txs, why| BlockOutcome {
        txs,
        end: None,
        invalid: Some(why),
    };
    if chain {
        for call in before_transactions(case, index, fork) {
            if let Some(why) = system_call(exec, &call)? {
                return Ok(refused(Vec::new(), why));
            }
        }
    }
    let (mut gas_used, mut blob_gas_used) = (0u64, 0u64);
    let mut txs = Vec::with_capacity(block.txs.len());
    for (t, tx) in block.txs.iter().enumerate() {
        let at = At {
            block: index,
            tx: Some(t),
        };
        if let Some(o) = exec.observer() {
            o.transaction(at);
        }
        let over = chain
            .then(|| over_block_limits(tx, &block.env, fork, gas_used, blob_gas_used))
            .flatten();
        let outcome = match over {
            Some(why) => Outcome::rejected(&exec.state()?, why),
            None => exec.transaction(at, tx)?,
        };
        if outcome.status != Status::Rejected {
            gas_used += outcome.gas_used;
            blob_gas_used +=
                tx.blob_versioned_hashes.as_ref().map_or(0, Vec::len) as u64 * GAS_PER_BLOB;
        }
        txs.push(outcome);
    }
    if !chain {
        return Ok(BlockOutcome {
            txs,
            end: None,
            invalid: None,
        });
    }
    for w in block.withdrawals.iter().flatten() {
        read(exec, w.address);
        exec.credit(w.address, withdrawal_wei(w))?;
    }
    if let Some(reward) = block_reward(fork) {
        read(exec, block.env.coinbase);
        exec.credit(block.env.coinbase, reward)?;
    }
    for call in after_transactions(fork) {
        if let Some(why) = system_call(exec, &call)? {
            return Ok(refused(txs, why));
        }
    }
    Ok(BlockOutcome {
        txs,
        end: Some(BlockEnd::new(exec.state()?, gas_used)),
        invalid: None,
    })
}

/// One system call; why the block is invalid, if the call makes it so. A call to a contract
/// without code does nothing unless it is required.
fn system_call(
    exec: &mut dyn BlockExecutor,
    call: &SystemCall,
) -> Result<Option<String>, BackendError> {
    // Looking is a read: a stateless re-execution needs the contract (or its absence).
    read(exec, call.address);
    if !exec.has_code(call.address)? {
        return Ok(call
            .required
            .then(|| format!("system contract {} has no code", call.address)));
    }
    Ok(match exec.system_call(call)? {
        Ok(()) => None,
        Err(why) => call
            .required
            .then(|| format!("system call to {} failed: {why}", call.address)),
    })
}

/// Tells the observer, if it wants reads, that the block's processing read `address`.
fn read(exec: &mut dyn BlockExecutor, address: Address) {
    if let Some(o) = exec.observer()
        && o.wants_reads()
    {
        o.read(StateRead::Account(address));
    }
}
