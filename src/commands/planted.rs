//! `evmdiff planted`: the mutation benchmark. How many generated cases evmdiff needs to see
//! each of the bugs planted in revm, measured in one process at revm's speed.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use evmdiff_adapters::revm_backend::Planted;
use evmdiff_core::Profile;
use evmdiff_oracle::fuzz_target::{Cases, case_from};
use evmdiff_oracle::planted::{BugResult, Fixture, Generated, Measurement, measure};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;

use super::options::JobsOpt;
use crate::inputs;
use crate::write::atomic_write;

/// Measure bug-finding power: plant each of evmdiff's planted revm bugs in turn (a wrong
/// operand bound, a forgotten repricing, a missing static check, ... see `--list`) and count
/// the generated cases until evmdiff sees it.
///
/// The campaign's cases (`evmdiff fuzz --profile P --seed S`, cases 0..RUNS) are generated
/// once and run once on plain revm; then every planted revm runs over them. A case shows a
/// bug when the planted revm's outcome or executed steps differ from plain revm's, as they
/// would against any correct EVM. The table gives, per bug, the first case that shows it,
/// what differed there, the first case whose outcome (not only its steps) shows it, and how
/// many cases show it. With --fixtures, each bug also runs over real state tests: how many
/// of those plain revm passes it fails. The control, plain revm against its own recorded
/// runs, must show nothing.
///
/// Exit 0 when the control is clean, 1 when it is not (the measurement is void), 2 on bad
/// input.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The profile the cases are generated under: a built-in name or a profile TOML file.
    #[arg(long, short, default_value = "mainnet-cancun")]
    pub profile: String,
    /// The campaign seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Generated cases (campaign indexes 0..RUNS).
    #[arg(long, default_value_t = 10_000)]
    pub runs: u64,
    /// Measure on these generator inputs instead of a campaign's cases: files or folders of
    /// them, as a cargo-fuzz target's corpus holds them (a libFuzzer campaign's corpus,
    /// `evmdiff generate --raw`), in file-name order. Compares what a coverage-guided
    /// campaign kept with what a generative one ran.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["seed", "runs"])]
    pub inputs: Vec<PathBuf>,
    /// Only these bugs (comma-separated names; default: all of them).
    #[arg(long, value_delimiter = ',')]
    pub bug: Vec<String>,
    /// State-test files or folders to run every bug over too (each case under mainnet at its
    /// own fork).
    #[arg(long, value_name = "PATH")]
    pub fixtures: Vec<PathBuf>,
    /// How the table is written.
    #[arg(long, value_enum, default_value_t = Format::Md)]
    pub format: Format,
    /// Write the table to this file (default: standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// List the planted bugs and exit.
    #[arg(long)]
    pub list: bool,
    /// Worker threads.
    #[command(flatten)]
    pub jobs: JobsOpt,
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A Markdown table.
    Md,
    /// JSON, one object per bug.
    Json,
}

