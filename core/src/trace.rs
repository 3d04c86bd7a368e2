//! Owned steps: what a recorded trace keeps of each [`Step`], and the digest that lets two
//! traces be compared step by step without keeping them.
//!
//! A [`TraceStep`] keeps the stack whole (it is what a reader of a report needs) but memory and
//! return data only as their size and a hash: a step-by-step copy of memory would make a trace
//! of a memory-heavy program quadratic in size.

use std::hash::{DefaultHasher, Hash, Hasher};

use alloy_primitives::{B256, U256, keccak256};
use serde::Serialize;

use crate::observe::Step;
use crate::opcode::Opcode;

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
    pub op_name: String,
    /// Gas remaining before the instruction.
    pub gas: u64,
    /// Stack, bottom first (empty when the observer did not ask for state).
    pub stack: Vec<U256>,
    /// Active memory size in bytes (MSIZE).
    pub mem_size: usize,
    /// keccak256 of the active memory.
    pub memory_hash: B256,
    /// Size of the return data buffer.
    pub return_data_size: usize,
    /// keccak256 of the return data buffer.
    pub return_data_hash: B256,
}

impl From<&Step<'_>> for TraceStep {
    fn from(s: &Step<'_>) -> TraceStep {
        let (stack, memory, return_data): (&[U256], &[u8], &[u8]) = match &s.state {
            Some(st) => (st.stack, st.memory, st.return_data),
            None => (&[], &[], &[]),
        };
        TraceStep {
            depth: s.depth,
            pc: s.pc,
            op: s.opcode,
            op_name: op_name(s.opcode),
            gas: s.gas,
            stack: stack.to_vec(),
            mem_size: memory.len(),
            memory_hash: keccak256(memory),
            return_data_size: return_data.len(),
            return_data_hash: keccak256(return_data),
        }
    }
}

/// The name of an opcode byte, `UNKNOWN_0x..` when it has none.
pub fn op_name(op: u8) -> String {
    Opcode(op)
        .name()
        .unwrap_or_else(|| format!("UNKNOWN_{op:#04x}"))
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
        check(self.depth != other.depth, "depth");
        check(self.pc != other.pc, "pc");
        check(self.op != other.op, "opcode");
        check(self.gas != other.gas, "gas");
        check(self.stack != other.stack, "stack");
        check(self.mem_size != other.mem_size, "memory_size");
        check(
            self.mem_size == other.mem_size && self.memory_hash != other.memory_hash,
            "memory",
        );
        check(
            self.return_data_size != other.return_data_size
                || self.return_data_hash != other.return_data_hash,
            "return_data",
        );
        out
    }
}

/// A 64-bit digest of everything [`TraceStep`] compares, computed from the borrowed step
/// without copying it. Two steps with equal fields have equal digests; a collision can only
/// hide a difference, never invent one, and localization re-checks the full steps.
pub fn digest(s: &Step<'_>) -> u64 {
    let mut h = DefaultHasher::new();
    (s.depth, s.pc, s.opcode, s.gas).hash(&mut h);
    if let Some(st) = &s.state {
        st.stack.hash(&mut h);
        st.memory.hash(&mut h);
        st.return_data.hash(&mut h);
    }
    h.finish()
}
