//! Owned steps: what a recorded trace keeps of each [`Step`], and how two of them differ.
//!
//! A [`TraceStep`] keeps the stack whole (it is what a reader of a report needs) but memory and
//! return data only as their size and a 64-bit hash: a step-by-step copy of memory would make a
//! trace of a memory-heavy program quadratic in size.

use std::hash::{BuildHasher, Hasher};
use std::sync::LazyLock;

use alloy_primitives::{Address, U256};
use foldhash::fast::FixedState;
use serde::Serialize;

use crate::case::At;
use crate::observe::{Flow, GasCost, Observer, Omitted, Step};
use crate::opcode::{Opcode, writes_memory};

/// One recorded instruction, with the machine state before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceStep {
    /// Call depth, the transaction's frame being 1.
    pub depth: usize,
    /// Offset in the frame's code.
    pub pc: usize,
    /// Opcode byte.
    pub op: u8,
    /// Opcode name (`UNKNOWN_0xef` for undefined bytes), for readers.
    pub op_name: &'static str,
    /// Gas remaining before the instruction.
    pub gas: u64,
    /// What the instruction cost (see [`GasCost`]); `None` for an exceptional halt or when the
    /// backend did not say.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gas_cost: GasCost,
    /// The frame's refund counter before the instruction, when the backend exposes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund: Option<i64>,
    /// Stack, bottom first (empty when the observer did not ask for state).
    pub stack: Vec<U256>,
    /// Active memory size in bytes (MSIZE).
    pub mem_size: usize,
    /// [`bytes_hash`] of the active memory.
    #[serde(serialize_with = "hex64")]
    pub memory_hash: u64,
    /// Size of the return data buffer.
    pub return_data_size: usize,
    /// [`bytes_hash`] of the return data buffer.
    #[serde(serialize_with = "hex64")]
    pub return_data_hash: u64,
    /// What the backend did not report: not compared.
    #[serde(skip)]
    pub omitted: Omitted,
    /// The transaction it belongs to, when the observer was told
    /// ([`Observer::transaction`]); `None` in a trace of one transaction.
    #[serde(skip)]
    pub at: Option<At>,
}

impl From<&Step<'_>> for TraceStep {
    fn from(s: &Step<'_>) -> TraceStep {
        let (memory, return_data): (&[u8], &[u8]) = match &s.state {
            Some(st) => (st.memory, st.return_data),
            None => (&[], &[]),
        };
        TraceStep::with_contents(s, bytes_hash(memory), bytes_hash(return_data))
    }
}

impl TraceStep {
    /// The step with the given hashes of its memory and return data: a producer of many
    /// steps reuses the previous step's hashes where the contents cannot have changed
    /// ([`contents_may_change`]), since hashing all of memory at every step would dominate.
    pub fn with_contents(s: &Step<'_>, memory_hash: u64, return_data_hash: u64) -> TraceStep {
        let (stack, mem_size, return_data_size): (&[U256], usize, usize) = match &s.state {
            Some(st) => (st.stack, st.memory.len(), st.return_data.len()),
            None => (&[], 0, 0),
        };
        TraceStep {
            depth: s.depth,
            pc: s.pc,
            op: s.opcode,
            op_name: op_name(s.opcode),
            gas: s.gas,
            gas_cost: None,
            refund: s.refund,
            stack: stack.to_vec(),
            mem_size,
            memory_hash,
            return_data_size,
            return_data_hash,
            omitted: s.omitted,
            at: None,
        }
    }
}

/// True when the contents of memory or return data may have changed since the previous step
/// `prev` (opcode and depth; `None` before the first step): it wrote memory (MSTORE, MSTORE8,
/// the copies, MCOPY), it was a call or create (the callee's output lands in memory and the
/// return data buffer), or the depth changed (a frame returned to its caller, or a callee
/// started with fresh memory). Anywhere else the contents are those of the previous step,
/// whatever their size: an expansion only appends zeros, and sizes are compared at every
/// step.
#[inline]
pub fn contents_may_change(prev: Option<(u8, usize)>, depth: usize) -> bool {
    match prev {
        None => true,
        Some((op, d)) => d != depth || writes_memory(op) || matches!(op, 0xf0 | 0xf5),
    }
}

