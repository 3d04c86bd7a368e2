//! The `evmdiff` command as a user runs it: exit codes and one-line errors naming the problem.

use std::path::PathBuf;
use std::process::{Command, Output};

fn evmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn fixture(rel: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/ethereum-tests/GeneralStateTests")
        .join(rel);
    p.to_string_lossy().into_owned()
}

#[test]
fn profiles_lists_every_builtin() {
    let o = evmdiff(&["profiles"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    for name in evmdiff_core::profile::builtin_names() {
        assert!(out.contains(name), "{name} missing from:\n{out}");
    }
}

#[test]
fn profiles_show_prints_the_rules() {
    let o = evmdiff(&["profiles", "show", "eip7530-b"]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("base fork  Shanghai"), "{out}");
    assert!(out.contains("sha256               revert-refund"), "{out}");
    assert!(out.contains("0x44 PREVRANDAO     constant 0x0"), "{out}");
}

#[test]
fn a_bad_profile_file_is_refused_with_file_line_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\nbase_fork = \"Shanghai\"\n[opcodes]\nTLOAD = \"invalid\"\n",
    )
    .unwrap();
    let o = evmdiff(&["profiles", "show", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "evmdiff: {}:4: opcode TLOAD does not exist in base fork Shanghai: a rule for it has nothing to change",
            path.display()
        )
    );
}

#[test]
fn unknown_names_exit_2_with_one_line() {
    let case = fixture("stExample/add11.json");
    let dir = tempfile::tempdir().unwrap();
    let bad_runners = dir.path().join("runners.toml");
    std::fs::write(&bad_runners, "[[runner]]\nname = \"x\"\n").unwrap();
    let bad_runners = bad_runners.to_string_lossy().into_owned();
    for (args, needle) in [
        (
            vec!["run", case.as_str(), "--profile", "nope"],
            "unknown profile `nope`",
        ),
        (
            vec!["run", case.as_str(), "--backends", "geth"],
            "unknown backend `geth` (available: revm, evm, levm, eels, ethereumjs, pyevm;",
        ),
        (
            vec![
                "fuzz",
                "--backends",
                "revm,evm",
                "--sample",
                "eels=0.1",
                "--runs",
                "1",
            ],
            "--sample: `eels` is not one of --backends (revm,evm)",
        ),
        (
            vec!["--backends-file", bad_runners.as_str(), "profiles"],
            "runners.toml: line 1: missing field `command`",
        ),
        (
            vec!["replay", case.as_str(), "--fork", "Venus"],
            "unknown fork `Venus`",
        ),
        (
            vec!["run", "/no/such/file.json"],
            "/no/such/file.json: no such file or folder",
        ),
    ] {
        let o = evmdiff(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains(needle), "{args:?}: {e}");
    }
}

#[test]
fn malformed_json_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{\n  \"t\": {\n").unwrap();
    let o = evmdiff(&["run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(&format!("evmdiff: {}:3:0: invalid JSON", path.display())),
        "{}",
        stderr(&o)
    );
}

#[test]
fn run_exit_codes_follow_the_verdict() {
    // Both backends agree with each other and with the file.
    let o = evmdiff(&["run", &fixture("stExample/add11.json")]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("verdict: agree"));
    // The known evm bug of docs/findings.md.
    let regression =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/regressions/codecopy_msize.json");
    let o = evmdiff(&["run", regression.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verdict: DIVERGENCE"));
    // evm stops with a fatal error on a CREATE of 2^88 bytes (docs/backends.md): a failure.
    let o = evmdiff(&[
        "run",
        &fixture("stSystemOperationsTest/createNameRegistratorOOG_MemExpansionOOV.json"),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("backend failure"));
}

#[test]
fn run_json_prints_one_object_per_case() {
    let o = evmdiff(&["run", "--format", "json", &fixture("stExample/add11.json")]);
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    for v in lines {
        assert_eq!(v["verdict"], "agree");
        // One execution per default backend (revm, evm, levm).
        assert_eq!(
            v["executions"].as_array().unwrap().len(),
            evmdiff_adapters::IN_PROCESS.len()
        );
        assert_eq!(v["executions"][0]["expected"], "pass");
    }
}

#[test]
fn unknown_prover_views_and_trace_fields_exit_2_with_one_line() {
    let case =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/regressions/codecopy_msize.json");
    let o = evmdiff(&["run", case.to_str().unwrap(), "--prover", "witness,proof"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("unknown prover view `proof`"), "{err}");
    let o = evmdiff(&["trace-diff", "a", "b", "--ignore", "colour"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown field `colour`"),
        "{}",
        stderr(&o)
    );
    let o = evmdiff(&["trace-diff", "/nonexistent/a.jsonl", "/nonexistent/b.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/a.jsonl"),
        "{}",
        stderr(&o)
    );
}
