//! Conversions between evmdiff's alloy types and evm 1.x's primitive-types 0.12 types.
//!
//! The two crates use unrelated `U256`/`H160`/`H256` types. Words and addresses convert
//! through their big-endian bytes; numbers through their four 64-bit limbs, least significant
//! first in both crates (the observed path converts every stack entry of every step, where
//! going through bytes swapped each word twice).

use alloy_primitives::{Address, B256, U256};
use evm::uint::{H160, H256, U256 as EU256};

/// alloy address to evm address.
pub(super) fn h160(a: Address) -> H160 {
    H160(a.0.0)
}

/// evm address to alloy address.
pub(super) fn address(h: H160) -> Address {
    Address::new(h.0)
}

/// alloy 32-byte word to evm word.
pub(super) fn h256(b: B256) -> H256 {
    H256(b.0)
}

/// alloy number to an evm storage key or value.
pub(super) fn h256_of(u: U256) -> H256 {
    H256(u.to_be_bytes::<32>())
}

/// evm storage key or value to an alloy number.
pub(super) fn u256_of(h: H256) -> U256 {
    U256::from_be_bytes(h.0)
}

/// alloy number to evm number.
pub(super) fn eu256(u: U256) -> EU256 {
    EU256(*u.as_limbs())
}

/// evm number to alloy number.
pub(super) fn u256(u: EU256) -> U256 {
    U256::from_limbs(u.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use evm::uint::U256Ext;

    #[test]
    fn round_trips_keep_every_byte() {
        let big = U256::MAX - U256::from(12345u64);
        assert_eq!(u256(eu256(big)), big);
        assert_eq!(eu256(U256::from(7u64)), EU256::from(7u64));
        // Every byte distinct: a limb or byte out of order would show.
        let bytes: [u8; 32] = std::array::from_fn(|i| i as u8 + 1);
        let distinct = U256::from_be_bytes(bytes);
        assert_eq!(eu256(distinct), EU256::from_big_endian(&bytes));
        assert_eq!(u256(EU256::from_big_endian(&bytes)), distinct);
        assert_eq!(eu256(distinct).to_h256(), h256_of(distinct));
        let a: Address = "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b"
            .parse()
            .unwrap();
        assert_eq!(address(h160(a)), a);
        assert_eq!(u256_of(h256_of(big)), big);
    }
}
