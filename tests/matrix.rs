//! `evmdiff matrix`: the conformance matrix on the command line, its three formats, its exit
//! codes, and the case files of differing cells, which replay under the profile they record.

use std::path::Path;
use std::process::{Command, Output};

use evmdiff::matrix_report::write_cases;
use evmdiff_adapters::Registry;
use evmdiff_conformance::matrix;
use evmdiff_conformance::planted::IgnoresProfile;
use evmdiff_core::{Backend, Profile};
use serde_json::Value;

fn evmdiff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn matrix_json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["matrix", "--format", "json"];
    all.extend_from_slice(args);
    let out = evmdiff(dir, &all);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The state of every cell of `backend`.
fn states<'a>(m: &'a Value, backend: &str) -> Vec<&'a str> {
    m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cells"][backend]["state"].as_str().unwrap())
        .collect()
}

#[test]
fn eip7530_b_behaves_on_the_in_process_backends_in_all_six_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_json(
        dir.path(),
        &["--profile", "eip7530-b", "-b", "revm,evm,levm"],
    );
    assert_eq!(m["label"], "Shanghai+eip7530-b");
    let rows = m["rows"].as_array().unwrap();
    // PREVRANDAO and the seven precompiles the profile turns into revert-refund.
    assert_eq!(rows.len(), 8);
    assert_eq!(rows[0]["rule"], "PREVRANDAO (0x44)");
    for b in ["revm", "evm", "levm"] {
        assert!(states(&m, b).iter().all(|s| *s == "behaves"), "{b}: {m}");
    }
    let contexts = rows[1]["cells"]["revm"]["contexts"].as_object().unwrap();
    assert_eq!(contexts.len(), 6);
    assert!(contexts.values().all(|c| c["verdict"] == "behaves"));
    // Nothing differs, so no case is written.
    assert!(!dir.path().join("matrix-cases").exists());
}

#[test]
fn scroll_says_who_sits_out_and_why() {
    let dir = tempfile::tempdir().unwrap();
    let m = matrix_json(dir.path(), &["--profile", "scroll", "-b", "revm,evm"]);
    assert!(states(&m, "revm").iter().all(|s| *s == "behaves"));
    assert!(states(&m, "evm").iter().all(|s| *s == "sits out"));
    let evm = &m["backends"][1];
    assert_eq!(evm["name"], "evm");
    assert!(evm["sits_out"].as_str().unwrap().contains("Osaka"), "{evm}");
}

#[test]
fn markdown_and_html_name_every_rule() {
    let dir = tempfile::tempdir().unwrap();
    let md = evmdiff(
        dir.path(),
        &["matrix", "--profile", "polygon-zkevm", "-b", "revm"],
    );
    assert_eq!(md.status.code(), Some(0));
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(md.contains("| rule | the profile says | revm |"), "{md}");
    for rule in [
        "BASEFEE (0x48)",
        "0x100 p256verify-rip7212",
        "a length of 1025",
    ] {
        assert!(md.contains(rule), "{rule}: {md}");
    }
    let out = evmdiff(
        dir.path(),
        &[
            "matrix",
            "--profile",
            "polygon-zkevm",
            "-b",
            "revm",
            "--format",
            "html",
            "-o",
            "m.html",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let html = std::fs::read_to_string(dir.path().join("m.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<table"));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "self-contained"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["matrix", "--profile", "no-such-profile"],
        vec!["matrix", "--profile", "scroll", "-b", "no-such-backend"],
    ] {
        let out = evmdiff(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    std::fs::write(
        dir.path().join("bad.toml"),
        "name = \"x\"\nbase_fork = \"Nope\"\n",
    )
    .unwrap();
    let out = evmdiff(dir.path(), &["matrix", "--profile", "bad.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml"));
}

/// A backend that ignores the profile differs in every context; each differing probe is
/// written as a state test expecting what revm (which behaves) did, filed under the profile's
/// label with its rules, and `evmdiff replay` checks it from another folder under that
/// profile: revm passes it; the same file expecting another root fails.
#[test]
fn differing_cells_become_state_tests_that_replay_under_the_profile() {
    let registry = Registry::builtin();
    let profile = Profile::load("eip7530-b").unwrap();
    let mut backends: Vec<Box<dyn Backend>> = vec![
        registry.make("revm").unwrap(),
        Box::new(IgnoresProfile(registry.make("revm").unwrap())),
    ];
    let m = matrix::run(&profile, &mut backends, |_, _| {});
    assert_eq!(m.differing(), m.rows.len());
    let dir = tempfile::tempdir().unwrap();
    let files = write_cases(&m, &dir.path().join("cases")).unwrap();
    assert_eq!(files.len(), m.rows.len() * 6);
    let elsewhere = tempfile::tempdir().unwrap();
    for path in files.values().take(12) {
        let test: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let (_, t) = test.as_object().unwrap().iter().next().unwrap();
        assert!(t["post"]["Shanghai+eip7530-b"].is_array(), "{path}");
        assert!(t["_info"]["evmdiff"]["profile_toml"].is_string());
        let out = evmdiff(elsewhere.path(), &["replay", "--backends", "revm", path]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{path}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let path = files.values().next().unwrap();
    let mut test: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let t = test.as_object_mut().unwrap().values_mut().next().unwrap();
    t["post"]["Shanghai+eip7530-b"][0]["hash"] = Value::String(format!("0x{}", "11".repeat(32)));
    let tampered = elsewhere.path().join("tampered.json");
    std::fs::write(&tampered, test.to_string()).unwrap();
    let out = evmdiff(
        elsewhere.path(),
        &["replay", "--backends", "revm", tampered.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1), "a wrong expectation fails");
}
