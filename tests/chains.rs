//! What a chain of transactions must do on every backend that executes chains: state carried
//! by the backend from one transaction to the next, transient storage cleared between them, an
//! invalid transaction dropped while the block goes on, BLOCKHASH reading the earlier headers,
//! the fork's system calls and the withdrawals. Written once, run over every backend whose
//! capabilities say it executes chains (built in, and installed workers that do).

mod spec;

use alloy_primitives::{Address, B256, Bytes, U256, address, b256, bytes};
use evmdiff_adapters::registry::Registry;
use evmdiff_core::block_processing::BEACON_ROOTS;
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::compare::compare_chains;
use evmdiff_core::{
    Account, Backend, BackendError, Case, ChainOutcome, Fork, Profile, State, Status,
};

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const SECRET: B256 = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
const TARGET: Address = address!("00000000000000000000000000000000000c0de1");
const COINBASE: Address = address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");

/// With call data: `TSTORE(0, 7)`, `SSTORE(0, 1)`. Without: `SSTORE(1, TLOAD(0))`,
/// `SSTORE(2, SLOAD(0))`.
const TRANSIENT: Bytes = bytes!("3660115760005c600155600054600255005b600760005d600160005500");

/// `SSTORE(3, BLOCKHASH(1))`.
const READS_BLOCKHASH: Bytes = bytes!("600140600355");

/// EIP-4788's beacon roots contract, as the fixtures deploy it.
const BEACON_ROOTS_CODE: Bytes = bytes!(
    "3373fffffffffffffffffffffffffffffffffffffffe14604d57602036146024575f5ffd5b5f35801560495762001fff810690815414603c575f5ffd5b62001fff01545f5260205ff35b5f5ffd5b62001fff42064281555f359062001fff015500"
);

/// Every backend that executes chains, the reference first.
fn chain_backends() -> Vec<Box<dyn Backend>> {
    let registry = Registry::builtin();
    let backends: Vec<Box<dyn Backend>> = registry
        .names()
        .iter()
        .filter_map(|n| registry.make(n).ok())
        .filter(|b| b.capabilities().chains)
        .collect();
    assert_eq!(backends[0].name(), "revm", "revm executes chains and leads");
    backends
}

fn env(number: u64) -> BlockEnv {
    BlockEnv {
        coinbase: COINBASE,
        gas_limit: U256::from(30_000_000u64),
        number: U256::from(number),
        timestamp: U256::from(1_000 + 12 * number),
        difficulty: U256::ZERO,
        base_fee: Some(U256::from(7)),
        random: Some(B256::repeat_byte(number as u8)),
        excess_blob_gas: Some(0),
        chain_id: 1,
    }
}

fn tx(nonce: u64, to: Address, data: Bytes) -> Transaction {
    let mut t = Transaction::legacy(SENDER, SECRET, Some(to), data, 100_000, 10);
    t.nonce = U256::from(nonce);
    t
}

fn pre(code: &[(Address, Bytes)]) -> State {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(18)),
            ..Account::default()
        },
    );
    for (a, c) in code {
        pre.insert(
            *a,
            Account {
                code: c.clone(),
                nonce: 1,
                ..Account::default()
            },
        );
    }
    pre
}

/// Runs `case` on every chain backend that has its fork (evm has no Prague) and checks
/// `expect` on each outcome; every outcome must also equal the reference's. A backend that
/// says the case is unsupported (py-evm's Prague) sits it out.
fn on_every_backend(case: &Case, expect: impl Fn(&str, &ChainOutcome)) {
    on_every_backend_under(case, &Profile::mainnet(case.fork), expect);
}

/// [`on_every_backend`] under `profile`, on the backends that can apply its rules.
fn on_every_backend_under(case: &Case, profile: &Profile, expect: impl Fn(&str, &ChainOutcome)) {
    let mut reference: Option<ChainOutcome> = None;
    let backends = chain_backends()
        .into_iter()
        .filter(|b| b.capabilities().forks.contains(&case.fork))
        .filter(|b| (b.capabilities().rules)(profile).is_none());
    for mut b in backends {
        let o = match b.execute(case, profile) {
            Ok(o) => o,
            Err(BackendError::Unsupported(why)) => {
                println!("{} sits out {}: {why}", b.name(), case.name);
                continue;
            }
            Err(e) => panic!("{}: {e}", b.name()),
        };
        expect(b.name(), &o);
        match &reference {
            None => reference = Some(o),
            Some(r) => {
                let d = compare_chains(r, &o);
                assert!(d.is_none(), "{} differs from revm: {d:?}", b.name());
            }
        }
    }
}

