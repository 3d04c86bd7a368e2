//! The ethereum/tests GeneralStateTest JSON format: reading files into [`Case`]s (one per test,
//! fork and data/gas/value index) and writing cases back out so any client's state-test runner
//! can replay them. A file of BlockchainTests is recognised by its tests' `blocks` and read by
//! [`crate::blockchaintest`].
//!
//! Fields are read by hand from a `serde_json::Value` rather than through derived structs, so
//! that a malformed file is reported with the exact JSON path that is wrong.

use std::path::Path;
use std::str::FromStr;

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use serde_json::{Map, Value, json};

use crate::case::{AccessListItem, Authorization, BlockEnv, Case, Expectation, Transaction};
use crate::state::{Account, State};

/// A state-test file that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct CaseError {
    /// The file.
    pub file: String,
    /// What is wrong, with the JSON path.
    pub reason: String,
}

/// A `post` entry or a block that was not turned into a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Test name and fork key (or block).
    pub name: String,
    /// Why.
    pub reason: String,
    /// Which kind of skip.
    pub kind: SkipKind,
}

/// Why something in a test file is not a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipKind {
    /// A fork evmdiff does not know (a transition fork).
    UnknownFork,
    /// An invalid block refused for a header or encoding rule: not the EVM's business.
    OutOfScope,
}

/// The cases of one file.
#[derive(Debug, Clone, Default)]
pub struct TestFile {
    /// One case per (test, fork, post entry).
    pub cases: Vec<Case>,
    /// Post entries for forks evmdiff does not know (e.g. transition forks), and blocks out of
    /// scope (a BlockchainTest's header-only checks).
    pub skipped: Vec<Skipped>,
}

/// Every `.json` file under `dir`, recursively, in sorted order (so runs are deterministic).
pub fn json_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    walk(dir, &mut out)?;
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "json") {
            out.push(e);
        }
    }
    Ok(())
}

/// Reads a state-test file.
pub fn read_file(path: &Path) -> Result<TestFile, CaseError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CaseError {
        file: file.clone(),
        reason: e.to_string(),
    })?;
    parse(&text, &file)
}

/// Parses state-test JSON text; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<TestFile, CaseError> {
    let root: Value = serde_json::from_str(text).map_err(|e| CaseError {
        file: format!("{file}:{}:{}", e.line(), e.column()),
        reason: format!("invalid JSON: {e}")
            .replace(&format!(" at line {} column {}", e.line(), e.column()), ""),
    })?;
    let Value::Object(tests) = root else {
        return Err(CaseError {
            file: file.to_string(),
            reason: "expected an object of tests at the top level".into(),
        });
    };
    let mut out = TestFile::default();
    for (name, test) in &tests {
        let r = Reader {
            file,
            path: name.clone(),
        };
        if !test.is_object() {
            // Not a test file at all (a campaign's `campaign.json`, a stats file) more often
            // than a broken one: say what a test file is.
            return Err(r.err(
                "not a test: a state-test or blockchain-test file maps each test's name to an \
                 object (is this a test file?)",
            ));
        }
        if test.get("blocks").is_some() {
            crate::blockchaintest::test(&r, name, test, &mut out)?;
        } else {
            r.test(name, test, &mut out)?;
        }
    }
    Ok(out)
}

/// Reads fields of a test with the JSON path of each, for errors that say where.
pub(crate) struct Reader<'a> {
    pub(crate) file: &'a str,
    pub(crate) path: String,
}

