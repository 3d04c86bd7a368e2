//! # evmdiff-adapters
//!
//! One module per EVM implementation, each implementing [`evmdiff_core::Backend`] and
//! normalizing its implementation's quirks into the common [`evmdiff_core::Outcome`], so that
//! the comparator never needs to know which backend produced what.

pub mod ethrex_guest;
pub mod evm_backend;
pub mod levm_backend;
pub mod precompile_impl;
pub mod registry;
pub mod revm_backend;
pub mod worker;

use evmdiff_core::Backend;
pub use registry::{Entry, IN_PROCESS, Registry};
use worker::BackendsFile;

/// Names of the in-process backends of this build, in the default order.
pub fn in_process_names() -> Vec<&'static str> {
    IN_PROCESS.iter().map(|e| e.name).collect()
}

/// A fresh instance of the in-process backend called `name`.
pub fn backend(name: &str) -> Option<Box<dyn Backend>> {
    IN_PROCESS
        .iter()
        .find(|e| e.name == name)
        .map(|e| (e.make)())
}

/// A fresh instance of every in-process backend that reports what it executes
/// ([`Backend::observes_steps`]): the ones step-level comparisons (fast path, lockstep, prover
/// views) can use: revm, evm and levm.
pub fn stepping_backends() -> Vec<Box<dyn Backend>> {
    IN_PROCESS
        .iter()
        .map(|e| (e.make)())
        .filter(|b| b.capabilities().steps)
        .collect()
}

/// A fresh instance of any backend called `name`: in-process, a shipped external worker
/// (`eels`, `ethereumjs`, `pyevm`) or a runner of `runners` (see [`Registry::make`]).
pub fn any_backend(name: &str, runners: &BackendsFile) -> Result<Box<dyn Backend>, String> {
    Registry::builtin().with_runners(runners.clone()).make(name)
}
