//! Reading real ethereum/tests files and writing their cases back out loses nothing: every
//! case of a sample of fixture folders survives `write_case` -> `parse` unchanged.

use std::path::{Path, PathBuf};

use evmdiff_core::statetest::{json_files, parse, read_file, write_case};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/ethereum-tests/GeneralStateTests")
}

#[test]
fn every_case_round_trips_through_the_writer() {
    let mut files = Vec::new();
    // Typed txs (access lists, EIP-1559, blobs), CREATE txs, many forks and indexes.
    for dir in [
        "Cancun",
        "Shanghai",
        "stEIP1559",
        "stEIP2930",
        "stExample",
        "stCreateTest",
        "stTransactionTest",
    ] {
        files.extend(json_files(&fixtures().join(dir)).unwrap());
    }
    let mut n = 0;
    for file in &files {
        if evmdiff_core::expect::skip_reason(file).is_some() {
            continue;
        }
        for case in read_file(file).unwrap().cases {
            let written = write_case(&case, "t", "round trip", case.fork.name()).unwrap();
            let back = parse(&written.to_string(), "written.json").unwrap();
            assert_eq!(back.cases.len(), 1, "{}", case.name);
            let mut again = back.cases.into_iter().next().unwrap();
            again.name = case.name.clone();
            assert_eq!(again, case, "{} in {}", case.name, file.display());
            n += 1;
        }
    }
    assert!(n > 1000, "only {n} cases read");
}

#[test]
fn every_fixture_file_parses() {
    let mut files = Vec::new();
    files.extend(json_files(&fixtures()).unwrap());
    assert_eq!(files.len(), 2704);
    let (mut cases, mut skipped_files) = (0, 0);
    for file in &files {
        if evmdiff_core::expect::skip_reason(file).is_some() {
            skipped_files += 1;
            continue;
        }
        let f = read_file(file).unwrap_or_else(|e| panic!("{e}"));
        assert!(f.skipped.is_empty(), "{}: {:?}", file.display(), f.skipped);
        cases += f.cases.len();
    }
    assert!(skipped_files < 30, "{skipped_files}");
    assert!(cases > 21_000, "{cases}");
}

#[test]
fn a_case_without_expectation_round_trips_and_half_an_expectation_is_an_error() {
    let file = fixtures().join("stExample/add11.json");
    let mut case = read_file(&file).unwrap().cases.remove(0);
    case.expect = None;
    let written = write_case(&case, "t", "no expectation", case.fork.name()).unwrap();
    let back = parse(&written.to_string(), "written.json").unwrap();
    assert_eq!(back.cases[0].expect, None);
    // A `hash` without `logs` is a malformed file, named with its JSON path.
    let mut half = written.clone();
    let fork = half["t"]["post"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    half["t"]["post"][&fork][0]["hash"] = serde_json::json!(format!("0x{}", "00".repeat(32)));
    let err = parse(&half.to_string(), "half.json").unwrap_err();
    assert!(err.to_string().contains("missing `logs`"), "{err}");
}
