//! The `evmdiff` command line: a short dispatch over the commands, each of which owns its
//! options (`commands/<cmd>.rs`: its clap `Args` and its `run`).
//!
//! [`main`] takes the backend registry, so that a team's own Rust EVM crate can ship an
//! `evmdiff` with its backend in it, without forking evmdiff:
//!
//! ```no_run
//! use evmdiff_adapters::{Entry, Registry};
//! fn main() -> std::process::ExitCode {
//!     let mine = Entry {
//!         name: "my-evm",
//!         description: "our sequencer's EVM",
//!         make: || Box::new(evmdiff_adapters::revm_backend::RevmBackend::default()),
//!         default: true,
//!     };
//!     evmdiff::cli::main(Registry::builtin().with(mine))
//! }
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use evmdiff_adapters::Registry;

use crate::commands::{
    bench, campaign, check, export, fuzz, generate, matrix, minimize, planted, profiles, replay,
    report, run, trace_diff,
};

/// Profile-aware differential fuzzer for EVM implementations.
///
/// Runs the same transactions on several EVMs, each configured with the same EVM profile
/// (EIP-7530), and reports any difference in status, gas, output, logs, state or the executed
/// steps.
#[derive(Debug, Parser)]
#[command(name = "evmdiff", version, about, long_about = None)]
struct Cli {
    /// State-test runners to use as backends (TOML, `[[runner]]` tables: name, command,
    /// batch, env, timeout_secs); their names then work in every --backends. Also read from
    /// EVMDIFF_BACKENDS_FILE.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "EVMDIFF_BACKENDS_FILE"
    )]
    backends_file: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Profiles(profiles::Args),
    Run(run::Args),
    TraceDiff(trace_diff::Args),
    Replay(replay::Args),
    Fuzz(fuzz::Args),
    Campaign(campaign::Args),
    Minimize(minimize::Args),
    Export(export::Args),
    Report(report::Args),
    Matrix(matrix::Args),
    Planted(planted::Args),
    Generate(generate::Args),
    Bench(bench::Args),
    Check(check::Args),
}

/// Exit 0 when everything agrees or passes, 1 on findings (a divergence, a failed check, a
/// crash), 2 on bad input.
const EXIT_CODES: &str = "Exit codes: 0 clean, 1 findings (a divergence, a failed check, a backend crash), 2 bad input (the message names the file and the problem).";

/// Runs the command line with `registry` as the backends it can make; returns the exit code.
pub fn main(registry: Registry) -> ExitCode {
    quiet_on_closed_pipe();
    // A backends file's runners join the registry before the arguments are read, so that
    // `--help` and the defaults list them.
    let registry = match backends_file_from_args() {
        Some(path) => match evmdiff_adapters::worker::BackendsFile::load(&path) {
            Ok(file) => registry.with_runners(file),
            Err(e) => return bad_input(anyhow::anyhow!(e)),
        },
        None => registry,
    };
    let help = format!("Backends:\n{}\n\n{EXIT_CODES}", registry.help());
    crate::backends::install(registry);
    let matches = Cli::command().after_help(help).get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => bad_input(e),
    }
}

fn bad_input(e: anyhow::Error) -> ExitCode {
    eprintln!("evmdiff: {e:#}");
    ExitCode::from(2)
}

fn dispatch(command: Command) -> Result<ExitCode> {
    match command {
        Command::Profiles(a) => profiles::run(&a),
        Command::Run(a) => run::run(&a),
        Command::TraceDiff(a) => trace_diff::run(&a),
        Command::Replay(a) => replay::run(&a),
        Command::Fuzz(a) => fuzz::run(&a),
        Command::Campaign(a) => campaign::run(&a),
        Command::Minimize(a) => minimize::run(&a),
        Command::Export(a) => export::run(&a),
        Command::Report(a) => report::run(&a),
        Command::Matrix(a) => matrix::run(&a),
        Command::Planted(a) => planted::run(&a),
        Command::Generate(a) => generate::run(&a),
        Command::Bench(a) => bench::run(&a),
        Command::Check(a) => check::run(&a),
    }
}

/// 1 when `failed`, else 0.
pub fn exit(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `--backends-file FILE` (or `=FILE`, or `EVMDIFF_BACKENDS_FILE`), read before clap parses
/// the rest (clap reports it again, with any other mistake).
fn backends_file_from_args() -> Option<PathBuf> {
    let args: Vec<String> = std::env::args().collect();
    for (i, a) in args.iter().enumerate() {
        if a == "--backends-file" {
            return args.get(i + 1).map(PathBuf::from);
        }
        if let Some(v) = a.strip_prefix("--backends-file=") {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("EVMDIFF_BACKENDS_FILE").map(PathBuf::from)
}

/// `evmdiff run CASE | head -1`: when the reader goes away, stop quietly (as a process killed
/// by SIGPIPE does, exit status 141) instead of panicking in `println!`.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
