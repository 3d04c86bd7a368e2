//! The external backends (the Python execution spec `eels`, `ethereumjs`, `pyevm`, and the
//! generic state-test runner) on real generated cases, and the supervision of their worker
//! processes. Their fixture replay and scenario table are the conformance suite's
//! (`conformance/tests/`). These need the runtimes of `scripts/setup-external.sh`: run it
//! first (CI does); a missing runtime fails the test with the command that installs it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use evmdiff::execute::{Verdict, run_case};
use evmdiff_adapters::worker::{BackendsFile, Declared, JsonWorker, ProcessSpec};
use evmdiff_adapters::{any_backend, backend};
use evmdiff_core::expect::Check;
use evmdiff_core::statetest::{json_files, read_file};
use evmdiff_core::{Backend, BackendError, Profile};
use evmdiff_oracle::seal::campaign_case as generate_case;

fn fixtures(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/ethereum-tests/GeneralStateTests")
        .join(rel)
}

/// Generated cases under `profile` on revm and the worker `name`: every outcome must agree
/// (the profile's rules are applied inside the worker's implementation). A few generated
/// cases run millions of instructions, minutes in Python: the worker's timeout is 10 s and
/// at most a tenth of the cases may exceed it.
fn agrees_with_revm_under(name: &str, profile: &str, cases: u64) {
    let profile = Profile::load(profile).expect("built-in profile");
    let shipped = BackendsFile::shipped();
    let known = shipped.find_worker(name).expect("shipped worker");
    known.check_installed().unwrap_or_else(|e| panic!("{e}"));
    let mut spec = known.spec();
    spec.timeout = Duration::from_secs(10);
    let mut backends: Vec<Box<dyn Backend>> = vec![
        backend("revm").expect("revm"),
        Box::new(known.backend_with(spec)),
    ];
    let (mut agreed, mut timeouts, mut known) = (0, 0, 0);
    let mut differing = Vec::new();
    for i in 0..cases {
        let Some((_, case)) = generate_case(&profile, 11, i) else {
            continue;
        };
        if name == "ethereumjs" && case.is_chain() {
            // docs/findings.md #5: the ethereumjs worker's chains keep the storage of a
            // contract an earlier transaction destroyed (checked on its own below), and in
            // some chains its listed state parts from its own root. Its chains are checked by
            // the BlockchainTests replay (tests/chains.rs) until that is understood.
            continue;
        }
        let run = run_case(&mut backends, &case, &profile);
        match (&run.verdict, &run.executions[1].result) {
            (Verdict::Agree, _) => agreed += 1,
            (Verdict::Diverge, _) if name == "pyevm" && below_the_calldata_floor(&run) => {
                known += 1
            }
            (Verdict::Diverge, _) if shipped_as_known(&run, &profile) => known += 1,
            (Verdict::Diverge, _) => differing.push(format!("case {i}: {:?}", run.divergences)),
            (_, Err(BackendError::Timeout(_))) => timeouts += 1,
            (_, Err(BackendError::Unsupported(_))) => {}
            (_, other) => differing.push(format!("case {i}: {other:?}")),
        }
    }
    assert!(
        differing.is_empty() && timeouts <= cases / 10 && agreed > 0,
        "{name} under {}: {agreed} agree, {timeouts} timeouts, {known} known deviations, {} differ:\n{}",
        profile.name,
        differing.len(),
        differing.join("\n")
    );
}

/// py-evm 0.12.1b1's classified Prague deviation (docs/backends.md): a transaction whose gas
/// limit is below its EIP-7623 calldata floor is executed instead of refused. revm names the
/// reason it refuses it.
/// Every divergence of `run` is a difference evmdiff ships as known (corpus/allow/: for
/// py-evm, the transactions it accepts that the spec refuses, which generated chains carry).
fn shipped_as_known(run: &evmdiff::execute::CaseRun, profile: &Profile) -> bool {
    let allow = evmdiff_oracle::allowlist::Allowlist::shipped();
    !run.divergences.is_empty()
        && run.divergences.iter().all(|d| {
            allow
                .reason(&evmdiff_triage::signature::signature(d, &profile.name))
                .is_some()
        })
}

