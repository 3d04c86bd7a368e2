//! The observed path (`Backend::execute_observed`) of the in-process adapters:
//! * it gives exactly the outcome of `execute`, on a sample of ethereum/tests fixtures run
//!   under mainnet and under profiles with rules;
//! * on hand-made programs it reports exactly the steps (depth, pc, opcode, gas) and
//!   precompile calls worked out by hand, in order, on every stepping backend alike.

use std::path::Path;

use alloy_primitives::{Address, B256, Bytes, U256, address, b256};
use evmdiff_adapters::evm_backend::EvmBackend;
use evmdiff_adapters::levm_backend::LevmBackend;
use evmdiff_adapters::revm_backend::RevmBackend;
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::expect::skip_reason;
use evmdiff_core::observe::{Flow, Observer, Step};
use evmdiff_core::statetest::{self, json_files};
use evmdiff_core::trace::Recorder;
use evmdiff_core::{Account, Backend, Case, Fork, Profile, State, Status};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/ethereum-tests/GeneralStateTests"
);

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const SECRET: B256 = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
const TARGET: Address = address!("00000000000000000000000000000000000000aa");
const CALLEE: Address = address!("00000000000000000000000000000000000000bb");
const GAS_LIMIT: u64 = 1_000_000;

/// Every few files of the fixture set, minus the few that take seconds each in a debug build.
fn fixture_sample() -> Vec<Case> {
    let root = Path::new(FIXTURES);
    assert!(root.is_dir(), "fixtures not found at {}", root.display());
    let files = json_files(root).expect("fixtures folder");
    assert!(
        files.len() > 2000,
        "expected the full GeneralStateTests set"
    );
    let mut cases = Vec::new();
    for path in files.iter().step_by(23) {
        let name = path.to_string_lossy();
        if skip_reason(path).is_some()
            || ["Performance", "TimeConsuming", "Quadratic", "Stress"]
                .iter()
                .any(|s| name.contains(s))
        {
            continue;
        }
        let file = statetest::read_file(path).unwrap_or_else(|e| panic!("{e}"));
        cases.extend(file.cases);
    }
    cases
}

/// Runs every sampled case plainly and observed, under mainnet at the case's fork and under
/// each of `profiles`, and requires identical results.
fn observed_outcomes_match(backend: &mut dyn Backend, profiles: &[&str]) {
    let cases = fixture_sample();
    assert!(cases.len() > 500, "only {} sampled cases", cases.len());
    let profiles: Vec<Profile> = profiles.iter().map(|p| Profile::load(p).unwrap()).collect();
    let (mut compared, mut steps) = (0, 0);
    for case in &cases {
        let mainnet = Profile::mainnet(case.fork);
        for profile in std::iter::once(&mainnet).chain(&profiles) {
            let plain = backend.execute(case, profile);
            let mut rec = Recorder::default();
            let observed = backend.execute_observed(case, profile, &mut rec);
            assert_eq!(
                plain, observed,
                "{} under {}: observed outcome differs",
                case.name, profile.name
            );
            if plain.is_ok() {
                compared += 1;
                steps += rec.steps.len();
            }
        }
    }
    println!("{compared} outcomes compared, {steps} steps observed");
    assert!(compared > 1000, "only {compared} outcomes compared");
    assert!(steps > 100_000, "only {steps} steps observed");
}

#[test]
fn revm_observed_outcomes_match_execute_on_fixtures() {
    observed_outcomes_match(
        &mut RevmBackend::default(),
        &["eip7530-b", "polygon-zkevm", "scroll", "linea"],
    );
}

/// levm's observed path is the adapter's copy of levm's dispatch loop under every profile,
/// mainnet included: its outcome must be `VM::execute`'s (see also `levm_own_loop.rs`).
#[test]
fn levm_observed_outcomes_match_execute_on_fixtures() {
    // levm runs Paris and later: its unsupported cases must be unsupported on both paths.
    observed_outcomes_match(
        &mut LevmBackend::default(),
        &["eip7530-b", "polygon-zkevm", "scroll", "linea"],
    );
}

#[test]
fn evm_observed_outcomes_match_execute_on_fixtures() {
    // evm runs up to Cancun: its unsupported cases must be unsupported on both paths.
    observed_outcomes_match(&mut EvmBackend::default(), &["eip7530-b", "polygon-zkevm"]);
}

/// What an observer saw, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// depth, pc, opcode, gas.
    Step(usize, usize, u8, u64),
    Precompile(u8),
}

