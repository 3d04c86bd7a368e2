//! Generated chains: blocks of transactions that meet each other's state.
//!
//! The bugs that live between transactions need several of them on shared state: three
//! senders whose nonces advance; transactions that create contracts which later ones call or
//! destroy (EIP-6780 makes a destruction in a later transaction a mere transfer); reverted
//! transactions in between, and invalid ones — a wrong nonce, more value than the sender has,
//! a gas limit over what the block has left — which a sequencer drops while the block goes on;
//! value transfers; access lists; blob transactions from Cancun; withdrawals from Shanghai;
//! blocks whose timestamp, gas limit (within the rules), PREVRANDAO and coinbase differ, with
//! BLOCKHASH operands reading the earlier ones. The genesis holds the fork's system
//! contracts. Headers are left for the oracle to seal (base fee from the parent's gas, roots
//! from a reference execution): see `evmdiff_core::seal`.

use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use arbitrary::{Result, Unstructured};
use evmdiff_core::block_processing::system_contracts;
use evmdiff_core::case::{AccessListItem, BlockEnv, Case, Transaction, Withdrawal};
use evmdiff_core::statetest::sender_of;
use evmdiff_core::{Account, Fork, State};

use crate::config::GeneratorConfig;
use crate::generate::{
    Builder, CHAIN_BLOCKS, COINBASE, NOBODY, SENDER, SENDER_KEY, World, contract_address,
    contracts, transaction,
};
use crate::spans::{self, Unit};

/// Balance of the two rich senders; the third has [`POOR`].
const RICH: u128 = 10u128.pow(21);
/// Balance of the third sender: gas for many transactions, not a large transfer.
const POOR: u128 = 10u128.pow(15);
/// Fees every generated chain transaction offers: far above any base fee three blocks can
/// reach from 7 wei (it moves by at most an eighth per block).
const MAX_FEE: u64 = 100;

/// The three senders: `(address, key, balance)`.
fn senders() -> [(Address, B256, u128); 3] {
    let key = |s: &str| keccak256(s.as_bytes());
    let [k2, k3] = [key("evmdiff sender 2"), key("evmdiff sender 3")];
    [
        (SENDER, SENDER_KEY, RICH),
        (sender_of(&k2).expect("a valid key"), k2, RICH),
        (sender_of(&k3).expect("a valid key"), k3, POOR),
    ]
}

/// A chain under `world`'s fork (Paris or later).
pub(crate) fn chain(
    u: &mut Unstructured<'_>,
    world: &World<'_>,
    config: &GeneratorConfig,
) -> Result<Case> {
    let fork = world.fork;
    let mut pre = State::new();
    let senders = senders();
    for (address, _, balance) in senders {
        pre.insert(
            address,
            Account {
                balance: U256::from(balance),
                ..Default::default()
            },
        );
    }
    for (address, code) in system_contracts(fork) {
        pre.insert(
            address,
            Account {
                code,
                nonce: 1,
                ..Default::default()
            },
        );
    }
    contracts(u, world, config, true, &mut pre)?;

    let mut nonces = [0u64; 3];
    let mut targets: Vec<Address> = (0..config.contracts).map(contract_address).collect();
    let mut timestamp = 1_700_000_000u64;
    let mut gas_limit = 30_000_000u64;
    let blocks = u.int_in_range(1..=CHAIN_BLOCKS)?;
    let mut out = Vec::new();
    for number in 1..=blocks {
        timestamp += u.int_in_range(1u64..=24)?;
        // A gas limit may move by less than 1/1024 of its parent's per block.
        let step = u.int_in_range(0..=gas_limit / 1024 - 1)?;
        gas_limit = match u.int_in_range(0..=2)? {
            0 => gas_limit + step,
            1 => gas_limit - step,
            _ => gas_limit,
        };
        let env = BlockEnv {
            coinbase: *u.choose(&[COINBASE, COINBASE, contract_address(0), NOBODY])?,
            gas_limit: U256::from(gas_limit),
            number: U256::from(number),
            timestamp: U256::from(timestamp),
            difficulty: U256::ZERO,
            base_fee: Some(U256::from(7)),
            random: Some(B256::from(U256::from(u.arbitrary::<u64>()?))),
            excess_blob_gas: (fork >= Fork::Cancun).then_some(0),
            chain_id: 1,
        };
        let n = u.int_in_range(0..=4)?;
        let mut txs = Vec::with_capacity(n);
        for _ in 0..n {
            txs.push(spans::unit(Unit::Transaction, u, |u| {
                chain_tx(u, world, config, &senders, &mut nonces, &mut targets)
            })?);
        }
        out.push((env, txs));
    }
    if out.iter().all(|(_, txs)| txs.len() < 2) {
        let tx = spans::unit(Unit::Transaction, u, |u| {
            chain_tx(u, world, config, &senders, &mut nonces, &mut targets)
        })?;
        out.last_mut().expect("at least one block").1.push(tx);
    }
    let mut case = Case::chain("generated-chain", fork, pre, out);
    if fork >= Fork::Shanghai {
        for block in &mut case.blocks {
            let mut withdrawals = Vec::new();
            for index in 0..u.int_in_range(0..=2)? {
                withdrawals.push(Withdrawal {
                    index,
                    validator_index: u.int_in_range(0..=3)?,
                    address: *u.choose(&[targets[0], senders[2].0, NOBODY, COINBASE])?,
                    amount: *u.choose(&[0u64, 1, 1_000_000_000])?,
                });
            }
            block.withdrawals = Some(withdrawals);
        }
    }
    Ok(case)
}

