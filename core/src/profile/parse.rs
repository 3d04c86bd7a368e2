//! Profile files: TOML in, a checked [`Profile`] out, or an error naming file, line and reason.

use std::collections::BTreeMap;
use std::ops::Range;

use alloy_primitives::{Address, U256};
use serde::Deserialize;
use toml::{Spanned, Value};

use super::{
    AddedPrecompile, Behaviour, GasRules, Implementation, LengthCap, Limits, Profile, Subject,
    constant_shape, fixed_opcode_gas,
};
use crate::fork::Fork;
use crate::opcode::Opcode;
use crate::precompile::{MODEXP, Precompile};

/// A profile that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A problem at a known place in a profile file.
    #[error("{file}:{line}: {reason}")]
    At {
        /// The file (or built-in name).
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Neither a built-in name nor an existing file.
    #[error("unknown profile `{0}`: not a built-in ({builtins}) and no such file", builtins = super::builtin_names().join(", "))]
    Unknown(String),
    /// The file could not be read.
    #[error("{file}: {reason}")]
    Io {
        /// The path.
        file: String,
        /// The OS error.
        reason: String,
    },
}

impl ProfileError {
    pub(super) fn unknown(name: &str) -> Self {
        ProfileError::Unknown(name.to_string())
    }

    pub(super) fn io(file: &str, e: &std::io::Error) -> Self {
        ProfileError::Io {
            file: file.to_string(),
            reason: e.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: String,
    base_fork: Spanned<String>,
    #[serde(default)]
    sources: Vec<String>,
    #[serde(default)]
    as_of: Option<String>,
    #[serde(default)]
    opcodes: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default)]
    precompiles: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    gas: RawGas,
    #[serde(default)]
    added_precompiles: BTreeMap<Spanned<String>, Spanned<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGas {
    #[serde(default)]
    opcodes: BTreeMap<Spanned<String>, Spanned<Value>>,
    #[serde(default)]
    precompiles: BTreeMap<Spanned<String>, Spanned<Value>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    modexp: Option<Spanned<RawCap>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCap {
    max_len: u64,
    behaviour: String,
}

struct Ctx<'a> {
    text: &'a str,
    origin: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, reason: impl Into<String>) -> ProfileError {
        let line = self.text[..span.start.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        ProfileError::At {
            file: self.origin.to_string(),
            line,
            reason: reason.into(),
        }
    }

    /// Reads a rule: either a keyword string or `{ behaviour = "...", value = "0x.." }`.
    fn rule(
        &self,
        v: &Spanned<Value>,
        subject: Subject,
        what: &str,
    ) -> Result<Behaviour, ProfileError> {
        let span = v.span();
        let (keyword, value) = match v.get_ref() {
            Value::String(s) => (s.as_str(), None),
            Value::Table(t) => {
                if let Some(k) = t.keys().find(|k| *k != "behaviour" && *k != "value") {
                    return Err(self.err(span, format!("{what}: unknown key `{k}` (expected `behaviour` and, for constant, `value`)")));
                }
                let Some(Value::String(b)) = t.get("behaviour") else {
                    return Err(self.err(span, format!("{what}: missing `behaviour = \"...\"`")));
                };
                (b.as_str(), t.get("value"))
            }
            _ => return Err(self.err(span, format!("{what}: a rule is a behaviour name or a table {{ behaviour = ..., value = ... }}"))),
        };
        let behaviour = self.keyword(keyword, value, span.clone(), what)?;
        if !behaviour.applies_to(subject) {
            let kind = if subject == Subject::Opcode {
                "an opcode"
            } else {
                "a precompile"
            };
            return Err(self.err(
                span,
                format!("{what}: behaviour `{keyword}` does not apply to {kind}"),
            ));
        }
        if value.is_some() && !matches!(behaviour, Behaviour::Constant(_)) {
            return Err(self.err(span, format!("{what}: `value` is only for `constant`")));
        }
        Ok(behaviour)
    }

    /// A gas figure: a non-negative integer.
    fn gas(&self, v: &Spanned<Value>, what: &str) -> Result<u64, ProfileError> {
        match v.get_ref() {
            Value::Integer(i) if *i >= 0 => Ok(*i as u64),
            _ => Err(self.err(
                v.span(),
                format!("{what}: gas must be a non-negative integer"),
            )),
        }
    }

    /// An opcode key (mnemonic or byte) of an opcode that exists in `fork`.
    fn opcode(&self, key: &Spanned<String>, fork: Fork) -> Result<Opcode, ProfileError> {
        let name = key.get_ref();
        let op = Opcode::from_name(name)
            .filter(|op| op.introduced().is_some())
            .ok_or_else(|| self.err(key.span(), format!("unknown opcode `{name}`")))?;
        if !op.exists_in(fork) {
            return Err(self.err(key.span(), format!("opcode {op} does not exist in base fork {fork}: a rule for it has nothing to change")));
        }
        Ok(op)
    }

    /// A precompile key (name or address) of a precompile the base fork has.
    fn precompile(
        &self,
        key: &Spanned<String>,
        fork: Fork,
    ) -> Result<&'static Precompile, ProfileError> {
        let name = key.get_ref();
        let pc = Precompile::lookup(name)
            .ok_or_else(|| self.err(key.span(), format!("unknown precompile `{name}` (use a name such as `sha256` or an address such as \"0x02\")")))?;
        if !fork.includes(pc.introduced) {
            return Err(self.err(
                key.span(),
                format!(
                    "precompile {} ({}) does not exist in base fork {fork}",
                    pc.name,
                    short(&pc.address)
                ),
            ));
        }
        Ok(pc)
    }

