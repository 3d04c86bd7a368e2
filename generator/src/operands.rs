//! Operand values: a dictionary of edge values mixed with arbitrary ones, chosen by the kind
//! of operand so that most instructions do something rather than halt on a giant offset.

use alloy_primitives::U256;
use arbitrary::{Result, Unstructured};

/// What an operand means to its instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any 256-bit value.
    Value,
    /// A small number (byte index, shift, calldata offset, blob index).
    Small,
    /// A memory offset.
    Offset,
    /// A memory length.
    Length,
    /// An account address.
    Address,
    /// A storage or transient-storage slot.
    Slot,
    /// A block number for BLOCKHASH.
    BlockNumber,
}

/// Values that sit on boundaries where implementations differ most often.
pub fn edge_values() -> &'static [U256] {
    static EDGES: std::sync::OnceLock<Vec<U256>> = std::sync::OnceLock::new();
    EDGES.get_or_init(|| {
        let mut v = vec![
            U256::ZERO,
            U256::from(1),
            U256::from(2),
            U256::from(31),
            U256::from(32),
            U256::from(33),
            U256::from(255),
            U256::from(256),
            U256::from(1024),
            U256::from(u32::MAX),
            U256::from(u64::MAX),
            U256::MAX,
            U256::MAX - U256::from(1),
            U256::from(1) << 255,
            (U256::from(1) << 255) - U256::from(1),
            (U256::from(1) << 160) - U256::from(1),
            (U256::from(1) << 128),
        ];
        v.dedup();
        v
    })
}

/// A value of `kind` (addresses are chosen by the caller, who knows the case's accounts).
pub fn value(u: &mut Unstructured<'_>, kind: Kind, block_number: u64) -> Result<U256> {
    Ok(match kind {
        Kind::Value => match u.int_in_range(0..=3)? {
            0 | 1 => *u.choose(edge_values())?,
            2 => U256::from(u.int_in_range(0u64..=300)?),
            // Arbitrary bytes of an arbitrary length, so that every PUSH1..PUSH32 is emitted
            // (a full 32-byte draw nearly always needs PUSH32).
            _ => {
                let len = u.int_in_range(1..=32)?;
                let mut word = [0u8; 32];
                let bytes = u.bytes(len).unwrap_or_default();
                word[32 - bytes.len()..].copy_from_slice(bytes);
                U256::from_be_bytes(word)
            }
        },
        // Where the reference's branches change for a small operand (docs/coverage.md, the
        // branch map): the first indexes (BLOBHASH below the blob count, BYTE 0), and the
        // shift and byte-index limits either side (SAR of a negative value by 256 or more).
        Kind::Small => match u.int_in_range(0..=7)? {
            0 => U256::from(u.int_in_range(0u64..=2)?),
            1 => U256::from(*u.choose(&[30u64, 31, 32, 255, 256, 257])?),
            2 => *u.choose(edge_values())?,
            _ => U256::from(u.int_in_range(0u64..=40)?),
        },
        Kind::Offset => {
            if u.ratio(1, 32)? {
                *u.choose(edge_values())?
            } else if u.ratio(1, 64)? {
                // Past 64 KiB, where memory's quadratic cost term dominates its linear one.
                U256::from(*u.choose(&[0x1_0000u64, 0x2_0000])?)
            } else {
                U256::from(*u.choose(&[0u64, 0, 1, 31, 32, 64, 96, 128, 200, 256, 512, 1000])?)
            }
        }
        Kind::Length => {
            if u.ratio(1, 32)? {
                *u.choose(edge_values())?
            } else {
                U256::from(*u.choose(&[0u64, 1, 20, 31, 32, 33, 64, 100, 128, 256])?)
            }
        }
        Kind::Slot => {
            if u.ratio(1, 8)? {
                *u.choose(edge_values())?
            } else {
                U256::from(u.int_in_range(0u64..=7)?)
            }
        }
        Kind::BlockNumber => {
            // Half the time at an edge of BLOCKHASH's window (the current block, the last
            // one, the 256th and 257th back), where its branches change.
            let back = if u.ratio(1, 2)? {
                *u.choose(&[0u64, 1, 255, 256, 257])?
            } else {
                u.int_in_range(0u64..=260)?
            };
            U256::from(
                block_number
                    .saturating_sub(back)
                    .saturating_add(u.int_in_range(0u64..=1)?),
            )
        }
        Kind::Address => unreachable!("addresses are chosen by the program builder"),
    })
}

/// One operand of a boundary tuple ([`boundary`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// This exact value.
    Is(U256),
    /// A fresh draw of the position's own kind.
    Any,
}

