//! Precompiles called directly, outside any EVM: the implementations the `precompiles` fuzz
//! target compares input by input.
//!
//! A transaction that calls a precompile pays for a whole EVM around a call whose cost is the
//! precompile's arithmetic; calling each backend's precompile code directly compares the same
//! code tens of times faster on structured inputs (points on and off the curve, in and out of
//! the subgroup, signatures at the bounds of their ranges). Each implementation is the very
//! code its backend runs in a transaction (revm's `Precompiles`, levm's `execute_precompile`,
//! evm-precompile's `StandardPrecompileSet`), with the same planted bug for `revm+<bug>`.
//!
//! What a caller can observe of a precompile call is all that is compared: success with its
//! gas and output, or failure (a failing precompile consumes all the gas it was given,
//! however it failed, so why it failed is not observable). An implementation's own internal
//! error (a fatal error in revm, an internal error in levm) is kept apart: it is a crash.
//!
//! [`library`] names the cryptography behind each precompile in each implementation, so that
//! a comparison says which families it sets against each other and which share their code.

use std::fmt;

use evmdiff_core::precompile::Precompile;
use evmdiff_core::{BackendError, Fork};

use crate::evm_backend::DirectEvm;
use crate::levm_backend::DirectLevm;
use crate::revm_backend::{DirectRevm, PLANTED_PREFIX, Planted};

/// What a direct precompile call returned, as the calling frame sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Called {
    /// The precompile succeeded: the gas it charged and its output.
    Success {
        /// Gas charged.
        gas_used: u64,
        /// Output bytes.
        output: Vec<u8>,
    },
    /// The precompile failed (invalid input or not enough gas): the caller loses the gas it
    /// forwarded and gets no output.
    Failure,
    /// The implementation failed internally (revm's fatal error, levm's internal error), which
    /// would abort a whole transaction or block: a crash of the implementation.
    Error(String),
}

impl Called {
    /// `success`, `failure` or `error`.
    pub fn status(&self) -> &'static str {
        match self {
            Called::Success { .. } => "success",
            Called::Failure => "failure",
            Called::Error(_) => "error",
        }
    }
}

impl fmt::Display for Called {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Called::Success { gas_used, output } => write!(
                f,
                "success, gas {gas_used}, output 0x{}",
                alloy_primitives::hex::encode(output)
            ),
            Called::Failure => write!(f, "failure"),
            Called::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// One implementation of the precompiles of a fork.
pub trait PrecompileImpl: Send {
    /// Its name, as `--backends` takes it (`revm`, `levm`, `evm`, `revm+<bug>`).
    fn name(&self) -> &str;
    /// True when it implements `p` at the fork it was made for.
    fn has(&self, p: &Precompile) -> bool;
    /// Calls `p` with `input`, giving it `gas_limit` gas.
    fn call(&mut self, p: &Precompile, input: &[u8], gas_limit: u64) -> Called;
}

/// The implementations this build can call directly. `levm-arkworks` is levm with BLS12-381
/// on arkworks: the one implementation of EIP-2537 here that is not blst.
pub const NAMES: &[&str] = &["revm", "levm", "levm-arkworks", "evm"];

/// The implementation called `name` for `fork`: `revm`, `levm`, `evm`, or `revm+<bug>` (revm
/// with one of `evmdiff planted --list`'s bugs). `Unsupported` when it has no such fork.
pub fn make(name: &str, fork: Fork) -> Result<Box<dyn PrecompileImpl>, BackendError> {
    let unknown = || {
        BackendError::Unsupported(format!(
            "unknown precompile implementation `{name}` (available: {}, and revm+<bug> for \
             revm with a bug planted)",
            NAMES.join(", ")
        ))
    };
    match name {
        "revm" => DirectRevm::new(fork, None).map(|i| Box::new(i) as Box<dyn PrecompileImpl>),
        "levm" => DirectLevm::new(fork).map(|i| Box::new(i) as Box<dyn PrecompileImpl>),
        "levm-arkworks" => {
            DirectLevm::arkworks(fork).map(|i| Box::new(i) as Box<dyn PrecompileImpl>)
        }
        "evm" => DirectEvm::new(fork).map(|i| Box::new(i) as Box<dyn PrecompileImpl>),
        _ => {
            let bug = name.strip_prefix(PLANTED_PREFIX).ok_or_else(unknown)?;
            let bug = Planted::from_name(bug).ok_or_else(unknown)?;
            DirectRevm::new(fork, Some(bug)).map(|i| Box::new(i) as Box<dyn PrecompileImpl>)
        }
    }
}

/// The library that computes precompile `name` in implementation `implementation`
/// (`revm+<bug>` is revm's), from the dependency tree of this build; `None` for a name this
/// table does not know. Two implementations whose libraries are the same family do not check
/// each other's arithmetic, only their own framing (lengths, padding, gas).
pub fn library(implementation: &str, name: &str) -> Option<&'static str> {
    let implementation = match implementation {
        i if i.starts_with(PLANTED_PREFIX) => "revm",
        "levm-arkworks" if name.starts_with("bls12_") => {
            return Some("arkworks (ark-bls12-381 0.6)");
        }
        "levm-arkworks" if name == "p256verify" => {
            return Some("arkworks (ark-secp256r1 0.6), ECDSA written in evmdiff");
        }
        "levm-arkworks" => "levm",
        i => i,
    };
    Some(match (implementation, name) {
        (_, "identity") => "none (a copy)",
        (_, "sha256") => "sha2 (RustCrypto)",
        (_, "ripemd160") => "ripemd (RustCrypto)",
        ("revm", "ecrecover") => "libsecp256k1 (secp256k1 crate, C)",
        ("levm" | "evm", "ecrecover") => "k256 (RustCrypto)",
        ("revm" | "evm", "modexp") => "aurora-engine-modexp",
        ("levm", "modexp") => "ethrex Montgomery (odd moduli to 128 bytes), else malachite",
        ("revm", "bn254_add" | "bn254_mul" | "bn254_pairing") => "arkworks (ark-bn254 0.6)",
        ("levm", "bn254_add" | "bn254_mul") => "ethrex's own G1 code (ark-ff 0.5 fields)",
        ("levm", "bn254_pairing") => "arkworks (ark-bn254 0.5)",
        ("evm", "bn254_add" | "bn254_mul" | "bn254_pairing") => "substrate-bn",
        ("revm", "blake2f") => "revm's own",
        ("levm", "blake2f") => "ethrex's own",
        ("evm", "blake2f") => "evm-precompile's own",
        ("revm" | "levm", "point_evaluation") => "c-kzg (on blst)",
        ("evm", "point_evaluation") => "arkworks (ark-bls12-381 0.5)",
        ("revm" | "levm", n) if n.starts_with("bls12_") => "blst",
        ("revm" | "levm", "p256verify") => "p256 (RustCrypto)",
        _ => return None,
    })
}
