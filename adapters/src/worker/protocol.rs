//! evmdiff's JSON-lines worker protocol (specified in `docs/backends.md`): the request for one
//! case under one profile, and the normalized outcome a worker answers with.
//!
//! A request carries the case as the one-vector state test evmdiff writes for its findings, so
//! a worker needs nothing but a state-test reader, and the profile as plain data, so that the
//! worker can apply it *inside* its implementation. The answer is already normalized by the
//! worker script (status classes, refund, EIP-161 post-state); this side only checks its shape
//! and that the post-state it lists hashes to the root the implementation computed itself.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, Log, LogData, U256};
use evmdiff_core::profile::Behaviour;
use evmdiff_core::state::Account;
use evmdiff_core::statetest::{env_json, state_json, transaction_json, write_case};
use evmdiff_core::{
    BackendError, BlockEnd, BlockOutcome, Case, ChainOutcome, HaltClass, Outcome, Profile, State,
    Status,
};
use serde_json::{Map, Value, json};

/// The protocol version this evmdiff speaks (docs/protocol.md): a worker says it in its
/// hello line, and a worker that says another one is refused before its first case.
pub const PROTOCOL_VERSION: u64 = 1;

/// The request line for `case` under `profile`, numbered `id`; `steps` asks the worker to
/// stream its steps before the answer.
pub fn request(id: u64, case: &Case, profile: &Profile, steps: bool) -> Value {
    let mut r = json!({
        "id": id,
        "fork": profile.base_fork.name(),
        "test": test_body(case, profile),
        "profile": profile_json(profile),
    });
    if steps {
        r["steps"] = json!(true);
    }
    r
}

/// The request line for `case` under `profile`, which the worker implements itself: the
/// profile goes by name only (`"profile": null`, `"nativeProfile": NAME`), so the worker
/// applies its own rules, not evmdiff's.
pub fn native_request(id: u64, case: &Case, profile: &Profile, steps: bool) -> Value {
    let mut r = json!({
        "id": id,
        "fork": profile.base_fork.name(),
        "test": test_body(case, profile),
        "profile": Value::Null,
        "nativeProfile": profile.name,
    });
    if steps {
        r["steps"] = json!(true);
    }
    r
}

/// The chain request for `case` under `profile`, numbered `id` (docs/protocol.md, "The chain
/// form"): sent instead of [`request`] for every case that is not a state test of one
/// transaction, to a worker that declares `chains`. `native` is the profile the worker
/// implements itself, if the case runs under one (then `profile` is `null` and
/// `nativeProfile` names it).
pub fn chain_request(id: u64, case: &Case, profile: &Profile, native: Option<&Profile>) -> Value {
    let mut r = json!({
        "id": id,
        "fork": profile.base_fork.name(),
        "chain": chain_body(case),
        "profile": match native {
            Some(_) => Value::Null,
            None => profile_json(profile),
        },
    });
    if let Some(n) = native {
        r["nativeProfile"] = json!(n.name);
    }
    r
}

/// The case as the chain form's `chain`: the pre-state, the genesis header, the hash of every
/// header by number (what BLOCKHASH answers), and each block with its environment, header,
/// transactions and withdrawals.
///
/// The environment is the state test's `env` (so a worker reuses its state-test reader), plus
/// what only a chain's block has: `parentHash` (EIP-2935 stores it), `parentBeaconBlockRoot`
/// (EIP-4788 stores it) and `withdrawals`. Each transaction is the state test's
/// `transaction` object with its `type` added.
pub fn chain_body(case: &Case) -> Value {
    let header = |h: &alloy_consensus::Header| {
        let mut v = serde_json::to_value(h).unwrap_or(Value::Null);
        v["hash"] = json!(h.hash_slow());
        v
    };
    let hashes: Map<String, Value> = case
        .block_hashes()
        .into_iter()
        .map(|(n, h)| (format!("{n:#x}"), json!(h)))
        .collect();
    let blocks: Vec<Value> = case
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let mut env = env_json(&b.env);
            if let Some(parent) = case.parent_hash(i) {
                env["parentHash"] = json!(parent);
            }
            if let Some(root) = b.header.as_ref().and_then(|h| h.parent_beacon_block_root) {
                env["parentBeaconBlockRoot"] = json!(root);
            }
            let txs: Vec<Value> = b
                .txs
                .iter()
                .map(|t| {
                    let mut v = transaction_json(t);
                    v["type"] = json!(format!("{:#x}", t.effective_type()));
                    v
                })
                .collect();
            let withdrawals = b.withdrawals.as_ref().map(|ws| {
                ws.iter()
                    .map(|w| {
                        json!({
                            "index": format!("{:#x}", w.index),
                            "validatorIndex": format!("{:#x}", w.validator_index),
                            "address": w.address,
                            "amount": format!("{:#x}", w.amount),
                        })
                    })
                    .collect::<Vec<_>>()
            });
            json!({
                "env": env,
                "header": b.header.as_ref().map(header),
                "transactions": txs,
                "withdrawals": withdrawals,
            })
        })
        .collect();
    json!({
        "chainId": format!("{:#x}", case.env().map_or(1, |e| e.chain_id)),
        "pre": state_json(&case.pre),
        "genesis": case.genesis.as_ref().map(header),
        "blockHashes": hashes,
        "blocks": blocks,
    })
}