/// Runs the benchmark.
pub fn run(args: &Args) -> Result<ExitCode> {
    if args.list {
        for bug in Planted::ALL {
            println!(
                "{:<34} {:<18} from {:<15} {}",
                bug.name(),
                bug.module().name(),
                bug.first_fork().to_string(),
                bug.describe()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let profile = Profile::load(&args.profile)?;
    let bugs = selected(&args.bug)?;
    if args.runs == 0 && args.fixtures.is_empty() {
        bail!("--runs 0 and no --fixtures: nothing to measure on");
    }
    let fixtures = load_fixtures(&args.fixtures)?;
    let (cases, source) = if args.inputs.is_empty() {
        let cases = (0..args.runs)
            .filter_map(|index| {
                evmdiff_oracle::seal::campaign_case(&profile, args.seed, index)
                    .map(|(_, case)| Generated { index, case })
            })
            .collect();
        (cases, format!("seed {}", args.seed))
    } else {
        let files = inputs::raw_files(&args.inputs)?;
        let mut cases = Vec::new();
        for (index, file) in files.iter().enumerate() {
            let data = std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("{}: cannot read input: {e}", file.display()))?;
            if let Some(case) = case_from(&data, &profile, Cases::Any) {
                cases.push(Generated {
                    index: index as u64,
                    case,
                });
            }
        }
        (cases, format!("{} input file(s)", files.len()))
    };
    eprintln!(
        "evmdiff planted: {} bug(s) and the control over {} generated case(s) of {} ({source}){}",
        bugs.len(),
        cases.len(),
        profile.name,
        if fixtures.is_empty() {
            String::new()
        } else {
            format!(" and {} fixture case(s)", fixtures.len())
        }
    );
    let bar =
        ProgressBar::with_draw_target(Some(bugs.len() as u64 + 1), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} bugs {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let m = measure(
        &profile,
        &cases,
        &fixtures,
        &bugs,
        args.jobs.get(),
        &|r: &BugResult| {
            bar.set_message(name(r).to_string());
            bar.inc(1);
        },
    );
    bar.finish_and_clear();
    let text = match args.format {
        Format::Md => markdown(&m, &profile, &source),
        Format::Json => {
            let seed = args.inputs.is_empty().then_some(args.seed);
            serde_json::to_string_pretty(&to_json(&m, &profile, seed))? + "\n"
        }
    };
    match &args.output {
        Some(path) => {
            atomic_write(path, text.as_bytes())?;
            eprintln!("evmdiff planted: written to {}", path.display());
        }
        None => print!("{text}"),
    }
    eprintln!("evmdiff planted: {}", summary(&m));
    let control = m.bugs.iter().find(|r| r.bug.is_none());
    if control.is_some_and(|c| c.showing > 0 || c.fixtures_failing > 0) {
        eprintln!("evmdiff planted: the control shows differences: the measurement is void");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The bugs named on the command line, or all of them.
fn selected(names: &[String]) -> Result<Vec<Planted>> {
    if names.is_empty() {
        return Ok(Planted::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            Planted::from_name(n).ok_or_else(|| {
                anyhow::anyhow!(
                    "--bug {n}: no planted bug of that name (see `evmdiff planted --list`)"
                )
            })
        })
        .collect()
}

fn load_fixtures(paths: &[PathBuf]) -> Result<Vec<Fixture>> {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    for file in inputs::json_files(paths)? {
        // A fixture evmdiff cannot read (a value past 256 bits, a format it does not know) is
        // no measurement of a bug: counted and named, not fatal.
        let loaded = match inputs::load(&file) {
            Ok(l) => l,
            Err(e) => {
                unreadable.push(format!("{e:#}"));
                continue;
            }
        };
        let stem = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        out.extend(loaded.cases.into_iter().map(|case| Fixture {
            name: format!("{stem}: {}", case.name),
            case,
        }));
    }
    if let Some(first) = unreadable.first() {
        eprintln!(
            "evmdiff planted: {} fixture file(s) skipped, unreadable; the first: {first}",
            unreadable.len()
        );
    }
    Ok(out)
}

fn name(r: &BugResult) -> &'static str {
    r.bug.map_or("control (nothing planted)", Planted::name)
}

/// `detected D of A applicable bugs within N cases; ...`
fn summary(m: &Measurement) -> String {
    let planted: Vec<&BugResult> = m.bugs.iter().filter(|r| r.bug.is_some()).collect();
    let applicable = planted.iter().filter(|r| r.applies()).count();
    let seen = planted.iter().filter(|r| r.first.is_some()).count();
    let mut firsts: Vec<u64> = planted.iter().filter_map(|r| r.first).collect();
    firsts.sort_unstable();
    let median = firsts
        .get(firsts.len() / 2)
        .map_or("-".into(), u64::to_string);
    let mut s = format!(
        "{seen} of {applicable} applicable bugs seen within {} generated cases (median first case {median})",
        m.cases
    );
    if m.fixtures > 0 {
        let by_fixture = planted.iter().filter(|r| r.fixtures_failing > 0).count();
        let _ = write!(
            s,
            "; {by_fixture} of {} fail at least one of {} fixtures",
            planted.len(),
            m.fixtures
        );
    }
    let _ = write!(
        s,
        "; reference {:.1} s, planted runs {:.1} s",
        m.reference_seconds, m.planted_seconds
    );
    s
}

fn markdown(m: &Measurement, profile: &Profile, source: &str) -> String {
    let mut s = format!(
        "Planted bugs in revm: {} generated cases of `{}` ({source})",
        m.cases, profile.name
    );
    if m.fixtures > 0 {
        let _ = write!(s, ", {} fixture cases", m.fixtures);
    }
    s.push_str("\n\n| bug | module | first case | shown as | first in outcome | cases showing |");
    if m.fixtures > 0 {
        s.push_str(" fixtures failing | first fixture |");
    }
    s.push('\n');
    s.push_str("|---|---|---|---|---|---|");
    if m.fixtures > 0 {
        s.push_str("---|---|");
    }
    s.push('\n');
    for r in &m.bugs {
        let module = r.bug.map_or("—", |b| b.module().name());
        let (first, shown, outcome, showing) = if r.applies() {
            (
                r.first.map_or("not seen".into(), |i| i.to_string()),
                r.first_shown_as.clone().unwrap_or_else(|| "—".into()),
                r.first_in_outcome.map_or("—".into(), |i| i.to_string()),
                format!("{} ({:.2}%)", r.showing, pct(r.showing, m.cases)),
            )
        } else {
            (
                format!("n/a: {}", r.sits_out.as_deref().unwrap_or_default()),
                "—".into(),
                "—".into(),
                "—".into(),
            )
        };
        let _ = write!(
            s,
            "| `{}` | {module} | {first} | {shown} | {outcome} | {showing} |",
            name(r)
        );
        if m.fixtures > 0 {
            let _ = write!(
                s,
                " {} | {} |",
                r.fixtures_failing,
                r.first_fixture.as_deref().unwrap_or("—")
            );
        }
        s.push('\n');
    }
    let _ = writeln!(s, "\n{}", summary(m));
    s
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

fn to_json(m: &Measurement, profile: &Profile, seed: Option<u64>) -> serde_json::Value {
    json!({
        "profile": profile.name,
        "seed": seed,
        "cases": m.cases,
        "fixtures": m.fixtures,
        "reference_seconds": m.reference_seconds,
        "planted_seconds": m.planted_seconds,
        "bugs": m.bugs.iter().map(|r| json!({
            "bug": r.bug.map(Planted::name),
            "module": r.bug.map(|b| b.module().name()),
            "first_fork": r.bug.map(|b| b.first_fork().to_string()),
            "applies": r.applies(),
            "sits_out": r.sits_out,
            "first": r.first,
            "first_shown_as": r.first_shown_as,
            "first_in_outcome": r.first_in_outcome,
            "showing": r.showing,
            "fixtures_failing": r.fixtures_failing,
            "first_fixture": r.first_fixture,
        })).collect::<Vec<_>>(),
    })
}
