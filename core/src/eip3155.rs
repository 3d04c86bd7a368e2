//! EIP-3155 traces: one JSON object per executed instruction, then a summary line, as geth's
//! `evm`, `revme` and the execution spec's `ethereum-spec-evm` print them and goevmlab reads
//! them.
//!
//! [`Writer`] is an observer that prints the lines of one execution; [`read`] parses a trace
//! written by any of those tools (they disagree on whether numbers are JSON numbers or hex
//! strings, so both are accepted); [`diff`] finds where two traces part.

use std::io::{self, BufRead, Write};

use alloy_primitives::{Bytes, U256};
use serde::{Deserialize, Deserializer, Serialize};

use crate::observe::{Flow, GasCost, Observer, Step};
use crate::trace::op_name;

/// One step line. Numbers are written as EIP-3155 and geth write them (`pc`, `op`, `memSize`,
/// `depth`, `refund` as numbers; `gas`, `gasCost`, stack items as hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    /// Program counter.
    #[serde(deserialize_with = "quantity")]
    pub pc: u64,
    /// Opcode byte.
    #[serde(deserialize_with = "quantity")]
    pub op: u64,
    /// Gas remaining before the instruction.
    #[serde(serialize_with = "hex", deserialize_with = "quantity")]
    pub gas: u64,
    /// Gas the instruction cost; absent when unknown (an exceptional halt).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "hex_opt",
        deserialize_with = "quantity_opt"
    )]
    pub gas_cost: Option<u64>,
    /// Active memory size in bytes.
    #[serde(default, deserialize_with = "quantity")]
    pub mem_size: u64,
    /// Stack, bottom first.
    #[serde(default)]
    pub stack: Vec<U256>,
    /// Call depth, the transaction's frame being 1.
    #[serde(deserialize_with = "quantity")]
    pub depth: u64,
    /// Return data buffer; absent when the tool leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_data: Option<Bytes>,
    /// Active memory; absent when the tool leaves it out (geth's `--nomemory`), and from the
    /// execution spec when memory is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<Bytes>,
    /// Refund counter; absent for a backend that does not expose it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "signed_opt"
    )]
    pub refund: Option<i64>,
    /// Opcode name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op_name: Option<String>,
    /// Error of a failing instruction, where the tool says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The final line of a trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Post-state root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_root: Option<String>,
    /// Return data of the transaction (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Gas used by the transaction.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "hex_opt",
        deserialize_with = "quantity_opt"
    )]
    pub gas_used: Option<u64>,
    /// Whether the post state matched the test's expectation (absent: no expectation applied).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<bool>,
    /// Fork the transaction ran under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<String>,
    /// Error, when the transaction failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:#x}"))
}

fn hex_opt<S: serde::Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => hex(v, s),
        None => s.serialize_none(),
    }
}

/// A number written either as a JSON number or as a (hex or decimal) string.
#[derive(Deserialize)]
#[serde(untagged)]
enum Quantity {
    Unsigned(u64),
    Signed(i64),
    Text(String),
}

impl Quantity {
    fn value<E: serde::de::Error>(self) -> Result<i128, E> {
        match self {
            Quantity::Unsigned(n) => Ok(i128::from(n)),
            Quantity::Signed(n) => Ok(i128::from(n)),
            Quantity::Text(t) => match t.strip_prefix("0x") {
                Some("") => Ok(0),
                Some(h) => i128::from_str_radix(h, 16).map_err(E::custom),
                None => t.parse().map_err(E::custom),
            },
        }
    }
}

fn quantity<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = Quantity::deserialize(d)?.value()?;
    u64::try_from(v).map_err(serde::de::Error::custom)
}

fn quantity_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    quantity(d).map(Some)
}

fn signed_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Quantity::deserialize(d)?.value()?;
    i64::try_from(v).map(Some).map_err(serde::de::Error::custom)
}

