//! # evmdiff
//!
//! The campaign wiring shared by the `evmdiff` command and the fuzz targets: choosing backends,
//! running one case on all of them, and judging the results.

pub mod backends;
pub mod execute;
pub mod inputs;
pub mod report;
pub mod write;