fn slot(o: &ChainOutcome, address: Address, key: u64) -> U256 {
    o.post()
        .and_then(|p| p.get(&address))
        .and_then(|a| a.storage.get(&U256::from(key)).copied())
        .unwrap_or_default()
}

#[test]
fn state_is_carried_and_transient_storage_cleared_between_transactions() {
    let case = Case::chain(
        "transient",
        Fork::Cancun,
        pre(&[(TARGET, TRANSIENT)]),
        vec![(
            env(1),
            vec![tx(0, TARGET, bytes!("01")), tx(1, TARGET, Bytes::new())],
        )],
    );
    on_every_backend(&case, |name, o| {
        let statuses: Vec<_> = o.txs().map(|t| t.status).collect();
        assert_eq!(statuses, [Status::Success, Status::Success], "{name}");
        assert_eq!(slot(o, TARGET, 0), U256::from(1), "{name}: first write");
        assert_eq!(slot(o, TARGET, 2), U256::from(1), "{name}: storage carried");
        assert_eq!(slot(o, TARGET, 1), U256::ZERO, "{name}: transient kept");
        assert_eq!(o.post().unwrap()[&SENDER].nonce, 2, "{name}: nonce");
    });
}

#[test]
fn an_invalid_transaction_is_dropped_and_the_block_goes_on() {
    let case = Case::chain(
        "dropped",
        Fork::Cancun,
        pre(&[(TARGET, TRANSIENT)]),
        vec![(
            env(1),
            vec![
                tx(0, TARGET, bytes!("01")),
                tx(5, TARGET, Bytes::new()),
                tx(1, TARGET, Bytes::new()),
            ],
        )],
    );
    on_every_backend(&case, |name, o| {
        let statuses: Vec<_> = o.txs().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            [Status::Success, Status::Rejected, Status::Success],
            "{name}"
        );
        assert_eq!(slot(o, TARGET, 2), U256::from(1), "{name}");
        let end = o.blocks[0].end.as_ref().expect("a block end");
        let used: u64 = o.txs().map(|t| t.gas_used).sum();
        assert_eq!(end.gas_used, used, "{name}: the dropped one used no gas");
    });
}

#[test]
fn blockhash_reads_the_earlier_headers() {
    let case = Case::chain(
        "blockhash",
        Fork::Cancun,
        pre(&[(TARGET, READS_BLOCKHASH)]),
        vec![
            (env(1), vec![]),
            (env(2), vec![tx(0, TARGET, Bytes::new())]),
        ],
    );
    let hash = case.block_hashes()[&1];
    assert_ne!(hash, evmdiff_core::case::filler_block_hash(1));
    on_every_backend(&case, |name, o| {
        assert_eq!(slot(o, TARGET, 3), U256::from_be_bytes(hash.0), "{name}");
    });
}

/// revm seals a chain in one execution, told each block's hash as the block is sealed: a
/// block reading the two blocks before it with BLOCKHASH stores the sealed headers' hashes,
/// and the chain is sealed as running revm on each prefix seals it (a stale or placeholder
/// hash would be stored, and the state root and every header after it would differ).
#[test]
fn a_block_reading_earlier_hashes_is_sealed_in_one_pass_as_by_prefixes() {
    use evmdiff_adapters::revm_backend::RevmBackend;
    use evmdiff_oracle::seal::{seal, seal_with};
    // BLOCKHASH(1) into slot 1, BLOCKHASH(2) into slot 2.
    let reads = bytes!("600140600155600240600255");
    for fork in [Fork::Cancun, Fork::Prague] {
        let mut code = evmdiff_core::block_processing::system_contracts(fork);
        code.push((TARGET, reads.clone()));
        let case = Case::chain(
            "reads-hashes",
            fork,
            pre(&code),
            vec![
                (env(1), vec![tx(0, TARGET, Bytes::new())]),
                (env(2), vec![]),
                (env(3), vec![tx(1, TARGET, Bytes::new())]),
            ],
        );
        let profile = Profile::mainnet(fork);
        let (mut one_pass, mut prefixes) = (case.clone(), case);
        seal(&mut one_pass, &profile).unwrap();
        seal_with(&mut prefixes, &profile, &mut RevmBackend::default()).unwrap();
        assert_eq!(one_pass, prefixes, "{fork}");
        let hashes = one_pass.block_hashes();
        let outcome = RevmBackend::default().execute(&one_pass, &profile).unwrap();
        assert_eq!(
            outcome.blocks.len(),
            3,
            "{fork}: {:?}",
            outcome.blocks[0].invalid
        );
        for n in [1, 2] {
            assert_eq!(
                slot(&outcome, TARGET, n),
                U256::from_be_bytes(hashes[&n].0),
                "{fork}"
            );
        }
    }
}

