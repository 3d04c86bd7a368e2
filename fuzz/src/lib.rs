//! What every oracle target does with one input, so that each target file is one line naming
//! its configuration (the `[evmdiff]` section of `corpus/<target>.options`, compiled in).
//!
//! Environment, for local runs only (ClusterFuzz and OSS-Fuzz pass none of it):
//! `EVMDIFF_PROFILE`, `EVMDIFF_BACKENDS`, `EVMDIFF_PROVER` override the options file;
//! `EVMDIFF_ALLOW` adds an allowlist file to the one that ships with evmdiff;
//! `EVMDIFF_FINDINGS` is a folder each finding is also written to as an evmdiff finding file
//! (what `evmdiff campaign` collects); `EVMDIFF_MUTATOR=structure` turns the structure-aware
//! mutator on (libFuzzer's own mutations otherwise). The panic message names the replay
//! command.

use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use evmdiff_oracle::allowlist::Allowlist;
use evmdiff_oracle::finding::Finding;
use evmdiff_oracle::fuzz_target::{Target, TargetConfig};

fn or_exit<T, E: std::fmt::Display>(r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| {
        // A configuration error is not a finding: say it once and stop, without a crash input.
        eprintln!("evmdiff fuzz target: {e}");
        std::process::exit(2)
    })
}

/// The target `name`, made on the first input.
fn target(name: &str) -> &'static Mutex<Target> {
    static T: OnceLock<Mutex<Target>> = OnceLock::new();
    T.get_or_init(|| {
        let config = or_exit(TargetConfig::builtin(name)).with_env();
        let extra = std::env::var("EVMDIFF_ALLOW")
            .ok()
            .map(|p| or_exit(Allowlist::load(p.as_ref())))
            .unwrap_or_default();
        Mutex::new(or_exit(Target::new(config, extra)))
    })
}

/// Runs one input of target `name`; panics on a finding (a divergence not allowlisted, a
/// backend crash), so libFuzzer keeps the input.
pub fn run(name: &str, data: &[u8]) {
    let mut t = target(name).lock().unwrap_or_else(|e| e.into_inner());
    match &mut *t {
        Target::Cases(h) => {
            let Some(case) = h.case(data) else {
                return;
            };
            let run = h.run(&case);
            let judgement = h.judge(&case, &run, data);
            if let Some(f) = judgement.findings.first() {
                report(f, &h.config);
            }
        }
        Target::Precompiles(h) => {
            let Some(call) = h.call(data) else {
                return;
            };
            let results = h.run(&call);
            if let Some(f) = h.judge(&call, &results, data) {
                report(&f.finding(), &h.config);
            }
        }
    }
}

/// The case targets' libFuzzer mutator. By default libFuzzer's own mutation: the
/// structure-aware one (whole actions and transactions edited two times in three,
/// `evmdiff_oracle::mutator`) did not find more per hour in the measurements
/// (docs/performance.md, "The structure-aware mutator"), so it runs only under
/// `EVMDIFF_MUTATOR=structure`, for local campaigns and further measurement.
#[cfg(fuzzing)]
pub fn mutate(name: &str, data: &mut [u8], size: usize, max_size: usize, seed: u32) -> usize {
    static STRUCTURE: OnceLock<bool> = OnceLock::new();
    let structure = *STRUCTURE.get_or_init(|| match std::env::var("EVMDIFF_MUTATOR") {
        Err(_) => false,
        Ok(m) => or_exit(match m.as_str() {
            "structure" => Ok(true),
            "bytes" => Ok(false),
            other => Err(format!(
                "EVMDIFF_MUTATOR={other}: not a mutator (structure, or bytes: libFuzzer's own)"
            )),
        }),
    });
    // libFuzzer's own also when it shrinks an input (`size` above `max_size`).
    if !structure || size > max_size {
        return libfuzzer_sys::fuzzer_mutate(data, size, max_size);
    }
    let spans = match &*target(name).lock().unwrap_or_else(|e| e.into_inner()) {
        Target::Cases(h) => h.spans(&data[..size]),
        Target::Precompiles(_) => Vec::new(),
    };
    if spans.is_empty() {
        return libfuzzer_sys::fuzzer_mutate(data, size, max_size);
    }
    let out = evmdiff_oracle::mutator::mutate(
        &data[..size],
        &spans,
        max_size,
        seed,
        &mut |buf, size, max| libfuzzer_sys::fuzzer_mutate(buf, size, max),
    );
    data[..out.len()].copy_from_slice(&out);
    out.len()
}

/// Writes `f` where `EVMDIFF_FINDINGS` says, then panics with it and the replay command.
fn report(f: &Finding<'_>, config: &TargetConfig) -> ! {
    let saved = std::env::var_os("EVMDIFF_FINDINGS")
        .map(PathBuf::from)
        .map(|dir| match f.write(&dir) {
            Ok(p) => format!("finding written to {}\n", p.display()),
            Err(e) => format!("the finding could not be written: {e}\n"),
        })
        .unwrap_or_default();
    panic!(
        "evmdiff {} {}: {}\n{:#?}\n{}\n{saved}replay: {}",
        f.identity.kind.name(),
        f.identity.id(),
        f.identity,
        f.divergences,
        f.detail,
        config.replay_command("<crash input>")
    );
}

/// The plain build's `main` (no libFuzzer: `cargo build`, OSS-Fuzz's coverage runs): runs
/// each file given as an argument, as the fuzzing build would.
pub fn main(name: &str) {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        run(name, &data);
        println!("{path}: ok");
    }
}

/// A target's source: `evmdiff_fuzz::target!("differential");`.
#[macro_export]
macro_rules! target {
    ($name:literal) => {
        #[cfg(fuzzing)]
        libfuzzer_sys::fuzz_target!(|data: &[u8]| $crate::run($name, data));

        #[cfg(fuzzing)]
        libfuzzer_sys::fuzz_mutator!(|data: &mut [u8], size: usize, max_size: usize, seed: u32| {
            $crate::mutate($name, data, size, max_size, seed)
        });

        #[cfg(not(fuzzing))]
        fn main() {
            $crate::main($name)
        }
    };
}
