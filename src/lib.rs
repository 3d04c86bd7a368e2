//! # evmdiff
//!
//! The campaign wiring shared by the `evmdiff` command and the fuzz targets: choosing backends,
//! running one case on all of them, and judging the results.

pub mod allowlist;
pub mod backends;
pub mod campaign;
pub mod coverage;
pub mod execute;
pub mod finding;
pub mod inputs;
pub mod report;
pub mod shrink;
pub mod trace_files;
pub mod views;
pub mod write;
