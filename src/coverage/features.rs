//! Semantic feature tags: which of the specification's edges a case exercised, read from its
//! executed steps. Executing SDIV is not exercising SDIV's overflow; a campaign whose cases
//! never divide -2²⁵⁵ by -1, never write under STATICCALL, never copy past the return data,
//! cannot see a bug there however many cases it runs. `evmdiff fuzz --coverage` counts, per
//! tag, the cases that hit it, and lists the tags no case hit.
//!
//! Each tag is decided from one step's opcode and operands (the stack before it), or from
//! the order of steps (a frame entered under STATICCALL, a frame that ended without RETURN,
//! STOP, REVERT or SELFDESTRUCT). No backend internals: any backend that reports its stacks
//! tags the same case the same way.

use alloy_primitives::U256;
use evmdiff_core::observe::Step;

macro_rules! tags {
    ($($variant:ident = $name:literal: $doc:literal,)*) => {
        /// One feature a case can exercise.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Tag {
            $(#[doc = $doc] $variant,)*
        }

        impl Tag {
            /// Every tag, in report order.
            pub const ALL: &'static [Tag] = &[$(Tag::$variant,)*];

            /// The tag's name in reports.
            pub fn name(self) -> &'static str {
                match self {
                    $(Tag::$variant => $name,)*
                }
            }
        }
    };
}

tags! {
    DivByZero = "div-by-zero": "DIV, SDIV, MOD, SMOD, ADDMOD or MULMOD by zero",
    SdivOverflow = "sdiv-overflow": "SDIV of -2^255 by -1",
    SignedNegative = "signed-negative-operand": "SDIV or SMOD with a negative operand",
    ModOverflow = "addmod-mulmod-overflow": "ADDMOD or MULMOD whose sum or product passes 2^256",
    ExpZero = "exp-zero-exponent": "EXP with a zero exponent",
    ExpMultiByte = "exp-multibyte-exponent": "EXP with an exponent of two bytes or more",
    SignextendOut = "signextend-index-31-plus": "SIGNEXTEND with an index of 31 or more",
    ByteOut = "byte-index-32-plus": "BYTE with an index of 32 or more",
    ShiftEdge = "shift-by-255": "SHL, SHR or SAR by exactly 255",
    ShiftOut = "shift-256-plus": "SHL, SHR or SAR by 256 or more",
    SarNegative = "sar-negative": "SAR of a negative value",
    SignedCompareCross = "signed-compare-across-sign": "SLT or SGT of operands of opposite signs",
    MemoryGrows = "memory-expansion": "an instruction that expanded memory",
    MemoryLarge = "memory-over-64k": "memory past 64 KiB",
    McopyOverlap = "mcopy-overlap": "MCOPY with overlapping source and destination",
    ReturndataOut = "returndatacopy-out-of-bounds": "RETURNDATACOPY past the end of the return data",
    ReturndataRead = "returndata-read": "RETURNDATACOPY or RETURNDATASIZE after a call returned data",
    JumpiTaken = "jumpi-taken": "JUMPI with a non-zero condition",
    JumpiFalls = "jumpi-not-taken": "JUMPI with a zero condition",
    JumpWild = "jump-destination-64-bit-plus": "JUMP or JUMPI to a destination of 2^64 or more",
    CallValue = "call-with-value": "CALL or CALLCODE that sends value",
    Delegatecall = "delegatecall": "DELEGATECALL",
    Callcode = "callcode": "CALLCODE",
    Staticcall = "staticcall": "STATICCALL",
    Depth3 = "call-depth-3-plus": "a frame at depth 3 or more",
    StaticWrite = "state-change-under-static": "SSTORE, TSTORE, LOG, CREATE, SELFDESTRUCT or a value CALL under STATICCALL",
    SubRevert = "revert-in-subframe": "REVERT in a called or created frame",
    SubHalt = "exceptional-halt-in-subframe": "a called or created frame that failed (its caller got 0) without REVERT",
    Create = "create": "CREATE",
    Create2 = "create2": "CREATE2",
    InitcodeOver = "initcode-over-limit": "CREATE or CREATE2 of more than 49,152 bytes of init code",
    InInitcode = "code-in-init-frame": "an instruction executed by init code of CREATE or CREATE2",
    SstoreZero = "sstore-zero": "SSTORE of zero",
    SstoreRewrite = "sstore-same-slot-twice": "two SSTOREs to one slot of one account in a case",
    SloadAfterSstore = "sload-after-sstore": "SLOAD of a slot the case had written",
    TransientRoundTrip = "tload-after-tstore": "TLOAD of a slot the case had written with TSTORE",
    Selfdestruct = "selfdestruct": "SELFDESTRUCT",
    SelfdestructInInit = "selfdestruct-in-init": "SELFDESTRUCT in init code",
    Blockhash = "blockhash": "BLOCKHASH",
    Blobhash = "blobhash": "BLOBHASH",
    GasOpcode = "gas-opcode": "GAS",
    Log = "log": "LOG0..LOG4",
    Keccak = "keccak256": "KECCAK256",
    CalldataRead = "calldata-read": "CALLDATALOAD or CALLDATACOPY",
    Extcode = "extcode-access": "EXTCODESIZE, EXTCODECOPY or EXTCODEHASH",
    Balance = "balance": "BALANCE or SELFBALANCE",
    PrecompileCall = "precompile-call": "a call to a precompile",
    MultiTx = "several-transactions": "a case of more than one transaction",
}

