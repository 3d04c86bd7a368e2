//! One group of the report: one bug, as a campaign's folder holds it — its finding file, its
//! minimized copy, and how often the campaign met its signature (`stats.json`).
//!
//! Everything comes from the files: a finding records its backends and versions, the
//! divergences with the first differing step and the steps before it, which side the
//! execution spec took, and the profile's rules, so a report is made without running any
//! backend, anywhere.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use evmdiff_core::case::At;
use evmdiff_core::{Case, Field, Profile};
use serde::Deserialize;
use serde_json::Value;

/// One difference of a divergence, as a finding file records it.
#[derive(Debug, Clone, Deserialize)]
pub struct Difference {
    /// What differs.
    pub field: Field,
    /// The left backend's value.
    pub left: String,
    /// The right backend's value.
    pub right: String,
}

/// One step of a recorded trace.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Call depth.
    pub depth: usize,
    /// Program counter.
    pub pc: usize,
    /// Instruction name.
    pub op_name: String,
    /// Gas before it.
    pub gas: u64,
    /// What it cost, when said.
    #[serde(default)]
    pub gas_cost: Option<Value>,
    /// Stack, bottom first.
    #[serde(default)]
    pub stack: Vec<String>,
    /// Memory size.
    #[serde(default)]
    pub mem_size: usize,
    /// Return data size.
    #[serde(default)]
    pub return_data_size: usize,
    /// Refund counter, when said.
    #[serde(default)]
    pub refund: Option<i64>,
}

/// The first step at which two executions part.
#[derive(Debug, Clone, Deserialize)]
pub struct StepDifference {
    /// Its index over all steps.
    pub index: usize,
    /// The last instruction both executed alike.
    pub after: Option<String>,
    /// The fields that differ.
    pub fields: Vec<String>,
    /// The left backend's step.
    pub left: Option<Step>,
    /// The right backend's step.
    pub right: Option<Step>,
    /// The identical steps before it.
    #[serde(default)]
    pub before: Vec<Step>,
}

/// A divergence, as a finding file records it.
#[derive(Debug, Clone, Deserialize)]
pub struct Divergence {
    /// The reference side of the pair.
    pub left: String,
    /// The other.
    pub right: String,
    /// Where in a chain.
    #[serde(default)]
    pub at: Option<At>,
    /// What differs.
    pub differences: Vec<Difference>,
    /// The first differing step, when localized.
    #[serde(default)]
    pub step: Option<StepDifference>,
}

/// One bug.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its kind (`divergence`, `crash`, `hang`, `slow`).
    pub kind: String,
    /// Its signature id.
    pub id: String,
    /// The signature as text.
    pub signature: String,
    /// Cases of the campaign that showed it (1 when the folder has no `stats.json`).
    pub count: u64,
    /// Why it is known, when it is allowlisted.
    pub known: Option<String>,
    /// The profile it was found under.
    pub profile: Profile,
    /// `name version` of each backend.
    pub backends: Vec<String>,
    /// The finding file.
    pub file: PathBuf,
    /// The smallest case's file: the minimized copy when there is one.
    pub smallest: PathBuf,
    /// The smallest case.
    pub case: Case,
    /// Instructions in all its codes.
    pub instructions: usize,
    /// Instructions in the original finding's codes.
    pub original_instructions: usize,
    /// The divergences (of the smallest case).
    pub divergences: Vec<Divergence>,
    /// Which side the execution spec took, when it ran.
    pub reference_side: Option<String>,
    /// Free text (a crash's panic, a duration).
    pub detail: String,
    /// The prover views it was found with.
    pub prover: Option<String>,
}

impl Group {
    /// True when the bug is consensus-visible: found under a mainnet profile, and the state,
    /// gas, status or logs differ (not only the steps, a halt class or a prover view).
    pub fn consensus(&self) -> bool {
        self.profile.is_mainnet()
            && self.divergences.iter().any(|d| {
                d.differences.iter().any(|x| {
                    !x.field.is_view()
                        && !matches!(x.field, Field::Steps | Field::HaltClass | Field::Output)
                })
            })
    }

    /// The backends of the pair, the reference side first (`revm`, `evm`).
    pub fn pair(&self) -> Option<(&str, &str)> {
        self.divergences
            .first()
            .map(|d| (d.left.as_str(), d.right.as_str()))
    }

