//! Parsing `--backends revm,evm,eels` into backend instances from the registry (with the
//! state-test runners of `--backends-file`), which of them sit a profile out, and `--sample
//! eels=0.05` into per-backend sampling rates.

use std::collections::BTreeMap;
use std::sync::RwLock;

use crate::error::{OracleError, Result};
use evmdiff_adapters::Registry;
use evmdiff_core::{Backend, Profile};

/// The registry every `--backends` list is read against: the built-in one until the command
/// line installs another (with a backends file's runners, or a team's own rows).
static REGISTRY: RwLock<Option<Registry>> = RwLock::new(None);

/// Installs the registry every later `--backends` list is read against.
pub fn install(registry: Registry) {
    *REGISTRY.write().unwrap_or_else(|e| e.into_inner()) = Some(registry);
}

/// The registry in use (the built-in one unless another was installed).
pub fn registry() -> Registry {
    REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(Registry::builtin)
}

/// The default backend list: every in-process backend of this build.
pub fn default_list() -> String {
    registry().default_list()
}

/// Fresh instances of the comma-separated backends in `list` (a name may repeat, for
/// self-consistency runs such as `revm,revm`).
pub fn instantiate(list: &str) -> Result<Vec<Box<dyn Backend>>> {
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        out.push(registry().make(name).map_err(OracleError::Input)?);
    }
    if out.is_empty() {
        return Err(OracleError::input(format!(
            "no backend given (available: {})",
            registry().names().join(", ")
        )));
    }
    Ok(out)
}

/// The backends of `list` that give no prover view (their steps are not live, or they do not
/// report their pre-state reads), with why: `--prover` compares the others only, and says so
/// rather than write an empty witness.
pub fn without_views(list: &str) -> Result<BTreeMap<String, String>> {
    Ok(instantiate(list)?
        .iter()
        .filter_map(|b| {
            let caps = b.capabilities();
            let why = if !caps.in_process {
                "it runs in another process, whose steps are recorded without addresses and \
                 whose pre-state reads are not reported"
            } else if !(caps.steps && caps.reads) {
                "it reports no steps or no pre-state reads"
            } else {
                return None;
            };
            Some((b.name().to_string(), why.to_string()))
        })
        .collect())
}

/// The backends of `list` that cannot run any case under `profile`, with the reason each
/// gives ([`Capabilities::sits_out`](evmdiff_core::Capabilities::sits_out)): said before a
/// campaign's first case, and not held against it by a CI gate.
pub fn sitting_out(list: &str, profile: &Profile) -> Result<BTreeMap<String, String>> {
    Ok(instantiate(list)?
        .iter()
        .filter_map(|b| {
            b.capabilities()
                .sits_out(profile)
                .map(|why| (b.name().to_string(), why))
        })
        .collect())
}

/// The backends of `list` that run single transactions only ([`Capabilities::chains`] off):
/// they sit out a campaign's chain cases, which is said before its first case.
///
/// [`Capabilities::chains`]: evmdiff_core::Capabilities::chains
pub fn without_chains(list: &str) -> Result<Vec<String>> {
    Ok(instantiate(list)?
        .iter()
        .filter(|b| !b.capabilities().chains)
        .map(|b| b.name().to_string())
        .collect())
}

/// True when `name` is the executable specification, the side reports call right.
pub fn is_reference(name: &str) -> bool {
    registry().is_reference(name)
}

/// Sampling rates per backend name (`--sample eels=0.05,pyevm=0.2`): a backend with a rate
/// runs on that fraction of the cases, chosen from the case index alone, so the same seed runs
/// the same backends on the same cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampling(BTreeMap<String, f64>);

impl Sampling {
    /// Parses `name=rate,...`, checking that each name is in `backends`.
    pub fn parse(text: &str, backends: &str) -> Result<Sampling> {
        let names: Vec<&str> = backends.split(',').map(str::trim).collect();
        let mut rates = BTreeMap::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, rate) = item.split_once('=').ok_or_else(|| {
                OracleError::input(format!(
                    "--sample: `{item}` is not NAME=RATE (e.g. eels=0.05)"
                ))
            })?;
            let rate: f64 = rate
                .parse()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r) && *r > 0.0)
                .ok_or_else(|| {
                    OracleError::input(format!(
                        "--sample: rate of `{name}` must be in (0, 1], got `{rate}`"
                    ))
                })?;
            if !names.contains(&name) {
                return Err(OracleError::input(format!(
                    "--sample: `{name}` is not one of --backends ({backends})"
                )));
            }
            rates.insert(name.to_string(), rate);
        }
        Ok(Sampling(rates))
    }

    /// True when nothing is sampled.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rate of `name` (1 when it always runs).
    pub fn rate(&self, name: &str) -> f64 {
        self.0.get(name).copied().unwrap_or(1.0)
    }

    /// Whether backend `name` runs on case `index` of campaign `seed`.
    pub fn runs(&self, name: &str, seed: u64, index: u64) -> bool {
        let rate = self.rate(name);
        if rate >= 1.0 {
            return true;
        }
        let mut h = splitmix(seed ^ 0x5eed_5a3b_1e00_0000);
        h = splitmix(h ^ index);
        for b in name.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        (h >> 11) as f64 / (1u64 << 53) as f64 <= rate
    }

    /// `eels=0.05,...` again, for provenance and checkpoints.
    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(|(n, r)| format!("{n}={r}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// splitmix64's finalizer: a well-mixed, platform-independent 64-bit hash step.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_runs_about_its_rate_and_is_deterministic() {
        let s = Sampling::parse("eels=0.05", "revm,eels").unwrap();
        let ran = (0..20_000).filter(|&i| s.runs("eels", 3, i)).count();
        assert!((800..1200).contains(&ran), "{ran} of 20000 at rate 0.05");
        assert!((0..1000).all(|i| s.runs("revm", 3, i)));
        let again: Vec<bool> = (0..100).map(|i| s.runs("eels", 3, i)).collect();
        let first: Vec<bool> = (0..100).map(|i| s.runs("eels", 3, i)).collect();
        assert_eq!(again, first);
    }

    #[test]
    fn bad_samples_say_what_is_wrong() {
        let e = Sampling::parse("eels", "revm,eels")
            .unwrap_err()
            .to_string();
        assert!(e.contains("NAME=RATE"), "{e}");
        let e = Sampling::parse("eels=2", "revm,eels")
            .unwrap_err()
            .to_string();
        assert!(e.contains("(0, 1]"), "{e}");
        let e = Sampling::parse("pyevm=0.1", "revm,eels")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not one of --backends"), "{e}");
    }
}
