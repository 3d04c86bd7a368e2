//! `evmdiff export`: findings as tests other tools run. A mainnet finding's export passes the
//! execution spec's own runner and revm's (`revme`, as a library); a tie is not exported; a
//! custom profile's export is labelled with the profile, which no client takes for a mainnet
//! fork. Needs the execution spec of `scripts/setup-external.sh` (the README's test command).

mod spec;

use std::path::Path;
use std::process::{Command, Output};

use clap::Parser;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn evmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn regression(name: &str) -> String {
    root()
        .join(format!("corpus/regressions/{name}.json"))
        .display()
        .to_string()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The one test of an exported file.
fn test_of(path: &Path) -> Value {
    json(path)
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap()
        .clone()
}

/// revm's own runners, as `revme statetest FILE` and `revme blockchaintest FILE` run them.
fn revme(kind: &str, path: &Path) -> Result<(), String> {
    let p = path.to_str().unwrap();
    match kind {
        "statetest" => revme::cmd::statetest::Cmd::parse_from(["statetest", p])
            .run()
            .map_err(|e| e.to_string()),
        _ => revme::cmd::blockchaintest::Cmd::parse_from(["blockchaintest", "--omit-progress", p])
            .run()
            .map_err(|e| e.to_string()),
    }
}

/// evm 1.1.1's lost refund (docs/findings.md #2), a mainnet Cancun finding where revm and evm
/// disagree: with the execution spec among the backends its outcome is the expected one, and
/// both exports pass the spec's runners and revm's.
#[test]
fn a_mainnet_finding_exports_as_tests_the_spec_and_revm_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let finding = regression("refund_lost_after_selfdestruct_in_create");
    for format in ["statetest", "blockchaintest"] {
        let o = evmdiff(&[
            "export",
            &finding,
            "-b",
            "revm,evm,eels",
            "--format",
            format,
            "-o",
            out,
        ]);
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            stdout.contains(&format!(
                "{format} `Cancun`, expected outcome from the reference, eels; evm differ"
            )),
            "{stdout}"
        );
    }
    let state = dir
        .path()
        .join("refund_lost_after_selfdestruct_in_create.statetest.json");
    let chain = dir
        .path()
        .join("refund_lost_after_selfdestruct_in_create.blockchaintest.json");
    assert!(test_of(&state)["post"]["Cancun"].is_array());
    assert_eq!(test_of(&chain)["network"], "Cancun");

    // The execution spec's state-test runner passes it.
    let o = Command::new(spec::program("ethereum-spec-evm"))
        .args(["statetest", "--json"])
        .arg(&state)
        .output()
        .unwrap();
    let results: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stderr)));
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["pass"], true, "{results:?}");
    // revm's runners pass both; the spec's block validation passes the chain.
    revme("statetest", &state).unwrap();
    revme("blockchaintest", &chain).unwrap();
    spec::validates_blockchain_tests(&[&chain]);

    // A generated chain of several blocks (mainnet Shanghai, seed 9, case 54), exported from
    // the backends that agree on it, passes the same.
    let generated = dir.path().join("gen");
    let o = evmdiff(&[
        "generate",
        "--profile",
        "mainnet-shanghai",
        "--seed",
        "9",
        "--index",
        "54",
        "--out",
        generated.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = evmdiff(&[
        "export",
        generated.join("generated-9-54.json").to_str().unwrap(),
        "-b",
        "revm,levm,evm",
        "-o",
        out,
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("blockchaintest `Shanghai`, expected outcome from the majority, revm, levm, evm (3 of 3)"), "{stdout}");
    let exported = dir.path().join("generated-9-54.blockchaintest.json");
    // A chain: several blocks (how many follows the generator's draw for this seed).
    assert!(test_of(&exported)["blocks"].as_array().unwrap().len() >= 2);
    revme("blockchaintest", &exported).unwrap();
    spec::validates_blockchain_tests(&[&exported]);
}

/// Two backends that disagree, without the execution spec: no expected outcome, nothing
/// written, the sides named, exit 1.
#[test]
fn a_tie_is_not_exported_and_names_the_sides() {
    let dir = tempfile::tempdir().unwrap();
    let o = evmdiff(&[
        "export",
        &regression("sstore_gas_after_selfdestruct_in_create"),
        "-b",
        "revm,evm",
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "not exported: no expected outcome: the backends split evenly (revm against evm)"
        ),
        "{stdout}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    // A chain cannot be a state test; an unknown format is bad input.
    let o = evmdiff(&["export", &regression("codecopy_msize"), "--format", "tar"]);
    assert_eq!(o.status.code(), Some(2));
}

/// A finding made under EIP-7530 profile B (base fork Shanghai) files its expectations under
/// `Shanghai+eip7530-b`, and so does its export, which carries the profile's rules, reads back
/// under the profile, and is refused by revm's runner as an unknown network rather than run
/// as a mainnet test.
#[test]
fn a_custom_profile_finding_is_labelled_with_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let found = dir.path().join("found");
    let o = evmdiff(&[
        "fuzz",
        "-b",
        "revm,evm",
        "--profile",
        "eip7530-b",
        "--no-known",
        "--runs",
        "300",
        "--seed",
        "3",
        "--out",
        found.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let finding = std::fs::read_dir(&found)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("divergence-")
        })
        .expect("a finding under eip7530-b");
    let label = |t: &Value| {
        t.get("network")
            .and_then(Value::as_str)
            .map(String::from)
            .or_else(|| t["post"].as_object().unwrap().keys().next().cloned())
            .unwrap()
    };
    assert_eq!(label(&test_of(&finding)), "Shanghai+eip7530-b");
    let out = dir.path().join("export");
    let o = evmdiff(&[
        "export",
        finding.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("`Shanghai+eip7530-b`"), "{stdout}");
    let exported = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let t = test_of(&exported);
    assert_eq!(label(&t), "Shanghai+eip7530-b");
    let rules = t["_info"]["evmdiff"]["profile_toml"].as_str().unwrap();
    assert!(rules.contains("eip7530-b"), "{rules}");
    // It reads back under its profile, and replays clean on the backends that agree.
    let file = evmdiff_core::statetest::read_file(&exported).unwrap();
    assert_eq!(file.cases[0].fork, evmdiff_core::Fork::Shanghai);
    let o = evmdiff(&["run", "-b", "revm,levm", exported.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("(profile eip7530-b, fork Shanghai)"),
        "{stdout}"
    );
    // revm's runner does not take it for a mainnet test.
    let kind = if t.get("network").is_some() {
        "blockchaintest"
    } else {
        "statetest"
    };
    let refused = revme(kind, &exported).unwrap_err();
    assert!(refused.contains("Shanghai+eip7530-b"), "{refused}");
}
