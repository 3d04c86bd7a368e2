//! The `evmdiff` command line.
//!
//! Exit codes: 0 all agree / all pass, 1 a divergence or a failed check, 2 bad input (the
//! message names the file and the problem).

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use evmdiff_core::Fork;

use commands::replay::ReplayArgs;
use commands::run::RunArgs;

/// Profile-aware differential fuzzer for EVM implementations.
///
/// Runs the same transactions on several EVMs (revm and rust-ethereum `evm` in process; the
/// Python execution spec `eels`, `ethereumjs` and `pyevm` as worker processes after
/// `scripts/setup-external.sh`; any state-test runner of a --backends-file), each configured with the same EVM profile (EIP-7530), and reports any difference in status,
/// gas, output, logs or state.
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
    /// List the built-in profiles, or show one profile's rules.
    Profiles {
        #[command(subcommand)]
        action: Option<ProfilesAction>,
    },
    /// Execute state-test cases on every backend and print outcomes side by side.
    ///
    /// Exit code 0 when all backends agree on every case, 1 on any divergence or backend
    /// failure, 2 on bad input.
    Run {
        /// State-test JSON files (or folders of them); a fuzzer finding is one.
        #[arg(required = true)]
        cases: Vec<PathBuf>,
        /// Profile to run every case under: a built-in name or a .toml file. Without it, a
        /// finding runs under the profile it records and any other case under mainnet at its
        /// own fork.
        #[arg(long, short)]
        profile: Option<String>,
        /// Comma-separated backends; a name may repeat.
        #[arg(long, short, default_value_t = evmdiff::backends::default_list())]
        backends: String,
        /// Output format: a table per case, or one JSON object per case.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// Also write one EIP-3155 trace per case and backend into this folder
        /// (`<case>.<backend>.jsonl`: a JSON line per instruction, then a summary line with
        /// stateRoot, output, gasUsed, pass and fork).
        #[arg(long, value_name = "DIR")]
        trace: Option<PathBuf>,
        /// Prover views to compare too: `witness`, `rw-log` (comma-separated; see `fuzz`).
        /// With --trace, each backend's read/write log (`.rw.jsonl`) and witness
        /// (`.witness.json`) are written next to its trace.
        #[arg(long, default_value = "", value_name = "VIEWS")]
        prover: String,
    },
    /// Show where two EIP-3155 traces part: the first differing step, its differing fields and
    /// the steps before it, then the two summary lines.
    ///
    /// Reads traces written by `evmdiff run --trace`, geth's `evm --json`, `revme` or
    /// `ethereum-spec-evm` (numbers as JSON numbers or hex strings). A field one trace lacks is
    /// not compared. A STOP in one trace where the other has already left the frame is taken
    /// for the implicit STOP at the end of code (which the execution spec reports and evmdiff's
    /// backends do not) and skipped. The execution spec prints an SSTORE's refund after the
    /// instruction, evmdiff and geth before it: compare those with `--ignore refund`. Summary
    /// lines are compared on stateRoot and output (tools count gasUsed differently).
    /// Exit code 0 when the traces agree, 1 when they part, 2 on unreadable input.
    TraceDiff {
        /// The first trace (the reference).
        a: PathBuf,
        /// The second trace.
        b: PathBuf,
        /// Step fields not to compare, comma-separated (of pc, op, gas, gasCost, memSize,
        /// stack, depth, refund, returnData).
        #[arg(long, value_delimiter = ',')]
        ignore: Vec<String>,
        /// Identical steps to show before the first differing one.
        #[arg(long, default_value_t = 4)]
        context: usize,
    },
    /// Replay ethereum/tests state tests: check every backend against the files' expected
    /// state roots and logs, compare the backends, print pass rates.
    ///
    /// Ends with the line `N passed, M failed, K skipped` (cases); exit code 1 if any failed.
    Replay {
        /// State-test files or folders (walked recursively for *.json).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Comma-separated backends.
        #[arg(long, short, default_value_t = evmdiff::backends::default_list())]
        backends: String,
        /// Only replay cases of this fork (e.g. Cancun).
        #[arg(long)]
        fork: Option<String>,
        /// Write every failure (file, case, backend, reason; tab-separated) to this file.
        #[arg(long)]
        failures: Option<PathBuf>,
        /// Worker threads (default: the number of cores).
        #[arg(long, short)]
        jobs: Option<usize>,
    },
    /// Fuzz: generate programs within a profile, run them on every backend, keep every
    /// divergence, crash and slow case as a replayable finding in --out.
    ///
    /// Same seed, same cases. Rerunning with the same --out, seed, profile and backends resumes
    /// after the last checkpoint. Exit code 0 when the campaign completes (1 with
    /// --fail-on-findings if it wrote new findings), 2 on bad input.
    Fuzz {
        /// Profile: a built-in name or a .toml file.
        #[arg(long, short, default_value = "mainnet-cancun")]
        profile: String,
        /// Comma-separated backends; a name may repeat (revm,revm checks self-consistency).
        #[arg(long, short, default_value_t = evmdiff::backends::default_list())]
        backends: String,
        /// Worker threads (default: the number of cores).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Campaign seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Stop after this many cases.
        #[arg(long)]
        runs: Option<u64>,
        /// Stop after this long (30s, 5m, 2h).
        #[arg(long, value_parser = commands::fuzz::parse_duration)]
        time: Option<std::time::Duration>,
        /// Output folder for findings and the checkpoint.
        #[arg(long, default_value = "findings")]
        out: PathBuf,
        /// Allowlist of known signatures (TOML, each with a reason).
        #[arg(long)]
        allow: Option<PathBuf>,
        /// Write the final statistics as JSON to this file.
        #[arg(long)]
        stats_json: Option<PathBuf>,
        /// Exit with code 1 if the campaign wrote any new finding (for CI gates).
        #[arg(long)]
        fail_on_findings: bool,
        /// A case slower than this becomes a `slow` finding.
        #[arg(long, value_parser = commands::fuzz::parse_duration, default_value = "10s")]
        case_budget: std::time::Duration,
        /// A case still running after this long is kept as a `hang` finding; its worker is
        /// abandoned and replaced, and the campaign goes on.
        #[arg(long, value_parser = commands::fuzz::parse_duration, default_value = "60s")]
        hang_budget: std::time::Duration,
        /// Prover views to compare too, comma-separated: `witness` (each backend's execution
        /// witness must suffice for its own stateless re-execution, and the backends' must
        /// match) and `rw-log` (the ordered read/write operations). Each costs extra
        /// executions.
        #[arg(long, default_value = "", value_name = "VIEWS")]
        prover: String,
        /// After the campaign, rerun its cases observed on the first backend and report which
        /// allowed opcodes and precompiles they executed, the early-halt share and the status
        /// mix (also in --stats-json, under "coverage").
        #[arg(long)]
        coverage: bool,
        /// Run slow backends on a fraction of the cases only, so that the fast ones keep
        /// their pace: `eels=0.05,pyevm=0.2`. Which cases is decided by the seed and the case
        /// index, so a rerun samples the same ones.
        #[arg(long, default_value = "", value_name = "NAME=RATE,..")]
        sample: String,
        /// Do not recognise the known differences that ship with evmdiff
        /// (corpus/allow/, written up in docs/findings.md): report them as new findings.
        #[arg(long)]
        no_known: bool,
    },
    /// Shrink a divergent case (a finding) to the few instructions that make the backends
    /// part, keeping its signature; writes the result as a state test and prints its listing.
    ///
    /// Exit code 0 when a minimized case was written, 2 when the file has no divergence.
    Minimize {
        /// The divergent state-test file.
        case: PathBuf,
        /// Where to write the minimized case (default: CASE with `.min.json`).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// Profile (default: the one the finding records, else mainnet at the case's fork).
        #[arg(long, short)]
        profile: Option<String>,
        /// Comma-separated backends.
        #[arg(long, short, default_value_t = evmdiff::backends::default_list())]
        backends: String,
        /// Keep this divergence signature id (default: the first divergence's).
        #[arg(long)]
        signature: Option<String>,
        /// At most this many trial runs of the case.
        #[arg(long, default_value_t = 20_000)]
        budget: usize,
        /// Prover views to compare while minimizing (`witness`, `rw-log`): needed to keep a
        /// divergence that only a view shows.
        #[arg(long, default_value = "", value_name = "VIEWS")]
        prover: String,
    },
    /// Write generated cases as state tests (the cases `evmdiff fuzz` would run for this seed).
    ///
    /// No backend runs: the `post` section is absent, so replay them with `evmdiff run`.
    Generate {
        /// Profile: a built-in name or a .toml file.
        #[arg(long, short, default_value = "mainnet-cancun")]
        profile: String,
        /// Campaign seed.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// First case index.
        #[arg(long, default_value_t = 0)]
        index: u64,
        /// Number of cases.
        #[arg(long, default_value_t = 1)]
        count: u64,
        /// Output folder (one file per case); stdout when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Benchmark: executions per second of each backend on the same state-test cases
    /// (mainnet profile at each case's fork), rounds interleaved, medians reported.
    Bench {
        /// State-test files or folders (none with --generated).
        #[arg(required_unless_present = "generated")]
        paths: Vec<PathBuf>,
        /// Comma-separated backends.
        #[arg(long, short, default_value_t = evmdiff::backends::default_list())]
        backends: String,
        /// Only cases of this fork.
        #[arg(long)]
        fork: Option<String>,
        /// Timed rounds (the median is reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Benchmark N generated cases (as `evmdiff fuzz` makes them) instead of files, and
        /// also time generation alone and the whole fuzzing pipeline on the same cases.
        #[arg(long)]
        generated: Option<u64>,
        /// Profile for --generated.
        #[arg(long, short, default_value = "mainnet-cancun")]
        profile: String,
        /// Seed for --generated.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
enum ProfilesAction {
    /// Print the rule table of a built-in profile or a profile file.
    Show {
        /// A built-in name (see `evmdiff profiles`) or a path to a .toml file.
        profile: String,
    },
}

/// How `run` prints results.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum OutputFormat {
    /// Side-by-side table.
    Text,
    /// One JSON object per case, one per line.
    Json,
}

/// Worker threads when `--jobs` is not given: one per core.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("evmdiff: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn dispatch(cli: Cli) -> Result<ExitCode> {
    let failed = |b: bool| {
        if b {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    };
    if let Some(file) = &cli.backends_file {
        evmdiff::backends::load_runners(file)?;
    }
    match cli.command {
        Command::Profiles { action: None } => {
            print!("{}", commands::profiles::list());
            Ok(ExitCode::SUCCESS)
        }
        Command::Profiles {
            action: Some(ProfilesAction::Show { profile }),
        } => {
            print!("{}", commands::profiles::show(&profile)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Run {
            cases,
            profile,
            backends,
            format,
            trace,
            prover,
        } => {
            let diverged = commands::run::run(&RunArgs {
                paths: cases,
                profile,
                backends,
                format,
                trace,
                views: evmdiff::views::Views::parse(&prover)?,
            })?;
            Ok(failed(diverged))
        }
        Command::TraceDiff {
            a,
            b,
            ignore,
            context,
        } => {
            let (text, parted) = commands::trace_diff::trace_diff(&a, &b, &ignore, context)?;
            print!("{text}");
            Ok(failed(parted))
        }
        Command::Replay {
            paths,
            backends,
            fork,
            failures,
            jobs,
        } => {
            let fork = fork.map(|f| f.parse::<Fork>()).transpose()?;
            let jobs = jobs.unwrap_or_else(default_jobs);
            let failed_cases = commands::replay::replay(&ReplayArgs {
                paths,
                backends,
                fork,
                failures,
                jobs,
            })?;
            Ok(failed(failed_cases > 0))
        }
        Command::Fuzz {
            fail_on_findings,
            profile,
            backends,
            jobs,
            seed,
            runs,
            time,
            out,
            allow,
            stats_json,
            case_budget,
            hang_budget,
            prover,
            coverage,
            sample,
            no_known,
        } => {
            let jobs = jobs.unwrap_or_else(default_jobs);
            let stats = commands::fuzz::fuzz(&commands::fuzz::FuzzArgs {
                profile,
                backends,
                jobs,
                seed,
                runs,
                time,
                out,
                allow,
                stats_json,
                case_budget,
                hang_budget,
                views: evmdiff::views::Views::parse(&prover)?,
                coverage,
                sample,
                no_known,
            })?;
            let (_, gate) = stats;
            if fail_on_findings && !gate.is_empty() {
                println!("--fail-on-findings: {}", gate.join("; "));
            }
            Ok(failed(fail_on_findings && !gate.is_empty()))
        }
        Command::Minimize {
            case,
            out,
            profile,
            backends,
            signature,
            budget,
            prover,
        } => {
            commands::minimize::minimize(&commands::minimize::MinimizeArgs {
                case,
                out,
                profile,
                backends,
                signature,
                budget,
                views: evmdiff::views::Views::parse(&prover)?,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Generate {
            profile,
            seed,
            index,
            count,
            out,
        } => {
            commands::generate::generate(&commands::generate::GenerateArgs {
                profile,
                seed,
                index,
                count,
                out,
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            paths,
            backends,
            fork,
            rounds,
            generated,
            profile,
            seed,
        } => {
            let fork = fork.map(|f| f.parse::<Fork>()).transpose()?;
            commands::bench::bench(&commands::bench::BenchArgs {
                paths,
                backends,
                fork,
                rounds,
                generated,
                profile,
                seed,
            })?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