    /// `name version` of a backend of the finding.
    pub fn version_of(&self, name: &str) -> String {
        self.backends
            .iter()
            .find(|b| b.split_whitespace().next() == Some(name))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// The names of the backends, comma-separated (what `--backends` takes).
    pub fn backend_list(&self) -> String {
        self.backends
            .iter()
            .filter_map(|b| b.split_whitespace().next())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Every group of the campaign folder `dir`, ranked: consensus-visible bugs first, then by
/// how many cases showed them.
pub fn groups(dir: &Path) -> Result<Vec<Group>> {
    let counts = signature_counts(dir)?;
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            p.extension().is_some_and(|e| e == "json")
                && ["divergence-", "crash-", "hang-", "slow-"]
                    .iter()
                    .any(|k| name.starts_with(k))
        })
        .collect();
    files.sort();
    for file in files {
        out.push(group(dir, &file, &counts)?);
    }
    out.sort_by(|a, b| {
        b.consensus()
            .cmp(&a.consensus())
            .then(b.count.cmp(&a.count))
            .then(a.id.cmp(&b.id))
    });
    Ok(out)
}

/// What the campaign's `stats.json` says of each signature id: how many cases showed it (its
/// `signatures`: `id: text` to a count) and why it is known (its `known`: `id: text` to the
/// reason); nothing when the folder has no `stats.json`.
#[derive(Debug, Default)]
struct Counts {
    cases: BTreeMap<String, u64>,
    known: BTreeMap<String, String>,
}

fn signature_counts(dir: &Path) -> Result<Counts> {
    let path = dir.join("stats.json");
    if !path.exists() {
        return Ok(Counts::default());
    }
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let v: Value =
        serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let by_id = |key: &str| {
        v.get(key)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, x)| Some((k.split(':').next()?.to_string(), x.clone())))
            .collect::<Vec<_>>()
    };
    Ok(Counts {
        cases: by_id("signatures")
            .into_iter()
            .filter_map(|(k, n)| Some((k, n.as_u64()?)))
            .collect(),
        known: by_id("known")
            .into_iter()
            .filter_map(|(k, r)| Some((k, r.as_str()?.to_string())))
            .collect(),
    })
}

/// The group of one finding file.
fn group(dir: &Path, file: &Path, counts: &Counts) -> Result<Group> {
    let original = first_case(file)?;
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let (kind, id) = stem.split_once('-').unwrap_or(("divergence", stem));
    let minimized = dir
        .join("minimized")
        .join(file.file_name().unwrap_or_default());
    let (smallest, case) = if minimized.exists() {
        (minimized.clone(), first_case(&minimized)?)
    } else {
        (file.to_path_buf(), original.clone())
    };
    let meta = |c: &Case, key: &str| c.meta.as_ref().and_then(|m| m.get(key)).cloned();
    let text = |c: &Case, key: &str| meta(c, key).and_then(|v| v.as_str().map(String::from));
    let divergences: Vec<Divergence> = meta(&case, "divergences")
        .or_else(|| meta(&original, "divergences"))
        .map(serde_json::from_value)
        .transpose()
        .with_context(|| format!("{}: unreadable divergences", smallest.display()))?
        .unwrap_or_default();
    let profile = crate::inputs::profile_for(&original, None)?;
    let backends = meta(&original, "backends")
        .and_then(|b| serde_json::from_value(b).ok())
        .unwrap_or_default();
    Ok(Group {
        kind: kind.to_string(),
        id: id.to_string(),
        signature: text(&original, "signature").unwrap_or_else(|| id.to_string()),
        count: counts.cases.get(id).copied().unwrap_or(1),
        known: counts.known.get(id).cloned(),
        profile,
        backends,
        file: file.to_path_buf(),
        smallest,
        instructions: evmdiff_triage::minimize::instructions(&case),
        original_instructions: evmdiff_triage::minimize::instructions(&original),
        case,
        divergences,
        reference_side: text(&original, "reference_side"),
        detail: text(&original, "detail").unwrap_or_default(),
        prover: text(&original, "prover"),
    })
}

/// The first case of a test file.
fn first_case(path: &Path) -> Result<Case> {
    crate::inputs::load(path)?
        .cases
        .into_iter()
        .next()
        .with_context(|| format!("{}: no case", path.display()))
}