fn below_the_calldata_floor(run: &evmdiff::execute::CaseRun) -> bool {
    matches!(
        &run.executions[0].result,
        Ok(o) if o.last_tx().is_some_and(|t| t.detail.contains("GasFloorMoreThanGasLimit"))
    ) && matches!(
        &run.executions[1].result,
        Ok(o) if o.last_tx().is_some_and(|t| t.status != evmdiff_core::Status::Rejected)
    )
}

/// The file `corpus/worker-regressions/<file>` run under `profile` on revm, the execution
/// spec and the shipped worker `worker`.
fn worker_regression(file: &str, profile: &str, worker: &str) -> evmdiff::execute::CaseRun {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus/worker-regressions")
        .join(file);
    let case = read_file(&path).unwrap().cases.remove(0);
    let profile = Profile::load(profile).unwrap();
    let mut backends: Vec<Box<dyn Backend>> = vec![backend("revm").unwrap()];
    for name in ["eels", worker] {
        let worker = BackendsFile::shipped().find_worker(name).unwrap().clone();
        worker.check_installed().unwrap_or_else(|e| panic!("{e}"));
        backends.push(Box::new(worker.backend()));
    }
    run_case(&mut backends, &case, &profile)
}

/// docs/findings.md #5, minimized from a chain campaign under eip7530-b (Shanghai): a
/// contract SSTOREs then SELFDESTRUCTs in one transaction, and a later transaction of the
/// chain calls its (now empty) address. revm and the execution spec end with the account
/// gone; ethereumjs keeps its slot. A deviation that stops occurring fails this test.
#[test]
fn ethereumjs_keeps_the_storage_of_a_contract_destroyed_earlier_in_the_chain() {
    let run = worker_regression(
        "ethereumjs_destroyed_storage_in_a_later_transaction.json",
        "eip7530-b",
        "ethereumjs",
    );
    let others: Vec<&str> = run.divergences.iter().map(|d| d.right.as_str()).collect();
    assert_eq!(others, ["ethereumjs"], "{:?}", run.divergences);
    assert!(
        run.divergences[0]
            .differences
            .iter()
            .all(|d| d.field.kind() == "state.storage"),
        "{:?}",
        run.divergences
    );
}

/// docs/findings.md #6, found by the hunt (`scripts/hunt.sh`, revm against py-evm under
/// eip7530-b) and minimized: `CREATE(1, 0, 49153)`, init code one byte over EIP-3860's limit.
/// The calling frame must halt (revm, the execution spec); py-evm 0.12.1b1 fails only the
/// child creation, pushes 0 and runs on. A deviation that stops occurring fails this test.
#[test]
fn pyevm_runs_on_after_a_create_over_the_initcode_limit() {
    let run = worker_regression(
        "pyevm_create_initcode_over_limit.json",
        "eip7530-b",
        "pyevm",
    );
    let others: Vec<&str> = run.divergences.iter().map(|d| d.right.as_str()).collect();
    assert_eq!(others, ["pyevm"], "{:?}", run.divergences);
    let status = run.divergences[0]
        .differences
        .iter()
        .find(|d| d.field.kind() == "status")
        .unwrap_or_else(|| panic!("{:?}", run.divergences));
    assert!(status.left.starts_with("halt("), "{status:?}");
    assert_eq!(status.right, "success", "{status:?}");
}

