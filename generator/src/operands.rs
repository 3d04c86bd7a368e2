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
            let back = u.int_in_range(0u64..=260)?;
            U256::from(
                block_number
                    .saturating_sub(back)
                    .saturating_add(u.int_in_range(0u64..=1)?),
            )
        }
        Kind::Address => unreachable!("addresses are chosen by the program builder"),
    })
}
