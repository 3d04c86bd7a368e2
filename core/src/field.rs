//! The field of a [`Difference`](crate::compare::Difference): what two backends disagree on.
//!
//! A field is written once, here, and read as data everywhere else: triage takes its
//! [`kind`](Field::kind) for a signature, the oracle reclassifies a witness entry in place, the
//! report asks whether a prover view found it. Its text ([`Display`](fmt::Display), and serde
//! through it) is the one findings, allowlists and signature ids have always carried
//! (`state[0x..].storage[0x1]`, `witness.right-only-superfluous.account[0x..]`, ...), and it
//! parses back ([`FromStr`]), so files written before the type existed still read.

use std::fmt;
use std::str::FromStr;

use alloy_primitives::{Address, U256};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::rw_log::Target;

/// One compared field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `status`: the kind of ending (success, revert, halt).
    Status,
    /// `halt_class`: which exceptional halt, when both halted (a note, not a divergence).
    HaltClass,
    /// `gas_used`.
    GasUsed,
    /// `refund`.
    Refund,
    /// `output`: the return or revert data.
    Output,
    /// `logs`.
    Logs,
    /// `state_root`: compared only where one side holds no post-state (a runner that prints
    /// a root); two complete outcomes are compared on their states.
    StateRoot,
    /// `logs_hash`: never reported by [`compare`](crate::compare::compare), which compares the
    /// logs themselves; a field name that signatures and allowlists may still carry.
    LogsHash,
    /// `state[0x..]`: the account exists after the transaction on one side only.
    Account(Address),
    /// `state[0x..].balance`.
    Balance(Address),
    /// `state[0x..].nonce`.
    Nonce(Address),
    /// `state[0x..].code`.
    Code(Address),
    /// `state[0x..].storage[0x..]`: one slot of an account's storage.
    Storage(Address, U256),
    /// `steps`: outcomes agree but the rolling hashes of the executed steps do not.
    Steps,
    /// `blocks`: how many blocks of a chain the backend executed.
    Blocks,
    /// `transactions`: how many transaction outcomes a block has.
    Transactions,
    /// `block_gas_used`: the gas a block used (its header's `gasUsed`).
    BlockGasUsed,
    /// `stateless.<field>`: a backend's stateless re-execution from its own witness differs
    /// from its execution with the whole state, on the inner field.
    Stateless(Box<Field>),
    /// `witness.<side>-only[-<class>].<entry>`: a witness entry one backend read and the other
    /// did not.
    Witness {
        /// Which backend of the pair read it.
        side: Side,
        /// Whether that backend needed it, once classified.
        class: Option<WitnessClass>,
        /// The entry.
        entry: WitnessEntry,
    },
    /// `witness_root`: the post-state root a stateless guest computes from a backend's
    /// `debug_executionWitness` of a block and the block's changes is not the backend's
    /// post-state root (or the guest cannot compute one: the witness lacks a node).
    WitnessRoot,
    /// `rw_log.<target>[<index>]`: the first operation at which two read/write logs differ.
    RwLog {
        /// What the operation touches (of whichever log has one at `index`).
        target: Target,
        /// Its position in the log.
        index: usize,
    },
}

/// The backend of a pair that holds a witness entry the other does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The reference (left) backend.
    Left,
    /// The other backend.
    Right,
}

/// Why one side read a witness entry the other did not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessClass {
    /// The side's stateless re-execution from the common entries does not reproduce its
    /// outcome: the two use the state differently.
    Needed,
    /// The side reproduces its outcome without it: a prover pays for proving it for nothing.
    Superfluous,
}

/// One entry of an execution witness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessEntry {
    /// `account[0x..]`.
    Account(Address),
    /// `storage[0x..][0x..]`.
    Storage(Address, U256),
    /// `block_hash[<number>]`.
    BlockHash(u64),
}

/// Text that is not a field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown field `{0}`")]
pub struct FieldError(pub String);

