//! Transaction validity, checked before evm runs.
//!
//! evm 1.1.1 checks only three things itself (the sender has no code, it can pay
//! `gas_limit * effective_price`, and the gas limit covers the intrinsic gas), and even those
//! it reports after charging part of the transaction. Everything the protocol refuses is
//! therefore checked here, in the order revm checks it, and refused transactions never reach
//! evm: the outcome is `Rejected` with the pre-state unchanged.

use alloy_primitives::U256;
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::{Fork, State};

use super::world::GAS_PER_BLOB;

/// EIP-3860: largest init code of a CREATE transaction (Shanghai+).
const MAX_INITCODE_SIZE: usize = 2 * 0x6000;
/// EIP-4844: at most 6 blobs per block, so per transaction (Cancun).
const MAX_BLOBS_PER_TX: usize = 6;
/// EIP-4844: the version byte of a KZG versioned hash.
const VERSIONED_HASH_VERSION_KZG: u8 = 0x01;

/// What the fee rules of a valid transaction resolve to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fees {
    /// Max fee per gas (the gas price of a legacy or type-1 transaction).
    pub(super) max_fee: U256,
    /// Max priority fee, for type-2+ transactions.
    pub(super) priority: Option<U256>,
    /// Blob fee burned from the sender before execution (EIP-4844), which evm does not charge.
    pub(super) blob_fee: U256,
}

