//! `evmdiff check BACKEND...`: what a team runs first when it plugs its EVM in. Starts each
//! backend and reports its handshake, replays the shared fixtures at the forks it declares,
//! runs the conformance scenarios of the profiles it can run, times a round trip, and ends
//! with a table saying whether each backend is fit to fuzz.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use evmdiff_conformance::Scenario;
use evmdiff_conformance::fixture::{REPRESENTATIVE, TOO_SLOW_FOR_PYTHON, general_state_tests};
use evmdiff_conformance::{Floor, Tally, conform, scenarios, spread};
use evmdiff_core::expect::check;
use evmdiff_core::statetest::{json_files, read_file, write_case};
use evmdiff_core::{Backend, Capabilities, Case, Profile, Status};

use crate::backends;
use crate::write::atomic_write;

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

/// Passes, failures and sit-outs, with the first failure.
#[derive(Debug, Default)]
struct Count {
    passed: usize,
    failed: usize,
    out: usize,
    first: Option<(String, Case, String)>,
    /// Every failure's name and first line (scenarios only: fixtures can fail by thousands).
    failures: Vec<(String, String)>,
    /// Scenarios passed but for the halt class (`other`, which the protocol allows, or another
    /// one: the fuzzer's comparison only notes a halt class).
    halt_class_untold: usize,
    /// The backend's outcomes cannot be checked against the scenarios.
    not_checkable: bool,
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

/// What the backend declares: forks, steps, native profiles.
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
    format!(
        "{} {}, {place}, {forks}, {steps}, {} native profile(s)",
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

/// Replays `files` at the forks the backend declares.
fn replay_fixtures(
    name: &str,
    caps: &Capabilities,
    files: &[PathBuf],
    threads: usize,
) -> Result<(Count, Result<(), String>)> {
    let files: Vec<PathBuf> = files
        .iter()
        .filter(|p| {
            caps.in_process
                || !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| TOO_SLOW_FOR_PYTHON.contains(&n))
        })
        .cloned()
        .collect();
    let forks = caps.forks.clone();
    let mut skipped_forks = 0usize;
    let (walk, tallies) = spread(
        &files,
        threads,
        |c| forks.contains(&c.fork),
        || backends::instantiate(name).expect("checked").remove(0),
        |backend, file, case, acc: &mut (Tally, Option<(String, Case, String)>)| {
            let result = backend
                .execute(case, &Profile::mainnet(case.fork))
                .map(|o| check(case, &o));
            let before = acc.0.failed.len();
            acc.0.count(file, case, result);
            if acc.0.failed.len() > before && acc.1.is_none() {
                let why = acc
                    .0
                    .failed
                    .last()
                    .map(|(_, w)| w.clone())
                    .unwrap_or_default();
                acc.1 = Some((case.name.clone(), case.clone(), why));
            }
        },
    )
    .map_err(anyhow::Error::msg)?;
    let mut tally = Tally {
        walk,
        ..Tally::default()
    };
    let mut first = None;
    for (t, f) in tallies {
        tally.merge(t);
        if first.is_none() {
            first = f;
        }
    }
    tally.failed.sort();
    // Cases of forks it does not declare were not read into the tally: count them apart.
    for path in &files {
        if let Ok(file) = read_file(path) {
            skipped_forks += file
                .cases
                .iter()
                .filter(|c| !forks.contains(&c.fork))
                .count();
        }
    }
    let unsupported: usize = tally.unsupported.values().sum();
    let count = Count {
        passed: tally.passed,
        failed: tally.failed.len(),
        out: unsupported + skipped_forks,
        first,
        failures: Vec::new(),
        halt_class_untold: 0,
        not_checkable: false,
    };
    let floor = match Floor::of(name) {
        // A shipped backend holds its own floor (its known failures are explained).
        Some(f) => f.judge(&tally, false),
        None => {
            let ran = count.passed + count.failed;
            if ran == 0 {
                Err("no fixture case ran".into())
            } else if count.failed * 100 > ran {
                Err(format!(
                    "{} of {ran} cases fail (more than 1%)",
                    count.failed
                ))
            } else {
                Ok(())
            }
        }
    };
    Ok((count, floor))
}

/// Runs every conformance scenario whose profile the backend can run.
fn run_scenarios(name: &str) -> Result<Count> {
    let mut backend = backends::instantiate(name)?.remove(0);
    let caps = backend.capabilities();
    let mut count = Count::default();
    let mut scope_checked = false;
    for s in scenarios() {
        let Ok(profile) = s.profile() else {
            continue;
        };
        if caps.sits_out(&profile).is_some() {
            count.out += 1;
            continue;
        }
        if !scope_checked {
            scope_checked = true;
            // A state-test runner answers with a root, an output and a kind of ending only:
            // the scenarios' gas, refunds and storage cannot be checked on it.
            if let Ok(o) = backend.execute(&s.case(), &profile)
                && !o.scope.is_full()
            {
                count.out = scenarios().len();
                count.not_checkable = true;
                return Ok(count);
            }
        }
        match conform(backend.as_mut(), &s) {
            Ok(()) => count.passed += 1,
            Err(_) if only_halt_class_untold(backend.as_mut(), &s, &profile) => {
                count.passed += 1;
                count.halt_class_untold += 1;
            }
            Err(why) => {
                count.failed += 1;
                let line = why.lines().next().unwrap_or_default();
                let line = line.split_once(": ").map_or(line, |(_, rest)| rest);
                count.failures.push((s.name.to_string(), line.to_string()));
                if count.first.is_none() {
                    count.first = Some((s.name.to_string(), s.case(), why));
                }
            }
        }
    }
    Ok(count)
}

/// True when the backend's outcome on `s` differs from the expectation only in the halt
/// class (`other`, or another one: a halt class is compared as a note only, since
/// implementations classify some halts their own way).
fn only_halt_class_untold(backend: &mut dyn Backend, s: &Scenario, profile: &Profile) -> bool {
    let case = s.case();
    let Ok(mut o) = backend.execute(&case, profile) else {
        return false;
    };
    if !matches!(o.status, Status::Halt(_)) || !matches!(s.expect.status, Status::Halt(_)) {
        return false;
    }
    o.status = s.expect.status;
    s.expect.mismatches(&case, &o).is_empty()
}

/// Writes a failing case as a one-case state test: `OUT/BACKEND-WHAT.json`.
fn write_first(out: &Path, name: &str, what: &str, label: &str, case: &Case) -> Result<PathBuf> {
    let path = out.join(format!("{name}-{what}.json"));
    let test = write_case(
        case,
        &label.replace('/', "_"),
        &format!("first failing {what} of `evmdiff check {name}`"),
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
