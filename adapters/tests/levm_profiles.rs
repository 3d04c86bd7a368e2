//! Profile behaviours on the levm backend, on small hand-assembled programs: the same programs
//! and the same hand-computed gas figures as `revm_profiles.rs`, since both adapters must
//! implement the same semantics (see `Behaviour`).
//!
//! Every expected gas figure is computed by hand in the comments next to it, from the yellow
//! paper / EIP costs of the base fork, so a wrong override shows up as a gas difference even
//! when the status happens to match.
//!
//! levm warms `0x01..=0x09` by construction in every fork, so an `absent` rule for one of those
//! is `Unsupported` (`absent_low_precompile_is_unsupported`); Scroll's absent precompiles
//! (0x0a..=0x11) are honoured.

use alloy_primitives::{Address, B256, Bytes, U256, address, b256};
use evmdiff_adapters::levm_backend::LevmBackend;
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::state::Account;
use evmdiff_core::{Backend, BackendError, Case, Fork, HaltClass, Outcome, Profile, State, Status};

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const SENDER_KEY: B256 = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
const CONTRACT: Address = address!("000000000000000000000000000000000000c0de");
const INNER: Address = address!("000000000000000000000000000000000000beef");
const COINBASE: Address = address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");
const RANDOM: B256 = b256!("abababababababababababababababababababababababababababababababab");
const TX_GAS: u64 = 1_000_000;

/// Intrinsic gas of a call transaction without calldata.
const INTRINSIC: u64 = 21_000;

/// The tail most programs end with: store the CALL's success flag at memory 0 and
/// RETURNDATASIZE at 0x20, return both words. Gas: PUSH1 0 (3) + MSTORE (3 + 3 for the first
/// word of memory) = 9; RETURNDATASIZE (2) + PUSH1 (3) + MSTORE (3 + 3 for the second word)
/// = 11; PUSH1, PUSH1 (6) + RETURN (0, no expansion) = 6. Total 26.
const RETURN_FLAG_AND_SIZE: &[u8] = &[
    0x60, 0x00, 0x52, 0x3d, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3,
];
const RETURN_FLAG_AND_SIZE_GAS: u64 = 26;

/// `CALL(gas = 0xffff, to = address, value, in = 0..0, out = 0..0)` followed by
/// [`RETURN_FLAG_AND_SIZE`]. Before the CALL: six PUSH1 and one PUSH2, 7 × 3 = 21 gas.
fn call_program(to: u16, value: u8) -> Vec<u8> {
    let [hi, lo] = to.to_be_bytes();
    let mut code = vec![
        0x60, 0x00, // retSize
        0x60, 0x00, // retOffset
        0x60, 0x00, // argsSize
        0x60, 0x00, // argsOffset
        0x60, value, // value
        0x61, hi, lo, // address
        0x61, 0xff, 0xff, // gas: 65535
        0xf1, // CALL
    ];
    code.extend_from_slice(RETURN_FLAG_AND_SIZE);
    code
}
const CALL_PROGRAM_PUSHES: u64 = 21;
const FORWARDED: u64 = 0xffff;

/// CALLDATACOPY the whole calldata to memory 0, `CALL(gas = 0xffff, to, 0, in = 0..cds, out =
/// 0..0)`, then [`RETURN_FLAG_AND_SIZE`].
fn call_with_calldata(to: u16) -> Vec<u8> {
    let [hi, lo] = to.to_be_bytes();
    let mut code = vec![
        0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // CALLDATACOPY(0, 0, CALLDATASIZE)
        0x60, 0x00, 0x60, 0x00, // retSize, retOffset
        0x36, 0x60, 0x00, // argsSize = CALLDATASIZE, argsOffset
        0x60, 0x00, // value
        0x61, hi, lo, 0x61, 0xff, 0xff, // address, gas
        0xf1,
    ];
    code.extend_from_slice(RETURN_FLAG_AND_SIZE);
    code
}

