//! The differential target: generator bytes -> case under a profile -> every backend ->
//! panic on a divergence that is not allowlisted, so libFuzzer keeps the input.
//!
//! Environment: `EVMDIFF_PROFILE` (built-in name or .toml file, default `mainnet-cancun`),
//! `EVMDIFF_BACKENDS` (default `revm,evm`), `EVMDIFF_ALLOW` (an allowlist file).
//! It is a thin wrapper over the same code path as `evmdiff fuzz` (`evmdiff::execute::run_case_localized`).
//! Without `cfg(fuzzing)` it builds as a plain binary that replays the files given as
//! arguments, so `cargo build` (OSS-Fuzz coverage builds) works on stable.

#![cfg_attr(fuzzing, no_main)]

use std::sync::OnceLock;

use arbitrary::Unstructured;
use evmdiff::allowlist::Allowlist;
use evmdiff::execute::run_case_localized;
use evmdiff_core::{Backend, Profile};
use evmdiff_triage::signature::signature;

struct Target {
    profile: Profile,
    backends: std::sync::Mutex<Vec<Box<dyn Backend>>>,
    allow: Allowlist,
}

fn target() -> &'static Target {
    static T: OnceLock<Target> = OnceLock::new();
    T.get_or_init(|| {
        let name = std::env::var("EVMDIFF_PROFILE").unwrap_or_else(|_| "mainnet-cancun".into());
        let list = std::env::var("EVMDIFF_BACKENDS").unwrap_or_else(|_| evmdiff::backends::default_list());
        let profile = Profile::load(&name).unwrap_or_else(|e| panic!("EVMDIFF_PROFILE: {e}"));
        let backends = evmdiff::backends::instantiate(&list).unwrap_or_else(|e| panic!("EVMDIFF_BACKENDS: {e}"));
        let allow = std::env::var("EVMDIFF_ALLOW").ok().map(|p| Allowlist::load(p.as_ref()).unwrap_or_else(|e| panic!("EVMDIFF_ALLOW: {e}"))).unwrap_or_default();
        Target { profile, backends: std::sync::Mutex::new(backends), allow }
    })
}

/// One input.
pub fn run(data: &[u8]) {
    let t = target();
    let Ok(generated) = evmdiff_generator::generate(&mut Unstructured::new(data), &t.profile) else { return };
    let mut backends = t.backends.lock().expect("single-threaded target");
    let run = run_case_localized(&mut backends, &generated.case, &t.profile);
    for e in &run.executions {
        if let Err(evmdiff_core::BackendError::Failed(msg)) = &e.result {
            panic!("{} crashed: {msg}", e.backend);
        }
    }
    for d in &run.divergences {
        let sig = signature(d, &t.profile.name);
        if t.allow.reason(&sig).is_none() {
            panic!("divergence {}: {sig}\n{:#?}", sig.id(), d.differences);
        }
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
