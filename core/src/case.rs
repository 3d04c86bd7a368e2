//! A `Case`: one executable test — a pre-state and the blocks of transactions run on it — plus
//! what ethereum/tests expects of it, when that is known.
//!
//! Two kinds share the one shape. A *state test* (the ethereum/tests GeneralStateTest, see
//! [`crate::statetest`]) is one block with one transaction, applied under the block's
//! environment with nothing around it: no system calls, withdrawals or rewards, and
//! `BLOCKHASH(n)` is `keccak256` of `n` in decimal, as the fillers define it. A *chain*
//! ([`Case::genesis`] set) is a sequence of blocks processed as a client processes them: the
//! fork's system calls around each block (EIP-4788 beacon roots and EIP-2935 block hashes
//! before it, the EIP-7002 and EIP-7251 request contracts after it), every transaction in
//! order on the state the previous one left (an invalid one dropped, as a sequencer drops it,
//! and the block going on without it), the withdrawals, and `BLOCKHASH` reading the hashes of
//! the earlier headers.
//!
//! Every backend executes the whole case itself and reports the state after every transaction
//! ([`crate::outcome::ChainOutcome`]): evmdiff never carries the state from one transaction to
//! the next on a backend's behalf, or what a backend wrongly keeps between transactions
//! (transient storage, warm sets, refunds) could never show.

use std::collections::BTreeMap;
use std::fmt;

use alloy_consensus::Header;
pub use alloy_eips::eip4895::Withdrawal;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
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
    /// Accounts before the first block.
    pub pre: State,
    /// The blocks, in order: one block of one transaction for a state test.
    pub blocks: Vec<Block>,
    /// The genesis header of a chain (its hash is the first block's parent hash); `None` for a
    /// state test.
    pub genesis: Option<Header>,
    /// Headers before the genesis, oldest first, that BLOCKHASH may read: empty for a chain
    /// that starts at its genesis; the headers a block witness carries when one block runs
    /// alone on the state before it ([`Case::block_alone`]).
    pub ancestors: Vec<Header>,
    /// What ethereum/tests expects (post-state root, logs hash, exception), if known.
    pub expect: Option<Expectation>,
    /// evmdiff's own metadata (`_info.evmdiff`): the profile a finding was made under, seed...
    pub meta: Option<serde_json::Value>,
}

/// One block of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// What the block's transactions see (COINBASE, NUMBER, TIMESTAMP, BASEFEE, ...).
    pub env: BlockEnv,
    /// The transactions, in order.
    pub txs: Vec<Transaction>,
    /// EIP-4895 withdrawals, credited after the transactions (chains from Shanghai on).
    pub withdrawals: Option<Vec<Withdrawal>>,
    /// The block's header, in a chain: the hash BLOCKHASH and EIP-2935 give later blocks, the
    /// parent beacon block root EIP-4788 stores, and what an export carries. `None` in a state
    /// test.
    pub header: Option<Header>,
    /// What a BlockchainTest expects of the block; `None` when nothing is expected (a state
    /// test, a generated chain).
    pub expect: Option<BlockExpect>,
}

/// What a BlockchainTest expects of one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockExpect {
    /// A valid block: a backend must execute every transaction and reproduce the header's
    /// state root, receipts root, logs bloom and gas used.
    Valid,
    /// An invalid block (`expectException`, the names `|`-separated): a backend must refuse
    /// it, by refusing one of its transactions or the block itself, or by results that do not
    /// match its header.
    Invalid(String),
}

/// Where in a case: a block, and a transaction of it (`None`: the block's own processing —
/// system calls, withdrawals — or the block as a whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct At {
    /// Index of the block in [`Case::blocks`].
    pub block: usize,
    /// Index of the transaction in the block's [`Block::txs`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<usize>,
}

impl fmt::Display for At {
    /// `block 2, transaction 1` (both counted from 1, as a reader counts them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tx {
            Some(t) => write!(f, "block {}, transaction {}", self.block + 1, t + 1),
            None => write!(f, "block {} (after its transactions)", self.block + 1),
        }
    }
}

impl Case {
    /// A state test: `tx` applied to `pre` under `env`.
    pub fn state_test(
        name: impl Into<String>,
        fork: Fork,
        env: BlockEnv,
        pre: State,
        tx: Transaction,
    ) -> Case {
        Case {
            name: name.into(),
            fork,
            pre,
            blocks: vec![Block {
                env,
                txs: vec![tx],
                withdrawals: None,
                header: None,
                expect: None,
            }],
            genesis: None,
            ancestors: Vec::new(),
            expect: None,
            meta: None,
        }
    }

