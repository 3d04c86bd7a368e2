//! The EVM opcode table: names and the fork that introduced each opcode.
//!
//! Profiles name opcodes, and a rule for an opcode the base fork lacks is refused, so evmdiff
//! needs one table that is independent of every backend.

use std::fmt;

use alloy_primitives::U256;

use crate::fork::Fork;

/// One opcode byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Opcode(pub u8);

/// Named opcodes outside the PUSH/DUP/SWAP/LOG ranges: (byte, name, fork that introduced it).
const NAMED: &[(u8, &str, Fork)] = &[
    (0x00, "STOP", Fork::Frontier),
    (0x01, "ADD", Fork::Frontier),
    (0x02, "MUL", Fork::Frontier),
    (0x03, "SUB", Fork::Frontier),
    (0x04, "DIV", Fork::Frontier),
    (0x05, "SDIV", Fork::Frontier),
    (0x06, "MOD", Fork::Frontier),
    (0x07, "SMOD", Fork::Frontier),
    (0x08, "ADDMOD", Fork::Frontier),
    (0x09, "MULMOD", Fork::Frontier),
    (0x0a, "EXP", Fork::Frontier),
    (0x0b, "SIGNEXTEND", Fork::Frontier),
    (0x10, "LT", Fork::Frontier),
    (0x11, "GT", Fork::Frontier),
    (0x12, "SLT", Fork::Frontier),
    (0x13, "SGT", Fork::Frontier),
    (0x14, "EQ", Fork::Frontier),
    (0x15, "ISZERO", Fork::Frontier),
    (0x16, "AND", Fork::Frontier),
    (0x17, "OR", Fork::Frontier),
    (0x18, "XOR", Fork::Frontier),
    (0x19, "NOT", Fork::Frontier),
    (0x1a, "BYTE", Fork::Frontier),
    (0x1b, "SHL", Fork::Constantinople),
    (0x1c, "SHR", Fork::Constantinople),
    (0x1d, "SAR", Fork::Constantinople),
    (0x1e, "CLZ", Fork::Osaka),
    (0x20, "KECCAK256", Fork::Frontier),
    (0x30, "ADDRESS", Fork::Frontier),
    (0x31, "BALANCE", Fork::Frontier),
    (0x32, "ORIGIN", Fork::Frontier),
    (0x33, "CALLER", Fork::Frontier),
    (0x34, "CALLVALUE", Fork::Frontier),
    (0x35, "CALLDATALOAD", Fork::Frontier),
    (0x36, "CALLDATASIZE", Fork::Frontier),
    (0x37, "CALLDATACOPY", Fork::Frontier),
    (0x38, "CODESIZE", Fork::Frontier),
    (0x39, "CODECOPY", Fork::Frontier),
    (0x3a, "GASPRICE", Fork::Frontier),
    (0x3b, "EXTCODESIZE", Fork::Frontier),
    (0x3c, "EXTCODECOPY", Fork::Frontier),
    (0x3d, "RETURNDATASIZE", Fork::Byzantium),
    (0x3e, "RETURNDATACOPY", Fork::Byzantium),
    (0x3f, "EXTCODEHASH", Fork::Constantinople),
    (0x40, "BLOCKHASH", Fork::Frontier),
    (0x41, "COINBASE", Fork::Frontier),
    (0x42, "TIMESTAMP", Fork::Frontier),
    (0x43, "NUMBER", Fork::Frontier),
    (0x44, "PREVRANDAO", Fork::Frontier),
    (0x45, "GASLIMIT", Fork::Frontier),
    (0x46, "CHAINID", Fork::Istanbul),
    (0x47, "SELFBALANCE", Fork::Istanbul),
    (0x48, "BASEFEE", Fork::London),
    (0x49, "BLOBHASH", Fork::Cancun),
    (0x4a, "BLOBBASEFEE", Fork::Cancun),
    (0x50, "POP", Fork::Frontier),
    (0x51, "MLOAD", Fork::Frontier),
    (0x52, "MSTORE", Fork::Frontier),
    (0x53, "MSTORE8", Fork::Frontier),
    (0x54, "SLOAD", Fork::Frontier),
    (0x55, "SSTORE", Fork::Frontier),
    (0x56, "JUMP", Fork::Frontier),
    (0x57, "JUMPI", Fork::Frontier),
    (0x58, "PC", Fork::Frontier),
    (0x59, "MSIZE", Fork::Frontier),
    (0x5a, "GAS", Fork::Frontier),
    (0x5b, "JUMPDEST", Fork::Frontier),
    (0x5c, "TLOAD", Fork::Cancun),
    (0x5d, "TSTORE", Fork::Cancun),
    (0x5e, "MCOPY", Fork::Cancun),
    (0x5f, "PUSH0", Fork::Shanghai),
    (0xf0, "CREATE", Fork::Frontier),
    (0xf1, "CALL", Fork::Frontier),
    (0xf2, "CALLCODE", Fork::Frontier),
    (0xf3, "RETURN", Fork::Frontier),
    (0xf4, "DELEGATECALL", Fork::Homestead),
    (0xf5, "CREATE2", Fork::Constantinople),
    (0xfa, "STATICCALL", Fork::Byzantium),
    (0xfd, "REVERT", Fork::Byzantium),
    (0xfe, "INVALID", Fork::Frontier),
    (0xff, "SELFDESTRUCT", Fork::Frontier),
];

