//! The read/write-log view of a prover: the ordered operations on stack, memory, storage,
//! transient storage, accounts, logs and call context, with their values, as the rw-tables of
//! zkEVM circuits (Scroll's, PSE's, Polygon's) check them.
//!
//! A circuit does not re-execute an opcode; it checks that each step's reads and writes are
//! consistent with one ordered log. Two backends that produce the same outcome from different
//! logs would be proved differently, so the log is compared like any other observation.
//!
//! The log is derived from a backend's own steps: what an instruction reads is in its frame's
//! state before it (stack inputs, memory regions, storage keys); what it writes, and the value
//! a read returns (SLOAD, BALANCE, CALLER, ...), is in the state before the frame's next
//! instruction, which for a call comes after the callee's operations. An instruction whose
//! frame ends without a next step (a failing instruction, a RETURN) has no writes. Memory
//! regions are logged as a 64-bit hash of their bytes (zero-extended past MSIZE), not byte
//! by byte as a circuit would.

use alloy_primitives::{Address, U256};
use serde::Serialize;

use crate::observe::{Flow, Observer, Step, StepState};
use crate::opcode::memory_written;
use crate::trace::bytes_hash;

/// Read or write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Rw {
    /// A read.
    R,
    /// A write.
    W,
}

/// What an operation touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// A stack slot (`key`: position from the bottom).
    Stack,
    /// A memory region (`key`: offset, `len` bytes; `value`: hash of the bytes).
    Memory,
    /// A storage slot of `address` (`key`: slot).
    Storage,
    /// A transient storage slot of `address`.
    Transient,
    /// A field of an account (`key`: the account as a number; `field`: balance, code-size,
    /// code-hash).
    Account,
    /// A log of `address` (`value`: hash of topics and data).
    Log,
    /// A call-context field of the frame (`field`: caller, callvalue, calldatasize, ...).
    CallContext,
}

/// One operation of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RwOp {
    /// Read or write.
    pub rw: Rw,
    /// What it touches.
    pub target: Target,
    /// Call depth of the frame.
    pub depth: usize,
    /// The frame's storage address.
    pub address: Address,
    /// Stack position, memory offset, slot or account.
    pub key: U256,
    /// Bytes, for memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<U256>,
    /// Account or call-context field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// The value read or written.
    pub value: U256,
}

/// Stack inputs and outputs of an opcode (DUPn reads n and writes n + 1, SWAPn reads and
/// writes n + 1: the slots whose contents it moves).
pub fn stack_io(op: u8) -> (usize, usize) {
    match op {
        0x00 | 0x5b | 0xfe => (0, 0),
        0x01..=0x07 | 0x0a | 0x0b | 0x10..=0x14 | 0x16..=0x18 | 0x1a..=0x1d | 0x20 => (2, 1),
        0x08 | 0x09 => (3, 1),
        0x15 | 0x19 | 0x1e => (1, 1),
        0x30 | 0x32..=0x34 | 0x36 | 0x38 | 0x3a | 0x3d | 0x41..=0x48 | 0x4a => (0, 1),
        0x31 | 0x35 | 0x3b | 0x3f | 0x40 | 0x49 | 0x51 | 0x54 | 0x5c => (1, 1),
        0x37 | 0x39 | 0x3e | 0x5e => (3, 0),
        0x3c => (4, 0),
        0x50 | 0x56 | 0xff => (1, 0),
        0x52 | 0x53 | 0x55 | 0x57 | 0x5d | 0xf3 | 0xfd => (2, 0),
        0x58..=0x5a | 0x5f..=0x7f => (0, 1),
        0x80..=0x8f => {
            let n = usize::from(op - 0x7f);
            (n, n + 1)
        }
        0x90..=0x9f => {
            let n = usize::from(op - 0x8f) + 1;
            (n, n)
        }
        0xa0..=0xa4 => (2 + usize::from(op - 0xa0), 0),
        0xf0 => (3, 1),
        0xf1 | 0xf2 => (7, 1),
        0xf4 | 0xfa => (6, 1),
        0xf5 => (4, 1),
        _ => (0, 0),
    }
}

/// A read whose value is the top of the frame's next stack.
#[derive(Debug, Clone, Copy)]
struct ValueRead {
    target: Target,
    key: U256,
    field: Option<&'static str>,
}

/// What an instruction writes, resolved at its frame's next step.
#[derive(Debug, Clone)]
struct Pending {
    /// Stack length before the instruction, minus its inputs.
    base: usize,
    outputs: usize,
    /// The memory region written.
    memory: Option<(U256, U256)>,
    read: Option<ValueRead>,
}

/// Builds the log of one execution.
#[derive(Debug, Default)]
pub struct RwLog {
    /// The operations, in order.
    pub ops: Vec<RwOp>,
    /// Per depth (index depth - 1): the frame's last instruction, waiting for its writes.
    pending: Vec<Option<(Pending, Address)>>,
}

/// The hash of `len` bytes of `memory` at `offset`, zero-extended, as a number; no allocation
/// however large the region (a region past MSIZE is all zeros).
fn region(memory: &[u8], offset: U256, len: U256) -> U256 {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(memory.len());
    let end = usize::try_from(offset.saturating_add(len))
        .unwrap_or(usize::MAX)
        .min(memory.len());
    let inside = bytes_hash(&memory[start..end.max(start)]);
    U256::from(inside) ^ (len << 64)
}

/// The `i`-th item from the top of `stack` (0 = top).
fn top(stack: &[U256], i: usize) -> U256 {
    stack
        .len()
        .checked_sub(i + 1)
        .map_or(U256::ZERO, |k| stack[k])
}

