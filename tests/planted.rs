//! The mutation benchmark: every bug planted in revm is a real bug (a real ethereum/tests
//! fixture that plain revm passes fails with it), the campaign's generated cases see nearly
//! all of them, and plain revm against its own recorded runs (the control) sees nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use evmdiff_adapters::revm_backend::{Planted, RevmBackend};
use evmdiff_core::expect::{Check, check};
use evmdiff_core::{Backend, Profile};
use evmdiff_oracle::planted::{Generated, measure};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/ethereum-tests")
}

/// For every planted bug but two, one real fixture file that shows it (found by `evmdiff
/// planted --runs 0 --fixtures ../shared/fixtures/ethereum-tests/...`): some case of the file
/// fails its expectation on the planted revm while plain revm passes every case.
const SHOWN_BY: &[(&str, &str)] = &[
    (
        "sdiv-overflow",
        "GeneralStateTests/VMTests/vmArithmeticTest/sdiv.json",
    ),
    (
        "smod-sign",
        "GeneralStateTests/VMTests/vmArithmeticTest/addmod.json",
    ),
    (
        "signextend-large-index",
        "GeneralStateTests/VMTests/vmArithmeticTest/signextend.json",
    ),
    (
        "byte-index-wraps",
        "GeneralStateTests/stRandom/randomStatetest303.json",
    ),
    (
        "shl-shift-wraps",
        "GeneralStateTests/VMTests/vmArithmeticTest/twoOps.json",
    ),
    (
        "sar-negative-large",
        "GeneralStateTests/stShift/sar_2^255_256.json",
    ),
    (
        "shr-bound-off-by-one",
        "GeneralStateTests/stShift/shiftCombinations.json",
    ),
    (
        "addmod-wraps",
        "GeneralStateTests/VMTests/vmArithmeticTest/addmod.json",
    ),
    (
        "mulmod-wraps",
        "GeneralStateTests/VMTests/vmArithmeticTest/mulmod.json",
    ),
    (
        "exp-zero-zero",
        "GeneralStateTests/VMTests/vmArithmeticTest/exp.json",
    ),
    (
        "calldataload-tail",
        "GeneralStateTests/Cancun/stEIP1153-transientStorage/10_revertUndoesStoreAfterReturn.json",
    ),
    (
        "jump-truncated",
        "GeneralStateTests/VMTests/vmIOandFlowOperations/jump.json",
    ),
    (
        "returndatacopy-unbounded",
        "GeneralStateTests/stCreate2/Create2OOGafterInitCodeReturndata.json",
    ),
    (
        "blobhash-index-clamped",
        "GeneralStateTests/Cancun/stEIP4844-blobtransactions/blobhashListBounds3.json",
    ),
    (
        "extcodehash-empty-account",
        "GeneralStateTests/stBadOpcode/invalidAddr.json",
    ),
    (
        "pc-after",
        "GeneralStateTests/Pyspecs/cancun/eip1153_tstore/reentrant_call.json",
    ),
    (
        "gas-before-charge",
        "GeneralStateTests/Cancun/stEIP1153-transientStorage/transStorageReset.json",
    ),
    (
        "mcopy-forward",
        "GeneralStateTests/Cancun/stEIP5656-MCOPY/MCOPY.json",
    ),
    (
        "memory-quadratic-halved",
        "GeneralStateTests/Cancun/stEIP5656-MCOPY/MCOPY_copy_cost.json",
    ),
    (
        "extcodesize-always-warm",
        "GeneralStateTests/Pyspecs/cancun/eip1153_tstore/reentrant_selfdestructing_call.json",
    ),
    (
        "sload-always-cold",
        "GeneralStateTests/Pyspecs/cancun/eip6780_selfdestruct/create_selfdestruct_same_tx.json",
    ),
    (
        "cold-account-total-as-surcharge",
        "GeneralStateTests/Cancun/stEIP1153-transientStorage/transStorageOK.json",
    ),
    (
        "cold-storage-total-as-surcharge",
        "GeneralStateTests/Pyspecs/berlin/eip2930_access_list/access_list.json",
    ),
    (
        "keccak256-word-gas",
        "GeneralStateTests/Cancun/stEIP5656-MCOPY/MCOPY_memory_hash.json",
    ),
    (
        "log-data-gas",
        "GeneralStateTests/VMTests/vmLogTest/log0.json",
    ),
    (
        "tstore-in-static",
        "GeneralStateTests/Cancun/stEIP1153-transientStorage/14_revertAfterNestedStaticcall.json",
    ),
    (
        "log-in-static",
        "GeneralStateTests/stStaticCall/static_CallRecursiveBombLog.json",
    ),
    (
        "sstore-in-static",
        "GeneralStateTests/stCreateTest/CreateResults.json",
    ),
    (
        "call-value-cost",
        "GeneralStateTests/Pyspecs/cancun/eip4844_blobs/blob_gas_subtraction_tx.json",
    ),
    (
        "initcode-word-gas-missing",
        "GeneralStateTests/Pyspecs/byzantium/eip198_modexp_precompile/modexp.json",
    ),
    (
        "sstore-no-restore-refund",
        "GeneralStateTests/stDelegatecallTestHomestead/Call1024PreCalls.json",
    ),
    (
        "sstore-clear-refund-pre-london",
        "GeneralStateTests/Cancun/stEIP1153-transientStorage/10_revertUndoesStoreAfterReturn.json",
    ),
    (
        "refund-cap-pre-london",
        "GeneralStateTests/Cancun/stEIP4844-blobtransactions/opcodeBlobhBounds.json",
    ),
    (
        "keeps-transient-storage",
        "BlockchainTests/ValidBlocks/bcEIP1153-transientStorage/tloadDoesNotPersistAcrossBlocks.json",
    ),
    (
        "ecrecover-raw-v",
        "GeneralStateTests/stPreCompiledContracts2/CALLCODEEcrecover1.json",
    ),
    (
        "blake2f-loose-flag",
        "GeneralStateTests/stPreCompiledContracts/blake2B.json",
    ),
    (
        "point-evaluation-hash-unchecked",
        "GeneralStateTests/Pyspecs/cancun/eip4844_blobs/invalid_precompile_calls.json",
    ),
    (
        "exp-byte-gas-frontier",
        "GeneralStateTests/VMTests/vmArithmeticTest/arith.json",
    ),
    (
        "initcode-limit-missing",
        "GeneralStateTests/Pyspecs/shanghai/eip3860_initcode/contract_creating_tx.json",
    ),
    (
        "create-tx-cost-missing",
        "GeneralStateTests/Pyspecs/cancun/eip6780_selfdestruct/create_selfdestruct_same_tx.json",
    ),
    (
        "access-list-key-price",
        "GeneralStateTests/Cancun/stEIP4844-blobtransactions/blobhashListBounds3.json",
    ),
];