/// The execution spec's transition tool (`spec-t8n` in `backends.toml`, `kind = "t8n"`) runs
/// generated state tests and chains, block by block, and agrees with revm on every one: status,
/// gas and logs of every transaction, the state after each block.
#[test]
fn the_spec_t8n_tool_agrees_with_revm_on_chains_and_state_tests() {
    let file = BackendsFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("backends.toml"))
        .expect("the repository's backends file");
    let t8n = any_backend("spec-t8n", &file).unwrap_or_else(|e| panic!("{e}"));
    assert!(t8n.capabilities().chains, "a t8n tool runs chains");
    let mut backends: Vec<Box<dyn Backend>> = vec![backend("revm").unwrap(), t8n];
    let profile = Profile::load("mainnet-cancun").unwrap();
    let (mut chains, mut singles, mut differing) = (0, 0, Vec::new());
    for i in 0..24 {
        let Some((_, case)) = generate_case(&profile, 3, i) else {
            continue;
        };
        let run = run_case(&mut backends, &case, &profile);
        match (&run.verdict, &run.executions[1].result) {
            (Verdict::Agree, _) if case.is_chain() => chains += 1,
            (Verdict::Agree, _) => singles += 1,
            (_, r) => differing.push(format!(
                "case {i}: {:?} {:?}",
                run.divergences,
                r.as_ref().err()
            )),
        }
    }
    assert!(
        differing.is_empty() && chains >= 3 && singles >= 10,
        "{chains} chains and {singles} state tests agree; differing:\n{}",
        differing.join("\n")
    );
}

#[test]
fn eels_applies_profiles_like_revm() {
    for p in ["eip7530-b", "polygon-zkevm", "linea", "scroll"] {
        agrees_with_revm_under("eels", p, 60);
    }
}

#[test]
fn ethereumjs_applies_profiles_like_revm() {
    for p in ["eip7530-b", "polygon-zkevm", "linea", "scroll"] {
        agrees_with_revm_under("ethereumjs", p, 150);
    }
}

#[test]
fn pyevm_applies_profiles_like_revm() {
    // py-evm stops at Prague: the Osaka-based profiles are unsupported there.
    for p in ["eip7530-b", "polygon-zkevm", "mainnet-prague"] {
        agrees_with_revm_under("pyevm", p, 100);
    }
}

#[test]
fn the_statetest_runner_agrees_with_revm_on_fixtures() {
    let file = BackendsFile::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("backends.toml"))
        .expect("backends.toml parses");
    let mut backends: Vec<Box<dyn Backend>> = vec![
        backend("revm").expect("revm"),
        any_backend("spec-statetest", &file).expect("runner"),
    ];
    let mut agreed = 0;
    for f in json_files(&fixtures("stExample")).unwrap() {
        for case in &read_file(&f).unwrap().cases {
            let run = run_case(&mut backends, case, &Profile::mainnet(case.fork));
            assert_eq!(
                run.verdict,
                Verdict::Agree,
                "{}: {:?} {:?}",
                case.name,
                run.divergences,
                run.executions[1].result
            );
            assert_eq!(run.executions[1].check, Check::Pass, "{}", case.name);
            agreed += 1;
        }
    }
    assert!(agreed >= 30, "{agreed} cases");
}

/// The worker script of `eels` with a timeout too short for a 7 million gas loop.
#[test]
fn a_worker_over_its_timeout_is_killed_restarted_and_the_case_fails() {
    let shipped = BackendsFile::shipped();
    let known = shipped.find_worker("eels").unwrap();
    known.check_installed().unwrap_or_else(|e| panic!("{e}"));
    let mut spec = known.spec();
    spec.timeout = Duration::from_secs(5);
    let mut worker = known.backend_with(spec);
    let profile = Profile::mainnet(evmdiff_core::Fork::Cancun);
    let small = read_file(&fixtures("stExample/add11.json")).unwrap().cases[0].clone();
    worker.execute(&small, &profile).expect("warm-up case");
    // A loop of JUMPDEST ... JUMP over the whole gas limit: tens of seconds in the spec.
    let mut heavy = small.clone();
    let to = heavy
        .tx()
        .and_then(|t| t.to)
        .expect("add11 calls a contract");
    heavy.pre.get_mut(&to).unwrap().code =
        alloy_primitives::Bytes::from_static(&[0x5b, 0x60, 0x00, 0x56]);
    heavy.blocks[0].txs[0].gas_limit = alloy_primitives::U256::from(30_000_000u64);
    heavy.blocks[0].env.gas_limit = alloy_primitives::U256::from(30_000_000u64);
    let e = worker.execute(&heavy, &profile).unwrap_err();
    // A timeout is its own kind (a hang finding, not a crash), and the worker was asked to
    // stop first: Python prints where it was, which the finding keeps.
    let BackendError::Timeout(m) = &e else {
        panic!("{e}")
    };
    assert!(m.contains("no answer within"), "{m}");
    assert!(
        m.contains("KeyboardInterrupt"),
        "no traceback in the stderr excerpt: {m}"
    );
    assert_eq!(worker.starts(), 1);
    worker
        .execute(&small, &profile)
        .expect("a fresh worker answers");
    assert_eq!(worker.starts(), 2, "the worker was restarted");
}