    /// A chain on `pre`: a genesis header, then one block per `(env, transactions)`, each with
    /// a header made from its environment (number, timestamp, gas limit, base fee,
    /// beneficiary, PREVRANDAO as `mixHash`, excess blob gas, a parent beacon block root from
    /// Cancun, empty withdrawals from Shanghai). The header's results (roots, bloom, gas used)
    /// are left empty until a reference execution seals them; backends read only the hashes.
    pub fn chain(
        name: impl Into<String>,
        fork: Fork,
        pre: State,
        blocks: Vec<(BlockEnv, Vec<Transaction>)>,
    ) -> Case {
        let genesis_number = blocks.first().map_or(0, |(e, _)| {
            e.number.saturating_to::<u64>().saturating_sub(1)
        });
        let first = blocks.first().map(|(e, _)| e.clone());
        let genesis = Header {
            number: genesis_number,
            gas_limit: first
                .as_ref()
                .map_or(30_000_000, |e| e.gas_limit.saturating_to()),
            timestamp: first
                .as_ref()
                .map_or(0, |e| e.timestamp.saturating_to::<u64>().saturating_sub(12)),
            ..header_for(fork, first.as_ref())
        };
        let blocks = blocks
            .into_iter()
            .map(|(env, txs)| {
                let header = Header {
                    number: env.number.saturating_to(),
                    gas_limit: env.gas_limit.saturating_to(),
                    timestamp: env.timestamp.saturating_to(),
                    parent_beacon_block_root: (fork >= Fork::Cancun)
                        .then(|| keccak256(env.number.to_be_bytes::<32>())),
                    ..header_for(fork, Some(&env))
                };
                Block {
                    withdrawals: (fork >= Fork::Shanghai).then(Vec::new),
                    env,
                    txs,
                    header: Some(header),
                    expect: None,
                }
            })
            .collect();
        Case {
            name: name.into(),
            fork,
            pre,
            blocks,
            genesis: Some(genesis),
            ancestors: Vec::new(),
            expect: None,
            meta: None,
        }
    }

    /// True for a chain (blocks processed as a client processes them), false for a state test.
    pub fn is_chain(&self) -> bool {
        self.genesis.is_some()
    }

    /// The block environment and transaction of a state test of one transaction: what a
    /// backend that runs single transactions only (a state-test runner) can run.
    pub fn single(&self) -> Option<(&BlockEnv, &Transaction)> {
        match (self.is_chain(), self.blocks.as_slice()) {
            (false, [b]) if b.txs.len() == 1 => Some((&b.env, &b.txs[0])),
            _ => None,
        }
    }

    /// The first transaction (the only one of a state test).
    pub fn tx(&self) -> Option<&Transaction> {
        self.blocks.iter().flat_map(|b| &b.txs).next()
    }

    /// The first transaction, to change it.
    pub fn tx_mut(&mut self) -> Option<&mut Transaction> {
        self.blocks.iter_mut().flat_map(|b| &mut b.txs).next()
    }

    /// The first block's environment (the only one of a state test).
    pub fn env(&self) -> Option<&BlockEnv> {
        self.blocks.first().map(|b| &b.env)
    }

    /// Every transaction with where it is, in execution order.
    pub fn transactions(&self) -> impl Iterator<Item = (At, &Transaction)> {
        self.blocks.iter().enumerate().flat_map(|(i, b)| {
            b.txs.iter().enumerate().map(move |(t, tx)| {
                (
                    At {
                        block: i,
                        tx: Some(t),
                    },
                    tx,
                )
            })
        })
    }

    /// How many transactions the case has.
    pub fn tx_count(&self) -> usize {
        self.blocks.iter().map(|b| b.txs.len()).sum()
    }

    /// What `BLOCKHASH` answers in this case, by block number: in a chain, the hashes of the
    /// genesis and of every block's header; empty for a state test, whose hashes follow the
    /// fillers' convention ([`filler_block_hash`]).
    pub fn block_hashes(&self) -> BTreeMap<u64, B256> {
        self.ancestors
            .iter()
            .chain(&self.genesis)
            .chain(self.blocks.iter().filter_map(|b| b.header.as_ref()))
            .map(|h| (h.number, h.hash_slow()))
            .collect()
    }

    /// The hash of the header before block `index` (the genesis for the first block): what
    /// EIP-2935 stores at the start of the block. `None` for a state test.
    pub fn parent_hash(&self, index: usize) -> Option<B256> {
        let parent = match index {
            0 => self.genesis.as_ref(),
            i => self.blocks.get(i - 1)?.header.as_ref(),
        }?;
        Some(parent.hash_slow())
    }

