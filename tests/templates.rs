//! The worker templates of `adapters/workers/templates/`, each declared in a backends file as
//! a team would declare its own worker, replaying real ethereum/tests fixtures through
//! evmdiff's library: every outcome is checked against the fixture's own expectation and
//! compared with revm's. Needs py-evm (`scripts/setup-external.sh pyevm`) and the ethereumjs
//! modules (`scripts/setup-external.sh ethereumjs`), as `tests/external_backends.rs` does.

use std::path::Path;
use std::time::Instant;

use evmdiff::execute::{Verdict, run_case};
use evmdiff_adapters::backend;
use evmdiff_adapters::worker::BackendsFile;
use evmdiff_core::expect::{Check, check, skip_reason};
use evmdiff_core::statetest::{json_files, read_file};
use evmdiff_core::{Backend, BackendError, Fork, Profile};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The fixture folders replayed: every Cancun and Shanghai folder of GeneralStateTests.
const FOLDERS: &[&str] = &["Cancun", "Shanghai"];

/// The backends file a team would write for `command`, in its own temporary folder.
fn declare(dir: &Path, name: &str, command: &[String]) -> BackendsFile {
    declare_with(dir, name, command, "")
}

/// [`declare`], with `extra` lines in the worker's entry.
fn declare_with(dir: &Path, name: &str, command: &[String], extra: &str) -> BackendsFile {
    let toml = format!(
        "[[worker]]\nname = \"{name}\"\ncommand = {command:?}\n\
         forks = [\"Shanghai\", \"Cancun\"]\ntimeout_secs = 60\n{extra}"
    );
    let path = dir.join("backends.toml");
    std::fs::write(&path, toml).unwrap();
    BackendsFile::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn python() -> String {
    let p = root().join(".external/pyevm/bin/python");
    assert!(
        p.exists(),
        "py-evm is not installed: run `scripts/setup-external.sh pyevm`"
    );
    p.display().to_string()
}

fn template(file: &str) -> String {
    root()
        .join("adapters/workers/templates")
        .join(file)
        .display()
        .to_string()
}

/// What the replay of one template saw.
#[derive(Default, Debug)]
struct Tally {
    cases: usize,
    passed: usize,
    agreed: usize,
    failures: Vec<String>,
}

/// Replays every case of [`FOLDERS`] on revm and the template `name` started by `command`.
fn replay(name: &str, command: &[String]) -> Tally {
    let dir = tempfile::tempdir().unwrap();
    let file = declare(dir.path(), name, command);
    let worker = file.find_worker(name).expect("declared");
    let mut backends: Vec<Box<dyn Backend>> =
        vec![backend("revm").expect("revm"), Box::new(worker.backend())];
    let fixtures = root().join("../shared/fixtures/ethereum-tests/GeneralStateTests");
    let mut t = Tally::default();
    for folder in FOLDERS {
        for path in json_files(&fixtures.join(folder)).unwrap() {
            if skip_reason(&path).is_some() {
                continue;
            }
            let short = path.strip_prefix(&fixtures).unwrap_or(&path).display();
            for case in read_file(&path).unwrap().cases {
                if !matches!(case.fork, Fork::Shanghai | Fork::Cancun) {
                    continue;
                }
                t.cases += 1;
                let run = run_case(&mut backends, &case, &Profile::mainnet(case.fork));
                let what = match &run.executions[1].result {
                    Ok(outcome) => check(&case, outcome),
                    Err(e) => Check::Fail(e.to_string()),
                };
                if what == Check::Pass {
                    t.passed += 1;
                }
                if run.verdict == Verdict::Agree {
                    t.agreed += 1;
                }
                if what != Check::Pass || run.verdict != Verdict::Agree {
                    t.failures.push(format!(
                        "{short} {}: {what:?}, {:?} {:?}",
                        case.name, run.verdict, run.divergences
                    ));
                }
            }
        }
    }
    t
}

/// The template's replay holds its floors: at least `min_cases` cases, and at least
/// `min_pass` and `min_agree` (fractions) reproduce the expectation and agree with revm.
fn holds(name: &str, command: &[String], min_cases: usize, min_pass: f64, min_agree: f64) {
    let started = Instant::now();
    let t = replay(name, command);
    let (pass, agree) = (
        t.passed as f64 / t.cases.max(1) as f64,
        t.agreed as f64 / t.cases.max(1) as f64,
    );
    println!(
        "{name}: {} cases, {} pass ({:.1}%), {} agree with revm ({:.1}%), in {:.1?}\n{}",
        t.cases,
        t.passed,
        pass * 100.0,
        t.agreed,
        agree * 100.0,
        started.elapsed(),
        t.failures.join("\n")
    );
    assert!(t.cases >= min_cases, "{name}: only {} cases", t.cases);
    assert!(
        pass >= min_pass && agree >= min_agree,
        "{name}: {} of {} pass, {} agree:\n{}",
        t.passed,
        t.cases,
        t.agreed,
        t.failures.join("\n")
    );
}

/// The cases each template must hold to. py-evm 0.12.1b1 fails one case on its own account:
/// it accepts a blob transaction that creates a contract (`createBlobhashTx`, a known
/// deviation, see `adapters/workers/pyevm_worker.py`).
#[test]
fn the_python_template_reproduces_fixtures_and_agrees_with_revm() {
    holds("pyevm-template", &python_template(), 200, 0.995, 0.995);
}

#[test]
fn the_js_template_reproduces_fixtures_and_agrees_with_revm() {
    holds("ethereumjs-template", &js_template(), 200, 0.995, 0.995);
}

fn python_template() -> Vec<String> {
    vec![python(), template("python_worker.py")]
}

fn js_template() -> Vec<String> {
    vec!["node".into(), template("js_worker.mjs")]
}

fn push0() -> evmdiff_core::Case {
    read_file(&root().join(
        "../shared/fixtures/ethereum-tests/GeneralStateTests/Shanghai/stEIP3855-push0/push0.json",
    ))
    .unwrap()
    .cases[0]
        .clone()
}

/// Mainnet Shanghai and Cancun only: a profile or another fork is `unsupported`, and the
/// worker stays in step for the next case.
#[test]
fn the_templates_answer_unsupported_outside_what_they_run() {
    let dir = tempfile::tempdir().unwrap();
    let case = push0();
    let profiled = Profile::load("polygon-zkevm").expect("built-in profile");
    for (name, command) in [("py", python_template()), ("js", js_template())] {
        let mut worker = declare(dir.path(), name, &command)
            .find_worker(name)
            .unwrap()
            .backend();
        for profile in [&profiled, &Profile::mainnet(Fork::Prague)] {
            let e = worker.execute(&case, profile);
            assert!(
                matches!(e, Err(BackendError::Unsupported(_))),
                "{name} under {}: {e:?}",
                profile.name
            );
        }
        let o = worker.execute(&case, &Profile::mainnet(case.fork)).unwrap();
        assert_eq!(check(&case, &o), Check::Pass, "{name}");
        assert_eq!(worker.starts(), 1, "{name} was restarted");
    }
}

/// A copy of each template whose hello says `"protocol": 2` is refused before its first case.
#[test]
fn a_template_saying_another_protocol_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let case = push0();
    for (file, hello, program) in [
        ("python_worker.py", "\"protocol\": 1", python()),
        ("js_worker.mjs", "protocol: 1", "node".to_string()),
    ] {
        let text = std::fs::read_to_string(template(file)).unwrap();
        assert_eq!(text.matches(hello).count(), 1, "{file}: one `{hello}`");
        // In a folder of its own, next to a link to `ethereumjs/`, where the ethereumjs
        // template looks for its modules.
        let copy = dir.path().join("templates").join(file);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        let ejs = dir.path().join("ethereumjs");
        if !ejs.exists() {
            std::os::unix::fs::symlink(root().join("adapters/workers/ethereumjs"), ejs).unwrap();
        }
        std::fs::write(&copy, text.replace(hello, &hello.replace('1', "2"))).unwrap();
        let name = format!("v2-{}", file.replace('.', "-"));
        let declared = declare(dir.path(), &name, &[program, copy.display().to_string()]);
        let mut worker = declared.find_worker(&name).unwrap().backend();
        let e = worker.execute(&case, &Profile::mainnet(case.fork));
        let Err(BackendError::Failed(m)) = e else {
            panic!("{file}: {e:?}")
        };
        assert!(m.contains("protocol version 2"), "{file}: {m}");
    }
}

