//! Any transition tool as a backend: geth's `evm t8n` interface, which execution-spec-tests
//! fills tests through (geth, evmone, besu, nimbus, ethereumjs and the execution spec each
//! have one), declared in a backends file as a `[[runner]]` with `kind = "t8n"`.
//!
//! A t8n tool takes a pre-state (`alloc.json`), a block environment (`env.json`) and signed
//! transactions (`txs.json`), and writes the post-state (`--output.alloc`) and a result
//! (`--output.result`: state root, receipts, `rejected`, gas used). One call is one block, so
//! a chain is one call per block, each given the alloc the tool wrote for the block before:
//! the state between blocks is the tool's own output file, passed on unread-and-rewritten,
//! never rebuilt by evmdiff. A state test is one call with `--state-test` (no block
//! processing: no system calls, no withdrawals, no reward).
//!
//! Quirks handled here, where they enter:
//! * A receipt says success or failure, not revert or halt, and has no output: a
//!   transaction's outcome is a [`Scope::Receipt`] (status, gas, logs), and the state is
//!   known after the block only — or, for a state test's one transaction, after it
//!   ([`Scope::ReceiptState`]).
//! * A transaction the tool refuses is in `rejected` with its index and has no receipt.
//! * A receipt's success is `status: "0x1"` in geth's output and `succeeded: true` in the
//!   execution spec's.
//! * Gas per transaction is the difference of cumulative gas between receipts.
//! * BLOCKHASH answers only what `blockHashes` lists: a chain sends its headers' hashes, a
//!   state test the fillers' `keccak256(decimal(n))` for the 256 blocks before it. The keys
//!   are `0x`-hex numbers: the execution spec reads every key as hex, geth either way.
//! * The execution spec's tool wants `withdrawals` in the env from Shanghai on (an empty list
//!   for a state test), and leaves a zero `balance` or `nonce` out of the alloc it writes.
//! * Transactions are written with geth's JSON names (`gas`, `input`) beside the fixtures'
//!   (`gasLimit`, `data`): the execution spec's tool reads the former.
//! * No reward (`--state.reward -1`): a post-Merge chain has none, and evmdiff generates
//!   chains from Paris only.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use alloy_primitives::{B256, Bytes, Log};
use evmdiff_core::blockchaintest::write::signed_json;
use evmdiff_core::case::{Block, filler_block_hash};
use evmdiff_core::signing::sign;
use evmdiff_core::statetest::{read_state_json, state_json};
use evmdiff_core::{
    Backend, BackendError, BlockEnd, BlockOutcome, Capabilities, Case, ChainOutcome, Outcome,
    Profile, Scope, State, Status,
};
use serde_json::{Map, Value, json};

use super::config::RunnerConfig;
use super::intern;

/// A transition tool.
pub struct T8nRunner {
    name: &'static str,
    config: RunnerConfig,
    dir: tempfile::TempDir,
    count: u64,
}

impl T8nRunner {
    /// A tool configured by `config` (it runs once per block).
    pub fn new(config: &RunnerConfig) -> Result<T8nRunner, String> {
        let dir = config.workspace("t8n", "t8n")?;
        Ok(T8nRunner {
            name: intern(&config.name),
            config: config.clone(),
            dir,
            count: 0,
        })
    }