/// A stand-in for a worker that dies on its first request (the process supervision is under
/// test here, not an EVM): the case fails with the exit status and the worker's last stderr.
#[test]
fn a_worker_that_dies_is_a_failure_carrying_its_stderr() {
    let script = "import sys\nprint('{\"ready\": true, \"protocol\": 1}', flush=True)\nsys.stdin.readline()\nsys.stderr.write('Traceback: boom in the implementation\\n')\nsys.exit(3)\n";
    let spec = ProcessSpec {
        program: "python3".into(),
        args: vec!["-c".into(), script.into()],
        env: Vec::new(),
        cwd: None,
        timeout: Duration::from_secs(20),
    };
    let mut worker = JsonWorker::new(
        "dying",
        "0",
        Declared {
            forks: evmdiff_core::Fork::ALL.to_vec(),
            native: Vec::new(),
            steps: false,
            chains: false,
        },
        spec,
    );
    let case = read_file(&fixtures("stExample/add11.json")).unwrap().cases[0].clone();
    let e = worker
        .execute(&case, &Profile::mainnet(case.fork))
        .unwrap_err();
    let BackendError::Failed(m) = &e else {
        panic!("{e}")
    };
    assert!(m.contains("exit status: 3"), "{m}");
    assert!(m.contains("boom in the implementation"), "{m}");
}

#[test]
fn a_missing_runtime_says_how_to_install_it() {
    let mut k = BackendsFile::shipped().find_worker("eels").unwrap().clone();
    k.requires = Some(".external/not-installed/bin/python".into());
    let e = k.check_installed().unwrap_err();
    assert!(e.contains("scripts/setup-external.sh eels"), "{e}");
}

/// In a campaign, a worker over its timeout makes each such case one `hang` finding (not also
/// a crash and a slow one) whose detail carries what the worker last wrote on stderr.
#[test]
fn a_timed_out_case_is_one_hang_finding_with_the_workers_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .env("EVMDIFF_WORKER_TIMEOUT", "0.2")
        .args([
            "fuzz",
            "-b",
            "revm,eels",
            "--runs",
            "6",
            "--seed",
            "5",
            "--case-budget",
            "1s",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "campaign.json" && n != "stats.json")
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("hang-")) && !names.is_empty(),
        "{names:?}"
    );
    let text = std::fs::read_to_string(out.join(&names[0])).unwrap();
    assert!(text.contains("no answer within"), "{text}");
    assert!(
        text.contains("KeyboardInterrupt"),
        "no stderr in the finding: {text}"
    );
    // The report names the backend that hung, with the end of its stderr.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .args(["report", out.to_str().unwrap()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("> **Title:** eels: hang eels"), "{report}");
    assert!(report.contains("does not finish a"), "{report}");
    assert!(report.contains("KeyboardInterrupt"), "{report}");
    assert!(!report.contains(" ? "), "{report}");
}

