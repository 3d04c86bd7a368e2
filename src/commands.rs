//! The subcommands of the `evmdiff` command line.

pub mod bench;
pub mod fuzz;
pub mod profiles;
pub mod replay;
pub mod run;
