//! Profile behaviours, proven on both real backends with exact gas computed by hand.
//!
//! Every scenario runs on revm and on rust-ethereum `evm`; each must produce the expected
//! status, gas and storage, and the two must agree field by field. Gas figures are derived in
//! the comments from the Shanghai schedule (EIP-2929 warm/cold costs, EIP-2200/3529 SSTORE).

use alloy_primitives::{Address, B256, Bytes, U256, address};
use evmdiff::execute::{Verdict, run_case};
use evmdiff_core::case::{BlockEnv, Case, Transaction};
use evmdiff_core::{Backend, BackendError, Fork, HaltClass, Outcome, Profile, State, Status};

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const CONTRACT: Address = address!("0000000000000000000000000000000000001000");
const GAS_LIMIT: u64 = 1_000_000;

fn case(fork: Fork, to: Address, code: &[u8], data: &[u8]) -> Case {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        evmdiff_core::Account {
            balance: U256::from(10u128.pow(18)),
            ..Default::default()
        },
    );
    pre.insert(
        CONTRACT,
        evmdiff_core::Account {
            code: Bytes::copy_from_slice(code),
            nonce: 1,
            ..Default::default()
        },
    );
    Case {
        name: "hand-made".into(),
        fork,
        env: BlockEnv {
            coinbase: address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba"),
            gas_limit: U256::from(30_000_000u64),
            number: U256::from(1),
            timestamp: U256::from(1000),
            difficulty: U256::ZERO,
            base_fee: Some(U256::from(7)),
            random: Some(B256::repeat_byte(0xab)),
            excess_blob_gas: (fork >= Fork::Cancun).then_some(0),
            chain_id: 1,
        },
        pre,
        tx: Transaction::legacy(
            SENDER,
            "0x45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"
                .parse()
                .unwrap(),
            Some(to),
            Bytes::copy_from_slice(data),
            GAS_LIMIT,
            10,
        ),
        expect: None,
        meta: None,
    }
}

fn backends() -> Vec<Box<dyn Backend>> {
    evmdiff::backends::instantiate("revm,evm").unwrap()
}

/// Runs on both backends, requires agreement, and returns the outcomes of those that ran
/// (at least revm). `both` demands that evm supports the profile too.
fn run(case: &Case, profile: &Profile, both: bool) -> Vec<Outcome> {
    let mut backends = backends();
    let run = run_case(&mut backends, case, profile);
    assert!(
        run.divergences.is_empty(),
        "backends disagree: {:#?}",
        run.divergences
    );
    let mut outcomes = Vec::new();
    for e in &run.executions {
        match &e.result {
            Ok(o) => outcomes.push(o.clone()),
            Err(BackendError::Unsupported(_)) if !both && e.backend == "evm" => {}
            Err(err) => panic!("{} failed: {err}", e.backend),
        }
    }
    if both {
        assert_eq!(run.verdict, Verdict::Agree);
        assert_eq!(outcomes.len(), 2);
    }
    outcomes
}

fn slot(o: &Outcome, n: u64) -> U256 {
    o.post
        .get(&CONTRACT)
        .and_then(|a| a.storage.get(&U256::from(n)).copied())
        .unwrap_or_default()
}

fn profile(toml: &str) -> Profile {
    Profile::from_toml(toml, "test.toml").unwrap()
}

/// CALL(gas 0xffff, addr, 0, in 0..32, out 0..32); SSTORE(0, success); SSTORE(1, RETURNDATASIZE).
fn call_and_record(addr: u8) -> Vec<u8> {
    vec![
        0x60, 0x20, 0x60, 0x00, 0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x60, addr, 0x61, 0xff, 0xff,
        0xf1, // CALL
        0x60, 0x00, 0x55, // SSTORE(0, success)
        0x3d, 0x60, 0x01, 0x55, // SSTORE(1, RETURNDATASIZE)
        0x00,
    ]
}

// Shared part of the gas of `call_and_record`: intrinsic 21000; seven PUSHes 21; CALL's own
// charges: warm precompile 100 + memory expansion to one word 3 = 103; PUSH1 3,
// RETURNDATASIZE 2, PUSH1 3. SSTORE of a cold zero slot: to zero 2100+100 = 2200, to non-zero
// 2100+20000 = 22100.
const FIXED: u64 = 21000 + 21 + 103 + 3 + 2 + 3;

#[test]
fn eip7530_b_call_to_sha256_reverts_and_refunds_the_forwarded_gas() {
    let p = Profile::load("eip7530-b").unwrap();
    for o in run(
        &case(Fork::Shanghai, CONTRACT, &call_and_record(0x02), &[]),
        &p,
        true,
    ) {
        assert_eq!(o.status, Status::Success);
        assert_eq!(slot(&o, 0), U256::ZERO, "success flag is 0");
        assert_eq!(slot(&o, 1), U256::ZERO, "return data is empty");
        // The 65535 forwarded come back: the callee costs 0. Both SSTOREs write zero: 2200 each.
        assert_eq!(o.gas_used, FIXED + 2200 + 2200);
        assert_eq!(o.gas_used, 25532);
    }
}