/// A case: `CONTRACT` holds `code` (and one wei), `INNER` holds `inner`, the sender calls
/// `to` with `data` and `gas` gas at 10 wei (base fee 7).
fn case_to(fork: Fork, to: Address, code: &[u8], inner: &[u8], data: &[u8], gas: u64) -> Case {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(10u128.pow(18)),
            ..Account::default()
        },
    );
    pre.insert(
        CONTRACT,
        Account {
            balance: U256::from(1),
            nonce: 1,
            code: Bytes::copy_from_slice(code),
            ..Account::default()
        },
    );
    if !inner.is_empty() {
        pre.insert(
            INNER,
            Account {
                nonce: 1,
                code: Bytes::copy_from_slice(inner),
                ..Account::default()
            },
        );
    }
    Case {
        name: "profile-test".into(),
        fork,
        env: BlockEnv {
            coinbase: COINBASE,
            gas_limit: U256::from(30_000_000u64),
            number: U256::from(1),
            timestamp: U256::from(1000),
            difficulty: U256::from(0x20000),
            base_fee: Some(U256::from(7)),
            random: Some(RANDOM),
            excess_blob_gas: Some(0),
            chain_id: 1,
        },
        pre,
        tx: Transaction::legacy(
            SENDER,
            SENDER_KEY,
            Some(to),
            Bytes::copy_from_slice(data),
            gas,
            10,
        ),
        expect: None,
        meta: None,
    }
}

fn case(fork: Fork, code: &[u8]) -> Case {
    case_to(fork, CONTRACT, code, &[], &[], TX_GAS)
}

fn run(case: &Case, profile: &Profile) -> Outcome {
    LevmBackend::default()
        .execute(case, profile)
        .unwrap_or_else(|e| panic!("{}: {e}", profile.name))
}

fn profile(name: &str) -> Profile {
    Profile::load(name).unwrap()
}

fn custom(toml: &str) -> Profile {
    Profile::from_toml(toml, "test.toml").unwrap()
}

/// The two words returned by [`RETURN_FLAG_AND_SIZE`]: success flag and return data size.
fn flag_and_size(o: &Outcome) -> (U256, U256) {
    assert_eq!(o.status, Status::Success, "{}", o.detail);
    assert_eq!(o.output.len(), 64, "{}", o.detail);
    (
        U256::from_be_slice(&o.output[..32]),
        U256::from_be_slice(&o.output[32..]),
    )
}

fn word(v: U256) -> Bytes {
    Bytes::from(v.to_be_bytes::<32>().to_vec())
}

/// The sender pays exactly `gas_used` at 10 wei, and the coinbase earns the tip (10 - 7 wei).
fn assert_fees(case: &Case, o: &Outcome) {
    let before = case.pre[&SENDER].balance;
    assert_eq!(
        o.post[&SENDER].balance,
        before - U256::from(o.gas_used * 10)
    );
    assert_eq!(o.post[&COINBASE].balance, U256::from(o.gas_used * 3));
}

// ---------------------------------------------------------------- precompile: revert-refund

#[test]
fn eip7530_b_sha256_call_returns_zero_and_refunds_the_forwarded_gas() {
    let c = case(Fork::Shanghai, &call_program(0x02, 0));
    let o = run(&c, &profile("eip7530-b"));
    assert_eq!(
        flag_and_size(&o),
        (U256::ZERO, U256::ZERO),
        "success 0, no return data"
    );
    // 21000 intrinsic + 21 pushes + CALL 100 (warm precompile, no value, no memory; the
    // 65535 forwarded come back whole) + 26 for the tail = 21147.
    assert_eq!(
        o.gas_used,
        INTRINSIC + CALL_PROGRAM_PUSHES + 100 + RETURN_FLAG_AND_SIZE_GAS
    );
    assert_eq!(o.gas_used, 21_147);
    assert_eq!(o.refund, 0);
    assert_fees(&c, &o);
}

#[test]
fn eip7530_a_sha256_call_succeeds() {
    let c = case(Fork::Shanghai, &call_program(0x02, 0));
    let o = run(&c, &profile("eip7530-a"));
    assert_eq!(
        flag_and_size(&o),
        (U256::from(1), U256::from(32)),
        "success 1, a 32-byte digest"
    );
    // As above, plus sha256 of empty input: 60 + 12 × 0 words = 60. 21147 + 60 = 21207.
    assert_eq!(o.gas_used, 21_207);
    // Profile A does not touch precompiles: identical to plain Shanghai.
    assert_eq!(o, run(&c, &Profile::mainnet(Fork::Shanghai)));
}