    /// Block `index` of a chain on its own: `pre` (the state before it) as the pre-state, the
    /// block's parent as the genesis, and the up to 255 headers before the parent as
    /// ancestors, so that BLOCKHASH and the system calls see what they see in the chain. What
    /// a stateless executor of that one block is given, and what a block witness is taken
    /// of. A state test is its own one block.
    pub fn block_alone(&self, index: usize, pre: State) -> Case {
        if !self.is_chain() {
            return Case {
                pre,
                expect: None,
                ..self.clone()
            };
        }
        let headers: Vec<&Header> = self
            .ancestors
            .iter()
            .chain(&self.genesis)
            .chain(
                self.blocks[..index]
                    .iter()
                    .filter_map(|b| b.header.as_ref()),
            )
            .collect();
        let (parent, before) = headers.split_last().expect("a chain has a genesis");
        let keep = before.len().saturating_sub(255);
        let mut block = self.blocks[index].clone();
        block.expect = None;
        Case {
            name: format!("{}/block-{}", self.name, index + 1),
            fork: self.fork,
            pre,
            blocks: vec![block],
            genesis: Some((*parent).clone()),
            ancestors: before[keep..].iter().map(|h| (*h).clone()).collect(),
            expect: None,
            meta: None,
        }
    }
}

/// The fields of a header that follow from the fork and a block environment.
fn header_for(fork: Fork, env: Option<&BlockEnv>) -> Header {
    Header {
        beneficiary: env.map(|e| e.coinbase).unwrap_or_default(),
        difficulty: env.map(|e| e.difficulty).unwrap_or_default(),
        mix_hash: env.and_then(|e| e.random).unwrap_or_default(),
        base_fee_per_gas: (fork >= Fork::London).then(|| {
            env.and_then(|e| e.base_fee)
                .map_or(7, |b| b.saturating_to::<u64>())
        }),
        withdrawals_root: (fork >= Fork::Shanghai).then_some(alloy_trie::EMPTY_ROOT_HASH),
        blob_gas_used: (fork >= Fork::Cancun).then_some(0),
        excess_blob_gas: (fork >= Fork::Cancun)
            .then(|| env.and_then(|e| e.excess_blob_gas).unwrap_or(0)),
        parent_beacon_block_root: (fork >= Fork::Cancun).then_some(B256::ZERO),
        requests_hash: (fork >= Fork::Prague).then_some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH),
        ..Header::default()
    }
}

/// `BLOCKHASH(n)` in a state test, as the ethereum/tests fillers define it: `keccak256` of the
/// number written in decimal.
pub fn filler_block_hash(number: u64) -> B256 {
    keccak256(number.to_string().as_bytes())
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

impl BlockEnv {
    /// What the transactions of the block with `header` see, on a chain with `chain_id`.
    /// From Paris on `mixHash` is PREVRANDAO.
    pub fn of_header(header: &Header, fork: Fork, chain_id: u64) -> BlockEnv {
        BlockEnv {
            coinbase: header.beneficiary,
            gas_limit: U256::from(header.gas_limit),
            number: U256::from(header.number),
            timestamp: U256::from(header.timestamp),
            difficulty: header.difficulty,
            base_fee: header.base_fee_per_gas.map(U256::from),
            random: (fork >= Fork::Paris).then_some(header.mix_hash),
            excess_blob_gas: header.excess_blob_gas,
            chain_id,
        }
    }
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
    /// The signature of a transaction read signed (from a block), whose secret key is not
    /// known: what an export or a transition tool is given when it cannot be signed anew.
    pub signature: Option<Signed>,
}

/// How a transaction read from a block was signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    /// The signature.
    pub signature: alloy_primitives::Signature,
    /// The chain id it was signed for (`None`: a legacy transaction signed before EIP-155).
    pub chain_id: Option<u64>,
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
            signature: None,
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

impl Expectation {
    /// What a state test written from `outcome` (a reference backend's, for a finding or an
    /// export) expects: its root and logs, and `refused` (the exception text) when the
    /// transaction was refused.
    pub fn of(outcome: &crate::outcome::Outcome, refused: impl FnOnce() -> String) -> Expectation {
        Expectation {
            hash: outcome.state_root(),
            logs: outcome.logs_hash(),
            exception: (outcome.status == crate::outcome::Status::Rejected).then(refused),
            out: None,
        }
    }
}
