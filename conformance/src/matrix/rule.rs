//! The rows of a profile's conformance matrix: every opcode and precompile the profile names
//! (a behaviour, a price, an added precompile) and both sides of a modexp length cap, each with
//! what the profile says it does. A rule the probes cannot exercise is listed with the reason,
//! never dropped.

use alloy_primitives::{Address, U256};
use evmdiff_core::opcode::Opcode;
use evmdiff_core::precompile::{MODEXP, Precompile};
use evmdiff_core::profile::{AddedPrecompile, Implementation};
use evmdiff_core::{Behaviour, Fork, Profile};

use crate::scenario::{modexp_lengths, p256_valid};

/// What a row exercises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// An opcode, by byte.
    Opcode(u8),
    /// A precompile (or an added one), by address.
    Precompile(Address),
}

/// What the profile says the item does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Says {
    /// A behaviour other than `supported`.
    Behaviour(Behaviour),
    /// Supported, charging this gas instead of the base fork's (a `[gas]` rule).
    Price(u64),
    /// A precompile the profile adds.
    Added(AddedPrecompile),
    /// Exactly as in the base fork (an explicit `supported`, a modexp call within the cap).
    AsBaseFork,
}

impl std::fmt::Display for Says {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Says::Behaviour(b) => write!(f, "{b}"),
            Says::Price(gas) => write!(f, "supported, {gas} gas"),
            Says::Added(a) => write!(f, "added: {}, {} gas", a.implementation, a.gas),
            Says::AsBaseFork => write!(f, "as the base fork"),
        }
    }
}

/// One row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// What it exercises.
    pub item: Item,
    /// What the profile says.
    pub says: Says,
    /// The calldata a precompile is called with (empty for an opcode).
    pub input: Vec<u8>,
    /// The row's name: `PREVRANDAO (0x44)`, `0x02 sha256`, `0x05 modexp, a length of 513`.
    pub name: String,
}

/// A rule the matrix lists but cannot probe, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unprobed {
    /// The rule, as a row would name it.
    pub name: String,
    /// Why it has no probe.
    pub why: String,
}

/// Opcodes the probes themselves run (to call, measure, store and return): a behaviour rule on
/// one of them would change the instrument along with the subject, so it is listed unprobed.
/// (A gas rule on them is fine: the probes price their own instructions with the profile.)
const INSTRUMENT: &[u8] = &[
    0x00, 0x15, 0x3b, 0x3c, 0x3d, 0x3e, 0x50, 0x51, 0x52, 0x55, 0x5a, 0x80, 0x83, 0xf0, 0xf1, 0xf3,
    0xfa, 0xfd,
];

/// The rows of `profile`'s matrix, in the order a reader looks for them (opcodes by byte,
/// then precompiles by address, then the added ones and the modexp cap), and the rules left
/// without a probe.
pub fn rules(profile: &Profile) -> (Vec<Rule>, Vec<Unprobed>) {
    let mut rows = Vec::new();
    let mut unprobed = Vec::new();
    let mut opcodes: Vec<u8> = profile.opcodes.keys().copied().collect();
    opcodes.extend(profile.gas.opcodes.keys().copied());
    opcodes.sort_unstable();
    opcodes.dedup();
    for op in opcodes {
        let name = opcode_name(op);
        let says = match (profile.opcode(op), profile.gas.opcodes.get(&op)) {
            (Behaviour::Supported, Some(gas)) => Says::Price(*gas),
            (Behaviour::Supported, None) => Says::AsBaseFork,
            (b, _) => Says::Behaviour(b),
        };
        if matches!(says, Says::Behaviour(_)) && instrument(op) {
            unprobed.push(Unprobed {
                name,
                why: "the probes themselves use this opcode to call, measure or record".into(),
            });
            continue;
        }
        rows.push(Rule {
            item: Item::Opcode(op),
            says,
            input: Vec::new(),
            name,
        });
    }
    let mut addresses: Vec<Address> = profile.precompiles.keys().copied().collect();
    addresses.extend(profile.gas.precompiles.keys().copied());
    addresses.sort_unstable();
    addresses.dedup();
    for address in addresses {
        let name = precompile_name(&address);
        let Some(behaviour) = profile.precompile(&address) else {
            unprobed.push(Unprobed {
                name,
                why: format!(
                    "{} has no precompile at this address, so the rule changes nothing",
                    profile.base_fork
                ),
            });
            continue;
        };
        let (says, input) = match (behaviour, profile.gas.precompiles.get(&address)) {
            (Behaviour::Supported, Some(gas)) => match priced_input(&address) {
                Some(input) => (Says::Price(*gas), input),
                None => {
                    unprobed.push(Unprobed {
                        name,
                        why: "no input vector that succeeds at a fixed price is built in for it"
                            .into(),
                    });
                    continue;
                }
            },
            (Behaviour::Supported, None) => (Says::AsBaseFork, valid_input(&address)),
            (b, _) => (Says::Behaviour(b), valid_input(&address)),
        };
        rows.push(Rule {
            item: Item::Precompile(address),
            says,
            input,
            name,
        });
    }
    for (address, added) in &profile.added {
        let input = match added.implementation {
            Implementation::P256VerifyRip7212 => p256_valid(),
        };
        rows.push(Rule {
            item: Item::Precompile(*address),
            says: Says::Added(*added),
            input,
            name: format!("{} {}", short(address), added.implementation),
        });
    }
    if let Some(cap) = profile.limits.modexp
        && profile.precompile(&MODEXP) == Some(Behaviour::Supported)
    {
        let at = cap.max_len;
        rows.push(Rule {
            item: Item::Precompile(MODEXP),
            says: Says::AsBaseFork,
            input: modexp_lengths(at, 1, 1),
            name: format!("0x05 modexp, a length of {at} (at the cap)"),
        });
        rows.push(Rule {
            item: Item::Precompile(MODEXP),
            says: Says::Behaviour(cap.behaviour),
            input: modexp_lengths(at + 1, 1, 1),
            name: format!("0x05 modexp, a length of {} (over the cap)", at + 1),
        });
    }
    (rows, unprobed)
}

