//! Profile behaviours on the `evm` backend, on small hand-assembled programs whose gas is
//! computed by hand in each test.
//!
//! Gas figures used throughout (Berlin+ schedule): PUSH 3, ADD 3, RETURNDATASIZE 2,
//! PREVRANDAO/COINBASE 2, BLOCKHASH 20, CALL to a warm address 100 and to a cold one 2600,
//! SSTORE of a non-zero value into a cold empty slot 22,100 (2,100 cold + 20,000 set), and a
//! 21,000 intrinsic gas for a call transaction without data.

use alloy_primitives::{Address, B256, Bytes, U256, address, b256};
use evmdiff_adapters::evm_backend::EvmBackend;
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::{
    Account, Backend, BackendError, Case, Fork, HaltClass, Outcome, Profile, State, Status,
};

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const SECRET: B256 = b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8");
const TARGET: Address = address!("00000000000000000000000000000000000000aa");
/// A second contract, called by the target.
const CALLEE: Address = address!("00000000000000000000000000000000000000bb");
const COINBASE: Address = address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba");
const GAS_PRICE: u64 = 10;
const BASE_FEE: u64 = 7;
const SENDER_BALANCE: u64 = 1_000_000_000_000_000_000;
const GAS_LIMIT: u64 = 1_000_000;

/// Static gas of `call_and_record` with a warm target: 7 PUSHes (21), CALL (100), then
/// PUSH ADD PUSH (9), SSTORE (22,100), RETURNDATASIZE (2), PUSH ADD PUSH (9), SSTORE (22,100).
const CALL_AND_RECORD: u64 = 21 + 100 + 9 + 22_100 + 2 + 9 + 22_100;

/// A program that CALLs `to` with `gas`, no value and no data, then stores `success + 1` in
/// slot 0 and `RETURNDATASIZE + 1` in slot 1 (so both are non-zero and visible).
fn call_and_record(to: u8, gas: u16) -> Vec<u8> {
    let [hi, lo] = gas.to_be_bytes();
    vec![
        0x60, 0x00, // retLen
        0x60, 0x00, // retOff
        0x60, 0x00, // argsLen
        0x60, 0x00, // argsOff
        0x60, 0x00, // value
        0x60, to, // address
        0x61, hi, lo,   // gas
        0xf1, // CALL
        0x60, 0x01, 0x01, 0x60, 0x00, 0x55, // slot0 = success + 1
        0x3d, 0x60, 0x01, 0x01, 0x60, 0x01, 0x55, // slot1 = RETURNDATASIZE + 1
        0x00,
    ]
}

fn env(fork: Fork) -> BlockEnv {
    BlockEnv {
        coinbase: COINBASE,
        gas_limit: U256::from(30_000_000u64),
        number: U256::from(1u64),
        timestamp: U256::from(1_000u64),
        difficulty: U256::from(0x20000u64),
        base_fee: fork.includes(Fork::London).then(|| U256::from(BASE_FEE)),
        random: fork
            .includes(Fork::Paris)
            .then(|| b256!("0000000000000000000000000000000000000000000000000000000000001234")),
        excess_blob_gas: fork.includes(Fork::Cancun).then_some(0),
        chain_id: 1,
    }
}

/// A call from the well-known test sender to `TARGET` (running `code`), with `CALLEE`
/// running `callee` when given.
fn case(fork: Fork, code: Vec<u8>, callee: Option<Vec<u8>>) -> Case {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(SENDER_BALANCE),
            ..Account::default()
        },
    );
    pre.insert(
        TARGET,
        Account {
            code: code.into(),
            nonce: 1,
            ..Account::default()
        },
    );
    if let Some(c) = callee {
        pre.insert(
            CALLEE,
            Account {
                code: c.into(),
                nonce: 1,
                ..Account::default()
            },
        );
    }
    Case {
        name: "hand-made".into(),
        fork,
        env: env(fork),
        pre,
        tx: Transaction::legacy(
            SENDER,
            SECRET,
            Some(TARGET),
            Bytes::new(),
            GAS_LIMIT,
            GAS_PRICE,
        ),
        expect: None,
        meta: None,
    }
}

fn run(case: &Case, profile: &Profile) -> Outcome {
    EvmBackend::default()
        .execute(case, profile)
        .expect("evm runs Shanghai and Cancun")
}

fn profile(toml: &str) -> Profile {
    Profile::from_toml(
        &format!("name = \"test\"\nbase_fork = \"Cancun\"\n{toml}"),
        "test.toml",
    )
    .expect("a valid test profile")
}