    /// An `[added_precompiles]` entry: `{ implementation = "...", gas = N }`.
    fn added(&self, v: &Spanned<Value>, what: &str) -> Result<AddedPrecompile, ProfileError> {
        let span = v.span();
        let Value::Table(t) = v.get_ref() else {
            return Err(self.err(span, format!("{what}: an added precompile is a table {{ implementation = \"...\", gas = ... }}")));
        };
        if let Some(k) = t.keys().find(|k| *k != "implementation" && *k != "gas") {
            return Err(self.err(
                span,
                format!("{what}: unknown key `{k}` (expected `implementation` and `gas`)"),
            ));
        }
        let known = Implementation::ALL.map(Implementation::keyword).join(", ");
        let implementation = match t.get("implementation") {
            Some(Value::String(name)) => Implementation::from_keyword(name).ok_or_else(|| {
                self.err(
                    span.clone(),
                    format!("{what}: unknown implementation `{name}` (known: {known})"),
                )
            })?,
            _ => {
                return Err(self.err(
                    span,
                    format!("{what}: missing `implementation = \"...\"` (known: {known})"),
                ));
            }
        };
        let gas = match t.get("gas") {
            Some(Value::Integer(i)) if *i >= 0 => *i as u64,
            Some(_) => {
                return Err(self.err(span, format!("{what}: gas must be a non-negative integer")));
            }
            None => return Err(self.err(span, format!("{what}: missing `gas`"))),
        };
        Ok(AddedPrecompile {
            implementation,
            gas,
        })
    }

    fn keyword(
        &self,
        keyword: &str,
        value: Option<&Value>,
        span: Range<usize>,
        what: &str,
    ) -> Result<Behaviour, ProfileError> {
        Ok(match keyword {
            "supported" => Behaviour::Supported,
            "invalid" => Behaviour::Invalid,
            "revert-refund" => Behaviour::RevertRefund,
            "halt" => Behaviour::Halt,
            "absent" => Behaviour::Absent,
            "reject" => Behaviour::Reject,
            "keccak-chain-number" => Behaviour::KeccakChainNumber,
            "constant" => {
                let v = match value {
                    Some(Value::Integer(i)) if *i >= 0 => U256::from(*i as u64),
                    Some(Value::String(s)) => s.parse::<U256>().map_err(|_| {
                        self.err(
                            span.clone(),
                            format!("{what}: `value` `{s}` is not a 256-bit number"),
                        )
                    })?,
                    Some(_) => return Err(self.err(
                        span,
                        format!(
                            "{what}: `value` must be a non-negative integer or a \"0x..\" string"
                        ),
                    )),
                    None => {
                        return Err(self.err(span, format!("{what}: `constant` needs a `value`")));
                    }
                };
                Behaviour::Constant(v)
            }
            other => {
                return Err(self.err(
                    span,
                    format!(
                        "{what}: unknown behaviour `{other}` (known: {})",
                        Behaviour::KEYWORDS
                    ),
                ));
            }
        })
    }
}