#[test]
fn eip7530_a_call_to_sha256_succeeds() {
    let p = Profile::load("eip7530-a").unwrap();
    for o in run(
        &case(Fork::Shanghai, CONTRACT, &call_and_record(0x02), &[]),
        &p,
        true,
    ) {
        assert_eq!(slot(&o, 0), U256::from(1));
        assert_eq!(slot(&o, 1), U256::from(32));
        // sha256 of one word: 60 + 12 = 72; both SSTOREs write non-zero: 22100 each.
        assert_eq!(o.gas_used, FIXED + 72 + 22100 + 22100);
    }
}

#[test]
fn a_halt_precompile_consumes_the_forwarded_gas() {
    let p = profile("name = \"h\"\nbase_fork = \"Shanghai\"\n[precompiles]\nsha256 = \"halt\"\n");
    for o in run(
        &case(Fork::Shanghai, CONTRACT, &call_and_record(0x02), &[]),
        &p,
        true,
    ) {
        assert_eq!(slot(&o, 0), U256::ZERO);
        assert_eq!(slot(&o, 1), U256::ZERO);
        // All 65535 forwarded gas is consumed.
        assert_eq!(o.gas_used, FIXED + 65535 + 2200 + 2200);
    }
}

#[test]
fn scroll_ripemd160_halts_on_revm_and_evm_says_unsupported() {
    let p = Profile::load("scroll").unwrap();
    let c = case(Fork::Osaka, CONTRACT, &call_and_record(0x03), &[]);
    let outcomes = run(&c, &p, false);
    assert_eq!(outcomes.len(), 1, "evm has no Osaka: only revm runs");
    let o = &outcomes[0];
    assert_eq!(slot(o, 0), U256::ZERO);
    assert_eq!(o.gas_used, FIXED + 65535 + 2200 + 2200);
}

#[test]
fn an_absent_precompile_is_a_cold_empty_account() {
    let p = profile("name = \"a\"\nbase_fork = \"Shanghai\"\n[precompiles]\nsha256 = \"absent\"\n");
    for o in run(
        &case(Fork::Shanghai, CONTRACT, &call_and_record(0x02), &[]),
        &p,
        true,
    ) {
        assert_eq!(slot(&o, 0), U256::from(1), "the call succeeds");
        assert_eq!(slot(&o, 1), U256::ZERO, "with no output");
        // Cold access 2600 instead of warm 100; the empty callee runs no code.
        assert_eq!(o.gas_used, FIXED - 100 + 2600 + 22100 + 2200);
        assert!(
            !o.post.contains_key(&Address::with_last_byte(2)),
            "touched empty account is removed (EIP-161)"
        );
    }
}

#[test]
fn a_reject_rule_refuses_the_transaction() {
    let p = profile("name = \"r\"\nbase_fork = \"Shanghai\"\n[precompiles]\nsha256 = \"reject\"\n");
    let c = case(Fork::Shanghai, CONTRACT, &call_and_record(0x02), &[]);
    for o in run(&c, &p, true) {
        assert_eq!(o.status, Status::Rejected);
        assert_eq!(o.gas_used, 0);
        assert_eq!(o.post, c.pre, "no state change, no fee");
    }
}

#[test]
fn linea_rejects_a_call_to_ripemd160() {
    let p = Profile::load("linea").unwrap();
    let c = case(Fork::Osaka, CONTRACT, &call_and_record(0x03), &[]);
    let o = &run(&c, &p, false)[0];
    assert_eq!(o.status, Status::Rejected);
    assert_eq!(o.post, c.pre);
}

#[test]
fn revert_refund_precompile_as_the_direct_target_reverts_with_intrinsic_gas_only() {
    let p = Profile::load("eip7530-b").unwrap();
    // 32 zero bytes of calldata: 21000 + 32 * 4.
    for o in run(
        &case(Fork::Shanghai, Address::with_last_byte(2), &[], &[0u8; 32]),
        &p,
        true,
    ) {
        assert_eq!(o.status, Status::Revert);
        assert_eq!(o.gas_used, 21000 + 128);
        assert!(o.output.is_empty());
    }
}

#[test]
fn prevrandao_is_zero_under_both_eip7530_profiles() {
    // SSTORE(0, PREVRANDAO): PREVRANDAO 2, PUSH1 3.
    let code = [0x44, 0x60, 0x00, 0x55, 0x00];
    let c = case(Fork::Shanghai, CONTRACT, &code, &[]);
    for o in run(&c, &Profile::mainnet(Fork::Shanghai), true) {
        assert_eq!(
            slot(&o, 0),
            U256::from_be_bytes([0xab; 32]),
            "mainnet: the block's random value"
        );
        assert_eq!(o.gas_used, 21000 + 2 + 3 + 22100);
    }
    for name in ["eip7530-a", "eip7530-b"] {
        for o in run(&c, &Profile::load(name).unwrap(), true) {
            assert_eq!(slot(&o, 0), U256::ZERO, "{name}");
            assert_eq!(
                o.gas_used,
                21000 + 2 + 3 + 2200,
                "{name}: same static gas as PREVRANDAO"
            );
        }
    }
}