fn slot(o: &Outcome, who: Address, slot: u64) -> U256 {
    o.post
        .get(&who)
        .and_then(|a| a.storage.get(&U256::from(slot)).copied())
        .unwrap_or_default()
}

/// Checks the fee side of an outcome: the sender paid `gas_used` at the gas price and the
/// coinbase received the priority part (price minus base fee, London+).
fn assert_fees(o: &Outcome, fork: Fork) {
    let paid = U256::from(o.gas_used) * U256::from(GAS_PRICE);
    assert_eq!(
        o.post[&SENDER].balance,
        U256::from(SENDER_BALANCE) - paid,
        "sender balance"
    );
    let tip = if fork.includes(Fork::London) {
        GAS_PRICE - BASE_FEE
    } else {
        GAS_PRICE
    };
    assert_eq!(
        o.post[&COINBASE].balance,
        U256::from(o.gas_used * tip),
        "coinbase balance"
    );
}

#[test]
fn eip7530_b_reverts_sha256_and_returns_the_forwarded_gas() {
    let p = Profile::load("eip7530-b").unwrap();
    let o = run(
        &case(Fork::Shanghai, call_and_record(0x02, 10_000), None),
        &p,
    );
    assert_eq!(o.status, Status::Success);
    assert_eq!(slot(&o, TARGET, 0), U256::from(1u64), "CALL returned 0");
    assert_eq!(slot(&o, TARGET, 1), U256::from(1u64), "no return data");
    // Intrinsic + the program's own gas, and not one unit of the 10,000 forwarded.
    assert_eq!(o.gas_used, 21_000 + CALL_AND_RECORD);
    assert_eq!(o.gas_used, 65_341);
    assert_eq!(o.refund, 0);
    assert_fees(&o, Fork::Shanghai);
}

#[test]
fn eip7530_a_runs_sha256() {
    let p = Profile::load("eip7530-a").unwrap();
    let o = run(
        &case(Fork::Shanghai, call_and_record(0x02, 10_000), None),
        &p,
    );
    assert_eq!(slot(&o, TARGET, 0), U256::from(2u64), "CALL returned 1");
    assert_eq!(slot(&o, TARGET, 1), U256::from(33u64), "32 bytes of digest");
    // sha256 of empty input costs 60.
    assert_eq!(o.gas_used, 21_000 + CALL_AND_RECORD + 60);
    assert_fees(&o, Fork::Shanghai);
}

#[test]
fn prevrandao_is_zero_under_both_eip7530_profiles() {
    // PREVRANDAO, PUSH1 1, ADD, PUSH1 0, SSTORE, STOP: slot 0 = PREVRANDAO + 1.
    let code = vec![0x44, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, 0x00];
    let c = case(Fork::Shanghai, code, None);
    let gas = 21_000 + 2 + 3 + 3 + 3 + 22_100;
    let mainnet = run(&c, &Profile::mainnet(Fork::Shanghai));
    assert_eq!(
        slot(&mainnet, TARGET, 0),
        U256::from(0x1235u64),
        "mainnet reads the block's PREVRANDAO"
    );
    assert_eq!(mainnet.gas_used, gas);
    for name in ["eip7530-a", "eip7530-b"] {
        let o = run(&c, &Profile::load(name).unwrap());
        assert_eq!(slot(&o, TARGET, 0), U256::from(1u64), "{name}");
        assert_eq!(
            o.gas_used, gas,
            "{name}: a constant costs what the opcode costs"
        );
    }
}

#[test]
fn halt_precompile_consumes_the_forwarded_gas() {
    let p = profile("[precompiles]\nsha256 = \"halt\"\n");
    let o = run(&case(Fork::Cancun, call_and_record(0x02, 10_000), None), &p);
    assert_eq!(o.status, Status::Success);
    assert_eq!(slot(&o, TARGET, 0), U256::from(1u64), "CALL returned 0");
    assert_eq!(slot(&o, TARGET, 1), U256::from(1u64), "no return data");
    assert_eq!(o.gas_used, 21_000 + CALL_AND_RECORD + 10_000);
    assert_fees(&o, Fork::Cancun);
}

#[test]
fn absent_precompile_is_a_cold_empty_account() {
    let p = profile("[precompiles]\nsha256 = \"absent\"\n");
    let o = run(&case(Fork::Cancun, call_and_record(0x02, 10_000), None), &p);
    assert_eq!(slot(&o, TARGET, 0), U256::from(2u64), "CALL returned 1");
    assert_eq!(slot(&o, TARGET, 1), U256::from(1u64), "no output");
    // Cold access (2,600) instead of the warm 100 a precompile gets; the empty code uses
    // no gas.
    assert_eq!(o.gas_used, 21_000 + CALL_AND_RECORD - 100 + 2_600);
    assert!(
        !o.post.contains_key(&Address::with_last_byte(2)),
        "a touched empty account is removed (EIP-161)"
    );
    assert_fees(&o, Fork::Cancun);
}

