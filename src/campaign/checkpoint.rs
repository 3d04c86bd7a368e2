//! The campaign's checkpoint (`OUT/campaign.json`): where a rerun of the same command resumes,
//! and the findings already on disk, so a resumed campaign neither rewrites nor recounts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::write::atomic_write;

/// What a checkpoint records: the campaign it belongs to and where to resume.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Seed of the campaign.
    pub seed: u64,
    /// Profile name.
    pub profile: String,
    /// The profile's content id ([`Profile::content_id`](evmdiff_core::Profile::content_id)):
    /// an edited profile file is another campaign, whatever its path.
    #[serde(default)]
    pub profile_id: String,
    /// Backends.
    pub backends: String,
    /// Sampling rates (`--sample`), empty when every backend runs every case.
    #[serde(default)]
    pub sample: String,
    /// Every case below this index has been run.
    pub next_index: u64,
}

impl Checkpoint {
    /// True when `self` was written by the campaign `other` describes (all but the index).
    pub fn same_campaign(&self, other: &Checkpoint) -> bool {
        Checkpoint {
            next_index: 0,
            ..self.clone()
        } == Checkpoint {
            next_index: 0,
            ..other.clone()
        }
    }
}

/// The checkpoint file of the campaign writing into `out`.
pub fn path(out: &Path) -> PathBuf {
    out.join("campaign.json")
}

/// The checkpoint in `out`, if any; a corrupt one is an error naming the file.
pub fn read(out: &Path) -> Result<Option<Checkpoint>> {
    let p = path(out);
    match std::fs::read_to_string(&p) {
        Ok(text) => {
            Ok(Some(serde_json::from_str(&text).with_context(|| {
                format!("{}: corrupt checkpoint", p.display())
            })?))
        }
        Err(_) => Ok(None),
    }
}

/// Writes `cp` into `out` atomically.
pub fn write(out: &Path, cp: &Checkpoint) -> Result<()> {
    Ok(atomic_write(
        &path(out),
        serde_json::to_string_pretty(cp)?.as_bytes(),
    )?)
}

/// Findings already in `out` (files `<kind>-<id>.json`), with the seed and case index each
/// records (`u64::MAX` when it records none).
pub fn existing_findings(out: &Path) -> HashMap<String, (u64, u64)> {
    let mut found = HashMap::new();
    for entry in std::fs::read_dir(out).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some((_, id)) = name.strip_suffix(".json").and_then(|s| s.split_once('-')) else {
            continue;
        };
        let meta = std::fs::read_to_string(entry.path())
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok());
        let info = meta.as_ref().and_then(|v| {
            v.as_object()?
                .values()
                .next()?
                .get("_info")?
                .get("evmdiff")
                .cloned()
        });
        let field = |k: &str| {
            info.as_ref()
                .and_then(|i| i.get(k)?.as_u64())
                .unwrap_or(u64::MAX)
        };
        found.insert(id.to_string(), (field("seed"), field("index")));
    }
    found
}