/// A made-up rollup: Cancun with PREVRANDAO 0, SELFDESTRUCT invalid and ripemd160 halting.
const MY_ROLLUP: &str = "name = \"myrollup\"\nbase_fork = \"Cancun\"\n[opcodes]\nPREVRANDAO = { behaviour = \"constant\", value = 0 }\nSELFDESTRUCT = \"invalid\"\n[precompiles]\nripemd160 = \"halt\"\n";

/// A folder with `myrollup.toml` and a backends file declaring the execution spec twice as a
/// user's own worker: `my-spec` applies profiles from the protocol, `my-native` claims to
/// implement `myrollup` itself (it does not: it runs plain Cancun) — a planted divergence.
fn user_backends() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("myrollup.toml"), MY_ROLLUP).unwrap();
    let home = evmdiff_adapters::worker::home();
    let python = home.join(".external/eels/bin/python");
    let script = home.join("adapters/workers/eels_worker.py");
    let worker = |name: &str, extra: &str| {
        format!(
            "[[worker]]\nname = \"{name}\"\ncommand = [\"{}\", \"{}\"]\nenv = {{ PYTHONUNBUFFERED = \"1\" }}\nforks = [\"Cancun\", \"Prague\"]\n{extra}\n",
            python.display(),
            script.display()
        )
    };
    let file = format!(
        "{}{}{}[[runner]]\nname = \"my-statetest\"\ncommand = [\"{}\", \"statetest\", \"--json\", \"--nomemory\", \"--noreturndata\"]\nbatch = true\nprofiles = [\"myrollup.toml\"]\n",
        worker("my-spec", ""),
        worker("my-native", "profiles = [\"myrollup.toml\"]\nsteps = true"),
        worker("my-prover", "input = \"witness\""),
        home.join(".external/eels/bin/ethereum-spec-evm").display()
    );
    std::fs::write(dir.path().join("backends.toml"), file).unwrap();
    dir
}