impl Reader<'_> {
    pub(crate) fn at(&self, key: &str) -> Reader<'_> {
        Reader {
            file: self.file,
            path: format!("{}.{key}", self.path),
        }
    }

    pub(crate) fn err(&self, reason: impl std::fmt::Display) -> CaseError {
        CaseError {
            file: self.file.to_string(),
            reason: format!("{}: {reason}", self.path),
        }
    }

    pub(crate) fn obj<'v>(&self, v: &'v Value) -> Result<&'v Map<String, Value>, CaseError> {
        v.as_object().ok_or_else(|| self.err("expected an object"))
    }

    pub(crate) fn field<'v>(
        &self,
        m: &'v Map<String, Value>,
        key: &str,
    ) -> Result<&'v Value, CaseError> {
        m.get(key)
            .ok_or_else(|| self.err(format!("missing `{key}`")))
    }

    pub(crate) fn u256(&self, v: &Value) -> Result<U256, CaseError> {
        match v {
            Value::String(s) => {
                parse_u256(s).ok_or_else(|| self.err(format!("`{s}` is not a 256-bit number")))
            }
            Value::Number(n) => n
                .as_u64()
                .map(U256::from)
                .ok_or_else(|| self.err(format!("`{n}` is not a non-negative integer"))),
            _ => Err(self.err("expected a number")),
        }
    }

    pub(crate) fn u64(&self, v: &Value) -> Result<u64, CaseError> {
        let n = self.u256(v)?;
        u64::try_from(n).map_err(|_| self.err(format!("{n} does not fit in 64 bits")))
    }

    pub(crate) fn parse_str<T: FromStr>(&self, v: &Value, what: &str) -> Result<T, CaseError> {
        let s = v
            .as_str()
            .ok_or_else(|| self.err(format!("expected {what} as a hex string")))?;
        s.parse()
            .map_err(|_| self.err(format!("`{s}` is not {what}")))
    }

    pub(crate) fn bytes(&self, v: &Value) -> Result<Bytes, CaseError> {
        let s = v
            .as_str()
            .ok_or_else(|| self.err("expected hex bytes as a string"))?;
        let s = s.strip_prefix(":raw ").unwrap_or(s);
        hex::decode(s)
            .map(Bytes::from)
            .map_err(|e| self.err(format!("bad hex bytes: {e}")))
    }

    pub(crate) fn opt<'v>(m: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
        m.get(key).filter(|v| !v.is_null())
    }

    /// A transaction written by [`transaction_json`]: the first data, gas limit, value and
    /// access list of a state test's `transaction`.
    pub(crate) fn single_transaction(&self, v: &Value) -> Result<Transaction, CaseError> {
        let tx = self.obj(v)?;
        let first = |key: &str| -> Result<&Value, CaseError> {
            let r = self.at(key);
            self.field(tx, key)?
                .as_array()
                .and_then(|a| a.first())
                .ok_or_else(|| r.err("expected a list of one"))
        };
        let data = self.at("data").bytes(first("data")?)?;
        let gas = self.at("gasLimit").u256(first("gasLimit")?)?;
        let value = self.at("value").u256(first("value")?)?;
        let access_list = match Self::opt(tx, "accessLists")
            .and_then(|a| a.as_array())
            .and_then(|a| a.first())
        {
            Some(l) if !l.is_null() => Some(self.at("accessLists").access_list(l)?),
            _ => None,
        };
        self.transaction(tx, data, gas, value, access_list)
    }

    fn test(&self, name: &str, test: &Value, out: &mut TestFile) -> Result<(), CaseError> {
        let t = self.obj(test)?;
        let env = self.at("env").env(self.field(t, "env")?)?;
        let pre = self.at("pre").state(self.field(t, "pre")?)?;
        let txr = self.at("transaction");
        let tx = txr.obj(self.field(t, "transaction")?)?;
        let data = txr
            .at("data")
            .list(txr.field(tx, "data")?, |r, v| r.bytes(v))?;
        let gas = txr
            .at("gasLimit")
            .list(txr.field(tx, "gasLimit")?, |r, v| r.u256(v))?;
        let value = txr
            .at("value")
            .list(txr.field(tx, "value")?, |r, v| r.u256(v))?;
        let access_lists = match Self::opt(tx, "accessLists") {
            Some(v) => Some(txr.at("accessLists").list(v, |r, v| {
                if v.is_null() {
                    Ok(None)
                } else {
                    r.access_list(v).map(Some)
                }
            })?),
            None => None,
        };
        let out_bytes = match Self::opt(t, "out") {
            Some(v) => Some(self.at("out").bytes(v)?),
            None => None,
        };
        let meta = Self::opt(t, "_info")
            .and_then(|i| i.get("evmdiff"))
            .cloned();
        let post = self.at("post");
        for (fork_key, entries) in post.obj(self.field(t, "post")?)? {
            let pr = post.at(fork_key);
            let Ok((fork, profile)) = crate::network::parse(fork_key) else {
                out.skipped.push(Skipped {
                    name: format!("{name}/{fork_key}"),
                    kind: SkipKind::UnknownFork,
                    reason: format!("fork `{fork_key}` is not supported by evmdiff"),
                });
                continue;
            };
            let entries = entries
                .as_array()
                .ok_or_else(|| pr.err("expected a list of post entries"))?;
            for (i, e) in entries.iter().enumerate() {
                let er = pr.at(&i.to_string());
                let e = er.obj(e)?;
                let ir = er.at("indexes");
                let idx = ir.obj(er.field(e, "indexes")?)?;
                let index = |k: &str, len: usize| -> Result<usize, CaseError> {
                    let n = ir.u64(ir.field(idx, k)?)? as usize;
                    if n >= len {
                        Err(ir.err(format!("`{k}` index {n} is out of range ({len} entries)")))
                    } else {
                        Ok(n)
                    }
                };
                let (d, g, v) = (
                    index("data", data.len())?,
                    index("gas", gas.len())?,
                    index("value", value.len())?,
                );
                let transaction = txr.transaction(
                    tx,
                    data[d].clone(),
                    gas[g],
                    value[v],
                    access_lists
                        .as_ref()
                        .and_then(|a| a.get(d).cloned().flatten()),
                )?;
                // An entry without `hash` and `logs` has no expectation: what evmdiff writes
                // for generated cases and for findings no backend produced an outcome for.
                let expect = if e.contains_key("hash") || e.contains_key("logs") {
                    Some(Expectation {
                        hash: er.parse_str(er.field(e, "hash")?, "a 32-byte hash")?,
                        logs: er.parse_str(er.field(e, "logs")?, "a 32-byte hash")?,
                        exception: Self::opt(e, "expectException")
                            .and_then(|x| x.as_str())
                            .map(String::from),
                        out: out_bytes.clone(),
                    })
                } else {
                    None
                };
                let mut case = Case::state_test(
                    format!("{name}/{fork_key}/d{d}g{g}v{v}"),
                    fork,
                    env.clone(),
                    pre.clone(),
                    transaction,
                );
                case.expect = expect;
                case.meta = with_profile(meta.clone(), profile);
                out.cases.push(case);
            }
        }
        Ok(())
    }

    fn list<T>(
        &self,
        v: &Value,
        f: impl Fn(&Reader<'_>, &Value) -> Result<T, CaseError>,
    ) -> Result<Vec<T>, CaseError> {
        let a = v.as_array().ok_or_else(|| self.err("expected a list"))?;
        a.iter()
            .enumerate()
            .map(|(i, x)| f(&self.at(&i.to_string()), x))
            .collect()
    }

    fn env(&self, v: &Value) -> Result<BlockEnv, CaseError> {
        let m = self.obj(v)?;
        let u = |k: &str| -> Result<U256, CaseError> { self.at(k).u256(self.field(m, k)?) };
        let ou = |k: &str| -> Result<Option<U256>, CaseError> {
            Self::opt(m, k).map(|v| self.at(k).u256(v)).transpose()
        };
        Ok(BlockEnv {
            coinbase: self
                .at("currentCoinbase")
                .parse_str(self.field(m, "currentCoinbase")?, "an address")?,
            gas_limit: u("currentGasLimit")?,
            number: u("currentNumber")?,
            timestamp: u("currentTimestamp")?,
            difficulty: ou("currentDifficulty")?.unwrap_or_default(),
            base_fee: ou("currentBaseFee")?,
            random: Self::opt(m, "currentRandom")
                .map(|v| self.at("currentRandom").b256_lenient(v))
                .transpose()?,
            excess_blob_gas: Self::opt(m, "currentExcessBlobGas")
                .map(|v| self.at("currentExcessBlobGas").u64(v))
                .transpose()?,
            chain_id: Self::opt(m, "currentChainID")
                .map(|v| self.at("currentChainID").u64(v))
                .transpose()?
                .unwrap_or(1),
        })
    }

    /// A 32-byte value that some fillers write as a short number (`"0x00"`).
    fn b256_lenient(&self, v: &Value) -> Result<B256, CaseError> {
        Ok(B256::from(self.u256(v)?))
    }

    pub(crate) fn state(&self, v: &Value) -> Result<State, CaseError> {
        let mut state = State::new();
        for (addr, acc) in self.obj(v)? {
            let r = self.at(addr);
            let address: Address = r.parse_str(&Value::String(addr.clone()), "an address")?;
            let m = r.obj(acc)?;
            let mut storage = std::collections::BTreeMap::new();
            if let Some(s) = Self::opt(m, "storage") {
                let sr = r.at("storage");
                for (k, v) in sr.obj(s)? {
                    let key = sr.u256(&Value::String(k.clone()))?;
                    let val = sr.at(k).u256(v)?;
                    if !val.is_zero() {
                        storage.insert(key, val);
                    }
                }
            }
            let account = Account {
                balance: r.at("balance").u256(r.field(m, "balance")?)?,
                nonce: r.at("nonce").u64(r.field(m, "nonce")?)?,
                code: Self::opt(m, "code")
                    .map(|c| r.at("code").bytes(c))
                    .transpose()?
                    .unwrap_or_default(),
                storage,
            };
            state.insert(address, account);
        }
        Ok(state)
    }

    fn access_list(&self, v: &Value) -> Result<Vec<AccessListItem>, CaseError> {
        serde_json::from_value(v.clone()).map_err(|e| self.err(format!("bad access list: {e}")))
    }

    fn transaction(
        &self,
        m: &Map<String, Value>,
        data: Bytes,
        gas_limit: U256,
        value: U256,
        access_list: Option<Vec<AccessListItem>>,
    ) -> Result<Transaction, CaseError> {
        let ou = |k: &str| -> Result<Option<U256>, CaseError> {
            Self::opt(m, k).map(|v| self.at(k).u256(v)).transpose()
        };
        let secret_key: B256 = self
            .at("secretKey")
            .parse_str(self.field(m, "secretKey")?, "a 32-byte key")?;
        let sender = match Self::opt(m, "sender") {
            Some(s) => self.at("sender").parse_str(s, "an address")?,
            None => sender_of(&secret_key)
                .ok_or_else(|| self.at("secretKey").err("not a valid secp256k1 key"))?,
        };
        let to = match self.field(m, "to")?.as_str() {
            Some("") | None => None,
            Some(s) => Some(
                s.parse()
                    .map_err(|_| self.at("to").err(format!("`{s}` is not an address")))?,
            ),
        };
        let authorization_list = match Self::opt(m, "authorizationList") {
            Some(v) => Some(
                serde_json::from_value::<Vec<Authorization>>(v.clone())
                    .map_err(|e| self.at("authorizationList").err(e))?,
            ),
            None => None,
        };
        let blob_versioned_hashes = match Self::opt(m, "blobVersionedHashes") {
            Some(v) => Some(
                self.at("blobVersionedHashes")
                    .list(v, |r, x| r.parse_str(x, "a 32-byte hash"))?,
            ),
            None => None,
        };
        Ok(Transaction {
            sender,
            secret_key,
            to,
            nonce: self.at("nonce").u256(self.field(m, "nonce")?)?,
            data,
            gas_limit,
            value,
            gas_price: ou("gasPrice")?,
            max_fee_per_gas: ou("maxFeePerGas")?,
            max_priority_fee_per_gas: ou("maxPriorityFeePerGas")?,
            // A null entry for this data index means no access list (an untyped tx), as revm reads it.
            access_list,
            max_fee_per_blob_gas: ou("maxFeePerBlobGas")?,
            blob_versioned_hashes,
            authorization_list,
            tx_type: Self::opt(m, "type")
                .map(|v| self.at("type").u64(v))
                .transpose()?
                .map(|t| t as u8),
            signature: None,
        })
    }
}