/// Other accepted spellings of opcode names.
const ALIASES: &[(&str, u8)] = &[("SHA3", 0x20), ("DIFFICULTY", 0x44), ("SUICIDE", 0xff)];

impl Opcode {
    /// The canonical mnemonic, or `None` for an unassigned byte.
    pub fn name(self) -> Option<String> {
        let b = self.0;
        match b {
            0x60..=0x7f => Some(format!("PUSH{}", b - 0x5f)),
            0x80..=0x8f => Some(format!("DUP{}", b - 0x7f)),
            0x90..=0x9f => Some(format!("SWAP{}", b - 0x8f)),
            0xa0..=0xa4 => Some(format!("LOG{}", b - 0xa0)),
            _ => NAMED
                .iter()
                .find(|(op, _, _)| *op == b)
                .map(|(_, n, _)| n.to_string()),
        }
    }

    /// The fork that introduced this opcode; `None` for an unassigned byte. `INVALID` (0xfe)
    /// counts as a Frontier opcode: it is *designated* invalid.
    pub fn introduced(self) -> Option<Fork> {
        match self.0 {
            0x60..=0xa4 => Some(Fork::Frontier),
            b => NAMED.iter().find(|(op, _, _)| *op == b).map(|(_, _, f)| *f),
        }
    }

    /// True when the opcode exists in `fork`.
    pub fn exists_in(self, fork: Fork) -> bool {
        self.introduced().is_some_and(|f| fork.includes(f))
    }

    /// Looks an opcode up by mnemonic (any case, with aliases such as `DIFFICULTY`), or by
    /// hex byte (`0x44`).
    pub fn from_name(name: &str) -> Option<Opcode> {
        let upper = name.to_ascii_uppercase();
        if let Some(hex) = upper.strip_prefix("0X") {
            return u8::from_str_radix(hex, 16).ok().map(Opcode);
        }
        if let Some((_, b)) = ALIASES.iter().find(|(n, _)| *n == upper) {
            return Some(Opcode(*b));
        }
        let ranged = |prefix: &str, base: u8, max: u8| {
            upper
                .strip_prefix(prefix)
                .and_then(|n| n.parse::<u8>().ok())
                .filter(|n| (1..=max).contains(n))
                .map(|n| Opcode(base + n - 1))
        };
        if upper == "PUSH0" {
            return Some(Opcode(0x5f));
        }
        ranged("PUSH", 0x60, 32)
            .or_else(|| ranged("DUP", 0x80, 16))
            .or_else(|| ranged("SWAP", 0x90, 16))
            .or_else(|| {
                upper
                    .strip_prefix("LOG")
                    .and_then(|n| n.parse::<u8>().ok())
                    .filter(|n| *n <= 4)
                    .map(|n| Opcode(0xa0 + n))
            })
            .or_else(|| {
                NAMED
                    .iter()
                    .find(|(_, n, _)| *n == upper)
                    .map(|(b, _, _)| Opcode(*b))
            })
    }