/// Cases `backend` produced an outcome for, from a campaign's summary line
/// `cases with an outcome, per backend: evm 2000, revm 2000`.
fn outcomes_of(stdout: &str, backend: &str) -> u64 {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("cases with an outcome, per backend: "))
        .into_iter()
        .flat_map(|list| list.split(", "))
        .filter_map(|entry| entry.rsplit_once(' '))
        .find(|(name, _)| *name == backend)
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// The outcomes of `backend`, plus the chains it sat out if it runs single transactions
/// only: the cases it answered or said it would not run.
fn accounted_for(stdout: &str, backend: &str, runs_chains: bool) -> u64 {
    let chains: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("chains: "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    outcomes_of(stdout, backend) + if runs_chains { 0 } else { chains }
}

/// Whether the backend called `name` in `dir`'s backends file executes chains.
fn runs_chains(dir: &Path, name: &str) -> bool {
    let file = evmdiff_adapters::worker::BackendsFile::load(&dir.join("backends.toml")).unwrap();
    evmdiff_adapters::registry::Registry::builtin()
        .with_runners(file)
        .make(name)
        .map(|b| b.capabilities().chains)
        .unwrap_or(false)
}

/// `evmdiff --backends-file backends.toml fuzz -b BACKENDS --profile PROFILE --runs RUNS`
/// (seed 3) in `dir`: its stdout, after checking it exited 0.
fn user_campaign(dir: &Path, backends: &str, profile: &str, runs: &str) -> String {
    let o = evmdiff_in(
        dir,
        &[
            "--backends-file",
            "backends.toml",
            "fuzz",
            "-b",
            backends,
            "--profile",
            profile,
            "--runs",
            runs,
            "--seed",
            "3",
            "--out",
            "out",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn evmdiff_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_evmdiff"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_users_own_worker_runs_under_a_users_profile_and_agrees_with_revm() {
    let dir = user_backends();
    let stdout = user_campaign(dir.path(), "revm,my-spec", "myrollup.toml", "150");
    // The execution spec may take longer than its timeout on a heavy case (a hang finding):
    // every other case has an outcome, and none diverges.
    let chains = runs_chains(dir.path(), "my-spec");
    assert!(accounted_for(&stdout, "my-spec", chains) >= 145, "{stdout}");
    assert!(stdout.contains(" 0 divergent"), "{stdout}");
}

/// The witness form: a worker sent only what revm's execution read, with its trie proofs,
/// executes statelessly; its answer, completed with the untouched rest of the state, agrees
/// with revm's.
#[test]
fn a_stateless_worker_sent_witnesses_agrees_with_revm() {
    let dir = user_backends();
    let stdout = user_campaign(dir.path(), "revm,my-prover", "myrollup.toml", "60");
    let chains = runs_chains(dir.path(), "my-prover");
    assert!(
        accounted_for(&stdout, "my-prover", chains) >= 55,
        "{stdout}"
    );
    assert!(stdout.contains(" 0 divergent"), "{stdout}");
}

#[test]
fn a_backend_native_for_a_profile_it_does_not_implement_is_caught() {
    let dir = user_backends();
    let stdout = user_campaign(dir.path(), "revm,my-native", "myrollup.toml", "40");
    // It runs (declared native, so it does not sit out), gets the case with no rules, and
    // parts from revm, which applies them.
    let chains = runs_chains(dir.path(), "my-native");
    assert!(
        accounted_for(&stdout, "my-native", chains) >= 35,
        "{stdout}"
    );
    assert!(!stdout.contains(" 0 divergent"), "{stdout}");
    assert!(stdout.contains("revm|my-native myrollup"), "{stdout}");
    // It streams its steps (`steps = true`): the divergence is signed by its first differing
    // instruction, the rule it does not implement, as one between two in-process EVMs is.
    assert!(
        stdout.contains("revm|my-native myrollup step after PREVRANDAO: stack"),
        "{stdout}"
    );
}

#[test]
fn a_runner_runs_the_profiles_it_declares_and_sits_out_the_others() {
    let dir = user_backends();
    // Declared native for myrollup (which the spec's runner does not implement): it runs,
    // and it parts from revm.
    let stdout = user_campaign(dir.path(), "revm,my-statetest", "myrollup.toml", "20");
    assert!(stdout.contains("my-statetest "), "{stdout}");
    assert!(!stdout.contains(" 0 divergent"), "{stdout}");
    // Not declared for scroll, and it cannot apply rules: it sits out, said first.
    let o = evmdiff_in(
        dir.path(),
        &[
            "--backends-file",
            "backends.toml",
            "fuzz",
            "-b",
            "revm,levm,my-statetest",
            "--profile",
            "scroll",
            "--runs",
            "10",
            "--out",
            "out2",
        ],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr
            .lines()
            .next()
            .is_some_and(|l| l.contains("my-statetest sits out")),
        "{stderr}"
    );
}

/// Every external backend that reports its steps (the execution spec's worker streaming them,
/// its state-test runner printing EIP-3155 lines) replays them into the same comparator as
/// the in-process backends: on generated cases they agree with revm step for step, once
/// their quirks are canonicalized where they enter (the refund printed after the
/// instruction, the implicit STOP, precompile pseudo-steps, memory left out).
#[test]
fn recorded_steps_agree_with_revm_step_for_step() {
    let profile = Profile::load("mainnet-cancun").unwrap();
    let runners = BackendsFile::load(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("backends.toml")
            .as_path(),
    )
    .expect("the repository's backends file");
    for name in ["eels", "ethereumjs", "spec-statetest"] {
        let mut other = any_backend(name, &runners).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            other.observes_steps() && !other.observes_live_steps(),
            "{name} reports recorded steps"
        );
        let mut revm = backend("revm").unwrap();
        let (mut compared, mut steps) = (0, 0);
        let mut parted = Vec::new();
        for i in 0..56 {
            let Some((_, case)) = generate_case(&profile, 21, i) else {
                continue;
            };
            // Steps come for state tests only (a chain's are not streamed).
            if !other.observes_steps_of(&case) {
                continue;
            }
            let mut recorder = evmdiff_core::trace::Recorder::with_state();
            if let Err(e) = other.execute_observed(&case, &profile, &mut recorder) {
                eprintln!("{name} case {i}: {e}");
                continue;
            }
            compared += 1;
            steps += recorder.steps.len();
            match evmdiff_core::lockstep::lockstep(revm.as_mut(), other.as_mut(), &case, &profile) {
                Ok(None) => {}
                // ethereumjs's streamed refund counter parts from revm's on one generated state
                // test (seed 21, case 28, first met when chains entered the swarm): not yet
                // examined, noted in docs/backends.md; only a refund-only parting is let by.
                Ok(Some(d)) if name == "ethereumjs" && d.fields == ["refund"] => {
                    eprintln!("ethereumjs case {i}: {} (refund only, noted)", d.summary());
                }
                Ok(Some(d)) => {
                    parted.push(format!("case {i}: {} at step {}", d.summary(), d.index))
                }
                Err(e) => parted.push(format!("case {i}: {e}")),
            }
        }
        assert!(
            parted.is_empty() && compared >= 30 && steps > 1000,
            "{name}: {compared} cases, {steps} steps; parted:\n{}",
            parted.join("\n")
        );
    }
}

/// `evmdiff check`: a user's worker is started (its hello shown), replays fixtures at the
/// forks it declares, runs the scenarios it can, and is judged fit (exit 0); a worker saying
/// another protocol version is not fit (exit 1, the reason said); an unknown name is bad
/// input (exit 2).
#[test]
fn check_says_whether_a_users_worker_is_fit_to_fuzz() {
    let dir = user_backends();
    let mut file = std::fs::read_to_string(dir.path().join("backends.toml")).unwrap();
    file.push_str(
        "[[worker]]\nname = \"wrong-version\"\ncommand = [\"python3\", \"-c\", \"import time; print('{\\\"ready\\\": true, \\\"protocol\\\": 2}', flush=True); time.sleep(30)\"]\n",
    );
    std::fs::write(dir.path().join("backends.toml"), file).unwrap();
    let stexample = fixtures("stExample");
    let check = |backends: &str| {
        evmdiff_in(
            dir.path(),
            &[
                "--backends-file",
                "backends.toml",
                "check",
                backends,
                "--fixtures",
                stexample.to_str().unwrap(),
            ],
        )
    };
    let o = check("my-spec");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("\"protocol\":1"), "{stdout}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("my-spec "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.ends_with("yes") && row.contains("39/0/0"), "{row}");
    let o = check("wrong-version");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("speaks protocol version 2"), "{stdout}");
    let o = check("nosuch");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown backend `nosuch`"));
}

/// A selected backend that produces no outcome on any case, without having said it sits out,
/// fails the run (exit 1, with what it answered); declared `rules = false`, the same worker
/// sits a profile with rules out, said before the first case, and the run passes.
#[test]
fn a_backend_that_does_nothing_fails_the_run_unless_it_said_it_sits_out() {
    let dir = tempfile::tempdir().unwrap();
    let idle = "import json, sys\nprint(json.dumps({'ready': True, 'protocol': 1}), flush=True)\nfor line in sys.stdin:\n    print(json.dumps({'id': json.loads(line)['id'], 'unsupported': 'nothing here'}), flush=True)\n";
    std::fs::write(dir.path().join("idle.py"), idle).unwrap();
    let file = |extra: &str| {
        format!("[[worker]]\nname = \"idle\"\ncommand = [\"python3\", \"idle.py\"]\n{extra}")
    };
    let fuzz = |out: &str| {
        evmdiff_in(
            dir.path(),
            &[
                "--backends-file",
                "backends.toml",
                "fuzz",
                "-b",
                "revm,levm,idle",
                "--profile",
                "eip7530-b",
                "--runs",
                "10",
                "--out",
                out,
            ],
        )
    };
    std::fs::write(dir.path().join("backends.toml"), file("")).unwrap();
    let o = fuzz("out1");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("backend idle produced no outcome on any case (it answered: nothing here)"),
        "{stderr}"
    );
    std::fs::write(dir.path().join("backends.toml"), file("rules = false\n")).unwrap();
    let o = fuzz("out2");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(
        stderr
            .lines()
            .next()
            .is_some_and(|l| l.contains("backend idle sits out this campaign")),
        "{stderr}"
    );
}

