//! # evmdiff
//!
//! The `evmdiff` command's library: the command line (`cli`, `commands`, with a [`cli::main`]
//! that takes a team's own backend registry), the fuzzing campaign (`campaign`), coverage
//! measurement, reports and trace files. The per-case pipeline itself is [`evmdiff_oracle`]'s, re-exported
//! here under its old module names.

pub mod campaign;
pub mod cli;
pub mod commands;
pub mod coverage;
pub mod findings_report;
pub mod inputs;
pub mod matrix_report;
pub mod report;
pub mod trace_files;

pub use evmdiff_oracle::{Oracle, Origin};
pub use evmdiff_oracle::{allowlist, backends, execute, finding, shrink, views, write};
