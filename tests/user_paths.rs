//! What a new user meets first, each behaviour as it should be: a closed pipe, nothing to do,
//! findings that replay from anywhere, checkpoints keyed by the profile's content, the CI
//! gate, known differences, backends that sit a profile out, Ctrl-C and resuming.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn evmdiff_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("binary runs")
}

fn evmdiff(args: &[&str]) -> Output {
    evmdiff_in(Path::new("."), args)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn fixtures(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/ethereum-tests/GeneralStateTests")
        .join(rel)
}

fn files_starting(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix));
    v.sort();
    v
}

fn stats(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        // About 140 KB of tables: more than a pipe holds, so the writer always meets the
        // closed end, however fast it runs.
        .args([
            "run",
            "-b",
            "revm",
            fixtures("stRevertTest").to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The reader is gone (as `| head -1` leaves it).
    let o = child.wait_with_output().unwrap();
    let err = text(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(o.status.code(), Some(141), "{err}");
}

#[test]
fn nothing_to_do_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("empty.json"), "{}").unwrap();
    std::fs::create_dir(dir.path().join("nothing")).unwrap();
    for args in [
        vec!["run", "empty.json"],
        vec!["run", "nothing"],
        vec!["replay", "nothing"],
        vec!["replay", "empty.json"],
    ] {
        let o = evmdiff_in(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains("no "),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
}

/// A custom rollup profile (Cancun, PREVRANDAO 0, SELFDESTRUCT invalid): revm and evm still
/// part on evm's CODECOPY bug under it.
const MY_ROLLUP: &str = "name = \"myrollup\"\nbase_fork = \"Cancun\"\n[opcodes]\nPREVRANDAO = { behaviour = \"constant\", value = 0 }\nSELFDESTRUCT = \"invalid\"\n";

#[test]
fn findings_under_a_custom_profile_replay_from_any_folder() {
    let work = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("myrollup.toml"), MY_ROLLUP).unwrap();
    let o = evmdiff_in(
        work.path(),
        &[
            "fuzz",
            "-b",
            "revm,evm",
            "--profile",
            "myrollup.toml",
            "--seed",
            "2",
            "--runs",
            "2000",
            "--out",
            "out",
            "--no-known",
        ],
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let out = work.path().join("out");
    let found = files_starting(&out, "divergence-");
    assert!(!found.is_empty(), "{}", text(&o.stdout));
    // The profile file is gone, and the replay runs in another folder.
    std::fs::remove_file(work.path().join("myrollup.toml")).unwrap();
    let minimized = files_starting(&out.join("minimized"), "divergence-");
    assert_eq!(minimized.len(), found.len());
    for f in found.iter().chain(&minimized) {
        let o = evmdiff_in(
            elsewhere.path(),
            &["run", "-b", "revm,evm", f.to_str().unwrap()],
        );
        let stdout = text(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}: {}",
            f.display(),
            text(&o.stderr)
        );
        assert!(stdout.contains("profile myrollup"), "{stdout}");
        assert!(stdout.contains("DIVERGENCE"), "{stdout}");
        // Self-contained: the profile, backends with versions, seed, index and input.
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let info = &v.as_object().unwrap().values().next().unwrap()["_info"]["evmdiff"];
        assert!(
            info["profile_toml"]
                .as_str()
                .unwrap()
                .contains("SELFDESTRUCT"),
            "{info}"
        );
        assert!(
            info["backends"][1].as_str().unwrap().starts_with("evm "),
            "{info}"
        );
        assert_eq!(info["seed"], 2);
        assert!(
            info["index"].is_u64() && info["input"].is_string(),
            "{info}"
        );
    }
}

#[test]
fn a_checkpoint_belongs_to_the_profile_content_not_its_path() {
    let work = tempfile::tempdir().unwrap();
    let profile = work.path().join("p.toml");
    std::fs::write(&profile, MY_ROLLUP).unwrap();
    let run = || {
        let o = evmdiff_in(
            work.path(),
            &[
                "fuzz",
                "-b",
                "revm,revm",
                "--profile",
                "p.toml",
                "--runs",
                "30",
                "--out",
                "out",
                "--stats-json",
                "s.json",
            ],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        stats(&work.path().join("s.json"))["first_index"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(run(), 0);
    assert_eq!(run(), 30, "an unchanged profile resumes");
    std::fs::write(&profile, format!("{MY_ROLLUP}CALLER = \"invalid\"\n")).unwrap();
    assert_eq!(run(), 0, "an edited profile is another campaign");
}

#[test]
fn the_gate_fails_on_every_divergent_case_not_only_on_new_files() {
    let work = tempfile::tempdir().unwrap();
    let args = [
        "fuzz",
        "-b",
        "revm,evm",
        "--seed",
        "2",
        "--runs",
        "1000",
        "--out",
        "out",
        "--fail-on-findings",
    ];
    let unknown: Vec<&str> = args.iter().copied().chain(["--no-known"]).collect();
    let first = evmdiff_in(work.path(), &unknown);
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stdout));
    // Again into the same folder: the next 1000 cases hit the same bug, no file is new.
    let again = evmdiff_in(work.path(), &unknown);
    let stdout = text(&again.stdout);
    assert!(stdout.contains("0 findings written"), "{stdout}");
    assert_eq!(again.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("divergent cases not on the allowlist"),
        "{stdout}"
    );
    // The shipped known differences are recognised by default: named, counted, passed.
    let known = evmdiff_in(work.path(), &args);
    let stdout = text(&known.stdout);
    assert_eq!(known.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("known: evm 1.1.1: CODECOPY"), "{stdout}");
    assert!(stdout.contains("docs/findings.md #1"), "{stdout}");
}

#[test]
fn a_backend_that_cannot_run_the_profile_sits_out_before_the_first_case() {
    let o = evmdiff(&[
        "fuzz",
        "--profile",
        "scroll",
        "--runs",
        "20",
        "--out",
        tempfile::tempdir()
            .unwrap()
            .path()
            .join("o")
            .to_str()
            .unwrap(),
        "--fail-on-findings",
    ]);
    let err = text(&o.stderr);
    assert!(
        err.lines()
            .next()
            .is_some_and(|l| l.contains("backend evm sits out") && l.contains("Osaka")),
        "{err}"
    );
    assert!(
        text(&o.stdout).contains("sat out: evm"),
        "{}",
        text(&o.stdout)
    );
    // Said, so not held against the gate.
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    // Only one backend left is nothing to compare.
    let o = evmdiff(&[
        "fuzz",
        "--profile",
        "scroll",
        "-b",
        "revm,evm",
        "--runs",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("nothing to compare"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn ctrl_c_prints_the_summary_and_keeps_the_checkpoint() {
    let work = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .current_dir(work.path())
        // Shanghai: no point evaluation, so no KZG setup to load before the first case (on a
        // loaded machine that can take longer than the 3 s this waits).
        .args([
            "fuzz",
            "-b",
            "revm,revm",
            "-p",
            "mainnet-shanghai",
            "--runs",
            "100000000",
            "--out",
            "out",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let stdout = text(&o.stdout);
    assert_eq!(o.status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("cases,"), "no summary: {stdout}");
    assert!(
        stdout.contains("checkpoint saved") && stdout.contains("rerun the same command to resume"),
        "{stdout}"
    );
    let resumed = evmdiff_in(
        work.path(),
        &[
            "fuzz",
            "-b",
            "revm,revm",
            "-p",
            "mainnet-shanghai",
            "--runs",
            "10",
            "--out",
            "out",
        ],
    );
    assert!(
        text(&resumed.stderr).contains("resumed after"),
        "{}",
        text(&resumed.stderr)
    );
    assert!(
        text(&resumed.stdout).contains("resumed after"),
        "{}",
        text(&resumed.stdout)
    );
}