/// The one-vector state test of `case`, with its `post` entry under the profile's fork
/// (`null` for a chain, which is never sent as a state test).
pub fn test_body(case: &Case, profile: &Profile) -> Value {
    let Some(mut file) = write_case(case, "case", "", profile.base_fork.name()) else {
        return Value::Null;
    };
    file.as_object_mut()
        .and_then(|m| m.remove("case"))
        .unwrap_or(Value::Null)
}

/// The profile as the protocol's JSON: `null` for plain mainnet.
pub fn profile_json(profile: &Profile) -> Value {
    if profile.is_mainnet() {
        return Value::Null;
    }
    let rule = |b: Behaviour| match b {
        Behaviour::Constant(v) => json!({ "behaviour": b.keyword(), "value": format!("{v:#x}") }),
        other => json!({ "behaviour": other.keyword() }),
    };
    let opcodes: Map<String, Value> = profile
        .opcodes
        .iter()
        .filter(|(_, b)| **b != Behaviour::Supported)
        .map(|(op, b)| (format!("0x{op:02x}"), rule(*b)))
        .collect();
    let precompiles: Map<String, Value> = profile
        .precompile_rules()
        .into_iter()
        .map(|(a, b)| (format!("{a:#x}"), rule(b)))
        .collect();
    let mut limits = Map::new();
    if let Some(cap) = profile.limits.modexp {
        limits.insert(
            "modexp".into(),
            json!({ "maxLen": cap.max_len, "behaviour": cap.behaviour.keyword() }),
        );
    }
    let mut v = json!({
        "name": profile.name,
        "baseFork": profile.base_fork.name(),
        "opcodes": opcodes,
        "precompiles": precompiles,
        "limits": limits,
    });
    // Present only when the profile has them, so that a worker written before they existed
    // still gets the requests it understands; one that checks for unknown keys sits out.
    if !profile.gas.is_empty() {
        let ops: Map<String, Value> = profile
            .gas
            .opcodes
            .iter()
            .map(|(op, g)| (format!("0x{op:02x}"), json!(g)))
            .collect();
        let pcs: Map<String, Value> = profile
            .gas
            .precompiles
            .iter()
            .map(|(a, g)| (format!("{a:#x}"), json!(g)))
            .collect();
        v["gas"] = json!({ "opcodes": ops, "precompiles": pcs });
    }
    if !profile.added.is_empty() {
        let added: Map<String, Value> = profile
            .added
            .iter()
            .map(|(a, p)| {
                let entry = json!({ "implementation": p.implementation.keyword(), "gas": p.gas });
                (format!("{a:#x}"), entry)
            })
            .collect();
        v["addedPrecompiles"] = Value::Object(added);
    }
    v
}

/// What a response line says.
#[derive(Debug)]
pub enum Response {
    /// An outcome.
    Outcome(Box<Outcome>),
    /// The worker cannot run this case (fork, profile rule, transaction type).
    Unsupported(String),
    /// The implementation or the worker failed on this case.
    Failed(String),
}

/// What a response line to a chain request says.
#[derive(Debug)]
pub enum ChainResponse {
    /// Every block's outcome.
    Outcome(ChainOutcome),
    /// The worker cannot run this case.
    Unsupported(String),
    /// The implementation or the worker failed on this case.
    Failed(String),
}

