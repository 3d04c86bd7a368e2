//! A real campaign's folder for the report tests: revm against evm with the witness view,
//! 500 cases of seed 2 (four signatures, none consensus-visible), and a consensus-visible
//! finding to add to it (evm's lost refund, docs/findings.md #2).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `evmdiff ARGS` from the repository's root.
pub fn evmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// The campaign's folder, `dir/camp`, made with `extra` flags too.
pub fn folder(dir: &Path, extra: &[&str]) -> PathBuf {
    let camp = dir.join("camp");
    let mut args = vec![
        "fuzz",
        "-b",
        "revm,evm",
        "--prover",
        "witness",
        "--no-known",
        "--runs",
        "500",
        "--seed",
        "2",
        "--out",
    ];
    let out = camp.to_str().unwrap().to_string();
    args.push(&out);
    args.extend_from_slice(extra);
    let o = evmdiff(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    camp
}

/// Adds the consensus-visible finding to `camp`.
pub fn add_consensus_bug(camp: &Path) {
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("corpus/regressions/refund_lost_after_selfdestruct_in_create.json"),
        camp.join("divergence-0000000000000001.json"),
    )
    .unwrap();
}