/// Checks `case`'s transaction against the rules of `fork`; `Err` says why it is refused.
pub(super) fn validate(
    env: &BlockEnv,
    pre: &State,
    tx: &Transaction,
    fork: Fork,
) -> Result<Fees, String> {
    let ty = tx.effective_type();
    let introduced = match ty {
        0 => Fork::Frontier,
        1 => Fork::Berlin,
        2 => Fork::London,
        3 => Fork::Cancun,
        4 => Fork::Prague,
        _ => return Err(format!("transaction type {ty} does not exist")),
    };
    if !fork.includes(introduced) {
        return Err(format!(
            "transaction type {ty} is not valid before {introduced}"
        ));
    }

    let gas_limit = tx.gas_limit;
    if gas_limit > env.gas_limit {
        return Err(format!(
            "gas limit {gas_limit} exceeds the block gas limit {}",
            env.gas_limit
        ));
    }
    if gas_limit > U256::from(u64::MAX) {
        return Err(format!("gas limit {gas_limit} does not fit 64 bits"));
    }

    // Fees. A legacy or type-1 transaction has one gas price; type 2+ a max fee and a tip.
    let (max_fee, priority) = if ty >= 2 {
        let max = tx
            .max_fee_per_gas
            .ok_or("type-2+ transaction without maxFeePerGas")?;
        let tip = tx
            .max_priority_fee_per_gas
            .ok_or("type-2+ transaction without maxPriorityFeePerGas")?;
        if tip > max {
            return Err(format!("priority fee {tip} is greater than max fee {max}"));
        }
        (max, Some(tip))
    } else {
        (
            tx.gas_price
                .or(tx.max_fee_per_gas)
                .ok_or("transaction without gasPrice")?,
            None,
        )
    };
    if fork.includes(Fork::London) {
        let base_fee = env.base_fee.unwrap_or_default();
        if max_fee < base_fee {
            return Err(format!(
                "max fee per gas {max_fee} is below the block base fee {base_fee}"
            ));
        }
    }

    // Blob transactions (EIP-4844).
    let mut blob_gas = U256::ZERO;
    let mut max_blob_fee = U256::ZERO;
    let mut blob_fee = U256::ZERO;
    if ty == 3 {
        if tx.to.is_none() {
            return Err("a blob transaction cannot create a contract".into());
        }
        let hashes = tx.blob_versioned_hashes.as_deref().unwrap_or_default();
        if hashes.is_empty() {
            return Err("a blob transaction must carry at least one blob".into());
        }
        if hashes.len() > MAX_BLOBS_PER_TX {
            return Err(format!(
                "{} blobs exceed the limit of {MAX_BLOBS_PER_TX}",
                hashes.len()
            ));
        }
        if let Some(h) = hashes.iter().find(|h| h[0] != VERSIONED_HASH_VERSION_KZG) {
            return Err(format!("blob versioned hash {h} does not start with 0x01"));
        }
        let blob_base_fee = super::world::blob_base_fee(env, fork);
        max_blob_fee = tx
            .max_fee_per_blob_gas
            .ok_or("blob transaction without maxFeePerBlobGas")?;
        if max_blob_fee < blob_base_fee {
            return Err(format!(
                "max fee per blob gas {max_blob_fee} is below the blob base fee {blob_base_fee}"
            ));
        }
        blob_gas = U256::from(GAS_PER_BLOB) * U256::from(hashes.len());
        blob_fee = blob_gas * blob_base_fee;
    }

    let intrinsic = intrinsic_gas(tx, fork);
    if gas_limit < U256::from(intrinsic) {
        return Err(format!(
            "gas limit {gas_limit} is below the intrinsic gas {intrinsic}"
        ));
    }

    if tx.to.is_none() && fork.includes(Fork::Shanghai) && tx.data.len() > MAX_INITCODE_SIZE {
        return Err(format!(
            "init code of {} bytes exceeds the limit of {MAX_INITCODE_SIZE}",
            tx.data.len()
        ));
    }

    let sender = pre.get(&tx.sender);
    let (nonce, balance, has_code) = sender.map_or((0, U256::ZERO, false), |a| {
        (a.nonce, a.balance, !a.code.is_empty())
    });
    // EIP-3607, which clients apply to every fork.
    if has_code {
        return Err("the sender has code (EIP-3607)".into());
    }
    // EIP-2681: a nonce of 2^64-1 cannot be incremented.
    if nonce == u64::MAX {
        return Err("the sender's nonce is 2^64-1 (EIP-2681)".into());
    }
    if tx.nonce != U256::from(nonce) {
        return Err(format!(
            "transaction nonce {} is not the sender's nonce {nonce}",
            tx.nonce
        ));
    }

    // The sender must afford the worst case: every unit of gas at the max fee, the value and
    // every unit of blob gas at the max blob fee.
    let cost = gas_limit
        .checked_mul(max_fee)
        .and_then(|c| c.checked_add(tx.value))
        .and_then(|c| c.checked_add(blob_gas.checked_mul(max_blob_fee)?))
        .ok_or("gas_limit * max_fee + value (+ blob fees) overflows 256 bits")?;
    if balance < cost {
        return Err(format!(
            "sender balance {balance} is below the maximum cost {cost}"
        ));
    }

    Ok(Fees {
        max_fee,
        priority,
        blob_fee,
    })
}

/// Intrinsic gas of the transaction under `fork` (without Prague's EIP-7623 floor: Prague is
/// refused as unsupported before this point).
pub(super) fn intrinsic_gas(tx: &Transaction, fork: Fork) -> u64 {
    let zeros = tx.data.iter().filter(|b| **b == 0).count() as u64;
    let non_zeros = tx.data.len() as u64 - zeros;
    let non_zero_cost = if fork.includes(Fork::Istanbul) {
        16
    } else {
        68
    };
    let mut gas = 21_000 + zeros * 4 + non_zeros * non_zero_cost;
    if tx.to.is_none() {
        if fork.includes(Fork::Homestead) {
            gas += 32_000;
        }
        if fork.includes(Fork::Shanghai) {
            gas += 2 * (tx.data.len() as u64).div_ceil(32);
        }
    }
    if let Some(list) = &tx.access_list {
        let keys: usize = list.iter().map(|i| i.storage_keys.len()).sum();
        gas += 2_400 * list.len() as u64 + 1_900 * keys as u64;
    }
    gas
}