fn instrument(op: u8) -> bool {
    INSTRUMENT.contains(&op) || (0x60..=0x7f).contains(&op)
}

/// `PREVRANDAO (0x44)`.
pub fn opcode_name(op: u8) -> String {
    match Opcode(op).name() {
        Some(n) => format!("{n} ({op:#04x})"),
        None => format!("{op:#04x}"),
    }
}

/// `0x02 sha256`, or the bare address of an unknown one.
fn precompile_name(address: &Address) -> String {
    match Precompile::at(*address) {
        Some(p) => format!("{} {}", short(address), p.name),
        None => short(address),
    }
}

/// `0x02`, `0x100`: the address as the number it is.
fn short(address: &Address) -> String {
    let n = U256::from_be_slice(address.as_slice());
    match u64::try_from(n) {
        Ok(n) => format!("{n:#04x}"),
        Err(_) => format!("{address}"),
    }
}

/// An input on which the precompile succeeds at its fixed price (the precompiles with one).
fn priced_input(address: &Address) -> Option<Vec<u8>> {
    let p = Precompile::at(*address)?;
    p.fixed_price(Fork::Osaka).map(|_| valid_input(address))
}

/// An input the base fork's precompile accepts, with output, within the gas a probe forwards:
/// so whatever a rule says instead (a failure, a revert, an empty account) differs from what
/// the base fork does, and a backend that ignores the rule shows in every context. Zero bytes
/// are points at infinity, zero scalars and field elements, all valid encodings.
pub fn valid_input(address: &Address) -> Vec<u8> {
    let name = Precompile::at(*address).map(|p| p.name).unwrap_or_default();
    match name {
        "modexp" => {
            let mut input = modexp_lengths(1, 1, 1);
            input.extend_from_slice(&[2, 3, 5]);
            input
        }
        "bn254_add" => vec![0; 128],
        "bn254_mul" => vec![0; 96],
        "bn254_pairing" => Vec::new(),
        "blake2f" => vec![0; 213],
        "point_evaluation" => point_evaluation_of_zero(),
        "bls12_g1add" => vec![0; 256],
        "bls12_g1msm" => vec![0; 160],
        "bls12_g2add" => vec![0; 512],
        "bls12_g2msm" => vec![0; 288],
        "bls12_pairing" => vec![0; 384],
        "bls12_map_fp_to_g1" => vec![0; 64],
        "bls12_map_fp2_to_g2" => vec![0; 128],
        "p256verify" => p256_valid(),
        // ecrecover (an unrecoverable signature still succeeds), sha256, ripemd160, identity
        _ => vec![0x01; 32],
    }
}

/// The KZG point evaluation of the zero polynomial: the commitment and the proof are the
/// compressed point at infinity (0xc0 and 47 zero bytes), z = y = 0, and the versioned hash is
/// 0x01 followed by the last 31 bytes of sha256 of the commitment.
fn point_evaluation_of_zero() -> Vec<u8> {
    let mut infinity = [0u8; 48];
    infinity[0] = 0xc0;
    let mut input = alloy_primitives::hex::decode(
        "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014",
    )
    .expect("hex");
    input.extend_from_slice(&[0; 64]);
    input.extend_from_slice(&infinity);
    input.extend_from_slice(&infinity);
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scroll_names_its_opcodes_precompiles_and_nothing_else() {
        let (rows, unprobed) = rules(&Profile::load("scroll").unwrap());
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        assert!(names.contains(&"PREVRANDAO (0x44)"), "{names:?}");
        assert!(names.contains(&"0x03 ripemd160"), "{names:?}");
        assert!(names.contains(&"0x0a point_evaluation"), "{names:?}");
        assert_eq!(rows.len(), 6 + 10, "{names:?}");
        assert!(unprobed.is_empty(), "{unprobed:?}");
    }

    #[test]
    fn a_cap_gives_two_rows_and_an_instrument_rule_is_listed_unprobed() {
        let p = Profile::from_toml(
            "name = \"t\"\nbase_fork = \"Cancun\"\n[opcodes]\nCALL = \"invalid\"\n\
             [limits.modexp]\nmax_len = 64\nbehaviour = \"halt\"\n",
            "t",
        )
        .unwrap();
        let (rows, unprobed) = rules(&p);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].says, Says::Behaviour(Behaviour::Halt));
        assert_eq!(unprobed.len(), 1);
        assert!(unprobed[0].name.starts_with("CALL"));
    }
}
