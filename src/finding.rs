//! Findings: a divergent, crashing or slow case, saved as a replayable state test with
//! everything needed to reproduce it in `_info.evmdiff` (profile, seed, case index, generator
//! bytes, backend names and versions, divergences, signature). Written atomically.

use std::path::{Path, PathBuf};

use alloy_primitives::hex;
use anyhow::Result;
use evmdiff_core::case::Expectation;
use evmdiff_core::compare::Divergence;
use evmdiff_core::statetest::write_case;
use evmdiff_core::{Case, Outcome, Status};
use serde::Serialize;
use serde_json::json;

use crate::write::atomic_write;

/// What kind of problem a finding records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// Backends disagree.
    Divergence,
    /// A backend panicked or failed internally.
    Crash,
    /// A case took longer than the time budget.
    Slow,
    /// A backend had not finished the case after the hang budget; the worker was abandoned.
    Hang,
}

impl Kind {
    /// File-name prefix.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Divergence => "divergence",
            Kind::Crash => "crash",
            Kind::Slow => "slow",
            Kind::Hang => "hang",
        }
    }
}

/// Everything a finding file records besides the case.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// The profile argument the campaign was given (built-in name or file).
    pub profile: String,
    /// Campaign seed.
    pub seed: u64,
    /// Case index within the campaign.
    pub index: u64,
    /// The generator's input bytes, hex.
    pub input: String,
    /// `name version` of each backend.
    pub backends: Vec<String>,
}

/// One finding, ready to be written.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    /// What kind of problem.
    pub kind: Kind,
    /// Its id: the signature id (divergence, crash) or the case index (slow).
    pub id: String,
    /// The case.
    pub case: &'a Case,
    /// The reference backend's outcome (the execution spec's when it ran, else the first
    /// backend's), which fills the post expectation.
    pub reference: Option<&'a Outcome>,
    /// Which side the execution spec takes, when it ran and the backends diverge.
    pub reference_side: Option<String>,
    /// How to regenerate it.
    pub provenance: Provenance,
    /// The rendered signature.
    pub signature: String,
    /// The divergences (empty for crashes and slow cases).
    pub divergences: Vec<Divergence>,
    /// Free text (a panic message, a duration).
    pub detail: String,
}

impl Finding<'_> {
    /// Writes the finding as `DIR/<kind>-<id>.json` and returns its path. The post expectation
    /// is the reference backend's outcome, so other clients' runners can replay the file.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let prov = &self.provenance;
        let mut case = self.case.clone();
        case.expect = self.reference.map(|o| Expectation {
            hash: o.state_root,
            logs: o.logs_hash,
            exception: (o.status == Status::Rejected).then(|| {
                format!(
                    "evmdiff: rejected by {}",
                    prov.backends.first().cloned().unwrap_or_default()
                )
            }),
            out: None,
        });
        case.meta = Some(json!({
            "profile": prov.profile,
            "seed": prov.seed,
            "index": prov.index,
            "input": prov.input,
            "backends": prov.backends,
            "kind": self.kind,
            "signature": self.signature,
            "divergences": self.divergences,
            "reference_side": self.reference_side,
            "detail": self.detail,
        }));
        let name = format!("{}-{}", self.kind.name(), self.id);
        let comment = format!(
            "evmdiff {} finding {}: {}",
            self.kind.name(),
            self.id,
            self.signature
        );
        let json = write_case(&case, &name, &comment);
        let path = dir.join(format!("{name}.json"));
        atomic_write(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        Ok(path)
    }
}

/// Hex of generator input bytes.
pub fn input_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
