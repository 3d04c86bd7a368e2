//! `evmdiff check BACKEND...`: what a team runs first when it plugs its EVM in. Starts each
//! backend and reports its handshake, replays the shared fixtures at the forks it declares,
//! runs the conformance scenarios of the profiles it can run, times a round trip, and ends
//! with a table saying whether each backend is fit to fuzz.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use evmdiff_conformance::fixture::{REPRESENTATIVE, general_state_tests};
use evmdiff_core::statetest::{json_files, read_file, write_case};
use evmdiff_core::{Backend, Capabilities, Case, Profile};

use crate::backends;
use crate::write::atomic_write;

mod fixtures;
mod scenarios;

use fixtures::{Count, replay_fixtures};
use scenarios::run_scenarios;

/// Check that a backend is fit to fuzz: start it and report its handshake, replay the
/// ethereum/tests fixtures at the forks it declares, run the conformance scenarios of the
/// profiles it can run, time a round trip; then one table for all the backends.
///
/// A backend is fit when it starts, passes at least 99% of the fixture cases it runs (or
/// holds its floor, for a backend evmdiff ships), and fails no conformance scenario. The first
/// failing fixture case and scenario of each backend are written as state tests into --out.
/// Exit 0 when every backend is fit, 1 when one is not, 2 on bad input (an unknown backend,
/// a malformed backends file).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Backends to check (names from `evmdiff --help`, or declared in --backends-file).
    #[arg(required = true, value_delimiter = ',')]
    pub backends: Vec<String>,
    /// Fixture files or folders to replay (default: a representative set of the shared
    /// GeneralStateTests: every status, CREATE, precompiles, refunds, access lists, EIP-1559,
    /// Cancun's opcodes).
    #[arg(long, value_name = "PATH")]
    pub fixtures: Vec<PathBuf>,
    /// Where the first failing case of each backend is written.
    #[arg(long, default_value = "check-failures")]
    pub out: PathBuf,
    /// Worker threads for the fixture replay.
    #[command(flatten)]
    pub jobs: super::options::JobsOpt,
}

/// What checking one backend found.
struct Report {
    name: String,
    handshake: Result<String, String>,
    fixtures: Count,
    fixtures_floor: Result<(), String>,
    scenarios: Count,
    round_trip: Option<Duration>,
}

impl Report {
    fn fit(&self) -> bool {
        self.handshake.is_ok()
            && self.fixtures.passed > 0
            && self.fixtures_floor.is_ok()
            && self.scenarios.failed == 0
    }
}

/// Runs the checks and prints the table.
pub fn run(args: &Args) -> Result<ExitCode> {
    // Bad input first: every name must make a backend.
    for name in &args.backends {
        backends::instantiate(name)?;
    }
    let files = fixture_files(&args.fixtures)?;
    let mut reports = Vec::new();
    for name in &args.backends {
        let report = check_backend(name, &files, args)?;
        reports.push(report);
    }
    println!();
    println!(
        "{:<16} {:<10} {:>24} {:>24} {:>11}  fit to fuzz",
        "backend", "starts", "fixtures pass/fail/unsup", "scenarios pass/fail/out", "round trip"
    );
    for r in &reports {
        let trip = r.round_trip.map_or("-".to_string(), |d| {
            format!("{:.2} ms", d.as_secs_f64() * 1e3)
        });
        println!(
            "{:<16} {:<10} {:>24} {:>24} {:>11}  {}",
            r.name,
            if r.handshake.is_ok() { "yes" } else { "no" },
            format!(
                "{}/{}/{}",
                r.fixtures.passed, r.fixtures.failed, r.fixtures.out
            ),
            format!(
                "{}/{}/{}",
                r.scenarios.passed, r.scenarios.failed, r.scenarios.out
            ),
            trip,
            if r.fit() { "yes" } else { "NO" }
        );
    }
    Ok(crate::cli::exit(reports.iter().any(|r| !r.fit())))
}

/// The fixture files: the given paths, else the representative set.
fn fixture_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let roots: Vec<PathBuf> = if paths.is_empty() {
        let root = general_state_tests();
        REPRESENTATIVE.iter().map(|d| root.join(d)).collect()
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in &roots {
        files.extend(json_files(root).with_context(|| format!("{}", root.display()))?);
    }
    if files.is_empty() {
        bail!("no fixture file under {}", roots[0].display());
    }
    Ok(files)
}

