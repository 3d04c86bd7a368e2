//! # evmdiff-adapters
//!
//! One module per EVM implementation, each implementing [`evmdiff_core::Backend`] and
//! normalizing its implementation's quirks into the common [`evmdiff_core::Outcome`], so that
//! the comparator never needs to know which backend produced what.

pub mod evm_backend;
pub mod levm_backend;
pub mod revm_backend;

use evmdiff_core::Backend;

/// Names of the backends this build contains, in the default order.
pub const BACKENDS: &[&str] = &["revm", "evm", "levm"];

/// A fresh instance of the backend called `name`.
pub fn backend(name: &str) -> Option<Box<dyn Backend>> {
    match name {
        "revm" => Some(Box::new(revm_backend::RevmBackend::default())),
        "evm" => Some(Box::new(evm_backend::EvmBackend::default())),
        "levm" => Some(Box::new(levm_backend::LevmBackend::default())),
        _ => None,
    }
}
