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
        backend: "revm",
        applies: Applies::Fork(Fork::Constantinople),
        instead: Instead::Unsupported("Constantinople"),
        reason: "revm 43 has no spec for the original Constantinople (revme skips it too)",
    },
    Deviation {
        backend: "evm",
        applies: Applies::Fork(Fork::Constantinople),
        instead: Instead::Unsupported(""),
        reason: "evm 1.1.1 has no config for the original Constantinople",
    },
    Deviation {
        backend: "evm",
        applies: Applies::Fork(Fork::Prague),
        instead: Instead::Unsupported(""),
        reason: "evm 1.1.1 stops at Cancun",
    },
    Deviation {
        backend: "evm",
        applies: Applies::Fork(Fork::Osaka),
        instead: Instead::Unsupported(""),
        reason: "evm 1.1.1 stops at Cancun (so scroll's and linea's Osaka rules are untested on it)",
    },
    Deviation {
        backend: "levm",
        applies: Applies::ForksBefore(Fork::Paris),
        instead: Instead::Unsupported(""),
        reason: "ethrex-levm 31 runs Paris and later only",
    },
    Deviation {
        backend: "levm",
        applies: Applies::Scenario("precompile/absent-sha256-recorded"),
        instead: Instead::Unsupported("absent"),
        reason: "levm warms 0x01..=0x09 by construction in every fork: it cannot make sha256 cold",
    },
    Deviation {
        backend: "levm",
        applies: Applies::Scenario("precompile/absent-sha256-stored"),
        instead: Instead::Unsupported("absent"),
        reason: "levm warms 0x01..=0x09 by construction in every fork: it cannot make sha256 cold",
    },
    Deviation {
        backend: "levm",
        applies: Applies::Scenario("precompile/mainnet-modexp-huge-base-out-of-gas"),
        instead: Instead::Fails("status Halt(PrecompileFailure), expected Halt(OutOfGas)"),
        reason: "levm parses modexp's lengths before charging its gas: a base length of 2^64 is an \
                 input error even when the gas cannot pay the 200 minimum (same gas and state: every \
                 exceptional halt consumes all gas, so a halt-class note, not a divergence)",
    },
    Deviation {
        backend: "pyevm",
        applies: Applies::Fork(Fork::Osaka),
        instead: Instead::Unsupported(""),
        reason: "py-evm 0.12.1b1 stops at Prague",
    },
];

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
/// occurs).
pub fn conform(backend: &mut dyn Backend, s: &Scenario) -> Result<(), String> {
    let name = backend.name();
    let verdict = check(backend, s);
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
