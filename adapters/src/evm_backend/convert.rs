//! Conversions between evmdiff's alloy types and evm 1.x's primitive-types 0.12 types.
//!
//! The two crates use unrelated `U256`/`H160`/`H256` types; every conversion goes through the
//! 32-byte (or 20-byte) big-endian form, so no value is ever reinterpreted.

use alloy_primitives::{Address, B256, U256};
use evm::uint::{H160, H256, U256 as EU256, U256Ext};

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
    EU256::from_h256(h256_of(u))
}

/// evm number to alloy number.
pub(super) fn u256(u: EU256) -> U256 {
    u256_of(u.to_h256())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_keep_every_byte() {
        let big = U256::MAX - U256::from(12345u64);
        assert_eq!(u256(eu256(big)), big);
        assert_eq!(eu256(U256::from(7u64)), EU256::from(7u64));
        let a: Address = "0xa94f5374fce5edbc8e2a8697c15331677e6ebf0b"
            .parse()
            .unwrap();
        assert_eq!(address(h160(a)), a);
        assert_eq!(u256_of(h256_of(big)), big);
    }
}