/// Parses and checks a profile.
pub(super) fn parse(text: &str, origin: &str) -> Result<Profile, ProfileError> {
    let cx = Ctx { text, origin };
    let raw: RawProfile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        cx.err(span, e.message().trim().to_string())
    })?;
    let base_fork: Fork = raw
        .base_fork
        .get_ref()
        .parse()
        .map_err(|e: crate::fork::UnknownFork| cx.err(raw.base_fork.span(), e.to_string()))?;

    let mut opcodes = BTreeMap::new();
    let mut opcode_keys: BTreeMap<u8, String> = BTreeMap::new();
    for (key, value) in in_file_order(&raw.opcodes) {
        let name = key.get_ref();
        let op = cx.opcode(key, base_fork)?;
        if let Some(prev) = opcode_keys.insert(op.0, name.clone()) {
            return Err(cx.err(
                key.span(),
                format!("duplicate rule for opcode {op} (also given as `{prev}`)"),
            ));
        }
        let behaviour = cx.rule(value, Subject::Opcode, &format!("opcode {op}"))?;
        if matches!(behaviour, Behaviour::Constant(_)) && constant_shape(op).is_none() {
            return Err(cx.err(value.span(), format!("opcode {op}: `constant` applies only to environment and block opcodes with a fixed gas cost")));
        }
        if behaviour == Behaviour::KeccakChainNumber && op.0 != 0x40 {
            return Err(cx.err(
                value.span(),
                format!("opcode {op}: `keccak-chain-number` applies only to BLOCKHASH"),
            ));
        }
        opcodes.insert(op.0, behaviour);
    }

    let mut precompiles = BTreeMap::new();
    let mut precompile_keys: BTreeMap<Address, String> = BTreeMap::new();
    for (key, value) in in_file_order(&raw.precompiles) {
        let name = key.get_ref();
        let pc = cx.precompile(key, base_fork)?;
        if let Some(prev) = precompile_keys.insert(pc.address, name.clone()) {
            return Err(cx.err(
                key.span(),
                format!(
                    "duplicate rule for precompile {} (also given as `{prev}`)",
                    pc.name
                ),
            ));
        }
        let behaviour = cx.rule(
            value,
            Subject::Precompile,
            &format!("precompile {}", pc.name),
        )?;
        precompiles.insert(pc.address, behaviour);
    }

    let mut limits = Limits::default();
    if let Some(cap) = &raw.limits.modexp {
        let span = cap.span();
        if !base_fork.includes(Precompile::at(MODEXP).expect("modexp is listed").introduced) {
            return Err(cx.err(
                span,
                format!("limits.modexp: base fork {base_fork} has no modexp"),
            ));
        }
        let raw_cap = cap.get_ref();
        let behaviour = cx.keyword(&raw_cap.behaviour, None, span.clone(), "limits.modexp")?;
        if !matches!(
            behaviour,
            Behaviour::RevertRefund | Behaviour::Halt | Behaviour::Reject
        ) {
            return Err(cx.err(
                span,
                "limits.modexp: behaviour over the cap must be revert-refund, halt or reject",
            ));
        }
        limits.modexp = Some(LengthCap {
            max_len: raw_cap.max_len,
            behaviour,
        });
    }

    let mut added = BTreeMap::new();
    for (key, value) in in_file_order(&raw.added_precompiles) {
        let name = key.get_ref();
        let address = parse_address(name).ok_or_else(|| {
            cx.err(
                key.span(),
                format!("added_precompiles: `{name}` is not an address (such as \"0x100\")"),
            )
        })?;
        let what = format!("added_precompiles.{}", short(&address));
        let entry = cx.added(value, &what)?;
        if added.insert(address, entry).is_some() {
            return Err(cx.err(key.span(), format!("{what}: the address is given twice")));
        }
        if precompiles
            .get(&address)
            .is_some_and(|b| *b != Behaviour::Supported)
        {
            return Err(cx.err(key.span(), format!("{what}: the address also has a [precompiles] rule; the added precompile replaces what is there, so the rule would change nothing")));
        }
    }

    let mut gas = GasRules::default();
    for (key, value) in in_file_order(&raw.gas.opcodes) {
        let op = cx.opcode(key, base_fork)?;
        let what = format!("gas.opcodes.{op}");
        let Some(_) = fixed_opcode_gas(op) else {
            return Err(cx.err(key.span(), format!("{what}: {op} has no single fixed cost (it depends on operands, memory or state), so there is no one number to replace")));
        };
        if let Some(b) = opcodes.get(&op.0).filter(|b| **b != Behaviour::Supported) {
            return Err(cx.err(
                key.span(),
                format!("{what}: {op} already has the rule `{b}`, which decides what it costs"),
            ));
        }
        if gas.opcodes.insert(op.0, cx.gas(value, &what)?).is_some() {
            return Err(cx.err(key.span(), format!("{what}: duplicate gas rule")));
        }
    }
    for (key, value) in in_file_order(&raw.gas.precompiles) {
        let pc = cx.precompile(key, base_fork)?;
        let what = format!("gas.precompiles.{}", pc.name);
        if pc.fixed_price(base_fork).is_none() {
            return Err(cx.err(
                key.span(),
                format!(
                    "{what}: its price depends on its input, so there is no one number to replace"
                ),
            ));
        }
        if let Some(b) = precompiles
            .get(&pc.address)
            .filter(|b| **b != Behaviour::Supported)
        {
            return Err(cx.err(
                key.span(),
                format!("{what}: the precompile already has the rule `{b}`"),
            ));
        }
        if added.contains_key(&pc.address) {
            return Err(cx.err(key.span(), format!("{what}: an added precompile replaces it there; give the gas in [added_precompiles]")));
        }
        if gas
            .precompiles
            .insert(pc.address, cx.gas(value, &what)?)
            .is_some()
        {
            return Err(cx.err(key.span(), format!("{what}: duplicate gas rule")));
        }
    }

    Ok(Profile {
        name: raw.name,
        description: raw.description,
        base_fork,
        sources: raw.sources,
        as_of: raw.as_of,
        opcodes,
        precompiles,
        limits,
        gas,
        added,
    })
}