/// The rw-log targets as field text names them (lowercase, no separator: `callcontext`), the
/// one table both rendering and parsing read.
const TARGETS: [(Target, &str); 7] = [
    (Target::Stack, "stack"),
    (Target::Memory, "memory"),
    (Target::Storage, "storage"),
    (Target::Transient, "transient"),
    (Target::Account, "account"),
    (Target::Log, "log"),
    (Target::CallContext, "callcontext"),
];

/// The fields that carry nothing but their name.
const PLAIN: [(Field, &str); 13] = [
    (Field::Status, "status"),
    (Field::HaltClass, "halt_class"),
    (Field::GasUsed, "gas_used"),
    (Field::Refund, "refund"),
    (Field::Output, "output"),
    (Field::Logs, "logs"),
    (Field::StateRoot, "state_root"),
    (Field::LogsHash, "logs_hash"),
    (Field::Steps, "steps"),
    (Field::Blocks, "blocks"),
    (Field::Transactions, "transactions"),
    (Field::BlockGasUsed, "block_gas_used"),
    (Field::WitnessRoot, "witness_root"),
];

fn target_name(target: Target) -> &'static str {
    TARGETS
        .iter()
        .find(|(t, _)| *t == target)
        .map(|(_, n)| *n)
        .expect("every target is in TARGETS")
}

impl Field {
    /// The kind of the field, with what varies between inputs that hit the same bug
    /// (addresses, slots, indexes) left out: `state.storage`, `stateless.state.nonce`,
    /// `witness.right-only-superfluous.account`, `rw_log.storage`. Signatures are sets of
    /// kinds, so this text is part of every signature id.
    pub fn kind(&self) -> String {
        match self {
            Field::Account(_) => "state.account".into(),
            Field::Balance(_) => "state.balance".into(),
            Field::Nonce(_) => "state.nonce".into(),
            Field::Code(_) => "state.code".into(),
            Field::Storage(..) => "state.storage".into(),
            Field::Stateless(inner) => format!("stateless.{}", inner.kind()),
            Field::Witness { side, class, entry } => {
                format!("witness.{}.{}", witness_group(*side, *class), entry.kind())
            }
            Field::RwLog { target, .. } => format!("rw_log.{}", target_name(*target)),
            plain => plain.to_string(),
        }
    }

    /// True for a field a prover view found (a witness entry, a stateless re-execution, a
    /// read/write log): such a difference is not about executed steps, so no step
    /// localization applies to it.
    pub fn is_view(&self) -> bool {
        matches!(
            self,
            Field::Stateless(_) | Field::Witness { .. } | Field::WitnessRoot | Field::RwLog { .. }
        )
    }
}

impl WitnessEntry {
    fn kind(&self) -> &'static str {
        match self {
            WitnessEntry::Account(_) => "account",
            WitnessEntry::Storage(..) => "storage",
            WitnessEntry::BlockHash(_) => "block_hash",
        }
    }
}

/// `left-only`, `right-only-needed`, ...
fn witness_group(side: Side, class: Option<WitnessClass>) -> String {
    let side = match side {
        Side::Left => "left-only",
        Side::Right => "right-only",
    };
    match class {
        None => side.to_string(),
        Some(WitnessClass::Needed) => format!("{side}-needed"),
        Some(WitnessClass::Superfluous) => format!("{side}-superfluous"),
    }
}

impl fmt::Display for WitnessEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WitnessEntry::Account(a) => write!(f, "account[{a}]"),
            WitnessEntry::Storage(a, s) => write!(f, "storage[{a}][{s:#x}]"),
            WitnessEntry::BlockHash(n) => write!(f, "block_hash[{n}]"),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Account(a) => write!(f, "state[{a}]"),
            Field::Balance(a) => write!(f, "state[{a}].balance"),
            Field::Nonce(a) => write!(f, "state[{a}].nonce"),
            Field::Code(a) => write!(f, "state[{a}].code"),
            Field::Storage(a, s) => write!(f, "state[{a}].storage[{s:#x}]"),
            Field::Stateless(inner) => write!(f, "stateless.{inner}"),
            Field::Witness { side, class, entry } => {
                write!(f, "witness.{}.{entry}", witness_group(*side, *class))
            }
            Field::RwLog { target, index } => {
                write!(f, "rw_log.{}[{index}]", target_name(*target))
            }
            plain => {
                let name = PLAIN
                    .iter()
                    .find(|(p, _)| p == plain)
                    .map(|(_, n)| *n)
                    .expect("every field without data is in PLAIN");
                f.write_str(name)
            }
        }
    }
}