/// Parses the response to chain request `id`: `blocks`, one entry per block it executed, each
/// with `txs` (one answer per transaction, in the single form's shape), `end` (`post`,
/// `stateRoot`, `gasUsed`) and `invalid`. An `Err` is a protocol violation.
pub fn parse_chain_response(line: &str, id: u64) -> Result<ChainResponse, String> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line:.200}"))?;
    let got = v.get("id").and_then(Value::as_u64);
    if got != Some(id) {
        return Err(format!("answer for id {got:?}, expected {id}: {line:.200}"));
    }
    if let Some(why) = v.get("unsupported") {
        return Ok(ChainResponse::Unsupported(text(why)));
    }
    if let Some(why) = v.get("failed") {
        return Ok(ChainResponse::Failed(text(why)));
    }
    let blocks = v
        .get("blocks")
        .and_then(Value::as_array)
        .ok_or("missing `blocks`")?;
    let blocks = blocks
        .iter()
        .enumerate()
        .map(|(i, b)| block_outcome(b).map_err(|e| format!("block {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ChainResponse::Outcome(ChainOutcome { blocks }))
}

fn block_outcome(b: &Value) -> Result<BlockOutcome, String> {
    let txs = match b.get("txs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, t)| outcome(t).map_err(|e| format!("transaction {}: {e}", i + 1)))
            .collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`txs` is not an array: {other:.100}")),
    };
    let invalid = match b.get("invalid") {
        None | Some(Value::Null) => None,
        Some(why) => Some(text(why)),
    };
    let end = match b.get("end") {
        None | Some(Value::Null) => None,
        Some(e) => {
            let post = post_state(e.get("post").ok_or("`end` without `post`")?)?;
            let end = BlockEnd::new(post, u64_field(e, "gasUsed")?);
            check_root(e, end.state_root())?;
            Some(end)
        }
    };
    if end.is_none() && invalid.is_none() {
        return Err("a block with neither `end` nor `invalid`".into());
    }
    Ok(BlockOutcome { txs, end, invalid })
}

/// The implementation's own `stateRoot`, if the answer gives one, must be the root of the
/// post-state it listed: otherwise the worker's dump is wrong.
fn check_root(v: &Value, listed: B256) -> Result<(), String> {
    if let Some(root) = v.get("stateRoot").and_then(Value::as_str) {
        let root: B256 = root
            .parse()
            .map_err(|_| format!("bad `stateRoot` {root}"))?;
        if root != listed {
            return Err(format!(
                "the post-state listed hashes to {listed}, the implementation's own root is {root}"
            ));
        }
    }
    Ok(())
}

/// Parses the response to request `id`. An `Err` is a protocol violation (bad JSON, wrong id,
/// missing field): the worker is out of step and must be restarted.
pub fn parse_response(line: &str, id: u64) -> Result<Response, String> {
    let v: Value =
        serde_json::from_str(line).map_err(|e| format!("not JSON ({e}): {line:.200}"))?;
    let got = v.get("id").and_then(Value::as_u64);
    if got != Some(id) {
        return Err(format!("answer for id {got:?}, expected {id}: {line:.200}"));
    }
    if let Some(why) = v.get("unsupported") {
        return Ok(Response::Unsupported(text(why)));
    }
    if let Some(why) = v.get("failed") {
        return Ok(Response::Failed(text(why)));
    }
    outcome(&v).map(|o| Response::Outcome(Box::new(o)))
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn outcome(v: &Value) -> Result<Outcome, String> {
    let status = match str_field(v, "status")? {
        "success" => Status::Success,
        "revert" => Status::Revert,
        "rejected" => Status::Rejected,
        "halt" => {
            let class = v.get("halt").cloned().unwrap_or(json!("other"));
            Status::Halt(
                serde_json::from_value::<HaltClass>(class.clone())
                    .map_err(|_| format!("unknown halt class {class}"))?,
            )
        }
        other => return Err(format!("unknown status `{other}`")),
    };
    let gas_used = u64_field(v, "gasUsed")?;
    let refund = u64_field(v, "refund")?;
    let output = bytes(v.get("output").unwrap_or(&json!("0x")), "output")?;
    let logs = match v.get("logs") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.iter().map(log).collect::<Result<_, _>>()?,
        Some(other) => return Err(format!("`logs` is not an array: {other:.100}")),
    };
    let post = post_state(v.get("post").ok_or("missing `post`")?)?;
    let detail = v.get("detail").map(text).unwrap_or_default();
    let outcome = Outcome::new(status, gas_used, refund, output, logs, post, detail);
    check_root(v, outcome.state_root())?;
    Ok(outcome)
}

fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("missing `{key}`"))
}

fn u256(v: &Value, what: &str) -> Result<U256, String> {
    match v {
        Value::String(s) => evmdiff_core::statetest::parse_u256(s)
            .ok_or_else(|| format!("`{what}` is not a number: {s}")),
        Value::Number(n) => n
            .as_u64()
            .map(U256::from)
            .ok_or_else(|| format!("`{what}` is not a u64: {n}")),
        other => Err(format!("`{what}` is not a number: {other}")),
    }
}