#[derive(Default)]
struct Events(Vec<Event>);

impl Observer for Events {
    fn step(&mut self, s: &Step<'_>) -> Flow {
        self.0.push(Event::Step(s.depth, s.pc, s.opcode, s.gas));
        Flow::Continue(())
    }

    fn precompile(&mut self, address: Address) {
        assert_eq!(address.as_slice()[..19], [0u8; 19]);
        self.0.push(Event::Precompile(address.as_slice()[19]));
    }
}

fn case(to: Address, code: Vec<u8>, callee: Vec<u8>) -> Case {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(18)),
            ..Account::default()
        },
    );
    for (addr, code) in [(TARGET, code), (CALLEE, callee)] {
        pre.insert(
            addr,
            Account {
                code: code.into(),
                nonce: 1,
                ..Account::default()
            },
        );
    }
    Case::state_test(
        "hand-made",
        Fork::Cancun,
        BlockEnv {
            coinbase: address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba"),
            gas_limit: U256::from(30_000_000u64),
            number: U256::from(1u64),
            timestamp: U256::from(1_000u64),
            difficulty: U256::ZERO,
            base_fee: Some(U256::from(7u64)),
            random: Some(B256::repeat_byte(0x12)),
            excess_blob_gas: Some(0),
            chain_id: 1,
        },
        pre,
        Transaction::legacy(SENDER, SECRET, Some(to), Bytes::new(), GAS_LIMIT, 10),
    )
}

/// PUSH0 ×4 (retLen, retOff, argsLen, argsOff), PUSH1 `to`, GAS, STATICCALL, POP: eight
/// instructions in nine bytes.
fn staticcall_all_gas(to: u8) -> Vec<u8> {
    vec![0x5f, 0x5f, 0x5f, 0x5f, 0x60, to, 0x5a, 0xfa, 0x50]
}

fn observe(backend: &mut dyn Backend, case: &Case, profile: &Profile) -> (Status, Vec<Event>) {
    let mut events = Events::default();
    let outcome = backend
        .execute_observed(case, profile, &mut events)
        .expect("both backends run Cancun");
    (outcome.last_tx().expect("one transaction").status, events.0)
}

/// Every stepping backend reports exactly the events worked out by hand.
#[test]
fn every_stepping_backend_reports_the_steps_of_a_nested_call_and_two_precompile_calls() {
    for mut b in stepping_backends() {
        nested_call_and_two_precompile_calls(b.as_mut());
    }
}

/// Every stepping backend reports precompile calls as the profile has them.
#[test]
fn every_stepping_backend_reports_precompile_calls_as_the_profile_has_them() {
    for mut b in stepping_backends() {
        precompile_calls_follow_the_profile(b.as_mut());
    }
}

/// The in-process backends that report steps, which must include these three.
fn stepping_backends() -> Vec<Box<dyn Backend>> {
    let backends = evmdiff_adapters::stepping_backends();
    let names: Vec<_> = backends.iter().map(|b| b.name()).collect();
    assert!(
        ["revm", "evm", "levm"].iter().all(|n| names.contains(n)),
        "{names:?}"
    );
    backends
}

