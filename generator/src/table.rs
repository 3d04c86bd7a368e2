//! The instruction table: for each opcode the generator emits directly, its class and the
//! kinds of its operands (so that, say, a memory offset is usually small and an address is
//! usually one that exists), and how many values it pushes.
//!
//! Jumps, calls, creates and terminators are emitted by dedicated builders, not from here.

use crate::config::Class;
use crate::operands::Kind::{self, *};

/// One directly emitted opcode.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The opcode.
    pub op: u8,
    /// Its class.
    pub class: Class,
    /// Operand kinds, first (top of stack) first.
    pub inputs: &'static [Kind],
    /// Values pushed.
    pub outputs: usize,
}

const fn e(op: u8, class: Class, inputs: &'static [Kind], outputs: usize) -> Entry {
    Entry {
        op,
        class,
        inputs,
        outputs,
    }
}

use Class::*;

/// The table.
pub const TABLE: &[Entry] = &[
    e(0x01, Arithmetic, &[Value, Value], 1),
    e(0x02, Arithmetic, &[Value, Value], 1),
    e(0x03, Arithmetic, &[Value, Value], 1),
    e(0x04, Arithmetic, &[Value, Value], 1),
    e(0x05, Arithmetic, &[Value, Value], 1),
    e(0x06, Arithmetic, &[Value, Value], 1),
    e(0x07, Arithmetic, &[Value, Value], 1),
    e(0x08, Arithmetic, &[Value, Value, Value], 1),
    e(0x09, Arithmetic, &[Value, Value, Value], 1),
    e(0x0a, Arithmetic, &[Value, Value], 1),
    e(0x0b, Arithmetic, &[Small, Value], 1),
    e(0x10, Bitwise, &[Value, Value], 1),
    e(0x11, Bitwise, &[Value, Value], 1),
    e(0x12, Bitwise, &[Value, Value], 1),
    e(0x13, Bitwise, &[Value, Value], 1),
    e(0x14, Bitwise, &[Value, Value], 1),
    e(0x15, Bitwise, &[Value], 1),
    e(0x16, Bitwise, &[Value, Value], 1),
    e(0x17, Bitwise, &[Value, Value], 1),
    e(0x18, Bitwise, &[Value, Value], 1),
    e(0x19, Bitwise, &[Value], 1),
    e(0x1a, Bitwise, &[Small, Value], 1),
    e(0x1b, Bitwise, &[Small, Value], 1),
    e(0x1c, Bitwise, &[Small, Value], 1),
    e(0x1d, Bitwise, &[Small, Value], 1),
    e(0x1e, Bitwise, &[Value], 1),
    e(0x20, Keccak, &[Offset, Length], 1),
    e(0x30, Environment, &[], 1),
    e(0x31, Accounts, &[Address], 1),
    e(0x32, Environment, &[], 1),
    e(0x33, Environment, &[], 1),
    e(0x34, Environment, &[], 1),
    e(0x35, Environment, &[Small], 1),
    e(0x36, Environment, &[], 1),
    e(0x37, Environment, &[Offset, Small, Length], 0),
    e(0x38, Environment, &[], 1),
    e(0x39, Environment, &[Offset, Small, Length], 0),
    e(0x3a, Environment, &[], 1),
    e(0x3b, Accounts, &[Address], 1),
    e(0x3c, Accounts, &[Address, Offset, Small, Length], 0),
    e(0x3d, Environment, &[], 1),
    e(0x3e, Environment, &[Offset, Small, Length], 0),
    e(0x3f, Accounts, &[Address], 1),
    e(0x40, Block, &[BlockNumber], 1),
    e(0x41, Block, &[], 1),
    e(0x42, Block, &[], 1),
    e(0x43, Block, &[], 1),
    e(0x44, Block, &[], 1),
    e(0x45, Block, &[], 1),
    e(0x46, Block, &[], 1),
    e(0x47, Accounts, &[], 1),
    e(0x48, Block, &[], 1),
    e(0x49, Block, &[Small], 1),
    e(0x4a, Block, &[], 1),
    e(0x51, Memory, &[Offset], 1),
    e(0x52, Memory, &[Offset, Value], 0),
    e(0x53, Memory, &[Offset, Value], 0),
    e(0x54, Storage, &[Slot], 1),
    e(0x55, Storage, &[Slot, Value], 0),
    e(0x58, Environment, &[], 1),
    e(0x59, Environment, &[], 1),
    e(0x5a, Environment, &[], 1),
    e(0x5c, Transient, &[Slot], 1),
    e(0x5d, Transient, &[Slot, Value], 0),
    e(0x5e, Memory, &[Offset, Offset, Length], 0),
    e(0xa0, Logs, &[Offset, Length], 0),
    e(0xa1, Logs, &[Offset, Length, Value], 0),
    e(0xa2, Logs, &[Offset, Length, Value, Value], 0),
    e(0xa3, Logs, &[Offset, Length, Value, Value, Value], 0),
    e(0xa4, Logs, &[Offset, Length, Value, Value, Value, Value], 0),
];
