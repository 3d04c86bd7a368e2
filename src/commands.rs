//! The subcommands of the `evmdiff` command line.

pub mod bench;
pub mod profiles;
pub mod replay;
pub mod run;