#[test]
fn the_beacon_root_is_stored_before_the_transactions_and_withdrawals_credited_after() {
    let mut case = Case::chain(
        "system",
        Fork::Cancun,
        pre(&[(BEACON_ROOTS, BEACON_ROOTS_CODE)]),
        vec![(env(1), vec![])],
    );
    let receiver = address!("00000000000000000000000000000000000000aa");
    case.blocks[0].withdrawals = Some(vec![evmdiff_core::case::Withdrawal {
        index: 0,
        validator_index: 0,
        address: receiver,
        amount: 3,
    }]);
    let header = case.blocks[0].header.clone().unwrap();
    let root = header.parent_beacon_block_root.unwrap();
    let t = header.timestamp % 8191;
    on_every_backend(&case, |name, o| {
        assert_eq!(
            slot(o, BEACON_ROOTS, t),
            U256::from(header.timestamp),
            "{name}"
        );
        assert_eq!(
            slot(o, BEACON_ROOTS, t + 8191),
            U256::from_be_bytes(root.0),
            "{name}"
        );
        let post = o.post().unwrap();
        assert_eq!(
            post[&receiver].balance,
            U256::from(3_000_000_000u64),
            "{name}"
        );
        assert!(!post.contains_key(&evmdiff_core::block_processing::SYSTEM_ADDRESS));
    });
}

/// Backends known not to refuse a Prague block whose EIP-7002 / EIP-7251 request contract
/// has no code, and why: they are held to accepting it, so that a fix shows.
const ACCEPTS_A_BLOCK_WITHOUT_REQUEST_CONTRACTS: &[(&str, &str)] = &[(
    "ethereumjs",
    // @ethereumjs/vm 10.1.3, dist/esm/requests.js: `accumulateWithdrawalsRequest` and
    // `accumulateConsolidationsRequest` return an empty request when the contract account is
    // absent, where EIP-7002 and EIP-7251 make the block invalid.
    "its request accumulators return an empty request for an absent contract",
)];

#[test]
fn a_prague_block_without_its_request_contracts_is_refused() {
    let case = Case::chain(
        "requests",
        Fork::Prague,
        pre(&[]),
        vec![
            (env(1), vec![tx(0, TARGET, Bytes::new())]),
            (env(2), vec![]),
        ],
    );
    let profile = Profile::mainnet(case.fork);
    for mut b in chain_backends() {
        let name = b.name();
        let o = match b.execute(&case, &profile) {
            Ok(o) => o,
            Err(BackendError::Unsupported(why)) => {
                println!("{name} sits out {}: {why}", case.name);
                continue;
            }
            Err(e) => panic!("{name}: {e}"),
        };
        if let Some((_, why)) = ACCEPTS_A_BLOCK_WITHOUT_REQUEST_CONTRACTS
            .iter()
            .find(|(n, _)| *n == name)
        {
            assert!(
                o.blocks.iter().all(|b| b.invalid.is_none()),
                "{name} now refuses the block: remove it from the known deviations ({why})"
            );
            continue;
        }
        assert_eq!(o.blocks.len(), 1, "{name}: nothing after a refused block");
        // In each implementation's words: "has no code", "does not contain code".
        let why = o.blocks[0].invalid.as_deref().unwrap_or_default();
        assert!(why.contains("code"), "{name}: {why}");
    }
}

#[test]
fn a_block_before_the_merge_rewards_its_miner() {
    let case = Case::chain(
        "reward",
        Fork::Byzantium,
        pre(&[(TARGET, READS_BLOCKHASH)]),
        vec![
            (env(1), vec![tx(0, TARGET, Bytes::new())]),
            (env(2), vec![]),
        ],
    );
    on_every_backend(&case, |name, o| {
        let fees: u64 = o.txs().map(|t| t.gas_used * 10).sum();
        let ether = U256::from(10u64).pow(U256::from(18));
        assert_eq!(
            o.post().unwrap()[&COINBASE].balance,
            ether * U256::from(6) + U256::from(fees),
            "{name}: two rewards of 3 ether and the fees"
        );
    });
}