/// A worker that says hello in `script` (Python), declared with `chains`.
fn scripted(name: &'static str, script: &str, chains: bool) -> JsonWorker {
    let spec = ProcessSpec {
        program: "python3".into(),
        args: vec!["-c".into(), script.into()],
        env: Vec::new(),
        cwd: None,
        timeout: Duration::from_secs(20),
    };
    JsonWorker::new(
        name,
        "0",
        Declared {
            forks: evmdiff_core::Fork::ALL.to_vec(),
            native: Vec::new(),
            steps: false,
            chains,
        },
        spec,
    )
}

/// A chain of one block of the add11 transaction.
fn a_chain() -> evmdiff_core::Case {
    let case = read_file(&fixtures("stExample/add11.json")).unwrap().cases[0].clone();
    let block = case.blocks[0].clone();
    evmdiff_core::Case::chain(
        "add11-chain",
        evmdiff_core::Fork::Cancun,
        case.pre.clone(),
        vec![(block.env, block.txs)],
    )
}

/// The chain form goes only to a worker declared `chains = true` whose hello says so: one not
/// declared sits a chain out (`unsupported`, no request sent); one declared but silent in its
/// hello is refused before its first case.
#[test]
fn chains_go_to_workers_that_declare_them_and_say_so() {
    let silent = "import sys\nprint('{\"ready\": true, \"protocol\": 1}', flush=True)\nsys.stdin.readline()\n";
    let case = a_chain();
    let profile = Profile::mainnet(evmdiff_core::Fork::Cancun);
    let mut undeclared = scripted("undeclared", silent, false);
    assert!(!undeclared.capabilities().chains);
    let e = undeclared.execute(&case, &profile);
    assert!(matches!(e, Err(BackendError::Unsupported(_))), "{e:?}");
    assert_eq!(undeclared.starts(), 0, "started for a case it cannot run");

    let mut declared = scripted("declared", silent, true);
    assert!(declared.capabilities().chains);
    let Err(BackendError::Failed(m)) = declared.execute(&case, &profile) else {
        panic!("a worker whose hello does not say chains was used")
    };
    assert!(m.contains("\"chains\": true"), "{m}");
}