/// Every stepping backend must report exactly these events, gas included.
fn nested_call_and_two_precompile_calls(b: &mut dyn Backend) {
    use Event::{Precompile as P, Step as S};
    // The target CALLs the callee with 0xffff gas, then STATICCALLs identity with all gas.
    let mut code = vec![
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, // ret, args, value
        0x60, 0xbb, // callee
        0x61, 0xff, 0xff, // gas
        0xf1, // CALL (pc 15)
        0x50, // POP (pc 16)
    ];
    code.extend(staticcall_all_gas(0x04)); // pc 17..=25
    code.push(0x00); // STOP (pc 26)
    // The callee STATICCALLs sha256 with all its gas and runs off the end of its code: the
    // implicit STOP is not a step.
    let callee = staticcall_all_gas(0x02);
    let c = case(TARGET, code, callee);

    // Gas, worked out by hand. The top frame starts with 1,000,000 − 21,000.
    let top = 979_000;
    // CALL to a cold account: 2,600, forwarding 0xffff (less than all but 1/64).
    let call_pc15 = top - 7 * 3;
    let callee_gas = 0xffff;
    // In the callee: 4 PUSH0 (2 each), PUSH1 (3), GAS (2), STATICCALL of a warm precompile
    // (100) forwarding all but 1/64 of what is left; sha256 of nothing costs 60.
    let static_pc7 = callee_gas - 4 * 2 - 3 - 2;
    let callee_pop = static_pc7 - 100 - 60;
    let callee_left = callee_pop - 2;
    let top_pop = call_pc15 - 2_600 - callee_gas + callee_left;
    let s0 = top_pop - 2;
    // identity of nothing costs 15.
    let static_pc24 = s0 - 4 * 2 - 3 - 2;
    let top_stop = static_pc24 - 100 - 15 - 2;
    let mut expected = vec![];
    for i in 0..7 {
        expected.push(S(
            1,
            2 * i,
            if i == 6 { 0x61 } else { 0x60 },
            top - 3 * i as u64,
        ));
    }
    expected.extend([
        S(1, 15, 0xf1, call_pc15),
        S(2, 0, 0x5f, callee_gas),
        S(2, 1, 0x5f, callee_gas - 2),
        S(2, 2, 0x5f, callee_gas - 4),
        S(2, 3, 0x5f, callee_gas - 6),
        S(2, 4, 0x60, callee_gas - 8),
        S(2, 6, 0x5a, callee_gas - 11),
        S(2, 7, 0xfa, static_pc7),
        P(0x02),
        S(2, 8, 0x50, callee_pop),
        S(1, 16, 0x50, top_pop),
        S(1, 17, 0x5f, s0),
        S(1, 18, 0x5f, s0 - 2),
        S(1, 19, 0x5f, s0 - 4),
        S(1, 20, 0x5f, s0 - 6),
        S(1, 21, 0x60, s0 - 8),
        S(1, 23, 0x5a, s0 - 11),
        S(1, 24, 0xfa, static_pc24),
        P(0x04),
        S(1, 25, 0x50, static_pc24 - 100 - 15),
        S(1, 26, 0x00, top_stop),
    ]);
    let profile = Profile::mainnet(Fork::Cancun);
    let (status, events) = observe(b, &c, &profile);
    assert_eq!(status, Status::Success, "{}", b.name());
    assert_eq!(events, expected, "{}", b.name());
    // The plain path is untouched by the observer that ran before it.
    assert_eq!(
        b.execute(&c, &profile).unwrap(),
        b.execute_observed(&c, &profile, &mut ()).unwrap()
    );
}

fn precompile_calls_follow_the_profile(b: &mut dyn Backend) {
    // STATICCALL sha256, then point evaluation (which fails on empty input, halting the call).
    let mut code = staticcall_all_gas(0x02);
    code.extend(staticcall_all_gas(0x0a));
    code.push(0x00);
    let c = case(TARGET, code, Vec::new());
    let precompiles = |events: &[Event]| -> Vec<u8> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Precompile(a) => Some(*a),
                Event::Step(..) => None,
            })
            .collect()
    };
    let ruled = Profile::from_toml(
        "name = \"t\"\nbase_fork = \"Cancun\"\n[precompiles]\nsha256 = \"revert-refund\"\npoint_evaluation = \"absent\"\n",
        "t.toml",
    )
    .unwrap();
    let (_, events) = observe(b, &c, &Profile::mainnet(Fork::Cancun));
    assert_eq!(precompiles(&events), [0x02, 0x0a], "{}", b.name());
    // A revert-refund precompile is still called; an absent one is an empty account.
    let (_, events) = observe(b, &c, &ruled);
    assert_eq!(precompiles(&events), [0x02], "{}", b.name());
    let steps = events
        .iter()
        .filter(|e| matches!(e, Event::Step(..)))
        .count();
    assert_eq!(steps, 17, "{}: every step still observed", b.name());

    // A rejected call reached the precompile too, though the transaction is refused.
    let rejecting = Profile::from_toml(
        "name = \"r\"\nbase_fork = \"Cancun\"\n[precompiles]\nsha256 = \"reject\"\n",
        "r.toml",
    )
    .unwrap();
    let (status, events) = observe(b, &c, &rejecting);
    assert_eq!(status, Status::Rejected, "{}", b.name());
    assert_eq!(precompiles(&events), [0x02], "{}", b.name());

    // A transaction sent straight to a precompile: no step, one call.
    let direct = case(Address::with_last_byte(0x04), Vec::new(), Vec::new());
    let (status, events) = observe(b, &direct, &Profile::mainnet(Fork::Cancun));
    assert_eq!(status, Status::Success);
    assert_eq!(events, [Event::Precompile(0x04)], "{}", b.name());
}