/// `[x]` at the start of `s`: `x` and what follows.
fn bracketed(s: &str) -> Option<(&str, &str)> {
    s.strip_prefix('[')?.split_once(']')
}

fn address(s: &str) -> Option<Address> {
    s.parse().ok()
}

/// A slot as it is rendered: `0x` and lowercase hex.
fn slot(s: &str) -> Option<U256> {
    U256::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

/// `rest`: what follows `state[`.
fn parse_state(rest: &str) -> Option<Field> {
    let (a, tail) = rest.split_once(']')?;
    let a = address(a)?;
    Some(match tail {
        "" => Field::Account(a),
        ".balance" => Field::Balance(a),
        ".nonce" => Field::Nonce(a),
        ".code" => Field::Code(a),
        _ => match bracketed(tail.strip_prefix(".storage")?)? {
            (s, "") => Field::Storage(a, slot(s)?),
            _ => return None,
        },
    })
}

fn parse_witness(rest: &str) -> Option<Field> {
    let (group, entry) = rest.split_once('.')?;
    let (side, class) = match group.split_once("-only") {
        Some(("left", class)) => (Side::Left, class),
        Some(("right", class)) => (Side::Right, class),
        _ => return None,
    };
    let class = match class {
        "" => None,
        "-needed" => Some(WitnessClass::Needed),
        "-superfluous" => Some(WitnessClass::Superfluous),
        _ => return None,
    };
    let entry = if let Some(e) = entry.strip_prefix("account") {
        match bracketed(e)? {
            (a, "") => WitnessEntry::Account(address(a)?),
            _ => return None,
        }
    } else if let Some(e) = entry.strip_prefix("storage") {
        let (a, e) = bracketed(e)?;
        match bracketed(e)? {
            (s, "") => WitnessEntry::Storage(address(a)?, slot(s)?),
            _ => return None,
        }
    } else {
        match bracketed(entry.strip_prefix("block_hash")?)? {
            (n, "") => WitnessEntry::BlockHash(n.parse().ok()?),
            _ => return None,
        }
    };
    Some(Field::Witness { side, class, entry })
}

fn parse_rw_log(rest: &str) -> Option<Field> {
    let (name, tail) = rest.split_once('[')?;
    let target = TARGETS.iter().find(|(_, n)| *n == name)?.0;
    let index = tail.strip_suffix(']')?.parse().ok()?;
    Some(Field::RwLog { target, index })
}

impl FromStr for Field {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Field, FieldError> {
        let parsed = if let Some(rest) = s.strip_prefix("stateless.") {
            rest.parse().ok().map(|f| Field::Stateless(Box::new(f)))
        } else if let Some(rest) = s.strip_prefix("state[") {
            parse_state(rest)
        } else if let Some(rest) = s.strip_prefix("witness.") {
            parse_witness(rest)
        } else if let Some(rest) = s.strip_prefix("rw_log.") {
            parse_rw_log(rest)
        } else {
            PLAIN.iter().find(|(_, n)| *n == s).map(|(f, _)| f.clone())
        };
        parsed.ok_or_else(|| FieldError(s.to_string()))
    }
}

impl Serialize for Field {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The signature's field kind as triage computed it from the text before fields were
    /// typed: the oracle [`Field::kind`] must agree with, or every signature id changes.
    fn old_field_kind(field: &str) -> String {
        if let Some(rest) = field.strip_prefix("stateless.") {
            return format!("stateless.{}", old_field_kind(rest));
        }
        match field.strip_prefix("state[") {
            Some(rest) => match rest.split_once("].") {
                Some((_, tail)) => format!("state.{}", tail.split('[').next().unwrap_or(tail)),
                None => "state.account".to_string(),
            },
            None => field.split('[').next().unwrap_or(field).to_string(),
        }
    }

    const A: &str = "0x00000000000000000000000000000000C0DE0001";

    /// One text of every variant and every witness side and class and rw-log target, as the
    /// modules that produce them render them.
    fn texts() -> Vec<String> {
        let mut v: Vec<String> = PLAIN.iter().map(|(_, n)| n.to_string()).collect();
        v.extend([
            format!("state[{A}]"),
            format!("state[{A}].balance"),
            format!("state[{A}].nonce"),
            format!("state[{A}].code"),
            format!("state[{A}].storage[0x0]"),
            format!("state[{A}].storage[0xdeadbeef]"),
            format!("stateless.state[{A}].nonce"),
            "stateless.gas_used".into(),
            "stateless.stateless.status".into(),
        ]);
        for group in [
            "left-only",
            "right-only",
            "left-only-needed",
            "right-only-needed",
            "left-only-superfluous",
            "right-only-superfluous",
        ] {
            v.push(format!("witness.{group}.account[{A}]"));
            v.push(format!("witness.{group}.storage[{A}][0x1f]"));
            v.push(format!("witness.{group}.block_hash[4294967296]"));
        }
        for (_, t) in TARGETS {
            v.push(format!("rw_log.{t}[17]"));
        }
        v
    }

    #[test]
    fn every_field_text_round_trips() {
        for text in texts() {
            let field: Field = text.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(field.to_string(), text);
            let json = serde_json::to_string(&field).unwrap();
            assert_eq!(json, serde_json::to_string(&text).unwrap());
            assert_eq!(serde_json::from_str::<Field>(&json).unwrap(), field);
        }
    }

    #[test]
    fn kind_is_what_the_text_function_gave() {
        for text in texts() {
            let field: Field = text.parse().unwrap();
            assert_eq!(field.kind(), old_field_kind(&text), "{text}");
        }
        let f: Field =
            "witness.right-only-superfluous.account[0x0000000000000000000000000000000000000001]"
                .parse()
                .unwrap();
        assert_eq!(f.kind(), "witness.right-only-superfluous.account");
    }

    #[test]
    fn structure_is_parsed_not_only_the_text() {
        let a: Address = A.parse().unwrap();
        assert_eq!(
            format!("state[{A}].storage[0x10]")
                .parse::<Field>()
                .unwrap(),
            Field::Storage(a, U256::from(16))
        );
        assert_eq!(
            "rw_log.callcontext[3]".parse::<Field>().unwrap(),
            Field::RwLog {
                target: Target::CallContext,
                index: 3
            }
        );
        assert_eq!(
            format!("witness.left-only-needed.storage[{A}][0x2]")
                .parse::<Field>()
                .unwrap(),
            Field::Witness {
                side: Side::Left,
                class: Some(WitnessClass::Needed),
                entry: WitnessEntry::Storage(a, U256::from(2)),
            }
        );
        assert!(Field::Stateless(Box::new(Field::Status)).is_view());
        assert!(!Field::Storage(a, U256::ZERO).is_view());
    }

    #[test]
    fn malformed_text_is_refused() {
        for text in [
            "",
            "gas",
            "state",
            "state[0x01]",
            &format!("state[{A}].storage[1]"),
            &format!("state[{A}].storage[0x1]x"),
            &format!("state[{A}].colour"),
            "stateless.",
            &format!("witness.middle-only.account[{A}]"),
            &format!("witness.left-only-maybe.account[{A}]"),
            "witness.left-only.block_hash[x]",
            "rw_log.disk[0]",
            "rw_log.stack[0",
        ] {
            let err = text.parse::<Field>().unwrap_err();
            assert_eq!(err.to_string(), format!("unknown field `{text}`"));
        }
    }
}