fn check_backend(name: &str, files: &[PathBuf], args: &Args) -> Result<Report> {
    println!("== {name}");
    let mut backend = backends::instantiate(name)?.remove(0);
    let caps = backend.capabilities();
    let started = Instant::now();
    let handshake = backend.handshake().map_err(|e| e.to_string());
    match &handshake {
        Ok(h) => println!(
            "  starts        yes, in {:.2} s: {h}",
            started.elapsed().as_secs_f64()
        ),
        Err(e) => println!("  starts        NO: {}", first_lines(e, 6)),
    }
    println!("  declares      {}", declared(&caps, backend.as_ref()));
    if let Some(why) = caps.sits_out(&Profile::mainnet(evmdiff_core::Fork::Cancun)) {
        println!("  note          it sits out plain Cancun: {why}");
    }
    let mut report = Report {
        name: name.to_string(),
        handshake,
        fixtures: Count::default(),
        fixtures_floor: Ok(()),
        scenarios: Count::default(),
        round_trip: None,
    };
    if report.handshake.is_err() {
        return Ok(report);
    }
    report.round_trip = round_trip(backend.as_mut());
    drop(backend);
    let (fixtures, floor) = replay_fixtures(name, &caps, files, args.jobs.get())?;
    report.fixtures = fixtures;
    report.fixtures_floor = floor;
    let f = &report.fixtures;
    println!(
        "  fixtures      {} passed, {} failed, {} not run (forks it does not declare or \
         unsupported){}",
        f.passed,
        f.failed,
        f.out,
        match &report.fixtures_floor {
            Ok(()) => String::new(),
            Err(e) => format!("; {}", first_lines(e, 4)),
        }
    );
    report.scenarios = run_scenarios(name)?;
    let s = &report.scenarios;
    if s.not_checkable {
        println!(
            "  scenarios     not checkable: its outcomes hold a state root, an output and a \
             kind of ending only (a state-test runner), not the gas and storage they expect"
        );
    } else {
        println!(
            "  scenarios     {} passed, {} failed, {} sat out (a fork or a rule it cannot run)",
            s.passed, s.failed, s.out
        );
        if s.halt_class_untold > 0 {
            println!(
                "    {} of the passes halt where expected with another halt class (or `other`): \
                 a halt class is compared as a note only",
                s.halt_class_untold
            );
        }
    }
    for (name, why) in s.failures.iter().take(12) {
        println!("    failed: {name}: {why}");
    }
    if s.failures.len() > 12 {
        println!("    ... and {} more", s.failures.len() - 12);
    }
    for (what, count) in [
        ("fixture", &report.fixtures),
        ("scenario", &report.scenarios),
    ] {
        if let Some((label, case, why)) = &count.first {
            let path = write_first(&args.out, name, what, label, case)?;
            println!(
                "  first failing {what}: {label}: {}\n    written to {}",
                first_lines(why, 3),
                path.display()
            );
        }
    }
    if let Some(d) = report.round_trip {
        println!(
            "  round trip    {:.2} ms (median of {ROUND_TRIPS} runs of stExample/add11)",
            d.as_secs_f64() * 1e3
        );
    }
    println!(
        "  fit to fuzz   {}",
        if report.fit() { "yes" } else { "NO" }
    );
    Ok(report)
}

/// What the backend declares: forks, steps, chains, native profiles.
fn declared(caps: &Capabilities, backend: &dyn Backend) -> String {
    let forks = match (caps.forks.first(), caps.forks.last()) {
        (Some(a), Some(b)) => format!("forks {a}..{b} ({} forks)", caps.forks.len()),
        _ => "no fork".into(),
    };
    let steps = match (caps.steps, caps.in_process) {
        (false, _) => "no steps",
        (true, true) => "steps (live)",
        (true, false) => "steps (recorded)",
    };
    let place = if caps.in_process {
        "in process"
    } else {
        "external"
    };
    let chains = if caps.chains {
        "chains"
    } else {
        "single transactions only"
    };
    format!(
        "{} {}, {place}, {forks}, {steps}, {chains}, {} native profile(s)",
        backend.name(),
        backend.version(),
        caps.native.len()
    )
}

/// Runs the round-trip case: at least once, to see the backend answer.
const ROUND_TRIPS: usize = 21;

/// The median time of one execution of a small fixture case.
fn round_trip(backend: &mut dyn Backend) -> Option<Duration> {
    let file = general_state_tests().join("stExample/add11.json");
    let case = read_file(&file).ok()?.cases.into_iter().next()?;
    let profile = Profile::mainnet(case.fork);
    let mut times = Vec::new();
    for _ in 0..ROUND_TRIPS {
        let t = Instant::now();
        backend.execute(&case, &profile).ok()?;
        times.push(t.elapsed());
    }
    times.sort();
    times.get(times.len() / 2).copied()
}

/// Writes a failing case as a one-case state test: `OUT/BACKEND-WHAT.json`.
fn write_first(out: &Path, name: &str, what: &str, label: &str, case: &Case) -> Result<PathBuf> {
    let path = out.join(format!("{name}-{what}.json"));
    let test = write_case(
        case,
        &label.replace('/', "_"),
        &format!("first failing {what} of `evmdiff check {name}`"),
        case.fork.name(),
    );
    let text = serde_json::to_string_pretty(&test)?;
    atomic_write(&path, text.as_bytes())?;
    Ok(path)
}

/// The first `n` lines of `text`.
fn first_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().take(n).collect();
    lines.join("\n    ")
}
