//! # evmdiff-adapters
//!
//! One module per EVM implementation, each implementing [`evmdiff_core::Backend`] and
//! normalizing its implementation's quirks into the common [`evmdiff_core::Outcome`], so that
//! the comparator never needs to know which backend produced what.

pub mod evm_backend;
pub mod levm_backend;
pub mod revm_backend;
pub mod worker;

use evmdiff_core::Backend;
use worker::{BackendsFile, KNOWN, Known, StateTestRunner};

/// Names of the backends this build contains, in the default order.
pub const BACKENDS: &[&str] = &["revm", "evm", "levm"];

/// A fresh instance of the in-process backend called `name`.
pub fn backend(name: &str) -> Option<Box<dyn Backend>> {
    match name {
        "revm" => Some(Box::new(revm_backend::RevmBackend::default())),
        "evm" => Some(Box::new(evm_backend::EvmBackend::default())),
        "levm" => Some(Box::new(levm_backend::LevmBackend::default())),
        _ => None,
    }
}

/// A fresh instance of every in-process backend that reports what it executes
/// ([`Backend::observes_steps`]): the ones step-level comparisons (fast path, lockstep, prover
/// views) can use. levm's observed execution reports nothing today, so it is not among them.
pub fn stepping_backends() -> Vec<Box<dyn Backend>> {
    BACKENDS
        .iter()
        .filter_map(|n| backend(n))
        .filter(|b| b.observes_steps())
        .collect()
}

/// A fresh instance of any backend called `name`: in-process, a shipped external worker
/// (`eels`, `ethereumjs`, `pyevm`) or a runner of `runners`. The error says what is missing
/// and how to install it, or which names exist.
pub fn any_backend(name: &str, runners: &BackendsFile) -> Result<Box<dyn Backend>, String> {
    if let Some(b) = backend(name) {
        return Ok(b);
    }
    if let Some(r) = runners.find(name) {
        return StateTestRunner::new(r).map(|b| Box::new(b) as Box<dyn Backend>);
    }
    if let Some(k) = Known::find(name) {
        k.check_installed()?;
        return Ok(Box::new(k.backend()));
    }
    Err(format!(
        "unknown backend `{name}` (available: {})",
        all_names(runners).join(", ")
    ))
}

/// Every backend name: in-process, external workers, then the runners of `runners`.
pub fn all_names(runners: &BackendsFile) -> Vec<String> {
    BACKENDS
        .iter()
        .map(|s| s.to_string())
        .chain(KNOWN.iter().map(|k| k.name.to_string()))
        .chain(runners.runner.iter().map(|r| r.name.clone()))
        .collect()
}

/// True when `name` is the executable specification (a shipped worker or a runner marked
/// `reference`): the side evmdiff reports as right when backends disagree.
pub fn is_reference(name: &str, runners: &BackendsFile) -> bool {
    Known::find(name).is_some_and(|k| k.reference)
        || runners.find(name).is_some_and(|r| r.reference)
}