    /// Runs the tool on one block: `alloc` in, the result and the alloc file out.
    fn call(
        &self,
        dir: &Path,
        alloc: &Path,
        block: &BlockCall<'_>,
    ) -> Result<(Value, PathBuf), BackendError> {
        let BlockCall {
            env,
            txs,
            fork,
            chain_id,
            state_test,
        } = *block;
        let write = |name: &str, v: &Value| -> Result<PathBuf, BackendError> {
            let p = dir.join(name);
            std::fs::write(&p, v.to_string())
                .map_err(|e| BackendError::Failed(format!("cannot write {}: {e}", p.display())))?;
            Ok(p)
        };
        let env_path = write("env.json", env)?;
        let txs_path = write("txs.json", txs)?;
        let (result, alloc_out) = (dir.join("result.json"), dir.join("alloc-out.json"));
        let mut args: Vec<String> = self.config.command[1..].to_vec();
        let mut arg = |k: &str, v: String| {
            args.push(k.to_string());
            args.push(v);
        };
        arg("--input.alloc", alloc.display().to_string());
        arg("--input.env", env_path.display().to_string());
        arg("--input.txs", txs_path.display().to_string());
        arg("--output.basedir", dir.display().to_string());
        arg("--output.result", "result.json".into());
        arg("--output.alloc", "alloc-out.json".into());
        arg("--state.fork", fork.into());
        arg("--state.chainid", chain_id.to_string());
        arg("--state.reward", "-1".into());
        if state_test {
            args.push("--state-test".into());
        }
        let stderr_path = dir.join("stderr.txt");
        let stderr = std::fs::File::create(&stderr_path)
            .map_err(|e| BackendError::Failed(format!("cannot write its stderr file: {e}")))?;
        let mut child = Command::new(self.config.program())
            .args(&args)
            .envs(self.config.env.iter())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                BackendError::Failed(format!(
                    "t8n `{}` cannot start {}: {e}",
                    self.name,
                    self.config.program().display()
                ))
            })?;
        let timeout = self.config.timeout();
        let deadline = Instant::now() + timeout;
        let tail = || {
            let text = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(20)..].join("\n")
        };
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Ok(None) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(BackendError::Timeout(format!(
                        "t8n `{}` gave no result in {timeout:?}; stderr:\n{}",
                        self.name,
                        tail()
                    )));
                }
                Err(e) => return Err(BackendError::Failed(format!("waiting for t8n: {e}"))),
            }
        };
        if !status.success() {
            return Err(BackendError::Failed(format!(
                "t8n `{}` exited with {status}; stderr:\n{}",
                self.name,
                tail()
            )));
        }
        let text = std::fs::read_to_string(&result).map_err(|e| {
            BackendError::Failed(format!(
                "t8n `{}` wrote no result ({e}); stderr:\n{}",
                self.name,
                tail()
            ))
        })?;
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            BackendError::Failed(format!(
                "t8n `{}` wrote a result that is not JSON: {e}",
                self.name
            ))
        })?;
        Ok((value, alloc_out))
    }
}

/// What one call is given besides the alloc.
#[derive(Clone, Copy)]
struct BlockCall<'a> {
    env: &'a Value,
    txs: &'a Value,
    fork: &'a str,
    chain_id: u64,
    state_test: bool,
}

/// `n` as hex.
fn hex(n: impl std::fmt::LowerHex) -> Value {
    json!(format!("0x{n:x}"))
}

/// A number of the result, as the tools print them (hex strings).
fn number(v: Option<&Value>) -> u64 {
    v.and_then(Value::as_str)
        .and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .unwrap_or(0)
}