/// Parses `0x`-hex (an empty `0x` is zero) or decimal.
pub fn parse_u256(s: &str) -> Option<U256> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some("") => Some(U256::ZERO),
        Some(h) => U256::from_str_radix(h, 16).ok(),
        None => U256::from_str_radix(s, 10).ok(),
    }
}

/// The address of a secp256k1 private key.
pub fn sender_of(secret_key: &B256) -> Option<Address> {
    crate::keys::address_of(secret_key)
}

fn num(n: U256) -> Value {
    Value::String(format!("{n:#x}"))
}

fn opt_num(m: &mut Map<String, Value>, key: &str, n: Option<U256>) {
    if let Some(n) = n {
        m.insert(key.to_string(), num(n));
    }
}

/// Reads accounts written in the fixtures' JSON (a t8n tool's alloc).
pub fn read_state_json(text: &str) -> Result<State, CaseError> {
    let v: Value = serde_json::from_str(text).map_err(|e| CaseError {
        file: "alloc".into(),
        reason: format!("invalid JSON: {e}"),
    })?;
    Reader {
        file: "alloc",
        path: String::new(),
    }
    .state(&v)
}

/// A block environment as a state test's `env` (`currentCoinbase`, `currentNumber`, ...;
/// `currentChainID` only when it is not 1).
pub fn env_json(e: &BlockEnv) -> Value {
    let mut env = Map::new();
    env.insert("currentCoinbase".into(), json!(e.coinbase));
    env.insert("currentGasLimit".into(), num(e.gas_limit));
    env.insert("currentNumber".into(), num(e.number));
    env.insert("currentTimestamp".into(), num(e.timestamp));
    env.insert("currentDifficulty".into(), num(e.difficulty));
    opt_num(&mut env, "currentBaseFee", e.base_fee);
    if let Some(r) = e.random {
        env.insert("currentRandom".into(), json!(r));
    }
    opt_num(
        &mut env,
        "currentExcessBlobGas",
        e.excess_blob_gas.map(U256::from),
    );
    if e.chain_id != 1 {
        env.insert("currentChainID".into(), num(U256::from(e.chain_id)));
    }
    Value::Object(env)
}

