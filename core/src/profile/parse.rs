//! Profile files: TOML in, a checked [`Profile`] out, or an error naming file, line and reason.

use std::collections::BTreeMap;
use std::ops::Range;

use alloy_primitives::{Address, U256};
use serde::Deserialize;
use toml::{Spanned, Value};

use super::{Behaviour, LengthCap, Limits, Profile, Subject, constant_shape};
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
        let op = Opcode::from_name(name)
            .filter(|op| op.introduced().is_some())
            .ok_or_else(|| cx.err(key.span(), format!("unknown opcode `{name}`")))?;
        if !op.exists_in(base_fork) {
            return Err(cx.err(key.span(), format!("opcode {op} does not exist in base fork {base_fork}: a rule for it has nothing to change")));
        }
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
        opcodes.insert(op.0, behaviour);
    }

    let mut precompiles = BTreeMap::new();
    let mut precompile_keys: BTreeMap<Address, String> = BTreeMap::new();
    for (key, value) in in_file_order(&raw.precompiles) {
        let name = key.get_ref();
        let pc = Precompile::lookup(name)
            .ok_or_else(|| cx.err(key.span(), format!("unknown precompile `{name}` (use a name such as `sha256` or an address such as \"0x02\")")))?;
        if !base_fork.includes(pc.introduced) {
            return Err(cx.err(
                key.span(),
                format!(
                    "precompile {} ({}) does not exist in base fork {base_fork}",
                    pc.name,
                    short(&pc.address)
                ),
            ));
        }
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

    Ok(Profile {
        name: raw.name,
        description: raw.description,
        base_fork,
        sources: raw.sources,
        as_of: raw.as_of,
        opcodes,
        precompiles,
        limits,
    })
}

/// Rules in the order they appear in the file, so errors about duplicates point at the later one.
fn in_file_order<K, V>(map: &BTreeMap<Spanned<K>, V>) -> Vec<(&Spanned<K>, &V)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

/// `0x02` rather than forty hex digits.
pub(crate) fn short(a: &Address) -> String {
    let n = a
        .as_slice()
        .iter()
        .skip_while(|b| **b == 0)
        .fold(0u64, |acc, b| acc << 8 | *b as u64);
    format!("0x{n:02x}")
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
            "p.toml:4: opcode ADD: unknown behaviour `explode` (known: supported, constant, invalid, revert-refund, halt, absent, reject)"
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
}
