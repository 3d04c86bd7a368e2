//! The `evmdiff` command: the command line of [`evmdiff::cli`] with the built-in backends.

use std::process::ExitCode;

fn main() -> ExitCode {
    evmdiff::cli::main(evmdiff_adapters::Registry::builtin())
}
