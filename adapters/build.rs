//! Backend versions from the lock file: the version a backend reports is the one Cargo
//! resolved and built, not a literal that drifts from the pin. Sets `EVMDIFF_VERSION_<CRATE>`
//! for each in-process implementation.

use std::path::PathBuf;

/// The implementations whose versions backends report.
const CRATES: &[&str] = &["revm", "evm", "ethrex-levm"];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    // The workspace's lock; a build from another workspace (the cargo-fuzz one) locks the
    // same versions (CI checks fuzz/Cargo.lock is current).
    let lock = manifest.parent().unwrap_or(&manifest).join("Cargo.lock");
    println!("cargo::rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(&lock).unwrap_or_default();
    for name in CRATES {
        let version = version_of(&text, name).unwrap_or_else(|| {
            println!(
                "cargo::warning=no version of {name} in {}: reported as `unknown`",
                lock.display()
            );
            "unknown".to_string()
        });
        let var = name.to_ascii_uppercase().replace('-', "_");
        println!("cargo::rustc-env=EVMDIFF_VERSION_{var}={version}");
    }
}

/// The version of `name` that `evmdiff-adapters` depends on: named in its dependency list as
/// `name version` when the lock holds several, else the one package of that name.
fn version_of(lock: &str, name: &str) -> Option<String> {
    let packages: Vec<&str> = lock.split("[[package]]").collect();
    let field = |p: &str, key: &str| {
        p.lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .map(|v| v.trim_end_matches('"').to_string())
    };
    let adapters = packages
        .iter()
        .find(|p| field(p, "name").as_deref() == Some("evmdiff-adapters"))?;
    let pinned = adapters.lines().find_map(|l| {
        let dep = l.trim().trim_matches(|c| c == '"' || c == ',');
        dep.strip_prefix(&format!("{name} "))
            .map(|v| v.split(' ').next().unwrap_or(v).to_string())
    });
    pinned.or_else(|| {
        let mut versions = packages
            .iter()
            .filter(|p| field(p, "name").as_deref() == Some(name))
            .filter_map(|p| field(p, "version"));
        let v = versions.next()?;
        versions.next().is_none().then_some(v)
    })
}