    /// Number of immediate bytes that follow the opcode in code (PUSH1..PUSH32).
    pub fn immediate_len(self) -> usize {
        match self.0 {
            0x60..=0x7f => (self.0 - 0x5f) as usize,
            _ => 0,
        }
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(&n),
            None => write!(f, "0x{:02x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bytes_agree() {
        for b in 0..=255u8 {
            if let Some(name) = Opcode(b).name() {
                assert_eq!(Opcode::from_name(&name), Some(Opcode(b)), "{name}");
            }
        }
        assert_eq!(Opcode::from_name("difficulty"), Some(Opcode(0x44)));
        assert_eq!(Opcode::from_name("0x5c"), Some(Opcode(0x5c)));
        assert_eq!(Opcode::from_name("PUSH33"), None);
        assert_eq!(Opcode::from_name("FOO"), None);
    }

    #[test]
    fn fork_gating() {
        assert!(!Opcode(0x5c).exists_in(Fork::Shanghai));
        assert!(Opcode(0x5c).exists_in(Fork::Cancun));
        assert!(Opcode(0x5f).exists_in(Fork::Shanghai));
        assert!(!Opcode(0x0c).exists_in(Fork::Osaka));
        assert!(Opcode(0x1e).exists_in(Fork::Osaka));
    }
}

/// The memory region `(offset, length)` an instruction writes in its own frame, read from its
/// operands on `stack` (bottom first): MSTORE, MSTORE8, the copies, MCOPY, and a call's return
/// region (written when the callee returns). `None` for an instruction that writes no memory,
/// or when the operands are missing (the instruction fails). One table for every view that
/// needs it: the fast path's step hash and the read/write log.
#[inline]
pub fn memory_written(op: u8, stack: &[U256]) -> Option<(U256, U256)> {
    let arg = |i: usize| stack.len().checked_sub(i + 1).map(|k| stack[k]);
    match op {
        0x52 => Some((arg(0)?, U256::from(32))),
        0x53 => Some((arg(0)?, U256::from(1))),
        0x37 | 0x39 | 0x3e | 0x5e => Some((arg(0)?, arg(2)?)),
        0x3c => Some((arg(1)?, arg(3)?)),
        0xf1 | 0xf2 => Some((arg(5)?, arg(6)?)),
        0xf4 | 0xfa => Some((arg(4)?, arg(5)?)),
        _ => None,
    }
}

/// The stack entries an instruction can have changed, besides its pops and the length: the
/// fast path's step hash hashes these after it instead of the whole stack, since every value
/// on a stack was written at one of them by some earlier step (the stack is otherwise only
/// pushed and popped). A backend that changed an entry outside them is caught when the entry
/// is read, as one that writes memory in the wrong place is; lockstep compares whole stacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StackWritten {
    /// The top entry (what the instruction pushed, if anything).
    Top,
    /// The top and the `n`th below it (`SWAPn`).
    TopAnd(usize),
    /// Any entry: EIP-8024's DUPN, SWAPN and EXCHANGE, whose stack indexes are immediates.
    All,
}

/// The [`StackWritten`] of instruction `op`.
#[inline]
pub fn stack_written(op: u8) -> StackWritten {
    match op {
        0x90..=0x9f => StackWritten::TopAnd(usize::from(op - 0x8f)),
        0xe6..=0xe8 => StackWritten::All,
        _ => StackWritten::Top,
    }
}

/// True for the instructions [`memory_written`] knows a region for.
#[inline]
pub fn writes_memory(op: u8) -> bool {
    matches!(
        op,
        0x37 | 0x39 | 0x3c | 0x3e | 0x52 | 0x53 | 0x5e | 0xf1 | 0xf2 | 0xf4 | 0xfa
    )
}

/// True for an instruction after which the return data buffer may have changed: a call or a
/// create (a precompile's output included) sets it; nothing else in the frame does.
#[inline]
pub fn sets_return_data(op: u8) -> bool {
    matches!(op, 0xf0 | 0xf1 | 0xf2 | 0xf4 | 0xf5 | 0xfa)
}

#[cfg(test)]
mod memory_tests {
    use super::*;

    #[test]
    fn writes_memory_names_exactly_the_opcodes_with_a_written_region() {
        let stack = [U256::from(1); 7];
        for op in 0..=255u8 {
            assert_eq!(
                memory_written(op, &stack).is_some(),
                writes_memory(op),
                "{op:#x}"
            );
        }
    }
}