#[test]
fn revert_refund_precompile_still_charges_the_calls_own_costs() {
    // CALL with 1 wei to sha256 (which does not exist as an account) under profile B.
    let c = case(Fork::Shanghai, &call_program(0x02, 1));
    let o = run(&c, &profile("eip7530-b"));
    assert_eq!(flag_and_size(&o), (U256::ZERO, U256::ZERO));
    // CALL: 100 warm + 9000 value transfer + 25000 new account (value to a non-existent
    // account); the callee gets 65535 + 2300 stipend and all of it comes back, so the caller
    // nets the stipend: 100 + 9000 + 25000 - 2300 = 31800. 21000 + 21 + 31800 + 26 = 52847.
    assert_eq!(o.gas_used, 52_847);
    // The value transfer was reverted with the call.
    assert_eq!(o.post[&CONTRACT].balance, U256::from(1));
    assert!(!o.post.contains_key(&Address::with_last_byte(2)));
}

#[test]
fn revert_refund_precompile_as_transaction_target_reverts_with_intrinsic_gas_only() {
    let c = case_to(
        Fork::Shanghai,
        Address::with_last_byte(2),
        &[],
        &[],
        &[0xff; 4],
        TX_GAS,
    );
    let o = run(&c, &profile("eip7530-b"));
    assert_eq!(o.status, Status::Revert);
    assert!(o.output.is_empty());
    // Intrinsic only: 21000 + 4 non-zero calldata bytes × 16 = 21064.
    assert_eq!(o.gas_used, 21_064);
    // Plain Shanghai runs sha256: 21064 + 60 + 12 × 1 word = 21136, and succeeds.
    let m = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(
        (m.status, m.gas_used, m.output.len()),
        (Status::Success, 21_136, 32)
    );
}

// ------------------------------------------------------------------------ precompile: halt

#[test]
fn scroll_ripemd160_halt_consumes_the_forwarded_gas() {
    let c = case(Fork::Osaka, &call_program(0x03, 0));
    let o = run(&c, &profile("scroll"));
    assert_eq!(
        flag_and_size(&o),
        (U256::ZERO, U256::ZERO),
        "success 0, no return data"
    );
    // 21000 + 21 + CALL 100 + all 65535 forwarded consumed + 26 = 86682.
    assert_eq!(
        o.gas_used,
        INTRINSIC + CALL_PROGRAM_PUSHES + 100 + FORWARDED + RETURN_FLAG_AND_SIZE_GAS
    );
    assert_eq!(o.gas_used, 86_682);
    // Plain Osaka runs ripemd160: 600 + 120 × 0 words = 600 → 21747, success 1, 32 bytes.
    let m = run(&c, &Profile::mainnet(Fork::Osaka));
    assert_eq!(flag_and_size(&m), (U256::from(1), U256::from(32)));
    assert_eq!(m.gas_used, 21_747);
}

#[test]
fn halting_precompile_as_transaction_target_is_a_precompile_failure() {
    let c = case_to(
        Fork::Osaka,
        Address::with_last_byte(3),
        &[],
        &[],
        &[],
        50_000,
    );
    let o = run(&c, &profile("scroll"));
    assert_eq!(
        o.status,
        Status::Halt(HaltClass::PrecompileFailure),
        "{}",
        o.detail
    );
    assert_eq!(o.gas_used, 50_000);
    assert!(o.output.is_empty());
}

// ---------------------------------------------------------------------- precompile: absent

#[test]
fn absent_precompile_is_a_cold_empty_account() {
    // Scroll (base Osaka) has no point evaluation at 0x0a.
    let c = case(Fork::Osaka, &call_program(0x0a, 0));
    let o = run(&c, &profile("scroll"));
    assert_eq!(
        flag_and_size(&o),
        (U256::from(1), U256::ZERO),
        "success 1, no output"
    );
    // CALL to a cold address: 2600 instead of 100 (EIP-2929); no code, so nothing of the
    // 65535 forwarded is used. 21000 + 21 + 2600 + 26 = 23647.
    assert_eq!(
        o.gas_used,
        INTRINSIC + CALL_PROGRAM_PUSHES + 2600 + RETURN_FLAG_AND_SIZE_GAS
    );
    assert_eq!(o.gas_used, 23_647);
    // Touched and empty: removed again (EIP-161), so no new account appears.
    assert!(!o.post.contains_key(&Address::with_last_byte(0x0a)));
    // Plain Osaka: a warm precompile failing on a 0-byte input consumes the forwarded gas:
    // 21000 + 21 + 100 + 65535 + 26 = 86682.
    let m = run(&c, &Profile::mainnet(Fork::Osaka));
    assert_eq!(flag_and_size(&m), (U256::ZERO, U256::ZERO));
    assert_eq!(m.gas_used, 86_682);
}