/// What a case has exercised so far, and what tagging it needs to remember.
#[derive(Debug, Default, Clone)]
pub struct Features {
    /// One bit per [`Tag`].
    bits: u64,
    /// The depth a STATICCALL entered: frames at or below it (deeper) are static.
    static_from: Option<usize>,
    /// Depths entered by CREATE or CREATE2 (their frames run init code).
    init_depths: Vec<usize>,
    /// The previous step: its opcode, depth and memory size.
    prev: Option<(u8, usize, usize)>,
    /// A call or create was just executed at this depth (its frame, if any, starts next).
    entering: Option<(u8, usize)>,
    /// Storage slots written: (account, slot).
    written: Vec<(alloy_primitives::Address, U256)>,
    /// Transient slots written: (account, slot).
    transient: Vec<(alloy_primitives::Address, U256)>,
    /// Transactions seen.
    txs: usize,
}

fn signed_negative(v: &U256) -> bool {
    v.bit(255)
}

impl Features {
    /// Forgets the previous case.
    pub fn clear(&mut self) {
        *self = Features::default();
    }

    /// The tags hit, in [`Tag::ALL`] order.
    pub fn tags(&self) -> impl Iterator<Item = Tag> + '_ {
        Tag::ALL
            .iter()
            .copied()
            .filter(|t| self.bits & (1 << *t as u8) != 0)
    }

    fn set(&mut self, tag: Tag) {
        self.bits |= 1 << tag as u8;
    }

    /// A transaction begins.
    pub fn transaction(&mut self) {
        self.txs += 1;
        if self.txs > 1 {
            self.set(Tag::MultiTx);
        }
        self.static_from = None;
        self.init_depths.clear();
        self.prev = None;
        self.entering = None;
        self.transient.clear();
    }

    /// A precompile was called.
    pub fn precompile(&mut self) {
        self.set(Tag::PrecompileCall);
    }

    /// One executed instruction (with the machine state, when the backend gave it).
    pub fn step(&mut self, s: &Step<'_>) {
        let depth = s.depth;
        // Frames: what the previous step started, and how a deeper frame ended.
        if let Some((prev_op, prev_depth, _)) = self.prev {
            if depth > prev_depth {
                if let Some((op, at)) = self.entering
                    && at == prev_depth
                {
                    match op {
                        0xfa if self.static_from.is_none() => self.static_from = Some(depth),
                        0xf0 | 0xf5 => self.init_depths.push(depth),
                        _ => {}
                    }
                }
            } else if depth < prev_depth {
                // The deeper frame's last instruction was `prev_op`; the caller's stack now
                // holds the call's success flag or the created address, 0 on failure.
                let failed = s
                    .state
                    .and_then(|st| st.stack.last())
                    .is_some_and(|v| v.is_zero());
                if failed && prev_op != 0xfd {
                    self.set(Tag::SubHalt);
                }
                if self.static_from.is_some_and(|d| d > depth) {
                    self.static_from = None;
                }
                self.init_depths.retain(|d| *d <= depth);
            }
        }
        self.entering = None;
        if depth >= 3 {
            self.set(Tag::Depth3);
        }
        if self.init_depths.iter().any(|d| depth >= *d) {
            self.set(Tag::InInitcode);
        }
        let is_static = self.static_from.is_some_and(|d| depth >= d);
        let op = s.opcode;
        let stack = s.state.map(|st| st.stack).unwrap_or(&[]);
        // Operand k from the top.
        let arg = |k: usize| stack.len().checked_sub(k + 1).map(|i| stack[i]);
        let memory = s.state.map_or(0, |st| st.memory.len());
        if let Some((_, prev_depth, prev_memory)) = self.prev
            && prev_depth == depth
            && memory > prev_memory
        {
            self.set(Tag::MemoryGrows);
        }
        if memory > 1 << 16 {
            self.set(Tag::MemoryLarge);
        }
        let min = U256::from(1) << 255;
        match op {
            0x04..=0x07 => {
                if arg(1) == Some(U256::ZERO) {
                    self.set(Tag::DivByZero);
                }
                if op == 0x05 && arg(0) == Some(min) && arg(1) == Some(U256::MAX) {
                    self.set(Tag::SdivOverflow);
                }
                if matches!(op, 0x05 | 0x07)
                    && (arg(0).is_some_and(|v| signed_negative(&v))
                        || arg(1).is_some_and(|v| signed_negative(&v)))
                {
                    self.set(Tag::SignedNegative);
                }
            }
            0x08 | 0x09 => {
                if let (Some(a), Some(b), Some(n)) = (arg(0), arg(1), arg(2)) {
                    if n.is_zero() {
                        self.set(Tag::DivByZero);
                    } else if (op == 0x08 && a.checked_add(b).is_none())
                        || (op == 0x09 && a.checked_mul(b).is_none())
                    {
                        self.set(Tag::ModOverflow);
                    }
                }
            }
            0x0a => match arg(1) {
                Some(e) if e.is_zero() => self.set(Tag::ExpZero),
                Some(e) if e > U256::from(0xff) => self.set(Tag::ExpMultiByte),
                _ => {}
            },
            0x0b if arg(0).is_some_and(|i| i >= U256::from(31)) => self.set(Tag::SignextendOut),
            0x12 | 0x13 => {
                if let (Some(a), Some(b)) = (arg(0), arg(1))
                    && signed_negative(&a) != signed_negative(&b)
                {
                    self.set(Tag::SignedCompareCross);
                }
            }
            0x1a if arg(0).is_some_and(|i| i >= U256::from(32)) => self.set(Tag::ByteOut),
            0x1b..=0x1d => {
                match arg(0) {
                    Some(n) if n == U256::from(255) => self.set(Tag::ShiftEdge),
                    Some(n) if n >= U256::from(256) => self.set(Tag::ShiftOut),
                    _ => {}
                }
                if op == 0x1d && arg(1).is_some_and(|v| signed_negative(&v)) {
                    self.set(Tag::SarNegative);
                }
            }
            0x20 => self.set(Tag::Keccak),
            0x31 | 0x47 => self.set(Tag::Balance),
            0x35 | 0x37 => self.set(Tag::CalldataRead),
            0x3b | 0x3c | 0x3f => self.set(Tag::Extcode),
            0x3d if s.state.is_some_and(|st| !st.return_data.is_empty()) => {
                self.set(Tag::ReturndataRead);
            }
            0x3e => {
                let available = s.state.map_or(0, |st| st.return_data.len());
                if available > 0 {
                    self.set(Tag::ReturndataRead);
                }
                if let (Some(offset), Some(len)) = (arg(1), arg(2))
                    && offset
                        .checked_add(len)
                        .is_none_or(|end| end > U256::from(available))
                {
                    self.set(Tag::ReturndataOut);
                }
            }
            0x40 => self.set(Tag::Blockhash),
            0x49 => self.set(Tag::Blobhash),
            0x54 => {
                if let (Some(slot), Some(st)) = (arg(0), s.state)
                    && self.written.contains(&(st.address, slot))
                {
                    self.set(Tag::SloadAfterSstore);
                }
            }
            0x55 => {
                if arg(1) == Some(U256::ZERO) {
                    self.set(Tag::SstoreZero);
                }
                if let (Some(slot), Some(st)) = (arg(0), s.state) {
                    if self.written.contains(&(st.address, slot)) {
                        self.set(Tag::SstoreRewrite);
                    } else {
                        self.written.push((st.address, slot));
                    }
                }
            }
            0x56 | 0x57 => {
                if arg(0).is_some_and(|d| d > U256::from(u64::MAX)) {
                    self.set(Tag::JumpWild);
                }
                if op == 0x57 {
                    match arg(1) {
                        Some(c) if c.is_zero() => self.set(Tag::JumpiFalls),
                        Some(_) => self.set(Tag::JumpiTaken),
                        None => {}
                    }
                }
            }
            0x5a => self.set(Tag::GasOpcode),
            0x5c => {
                if let (Some(slot), Some(st)) = (arg(0), s.state)
                    && self.transient.contains(&(st.address, slot))
                {
                    self.set(Tag::TransientRoundTrip);
                }
            }
            0x5d => {
                if let (Some(slot), Some(st)) = (arg(0), s.state) {
                    self.transient.push((st.address, slot));
                }
            }
            0x5e => {
                if let (Some(dst), Some(src), Some(len)) = (arg(0), arg(1), arg(2))
                    && !len.is_zero()
                {
                    let (lo, hi) = if dst < src { (dst, src) } else { (src, dst) };
                    if lo.checked_add(len).is_some_and(|end| end > hi) {
                        self.set(Tag::McopyOverlap);
                    }
                }
            }
            0xa0..=0xa4 => self.set(Tag::Log),
            0xf0 | 0xf5 => {
                self.set(if op == 0xf0 {
                    Tag::Create
                } else {
                    Tag::Create2
                });
                if arg(2).is_some_and(|len| len > U256::from(49_152)) {
                    self.set(Tag::InitcodeOver);
                }
            }
            0xf1 | 0xf2 => {
                if arg(2).is_some_and(|v| !v.is_zero()) {
                    self.set(Tag::CallValue);
                }
                if op == 0xf2 {
                    self.set(Tag::Callcode);
                }
            }
            0xf4 => self.set(Tag::Delegatecall),
            0xfa => self.set(Tag::Staticcall),
            0xfd if depth > 1 => self.set(Tag::SubRevert),
            0xff => {
                self.set(Tag::Selfdestruct);
                if self.init_depths.iter().any(|d| depth >= *d) {
                    self.set(Tag::SelfdestructInInit);
                }
            }
            _ => {}
        }
        let writes = match op {
            0x55 | 0x5d | 0xa0..=0xa4 | 0xf0 | 0xf5 | 0xff => true,
            0xf1 => arg(2).is_some_and(|v| !v.is_zero()),
            _ => false,
        };
        if is_static && writes {
            self.set(Tag::StaticWrite);
        }
        if matches!(op, 0xf0 | 0xf1 | 0xf2 | 0xf4 | 0xf5 | 0xfa) {
            self.entering = Some((op, depth));
        }
        self.prev = Some((op, depth, memory));
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, U256};
    use evmdiff_core::observe::{Step, StepState};

    use super::{Features, Tag};

    /// Feeds `steps` (depth, opcode, stack bottom first) to a fresh tagger.
    fn tags(steps: &[(usize, u8, &[U256])]) -> Vec<Tag> {
        let mut f = Features::default();
        f.transaction();
        for (depth, op, stack) in steps {
            let state = StepState {
                stack,
                memory: &[],
                return_data: &[],
                address: Address::ZERO,
            };
            f.step(&Step::new(*depth, 0, *op, 100_000).with_state(state));
        }
        f.tags().collect()
    }

    const MIN: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);

    #[test]
    fn operands_at_a_branch_are_tagged() {
        // SDIV's top operand is the dividend.
        assert!(tags(&[(1, 0x05, &[U256::MAX, MIN])]).contains(&Tag::SdivOverflow));
        assert!(!tags(&[(1, 0x05, &[MIN, U256::MAX])]).contains(&Tag::SdivOverflow));
        assert!(tags(&[(1, 0x04, &[U256::ZERO, U256::from(7)])]).contains(&Tag::DivByZero));
        assert!(tags(&[(1, 0x1c, &[U256::from(1), U256::from(255)])]).contains(&Tag::ShiftEdge));
        assert!(tags(&[(1, 0x1a, &[U256::from(1), U256::from(32)])]).contains(&Tag::ByteOut));
        assert!(
            tags(&[(1, 0x08, &[U256::from(5), U256::MAX, U256::MAX])]).contains(&Tag::ModOverflow)
        );
        assert!(tags(&[(1, 0x01, &[U256::MAX, U256::MAX])]).is_empty());
    }

    #[test]
    fn a_write_under_staticcall_and_a_failing_frame_are_tagged() {
        let one = [U256::from(1)];
        let zero = [U256::ZERO];
        // STATICCALL at depth 1, SSTORE at depth 2, back at depth 1 with 0 on the stack.
        let t = tags(&[(1, 0xfa, &[]), (2, 0x55, &one), (1, 0x50, &zero)]);
        assert!(t.contains(&Tag::StaticWrite), "{t:?}");
        assert!(t.contains(&Tag::SubHalt), "{t:?}");
        // The same SSTORE under CALL is no static write; a REVERT is no exceptional halt.
        let t = tags(&[
            (1, 0xf1, &[]),
            (2, 0x55, &one),
            (2, 0xfd, &[]),
            (1, 0x50, &zero),
        ]);
        assert!(!t.contains(&Tag::StaticWrite), "{t:?}");
        assert!(!t.contains(&Tag::SubHalt), "{t:?}");
        assert!(t.contains(&Tag::SubRevert), "{t:?}");
        // Back from a STATICCALL, the frame is no longer static.
        let t = tags(&[(1, 0xfa, &[]), (2, 0x00, &[]), (1, 0x55, &one)]);
        assert!(!t.contains(&Tag::StaticWrite), "{t:?}");
    }

    #[test]
    fn read_after_write_of_storage_is_tagged() {
        let slot = [U256::from(9), U256::from(3)];
        let t = tags(&[(1, 0x55, &slot), (1, 0x54, &[U256::from(3)])]);
        assert!(t.contains(&Tag::SloadAfterSstore), "{t:?}");
        let t = tags(&[(1, 0x55, &slot), (1, 0x54, &[U256::from(4)])]);
        assert!(!t.contains(&Tag::SloadAfterSstore), "{t:?}");
    }
}
