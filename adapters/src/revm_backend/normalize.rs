//! revm's result → evmdiff's [`Outcome`]. Every revm quirk the comparator must not see is
//! normalized here, once:
//!
//! * **Halt names.** revm distinguishes `OpcodeNotFound`, `InvalidFEOpcode` and `NotActivated`
//!   (an opcode of a later fork) where other EVMs say "invalid opcode", has six out-of-gas
//!   variants, and adds a message to precompile failures of the top frame
//!   (`PrecompileErrorWithContext`). They map to one [`HaltClass`] each; revm's words stay in
//!   [`Outcome::detail`].
//! * **State.** revm's result state holds every account the transaction *loaded*, including
//!   non-existent ones it only looked at, with flags instead of deletions. The post-state is
//!   the pre-state with only *touched* accounts applied: self-destructed ones removed, created
//!   ones starting from empty storage, and (Spurious Dragon on) empty ones removed (EIP-161).
//! * **Refund.** `ResultGas::final_refunded` is 0 whenever the EIP-7623 floor applies, even when
//!   part of the refund was still deducted. The refund reported is what was actually deducted
//!   from the gas spent: `spent - used`.
//! * **Logs** are reported on success only: revm attaches the (reverted) logs of a failed
//!   transaction to `Revert`/`Halt` too.
//! * **Errors.** Any transaction or header validation error is a refused transaction; only a
//!   database or custom error (a fatal precompile error) is a backend failure.

use std::convert::Infallible;

use evmdiff_core::state::Account;
use evmdiff_core::{BackendError, HaltClass, Outcome, State, Status};
use revm::context::result::{
    EVMError, ExecutionResult, HaltReason, OutOfGasError, Output, ResultGas,
};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Bytes, KECCAK_EMPTY};
use revm::state::EvmState;

/// The outcome of an executed (valid) transaction.
pub(crate) fn outcome(
    pre: &State,
    spec: SpecId,
    result: ExecutionResult<HaltReason>,
    state: &EvmState,
) -> Outcome {
    let post = post_state(pre, spec, state);
    let (status, gas, output, logs, detail) = match result {
        ExecutionResult::Success {
            reason,
            gas,
            logs,
            output,
        } => {
            let output = match output {
                Output::Call(b) => b,
                // For a contract creation: the deployed runtime code.
                Output::Create(b, _) => b,
            };
            (
                Status::Success,
                gas,
                output,
                logs,
                format!("Success({reason:?})"),
            )
        }
        ExecutionResult::Revert { gas, output, .. } => (
            Status::Revert,
            gas,
            output,
            Vec::new(),
            "Revert".to_string(),
        ),
        ExecutionResult::Halt { reason, gas, .. } => {
            let detail = format!("Halt({reason:?})");
            (
                Status::Halt(halt_class(&reason)),
                gas,
                Bytes::new(),
                Vec::new(),
                detail,
            )
        }
    };
    let (gas_used, refund) = gas_and_refund(&gas);
    Outcome::new(status, gas_used, refund, output, logs, post, detail)
}

/// Gas charged to the sender (after refund, at least the EIP-7623 floor) and the refund that
/// was actually deducted from the gas spent.
fn gas_and_refund(gas: &ResultGas) -> (u64, u64) {
    let used = gas.tx_gas_used();
    (used, gas.total_gas_spent().saturating_sub(used))
}

/// The outcome of a transaction revm did not execute.
pub(crate) fn error(pre: &State, e: EVMError<Infallible>) -> Result<Outcome, BackendError> {
    match e {
        EVMError::Transaction(t) => Ok(Outcome::rejected(pre, format!("Transaction({t:?})"))),
        EVMError::Header(h) => Ok(Outcome::rejected(pre, format!("Header({h:?})"))),
        EVMError::Database(never) => match never {},
        EVMError::Custom(s) => Err(BackendError::Failed(s)),
        EVMError::CustomAny(s) => Err(BackendError::Failed(s.to_string())),
    }
}

/// The canonical class of a revm halt. This mapping is the contract shared with the other
/// adapters: they map their own reasons onto the same classes.
pub(crate) fn halt_class(reason: &HaltReason) -> HaltClass {
    match reason {
        HaltReason::OutOfGas(
            OutOfGasError::Basic
            | OutOfGasError::Memory
            | OutOfGasError::MemoryLimit
            | OutOfGasError::Precompile
            | OutOfGasError::InvalidOperand
            | OutOfGasError::ReentrancySentry,
        ) => HaltClass::OutOfGas,
        HaltReason::OpcodeNotFound | HaltReason::InvalidFEOpcode | HaltReason::NotActivated => {
            HaltClass::InvalidOpcode
        }
        HaltReason::StackUnderflow => HaltClass::StackUnderflow,
        HaltReason::StackOverflow => HaltClass::StackOverflow,
        HaltReason::InvalidJump => HaltClass::InvalidJump,
        HaltReason::StateChangeDuringStaticCall | HaltReason::CallNotAllowedInsideStatic => {
            HaltClass::StaticViolation
        }
        HaltReason::OutOfOffset => HaltClass::ReturnDataOutOfBounds,
        HaltReason::PrecompileError | HaltReason::PrecompileErrorWithContext(_) => {
            HaltClass::PrecompileFailure
        }
        HaltReason::CreateCollision => HaltClass::CreateCollision,
        HaltReason::CreateContractSizeLimit | HaltReason::CreateInitCodeSizeLimit => {
            HaltClass::CodeSizeLimit
        }
        HaltReason::CreateContractStartingWithEF => HaltClass::InvalidCodePrefix,
        HaltReason::CallTooDeep => HaltClass::CallTooDeep,
        HaltReason::NonceOverflow => HaltClass::NonceOverflow,
        _ => HaltClass::Other,
    }
}

/// The pre-state with the touched accounts of `state` applied (see the module docs).
pub(crate) fn post_state(pre: &State, spec: SpecId, state: &EvmState) -> State {
    let eip161 = spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
    let mut post = pre.clone();
    for (&address, acc) in state {
        if !acc.is_touched() {
            continue;
        }
        if acc.is_selfdestructed() {
            post.remove(&address);
            continue;
        }
        let previous = post.remove(&address);
        let code = match &acc.info.code {
            Some(code) => code.original_bytes(),
            // Loaded without its code (never from our database): the code cannot have changed.
            None if acc.info.code_hash == KECCAK_EMPTY => Bytes::new(),
            None => previous
                .as_ref()
                .map(|p| p.code.clone())
                .unwrap_or_default(),
        };
        let mut storage = match previous {
            Some(p) if !acc.is_created() => p.storage,
            _ => Default::default(),
        };
        for (key, slot) in &acc.storage {
            let value = slot.present_value();
            if value.is_zero() {
                storage.remove(key);
            } else {
                storage.insert(*key, value);
            }
        }
        let account = Account {
            balance: acc.info.balance,
            nonce: acc.info.nonce,
            code,
            storage,
        };
        if !(eip161 && account.is_empty()) {
            post.insert(address, account);
        }
    }
    post
}