#[test]
fn absent_low_precompile_is_unsupported() {
    // levm warms 0x01..=0x09 by construction in every fork: it cannot make sha256 cold.
    let p = custom("name = \"t\"\nbase_fork = \"Cancun\"\n[precompiles]\nsha256 = \"absent\"\n");
    let c = case(Fork::Cancun, &call_program(0x02, 0));
    match LevmBackend::default().execute(&c, &p).unwrap_err() {
        BackendError::Unsupported(why) => assert!(why.contains("absent"), "{why}"),
        other => panic!("{other}"),
    }
    // Above that range it is honoured, in Prague too: a cold (2600) empty account.
    let p =
        custom("name = \"t\"\nbase_fork = \"Prague\"\n[precompiles]\nbls12_g1add = \"absent\"\n");
    let o = run(&case(Fork::Prague, &call_program(0x0b, 0)), &p);
    assert_eq!(flag_and_size(&o), (U256::from(1), U256::ZERO));
    assert_eq!(
        o.gas_used,
        INTRINSIC + CALL_PROGRAM_PUSHES + 2600 + RETURN_FLAG_AND_SIZE_GAS
    );
    // The fork's other precompiles stay warm and dispatched: calls to blake2f (0x09), point
    // evaluation (0x0a) and bls12_map_fp2_to_g2 (0x11) give exactly the mainnet outcome.
    for to in [0x09_u16, 0x0a, 0x11] {
        let c = case(Fork::Prague, &call_program(to, 0));
        let (o, m) = (run(&c, &p), run(&c, &Profile::mainnet(Fork::Prague)));
        assert_eq!(o, m, "0x{to:02x}");
    }
}

// ---------------------------------------------------------------------- precompile: reject

#[test]
fn linea_rejects_a_transaction_that_calls_ripemd160() {
    // Called from a contract...
    let c = case(Fork::Osaka, &call_program(0x03, 0));
    let o = run(&c, &profile("linea"));
    assert_eq!(o.status, Status::Rejected, "{}", o.detail);
    assert_eq!(
        (o.gas_used, o.post.clone()),
        (0, c.pre.clone()),
        "no fee, no state change"
    );
    assert_eq!(o, Outcome::rejected(&c.pre, o.detail.clone()));
    // ...two frames deep...
    let c = case_to(
        Fork::Osaka,
        CONTRACT,
        &call_program(0xbeef, 0),
        &call_program(0x03, 0),
        &[],
        TX_GAS,
    );
    assert_eq!(run(&c, &profile("linea")).status, Status::Rejected);
    // ...or directly.
    let c = case_to(
        Fork::Osaka,
        Address::with_last_byte(3),
        &[],
        &[],
        &[],
        50_000,
    );
    assert_eq!(run(&c, &profile("linea")).status, Status::Rejected);
    // sha256 is fine on Linea.
    let c = case(Fork::Osaka, &call_program(0x02, 0));
    assert_eq!(
        flag_and_size(&run(&c, &profile("linea"))),
        (U256::from(1), U256::from(32))
    );
}

// ------------------------------------------------------------------------ opcode: constant

