//! Allowlists: known divergence signatures, each with the reason it is known, so a campaign can
//! fuzz past differences that are already understood.
//!
//! ```toml
//! [[allow]]
//! signature = "3f1c2a9e0b7d4c11"      # a signature id, or the full rendered signature
//! reason = "evm 1.1.1 charges X differently (docs/findings.md #3)"
//! ```

use std::path::Path;

use anyhow::{Context, Result, bail};
use evmdiff_triage::Signature;
use serde::Deserialize;

/// One allowed signature.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowed {
    /// Signature id or rendered signature.
    pub signature: String,
    /// Why it is allowed (required: an allowlist without reasons rots).
    pub reason: String,
}

/// A set of allowed signatures.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    /// The entries.
    #[serde(default)]
    pub allow: Vec<Allowed>,
}

impl Allowlist {
    /// Reads an allowlist file; errors name the file and line.
    pub fn load(path: &Path) -> Result<Allowlist> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let list: Allowlist = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
            anyhow::anyhow!("{}:{line}: {}", path.display(), e.message().trim())
        })?;
        for a in &list.allow {
            if a.reason.trim().is_empty() {
                bail!(
                    "{}: signature {} has an empty reason",
                    path.display(),
                    a.signature
                );
            }
        }
        Ok(list)
    }

    /// The reason `sig` is allowed, if it is.
    pub fn reason(&self, sig: &Signature) -> Option<&str> {
        let (id, text) = (sig.id(), sig.to_string());
        self.allow
            .iter()
            .find(|a| a.signature == id || a.signature == text)
            .map(|a| a.reason.as_str())
    }
}
