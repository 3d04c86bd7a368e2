//! Ethereum hard forks, named as ethereum/tests names them.
//!
//! The fork decides which opcodes and precompiles exist and which gas schedule applies; every
//! backend maps it to its own spec type in its adapter.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A mainnet hard fork, in activation order (so `Ord` means "activated no later than").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fork {
    /// Frontier (2015).
    Frontier,
    /// Homestead.
    Homestead,
    /// Tangerine Whistle (EIP-150).
    Tangerine,
    /// Spurious Dragon (EIP-158/161).
    SpuriousDragon,
    /// Byzantium.
    Byzantium,
    /// Constantinople as first scheduled (with EIP-1283); never activated on mainnet.
    Constantinople,
    /// Petersburg ("ConstantinopleFix").
    Petersburg,
    /// Istanbul.
    Istanbul,
    /// Berlin.
    Berlin,
    /// London.
    London,
    /// Paris (the Merge).
    Paris,
    /// Shanghai.
    Shanghai,
    /// Cancun.
    Cancun,
    /// Prague.
    Prague,
    /// Osaka.
    Osaka,
}

impl Fork {
    /// Every fork, oldest first.
    pub const ALL: [Fork; 15] = [
        Fork::Frontier,
        Fork::Homestead,
        Fork::Tangerine,
        Fork::SpuriousDragon,
        Fork::Byzantium,
        Fork::Constantinople,
        Fork::Petersburg,
        Fork::Istanbul,
        Fork::Berlin,
        Fork::London,
        Fork::Paris,
        Fork::Shanghai,
        Fork::Cancun,
        Fork::Prague,
        Fork::Osaka,
    ];

    /// The name ethereum/tests uses as a `post` key.
    pub const fn name(self) -> &'static str {
        match self {
            Fork::Frontier => "Frontier",
            Fork::Homestead => "Homestead",
            Fork::Tangerine => "EIP150",
            Fork::SpuriousDragon => "EIP158",
            Fork::Byzantium => "Byzantium",
            Fork::Constantinople => "Constantinople",
            Fork::Petersburg => "ConstantinopleFix",
            Fork::Istanbul => "Istanbul",
            Fork::Berlin => "Berlin",
            Fork::London => "London",
            Fork::Paris => "Paris",
            Fork::Shanghai => "Shanghai",
            Fork::Cancun => "Cancun",
            Fork::Prague => "Prague",
            Fork::Osaka => "Osaka",
        }
    }

    /// True when this fork includes `other` (activated at the same time or later).
    pub fn includes(self, other: Fork) -> bool {
        self >= other
    }
}

impl fmt::Display for Fork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A fork name that evmdiff does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown fork `{0}` (known: Frontier, Homestead, EIP150, EIP158, Byzantium, Constantinople, ConstantinopleFix, Istanbul, Berlin, London, Paris, Shanghai, Cancun, Prague, Osaka)"
)]
pub struct UnknownFork(pub String);

impl FromStr for Fork {
    type Err = UnknownFork;

    /// Accepts the ethereum/tests names, their common aliases and any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let fork = match s.to_ascii_lowercase().as_str() {
            "frontier" => Fork::Frontier,
            "homestead" => Fork::Homestead,
            "eip150" | "tangerine" | "tangerinewhistle" => Fork::Tangerine,
            "eip158" | "spuriousdragon" => Fork::SpuriousDragon,
            "byzantium" => Fork::Byzantium,
            "constantinople" => Fork::Constantinople,
            "constantinoplefix" | "petersburg" => Fork::Petersburg,
            "istanbul" => Fork::Istanbul,
            "berlin" => Fork::Berlin,
            "london" => Fork::London,
            "paris" | "merge" => Fork::Paris,
            "shanghai" => Fork::Shanghai,
            "cancun" => Fork::Cancun,
            "prague" => Fork::Prague,
            "osaka" => Fork::Osaka,
            _ => return Err(UnknownFork(s.to_string())),
        };
        Ok(fork)
    }
}

impl Serialize for Fork {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Fork {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases_parse() {
        for fork in Fork::ALL {
            assert_eq!(fork.name().parse::<Fork>().unwrap(), fork);
        }
        assert_eq!("Merge".parse::<Fork>().unwrap(), Fork::Paris);
        assert_eq!("petersburg".parse::<Fork>().unwrap(), Fork::Petersburg);
        assert!("Amsterdam".parse::<Fork>().is_err());
        assert!(Fork::Cancun.includes(Fork::Shanghai));
        assert!(!Fork::Shanghai.includes(Fork::Cancun));
    }
}
