//! The execution spec's own checks, shared by the test files that hand it what evmdiff wrote.
//! Needs `scripts/setup-external.sh` (the README's test command runs it).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The execution spec's installed `program`, or a failure that says how to install it.
pub fn program(program: &str) -> PathBuf {
    let p = root().join(".external/eels/bin").join(program);
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup-external.sh (the README's test command does)",
        p.display()
    );
    p
}

/// The spec's block validation (`scripts/eels_blockchaintest.py`: every header against its
/// parent, every root) passes every BlockchainTest of `files`.
pub fn validates_blockchain_tests(files: &[impl AsRef<Path>]) {
    let out = Command::new(program("python3"))
        .arg(root().join("scripts/eels_blockchaintest.py"))
        .args(files.iter().map(AsRef::as_ref))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("PASS")).count(),
        files.len(),
        "{text}"
    );
}