#[test]
fn reject_precompile_refuses_the_transaction() {
    let p = profile("[precompiles]\nsha256 = \"reject\"\n");
    let c = case(Fork::Cancun, call_and_record(0x02, 10_000), None);
    let o = run(&c, &p);
    assert_eq!(o.status, Status::Rejected);
    assert_eq!((o.gas_used, o.post), (0, c.pre.clone()));
    assert!(o.detail.contains("0x2"), "{}", o.detail);
}

#[test]
fn precompile_as_the_direct_target() {
    let mut c = case(Fork::Shanghai, Vec::new(), None);
    c.tx.to = Some(Address::with_last_byte(2));
    // Revert-refund: status revert, only the intrinsic gas is used.
    let o = run(&c, &Profile::load("eip7530-b").unwrap());
    assert_eq!(
        (o.status, o.gas_used, o.output.len()),
        (Status::Revert, 21_000, 0)
    );
    assert_fees(&o, Fork::Shanghai);
    // Halt: an L1-style precompile failure, all gas used.
    c.fork = Fork::Cancun;
    c.env = env(Fork::Cancun);
    let o = run(&c, &profile("[precompiles]\nsha256 = \"halt\"\n"));
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::PrecompileFailure), GAS_LIMIT)
    );
    // Mainnet bn254 add on a point off the curve (1, 1): invalid input, not out of gas...
    c.tx.to = Some(Address::with_last_byte(6));
    let mut input = vec![0u8; 128];
    input[31] = 1;
    input[63] = 1;
    c.tx.data = input.into();
    let o = run(&c, &Profile::mainnet(Fork::Cancun));
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::PrecompileFailure), GAS_LIMIT),
        "{}",
        o.detail
    );
    // ... unless the gas cannot pay the 150 the precompile costs.
    let intrinsic = 21_000 + 2 * 16 + 126 * 4;
    c.tx.gas_limit = U256::from(intrinsic + 149);
    let o = run(&c, &Profile::mainnet(Fork::Cancun));
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::OutOfGas), intrinsic + 149),
        "{}",
        o.detail
    );
    // modexp with a base length of 2^64: an input failure once the gas covers modexp's
    // minimum price of 200 (the naming revm uses), out of gas below it.
    c.tx.to = Some(Address::with_last_byte(5));
    let mut input = vec![0u8; 96];
    input[23] = 1;
    c.tx.data = input.into();
    let intrinsic = 21_000 + 16 + 95 * 4;
    c.tx.gas_limit = U256::from(intrinsic + 200);
    let o = run(&c, &Profile::mainnet(Fork::Cancun));
    assert_eq!(
        o.status,
        Status::Halt(HaltClass::PrecompileFailure),
        "{}",
        o.detail
    );
    c.tx.gas_limit = U256::from(intrinsic + 199);
    let o = run(&c, &Profile::mainnet(Fork::Cancun));
    assert_eq!(o.status, Status::Halt(HaltClass::OutOfGas), "{}", o.detail);
}

#[test]
fn invalid_opcode_halts_the_frame_with_all_its_gas() {
    let p = profile("[opcodes]\nNUMBER = \"invalid\"\n");
    // At the top: NUMBER, STOP.
    let o = run(&case(Fork::Cancun, vec![0x43, 0x00], None), &p);
    assert_eq!(
        (o.status, o.gas_used, o.output.len()),
        (Status::Halt(HaltClass::InvalidOpcode), GAS_LIMIT, 0)
    );
    assert_eq!(
        run(
            &case(Fork::Cancun, vec![0x43, 0x00], None),
            &Profile::mainnet(Fork::Cancun)
        )
        .status,
        Status::Success
    );
    // In a callee: the call fails and its 5,000 gas are gone; the cold callee costs 2,600.
    let o = run(
        &case(
            Fork::Cancun,
            call_and_record(0xbb, 5_000),
            Some(vec![0x43, 0x00]),
        ),
        &p,
    );
    assert_eq!(o.status, Status::Success);
    assert_eq!(
        (slot(&o, TARGET, 0), slot(&o, TARGET, 1)),
        (U256::from(1u64), U256::from(1u64))
    );
    assert_eq!(o.gas_used, 21_000 + CALL_AND_RECORD - 100 + 2_600 + 5_000);
}