/// Accounts as a state test's `pre` (numbers as hex, every slot listed).
pub fn state_json(state: &State) -> Value {
    let mut pre = Map::new();
    for (addr, acc) in state {
        let storage: Map<String, Value> = acc
            .storage
            .iter()
            .map(|(k, v)| (format!("{k:#x}"), num(*v)))
            .collect();
        pre.insert(
            format!("{addr:#x}"),
            json!({ "balance": num(acc.balance), "code": acc.code, "nonce": num(U256::from(acc.nonce)), "storage": storage }),
        );
    }
    Value::Object(pre)
}

/// A transaction as a one-vector state test's `transaction`: `data`, `gasLimit` and `value`
/// one-element arrays, the access list as `accessLists: [list]`, `to` `""` for a creation,
/// `secretKey` and `sender` set (the key is zero when it is not known: a BlockchainTest's
/// transactions come signed, and their sender was recovered when they were read).
pub fn transaction_json(t: &Transaction) -> Value {
    let mut tx = Map::new();
    tx.insert("data".into(), json!([t.data]));
    tx.insert("gasLimit".into(), json!([num(t.gas_limit)]));
    tx.insert("value".into(), json!([num(t.value)]));
    tx.insert("nonce".into(), num(t.nonce));
    opt_num(&mut tx, "gasPrice", t.gas_price);
    opt_num(&mut tx, "maxFeePerGas", t.max_fee_per_gas);
    opt_num(&mut tx, "maxPriorityFeePerGas", t.max_priority_fee_per_gas);
    opt_num(&mut tx, "maxFeePerBlobGas", t.max_fee_per_blob_gas);
    if let Some(h) = &t.blob_versioned_hashes {
        tx.insert("blobVersionedHashes".into(), json!(h));
    }
    if let Some(a) = &t.access_list {
        tx.insert("accessLists".into(), json!([a]));
    }
    if let Some(a) = &t.authorization_list {
        tx.insert("authorizationList".into(), json!(a));
    }
    tx.insert("to".into(), t.to.map_or(json!(""), |a| json!(a)));
    tx.insert("secretKey".into(), json!(t.secret_key));
    tx.insert("sender".into(), json!(t.sender));
    Value::Object(tx)
}