#[test]
fn a_transaction_a_rule_rejects_half_way_leaves_nothing_behind() {
    let case = Case::chain(
        "rejected",
        Fork::Cancun,
        pre(&[(TARGET, TRANSIENT)]),
        vec![(
            env(1),
            vec![
                tx(0, TARGET, bytes!("01")),
                tx(1, TARGET, Bytes::new()),
                tx(1, TARGET, bytes!("01")),
            ],
        )],
    );
    // TLOAD refused: the second transaction is stopped at its first instruction, after its
    // nonce and fee were taken.
    let mut profile = Profile::mainnet(case.fork);
    profile
        .opcodes
        .insert(0x5c, evmdiff_core::Behaviour::Reject);
    on_every_backend_under(&case, &profile, |name, o| {
        let statuses: Vec<_> = o.txs().map(|t| t.status).collect();
        assert_eq!(
            statuses,
            [Status::Success, Status::Rejected, Status::Success],
            "{name}"
        );
        assert_eq!(o.post().unwrap()[&SENDER].nonce, 2, "{name}: nonce");
    });
}

/// Records which transaction each step belongs to.
#[derive(Default)]
struct StepsByTx {
    current: Option<evmdiff_core::At>,
    announced: Vec<evmdiff_core::At>,
    steps: Vec<(evmdiff_core::At, u8)>,
}

impl evmdiff_core::Observer for StepsByTx {
    fn transaction(&mut self, at: evmdiff_core::At) {
        self.current = Some(at);
        self.announced.push(at);
    }

    fn step(&mut self, step: &evmdiff_core::Step<'_>) -> evmdiff_core::observe::Flow {
        if let Some(at) = self.current {
            self.steps.push((at, step.opcode));
        }
        std::ops::ControlFlow::Continue(())
    }
}

#[test]
fn an_observed_chain_reports_every_transaction_and_ends_as_the_plain_one() {
    let case = Case::chain(
        "observed",
        Fork::Cancun,
        pre(&[(TARGET, TRANSIENT)]),
        vec![
            (
                env(1),
                vec![tx(0, TARGET, bytes!("01")), tx(7, TARGET, Bytes::new())],
            ),
            (env(2), vec![tx(1, TARGET, Bytes::new())]),
        ],
    );
    let profile = Profile::mainnet(case.fork);
    let at = |block, tx| evmdiff_core::At {
        block,
        tx: Some(tx),
    };
    let mut reference: Option<Vec<(evmdiff_core::At, u8)>> = None;
    for mut b in chain_backends() {
        if !b.observes_steps_of(&case) {
            continue;
        }
        let plain = b.execute(&case, &profile).unwrap();
        let mut watch = StepsByTx::default();
        let observed = b.execute_observed(&case, &profile, &mut watch).unwrap();
        assert_eq!(plain, observed, "{}", b.name());
        assert_eq!(
            watch.announced,
            [at(0, 0), at(0, 1), at(1, 0)],
            "{}",
            b.name()
        );
        let txs: Vec<_> = watch.steps.iter().map(|(a, _)| *a).collect();
        assert!(
            txs.contains(&at(0, 0)) && txs.contains(&at(1, 0)),
            "{}",
            b.name()
        );
        assert!(
            !txs.contains(&at(0, 1)),
            "{}: the dropped one ran",
            b.name()
        );
        match &reference {
            None => reference = Some(watch.steps),
            Some(r) => assert_eq!(r, &watch.steps, "{} steps differ from revm", b.name()),
        }
    }
}

/// The shared BlockchainTests (every valid block reproduces its header; every invalid block
/// whose rejection is the execution's business is refused), replayed on every chain backend.
/// A backend below a full pass must be listed here with the cases it fails, and why.
const FAILS_BLOCKCHAIN_TESTS: &[(&str, &[&str])] = &[];

/// Cases a backend is not given at all, because it never answers them: each would only wait
/// out the worker's timeout (45 s of CI's time) to fail as it always does. Listed, counted
/// and printed, never passed.
const NEVER_FINISHES: &[(&str, &[&str])] = &[(
    "eels",
    &[
        // bcExploitTest: one block of 8,000,000 gas spent on DELEGATECALLs between two 21 KB
        // contracts. The execution spec has not finished it when the worker timeout (30 s)
        // kills it ("no answer in time", its stderr in `delegatecall` / `generic_call`); run
        // alone with no timeout it had not finished after 180 s of CPU either.
        "DelegateCallSpam_Cancun/Cancun/valid",
    ],
)];

