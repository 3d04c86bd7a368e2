//! The differential target: generator bytes -> case under a profile -> the oracle -> panic
//! when it judges a finding (a divergence not allowlisted, a crash, a hang), so libFuzzer
//! keeps the input.
//!
//! Environment: `EVMDIFF_PROFILE` (built-in name or .toml file, default `mainnet-cancun`),
//! `EVMDIFF_BACKENDS` (default: the default set), `EVMDIFF_ALLOW` (an allowlist file, on top
//! of the known differences that ship with evmdiff), `EVMDIFF_PROVER` (prover views,
//! `witness,rw-log`). It runs the same oracle as `evmdiff fuzz` (`evmdiff_oracle::Oracle`),
//! built on the library crates, not on the command line. Without `cfg(fuzzing)` it builds as
//! a plain binary that replays the files given as arguments, so `cargo build` (OSS-Fuzz
//! coverage builds) works on stable.

#![cfg_attr(fuzzing, no_main)]

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use arbitrary::Unstructured;
use evmdiff_core::{Backend, Profile};
use evmdiff_oracle::Oracle;
use evmdiff_oracle::allowlist::Allowlist;
use evmdiff_oracle::views::Views;

struct Target {
    oracle: Oracle,
    backends: Mutex<Vec<Box<dyn Backend>>>,
}

fn env_or_panic<T, E: std::fmt::Display>(var: &str, r: Result<T, E>) -> T {
    r.unwrap_or_else(|e| panic!("{var}: {e}"))
}

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        let name = std::env::var("EVMDIFF_PROFILE").unwrap_or_else(|_| "mainnet-cancun".into());
        let list = std::env::var("EVMDIFF_BACKENDS")
            .unwrap_or_else(|_| evmdiff_oracle::backends::default_list());
        let mut oracle = Oracle::new(env_or_panic("EVMDIFF_PROFILE", Profile::load(&name)));
        let extra = std::env::var("EVMDIFF_ALLOW")
            .ok()
            .map(|p| env_or_panic("EVMDIFF_ALLOW", Allowlist::load(p.as_ref())))
            .unwrap_or_default();
        oracle.allow = Allowlist::shipped().with(extra);
        oracle.views = env_or_panic(
            "EVMDIFF_PROVER",
            Views::parse(&std::env::var("EVMDIFF_PROVER").unwrap_or_default()),
        );
        // libFuzzer's own -timeout decides what is too slow.
        oracle.case_budget = Duration::MAX;
        let backends = env_or_panic("EVMDIFF_BACKENDS", evmdiff_oracle::backends::instantiate(&list));
        Target {
            oracle,
            backends: Mutex::new(backends),
        }
    })
}

/// One input.
pub fn run(data: &[u8]) {
    let t = target();
    let Ok(mut generated) =
        evmdiff_generator::generate(&mut Unstructured::new(data), &t.oracle.profile)
    else {
        return;
    };
    // A generated chain gets real header hashes from revm, as every campaign case does.
    let _ = evmdiff_oracle::seal::seal(&mut generated.case, &t.oracle.profile);
    let mut backends = t.backends.lock().expect("single-threaded target");
    let run = t.oracle.run(&mut backends, &generated.case, None);
    let judgement = t.oracle.judge(&generated.case, &run, None);
    if let Some(f) = judgement.findings.first() {
        panic!(
            "{} {}: {}\n{:#?}\n{}",
            f.identity.kind.name(),
            f.identity.id(),
            f.identity,
            f.divergences,
            f.detail
        );
    }
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| run(data));

#[cfg(not(fuzzing))]
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        run(&data);
        println!("{path}: ok");
    }
}
