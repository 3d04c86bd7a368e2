//! Findings: a divergent, crashing, hanging or slow case, saved as a replayable state test with
//! everything needed to reproduce it in `_info.evmdiff`: the profile's full content (so it
//! replays from any folder, with no other file), seed, case index, generator bytes, backend
//! names and versions, divergences and identity. Written atomically.

use std::path::{Path, PathBuf};

use crate::error::Result;
use alloy_primitives::hex;
use evmdiff_core::blockchaintest::write_chain;
use evmdiff_core::case::Expectation;
use evmdiff_core::compare::Divergence;
use evmdiff_core::statetest::write_case;
use evmdiff_core::{Case, ChainOutcome, Profile};
use evmdiff_triage::Identity;
use serde::Serialize;
use serde_json::{Value, json};

use crate::execute::CaseRun;
use crate::oracle::Origin;
use crate::write::atomic_write;

/// Everything a finding file records besides the case.
#[derive(Debug, Clone, Serialize)]
pub struct Provenance {
    /// The profile's name.
    pub profile: String,
    /// The profile's full content ([`Profile::to_toml`]), which replays it.
    pub profile_toml: String,
    /// Campaign seed (absent for a case that was not generated).
    pub seed: Option<u64>,
    /// Case index within the campaign.
    pub index: Option<u64>,
    /// The campaign's gas budget per transaction (`--case-gas`), needed with the seed and
    /// index to generate the case again.
    pub case_gas: Option<u64>,
    /// The generator's input bytes, hex.
    pub input: Option<String>,
    /// The cargo-fuzz target whose input this was (a crash input turned into a finding), whose
    /// options name the profile, backends and views (`evmdiff run --fuzz-target`).
    pub fuzz_target: Option<String>,
    /// `name version` of each backend.
    pub backends: Vec<String>,
    /// The prover views the case was run with (`witness,rw-log`; empty for none), which a
    /// replay uses again so that a view divergence replays as one.
    pub prover: String,
    /// The label the expectations are filed under: the fork's name under a mainnet profile,
    /// `<Fork>+<profile>` under another ([`evmdiff_core::network`]).
    pub network: String,
}

impl Provenance {
    /// The provenance of a case run under `profile` on `backends` (`name version` each),
    /// generated at `origin` if it was.
    pub fn new(profile: &Profile, backends: Vec<String>, origin: Option<Origin<'_>>) -> Provenance {
        Provenance {
            profile: profile.name.clone(),
            profile_toml: profile.to_toml(),
            seed: origin.map(|o| o.seed),
            index: origin.map(|o| o.index),
            case_gas: origin.and_then(|o| o.gas_budget),
            input: origin.map(|o| input_hex(o.input)),
            fuzz_target: None,
            backends,
            prover: String::new(),
            network: evmdiff_core::network::label(profile),
        }
    }
}

/// `name version` of each backend of `run`.
pub fn backend_names(run: &CaseRun) -> Vec<String> {
    run.executions
        .iter()
        .map(|e| format!("{} {}", e.backend, e.version))
        .collect()
}

/// One finding, ready to be written.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    /// What problem it is (kind and id).
    pub identity: Identity,
    /// The case.
    pub case: &'a Case,
    /// The reference backend's outcome (the execution spec's when it ran, else the first
    /// backend's), which fills the post expectation (a chain's `postState`, and which of its
    /// transactions are in their blocks).
    pub reference: Option<&'a ChainOutcome>,
    /// Which side the execution spec takes, when it ran and the backends diverge.
    pub reference_side: Option<String>,
    /// How to regenerate it.
    pub provenance: Provenance,
    /// The divergences (empty for crashes, hangs and slow cases).
    pub divergences: Vec<Divergence>,
    /// Free text (a panic message with the worker's last stderr lines, a duration).
    pub detail: String,
}

impl Finding<'_> {
    /// The `_info.evmdiff` metadata of this finding.
    pub fn meta(&self) -> Value {
        let prov = &self.provenance;
        let mut meta = json!({
            "profile": prov.profile,
            "profile_toml": prov.profile_toml,
            "seed": prov.seed,
            "index": prov.index,
            "case_gas": prov.case_gas,
            "input": prov.input,
            "backends": prov.backends,
            "kind": self.identity.kind,
            "signature": self.identity.text,
            "divergences": self.divergences,
            "reference_side": self.reference_side,
            "detail": self.detail,
        });
        if !prov.prover.is_empty() {
            meta["prover"] = json!(prov.prover);
        }
        if let Some(t) = &prov.fuzz_target {
            meta["fuzz_target"] = json!(t);
        }
        meta
    }

    /// Writes the finding as `DIR/<kind>-<id>.json` and returns its path. The post expectation
    /// is the reference backend's outcome, so other clients' runners can replay the file.
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        let prov = &self.provenance;
        let mut case = self.case.clone();
        case.meta = Some(self.meta());
        let (kind, id) = (self.identity.kind.name(), self.identity.id());
        let name = format!("{kind}-{id}");
        let comment = format!("evmdiff {kind} finding {id}: {}", self.identity.text);
        let path = dir.join(format!("{name}.json"));
        if case.is_chain() {
            let json = write_chain(&case, self.reference, &name, &comment, &prov.network)
                .map_err(|e| crate::error::OracleError::Input(format!("{name}: {e}")))?;
            atomic_write(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
            return Ok(path);
        }
        case.expect = self.reference.and_then(|o| o.last_tx()).map(|o| {
            Expectation::of(o, || {
                format!(
                    "evmdiff: rejected by {}",
                    prov.backends.first().cloned().unwrap_or_default()
                )
            })
        });
        let json = write_case(&case, &name, &comment, &prov.network)
            .ok_or_else(|| crate::error::OracleError::input(format!("{name}: not a state test")))?;
        atomic_write(&path, serde_json::to_string_pretty(&json)?.as_bytes())?;
        Ok(path)
    }
}

/// Hex of generator input bytes.
pub fn input_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}