#[test]
fn prevrandao_is_zero_under_both_eip7530_profiles_at_the_original_cost() {
    // PREVRANDAO PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN:
    // 2 + 3 + (3 + 3) + 3 + 3 + 0 = 17 → 21017.
    let code = [0x44, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let c = case(Fork::Shanghai, &code);
    let m = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(m.output, Bytes::from(RANDOM.to_vec()));
    assert_eq!(m.gas_used, 21_017);
    for name in ["eip7530-a", "eip7530-b"] {
        let o = run(&c, &profile(name));
        assert_eq!(o.status, Status::Success, "{name}");
        assert_eq!(o.output, word(U256::ZERO), "{name}");
        assert_eq!(o.gas_used, 21_017, "{name}");
    }
}

#[test]
fn constant_keeps_the_original_gas_and_stack_checks() {
    let a = profile("eip7530-a");
    // Exactly 2 gas for PREVRANDAO: 21001 is one short, 21002 is enough (then STOP).
    let short = case_to(
        Fork::Shanghai,
        CONTRACT,
        &[0x44, 0x00],
        &[],
        &[],
        INTRINSIC + 1,
    );
    assert_eq!(run(&short, &a).status, Status::Halt(HaltClass::OutOfGas));
    let enough = case_to(
        Fork::Shanghai,
        CONTRACT,
        &[0x44, 0x00],
        &[],
        &[],
        INTRINSIC + 2,
    );
    let o = run(&enough, &a);
    assert_eq!((o.status, o.gas_used), (Status::Success, INTRINSIC + 2));
    // 1024 × PUSH0 fill the stack; the constant push overflows it, as PREVRANDAO does.
    let mut full = vec![0x5f; 1024];
    full.push(0x44);
    let c = case(Fork::Shanghai, &full);
    assert_eq!(run(&c, &a).status, Status::Halt(HaltClass::StackOverflow));
    assert_eq!(
        run(&c, &Profile::mainnet(Fork::Shanghai)).status,
        Status::Halt(HaltClass::StackOverflow)
    );
    // 1023 items leave room: success.
    let mut room = vec![0x5f; 1023];
    room.extend_from_slice(&[0x44, 0x00]);
    assert_eq!(
        run(&case(Fork::Shanghai, &room), &a).status,
        Status::Success
    );
}

#[test]
fn constant_with_an_input_pops_it() {
    let p = custom(
        "name = \"t\"\nbase_fork = \"Shanghai\"\n[opcodes]\nBLOCKHASH = { behaviour = \"constant\", value = \"0x1234\" }\n",
    );
    // PUSH1 0 BLOCKHASH PUSH1 0 MSTORE PUSH1 0x20 PUSH1 0 RETURN: 3 + 20 + 3 + 6 + 3 + 3 = 38.
    let c = case(
        Fork::Shanghai,
        &[
            0x60, 0x00, 0x40, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
        ],
    );
    let o = run(&c, &p);
    assert_eq!(o.output, word(U256::from(0x1234)));
    assert_eq!(o.gas_used, 21_038);
    let m = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(m.gas_used, 21_038);
    assert_ne!(m.output, o.output);
    // With nothing to pop: stack underflow, all gas consumed.
    let o = run(&case(Fork::Shanghai, &[0x40]), &p);
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::StackUnderflow), TX_GAS)
    );
    // BLOCKHASH then MSIZE-free check that exactly one item was popped: PUSH1 7 PUSH1 0
    // BLOCKHASH → stack [7, 0x1234]; POP leaves 7 on top.
    let c = case(
        Fork::Shanghai,
        &[
            0x60, 0x07, 0x60, 0x00, 0x40, 0x50, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
        ],
    );
    assert_eq!(run(&c, &p).output, word(U256::from(7)));
}

// ------------------------------------------------------------------------- opcode: invalid

#[test]
fn invalid_opcode_halts_like_an_undefined_one() {
    let scroll = profile("scroll");
    // PUSH1 0 SELFDESTRUCT under Scroll: an exceptional halt consuming all gas.
    let c = case(Fork::Osaka, &[0x60, 0x00, 0xff]);
    let o = run(&c, &scroll);
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::InvalidOpcode), TX_GAS)
    );
    assert!(o.output.is_empty());
    assert_fees(&c, &o);
    // Even without the 5000 gas SELFDESTRUCT would cost: the rule acts before any gas check.
    let c = case_to(
        Fork::Osaka,
        CONTRACT,
        &[0x60, 0x00, 0xff],
        &[],
        &[],
        INTRINSIC + 10,
    );
    assert_eq!(
        run(&c, &scroll).status,
        Status::Halt(HaltClass::InvalidOpcode)
    );
    // In a sub-call: the callee's frame halts, all 65535 forwarded are lost, the caller goes on.
    let c = case_to(
        Fork::Osaka,
        CONTRACT,
        &call_program(0xbeef, 0),
        &[0x60, 0x00, 0xff],
        &[],
        TX_GAS,
    );
    let o = run(&c, &scroll);
    assert_eq!(flag_and_size(&o), (U256::ZERO, U256::ZERO));
    // 21000 + 21 + CALL (2600 cold INNER) + 65535 + 26 = 89182.
    assert_eq!(o.gas_used, 89_182);
}

// ------------------------------------------------------------------- opcode: revert-refund

