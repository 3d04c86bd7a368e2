//! The campaign's checkpoint (`OUT/campaign.json`): where a rerun of the same command resumes,
//! and the findings already on disk, so a resumed campaign neither rewrites nor recounts them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use super::shard::Shard;
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
    /// The campaign's share of the cases (`--shard`), absent for the whole campaign.
    #[serde(default, skip_serializing_if = "Shard::is_whole")]
    pub shard: Shard,
    /// Every case below this position has been run: the case index itself for the whole
    /// campaign, the position within the shard for a shard ([`Shard::case`]).
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

/// The checkpoint file of the campaign (or of its `shard`) writing into `out`.
pub fn path(out: &Path, shard: Shard) -> PathBuf {
    shard.file(out, "campaign.json")
}

/// The checkpoint of `shard` in `out`, if any; a corrupt one is an error naming the file.
pub fn read(out: &Path, shard: Shard) -> Result<Option<Checkpoint>> {
    let p = path(out, shard);
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
    let p = path(out, cp.shard);
    if let Some(dir) = p.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    Ok(atomic_write(
        &p,
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
        found.insert(id.to_string(), recorded(&entry.path()));
    }
    found
}

/// The seed and case index the finding file at `path` records (`u64::MAX` for what it does
/// not record).
pub fn recorded(path: &Path) -> (u64, u64) {
    let meta = std::fs::read_to_string(path)
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
    (field("seed"), field("index"))
}
