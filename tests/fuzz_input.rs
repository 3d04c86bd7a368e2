//! A cargo-fuzz target's crash input is an evmdiff finding: `evmdiff run --fuzz-target`
//! replays it under the target's configuration (or the one given), `--findings` writes it as
//! a finding file with the same signature a campaign gives, and `minimize` and `report` take
//! that file. The divergence is real: revm against revm with a bug planted.

use std::path::Path;
use std::process::{Command, Output};

fn evmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .output()
        .expect("evmdiff runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The only `.json` file of `dir` and its `_info.evmdiff`.
fn only_finding(dir: &Path) -> (String, serde_json::Value) {
    let files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("campaign.json"))
        .filter(|p| !p.ends_with("stats.json"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let meta = json.as_object().unwrap().values().next().unwrap()["_info"]["evmdiff"].clone();
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    (name, meta)
}

#[test]
fn a_crash_input_replays_as_the_finding_a_campaign_gives() {
    let tmp = tempfile::tempdir().unwrap();
    let pair = "revm,revm+sdiv-overflow";
    let campaign = tmp.path().join("campaign");
    let out = evmdiff(&[
        "fuzz",
        "--backends",
        pair,
        "--runs",
        "400",
        "--seed",
        "1",
        "--out",
        campaign.to_str().unwrap(),
    ]);
    let (name, meta) = only_finding(&campaign);
    assert!(name.starts_with("divergence-"), "{}", text(&out));

    // The crash input is the finding's generator input, as libFuzzer writes it.
    let crash = tmp.path().join("crash-0123");
    std::fs::write(
        &crash,
        alloy_primitives::hex::decode(meta["input"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    let findings = tmp.path().join("findings");
    let out = evmdiff(&[
        "run",
        "--fuzz-target",
        "differential",
        "--backends",
        pair,
        "--findings",
        findings.to_str().unwrap(),
        crash.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let (replayed, rmeta) = only_finding(&findings);
    assert_eq!(replayed, name, "the same signature");
    assert_eq!(rmeta["fuzz_target"], "differential");
    assert_eq!(rmeta["input"], meta["input"]);
    assert_eq!(rmeta["profile"], "mainnet-cancun", "the target's profile");

    // The minimizer runs it on the backends it records; the report lists it.
    let file = findings.join(&replayed);
    let min = tmp.path().join("min.json");
    let out = evmdiff(&[
        "minimize",
        file.to_str().unwrap(),
        "-o",
        min.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("SDIV"), "{}", text(&out));
    let out = evmdiff(&["report", findings.to_str().unwrap()]);
    assert!(text(&out).contains(&replayed[11..27]), "{}", text(&out));

    // Under the target's own backends (revm, evm, levm) the same input shows nothing.
    let out = evmdiff(&[
        "run",
        "--fuzz-target",
        "differential",
        crash.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn an_unknown_fuzz_target_or_planted_bug_is_one_line_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("input");
    std::fs::write(&input, [7u8; 64]).unwrap();
    let out = evmdiff(&["run", "--fuzz-target", "nope", input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("differential") && err.contains("chain"),
        "{err}"
    );

    let out = evmdiff(&[
        "run",
        "--fuzz-target",
        "chain",
        "-b",
        "revm,revm+nope",
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("unknown planted bug `nope`"),
        "{}",
        text(&out)
    );

    let options = tmp.path().join("mine.options");
    std::fs::write(&options, "[libfuzzer]\nmax_len = 9\n").unwrap();
    let out = evmdiff(&[
        "run",
        "--fuzz-target",
        options.to_str().unwrap(),
        input.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("mine.options: no [evmdiff] section"),
        "{}",
        text(&out)
    );
}

/// Every `.json` file of `dir`, by name.
fn findings_in(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "json"));
    files.sort();
    files
}

#[test]
fn a_precompile_divergence_is_a_finding_whose_transaction_replays_it() {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("inputs");
    let out = evmdiff(&[
        "generate",
        "--raw",
        "--seed",
        "1",
        "--count",
        "3000",
        "--out",
        inputs.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    // revm's ecrecover against revm's with v = 0 read as 27, called directly.
    let pair = "revm,revm+ecrecover-raw-v";
    let findings = tmp.path().join("findings");
    let out = evmdiff(&[
        "run",
        "--fuzz-target",
        "precompiles",
        "--profile",
        "mainnet-cancun",
        "--backends",
        pair,
        "--findings",
        findings.to_str().unwrap(),
        inputs.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let files = findings_in(&findings);
    assert_eq!(files.len(), 1, "one bug, one file: {files:?}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    let test = json.as_object().unwrap().values().next().unwrap();
    let meta = &test["_info"]["evmdiff"];
    assert_eq!(meta["fuzz_target"], "precompiles");
    assert!(
        meta["signature"]
            .as_str()
            .unwrap()
            .contains("[precompile.ecrecover.output]"),
        "{meta}"
    );
    assert!(
        meta["detail"].as_str().unwrap().contains("libsecp256k1"),
        "{meta}"
    );
    assert_eq!(
        test["transaction"]["to"],
        "0x0000000000000000000000000000000000000001"
    );

    // The finding is a state test: the transaction making the same call diverges on the
    // backends themselves, and plain revm against itself agrees on it.
    let file = files[0].to_str().unwrap();
    let out = evmdiff(&["run", "--backends", pair, file]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = evmdiff(&["run", "--backends", "revm,revm", file]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // The crash input replays the direct comparison.
    let input = alloy_primitives::hex::decode(meta["input"].as_str().unwrap()).unwrap();
    let crash = tmp.path().join("crash-ec");
    std::fs::write(&crash, input).unwrap();
    let out = evmdiff(&[
        "run",
        "--fuzz-target",
        "precompiles",
        "--profile",
        "mainnet-cancun",
        "--backends",
        pair,
        crash.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("ecrecover"), "{}", text(&out));
}
