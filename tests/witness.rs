//! The witness view on the real backends: every backend's witness suffices for its own
//! stateless re-execution, and what one reads beyond the other is superfluous (each reproduces
//! its outcome from the entries both read).

use arbitrary::Unstructured;
use evmdiff_core::witness::{check_stateless, collect, compare_witnesses};
use evmdiff_core::{Field, Profile};
use evmdiff_generator::input_bytes;

#[test]
fn witnesses_suffice_and_extras_are_superfluous() {
    // Seed 5 gives evm-only extras (finding #4); seed 3's first 3,000 cases include
    // transactions sent straight to a precompile, where only revm loads the target.
    for (profile, seed, n) in [
        ("mainnet-cancun", 5, 300),
        ("mainnet-shanghai", 5, 300),
        ("mainnet-cancun", 3, 3000),
    ] {
        let profile = Profile::load(profile).unwrap();
        // Witnesses come from observed reads: every backend that reports them.
        let mut backends = evmdiff_adapters::stepping_backends();
        let (mut checked, mut chains) = (0, 0);
        let mut extra = std::collections::BTreeMap::new();
        for i in 0..n {
            let input = input_bytes(seed, i);
            let Ok(generated) =
                evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
            else {
                continue;
            };
            let case = generated.case;
            // The witness view is built for state tests; a chain's witnesses are per block
            // (what each block read from the state before it), which evmdiff does not build
            // yet (`--prover` skips chains).
            if case.is_chain() {
                chains += 1;
                continue;
            }
            let mut runs = Vec::new();
            let mut ran = Vec::new();
            for (k, b) in backends.iter_mut().enumerate() {
                // A backend that runs single transactions only sits chains out.
                if b.capabilities().sits_out_case(&case).is_some() {
                    continue;
                }
                ran.push(k);
                let (full, w) = collect(b.as_mut(), &case, &profile).unwrap();
                let missing = check_stateless(b.as_mut(), &case, &profile, &full, &w).unwrap();
                assert!(
                    missing.is_empty(),
                    "{} case {i}: stateless re-execution differs: {missing:?}",
                    b.name()
                );
                runs.push((full, w));
            }
            checked += 1;
            // Each backend against revm (the first): what one reads beyond the other is
            // superfluous, each reproducing its outcome from the entries both read.
            for k in 1..runs.len() {
                if compare_witnesses(&runs[0].1, &runs[k].1).is_empty() {
                    continue;
                }
                *extra.entry(backends[ran[k]].name()).or_insert(0) += 1;
                let common = runs[0].1.intersection(&runs[k].1);
                for j in [0, k] {
                    let b = backends[ran[j]].as_mut();
                    let missing = check_stateless(b, &case, &profile, &runs[j].0, &common).unwrap();
                    assert!(missing.is_empty(), "{} case {i}: {missing:?}", b.name());
                }
            }
        }
        assert!(
            (checked + chains) * 10 > n * 8 && checked * 2 > n,
            "only {checked} cases of {n} ({chains} chains left out)"
        );
        // The extras come from instructions that fail and transactions to precompiles
        // (docs/findings.md #4): rare.
        println!(
            "{}: {checked} cases, extras against revm {extra:?}",
            profile.name
        );
        for (name, n) in &extra {
            assert!(
                n * 10 < checked,
                "{} {name}: {n} of {checked}",
                profile.name
            );
        }
    }
}

/// A witness that lacks an entry the execution needs is caught: dropping the sender from
/// revm's witness changes the stateless outcome.
#[test]
fn a_missing_witness_entry_is_caught() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    let mut revm = evmdiff_adapters::backend("revm").unwrap();
    let input = input_bytes(5, 1);
    let case = evmdiff_generator::generate(&mut Unstructured::new(&input), &profile)
        .unwrap()
        .case;
    let (full, mut w) = collect(revm.as_mut(), &case, &profile).unwrap();
    assert!(w.accounts.remove(&case.tx().unwrap().sender));
    let missing = check_stateless(revm.as_mut(), &case, &profile, &full, &w).unwrap();
    assert!(!missing.is_empty());
    assert!(
        missing
            .iter()
            .all(|d| matches!(d.field, Field::Stateless(_)))
    );
}

/// A witness divergence found by `fuzz --prover witness` is minimized with the views in the
/// predicate (the minimized case is smaller than the original and still diverges on the
/// witness), and both files replay as a witness divergence with a plain `evmdiff run`.
#[test]
fn a_view_divergence_is_minimized_and_replays_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args([
            "fuzz",
            "-b",
            "revm,evm",
            "--prover",
            "witness",
            "--no-known",
            "--seed",
            "42",
            "--runs",
            "400",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut checked = 0;
    for entry in std::fs::read_dir(out.join("minimized")).unwrap() {
        let path = entry.unwrap().path();
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let info = &v.as_object().unwrap().values().next().unwrap()["_info"]["evmdiff"];
        let fields = info["divergences"].to_string();
        if !fields.contains("witness.") {
            continue;
        }
        let (before, after) = (
            info["minimized"]["instructions_before"].as_u64().unwrap(),
            info["minimized"]["instructions_after"].as_u64().unwrap(),
        );
        assert!(after < before, "{}: {before} -> {after}", path.display());
        assert_eq!(info["prover"], "witness");
        let original = out.join(path.file_name().unwrap());
        for f in [&path, &original] {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_evmdiff"))
                .args(["run", "-b", "revm,evm", f.to_str().unwrap()])
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&o.stdout);
            assert_eq!(o.status.code(), Some(1), "{}: {stdout}", f.display());
            assert!(stdout.contains("witness."), "{}: {stdout}", f.display());
        }
        checked += 1;
    }
    assert!(checked > 0, "no witness divergence in 400 cases of seed 42");
}