fn u64_field(v: &Value, key: &str) -> Result<u64, String> {
    let n = u256(v.get(key).ok_or_else(|| format!("missing `{key}`"))?, key)?;
    u64::try_from(n).map_err(|_| format!("`{key}` over 64 bits: {n}"))
}

fn bytes(v: &Value, what: &str) -> Result<Bytes, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("`{what}` is not a hex string"))?;
    let s = s.strip_prefix("0x").unwrap_or(s);
    alloy_primitives::hex::decode(s)
        .map(Bytes::from)
        .map_err(|e| format!("`{what}` is not hex ({e})"))
}

fn log(v: &Value) -> Result<Log, String> {
    let address: Address = str_field(v, "address")?
        .parse()
        .map_err(|_| "bad log address".to_string())?;
    let topics = v
        .get("topics")
        .and_then(Value::as_array)
        .ok_or("log without `topics`")?
        .iter()
        .map(|t| {
            let n = u256(t, "topic")?;
            Ok(B256::from(n))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let data = bytes(v.get("data").unwrap_or(&json!("0x")), "log data")?;
    Ok(Log {
        address,
        data: LogData::new_unchecked(topics, data),
    })
}

fn post_state(v: &Value) -> Result<State, String> {
    let accounts = v.as_object().ok_or("`post` is not an object")?;
    let mut state = BTreeMap::new();
    for (addr, acc) in accounts {
        let address: Address = addr
            .parse()
            .map_err(|_| format!("bad address `{addr}` in `post`"))?;
        let field = |k: &str| acc.get(k).cloned().unwrap_or(json!("0x0"));
        let nonce = u256(&field("nonce"), "nonce")?;
        let mut storage = BTreeMap::new();
        if let Some(slots) = acc.get("storage").and_then(Value::as_object) {
            for (k, val) in slots {
                let value = u256(val, "storage value")?;
                if !value.is_zero() {
                    storage.insert(u256(&json!(k), "storage key")?, value);
                }
            }
        }
        state.insert(
            address,
            Account {
                balance: u256(&field("balance"), "balance")?,
                nonce: u64::try_from(nonce).map_err(|_| format!("nonce over 64 bits: {nonce}"))?,
                code: bytes(acc.get("code").unwrap_or(&json!("0x")), "code")?,
                storage,
            },
        );
    }
    Ok(state)
}

/// Turns a worker's verdict on a chain into the backend's result.
pub fn into_chain_result(r: ChainResponse) -> Result<ChainOutcome, BackendError> {
    match r {
        ChainResponse::Outcome(o) => Ok(o),
        ChainResponse::Unsupported(why) => Err(BackendError::Unsupported(why)),
        ChainResponse::Failed(why) => Err(BackendError::Failed(why)),
    }
}

/// Turns a worker's verdict into the backend's result.
pub fn into_result(r: Response) -> Result<Outcome, BackendError> {
    match r {
        Response::Outcome(o) => Ok(*o),
        Response::Unsupported(why) => Err(BackendError::Unsupported(why)),
        Response::Failed(why) => Err(BackendError::Failed(why)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The new rules travel to a worker as data; a profile without them keeps the old shape.
    #[test]
    fn profile_json_carries_block_gas_and_added_rules() {
        let p = Profile::from_toml(
            "name = \"t\"\nbase_fork = \"Cancun\"\n[opcodes]\nBLOCKHASH = \"keccak-chain-number\"\n[gas.opcodes]\nADD = 30\n[gas.precompiles]\necrecover = 6000\n[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 3450 }\n",
            "t.toml",
        )
        .unwrap();
        let v = profile_json(&p);
        assert_eq!(
            v["opcodes"]["0x40"],
            json!({ "behaviour": "keccak-chain-number" })
        );
        assert_eq!(v["gas"]["opcodes"]["0x01"], json!(30));
        assert_eq!(
            v["gas"]["precompiles"]["0x0000000000000000000000000000000000000001"],
            json!(6000)
        );
        assert_eq!(
            v["addedPrecompiles"]["0x0000000000000000000000000000000000000100"],
            json!({ "implementation": "p256verify-rip7212", "gas": 3450 })
        );
        let plain = profile_json(&Profile::load("eip7530-b").unwrap());
        assert!(plain.get("gas").is_none() && plain.get("addedPrecompiles").is_none());
    }
}
