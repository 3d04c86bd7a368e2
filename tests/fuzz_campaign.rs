//! `evmdiff fuzz` as a user runs it: deterministic findings whatever the number of workers,
//! resuming from the checkpoint, and findings that survive `kill -9` and replay.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn evmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .output()
        .expect("binary runs")
}

/// Finding file name -> contents.
fn findings(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("divergence-")
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_str().unwrap().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect()
}

fn stats(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn same_seed_same_findings_whatever_the_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    // One thread, two threads, and two processes of one thread each (shards 0/2 and 1/2).
    for (name, parallel) in [
        ("j1", ["--jobs", "1"]),
        ("j2", ["--jobs", "2"]),
        ("p2", ["--processes", "2"]),
    ] {
        let out = dir.path().join(name);
        let st = dir.path().join(format!("{name}.json"));
        let o = evmdiff(&[
            "fuzz",
            "--runs",
            "1000",
            "--seed",
            "2",
            parallel[0],
            parallel[1],
            "--out",
            out.to_str().unwrap(),
            "--stats-json",
            st.to_str().unwrap(),
            // The known evm bug is the finding these runs must agree on.
            "--no-known",
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let s = stats(&st);
        // The setup (revm loads c-kzg's trusted setup under Cancun) is inside the run's time.
        let (setup, seconds) = (
            s["setup_seconds"].as_f64().unwrap(),
            s["seconds"].as_f64().unwrap(),
        );
        assert!(
            0.0 < setup && setup < seconds,
            "{name}: setup {setup} s of {seconds} s"
        );
        runs.push((
            findings(&out),
            s["signatures"].clone(),
            s["statuses"].clone(),
            s["cases"].clone(),
        ));
    }
    assert_eq!(runs[0].3, 1000);
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2], "--processes 2 against one thread");
    // revm and evm differ on the known CODECOPY/MSIZE bug at case 602 (docs/findings.md).
    assert!(
        !runs[0].0.is_empty(),
        "expected the known evm divergence (case 602 of seed 2)"
    );
}

#[test]
fn a_process_that_dies_is_a_crash_finding_and_the_campaign_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let st = dir.path().join("stats.json");
    // Case 7 (shard 1 of 2) aborts the process running it, as a backend that overflows its
    // stack or aborts would.
    let o = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .env("EVMDIFF_ABORT_ON_CASE", "7")
        .args([
            "fuzz",
            "-b",
            "revm,revm",
            "--processes",
            "2",
            "--runs",
            "40",
            "--seed",
            "5",
            "--out",
            out.to_str().unwrap(),
            "--stats-json",
            st.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains("shard 1/2 died (signal 6 (SIGABRT)) on case 7"),
        "{stderr}"
    );
    let s = stats(&st);
    assert_eq!(s["cases"], 40, "{s}");
    assert_eq!(s["crashes"], 1, "{s}");
    let crashes: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("crash-")
        })
        .collect();
    assert_eq!(crashes.len(), 1, "{crashes:?}");
    let text = std::fs::read_to_string(&crashes[0]).unwrap();
    assert!(
        text.contains("the fuzzing process died: signal 6"),
        "{text}"
    );
    let file = evmdiff_core::statetest::read_file(&crashes[0]).unwrap();
    let meta = file.cases[0].meta.clone().unwrap();
    assert_eq!(meta["index"], 7);
    // The finding is the case: replayed without the abort, it runs (and revm agrees with
    // itself).
    let o = evmdiff(&["run", crashes[0].to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Each shard kept its own checkpoint, both past their share of the 40 cases.
    for k in 0..2 {
        let cp = stats(&out.join(format!("shards/{k}-of-2.campaign.json")));
        assert_eq!(cp["next_index"], 20, "{cp}");
    }
}

#[test]
fn a_second_run_resumes_after_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let st = dir.path().join("stats.json");
    for expected_first in [0, 500] {
        let o = evmdiff(&[
            "fuzz",
            "-b",
            "revm,revm",
            "--runs",
            "500",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
            "--stats-json",
            st.to_str().unwrap(),
        ]);
        assert!(o.status.success());
        let s = stats(&st);
        assert_eq!(s["first_index"], expected_first);
        assert_eq!(s["cases"], 500);
    }
    // Another seed starts over.
    let o = evmdiff(&[
        "fuzz",
        "-b",
        "revm,revm",
        "--runs",
        "10",
        "--seed",
        "4",
        "--out",
        out.to_str().unwrap(),
        "--stats-json",
        st.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert_eq!(stats(&st)["first_index"], 0);
}

#[test]
fn findings_survive_kill_9_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args([
            "fuzz",
            "--seed",
            "2",
            "--time",
            "120",
            "--out",
            out.to_str().unwrap(),
            "--no-known",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while findings(&out).is_empty() || !out.join("campaign.json").exists() {
        assert!(
            start.elapsed() < Duration::from_secs(100),
            "no finding within 100 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Nothing half-written: no temporary files left as findings, every finding parses and
    // replays as the divergence it records.
    for (name, text) in findings(&out) {
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let info = &v.as_object().unwrap().values().next().unwrap()["_info"]["evmdiff"];
        assert_eq!(info["kind"], "divergence");
        let o = evmdiff(&["run", out.join(&name).to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{name} must replay as a divergence"
        );
    }
    let checkpoint: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("campaign.json")).unwrap()).unwrap();
    assert_eq!(checkpoint["seed"], 2);
}