#[test]
fn an_invalid_opcode_rule_halts_and_consumes_all_gas() {
    // SSTORE(0, BASEFEE): BASEFEE is invalid on polygon-zkevm.
    let code = [0x48, 0x60, 0x00, 0x55, 0x00];
    let c = case(Fork::Shanghai, CONTRACT, &code, &[]);
    for o in run(&c, &Profile::mainnet(Fork::Shanghai), true) {
        assert_eq!(slot(&o, 0), U256::from(7));
    }
    for o in run(&c, &Profile::load("polygon-zkevm").unwrap(), true) {
        assert_eq!(o.status, Status::Halt(HaltClass::InvalidOpcode));
        assert_eq!(o.gas_used, GAS_LIMIT);
    }
}

#[test]
fn a_revert_refund_opcode_reverts_the_frame_and_keeps_unused_gas() {
    // SSTORE(0, 1); NUMBER -> the frame reverts, undoing the store.
    let code = [0x60, 0x01, 0x60, 0x00, 0x55, 0x43, 0x00];
    let p =
        profile("name = \"n\"\nbase_fork = \"Shanghai\"\n[opcodes]\nNUMBER = \"revert-refund\"\n");
    for o in run(&case(Fork::Shanghai, CONTRACT, &code, &[]), &p, true) {
        assert_eq!(o.status, Status::Revert);
        assert!(o.output.is_empty());
        assert_eq!(slot(&o, 0), U256::ZERO);
        // PUSH1 3 + PUSH1 3 + SSTORE 22100; NUMBER itself costs nothing.
        assert_eq!(o.gas_used, 21000 + 3 + 3 + 22100);
    }
}

#[test]
fn a_constant_opcode_pushes_its_value_at_the_original_gas() {
    // SSTORE(0, CHAINID) with CHAINID = 0x1234.
    let code = [0x46, 0x60, 0x00, 0x55, 0x00];
    let p = profile(
        "name = \"c\"\nbase_fork = \"Shanghai\"\n[opcodes]\nCHAINID = { behaviour = \"constant\", value = \"0x1234\" }\n",
    );
    for o in run(&case(Fork::Shanghai, CONTRACT, &code, &[]), &p, true) {
        assert_eq!(slot(&o, 0), U256::from(0x1234));
        assert_eq!(o.gas_used, 21000 + 2 + 3 + 22100);
    }
    // BLOCKHASH pops one input: with an empty stack it underflows like the original.
    let p = profile(
        "name = \"c\"\nbase_fork = \"Shanghai\"\n[opcodes]\nBLOCKHASH = { behaviour = \"constant\", value = 5 }\n",
    );
    for o in run(
        &case(Fork::Shanghai, CONTRACT, &[0x40, 0x00], &[]),
        &p,
        true,
    ) {
        assert_eq!(o.status, Status::Halt(HaltClass::StackUnderflow));
    }
}

/// MSTORE(0, base_len); MSTORE(0x20, 1); MSTORE(0x40, 1); CALL(0xffff, 0x05, 0, 0, 0x63, 0, 0);
/// SSTORE(0, success). The base/exponent/modulus bytes are zero-padded.
fn modexp_with_base_len(len: u16) -> Vec<u8> {
    let [hi, lo] = len.to_be_bytes();
    vec![
        0x61, hi, lo, 0x60, 0x00, 0x52, // MSTORE(0, len)
        0x60, 0x01, 0x60, 0x20, 0x52, // MSTORE(0x20, 1)
        0x60, 0x01, 0x60, 0x40, 0x52, // MSTORE(0x40, 1)
        0x60, 0x00, 0x60, 0x00, 0x60, 0x63, 0x60, 0x00, 0x60, 0x00, 0x60, 0x05, 0x61, 0xff, 0xff,
        0xf1, // CALL
        0x60, 0x00, 0x55, 0x00,
    ]
}

#[test]
fn the_modexp_cap_applies_only_past_the_limit() {
    let p = Profile::load("polygon-zkevm").unwrap();
    let at = run(
        &case(Fork::Shanghai, CONTRACT, &modexp_with_base_len(1024), &[]),
        &p,
        true,
    );
    let over = run(
        &case(Fork::Shanghai, CONTRACT, &modexp_with_base_len(1025), &[]),
        &p,
        true,
    );
    for (a, o) in at.iter().zip(&over) {
        assert_eq!(slot(a, 0), U256::from(1), "1024 bytes: modexp runs");
        assert_eq!(slot(o, 0), U256::ZERO, "1025 bytes: revert-refund");
        assert!(
            o.gas_used < a.gas_used,
            "the refused call costs no precompile gas"
        );
    }
}
