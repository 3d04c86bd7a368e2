//! EVM profiles (EIP-7530): a base fork plus a behaviour per opcode and per precompile, plus
//! limits. A client and a prover configured with the same profile must agree exactly; evmdiff
//! configures every backend with one and checks that they do.

mod added;
mod behaviour;
mod builtin;
mod gas;
mod parse;
mod render;

use std::collections::BTreeMap;

use alloy_primitives::Address;

pub use added::{AddedPrecompile, Implementation, P256_VALID};
pub use behaviour::{Behaviour, Subject, keccak_chain_number};
pub use builtin::{BUILTIN, builtin, builtin_names};
pub use gas::{GasRules, fixed_opcode_gas};
pub use parse::ProfileError;

use crate::fork::Fork;
use crate::opcode::Opcode;
use crate::precompile::Precompile;

/// A named EVM profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Short name (`eip7530-b`, `scroll`, `mainnet-cancun`).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Everything without a rule behaves as in this fork.
    pub base_fork: Fork,
    /// Where the rules come from (documents, source files), for real systems.
    pub sources: Vec<String>,
    /// The date the rules were checked against their sources.
    pub as_of: Option<String>,
    /// Rules per opcode byte; absent means [`Behaviour::Supported`].
    pub opcodes: BTreeMap<u8, Behaviour>,
    /// Rules per precompile address; absent means [`Behaviour::Supported`].
    pub precompiles: BTreeMap<Address, Behaviour>,
    /// Limits beyond per-item rules.
    pub limits: Limits,
    /// Gas charged instead of the base fork's, per opcode and per precompile.
    pub gas: GasRules,
    /// Precompiles the profile adds (or puts in place of the base fork's at that address).
    pub added: BTreeMap<Address, AddedPrecompile>,
}

/// Limits a profile places on otherwise supported operations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    /// A cap on each of modexp's three length fields (base, exponent, modulus).
    pub modexp: Option<LengthCap>,
}

/// A length cap and what happens past it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LengthCap {
    /// The largest accepted length, in bytes.
    pub max_len: u64,
    /// The behaviour of a call over the cap (revert-refund, halt or reject).
    pub behaviour: Behaviour,
}

/// For opcodes that may be given a [`Behaviour::Constant`]: how many stack items the opcode
/// pops and its static gas. Only opcodes whose cost does not depend on their operands qualify,
/// so a constant replacement charges exactly what the original would.
pub fn constant_shape(op: Opcode) -> Option<(usize, u64)> {
    let shape = match op.0 {
        0x30 | 0x32 | 0x33 | 0x34 | 0x36 | 0x38 | 0x3a | 0x3d => (0, 2),
        0x41..=0x46 | 0x48 | 0x4a => (0, 2),
        0x47 => (0, 5),
        0x40 => (1, 20),
        0x49 => (1, 3),
        _ => return None,
    };
    Some(shape)
}

impl Profile {
    /// The plain mainnet profile of `fork`: no rules, no limits.
    pub fn mainnet(fork: Fork) -> Profile {
        Profile {
            name: format!("mainnet-{}", fork.name().to_ascii_lowercase()),
            description: format!("Ethereum mainnet at {fork}, no changes"),
            base_fork: fork,
            sources: Vec::new(),
            as_of: None,
            opcodes: BTreeMap::new(),
            precompiles: BTreeMap::new(),
            limits: Limits::default(),
            gas: GasRules::default(),
            added: BTreeMap::new(),
        }
    }

    /// Parses a profile from TOML text; `origin` names the file in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Profile, ProfileError> {
        parse::parse(text, origin)
    }

    /// The profile a case records, if it records one: its full content in
    /// `_info.evmdiff.profile_toml` (findings, exports, matrix cases), else a built-in's name
    /// in `profile` (older findings). The error names the case.
    pub fn recorded(case: &crate::case::Case) -> Option<Result<Profile, String>> {
        let meta = case.meta.as_ref()?;
        if let Some(text) = meta.get("profile_toml").and_then(|v| v.as_str()) {
            let origin = format!("{}: recorded profile", case.name);
            return Some(Profile::from_toml(text, &origin).map_err(|e| e.to_string()));
        }
        let name = meta.get("profile").and_then(|v| v.as_str())?;
        Some(Profile::load(name).map_err(|e| format!("{}: recorded profile: {e}", case.name)))
    }

    /// Loads a built-in profile by name, or a profile file by path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some(p) = builtin(name_or_path) {
            return Ok(p);
        }
        let path = std::path::Path::new(name_or_path);
        if !path.exists() && !name_or_path.ends_with(".toml") {
            return Err(ProfileError::unknown(name_or_path));
        }
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError::io(name_or_path, &e))?;
        Profile::from_toml(&text, name_or_path)
    }

    /// The behaviour of `op` under this profile.
    pub fn opcode(&self, op: u8) -> Behaviour {
        self.opcodes
            .get(&op)
            .copied()
            .unwrap_or(Behaviour::Supported)
    }

    /// The behaviour of the precompile at `address`; `None` if the base fork has none there.
    pub fn precompile(&self, address: &Address) -> Option<Behaviour> {
        Precompile::at(*address)
            .filter(|p| self.base_fork.includes(p.introduced))
            .map(|_| {
                self.precompiles
                    .get(address)
                    .copied()
                    .unwrap_or(Behaviour::Supported)
            })
    }

    /// The precompile rules that change something: precompiles of the base fork whose
    /// behaviour is not `supported` (a rule for an address the fork has no precompile at means
    /// nothing: that address is an ordinary account), in address order.
    pub fn precompile_rules(&self) -> Vec<(Address, Behaviour)> {
        self.precompiles
            .keys()
            .filter_map(|a| {
                self.precompile(a)
                    .filter(|b| *b != Behaviour::Supported)
                    .map(|b| (*a, b))
            })
            .collect()
    }

    /// True when the profile is plain mainnet at its base fork (no rule, no limit), so that
    /// ethereum/tests expectations for that fork apply unchanged.
    pub fn is_mainnet(&self) -> bool {
        self.opcodes.values().all(|b| *b == Behaviour::Supported)
            && self
                .precompiles
                .values()
                .all(|b| *b == Behaviour::Supported)
            && self.limits == Limits::default()
            && self.gas.is_empty()
            && self.added.is_empty()
    }

    /// The precompile the profile adds at `address`, if any.
    pub fn added_precompile(&self, address: &Address) -> Option<AddedPrecompile> {
        self.added.get(address).copied()
    }

    /// The precompiles of the base fork with their behaviour, in address order.
    pub fn precompile_table(&self) -> Vec<(&'static Precompile, Behaviour)> {
        Precompile::active_in(self.base_fork)
            .map(|p| {
                (
                    p,
                    self.precompile(&p.address).unwrap_or(Behaviour::Supported),
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainnet_profile_supports_everything_of_its_fork() {
        let p = Profile::mainnet(Fork::Cancun);
        assert!(p.is_mainnet());
        assert_eq!(p.opcode(0x44), Behaviour::Supported);
        let ten = Address::with_last_byte(0x0a);
        assert_eq!(p.precompile(&ten), Some(Behaviour::Supported));
        assert_eq!(Profile::mainnet(Fork::Shanghai).precompile(&ten), None);
    }
}
