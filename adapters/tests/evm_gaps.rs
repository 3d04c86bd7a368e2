//! The gaps of evm 1.1.1 that make ethereum/tests fixtures fail, reproduced on minimal
//! programs, so that `docs/backends.md` can point at a proof and a fixed evm shows up here.

use alloy_primitives::{Address, B256, Bytes, U256, address, b256};
use evmdiff_adapters::evm_backend::EvmBackend;
use evmdiff_core::case::{BlockEnv, Transaction};
use evmdiff_core::{Account, Backend, BackendError, Case, Fork, HaltClass, Profile, State, Status};

const SENDER: Address = address!("a94f5374fce5edbc8e2a8697c15331677e6ebf0b");
const TARGET: Address = address!("00000000000000000000000000000000000000aa");
const GAS_LIMIT: u64 = 200_000;

fn case(fork: Fork, code: Vec<u8>) -> Case {
    let mut pre = State::new();
    pre.insert(
        SENDER,
        Account {
            balance: U256::from(10u64).pow(U256::from(18u64)),
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
    Case::state_test(
        "gap",
        fork,
        BlockEnv {
            coinbase: address!("2adc25665018aa1fe0e6bc666dac8fc2697ff9ba"),
            gas_limit: U256::from(30_000_000u64),
            number: U256::from(1u64),
            timestamp: U256::from(1_000u64),
            difficulty: U256::ZERO,
            base_fee: Some(U256::from(7u64)),
            random: Some(B256::ZERO),
            excess_blob_gas: fork.includes(Fork::Cancun).then_some(0),
            chain_id: 1,
        },
        pre,
        Transaction::legacy(
            SENDER,
            b256!("45a915e4d060149eb4365960e6a7a45f334393093061116b197e3240065ff2d8"),
            Some(TARGET),
            Bytes::new(),
            GAS_LIMIT,
            10u64,
        ),
    )
}

/// CREATE(value 0, offset 0, length 2^64): the memory expansion alone makes it out of gas, so
/// the protocol halts the frame with all its gas used (ethereum/tests
/// `stMemoryTest/buffer` d170/d173, `stSystemOperationsTest/createNameRegistratorOOG_MemExpansionOOV`).
///
/// From Shanghai, evm's gasometer prices EIP-3860's init-code words with
/// `u256_to_usize(len)?` *before* the memory cost, and that conversion fails with
/// `ExitFatal::NotSupported`, which aborts the whole transaction instead of the frame.
#[test]
fn create_with_a_length_over_64_bits_is_fatal_from_shanghai() {
    // PUSH9 2^64, PUSH1 0, PUSH1 0, CREATE, STOP
    let code = vec![
        0x68, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0x00, 0x60, 0x00, 0xf0, 0x00,
    ];
    let london = EvmBackend::default()
        .execute(
            &case(Fork::London, code.clone()),
            &Profile::mainnet(Fork::London),
        )
        .unwrap()
        .into_last_tx()
        .unwrap();
    assert_eq!(
        (london.status, london.gas_used),
        (Status::Halt(HaltClass::OutOfGas), GAS_LIMIT)
    );
    for fork in [Fork::Shanghai, Fork::Cancun] {
        let e = EvmBackend::default()
            .execute(&case(fork, code.clone()), &Profile::mainnet(fork))
            .unwrap_err();
        assert!(
            matches!(&e, BackendError::Failed(why) if why.contains("NotSupported")),
            "{fork}: {e}"
        );
    }
}

/// CREATE2 has the same gap for lengths from 2^64 up to about 5.3 * 2^64, where its hashing
/// cost (6 gas per word) still fits 64 bits; above that evm reports `OutOfGas` first.
#[test]
fn create2_has_the_same_gap_below_its_hashing_overflow() {
    // PUSH1 0 (salt), PUSH9 len, PUSH1 0, PUSH1 0, CREATE2, STOP
    let create2 = |len_top: u8| {
        vec![
            0x60, 0x00, 0x68, len_top, 0, 0, 0, 0, 0, 0, 0, 0, 0x60, 0x00, 0x60, 0x00, 0xf5, 0x00,
        ]
    };
    let shanghai = Profile::mainnet(Fork::Shanghai);
    let e = EvmBackend::default()
        .execute(&case(Fork::Shanghai, create2(0x01)), &shanghai)
        .unwrap_err();
    assert!(
        matches!(&e, BackendError::Failed(why) if why.contains("NotSupported")),
        "{e}"
    );
    // 2^64 * 8: 6 * 2^62 gas overflows 64 bits, an ordinary out-of-gas halt.
    let o = EvmBackend::default()
        .execute(&case(Fork::Shanghai, create2(0x08)), &shanghai)
        .unwrap()
        .into_last_tx()
        .unwrap();
    assert_eq!(
        (o.status, o.gas_used),
        (Status::Halt(HaltClass::OutOfGas), GAS_LIMIT)
    );
}