#[test]
fn revert_refund_opcode_reverts_the_frame_and_keeps_its_gas() {
    let p = profile("[opcodes]\nNUMBER = \"revert-refund\"\n");
    // At the top: SSTORE(0, 1), NUMBER: the store is undone, its gas is not; NUMBER is free.
    let o = run(
        &case(
            Fork::Cancun,
            vec![0x60, 0x01, 0x60, 0x00, 0x55, 0x43, 0x00],
            None,
        ),
        &p,
    );
    assert_eq!((o.status, o.output.len()), (Status::Revert, 0));
    assert_eq!(o.gas_used, 21_000 + 3 + 3 + 22_100);
    assert!(o.post[&TARGET].storage.is_empty());
    assert_fees(&o, Fork::Cancun);
    // In a callee: CALL returns 0 with empty data and every unit of the 5,000 comes back.
    let o = run(
        &case(
            Fork::Cancun,
            call_and_record(0xbb, 5_000),
            Some(vec![0x43, 0x00]),
        ),
        &p,
    );
    assert_eq!(
        (slot(&o, TARGET, 0), slot(&o, TARGET, 1)),
        (U256::from(1u64), U256::from(1u64))
    );
    assert_eq!(o.gas_used, 21_000 + CALL_AND_RECORD - 100 + 2_600);
}

#[test]
fn reject_opcode_refuses_the_transaction_even_in_a_callee() {
    let p = profile("[opcodes]\nNUMBER = \"reject\"\n");
    let c = case(
        Fork::Cancun,
        call_and_record(0xbb, 5_000),
        Some(vec![0x43, 0x00]),
    );
    let o = run(&c, &p);
    assert_eq!(
        (o.status, o.gas_used, &o.post),
        (Status::Rejected, 0, &c.pre)
    );
    assert!(o.detail.contains("NUMBER"), "{}", o.detail);
}

#[test]
fn constant_opcode_pops_charges_and_pushes() {
    let p = profile(
        "[opcodes]\nBLOCKHASH = { behaviour = \"constant\", value = \"0x77\" }\nCOINBASE = { behaviour = \"constant\", value = 5 }\n",
    );
    // PUSH1 5, BLOCKHASH, PUSH1 0, SSTORE, STOP: slot 0 = 0x77; BLOCKHASH still costs 20.
    let o = run(
        &case(
            Fork::Cancun,
            vec![0x60, 0x05, 0x40, 0x60, 0x00, 0x55, 0x00],
            None,
        ),
        &p,
    );
    assert_eq!(o.status, Status::Success);
    assert_eq!(slot(&o, TARGET, 0), U256::from(0x77u64));
    assert_eq!(o.gas_used, 21_000 + 3 + 20 + 3 + 22_100);
    // BLOCKHASH needs one input.
    let o = run(&case(Fork::Cancun, vec![0x40, 0x00], None), &p);
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::StackUnderflow), GAS_LIMIT)
    );
    // 19 gas left for a 20-gas opcode.
    let mut c = case(Fork::Cancun, vec![0x60, 0x05, 0x40, 0x00], None);
    c.tx.gas_limit = U256::from(21_000 + 3 + 19);
    let o = run(&c, &p);
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::OutOfGas), 21_000 + 3 + 19)
    );
    // 1,024 PUSH0s fill the stack; COINBASE (no input, one output) overflows it.
    let mut code = vec![0x5f; 1024];
    code.extend([0x41, 0x00]);
    let o = run(&case(Fork::Cancun, code.clone(), None), &p);
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::StackOverflow), GAS_LIMIT)
    );
    code[1023] = 0x00; // one item fewer: COINBASE now fits
    assert_eq!(
        run(&case(Fork::Cancun, code, None), &p).status,
        Status::Success
    );
}

/// A program that CALLs modexp with `gas` on base length `base_len`, exponent and modulus
/// length 1 (the values themselves are zero-padded), and records success and output size.
fn call_modexp(base_len: u8, gas: u16) -> Vec<u8> {
    let [hi, lo] = gas.to_be_bytes();
    vec![
        0x60, base_len, 0x60, 0x00, 0x52, // MSTORE(0, base_len)
        0x60, 0x01, 0x60, 0x20, 0x52, // MSTORE(32, 1)
        0x60, 0x01, 0x60, 0x40, 0x52, // MSTORE(64, 1)
        0x60, 0x00, 0x60, 0x00, // retLen, retOff
        0x60, 0x60, 0x60, 0x00, // argsLen 96, argsOff 0
        0x60, 0x00, 0x60, 0x05, 0x61, hi, lo, // value, modexp, gas
        0xf1, 0x60, 0x01, 0x01, 0x60, 0x00, 0x55, // slot0 = success + 1
        0x3d, 0x60, 0x01, 0x01, 0x60, 0x01, 0x55, // slot1 = RETURNDATASIZE + 1
        0x00,
    ]
}

