//! # evmdiff-oracle
//!
//! The per-case pipeline every caller shares — the campaign, `evmdiff run`, `minimize`,
//! `bench` and the cargo-fuzz targets: an [`Oracle`] owns the profile, the prover views,
//! sampling, the allowlist and the budgets; [`Oracle::run`] runs one case on a set of backends
//! (execute with a rolling hash of the steps, compare, localize divergent pairs in lockstep,
//! compare the prover views) and [`Oracle::judge`] turns that run into findings, each with the
//! one [`Identity`](evmdiff_triage::Identity) of its kind.

pub mod allowlist;
pub mod backends;
pub mod error;
pub mod execute;
pub mod export;
pub mod finding;
pub mod fuzz_target;
pub mod judge;
pub mod mutator;
pub mod oracle;
pub mod planted;
pub mod precompile_target;
pub mod seal;
pub mod shrink;
pub mod views;
pub mod write;

pub use error::{OracleError, Result};
pub use judge::Judgement;
pub use oracle::{Oracle, Origin};
