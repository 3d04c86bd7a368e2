//! EIP-3155 traces and the read/write log on the real backends, through the command line.

use std::path::PathBuf;
use std::process::{Command, Output};

use evmdiff_core::eip3155;
use evmdiff_core::rw_log::{Rw, RwLog, Target};
use evmdiff_core::statetest::read_file;

fn evmdiff(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn regression(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("corpus/regressions/{name}.json"))
}

/// `run --trace` writes a trace per backend that reads back with the steps and summary of the
/// execution; `trace-diff` finds where revm and evm part on the CODECOPY regression (MSIZE
/// after CODECOPY, finding #1) and reports agreement of a trace with itself.
#[test]
fn run_writes_traces_and_trace_diff_finds_the_parting() {
    let dir = tempfile::tempdir().unwrap();
    let case = regression("codecopy_msize");
    let o = evmdiff(&[
        "run",
        case.to_str().unwrap(),
        "--trace",
        dir.path().to_str().unwrap(),
        "--prover",
        "witness,rw-log",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let revm = dir.path().join("codecopy_msize_Cancun_d0g0v0.revm.jsonl");
    let evm = dir.path().join("codecopy_msize_Cancun_d0g0v0.evm.jsonl");
    let trace =
        eip3155::read(std::io::BufReader::new(std::fs::File::open(&revm).unwrap())).unwrap();
    // PUSH1 PUSH1 PUSH1 CODECOPY MSIZE PUSH1 SSTORE (the implicit STOP is not a step).
    let ops: Vec<u64> = trace.steps.iter().map(|s| s.op).collect();
    assert_eq!(ops, [0x60, 0x60, 0x60, 0x39, 0x59, 0x60, 0x55]);
    assert_eq!(trace.steps[3].gas_cost, Some(9));
    assert_eq!(trace.steps[6].gas_cost, Some(22_100));
    let summary = trace.summary.unwrap();
    assert_eq!(summary.pass, Some(true));
    assert_eq!(summary.fork.as_deref(), Some("Cancun"));
    for ext in [
        "revm.rw.jsonl",
        "revm.witness.json",
        "evm.rw.jsonl",
        "evm.witness.json",
    ] {
        assert!(
            dir.path()
                .join(format!("codecopy_msize_Cancun_d0g0v0.{ext}"))
                .exists()
        );
    }

    let o = evmdiff(&["trace-diff", revm.to_str().unwrap(), evm.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("traces part at step 4: memSize"), "{out}");
    let o = evmdiff(&["trace-diff", revm.to_str().unwrap(), revm.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let o = evmdiff(&["trace-diff", revm.to_str().unwrap(), case.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("codecopy_msize.json: line 1"));
}

/// Lines as the execution spec writes them (numbers as JSON numbers, from
/// ../shared/docs/reference/external-backends.md) and as revme writes them (hex strings)
/// read the same.
#[test]
fn both_number_styles_read() {
    let eels = r#"{"pc":7,"op":85,"gas":"0x1348c","gasCost":"0x5654","memSize":0,"stack":["0x3","0x0"],"returnData":"0x","depth":1,"refund":0,"opName":"SSTORE"}
{"output":"","gasUsed":"0x5672"}
{"stateRoot": "0x35b07e"}"#;
    let revme = r#"{"pc":7,"op":85,"gas":"0x1348c","gasCost":"0x5654","memSize":"0x0","stack":["0x3","0x0"],"returnData":"0x","depth":1,"refund":"0x0","opName":"SSTORE"}"#;
    let a = eip3155::read(eels.as_bytes()).unwrap();
    let b = eip3155::read(revme.as_bytes()).unwrap();
    assert_eq!(a.steps, b.steps);
    assert_eq!(a.steps[0].gas, 0x1348c);
    let s = a.summary.unwrap();
    assert_eq!(
        (s.gas_used, s.state_root.as_deref()),
        (Some(0x5672), Some("0x35b07e"))
    );
    let bad = eip3155::read("{\"pc\":1}\n[1]".as_bytes()).unwrap_err();
    assert!(bad.to_string().starts_with("line 1: bad step"), "{bad}");
}

/// The read/write log of PUSH1 5 PUSH1 1 SSTORE PUSH1 1 SLOAD STOP, on every backend that
/// reports its steps: all the same.
#[test]
fn rw_log_of_a_store_and_a_load() {
    let file = read_file(&regression("codecopy_msize")).unwrap();
    let mut case = file.cases.into_iter().next().unwrap();
    let target = case.tx().unwrap().to.unwrap();
    case.pre.get_mut(&target).unwrap().code =
        vec![0x60, 5, 0x60, 1, 0x55, 0x60, 1, 0x54, 0x00].into();
    let profile = evmdiff_core::Profile::load("mainnet-cancun").unwrap();
    let mut logs = Vec::new();
    // Every backend that reports its steps (the log is derived from them).
    for mut backend in evmdiff_adapters::stepping_backends() {
        let mut log = RwLog::default();
        backend.execute_observed(&case, &profile, &mut log).unwrap();
        logs.push(log.ops);
    }
    assert!(logs.len() >= 2, "{} backends report steps", logs.len());
    for l in &logs[1..] {
        assert_eq!(&logs[0], l);
    }
    let ops: Vec<(Rw, Target, u64, u64)> = logs[0]
        .iter()
        .map(|o| (o.rw, o.target, o.key.to::<u64>(), o.value.to::<u64>()))
        .collect();
    use Rw::{R, W};
    use Target::{Stack, Storage};
    assert_eq!(
        ops,
        [
            (W, Stack, 0, 5),
            (W, Stack, 1, 1),
            (R, Stack, 1, 1),
            (R, Stack, 0, 5),
            (W, Storage, 1, 5),
            (W, Stack, 0, 1),
            (R, Stack, 0, 1),
            (R, Storage, 1, 5),
            (W, Stack, 0, 5),
        ]
    );
    assert!(logs[0].iter().all(|o| o.address == target && o.depth == 1));
}

/// revm's refund counter in steps is the transaction's (geth's and the execution spec's),
/// not revm's per-frame one: after the caller clears a slot (4,800 under Cancun), the callee's
/// first step shows 4,800 although the callee's own frame has earned nothing.
#[test]
fn refund_in_steps_is_the_transactions() {
    let file = read_file(&regression("codecopy_msize")).unwrap();
    let mut case = file.cases.into_iter().next().unwrap();
    let target = case.tx().unwrap().to.unwrap();
    let callee = alloy_primitives::Address::repeat_byte(0xca);
    // PUSH0 PUSH1 1 SSTORE; PUSH0 x5 PUSH20 callee GAS CALL STOP
    let mut code = vec![0x5f, 0x60, 1, 0x55, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x73];
    code.extend_from_slice(callee.as_slice());
    code.extend_from_slice(&[0x5a, 0xf1, 0x00]);
    let acc = case.pre.get_mut(&target).unwrap();
    acc.code = code.into();
    acc.storage.insert(
        alloy_primitives::U256::from(1),
        alloy_primitives::U256::from(1),
    );
    case.pre.insert(
        callee,
        evmdiff_core::Account {
            code: vec![0x5f, 0x50, 0x00].into(), // PUSH0 POP STOP
            ..Default::default()
        },
    );
    let profile = evmdiff_core::Profile::load("mainnet-cancun").unwrap();
    let mut revm = evmdiff_adapters::backend("revm").unwrap();
    let mut rec = evmdiff_core::trace::Recorder::default();
    revm.execute_observed(&case, &profile, &mut rec).unwrap();
    let first_in_callee = rec.steps.iter().find(|s| s.depth == 2).unwrap();
    assert_eq!(first_in_callee.refund, Some(4800));
    // Before the SSTORE the counter is 0; the caller's step after the CALL keeps 4,800.
    assert_eq!((rec.steps[2].op, rec.steps[2].refund), (0x55, Some(0)));
    assert_eq!(rec.steps[3].refund, Some(4800));
    assert_eq!(rec.steps.last().unwrap().refund, Some(4800));
}