/// The metadata of a case whose network label names `profile`: the profile's name recorded
/// there when the metadata does not record one, so that the case runs under it.
pub(crate) fn with_profile(meta: Option<Value>, profile: Option<&str>) -> Option<Value> {
    let Some(name) = profile else { return meta };
    let mut m = meta.unwrap_or_else(|| json!({}));
    if let Some(o) = m.as_object_mut()
        && !o.contains_key("profile")
        && !o.contains_key("profile_toml")
    {
        o.insert("profile".into(), json!(name));
    }
    Some(m)
}

/// Writes `case` as a one-test, one-vector state test named `test_name`, its `post` entry
/// under `network` (a fork name, or a profile's label: [`crate::network`]). The entry is
/// filled from `case.expect`, which must be set (by a reference backend for fuzzer findings).
/// `None` for a chain, which a state test cannot hold.
pub fn write_case(case: &Case, test_name: &str, comment: &str, network: &str) -> Option<Value> {
    let (e, t) = case.single()?;
    let env = env_json(e);
    let pre = state_json(&case.pre);
    let tx = transaction_json(t);

    let mut entry = Map::new();
    entry.insert("indexes".into(), json!({ "data": 0, "gas": 0, "value": 0 }));
    if let Some(x) = &case.expect {
        entry.insert("hash".into(), json!(x.hash));
        entry.insert("logs".into(), json!(x.logs));
        if let Some(ex) = &x.exception {
            entry.insert("expectException".into(), json!(ex));
        }
    }
    let mut info = Map::new();
    info.insert("comment".into(), json!(comment));
    if let Some(m) = &case.meta {
        info.insert("evmdiff".into(), m.clone());
    }
    let mut test = Map::new();
    test.insert("_info".into(), Value::Object(info));
    test.insert("env".into(), env);
    test.insert("pre".into(), pre);
    test.insert("transaction".into(), tx);
    test.insert("post".into(), json!({ network: [Value::Object(entry)] }));
    Some(json!({ test_name: Value::Object(test) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JSON object that is not a test file (a campaign's record) says so, naming the entry.
    #[test]
    fn a_file_of_other_records_is_not_a_test() {
        let e = parse(
            r#"{"seed": 0, "profile": "mainnet-cancun"}"#,
            "out/campaign.json",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("out/campaign.json: "), "{e}");
        assert!(e.contains("not a test"), "{e}");
    }

    #[test]
    fn sender_is_derived_from_the_well_known_test_key() {
        let key: B256 = "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
            .parse()
            .unwrap();
        assert_eq!(
            sender_of(&key).unwrap(),
            "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b"
                .parse::<Address>()
                .unwrap()
        );
    }

    #[test]
    fn numbers_parse_leniently() {
        assert_eq!(parse_u256("0x"), Some(U256::ZERO));
        assert_eq!(parse_u256("0x00ff"), Some(U256::from(255)));
        assert_eq!(parse_u256("12"), Some(U256::from(12)));
        assert_eq!(parse_u256("0xzz"), None);
    }

    #[test]
    fn errors_name_the_json_path() {
        let e = parse("{\"t\": {\"env\": {}}}", "f.json").unwrap_err();
        assert_eq!(e.to_string(), "f.json: t.env: missing `currentCoinbase`");
        let e = parse("{\"t\": ", "f.json").unwrap_err();
        assert!(e.to_string().starts_with("f.json:1:6: invalid JSON"), "{e}");
    }
}