impl RwLog {
    fn push(
        &mut self,
        rw: Rw,
        target: Target,
        depth: usize,
        address: Address,
        key: U256,
    ) -> &mut RwOp {
        self.ops.push(RwOp {
            rw,
            target,
            depth,
            address,
            key,
            len: None,
            field: None,
            value: U256::ZERO,
        });
        self.ops.last_mut().expect("just pushed")
    }

    /// Resolves the writes of the frame's last instruction against its state now.
    fn resolve(&mut self, p: Pending, address: Address, depth: usize, st: &StepState<'_>) {
        if let Some(r) = p.read {
            let value = top(st.stack, 0);
            let op = self.push(Rw::R, r.target, depth, address, r.key);
            op.field = r.field;
            op.value = value;
        }
        for k in 0..p.outputs {
            let pos = p.base + k;
            let value = st.stack.get(pos).copied().unwrap_or_default();
            self.push(Rw::W, Target::Stack, depth, address, U256::from(pos))
                .value = value;
        }
        if let Some((offset, len)) = p.memory {
            let value = region(st.memory, offset, len);
            let op = self.push(Rw::W, Target::Memory, depth, address, offset);
            op.len = Some(len);
            op.value = value;
        }
    }
}

impl Observer for RwLog {
    fn wants_state(&self) -> bool {
        true
    }

    fn step(&mut self, step: &Step<'_>) -> Flow {
        let Some(st) = &step.state else {
            return Flow::Continue(());
        };
        let depth = step.depth;
        // Frames deeper than this one have ended: their last instructions write nothing.
        self.pending.truncate(depth);
        self.pending.resize(depth, None);
        if let Some((p, address)) = self.pending[depth - 1].take() {
            self.resolve(p, address, depth, st);
        }
        let (op, s, address) = (step.opcode, st.stack, st.address);
        let (inputs, outputs) = stack_io(op);
        let n = s.len();
        for k in 0..inputs.min(n) {
            let pos = n - 1 - k;
            self.push(Rw::R, Target::Stack, depth, address, U256::from(pos))
                .value = s[pos];
        }
        let arg = |i: usize| top(s, i);
        let memory = memory_written(op, s);
        let mut read = None;
        let mem_read = |log: &mut RwLog, offset: U256, len: U256| {
            let value = region(st.memory, offset, len);
            let o = log.push(Rw::R, Target::Memory, depth, address, offset);
            o.len = Some(len);
            o.value = value;
        };
        let field = |target, key, name| {
            Some(ValueRead {
                target,
                key,
                field: name,
            })
        };
        match op {
            0x51 => mem_read(self, arg(0), U256::from(32)),
            0x20 | 0xf3 | 0xfd => mem_read(self, arg(0), arg(1)),
            0x5e => mem_read(self, arg(1), arg(2)),
            0x54 => read = field(Target::Storage, arg(0), None),
            0x5c => read = field(Target::Transient, arg(0), None),
            0x55 | 0x5d => {
                let target = if op == 0x55 {
                    Target::Storage
                } else {
                    Target::Transient
                };
                self.push(Rw::W, target, depth, address, arg(0)).value = arg(1);
            }
            0x31 => read = field(Target::Account, arg(0), Some("balance")),
            0x3b => read = field(Target::Account, arg(0), Some("code-size")),
            0x3f => read = field(Target::Account, arg(0), Some("code-hash")),
            0x47 => {
                let key = U256::from_be_slice(address.as_slice());
                read = field(Target::Account, key, Some("balance"));
            }
            0x30 | 0x32 | 0x33 | 0x34 | 0x36 | 0x38 | 0x3a | 0x3d => {
                let name = match op {
                    0x30 => "address",
                    0x32 => "origin",
                    0x33 => "caller",
                    0x34 => "callvalue",
                    0x36 => "calldatasize",
                    0x38 => "codesize",
                    0x3a => "gasprice",
                    _ => "returndatasize",
                };
                read = field(Target::CallContext, U256::ZERO, Some(name));
            }
            0x35 => read = field(Target::CallContext, arg(0), Some("calldata")),
            0xa0..=0xa4 => {
                let topics = usize::from(op - 0xa0);
                let mut words: Vec<u8> = Vec::with_capacity(32 * (topics + 1));
                for t in 0..topics {
                    words.extend_from_slice(&arg(2 + t).to_be_bytes::<32>());
                }
                words.extend_from_slice(&region(st.memory, arg(0), arg(1)).to_be_bytes::<32>());
                self.push(Rw::W, Target::Log, depth, address, U256::ZERO)
                    .value = U256::from(bytes_hash(&words));
            }
            0xf0 | 0xf5 => mem_read(self, arg(1), arg(2)),
            0xf1 | 0xf2 => mem_read(self, arg(3), arg(4)),
            0xf4 | 0xfa => mem_read(self, arg(2), arg(3)),
            _ => {}
        }
        if outputs > 0 || memory.is_some() || read.is_some() {
            let pending = Pending {
                base: n.saturating_sub(inputs),
                outputs,
                memory,
                read,
            };
            self.pending[depth - 1] = Some((pending, address));
        }
        Flow::Continue(())
    }
}

/// The first operation at which two logs differ: its index and both operations (`None`: that
/// log ended first). `None` when the logs are equal.
pub fn first_difference(a: &[RwOp], b: &[RwOp]) -> Option<(usize, Option<RwOp>, Option<RwOp>)> {
    let n = a.len().max(b.len());
    (0..n)
        .find(|&i| a.get(i) != b.get(i))
        .map(|i| (i, a.get(i).cloned(), b.get(i).cloned()))
}
