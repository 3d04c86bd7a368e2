//! Per-backend deviations from the scenario table: what a backend does instead of a
//! scenario's expectation, and why. A deviation replaces the expectation for that backend, and
//! a deviation that no longer occurs is itself a failure, so the table cannot rot.

use evmdiff_core::{Backend, Fork};

use crate::scenario::{Scenario, Verdict, check};

/// Which scenarios a deviation covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// The scenario of this name.
    Scenario(&'static str),
    /// Every scenario at this fork.
    Fork(Fork),
    /// Every scenario at a fork before this one.
    ForksBefore(Fork),
}

/// What the backend does instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instead {
    /// Says `Unsupported`, with a reason containing this text.
    Unsupported(&'static str),
    /// Fails the scenario, with a reason containing this text.
    Fails(&'static str),
}

/// One row: a backend that does something else than a scenario expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deviation {
    /// The backend's name (`Backend::name`).
    pub backend: &'static str,
    /// The scenarios it covers.
    pub applies: Applies,
    /// What it does instead.
    pub instead: Instead,
    /// Why, in a sentence.
    pub reason: &'static str,
}

/// Every known deviation.
pub const DEVIATIONS: &[Deviation] = &[
    Deviation {
        backend: "levm",
        applies: Applies::Scenario("precompile/mainnet-modexp-huge-base-out-of-gas"),
        instead: Instead::Fails("status Halt(PrecompileFailure), expected Halt(OutOfGas)"),
        reason: "levm parses modexp's lengths before charging its gas: a base length of 2^64 is an \
                 input error even when the gas cannot pay the 200 minimum (same gas and state: every \
                 exceptional halt consumes all gas, so a halt-class note, not a divergence)",
    },
    Deviation {
        backend: "levm",
        applies: Applies::Scenario("precompile/mainnet-modexp-huge-base"),
        instead: Instead::Fails("status Halt(PrecompileFailure), expected Halt(OutOfGas)"),
        reason: MODEXP_NAMING,
    },
    Deviation {
        backend: "revm",
        applies: Applies::Scenario("precompile/mainnet-modexp-huge-base"),
        instead: Instead::Fails("status Halt(PrecompileFailure), expected Halt(OutOfGas)"),
        reason: MODEXP_NAMING,
    },
    Deviation {
        backend: "evm",
        applies: Applies::Scenario("precompile/mainnet-modexp-huge-base"),
        instead: Instead::Fails("status Halt(PrecompileFailure), expected Halt(OutOfGas)"),
        reason: MODEXP_NAMING,
    },
    Deviation {
        backend: "ethereumjs",
        applies: Applies::Scenario("halt/return-data-out-of-bounds"),
        instead: Instead::Fails("status Halt(OutOfGas), expected Halt(ReturnDataOutOfBounds)"),
        reason: "ethereumjs 10 raises OUT_OF_GAS for a RETURNDATACOPY beyond the return data (same \
                 gas and state: a halt-class note, not a divergence)",
    },
    Deviation {
        backend: "ethereumjs",
        applies: Applies::Scenario("opcode/reject-in-a-callee"),
        instead: Instead::Fails("profile rejects opcode 0x43"),
        reason: "the ethereumjs worker names a rejected opcode by its byte, not its mnemonic (the \
                 backend's own words are shown, never compared)",
    },
];

/// Why the Rust backends name modexp's huge-base failure differently from the execution spec.
const MODEXP_NAMING: &str = "the execution spec (and ethereumjs, py-evm) prices modexp from its \
    lengths first, so a base length of 2^64 is out of gas; this backend rejects the length as an \
    input error first (same gas and state: a halt-class note, not a divergence)";

impl Deviation {
    /// Whether this row covers `s` on `backend`.
    pub fn covers(&self, backend: &str, s: &Scenario) -> bool {
        self.backend == backend
            && match self.applies {
                Applies::Scenario(name) => name == s.name,
                Applies::Fork(f) => f == s.fork,
                Applies::ForksBefore(f) => s.fork < f,
            }
    }

    /// Whether `verdict` is what this row says the backend does.
    pub fn occurs(&self, verdict: &Verdict) -> bool {
        match (self.instead, verdict) {
            (Instead::Unsupported(text), Verdict::Unsupported(why)) => why.contains(text),
            (Instead::Fails(text), Verdict::Fail(why)) => why.contains(text),
            _ => false,
        }
    }
}

/// The deviation of `backend` on `s`, if the table has one.
pub fn deviation(backend: &str, s: &Scenario) -> Option<&'static Deviation> {
    DEVIATIONS.iter().find(|d| d.covers(backend, s))
}

/// Runs `s` on `backend` and judges it: `Ok` when it passes, or when it does what its
/// deviation row says instead; otherwise why not (including a deviation that no longer
/// occurs). What a backend declares it cannot do (a fork it does not run, a rule it cannot
/// apply: [`Capabilities::sits_out`](evmdiff_core::Capabilities::sits_out)) needs no row: the
/// scenario must then be unsupported, and a backend that runs it anyway fails.
pub fn conform(backend: &mut dyn Backend, s: &Scenario) -> Result<(), String> {
    let name = backend.name();
    let verdict = check(backend, s);
    let profile = s.profile().map_err(|e| format!("{}: {e}", s.name))?;
    if let Some(why) = backend.capabilities().sits_out(&profile) {
        return match verdict {
            Verdict::Unsupported(_) => Ok(()),
            v => Err(format!(
                "{name} on {}: its capabilities say it sits this out ({why}), but: {v}",
                s.name
            )),
        };
    }
    match (deviation(name, s), &verdict) {
        (None, Verdict::Pass) => Ok(()),
        (None, v) => Err(format!("{name} on {}: {v}", s.name)),
        (Some(d), v) if d.occurs(v) => Ok(()),
        (Some(d), v) => Err(format!(
            "{name} on {}: {v}, but deviation.rs says {:?} ({}): update the table",
            s.name, d.instead, d.reason
        )),
    }
}