#[test]
fn revert_refund_opcode_reverts_the_frame_and_keeps_its_gas() {
    let p =
        custom("name = \"t\"\nbase_fork = \"Shanghai\"\n[opcodes]\nSSTORE = \"revert-refund\"\n");
    // PUSH1 1 PUSH1 0 SSTORE: 3 + 3, then the SSTORE reverts at no cost. 21006 gas.
    let store = [0x60, 0x01, 0x60, 0x00, 0x55, 0x00];
    let c = case(Fork::Shanghai, &store);
    let o = run(&c, &p);
    assert_eq!(
        (o.status, o.gas_used, o.output.len()),
        (Status::Revert, 21_006, 0)
    );
    assert_eq!(o.post[&CONTRACT].storage.len(), 0);
    // In a sub-call: success 0, empty return data, and the callee's unused gas comes back:
    // 21000 + 21 + CALL 2600 (cold INNER) + 6 used by INNER + 26 = 23653.
    let c = case_to(
        Fork::Shanghai,
        CONTRACT,
        &call_program(0xbeef, 0),
        &store,
        &[],
        TX_GAS,
    );
    let o = run(&c, &p);
    assert_eq!(flag_and_size(&o), (U256::ZERO, U256::ZERO));
    assert_eq!(o.gas_used, 23_653);
    // Without the rule INNER stores (22100 for a cold slot from zero) and succeeds.
    let m = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(flag_and_size(&m), (U256::from(1), U256::ZERO));
    assert_eq!(m.gas_used, 23_653 + 22_100);
}

// -------------------------------------------------------------------------- opcode: reject

#[test]
fn reject_opcode_refuses_the_transaction_only_when_executed() {
    let p = custom("name = \"t\"\nbase_fork = \"Shanghai\"\n[opcodes]\nTIMESTAMP = \"reject\"\n");
    // Executed two frames deep: the whole transaction is refused.
    let c = case_to(
        Fork::Shanghai,
        CONTRACT,
        &call_program(0xbeef, 0),
        &[0x42, 0x00],
        &[],
        TX_GAS,
    );
    let o = run(&c, &p);
    assert_eq!(o.status, Status::Rejected, "{}", o.detail);
    assert_eq!(o, Outcome::rejected(&c.pre, o.detail.clone()));
    // Present in the code but jumped over (PUSH1 5 JUMP TIMESTAMP STOP JUMPDEST STOP): runs.
    let c = case(Fork::Shanghai, &[0x60, 0x05, 0x56, 0x42, 0x00, 0x5b, 0x00]);
    let o = run(&c, &p);
    // PUSH1 3 + JUMP 8 + JUMPDEST 1 = 12.
    assert_eq!((o.status, o.gas_used), (Status::Success, 21_012));
    // A rejection does not leak into the next execution on the same thread.
    let o = run(&case(Fork::Shanghai, &[0x00]), &p);
    assert_eq!(o.status, Status::Success);
}

// ------------------------------------------------------------------------------ modexp cap

/// Modexp input with the three length words and nothing else.
fn modexp_lengths(base: u64, exp: u64, modulus: u64) -> Vec<u8> {
    [base, exp, modulus]
        .iter()
        .flat_map(|n| U256::from(*n).to_be_bytes::<32>())
        .collect()
}

