//! The witness view on the real backends: every backend's witness of every block suffices for
//! its own stateless re-execution, its `debug_executionWitness` gives a real stateless guest
//! (ethrex's) the block's post-state root, and what one backend reads beyond another is
//! superfluous (each reproduces its outcome from the entries both read).

use arbitrary::Unstructured;
use evmdiff_core::block_witness::collect_blocks;
use evmdiff_core::witness::{check_stateless, collect, compare_witnesses};
use evmdiff_core::{BackendError, Field, Profile};
use evmdiff_generator::input_bytes;

#[test]
fn witnesses_suffice_and_extras_are_superfluous() {
    // Seed 5 gives evm-only extras (finding #4); seed 3's first 3,000 cases include
    // transactions sent straight to a precompile, where only revm loads the target. A quarter
    // of the cases are chains, whose witnesses are per block.
    for (profile, seed, n) in [
        ("mainnet-cancun", 5, 300),
        ("mainnet-shanghai", 5, 300),
        ("mainnet-prague", 7, 200),
        ("mainnet-cancun", 3, 3000),
    ] {
        let profile = Profile::load(profile).unwrap();
        // Witnesses come from observed reads: every backend that reports them.
        let mut backends = evmdiff_adapters::stepping_backends();
        let (mut checked, mut blocks, mut chains, mut deleting) = (0, 0, 0, 0);
        let mut extra = std::collections::BTreeMap::new();
        for i in 0..n {
            let Some((_, case)) = evmdiff_oracle::seal::campaign_case(&profile, seed, i as u64)
            else {
                continue;
            };
            let mut runs = Vec::new();
            for (k, b) in backends.iter_mut().enumerate() {
                // evm has no Prague.
                let witnesses = match collect_blocks(b.as_mut(), &case, &profile, None) {
                    Err(BackendError::Unsupported(_)) => continue,
                    w => w.unwrap(),
                };
                for bw in &witnesses {
                    let missing =
                        check_stateless(b.as_mut(), &bw.block, &profile, &bw.outcome, &bw.witness)
                            .unwrap();
                    assert!(
                        missing.is_empty(),
                        "{} case {i} block {}: stateless re-execution differs: {missing:?}",
                        b.name(),
                        bw.index
                    );
                    // The guest computes the post-state root from the witness alone.
                    let (pre, post) = (&bw.block.pre, bw.post().unwrap());
                    let w = bw.execution_witness().unwrap();
                    let number = bw.block.env().unwrap().number.saturating_to();
                    let root =
                        evmdiff_adapters::ethrex_guest::post_state_root(&w, number, pre, post);
                    assert_eq!(
                        root,
                        Ok(bw.post_root().unwrap()),
                        "{} case {i} block {}: the guest's root",
                        b.name(),
                        bw.index
                    );
                    if let Some(header) = case.blocks[bw.index].header.as_ref() {
                        assert_eq!(header.state_root, bw.post_root().unwrap());
                    }
                    if pre.keys().any(|a| !post.contains_key(a)) {
                        deleting += 1;
                    }
                }
                runs.push((k, witnesses));
            }
            checked += 1;
            if case.is_chain() {
                chains += 1;
            }
            blocks += runs[0].1.len();
            // Each backend against revm (the first), block by block: what one reads beyond the
            // other is superfluous, each reproducing its outcome from the entries both read.
            let (revm, others) = runs.split_first().unwrap();
            for (k, run) in others {
                let k = *k;
                assert_eq!(revm.1.len(), run.len(), "case {i}: blocks completed");
                for (r, o) in revm.1.iter().zip(run) {
                    if compare_witnesses(&r.witness, &o.witness).is_empty() {
                        continue;
                    }
                    *extra.entry(backends[k].name()).or_insert(0) += 1;
                    let common = r.witness.intersection(&o.witness);
                    for (j, bw) in [(0, r), (k, o)] {
                        let b = backends[j].as_mut();
                        let missing =
                            check_stateless(b, &bw.block, &profile, &bw.outcome, &common).unwrap();
                        assert!(missing.is_empty(), "{} case {i}: {missing:?}", b.name());
                    }
                }
            }
        }
        assert!(checked * 10 > n * 8, "only {checked} cases of {n}");
        assert!(chains * 10 > checked, "{chains} chains of {checked} cases");
        // The extras come from instructions that fail and transactions to precompiles
        // (docs/findings.md #4): rare.
        println!(
            "{}: {checked} cases ({chains} chains, {blocks} blocks, {deleting} deleting accounts), \
             extras against revm {extra:?}",
            profile.name
        );
        for (name, n) in &extra {
            assert!(n * 10 < blocks, "{} {name}: {n} of {blocks}", profile.name);
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

/// The shared BlockchainTests, block by block, on every backend that reports its reads: each
/// valid block's witness suffices for the backend's stateless re-execution of the block, and
/// its `debug_executionWitness` gives ethrex's stateless guest the header's state root (real
/// blocks: deletions, self-destructs, system calls, withdrawals, BLOCKHASH of earlier blocks).
#[test]
fn blockchain_tests_blocks_are_proven_by_their_witnesses() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/ethereum-tests/BlockchainTests");
    let files = evmdiff_core::statetest::json_files(&dir).unwrap();
    let cases: Vec<evmdiff_core::Case> = files
        .iter()
        .flat_map(|f| evmdiff_core::statetest::read_file(f).unwrap().cases)
        .collect();
    // The one the execution spec cannot finish (tests/chains.rs) is as slow stateless.
    let cases: Vec<_> = cases
        .into_iter()
        .filter(|c| !c.name.starts_with("DelegateCallSpam"))
        .collect();
    let mut report = Vec::new();
    for mut b in evmdiff_adapters::stepping_backends() {
        let (mut blocks, mut hashes, mut deleting, mut sat_out) = (0, 0, 0, 0);
        for case in &cases {
            let profile = Profile::mainnet(case.fork);
            let witnesses = match collect_blocks(b.as_mut(), case, &profile, None) {
                Err(BackendError::Unsupported(_)) => {
                    sat_out += 1;
                    continue;
                }
                w => w.unwrap(),
            };
            for bw in &witnesses {
                // Only blocks the test calls valid carry a state root to reach.
                let Some(header) = case.blocks[bw.index].header.as_ref() else {
                    continue;
                };
                if case.blocks[bw.index].expect != Some(evmdiff_core::case::BlockExpect::Valid) {
                    continue;
                }
                blocks += 1;
                hashes += usize::from(!bw.witness.block_hashes.is_empty());
                let (pre, post) = (&bw.block.pre, bw.post().unwrap());
                deleting += usize::from(pre.keys().any(|a| !post.contains_key(a)));
                let missing =
                    check_stateless(b.as_mut(), &bw.block, &profile, &bw.outcome, &bw.witness)
                        .unwrap();
                let w = bw.execution_witness().unwrap();
                let root =
                    evmdiff_adapters::ethrex_guest::post_state_root(&w, header.number, pre, post);
                if !missing.is_empty() || root != Ok(header.state_root) {
                    report.push(format!(
                        "{} {} block {}: stateless {missing:?}, guest root {root:?}, header {}",
                        b.name(),
                        case.name,
                        bw.index + 1,
                        header.state_root
                    ));
                }
            }
        }
        println!(
            "{}: {blocks} valid blocks proven ({hashes} reading earlier hashes, {deleting} \
             deleting accounts), {sat_out} cases unsupported",
            b.name()
        );
        assert!(blocks > 1000, "{}: only {blocks} blocks", b.name());
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}
