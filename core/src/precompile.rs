//! The precompiled contracts of each fork, by address.

use alloy_primitives::{Address, U256};

use crate::fork::Fork;

/// One precompile: its address, name and the fork that introduced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precompile {
    /// The precompile's address.
    pub address: Address,
    /// Conventional name.
    pub name: &'static str,
    /// The fork that introduced it.
    pub introduced: Fork,
}

const fn addr(n: u16) -> Address {
    let mut b = [0u8; 20];
    b[18] = (n >> 8) as u8;
    b[19] = n as u8;
    Address::new(b)
}

/// Every mainnet precompile up to Osaka, in address order.
pub const PRECOMPILES: &[Precompile] = &[
    Precompile {
        address: addr(0x01),
        name: "ecrecover",
        introduced: Fork::Frontier,
    },
    Precompile {
        address: addr(0x02),
        name: "sha256",
        introduced: Fork::Frontier,
    },
    Precompile {
        address: addr(0x03),
        name: "ripemd160",
        introduced: Fork::Frontier,
    },
    Precompile {
        address: addr(0x04),
        name: "identity",
        introduced: Fork::Frontier,
    },
    Precompile {
        address: addr(0x05),
        name: "modexp",
        introduced: Fork::Byzantium,
    },
    Precompile {
        address: addr(0x06),
        name: "bn254_add",
        introduced: Fork::Byzantium,
    },
    Precompile {
        address: addr(0x07),
        name: "bn254_mul",
        introduced: Fork::Byzantium,
    },
    Precompile {
        address: addr(0x08),
        name: "bn254_pairing",
        introduced: Fork::Byzantium,
    },
    Precompile {
        address: addr(0x09),
        name: "blake2f",
        introduced: Fork::Istanbul,
    },
    Precompile {
        address: addr(0x0a),
        name: "point_evaluation",
        introduced: Fork::Cancun,
    },
    Precompile {
        address: addr(0x0b),
        name: "bls12_g1add",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x0c),
        name: "bls12_g1msm",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x0d),
        name: "bls12_g2add",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x0e),
        name: "bls12_g2msm",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x0f),
        name: "bls12_pairing",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x10),
        name: "bls12_map_fp_to_g1",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x11),
        name: "bls12_map_fp2_to_g2",
        introduced: Fork::Prague,
    },
    Precompile {
        address: addr(0x100),
        name: "p256verify",
        introduced: Fork::Osaka,
    },
];

/// The address of the modexp precompile, which profiles may cap.
pub const MODEXP: Address = addr(0x05);

impl Precompile {
    /// The precompile at `address`, whatever the fork.
    pub fn at(address: Address) -> Option<&'static Precompile> {
        PRECOMPILES.iter().find(|p| p.address == address)
    }

    /// Looks a precompile up by name (`sha256`) or address (`0x02`, or 20 bytes hex).
    pub fn lookup(key: &str) -> Option<&'static Precompile> {
        let k = key.trim().to_ascii_lowercase();
        if let Some(hex) = k.strip_prefix("0x") {
            let n = u16::from_str_radix(hex.trim_start_matches('0'), 16)
                .ok()
                .or_else(|| (hex.chars().all(|c| c == '0') && !hex.is_empty()).then_some(0))?;
            return PRECOMPILES.iter().find(|p| p.address == addr(n));
        }
        PRECOMPILES.iter().find(|p| p.name == k)
    }

    /// The whole price of one call in `fork` when it does not depend on the input (ecrecover,
    /// the bn254 additions and multiplications, point evaluation, the BLS additions and
    /// mappings, P256VERIFY): the precompiles a `[gas.precompiles]` rule may re-price.
    pub fn fixed_price(&self, fork: Fork) -> Option<u64> {
        let istanbul = fork.includes(Fork::Istanbul);
        let price = match self.name {
            "ecrecover" => 3_000,
            "bn254_add" if istanbul => 150,
            "bn254_add" => 500,
            "bn254_mul" if istanbul => 6_000,
            "bn254_mul" => 40_000,
            "point_evaluation" => 50_000,
            "bls12_g1add" => 375,
            "bls12_g2add" => 600,
            "bls12_map_fp_to_g1" => 5_500,
            "bls12_map_fp2_to_g2" => 23_800,
            "p256verify" => 6_900,
            _ => return None,
        };
        Some(price)
    }

    /// The precompiles active in `fork`.
    pub fn active_in(fork: Fork) -> impl Iterator<Item = &'static Precompile> {
        PRECOMPILES
            .iter()
            .filter(move |p| fork.includes(p.introduced))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_by_name_and_address() {
        assert_eq!(Precompile::lookup("0x02").unwrap().name, "sha256");
        assert_eq!(
            Precompile::lookup("0x0000000000000000000000000000000000000100")
                .unwrap()
                .name,
            "p256verify"
        );
        assert_eq!(Precompile::lookup("blake2f").unwrap().address, addr(9));
        assert!(Precompile::lookup("0x12").is_none());
        assert_eq!(Precompile::active_in(Fork::Shanghai).count(), 9);
        assert_eq!(Precompile::active_in(Fork::Cancun).count(), 10);
        assert_eq!(Precompile::active_in(Fork::Prague).count(), 17);
        assert_eq!(Precompile::active_in(Fork::Osaka).count(), 18);
    }
}

/// True when one of modexp's three length fields (the first three 32-byte big-endian words of
/// the input, zero-padded) exceeds `max_len`: how every adapter reads a profile's modexp cap.
pub fn modexp_exceeds(input: &[u8], max_len: u64) -> bool {
    (0..3).any(|i| {
        let mut word = [0u8; 32];
        let start = (i * 32).min(input.len());
        let end = (start + 32).min(input.len());
        word[..end - start].copy_from_slice(&input[start..end]);
        U256::from_be_bytes(word) > U256::from(max_len)
    })
}

#[cfg(test)]
mod modexp_cap_tests {
    use super::*;

    #[test]
    fn modexp_lengths_are_read_zero_padded() {
        let mut input = vec![0u8; 96];
        input[31] = 4;
        input[63] = 5;
        input[95] = 6;
        assert!(!modexp_exceeds(&input, 6));
        assert!(modexp_exceeds(&input, 5));
        // A truncated modulus length reads as its high bytes: 0x01 followed by zeros.
        let short = &[[0u8; 64].as_slice(), &[1u8]].concat();
        assert!(modexp_exceeds(short, u64::MAX));
        assert!(!modexp_exceeds(&[], 0));
    }
}