impl Line {
    /// The line of a step, its cost not yet known.
    pub fn of(s: &Step<'_>) -> Line {
        let (stack, memory, return_data) = match &s.state {
            Some(st) => (st.stack.to_vec(), st.memory.len(), st.return_data),
            None => (Vec::new(), 0, &[][..]),
        };
        Line {
            pc: s.pc as u64,
            op: u64::from(s.opcode),
            gas: s.gas,
            gas_cost: None,
            mem_size: memory as u64,
            stack,
            depth: s.depth as u64,
            return_data: Some(Bytes::copy_from_slice(return_data)),
            memory: None,
            refund: s.refund,
            op_name: Some(op_name(s.opcode).to_string()),
            error: None,
        }
    }
}

/// Writes the EIP-3155 lines of one execution to `out`. A line is written once its cost is
/// known (the next step or the end of the execution); call [`Writer::finish`] after it.
pub struct Writer<W: Write> {
    out: W,
    pending: Option<Line>,
    /// The first write error, reported by [`Writer::finish`].
    error: Option<io::Error>,
}

impl<W: Write> Writer<W> {
    /// A writer printing to `out`.
    pub fn new(out: W) -> Self {
        Writer {
            out,
            pending: None,
            error: None,
        }
    }

    fn flush_pending(&mut self) {
        if let Some(line) = self.pending.take()
            && self.error.is_none()
            && let Err(e) = serde_json::to_writer(&mut self.out, &line)
                .map_err(io::Error::from)
                .and_then(|_| self.out.write_all(b"\n"))
        {
            self.error = Some(e);
        }
    }

    /// Writes the last step and the summary line; gives the output back.
    pub fn finish(mut self, summary: &Summary) -> io::Result<W> {
        self.flush_pending();
        if let Some(e) = self.error {
            return Err(e);
        }
        serde_json::to_writer(&mut self.out, summary)?;
        self.out.write_all(b"\n")?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Observer for Writer<W> {
    fn wants_state(&self) -> bool {
        true
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.flush_pending();
        self.pending = Some(Line::of(step));
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        if let Some(p) = &mut self.pending {
            p.gas_cost = gas_cost;
        }
    }
}

/// A parsed trace: its step lines and the summary, if it has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trace {
    /// Step lines, in order.
    pub steps: Vec<Line>,
    /// The summary line (the last line with `stateRoot`, `output` or `gasUsed`; the execution
    /// spec splits it over two lines, which are merged).
    pub summary: Option<Summary>,
}

/// Why a trace could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A line is neither a step nor a summary.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        reason: String,
    },
}

/// What one line of a trace is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// An instruction.
    Step(Line),
    /// (Part of) the summary.
    Summary(Summary),
    /// A line that is not an instruction: the execution spec's precompile pseudo-steps (the
    /// address as a hex string in `op`).
    Skip,
}

/// Parses one line of a trace: a step (it has a `pc`), a summary (`stateRoot`, `output` or
/// `gasUsed`), or an error saying why it is neither.
pub fn parse_line(text: &str) -> Result<Parsed, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("pc").is_some() {
        if value.get("op").is_some_and(serde_json::Value::is_string) {
            return Ok(Parsed::Skip);
        }
        return serde_json::from_value(value)
            .map(Parsed::Step)
            .map_err(|e| format!("bad step: {e}"));
    }
    if ["stateRoot", "output", "gasUsed"]
        .iter()
        .any(|k| value.get(k).is_some())
    {
        return serde_json::from_value(value)
            .map(Parsed::Summary)
            .map_err(|e| format!("bad summary: {e}"));
    }
    Err("neither a step (no `pc`) nor a summary line".into())
}

/// Reads an EIP-3155 trace: every line with a `pc` is a step, lines with `stateRoot`, `output`
/// or `gasUsed` make the summary, blank lines are skipped; anything else is an error.
pub fn read(input: impl BufRead) -> Result<Trace, ReadError> {
    let mut trace = Trace::default();
    for (i, line) in input.lines().enumerate() {
        let line = line?;
        let text = line.trim();
        if text.is_empty() {
            continue;
        }
        let bad = |reason: String| ReadError::Line {
            line: i + 1,
            reason,
        };
        match parse_line(text).map_err(bad)? {
            Parsed::Step(step) => trace.steps.push(step),
            Parsed::Summary(part) => {
                let merged = match trace.summary.take() {
                    None => part,
                    Some(s) => Summary {
                        state_root: part.state_root.or(s.state_root),
                        output: part.output.or(s.output),
                        gas_used: part.gas_used.or(s.gas_used),
                        pass: part.pass.or(s.pass),
                        fork: part.fork.or(s.fork),
                        error: part.error.or(s.error),
                    },
                };
                trace.summary = Some(merged);
            }
            Parsed::Skip => {}
        }
    }
    Ok(trace)
}