/// The env file of block `index`.
fn env_json(case: &Case, index: usize) -> Value {
    let block: &Block = &case.blocks[index];
    let e = &block.env;
    let mut m = Map::new();
    m.insert("currentCoinbase".into(), json!(e.coinbase));
    m.insert("currentGasLimit".into(), hex(e.gas_limit));
    m.insert("currentNumber".into(), hex(e.number));
    m.insert("currentTimestamp".into(), hex(e.timestamp));
    m.insert("currentDifficulty".into(), hex(e.difficulty));
    if let Some(f) = e.base_fee {
        m.insert("currentBaseFee".into(), hex(f));
    }
    if let Some(r) = e.random {
        m.insert("currentRandom".into(), json!(r));
    }
    if let Some(x) = e.excess_blob_gas {
        m.insert("currentExcessBlobGas".into(), hex(x));
    }
    let number: u64 = e.number.saturating_to();
    let hashes: Map<String, Value> = if case.is_chain() {
        case.block_hashes()
            .into_iter()
            .filter(|(n, _)| *n < number)
            .map(|(n, h)| (format!("{n:#x}"), json!(h)))
            .collect()
    } else {
        (number.saturating_sub(256)..number)
            .map(|n| (format!("{n:#x}"), json!(filler_block_hash(n))))
            .collect()
    };
    m.insert("blockHashes".into(), Value::Object(hashes));
    if let Some(r) = block
        .header
        .as_ref()
        .and_then(|h| h.parent_beacon_block_root)
    {
        m.insert("parentBeaconBlockRoot".into(), json!(r));
    }
    if let Some(parent) = case.parent_hash(index) {
        m.insert("parentHash".into(), json!(parent));
    }
    // The execution spec's tool wants `withdrawals` from Shanghai on, even for a state test.
    let none = Vec::new();
    let withdrawals = block
        .withdrawals
        .as_ref()
        .or((case.fork >= evmdiff_core::Fork::Shanghai).then_some(&none));
    if let Some(w) = withdrawals {
        let w: Vec<Value> = w
            .iter()
            .map(|w| {
                json!({
                    "index": hex(w.index),
                    "validatorIndex": hex(w.validator_index),
                    "address": w.address,
                    "amount": hex(w.amount),
                })
            })
            .collect();
        m.insert("withdrawals".into(), json!(w));
    }
    Value::Object(m)
}

/// A signed transaction as `txs.json` holds it: the fixtures' keys, plus `gas` and `input`
/// under the names of geth's JSON (which t8n tools read, the execution spec's too).
fn t8n_tx(mut tx: Value) -> Value {
    if let Some(m) = tx.as_object_mut() {
        if let Some(g) = m.get("gasLimit").cloned() {
            m.insert("gas".into(), g);
        }
        if let Some(d) = m.get("data").cloned() {
            m.insert("input".into(), d);
        }
    }
    tx
}

/// The alloc a tool wrote, with the fields it leaves out when they are zero (the execution
/// spec omits a zero `balance` and `nonce`) written in.
fn complete_alloc(text: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        return text.to_string();
    };
    for account in v.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
        if let Some(a) = account.as_object_mut() {
            a.entry("balance").or_insert(json!("0x0"));
            a.entry("nonce").or_insert(json!("0x0"));
        }
    }
    v.to_string()
}