/// -2²⁵⁵, the most negative signed word.
const MIN: U256 = U256::from_limbs([0, 0, 0, 1 << 63]);
/// 2²⁵⁵ - 1, the largest positive signed word.
const MAX_POSITIVE: U256 = U256::from_limbs([u64::MAX, u64::MAX, u64::MAX, u64::MAX >> 1]);
const fn n(v: u64) -> Edge {
    Edge::Is(U256::from_limbs([v, 0, 0, 0]))
}
const ZERO: Edge = n(0);
const ONE: Edge = n(1);
const MINUS_ONE: Edge = Edge::Is(U256::MAX);
const MIN_E: Edge = Edge::Is(MIN);
const MAXP: Edge = Edge::Is(MAX_POSITIVE);
const ANY: Edge = Edge::Any;

/// Operand tuples (first = top of stack) at which an instruction's specification takes a
/// branch that independent draws rarely reach together: SDIV's overflow (-2²⁵⁵ / -1), a zero
/// divisor or modulus, ADDMOD/MULMOD whose intermediate overflows 256 bits, EXP's zero cases
/// and the exponent's byte-length steps, SIGNEXTEND and BYTE at index 31/32, shifts at
/// 255/256 of a negative value, the signed comparisons across the sign boundary. Read from the
/// execution spec's instruction functions (docs/coverage.md, the branch map); empty for an
/// instruction whose branches single operands already reach.
pub fn boundary(op: u8) -> &'static [&'static [Edge]] {
    match op {
        0x04 | 0x06 => DIV_MOD,
        0x05 => SDIV,
        0x07 => SMOD,
        0x08 | 0x09 => ADDMOD_MULMOD,
        0x0a => EXP,
        0x0b => SIGNEXTEND,
        0x12 | 0x13 => SIGNED_COMPARISON,
        0x1a => BYTE,
        0x1b..=0x1d => SHIFTS,
        _ => &[],
    }
}

/// DIV, MOD: a zero divisor, a zero dividend, a divisor of one.
const DIV_MOD: &[&[Edge]] = &[&[ANY, ZERO], &[ZERO, ANY], &[ANY, ONE]];
/// SDIV: the overflow, the most negative by one, a zero divisor, -1 / MIN, any by -1.
const SDIV: &[&[Edge]] = &[
    &[MIN_E, MINUS_ONE],
    &[MIN_E, ONE],
    &[ANY, ZERO],
    &[MINUS_ONE, MIN_E],
    &[ANY, MINUS_ONE],
];
/// SMOD: a zero modulus, MIN mod -1, and the four sign combinations (-7 mod 3, 7 mod -3).
const SMOD: &[&[Edge]] = &[
    &[ANY, ZERO],
    &[MIN_E, MINUS_ONE],
    &[
        Edge::Is(U256::from_limbs([
            u64::MAX - 6,
            u64::MAX,
            u64::MAX,
            u64::MAX,
        ])),
        n(3),
    ],
    &[
        n(7),
        Edge::Is(U256::from_limbs([
            u64::MAX - 2,
            u64::MAX,
            u64::MAX,
            u64::MAX,
        ])),
    ],
    &[MINUS_ONE, MINUS_ONE],
];
/// ADDMOD, MULMOD: an intermediate past 2²⁵⁶, a zero modulus.
const ADDMOD_MULMOD: &[&[Edge]] = &[
    &[MINUS_ONE, MINUS_ONE, ANY],
    &[MINUS_ONE, n(2), n(3)],
    &[ANY, ANY, ZERO],
    &[MINUS_ONE, MINUS_ONE, MINUS_ONE],
];
/// EXP: 0^0, x^0, 0^x, and exponents whose byte length steps (its gas).
const EXP: &[&[Edge]] = &[
    &[ZERO, ZERO],
    &[ANY, ZERO],
    &[ZERO, ANY],
    &[n(2), n(255)],
    &[n(2), n(256)],
    &[MINUS_ONE, MINUS_ONE],
];
/// SIGNEXTEND: the last index that extends, the first that does not, a sign bit set or not.
const SIGNEXTEND: &[&[Edge]] = &[
    &[n(30), MINUS_ONE],
    &[n(31), ANY],
    &[n(32), ANY],
    &[ZERO, n(0x80)],
    &[ZERO, n(0x7f)],
];
/// SLT, SGT across the sign boundary.
const SIGNED_COMPARISON: &[&[Edge]] = &[
    &[MIN_E, MAXP],
    &[MAXP, MIN_E],
    &[MINUS_ONE, ZERO],
    &[ZERO, MINUS_ONE],
];
/// BYTE at the last index and past it.
const BYTE: &[&[Edge]] = &[&[n(31), ANY], &[n(32), ANY], &[ZERO, MIN_E]];
/// SHL, SHR, SAR at 255/256/257 and of a negative value.
const SHIFTS: &[&[Edge]] = &[
    &[n(255), MINUS_ONE],
    &[n(255), MIN_E],
    &[n(256), MINUS_ONE],
    &[n(257), MIN_E],
    &[ONE, MIN_E],
    &[n(255), ANY],
];