/// The step fields [`diff`] can compare, by their EIP-3155 names.
pub const FIELDS: [&str; 8] = [
    "pc", "op", "gas", "gasCost", "memSize", "stack", "depth", "refund",
];

/// The fields on which two step lines differ, among `fields`. A field one side lacks
/// (`refund` from a backend that does not expose it, `gasCost` of a failing step) is not
/// compared; `returnData` is compared when both have it and it is in `fields`.
pub fn differing(a: &Line, b: &Line, fields: &[&str]) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut check = |name: &'static str, differs: bool| {
        if differs && fields.contains(&name) {
            out.push(name);
        }
    };
    check("depth", a.depth != b.depth);
    check("pc", a.pc != b.pc);
    check("op", a.op != b.op);
    check("gas", a.gas != b.gas);
    check(
        "gasCost",
        matches!((a.gas_cost, b.gas_cost), (Some(x), Some(y)) if x != y),
    );
    check("stack", a.stack != b.stack);
    check("memSize", a.mem_size != b.mem_size);
    check(
        "refund",
        matches!((a.refund, b.refund), (Some(x), Some(y)) if x != y),
    );
    check(
        "returnData",
        matches!((&a.return_data, &b.return_data), (Some(x), Some(y)) if x != y),
    );
    out
}

/// Where two traces part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parting {
    /// Index of the first differing step in the first trace (0-based).
    pub index: usize,
    /// The differing fields, or `end` when one trace has no step there.
    pub fields: Vec<&'static str>,
    /// Up to `context` identical steps before it, from the first trace.
    pub before: Vec<Line>,
    /// The first trace's step at `index`.
    pub left: Option<Line>,
    /// The second trace's step there.
    pub right: Option<Line>,
}

/// What [`diff`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The first differing step, `None` when every step agrees.
    pub parting: Option<Parting>,
    /// Implicit STOPs skipped in the first and the second trace.
    pub skipped: (usize, usize),
}

/// True when `l` looks like the implicit STOP at the end of a frame's code, given the other
/// trace's step `other` at the same point: a STOP where the other trace has already left
/// the frame (or ended). The execution spec and py-evm report that STOP; revm, evm, geth
/// and ethereumjs do not.
fn implicit_stop(l: &Line, other: Option<&Line>) -> bool {
    l.op == 0 && other.is_none_or(|o| o.depth < l.depth)
}

/// The first step at which `a` and `b` differ in one of `fields`, with `context` steps
/// before it. Implicit STOPs ([`implicit_stop`]) are skipped on either side.
pub fn diff(a: &Trace, b: &Trace, fields: &[&str], context: usize) -> Comparison {
    let (mut i, mut j) = (0, 0);
    let mut skipped = (0, 0);
    loop {
        let (l, r) = (a.steps.get(i), b.steps.get(j));
        let fields = match (l, r) {
            (None, None) => {
                return Comparison {
                    parting: None,
                    skipped,
                };
            }
            (Some(x), y) if implicit_stop(x, y) && y.is_none_or(|y| y.op != 0) => {
                i += 1;
                skipped.0 += 1;
                continue;
            }
            (x, Some(y)) if implicit_stop(y, x) && x.is_none_or(|x| x.op != 0) => {
                j += 1;
                skipped.1 += 1;
                continue;
            }
            (Some(x), Some(y)) => differing(x, y, fields),
            _ => vec!["end"],
        };
        if fields.is_empty() {
            i += 1;
            j += 1;
            continue;
        }
        return Comparison {
            parting: Some(Parting {
                index: i,
                fields,
                before: a.steps[i.saturating_sub(context)..i].to_vec(),
                left: l.cloned(),
                right: r.cloned(),
            }),
            skipped,
        };
    }
}