/// The logs of a receipt.
fn logs(receipt: &Value) -> Vec<Log> {
    receipt
        .get("logs")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|log| {
                    let address = log.get("address")?.as_str()?.parse().ok()?;
                    let topics = log
                        .get("topics")?
                        .as_array()?
                        .iter()
                        .filter_map(|t| t.as_str()?.parse::<B256>().ok())
                        .collect();
                    let data: Bytes = log.get("data")?.as_str()?.parse().ok()?;
                    Log::new(address, topics, data)
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Backend for T8nRunner {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        "external"
    }

    fn capabilities(&self) -> Capabilities {
        let mut c = self.config.declared.capabilities(|p| {
            (!p.is_mainnet()).then(|| {
                "a t8n tool applies no profile rules: it runs mainnet profiles and those it \
                 declares in `profiles` only"
                    .into()
            })
        });
        c.steps = false;
        c.chains = true;
        c
    }

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        if !profile.is_mainnet() && self.config.declared.native(profile).is_none() {
            return Err(BackendError::Unsupported(format!(
                "t8n `{}` cannot apply profile rules, and does not declare `{}` as a profile it \
                 implements itself",
                self.name, profile.name
            )));
        }
        self.count += 1;
        let dir = self.dir.path().join(self.count.to_string());
        std::fs::create_dir_all(&dir)
            .map_err(|e| BackendError::Failed(format!("cannot make {}: {e}", dir.display())))?;
        let mut alloc = dir.join("alloc-pre.json");
        std::fs::write(&alloc, state_json(&case.pre).to_string())
            .map_err(|e| BackendError::Failed(format!("cannot write the alloc: {e}")))?;
        let fork = profile.base_fork;
        let state_test = !case.is_chain();
        let mut blocks = Vec::with_capacity(case.blocks.len());
        for (i, block) in case.blocks.iter().enumerate() {
            let chain_id = block.env.chain_id;
            let txs: Vec<Value> = block
                .txs
                .iter()
                .map(|t| {
                    sign(t, chain_id, fork)
                        .map(|s| t8n_tx(signed_json(&s, t.sender)))
                        .map_err(|e| {
                            BackendError::Unsupported(format!("t8n needs signed transactions: {e}"))
                        })
                })
                .collect::<Result<_, _>>()?;
            let block_dir = dir.join(format!("block-{}", i + 1));
            std::fs::create_dir_all(&block_dir).map_err(|e| {
                BackendError::Failed(format!("cannot make {}: {e}", block_dir.display()))
            })?;
            let (env, txs) = (env_json(case, i), json!(txs));
            let call = BlockCall {
                env: &env,
                txs: &txs,
                fork: fork.name(),
                chain_id,
                state_test,
            };
            let (result, alloc_out) = self.call(&block_dir, &alloc, &call)?;
            let text = std::fs::read_to_string(&alloc_out).map_err(|e| {
                BackendError::Failed(format!("t8n `{}` wrote no alloc: {e}", self.name))
            })?;
            let post = read_state_json(&complete_alloc(&text)).map_err(|e| {
                BackendError::Failed(format!(
                    "t8n `{}` wrote an alloc evmdiff cannot read: {e}",
                    self.name
                ))
            })?;
            let rejected: Vec<(u64, String)> = result
                .get("rejected")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .map(|x| {
                            (
                                x.get("index").and_then(Value::as_u64).unwrap_or(u64::MAX),
                                x.get("error")
                                    .and_then(Value::as_str)
                                    .unwrap_or("")
                                    .to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let receipts: Vec<Value> = result
                .get("receipts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut receipts = receipts.iter();
            let mut cumulative = 0u64;
            let mut outcomes = Vec::with_capacity(block.txs.len());
            for t in 0..block.txs.len() {
                if let Some((_, why)) = rejected.iter().find(|(i, _)| *i == t as u64) {
                    let mut o = Outcome::rejected(&State::new(), why.clone());
                    o.scope = Scope::Receipt;
                    outcomes.push(o);
                    continue;
                }
                let Some(r) = receipts.next() else {
                    return Err(BackendError::Failed(format!(
                        "t8n `{}` gave neither a receipt nor a rejection for transaction {}",
                        self.name,
                        t + 1
                    )));
                };
                let total = number(r.get("cumulativeGasUsed"));
                let gas = total.saturating_sub(cumulative);
                cumulative = total;
                // geth prints `status` ("0x1"), the execution spec `succeeded` (a boolean).
                let ok = match r.get("succeeded").and_then(Value::as_bool) {
                    Some(ok) => ok,
                    None => number(r.get("status")) == 1,
                };
                let status = if ok { Status::Success } else { Status::Revert };
                let logs = if ok { logs(r) } else { Vec::new() };
                let last = state_test && t + 1 == block.txs.len();
                let mut o = Outcome::new(
                    status,
                    gas,
                    0,
                    Bytes::new(),
                    logs,
                    if last { post.clone() } else { State::new() },
                    if ok {
                        String::new()
                    } else {
                        "failed (receipt status 0)".into()
                    },
                );
                o.scope = if last {
                    Scope::ReceiptState
                } else {
                    Scope::Receipt
                };
                outcomes.push(o);
            }
            let end =
                (!state_test).then(|| BlockEnd::new(post.clone(), number(result.get("gasUsed"))));
            blocks.push(BlockOutcome {
                txs: outcomes,
                end,
                invalid: None,
            });
            alloc = alloc_out;
        }
        // Only the last case's files stay (for a look after a failure).
        if self.count > 1 {
            let _ = std::fs::remove_dir_all(self.dir.path().join((self.count - 1).to_string()));
        }
        Ok(ChainOutcome { blocks })
    }
}