#[test]
fn modexp_length_cap() {
    let cap = |b: &str| {
        profile(&format!(
            "[limits.modexp]\nmax_len = 64\nbehaviour = \"{b}\"\n"
        ))
    };
    let at_cap = run(
        &case(Fork::Cancun, call_modexp(64, 10_000), None),
        &cap("revert-refund"),
    );
    assert_eq!(
        (slot(&at_cap, TARGET, 0), slot(&at_cap, TARGET, 1)),
        (U256::from(2u64), U256::from(2u64)),
        "runs: 1 byte out"
    );
    let over = run(
        &case(Fork::Cancun, call_modexp(65, 10_000), None),
        &cap("revert-refund"),
    );
    assert_eq!(
        (slot(&over, TARGET, 0), slot(&over, TARGET, 1)),
        (U256::from(1u64), U256::from(1u64)),
        "refused with no output"
    );
    // The same call without the cap runs (and pays modexp's minimum price of 200).
    let plain = run(
        &case(Fork::Cancun, call_modexp(65, 10_000), None),
        &Profile::mainnet(Fork::Cancun),
    );
    assert_eq!(slot(&plain, TARGET, 0), U256::from(2u64));
    assert_eq!(plain.gas_used, over.gas_used + 200);
    // Halt keeps the forwarded 10,000 that revert-refund gives back.
    let halted = run(
        &case(Fork::Cancun, call_modexp(65, 10_000), None),
        &cap("halt"),
    );
    assert_eq!(slot(&halted, TARGET, 0), U256::from(1u64));
    assert_eq!(halted.gas_used, over.gas_used + 10_000);
    let rejected = run(
        &case(Fork::Cancun, call_modexp(65, 10_000), None),
        &cap("reject"),
    );
    assert_eq!(rejected.status, Status::Rejected);
}

#[test]
fn unsupported_forks_and_refused_transactions() {
    let c = case(Fork::Cancun, vec![0x00], None);
    for fork in [Fork::Prague, Fork::Osaka, Fork::Constantinople] {
        let e = EvmBackend::default()
            .execute(&c, &Profile::mainnet(fork))
            .unwrap_err();
        assert!(matches!(e, BackendError::Unsupported(_)), "{fork}: {e}");
    }
    // An EIP-7702 transaction does not exist in Cancun: the protocol refuses it.
    let mut t4 = c.clone();
    t4.tx.authorization_list = Some(Vec::new());
    assert_eq!(
        run(&t4, &Profile::mainnet(Fork::Cancun)).status,
        Status::Rejected
    );
    // A nonce that is not the sender's.
    let mut bad = c.clone();
    bad.tx.nonce = U256::from(1u64);
    let o = run(&bad, &Profile::mainnet(Fork::Cancun));
    assert_eq!((o.status, &o.post), (Status::Rejected, &c.pre));
}

#[test]
fn create_transaction_outputs_the_deployed_code() {
    // PUSH2 0xabcd, PUSH1 0, MSTORE, PUSH1 2, PUSH1 30, RETURN: deploys 0xabcd.
    let mut c = case(Fork::Cancun, Vec::new(), None);
    c.tx.to = None;
    c.tx.data = vec![
        0x61, 0xab, 0xcd, 0x60, 0x00, 0x52, 0x60, 0x02, 0x60, 0x1e, 0xf3,
    ]
    .into();
    let o = run(&c, &Profile::mainnet(Fork::Cancun));
    assert_eq!(
        (o.status, o.output.as_ref()),
        (Status::Success, &[0xab, 0xcd][..])
    );
    let created = SENDER.create(0);
    assert_eq!(o.post[&created].code.as_ref(), &[0xab, 0xcd]);
    assert_eq!(o.post[&created].nonce, 1);
    // Intrinsic 53,000 + 11 bytes of init code (one of them zero) + 1 init-code word (2);
    // then 4 PUSHes, MSTORE with one word of memory (3 + 3), RETURN (0) and 2 bytes of
    // code deposit (2 * 200).
    assert_eq!(o.gas_used, 53_000 + 10 * 16 + 4 + 2 + 4 * 3 + 6 + 400);
}
