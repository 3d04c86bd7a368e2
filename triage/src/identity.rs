//! One identity for every kind of finding: what makes two findings the same problem, so that a
//! campaign writes each once, a report groups them, and an allowlist names them.
//!
//! A divergence is its [`Signature`]; a crash is the backend and the first line of its
//! message (the part before any ` at ` location, which varies); a hang or a slow case is the
//! backend that hung or was slowest. Each is rendered as one line of text whose keccak256
//! prefix is the id, so the id of a divergence is exactly its signature id.

use std::fmt;

use alloy_primitives::keccak256;
use serde::Serialize;

use crate::Signature;

/// What kind of problem a finding records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Backends disagree.
    Divergence,
    /// A backend panicked or failed internally.
    Crash,
    /// A case took longer than the time budget.
    Slow,
    /// A backend had not finished the case after the hang budget (in process) or its worker
    /// gave no answer within its timeout.
    Hang,
}

impl Kind {
    /// File-name prefix (`divergence-<id>.json`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Divergence => "divergence",
            Kind::Crash => "crash",
            Kind::Slow => "slow",
            Kind::Hang => "hang",
        }
    }
}

/// The identity of a finding: its kind and the one line that says which problem it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    /// The kind.
    pub kind: Kind,
    /// The rendered identity (for a divergence, the rendered signature).
    pub text: String,
}

impl Identity {
    /// A divergence: its signature.
    pub fn divergence(sig: &Signature) -> Identity {
        Identity {
            kind: Kind::Divergence,
            text: sig.to_string(),
        }
    }

    /// A backend that failed or panicked with `message` under `profile`.
    pub fn crash(backend: &str, profile: &str, message: &str) -> Identity {
        let first = message.lines().next().unwrap_or("");
        let first = first.split(" at ").next().unwrap_or("");
        Identity {
            kind: Kind::Crash,
            text: format!("crash {backend} {profile}: {first}"),
        }
    }

    /// A backend that gave no answer in time under `profile`.
    pub fn hang(backend: &str, profile: &str) -> Identity {
        Identity {
            kind: Kind::Hang,
            text: format!("hang {backend} {profile}: no outcome in time"),
        }
    }

    /// A case over the time budget, `backend` being the slowest on it.
    pub fn slow(backend: &str, profile: &str) -> Identity {
        Identity {
            kind: Kind::Slow,
            text: format!("slow {backend} {profile}: case over the time budget"),
        }
    }

    /// The short id: the first 8 bytes of keccak256 of the text, in hex.
    pub fn id(&self) -> String {
        alloy_primitives::hex::encode(&keccak256(self.text.as_bytes())[..8])
    }

    /// The finding's file name, `<kind>-<id>.json`.
    pub fn file_name(&self) -> String {
        format!("{}-{}.json", self.kind.name(), self.id())
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::signature;
    use evmdiff_core::compare::{Difference, Divergence};

    #[test]
    fn a_divergence_is_identified_by_its_signature_id() {
        let d = Divergence {
            left: "revm".into(),
            right: "evm".into(),
            at: None,
            differences: vec![Difference {
                field: evmdiff_core::Field::GasUsed,
                left: "1".into(),
                right: "2".into(),
            }],
            step: None,
        };
        let sig = signature(&d, "p");
        assert_eq!(Identity::divergence(&sig).id(), sig.id());
    }

    #[test]
    fn crashes_differing_only_in_location_are_one() {
        let a = Identity::crash("evm", "p", "panic: overflow at src/a.rs:1\nbacktrace");
        let b = Identity::crash("evm", "p", "panic: overflow at src/b.rs:9");
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), Identity::crash("revm", "p", "panic: overflow").id());
        assert_ne!(
            Identity::hang("evm", "p").id(),
            Identity::slow("evm", "p").id()
        );
    }
}