#[test]
fn modexp_cap_revert_refund_returns_the_forwarded_gas() {
    let polygon = profile("polygon-zkevm");
    let code = call_with_calldata(0x05);
    // Exponent length 1025 > 1024: the call returns 0 and costs nothing beyond the CALL.
    let over = case_to(
        Fork::Shanghai,
        CONTRACT,
        &code,
        &[],
        &modexp_lengths(0, 1025, 0),
        TX_GAS,
    );
    let o = run(&over, &polygon);
    assert_eq!(flag_and_size(&o), (U256::ZERO, U256::ZERO));
    // Plain Shanghai runs it: modulus length 0 gives empty output at the EIP-2565 minimum of
    // 200 gas (multiplication complexity 0). Everything else is identical, so the difference
    // is exactly those 200 gas.
    let m = run(&over, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(flag_and_size(&m), (U256::from(1), U256::ZERO));
    assert_eq!(m.gas_used, o.gas_used + 200);
    // At the cap (1024) the precompile runs under the profile too.
    let at = case_to(
        Fork::Shanghai,
        CONTRACT,
        &code,
        &[],
        &modexp_lengths(0, 1024, 0),
        TX_GAS,
    );
    assert_eq!(
        run(&at, &polygon),
        run(&at, &Profile::mainnet(Fork::Shanghai))
    );
}

#[test]
fn modexp_cap_reject_and_halt() {
    let linea = profile("linea");
    let code = call_with_calldata(0x05);
    // Base length 513 > 512: Linea refuses the transaction.
    let over = case_to(
        Fork::Osaka,
        CONTRACT,
        &code,
        &[],
        &modexp_lengths(513, 0, 0),
        TX_GAS,
    );
    assert_eq!(run(&over, &linea).status, Status::Rejected);
    // 512 is accepted.
    let at = case_to(
        Fork::Osaka,
        CONTRACT,
        &code,
        &[],
        &modexp_lengths(512, 0, 0),
        TX_GAS,
    );
    assert_eq!(
        flag_and_size(&run(&at, &linea)),
        (U256::from(1), U256::ZERO)
    );
    // A `halt` cap consumes the forwarded gas: the difference with the accepted call is the
    // 65535 forwarded minus what modexp itself charges in Osaka (EIP-7883): base length 513
    // → 65 words, complexity 2 × 65² = 8450, exponent 0 → 1 iteration: 8450.
    let halt = custom(
        "name = \"t\"\nbase_fork = \"Osaka\"\n[limits.modexp]\nmax_len = 512\nbehaviour = \"halt\"\n",
    );
    let o = run(&over, &halt);
    assert_eq!(flag_and_size(&o), (U256::ZERO, U256::ZERO));
    let accepted = run(&over, &Profile::mainnet(Fork::Osaka));
    assert_eq!(flag_and_size(&accepted), (U256::from(1), U256::ZERO));
    assert_eq!(o.gas_used, accepted.gas_used - 8450 + FORWARDED);
}

// ---------------------------------------------------------------------------------- refund

#[test]
fn refund_is_what_was_deducted_from_the_gas_spent() {
    // PUSH1 0 PUSH1 0 SSTORE STOP with slot 0 = 5: 3 + 3 + SSTORE (cold 2100 + reset 2900)
    // = 5006 → 26006 spent; clearing a slot refunds 4800 (EIP-3529, under the 26006 / 5 cap).
    let code = [0x60, 0x00, 0x60, 0x00, 0x55, 0x00];
    let with_slot = |fork, data: &[u8]| {
        let mut c = case_to(fork, CONTRACT, &code, &[], data, TX_GAS);
        c.pre
            .get_mut(&CONTRACT)
            .unwrap()
            .storage
            .insert(U256::ZERO, U256::from(5));
        c
    };
    let o = run(
        &with_slot(Fork::Shanghai, &[]),
        &Profile::mainnet(Fork::Shanghai),
    );
    assert_eq!(
        (o.status, o.gas_used, o.refund),
        (Status::Success, 21_206, 4_800)
    );
    assert!(o.post[&CONTRACT].storage.is_empty());
    // Prague with 400 zero bytes of calldata: 26006 + 4 × 400 = 27606 spent, 22806 after the
    // refund, but the EIP-7623 floor is 21000 + 10 × 400 = 25000. The sender pays 25000, so
    // 2606 of the refund was deducted (levm's `gas_refunded` counter says 4800).
    let o = run(
        &with_slot(Fork::Prague, &[0; 400]),
        &Profile::mainnet(Fork::Prague),
    );
    assert_eq!(
        (o.status, o.gas_used, o.refund),
        (Status::Success, 25_000, 2_606)
    );
}

// ------------------------------------------------------------------------ normalization

#[test]
fn halt_reasons_are_normalized() {
    let shanghai = Profile::mainnet(Fork::Shanghai);
    let halt = |code: &[u8], gas: u64| {
        let o = run(
            &case_to(Fork::Shanghai, CONTRACT, code, &[], &[], gas),
            &shanghai,
        );
        assert_eq!(o.gas_used, gas, "a halt consumes all gas: {}", o.detail);
        assert!(o.output.is_empty() && o.logs.is_empty());
        (o.status, o.detail)
    };
    let invalid = Status::Halt(HaltClass::InvalidOpcode);
    // TLOAD before Cancun, 0xFE and 0x0c: levm says `InvalidOpcode` for all three.
    for code in [0x5c, 0xfe, 0x0c] {
        let (status, detail) = halt(&[code], TX_GAS);
        assert_eq!(status, invalid);
        assert!(detail.contains("InvalidOpcode"), "{detail}");
    }
    assert_eq!(
        halt(&[0x56], TX_GAS).0,
        Status::Halt(HaltClass::StackUnderflow)
    );
    assert_eq!(
        halt(&[0x60, 0x03, 0x56], TX_GAS).0,
        Status::Halt(HaltClass::InvalidJump)
    );
    // RETURNDATACOPY(0, 0, 1) with no return data.
    let rdc = [0x60, 0x01, 0x60, 0x00, 0x60, 0x00, 0x3e];
    assert_eq!(
        halt(&rdc, TX_GAS).0,
        Status::Halt(HaltClass::ReturnDataOutOfBounds)
    );
    // Plain out of gas (PUSH1 PUSH1 ADD needs 9), and memory expansion out of gas.
    assert_eq!(
        halt(&[0x60, 0x00, 0x60, 0x00, 0x01], INTRINSIC + 8).0,
        Status::Halt(HaltClass::OutOfGas)
    );
    let mload_far = [0x63, 0xff, 0xff, 0xff, 0xff, 0x51];
    assert_eq!(
        halt(&mload_far, TX_GAS).0,
        Status::Halt(HaltClass::OutOfGas)
    );
}

#[test]
fn create_transactions_return_the_deployed_code() {
    // Init code: MSTORE8(0, byte) RETURN(0, 1).
    let init = |byte: u8| vec![0x60, byte, 0x60, 0x00, 0x53, 0x60, 0x01, 0x60, 0x00, 0xf3];
    let mut c = case(Fork::Shanghai, &[]);
    c.tx.to = None;
    c.tx.data = Bytes::from(init(0x00));
    let o = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(
        (o.status, o.output.clone()),
        (Status::Success, Bytes::from(vec![0x00])),
        "{}",
        o.detail
    );
    // The new account (nonce 1 from EIP-161, code 0x00) is at the sender's nonce-0 address.
    let created = SENDER.create(0);
    assert_eq!(o.post[&created].code, Bytes::from(vec![0x00]));
    assert_eq!(o.post[&created].nonce, 1);
    // Deploying code that starts with 0xEF (EIP-3541).
    c.tx.data = Bytes::from(init(0xef));
    let o = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(
        o.status,
        Status::Halt(HaltClass::InvalidCodePrefix),
        "{}",
        o.detail
    );
    assert!(!o.post.contains_key(&created));
}

// ---------------------------------------------------------------------- limits of levm

#[test]
fn forks_before_paris_are_unsupported() {
    for fork in [Fork::Frontier, Fork::Berlin, Fork::London] {
        let c = case(fork, &[0x00]);
        let e = LevmBackend::default()
            .execute(&c, &Profile::mainnet(fork))
            .unwrap_err();
        assert!(matches!(e, BackendError::Unsupported(_)), "{fork}: {e}");
    }
    let c = case(Fork::Paris, &[0x00]);
    assert_eq!(
        run(&c, &Profile::mainnet(Fork::Paris)).status,
        Status::Success
    );
}

// ------------------------------------------------------------------ the adapter's own loop

/// Under a profile with rules the adapter runs its own copy of levm's dispatch loop. On cases
/// that no rule affects it must give exactly what levm's own `execute` gives (the fixture test
/// checks the same without rules on every case).
#[test]
fn rules_that_do_not_fire_change_nothing() {
    let rules = custom(
        "name = \"t\"\nbase_fork = \"Shanghai\"\n[opcodes]\nCOINBASE = \"reject\"\n[precompiles]\nblake2f = \"halt\"\n",
    );
    for c in [
        case(Fork::Shanghai, &call_program(0x02, 1)),
        case(Fork::Shanghai, &call_program(0xbeef, 0)),
        case(Fork::Shanghai, &[0x60, 0x00, 0xff]),
        case_to(
            Fork::Shanghai,
            CONTRACT,
            &call_with_calldata(0x05),
            &[],
            &modexp_lengths(1, 1, 1),
            TX_GAS,
        ),
    ] {
        let m = run(&c, &Profile::mainnet(Fork::Shanghai));
        assert_eq!(run(&c, &rules), m);
        assert_eq!(
            LevmBackend::with_own_loop()
                .execute(&c, &Profile::mainnet(Fork::Shanghai))
                .unwrap(),
            m
        );
    }
}