/// One transaction of a chain: a call, a creation, a transfer or a blob transaction, from one
/// of the senders, now and then invalid.
fn chain_tx(
    u: &mut Unstructured<'_>,
    world: &World<'_>,
    config: &GeneratorConfig,
    senders: &[(Address, B256, u128); 3],
    nonces: &mut [u64; 3],
    targets: &mut Vec<Address>,
) -> Result<Transaction> {
    let s = u.int_in_range(0..=2usize)?;
    let (sender, key, funds) = senders[s];
    // The transaction of a state test, re-addressed: its call data, gas, type, access list
    // and blob fields, with this chain's sender, nonce and fees.
    let mut tx = transaction(u, world, config)?;
    tx.sender = sender;
    tx.secret_key = key;
    match u.int_in_range(0..=9)? {
        // A call of a contract, possibly one an earlier transaction created.
        0..=4 if tx.to.is_some() && tx.max_fee_per_blob_gas.is_none() => {
            tx.to = Some(*u.choose(targets)?);
        }
        // A creation of a contract later transactions can call (or a destroyer).
        5 | 6 if tx.max_fee_per_blob_gas.is_none() => {
            tx.to = None;
            tx.data = deployer(&runtime(u, world, config)?);
            targets.push(sender.create(nonces[s]));
        }
        // A value transfer to an account without code.
        7 => {
            tx.to = Some(*u.choose(&[
                NOBODY,
                senders[(s + 1) % 3].0,
                address!("00000000000000000000000000000000000beef0"),
            ])?);
            tx.data = Bytes::new();
            tx.value = U256::from(*u.choose(&[1u64, 1_000_000, 1_000_000_000])?);
            tx.max_fee_per_blob_gas = None;
            tx.blob_versioned_hashes = None;
        }
        _ => {}
    }
    if tx.access_list.is_some() {
        tx.access_list = Some(vec![AccessListItem {
            address: *u.choose(targets)?,
            storage_keys: vec![B256::ZERO, B256::with_last_byte(1)],
        }]);
    }
    if tx.gas_price.is_some() {
        tx.gas_price = Some(U256::from(MAX_FEE));
    } else {
        tx.max_fee_per_gas = Some(U256::from(MAX_FEE));
    }
    // Now and then invalid: a wrong nonce, more value than the sender has, more gas than a
    // block holds. The sequencer drops it; its nonce is not used.
    let mut nonce = nonces[s];
    let valid = match u.int_in_range(0..=23)? {
        0 => {
            nonce += u.int_in_range(1..=2)?;
            false
        }
        1 if nonce > 0 => {
            nonce -= 1;
            false
        }
        2 => {
            tx.value = U256::from(RICH) * U256::from(2);
            false
        }
        3 => {
            tx.gas_limit = U256::from(40_000_000u64);
            false
        }
        // EIP-1559: a priority fee above the fee cap.
        4 if tx.max_fee_per_gas.is_some() => {
            tx.max_priority_fee_per_gas = Some(U256::from(MAX_FEE + 1));
            false
        }
        // Value the sender has, but not with the gas at the fee cap on top: the upfront
        // balance check is of value + gas limit × max fee (+ blob gas), not of value alone.
        // Short by half the gas's cost, more than the sender could have received since (a
        // rare larger gift makes it valid: its nonce is then reused and the sender's next
        // transaction is the one refused).
        5 => {
            let upfront = tx.gas_limit * U256::from(MAX_FEE);
            tx.value = U256::from(funds) - upfront / U256::from(2);
            false
        }
        _ => true,
    };
    tx.nonce = U256::from(nonce);
    if valid {
        nonces[s] += 1;
    }
    Ok(tx)
}

/// A runtime for a contract a transaction creates: a generated program, or (one in four) a
/// destroyer that self-destructs to the coinbase whenever called.
fn runtime(u: &mut Unstructured<'_>, world: &World<'_>, config: &GeneratorConfig) -> Result<Bytes> {
    if u.ratio(1, 4)? {
        let mut code = vec![0x73];
        code.extend_from_slice(COINBASE.as_slice());
        code.push(0xff);
        return Ok(code.into());
    }
    Builder::new(u, world, config, 1, false).contract()
}

/// Init code that deploys `runtime`: `CODECOPY(0, 13, len)`, `RETURN(0, len)`, then it.
fn deployer(runtime: &[u8]) -> Bytes {
    let len = (runtime.len() as u16).to_be_bytes();
    let mut code = vec![
        0x61, len[0], len[1], // PUSH2 len
        0x80,   // DUP1
        0x61, 0x00, 0x0d, // PUSH2 13
        0x60, 0x00, // PUSH1 0
        0x39, // CODECOPY
        0x60, 0x00, // PUSH1 0
        0xf3, // RETURN
    ];
    code.extend_from_slice(runtime);
    code.into()
}
