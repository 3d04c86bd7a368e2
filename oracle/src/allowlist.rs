//! Allowlists: known divergence signatures, each with the reason it is known, so a campaign can
//! fuzz past differences that are already understood.
//!
//! ```toml
//! [[allow]]
//! signature = "3f1c2a9e0b7d4c11"      # a signature id, or the full rendered signature
//! reason = "evm 1.1.1 charges X differently (docs/findings.md #3)"
//!
//! [[allow]]
//! # the rendered signature with `*` for the profile: the same bug under every profile
//! signature = "revm|evm * step after CODECOPY: memory_size"
//! reason = "evm 1.1.1: CODECOPY does not grow MSIZE (docs/findings.md #1)"
//! ```
//!
//! The known differences that ship with evmdiff (`corpus/allow/*.toml`) are built in:
//! [`Allowlist::shipped`].

use std::path::Path;

use crate::error::{OracleError, Result};
use evmdiff_triage::Signature;
use serde::Deserialize;

/// The shipped known differences, one file per pair of backends: (text, file).
const SHIPPED: [(&str, &str); 3] = [
    (
        include_str!("../../corpus/allow/revm-evm.toml"),
        "corpus/allow/revm-evm.toml",
    ),
    (
        include_str!("../../corpus/allow/revm-levm.toml"),
        "corpus/allow/revm-levm.toml",
    ),
    (
        include_str!("../../corpus/allow/revm-pyevm.toml"),
        "corpus/allow/revm-pyevm.toml",
    ),
];

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
        let text = std::fs::read_to_string(path).map_err(OracleError::io(path, "cannot read"))?;
        Allowlist::parse(&text, &path.display().to_string())
    }

    /// Parses allowlist TOML; `origin` names it in errors (file and line).
    pub fn parse(text: &str, origin: &str) -> Result<Allowlist> {
        let list: Allowlist = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
            OracleError::input(format!("{origin}:{line}: {}", e.message().trim()))
        })?;
        for a in &list.allow {
            if a.reason.trim().is_empty() {
                return Err(OracleError::input(format!(
                    "{origin}: signature {} has an empty reason",
                    a.signature
                )));
            }
        }
        Ok(list)
    }

    /// The known differences that ship with evmdiff (`corpus/allow/`), each written up in
    /// docs/findings.md: recognised by every campaign unless `--no-known` is given.
    pub fn shipped() -> Allowlist {
        SHIPPED
            .iter()
            .map(|(text, file)| Allowlist::parse(text, file).expect("the shipped allowlist parses"))
            .fold(Allowlist::default(), Allowlist::with)
    }

    /// This list and `other`'s entries after it.
    pub fn with(mut self, other: Allowlist) -> Allowlist {
        self.allow.extend(other.allow);
        self
    }

    /// The reason `sig` is allowed, if it is: an entry names its id, its rendered text, or
    /// its rendered text with `*` for the profile (the same bug under every profile).
    pub fn reason(&self, sig: &Signature) -> Option<&str> {
        let (id, text) = (sig.id(), sig.to_string());
        let any_profile = Signature {
            profile: "*".into(),
            ..sig.clone()
        }
        .to_string();
        self.allow
            .iter()
            .find(|a| a.signature == id || a.signature == text || a.signature == any_profile)
            .map(|a| a.reason.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_entry_names_a_bug_under_every_profile() {
        let sig = |profile: &str| Signature {
            backends: "revm|evm".into(),
            profile: profile.into(),
            step: Some("after CODECOPY: memory_size".into()),
            fields: Vec::new(),
            status: None,
        };
        let shipped = Allowlist::shipped();
        assert!(shipped.reason(&sig("mainnet-cancun")).is_some());
        assert!(
            shipped
                .reason(&sig("my-rollup"))
                .unwrap()
                .contains("findings.md #1")
        );
        let other = Signature {
            backends: "revm|levm".into(),
            ..sig("my-rollup")
        };
        assert_eq!(shipped.reason(&other), None);
    }

    #[test]
    fn a_malformed_list_names_its_line() {
        let e = Allowlist::parse("[[allow]]\nsignature = 1\n", "a.toml")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("a.toml:2:"), "{e}");
    }
}