fn listed<'a>(list: &'a [(&str, &'a [&'a str])], backend: &str) -> &'a [&'a str] {
    list.iter()
        .find(|(n, _)| *n == backend)
        .map_or(&[][..], |(_, cases)| *cases)
}

#[test]
fn blockchain_tests_replay_on_every_chain_backend() {
    use evmdiff_core::expect::{Check, check};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/ethereum-tests/BlockchainTests");
    let files = evmdiff_core::statetest::json_files(&dir).unwrap();
    let cases: Vec<Case> = files
        .iter()
        .flat_map(|f| evmdiff_core::statetest::read_file(f).unwrap().cases)
        .collect();
    assert!(cases.len() > 600, "only {} cases", cases.len());
    // Every backend runs before the verdict, so that one failing report names them all.
    let mut report = Vec::new();
    let registry = Registry::builtin();
    for name in chain_backends().iter().map(|b| b.name()) {
        let mut b = patient(&registry, name);
        let (mut failed, mut sat_out) = (Vec::new(), 0);
        let skipped = listed(NEVER_FINISHES, name);
        let mut not_given = 0;
        for case in &cases {
            if skipped.contains(&case.name.as_str()) {
                not_given += 1;
                continue;
            }
            let verdict = match b.execute(case, &Profile::mainnet(case.fork)) {
                Ok(o) => check(case, &o),
                // A fork the backend does not run chains at (py-evm's Prague): counted apart.
                Err(BackendError::Unsupported(_)) => {
                    sat_out += 1;
                    continue;
                }
                Err(e) => Check::Fail(e.to_string()),
            };
            if verdict != Check::Pass {
                failed.push(format!("{}: {verdict:?}", case.name));
            }
        }
        assert_eq!(
            not_given,
            skipped.len(),
            "{name}: a case listed as never finishing is gone from the fixtures"
        );
        let allowed = listed(FAILS_BLOCKCHAIN_TESTS, name);
        let unexpected: Vec<_> = failed
            .iter()
            .filter(|f| !allowed.iter().any(|a| f.starts_with(a)))
            .collect();
        let run = cases.len() - sat_out - not_given;
        println!(
            "{}: {} of {run} cases pass ({sat_out} unsupported, {not_given} never finishing not given)",
            b.name(),
            run - failed.len(),
        );
        assert!(run * 2 > cases.len(), "{} ran only {run} cases", b.name());
        if !unexpected.is_empty() {
            report.push(format!(
                "{}: {} of {run} cases fail: {unexpected:#?}",
                b.name(),
                failed.len(),
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

/// Backend `name`, a worker given 45 s per answer instead of 30: a few fixtures take one
/// 20 s alone on a quiet machine (walletReorganizeOwners on the execution spec,
/// DelegateCallSpam on ethereumjs), and this test checks their answers, not their speed.
fn patient(registry: &Registry, name: &str) -> Box<dyn Backend> {
    match registry.worker(name) {
        Some(w) => Box::new(
            w.backend_with(evmdiff_adapters::worker::process::ProcessSpec {
                timeout: std::time::Duration::from_secs(45),
                ..w.spec()
            }),
        ),
        None => registry.make(name).unwrap(),
    }
}

/// Generated chains of a campaign, sealed: `count` of them under `profile`.
fn generated_chains(profile: &Profile, count: usize) -> Vec<Case> {
    (0..)
        .filter_map(|i| evmdiff_oracle::seal::campaign_case(profile, 9, i))
        .map(|(_, c)| c)
        .filter(Case::is_chain)
        .take(count)
        .collect()
}

#[test]
fn a_generated_chain_is_a_valid_blockchain_that_exports_and_reads_back_as_itself() {
    use evmdiff_core::blockchaintest::write_chain;
    use evmdiff_core::expect::{Check, check};
    for fork in ["mainnet-shanghai", "mainnet-cancun", "mainnet-prague"] {
        let profile = Profile::load(fork).unwrap();
        for case in generated_chains(&profile, 20) {
            let mut revm = evmdiff_adapters::backend("revm").unwrap();
            let outcome = revm.execute(&case, &profile).unwrap();
            let file =
                write_chain(&case, Some(&outcome), "t", "round trip", case.fork.name()).unwrap();
            let read = |file: &serde_json::Value| {
                let back = evmdiff_core::statetest::parse(&file.to_string(), "t.json").unwrap();
                back.cases
                    .into_iter()
                    .find(|c| c.name.ends_with("/valid"))
                    .expect("the chain reads back")
            };
            // As any client reads it (without evmdiff's note of the dropped transactions),
            // every block reproduces its header on revm: the chain is a valid blockchain.
            let mut plain = file.clone();
            plain["t"]["_info"]["evmdiff"]
                .as_object_mut()
                .unwrap()
                .remove("dropped");
            let blockchain = read(&plain);
            let replayed = revm.execute(&blockchain, &profile).unwrap();
            assert_eq!(check(&blockchain, &replayed), Check::Pass, "{fork}");
            // As evmdiff reads it, it is the same case: the same transactions, the dropped
            // ones put back, and the same results.
            let same = read(&file);
            assert_eq!(same.tx_count(), case.tx_count(), "{fork}");
            let again = revm.execute(&same, &profile).unwrap();
            assert!(
                compare_chains(&outcome, &again).is_none(),
                "{fork}: {:?}",
                compare_chains(&outcome, &again)
            );
        }
    }
}

/// Generated chains, exported, pass the execution specification's own block validation
/// (`scripts/eels_blockchaintest.py`: every header against its parent, every root).
#[test]
fn exported_chains_pass_the_execution_specifications_block_validation() {
    use evmdiff_core::blockchaintest::write_chain;
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for fork in ["mainnet-shanghai", "mainnet-cancun", "mainnet-prague"] {
        let profile = Profile::load(fork).unwrap();
        for (i, case) in generated_chains(&profile, 8).iter().enumerate() {
            let outcome = evmdiff_adapters::backend("revm")
                .unwrap()
                .execute(case, &profile)
                .unwrap();
            let name = format!("{fork}-{i}");
            let json =
                write_chain(case, Some(&outcome), &name, "export", case.fork.name()).unwrap();
            let path = dir.path().join(format!("{name}.json"));
            std::fs::write(&path, json.to_string()).unwrap();
            files.push(path);
        }
    }
    spec::validates_blockchain_tests(&files);
}

/// A planted inter-transaction bug — revm that forgets to clear transient storage at the end
/// of a transaction (a test double, `Planted::KeepsTransientStorage`) — is found by generated
/// chains, named at the transaction where it first shows (never a chain's first), localized
/// to the TLOAD that reads what an earlier transaction left, and minimized to a few
/// transactions. Single-transaction cases cannot see it.
#[test]
fn a_planted_transient_storage_leak_is_found_at_its_transaction_and_minimized() {
    use evmdiff_adapters::revm_backend::{Planted, RevmBackend};
    use evmdiff_oracle::Oracle;
    let profile = Profile::load("mainnet-cancun").unwrap();
    let oracle = Oracle::new(profile.clone());
    let mut backends: Vec<Box<dyn Backend>> = vec![
        Box::new(RevmBackend::default()),
        Box::new(RevmBackend::with_planted(Planted::KeepsTransientStorage)),
    ];
    let mut found = None;
    let mut singles_divergent = 0;
    for i in 0..3000 {
        let Some((_, case)) = evmdiff_oracle::seal::campaign_case(&profile, 21, i) else {
            continue;
        };
        let run = oracle.run(&mut backends, &case, None);
        if run.divergences.is_empty() {
            continue;
        }
        if !case.is_chain() {
            singles_divergent += 1;
            continue;
        }
        found = Some((i, case, run));
        break;
    }
    assert_eq!(
        singles_divergent, 0,
        "a single transaction cannot show the leak"
    );
    let (i, case, run) = found.expect("a chain campaign finds the planted leak");
    let d = &run.divergences[0];
    let at = d.at.expect("a chain's divergence names its transaction");
    let first = case.transactions().next().unwrap().0;
    assert_ne!(
        at, first,
        "case {i}: it cannot show in the first transaction"
    );
    let step = d.step.as_ref().expect("localized in lockstep");
    assert_eq!(
        step.at,
        Some(at),
        "case {i}: the step is in that transaction"
    );
    assert_eq!(step.summary(), "after TLOAD: stack", "case {i}");
    let id = evmdiff_triage::signature::signature(d, &profile.name).id();
    let m = evmdiff_oracle::shrink::shrink(&oracle, &mut backends, &case, &id, 3000, None);
    assert!(
        m.case.tx_count() <= 3,
        "case {i}: minimized to {} transactions",
        m.case.tx_count()
    );
    assert!(oracle.diverges_with(&mut backends, &m.case, &id));
    eprintln!(
        "case {i}: {} transactions in {} blocks, divergent at {at}; minimized to {} transactions",
        case.tx_count(),
        case.blocks.len(),
        m.case.tx_count()
    );
}