/// The previous step's opcode and depth, memory hash and return data hash: what lockstep keeps
/// to hash the contents only where they may have changed.
pub type Contents = Option<((u8, usize), u64, u64)>;

/// The hashes of `step`'s memory and return data as lockstep computes them: those of the
/// previous step (`prev`) while the contents cannot have changed ([`contents_may_change`]; a
/// memory expansion alone keeps the hash), else hashed again. Updates `prev`.
pub fn contents_hashes(prev: &mut Contents, step: &Step<'_>) -> (u64, u64) {
    let hashes = match *prev {
        Some((p, m, r)) if !contents_may_change(Some(p), step.depth) => (m, r),
        _ => match &step.state {
            Some(st) => (bytes_hash(st.memory), bytes_hash(st.return_data)),
            None => (bytes_hash(&[]), bytes_hash(&[])),
        },
    };
    *prev = Some(((step.opcode, step.depth), hashes.0, hashes.1));
    hashes
}

/// A fixed-seed 64-bit hash of a byte string: what steps keep of memory and return data.
/// Lockstep hashes the memory on every step, where keccak256 would cost more than the EVMs;
/// a collision can only hide a difference, and the outcome comparison still sees its effects.
pub fn bytes_hash(bytes: &[u8]) -> u64 {
    let mut h = FixedState::with_seed(0x6d656d6f7279).build_hasher();
    h.write(bytes);
    h.write_usize(bytes.len());
    h.finish()
}

fn hex64<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:016x}"))
}

/// The name of an opcode byte, `UNKNOWN_0x..` when it has none.
pub fn op_name(op: u8) -> &'static str {
    static NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
        (0..=255u8)
            .map(|op| {
                Opcode(op)
                    .name()
                    .unwrap_or_else(|| format!("UNKNOWN_{op:#04x}"))
            })
            .collect()
    });
    &NAMES[usize::from(op)]
}

impl TraceStep {
    /// The fields on which `self` and `other` differ, in a fixed order.
    pub fn differing_fields(&self, other: &TraceStep) -> Vec<&'static str> {
        let mut out = Vec::new();
        let mut check = |differs: bool, name| {
            if differs {
                out.push(name);
            }
        };
        check(self.at != other.at, "transaction");
        check(self.depth != other.depth, "depth");
        check(self.pc != other.pc, "pc");
        check(self.op != other.op, "opcode");
        check(self.gas != other.gas, "gas");
        check(self.gas_cost != other.gas_cost, "gas_cost");
        // Only comparable where both backends expose their refund counter.
        check(
            matches!((self.refund, other.refund), (Some(a), Some(b)) if a != b),
            "refund",
        );
        check(self.stack != other.stack, "stack");
        check(self.mem_size != other.mem_size, "memory_size");
        // Contents are compared only where both backends reported them.
        let memory = !(self.omitted.memory || other.omitted.memory);
        check(
            memory && self.mem_size == other.mem_size && self.memory_hash != other.memory_hash,
            "memory",
        );
        let return_data = !(self.omitted.return_data || other.omitted.return_data);
        check(
            return_data
                && (self.return_data_size != other.return_data_size
                    || self.return_data_hash != other.return_data_hash),
            "return_data",
        );
        out
    }
}

/// An observer that keeps everything, in order: for tests and small traces. Steps carry their
/// stack, memory and return data only if made with [`Recorder::with_state`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorder {
    /// Every step, in execution order.
    pub steps: Vec<TraceStep>,
    /// Every precompile call, in execution order.
    pub precompiles: Vec<Address>,
    /// Whether steps are recorded with their machine state.
    pub state: bool,
}

impl Recorder {
    /// A recorder that asks for each step's machine state.
    pub fn with_state() -> Recorder {
        Recorder {
            state: true,
            ..Recorder::default()
        }
    }
}

impl Observer for Recorder {
    fn wants_state(&self) -> bool {
        self.state
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        self.steps.push(TraceStep::from(step));
        Flow::Continue(())
    }

    fn step_end(&mut self, gas_cost: GasCost) {
        if let Some(last) = self.steps.last_mut() {
            last.gas_cost = gas_cost;
        }
    }

    fn precompile(&mut self, address: Address) {
        self.precompiles.push(address);
    }
}