/// The bugs no fixture at hand shows: no state test JUMPIs on a condition of 2^64 or more, and
/// none reads BLOCKHASH exactly 256 blocks back (the BlockchainTests are shorter). Generated
/// cases show both (docs/coverage.md).
const SHOWN_BY_NO_FIXTURE: &[&str] = &["jumpi-condition-truncated", "blockhash-window"];

#[test]
fn every_planted_bug_fails_a_real_fixture_that_plain_revm_passes() {
    let listed: Vec<&str> = SHOWN_BY.iter().map(|(bug, _)| *bug).collect();
    for bug in Planted::ALL {
        assert!(
            listed.contains(&bug.name()) || SHOWN_BY_NO_FIXTURE.contains(&bug.name()),
            "{}: no fixture listed that shows it",
            bug.name()
        );
    }
    for (name, file) in SHOWN_BY {
        let bug = Planted::from_name(name).unwrap_or_else(|| panic!("{name}: no such bug"));
        let path = fixtures().join(file);
        let cases = evmdiff_core::statetest::read_file(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .cases;
        assert!(!cases.is_empty(), "{file}: no case");
        let mut failing = 0;
        for case in &cases {
            let profile = Profile::mainnet(case.fork);
            let plain = match RevmBackend::default().execute(case, &profile) {
                Ok(o) => o,
                // A fork revm does not run (original Constantinople).
                Err(evmdiff_core::BackendError::Unsupported(_)) => continue,
                Err(e) => panic!("{file} {}: {e}", case.name),
            };
            assert!(
                !matches!(check(case, &plain), Check::Fail(_)),
                "{file} {}: plain revm fails it",
                case.name
            );
            let planted = RevmBackend::with_planted(bug).execute(case, &profile);
            if planted.map_or(true, |o| matches!(check(case, &o), Check::Fail(_))) {
                failing += 1;
            }
        }
        assert!(failing > 0, "{name}: no case of {file} shows it");
    }
}

#[test]
fn generated_cases_see_nearly_every_planted_bug_and_the_control_nothing() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    let cases: Vec<Generated> = (0..3_000)
        .filter_map(|index| {
            evmdiff_oracle::seal::campaign_case(&profile, 1, index)
                .map(|(_, case)| Generated { index, case })
        })
        .collect();
    let m = measure(&profile, &cases, &[], &Planted::ALL, 2, &|_| {});
    let control = m.bugs.iter().find(|r| r.bug.is_none()).unwrap();
    assert_eq!(control.showing, 0, "the control shows differences");
    let missed: Vec<&str> = m
        .bugs
        .iter()
        .filter_map(|r| r.bug.filter(|_| r.applies() && r.first.is_none()))
        .map(Planted::name)
        .collect();
    let applicable = m
        .bugs
        .iter()
        .filter(|r| r.bug.is_some() && r.applies())
        .count();
    assert_eq!(
        applicable,
        Planted::ALL.len(),
        "every bug applies under Cancun"
    );
    // 43 of 43 within 10,000 cases (docs/coverage.md); within 3,000, at least 90%.
    assert!(
        missed.len() * 10 <= applicable,
        "{} of {applicable} bugs not seen within 3,000 cases: {missed:?}",
        missed.len()
    );
    // What a case shows is what revm computes differently: the first case of each bug
    // replays it.
    for r in m.bugs.iter().filter(|r| r.first.is_some()) {
        let bug = r.bug.unwrap();
        let first = r.first.unwrap();
        let case = &cases.iter().find(|g| g.index == first).unwrap().case;
        let plain = RevmBackend::default().execute(case, &profile);
        let planted = RevmBackend::with_planted(bug).execute(case, &profile);
        if r.first_in_outcome == Some(first) {
            assert_ne!(
                format!("{plain:?}"),
                format!("{planted:?}"),
                "{}: case {first} shows the same outcome on replay",
                bug.name()
            );
        }
    }
}

#[test]
fn planted_refuses_an_unknown_bug_and_lists_them_all() {
    let out = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(["planted", "--bug", "no-such-bug", "--runs", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no-such-bug"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(["planted", "--list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        Planted::ALL.len()
    );
}

#[test]
fn planted_table_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args([
            "planted",
            "--runs",
            "300",
            "--bug",
            "memory-quadratic-halved,sdiv-overflow",
            "--format",
            "json",
            "-o",
        ])
        .arg(dir.path().join("t.json"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("t.json")).unwrap()).unwrap();
    let bugs = v["bugs"].as_array().unwrap();
    assert_eq!(bugs.len(), 3, "two bugs and the control");
    // Memory's cost is in nearly every case's gas.
    assert_eq!(bugs[0]["bug"], "memory-quadratic-halved");
    assert!(bugs[0]["showing"].as_u64().unwrap() > 100, "{}", bugs[0]);
    assert_eq!(bugs[2]["bug"], serde_json::Value::Null);
    assert_eq!(bugs[2]["showing"], 0);
}