/// A Cancun chain of two blocks: transient storage set and read across transactions, an
/// invalid transaction dropped, BLOCKHASH of the first block, the EIP-4788 contract written
/// before the transactions, a withdrawal after them.
fn a_chain() -> evmdiff_core::Case {
    use alloy_primitives::{Address, B256, Bytes, U256, address, b256, bytes};
    use evmdiff_core::case::{BlockEnv, Transaction, Withdrawal};
    use evmdiff_core::{Account, Case, State};
    const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
    const KEY: B256 = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
    const TARGET: Address = address!("00000000000000000000000000000000000c0de1");
    // With call data: TSTORE(0, 7), SSTORE(0, 1); without: SSTORE(1, TLOAD(0)),
    // SSTORE(2, SLOAD(0)); then SSTORE(3, BLOCKHASH(1)).
    let code = bytes!("3660175760005c600155600054600255600140600355005b600760005d600160005500");
    let beacon = bytes!(
        "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"
    );
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(18)),
            ..Account::default()
        },
    );
    for (a, c) in [
        (TARGET, code),
        (evmdiff_core::block_processing::BEACON_ROOTS, beacon),
    ] {
        pre.insert(
            a,
            Account {
                code: c,
                nonce: 1,
                ..Account::default()
            },
        );
    }
    let env = |n: u64| BlockEnv {
        coinbase: address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba"),
        gas_limit: U256::from(30_000_000u64),
        number: U256::from(n),
        timestamp: U256::from(1_000 + 12 * n),
        difficulty: U256::ZERO,
        base_fee: Some(U256::from(7)),
        random: Some(B256::repeat_byte(n as u8)),
        excess_blob_gas: Some(0),
        chain_id: 1,
    };
    let tx = |nonce: u64, data: Bytes| {
        let mut t = Transaction::legacy(SENDER, KEY, Some(TARGET), data, 100_000, 10);
        t.nonce = U256::from(nonce);
        t
    };
    let mut case = Case::chain(
        "template-chain",
        Fork::Cancun,
        pre,
        vec![
            (
                env(1),
                vec![
                    tx(0, bytes!("01")),
                    tx(7, Bytes::new()),
                    tx(1, Bytes::new()),
                ],
            ),
            (env(2), vec![tx(2, Bytes::new())]),
        ],
    );
    case.blocks[1].withdrawals = Some(vec![Withdrawal {
        index: 0,
        validator_index: 0,
        address: address!("00000000000000000000000000000000000000aa"),
        amount: 3,
    }]);
    case
}

/// Each template declared `chains = true` runs a chain as revm does, transaction by
/// transaction and block by block.
#[test]
fn the_templates_run_chains_as_revm_does() {
    use evmdiff_core::compare::compare_chains;
    let dir = tempfile::tempdir().unwrap();
    let case = a_chain();
    let profile = Profile::mainnet(case.fork);
    let reference = backend("revm").unwrap().execute(&case, &profile).unwrap();
    assert_eq!(reference.blocks.len(), 2);
    for (name, command) in [("py", python_template()), ("js", js_template())] {
        let mut worker = declare_with(dir.path(), name, &command, "chains = true\n")
            .find_worker(name)
            .unwrap()
            .backend();
        assert!(worker.capabilities().chains, "{name}");
        let o = worker
            .execute(&case, &profile)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let statuses: Vec<_> = o.txs().map(|t| t.status).collect();
        use evmdiff_core::Status::{Rejected, Success};
        assert_eq!(statuses, [Success, Rejected, Success, Success], "{name}");
        let d = compare_chains(&reference, &o);
        assert!(d.is_none(), "{name} differs from revm: {d:?}");
    }
}
