//! A profile back to TOML: the canonical text a finding, a checkpoint and a worker request
//! carry, so that a case made under a custom profile replays anywhere without the file it was
//! loaded from, and an edited profile file is never mistaken for the one a checkpoint recorded.

use toml::{Table, Value};

use super::{Behaviour, Profile};
use crate::opcode::Opcode;
use crate::precompile::Precompile;

fn rule(b: Behaviour) -> Value {
    match b {
        Behaviour::Constant(v) => {
            let mut t = Table::new();
            t.insert("behaviour".into(), Value::String(b.keyword().into()));
            t.insert("value".into(), Value::String(format!("{v:#x}")));
            Value::Table(t)
        }
        other => Value::String(other.keyword().into()),
    }
}

/// An opcode by name where the name reads back as the same byte, else `0x..`.
fn opcode_key(op: u8) -> String {
    Opcode(op)
        .name()
        .filter(|n| Opcode::from_name(n) == Some(Opcode(op)))
        .unwrap_or_else(|| format!("0x{op:02x}"))
}

/// A precompile by name.
fn precompile_key(a: &alloy_primitives::Address) -> String {
    Precompile::at(*a).map_or_else(|| a.to_string(), |p| p.name.to_string())
}

impl Profile {
    /// The profile as profile-file TOML that [`Profile::from_toml`] reads back into an equal
    /// profile. Opcodes are keyed by name where the name is unambiguous, precompiles by
    /// address.
    pub fn to_toml(&self) -> String {
        let mut t = Table::new();
        t.insert("name".into(), Value::String(self.name.clone()));
        t.insert(
            "description".into(),
            Value::String(self.description.clone()),
        );
        t.insert(
            "base_fork".into(),
            Value::String(self.base_fork.to_string()),
        );
        if !self.sources.is_empty() {
            let sources = self.sources.iter().cloned().map(Value::String).collect();
            t.insert("sources".into(), Value::Array(sources));
        }
        if let Some(d) = &self.as_of {
            t.insert("as_of".into(), Value::String(d.clone()));
        }
        let mut opcodes = Table::new();
        for (&op, &b) in &self.opcodes {
            opcodes.insert(opcode_key(op), rule(b));
        }
        if !opcodes.is_empty() {
            t.insert("opcodes".into(), Value::Table(opcodes));
        }
        let mut precompiles = Table::new();
        for (a, &b) in &self.precompiles {
            precompiles.insert(precompile_key(a), rule(b));
        }
        if !precompiles.is_empty() {
            t.insert("precompiles".into(), Value::Table(precompiles));
        }
        if let Some(cap) = self.limits.modexp {
            let mut m = Table::new();
            m.insert("max_len".into(), Value::Integer(cap.max_len as i64));
            m.insert(
                "behaviour".into(),
                Value::String(cap.behaviour.keyword().into()),
            );
            let mut limits = Table::new();
            limits.insert("modexp".into(), Value::Table(m));
            t.insert("limits".into(), Value::Table(limits));
        }
        if !self.gas.is_empty() {
            let mut gas = Table::new();
            let ops: Table = self
                .gas
                .opcodes
                .iter()
                .map(|(op, g)| (opcode_key(*op), Value::Integer(*g as i64)))
                .collect();
            let pcs: Table = self
                .gas
                .precompiles
                .iter()
                .map(|(a, g)| (precompile_key(a), Value::Integer(*g as i64)))
                .collect();
            if !ops.is_empty() {
                gas.insert("opcodes".into(), Value::Table(ops));
            }
            if !pcs.is_empty() {
                gas.insert("precompiles".into(), Value::Table(pcs));
            }
            t.insert("gas".into(), Value::Table(gas));
        }
        if !self.added.is_empty() {
            let added: Table = self
                .added
                .iter()
                .map(|(a, p)| {
                    let mut e = Table::new();
                    e.insert(
                        "implementation".into(),
                        Value::String(p.implementation.keyword().into()),
                    );
                    e.insert("gas".into(), Value::Integer(p.gas as i64));
                    (super::parse::short(a), Value::Table(e))
                })
                .collect();
            t.insert("added_precompiles".into(), Value::Table(added));
        }
        toml::to_string(&t).expect("a TOML table always renders")
    }

    /// A short id of the profile's content (keccak256 of [`Profile::to_toml`]): two profiles
    /// with the same rules under the same name have the same id wherever they were loaded
    /// from, and an edited file gets a new one.
    pub fn content_id(&self) -> String {
        alloy_primitives::hex::encode(&alloy_primitives::keccak256(self.to_toml())[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{BUILTIN, builtin};

    #[test]
    fn every_builtin_round_trips() {
        for (name, _) in BUILTIN {
            let p = builtin(name).unwrap();
            let text = p.to_toml();
            let back =
                Profile::from_toml(&text, "rendered").unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(back, p, "{text}");
        }
    }

    #[test]
    fn a_constant_and_a_cap_round_trip() {
        let p = Profile::from_toml(
            "name = \"t\"\nbase_fork = \"Cancun\"\n[opcodes]\nDIFFICULTY = { behaviour = \"constant\", value = \"0xffff\" }\n[limits.modexp]\nmax_len = 32\nbehaviour = \"reject\"\n",
            "t.toml",
        )
        .unwrap();
        assert_eq!(Profile::from_toml(&p.to_toml(), "rendered").unwrap(), p);
    }

    #[test]
    fn gas_rules_added_precompiles_and_a_block_rule_round_trip() {
        let p = Profile::from_toml(
            "name = \"t\"\nbase_fork = \"Osaka\"\n[opcodes]\nBLOCKHASH = \"keccak-chain-number\"\n[gas.opcodes]\nJUMPDEST = 0\nADD = 30\n[gas.precompiles]\necrecover = 6000\n[added_precompiles]\n\"0x100\" = { implementation = \"p256verify-rip7212\", gas = 3450 }\n\"0x1234\" = { implementation = \"p256verify-rip7212\", gas = 1 }\n",
            "t.toml",
        )
        .unwrap();
        assert!(!p.is_mainnet());
        let text = p.to_toml();
        assert_eq!(Profile::from_toml(&text, "rendered").unwrap(), p, "{text}");
        assert_ne!(
            p.content_id(),
            Profile::mainnet(crate::Fork::Osaka).content_id()
        );
    }
}