/// `0x100` or forty hex digits, as an address (not zero).
fn parse_address(key: &str) -> Option<Address> {
    let hex = key
        .trim()
        .strip_prefix("0x")
        .or_else(|| key.trim().strip_prefix("0X"))?;
    if hex.is_empty() || hex.len() > 40 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let padded = format!("{hex:0>40}");
    let address: Address = format!("0x{padded}").parse().ok()?;
    (!address.is_zero()).then_some(address)
}

/// Rules in the order they appear in the file, so errors about duplicates point at the later one.
fn in_file_order<K, V>(map: &BTreeMap<Spanned<K>, V>) -> Vec<(&Spanned<K>, &V)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

/// `0x02` rather than forty hex digits.
pub(crate) fn short(a: &Address) -> String {
    let hex = alloy_primitives::hex::encode(a.as_slice());
    let digits = hex.trim_start_matches('0');
    format!("0x{digits:0>2}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(text, "p.toml").unwrap_err().to_string()
    }

    const HEAD: &str = "name = \"t\"\nbase_fork = \"Shanghai\"\n";

    #[test]
    fn parses_rules() {
        let p = parse(&format!("{HEAD}[opcodes]\nDIFFICULTY = {{ behaviour = \"constant\", value = 0 }}\nSELFDESTRUCT = \"invalid\"\n[precompiles]\nsha256 = \"revert-refund\"\n\"0x03\" = \"halt\"\n[limits.modexp]\nmax_len = 1024\nbehaviour = \"revert-refund\"\n"), "p.toml").unwrap();
        assert_eq!(p.opcode(0x44), Behaviour::Constant(U256::ZERO));
        assert_eq!(p.opcode(0xff), Behaviour::Invalid);
        assert_eq!(
            p.precompile(&Address::with_last_byte(2)),
            Some(Behaviour::RevertRefund)
        );
        assert_eq!(
            p.precompile(&Address::with_last_byte(3)),
            Some(Behaviour::Halt)
        );
        assert_eq!(
            p.limits.modexp,
            Some(LengthCap {
                max_len: 1024,
                behaviour: Behaviour::RevertRefund
            })
        );
        assert!(!p.is_mainnet());
    }

    #[test]
    fn errors_name_file_line_and_reason() {
        assert_eq!(
            err("name = \"t\"\nbase_fork = \"Shanghai\"\n[opcodes\n"),
            "p.toml:3: unclosed table, expected `]`"
        );
        assert_eq!(
            err(&format!("{HEAD}[opcodes]\nFOO = \"invalid\"\n")),
            "p.toml:4: unknown opcode `FOO`"
        );
        assert_eq!(
            err(&format!("{HEAD}[opcodes]\nTLOAD = \"invalid\"\n")),
            "p.toml:4: opcode TLOAD does not exist in base fork Shanghai: a rule for it has nothing to change"
        );
        assert_eq!(
            err(&format!("{HEAD}[opcodes]\nADD = \"explode\"\n")),
            "p.toml:4: opcode ADD: unknown behaviour `explode` (known: supported, constant, invalid, revert-refund, halt, absent, reject, keccak-chain-number)"
        );
        assert_eq!(
            err(&format!("{HEAD}[precompiles]\n\"0x0a\" = \"halt\"\n")),
            "p.toml:4: precompile point_evaluation (0x0a) does not exist in base fork Shanghai"
        );
        assert_eq!(
            err(&format!("{HEAD}[precompiles]\n\"0x99\" = \"halt\"\n")),
            "p.toml:4: unknown precompile `0x99` (use a name such as `sha256` or an address such as \"0x02\")"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}[precompiles]\nsha256 = \"halt\"\n\"0x02\" = \"absent\"\n"
            )),
            "p.toml:5: duplicate rule for precompile sha256 (also given as `sha256`)"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}[opcodes]\nDIFFICULTY = \"invalid\"\nPREVRANDAO = \"invalid\"\n"
            )),
            "p.toml:5: duplicate rule for opcode PREVRANDAO (also given as `DIFFICULTY`)"
        );
        assert_eq!(
            err("name = \"t\"\nbase_fork = \"Venus\"\n"),
            "p.toml:2: unknown fork `Venus` (known: Frontier, Homestead, EIP150, EIP158, Byzantium, Constantinople, ConstantinopleFix, Istanbul, Berlin, London, Paris, Shanghai, Cancun, Prague, Osaka)"
        );
        assert_eq!(
            err(&format!("{HEAD}[opcodes]\nADD = \"halt\"\n")),
            "p.toml:4: opcode ADD: behaviour `halt` does not apply to an opcode"
        );
        assert_eq!(
            err(&format!(
                "{HEAD}[opcodes]\nADD = {{ behaviour = \"constant\", value = 1 }}\n"
            )),
            "p.toml:4: opcode ADD: `constant` applies only to environment and block opcodes with a fixed gas cost"
        );
        assert!(
            err(&format!("{HEAD}colour = 1\n")).starts_with("p.toml:3: unknown field `colour`")
        );
    }

    #[test]
    fn parses_gas_added_precompiles_and_the_block_rule() {
        let p = parse("name = \"t\"\nbase_fork = \"Cancun\"\n[opcodes]\nBLOCKHASH = \"keccak-chain-number\"\n[gas.opcodes]\n\"0x01\" = 30\n[gas.precompiles]\n\"0x01\" = 6000\n[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 3450 }\n", "p.toml").unwrap();
        assert_eq!(p.opcode(0x40), Behaviour::KeccakChainNumber);
        assert_eq!(p.gas.opcodes.get(&0x01), Some(&30));
        assert_eq!(
            p.gas.precompiles.get(&Address::with_last_byte(1)),
            Some(&6000)
        );
        let p256 = Address::left_padding_from(&[0x01, 0x00]);
        assert_eq!(
            p.added_precompile(&p256),
            Some(AddedPrecompile {
                implementation: Implementation::P256VerifyRip7212,
                gas: 3450
            })
        );
        assert!(!p.is_mainnet());
    }

    #[test]
    fn errors_in_the_new_rules_name_file_line_and_reason() {
        let cases = [
            (
                "[opcodes]\nNUMBER = \"keccak-chain-number\"\n",
                "p.toml:4: opcode NUMBER: `keccak-chain-number` applies only to BLOCKHASH",
            ),
            (
                "[gas.opcodes]\nSLOAD = 800\n",
                "p.toml:4: gas.opcodes.SLOAD: SLOAD has no single fixed cost (it depends on operands, memory or state), so there is no one number to replace",
            ),
            (
                "[gas.opcodes]\nADD = -1\n",
                "p.toml:4: gas.opcodes.ADD: gas must be a non-negative integer",
            ),
            ("[gas.opcodes]\nFOO = 1\n", "p.toml:4: unknown opcode `FOO`"),
            (
                "[opcodes]\nNUMBER = \"invalid\"\n[gas.opcodes]\nNUMBER = 1\n",
                "p.toml:6: gas.opcodes.NUMBER: NUMBER already has the rule `invalid`, which decides what it costs",
            ),
            (
                "[gas.precompiles]\nsha256 = 1\n",
                "p.toml:4: gas.precompiles.sha256: its price depends on its input, so there is no one number to replace",
            ),
            (
                "[gas.precompiles]\npoint_evaluation = 1\n",
                "p.toml:4: precompile point_evaluation (0x0a) does not exist in base fork Shanghai",
            ),
            (
                "[precompiles]\necrecover = \"halt\"\n[gas.precompiles]\necrecover = 1\n",
                "p.toml:6: gas.precompiles.ecrecover: the precompile already has the rule `halt`",
            ),
            (
                "[gas]\nmemory = 1\n",
                "p.toml:4: unknown field `memory`, expected `opcodes` or `precompiles`",
            ),
            (
                "[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-eip7951\", gas = 1 }\n",
                "p.toml:4: added_precompiles.0x100: unknown implementation `p256verify-eip7951` (known: p256verify-rip7212)",
            ),
            (
                "[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\" }\n",
                "p.toml:4: added_precompiles.0x100: missing `gas`",
            ),
            (
                "[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 1, colour = 2 }\n",
                "p.toml:4: added_precompiles.0x100: unknown key `colour` (expected `implementation` and `gas`)",
            ),
            (
                "[added_precompiles]\np256 = { implementation = \"p256verify-rip7212\", gas = 1 }\n",
                "p.toml:4: added_precompiles: `p256` is not an address (such as \"0x100\")",
            ),
            (
                "[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 1 }\n\"0x0100\" = { implementation = \"p256verify-rip7212\", gas = 2 }\n",
                "p.toml:5: added_precompiles.0x100: the address is given twice",
            ),
            (
                "[precompiles]\nsha256 = \"halt\"\n[added_precompiles]\n\"0x02\" = { implementation = \"p256verify-rip7212\", gas = 1 }\n",
                "p.toml:6: added_precompiles.0x02: the address also has a [precompiles] rule; the added precompile replaces what is there, so the rule would change nothing",
            ),
            (
                "[added_precompiles]\n\"0x01\" = { implementation = \"p256verify-rip7212\", gas = 1 }\n[gas.precompiles]\necrecover = 1\n",
                "p.toml:6: gas.precompiles.ecrecover: an added precompile replaces it there; give the gas in [added_precompiles]",
            ),
        ];
        for (body, want) in cases {
            assert_eq!(err(&format!("{HEAD}{body}")), want, "{body}");
        }
    }
}
