//! The subcommands of the `evmdiff` command line.

pub mod bench;
pub mod campaign;
pub mod check;
pub mod export;
pub mod fuzz;
pub mod generate;
pub mod matrix;
pub mod minimize;
pub mod options;
pub mod planted;
pub mod profiles;
pub mod replay;
pub mod report;
pub mod run;
pub mod trace_diff;