/// A chain answer is checked like a state-test answer: a block with neither `end` nor
/// `invalid`, or an `end` whose listed state does not hash to its `stateRoot`, breaks the
/// protocol.
#[test]
fn a_malformed_chain_answer_breaks_the_protocol() {
    let case = a_chain();
    let profile = Profile::mainnet(evmdiff_core::Fork::Cancun);
    for (answer, says) in [
        ("{\"txs\": []}", "neither `end` nor `invalid`"),
        (
            "{\"txs\": [], \"end\": {\"post\": {}, \"gasUsed\": \"0x0\", \"stateRoot\": \"0x0000000000000000000000000000000000000000000000000000000000000001\"}}",
            "hashes to",
        ),
    ] {
        let script = format!(
            "import sys, json\nprint(json.dumps({{'ready': True, 'protocol': 1, 'chains': True}}), flush=True)\nfor line in sys.stdin:\n    rid = json.loads(line)['id']\n    print(json.dumps({{'id': rid, 'blocks': [json.loads({answer:?})]}}), flush=True)\n"
        );
        let mut worker = scripted("malformed", &script, true);
        let Err(BackendError::Failed(m)) = worker.execute(&case, &profile) else {
            panic!("{says}: accepted")
        };
        assert!(m.contains("broke the protocol") && m.contains(says), "{m}");
    }
}
