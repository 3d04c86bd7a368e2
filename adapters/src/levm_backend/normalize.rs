//! levm's result → evmdiff's [`Outcome`]. Every levm quirk the comparator must not see is
//! normalized here, once:
//!
//! * **Halt names.** levm reports every failure of the top frame as `TxResult::Revert(error)`,
//!   a REVERT being just one `VMError` (`RevertOpcode`) among exceptional halts. Each error maps
//!   to one [`HaltClass`]: `OpcodeNotAllowedInStaticContext` is a static violation,
//!   `VeryLargeNumber` (an offset or size past what gas could ever pay for) and a precompile's
//!   `NotEnoughGas` are out of gas, as revm classes them, and `OutOfBounds` is RETURNDATACOPY
//!   past the return data. levm's words stay in [`Outcome::detail`].
//! * **State.** levm's cache holds every account the transaction *loaded*, with a status
//!   instead of deletions; the post-state is the pre-state with only the accounts it accessed
//!   mutably (`Modified`, `Destroyed`, `DestroyedModified`) applied. A `Destroyed` account is
//!   removed; a `DestroyedModified` one (destroyed, then written again: created and
//!   self-destructed in one transaction, or sent value afterwards) keeps only the slots written
//!   after its destruction; a `Modified` one keeps its pre-state slots under the written ones.
//! * **EIP-161.** ethrex is a post-Merge client and assumes no empty account exists in the
//!   state, so its own state diff only deletes an account that *became* empty. An empty
//!   account already in a case's pre-state that the transaction touched is deleted here, as
//!   EIP-161 says and as the other adapters do.
//! * **Refund.** `ExecutionReport::gas_refunded` is the capped refund counter, reported even
//!   when the EIP-7623 floor made the sender pay more than `spent - refund`. The refund
//!   reported is what was actually deducted: the gas spent before the refund (gas limit minus
//!   the top frame's remaining gas) minus the gas charged, never more than the counter.
//! * **Errors.** A `TxValidation` error, from building the VM or from executing it, is a
//!   refused transaction; an `Internal` error (database, arithmetic) is a backend failure.

use alloy_primitives::{Bytes, Log, LogData, keccak256};
use ethrex_levm::account::AccountStatus;
use ethrex_levm::db::gen_db::GeneralizedDatabase;
use ethrex_levm::errors::{ExceptionalHalt, ExecutionReport, PrecompileError, TxResult, VMError};
use evmdiff_core::state::Account;
use evmdiff_core::{BackendError, HaltClass, Outcome, State, Status};

use super::env::alloy_u256;

/// What levm gave for one case, with the gas it spent before the refund.
pub(crate) struct Executed {
    /// levm's report.
    pub(crate) report: ExecutionReport,
    /// Gas limit minus the top frame's remaining gas, before any refund or floor.
    pub(crate) spent_before_refund: u64,
}

/// The outcome of an executed (valid) transaction.
pub(crate) fn outcome(
    pre: &State,
    executed: Executed,
    db: &GeneralizedDatabase,
) -> Result<Outcome, BackendError> {
    let Executed {
        report,
        spent_before_refund,
    } = executed;
    let post = post_state(pre, db)?;
    let gas_used = report.gas_spent;
    let refund = report
        .gas_refunded
        .min(spent_before_refund.saturating_sub(gas_used));
    let (status, output, logs, detail) = match &report.result {
        TxResult::Success => (
            Status::Success,
            Bytes(report.output.clone()),
            report.logs.iter().map(log).collect(),
            "Success".to_string(),
        ),
        TxResult::Revert(VMError::RevertOpcode) => (
            Status::Revert,
            Bytes(report.output.clone()),
            Vec::new(),
            "Revert".to_string(),
        ),
        TxResult::Revert(VMError::ExceptionalHalt(h)) => (
            Status::Halt(halt_class(h)),
            Bytes::new(),
            Vec::new(),
            format!("Halt({h:?})"),
        ),
        TxResult::Revert(other) => {
            return Err(BackendError::Failed(format!(
                "levm ended the transaction with {other:?}"
            )));
        }
    };
    // A refund counter left over by a failed top frame is never paid (levm reverts it with the
    // frame's substate, so this is only a guard).
    let refund = if status == Status::Success || status == Status::Revert {
        refund
    } else {
        0
    };
    Ok(Outcome::new(
        status, gas_used, refund, output, logs, post, detail,
    ))
}

/// A levm log as alloy's.
fn log(l: &ethrex_common::types::Log) -> Log {
    Log {
        address: alloy_primitives::Address::from(l.address.0),
        data: LogData::new_unchecked(
            l.topics
                .iter()
                .map(|t| alloy_primitives::B256::from(t.0))
                .collect(),
            Bytes(l.data.clone()),
        ),
    }
}

/// The outcome of a transaction levm refused, or of an internal failure.
pub(crate) fn error(pre: &State, e: VMError) -> Result<Outcome, BackendError> {
    match e {
        VMError::TxValidation(t) => Ok(Outcome::rejected(pre, format!("TxValidation({t:?})"))),
        other => Err(BackendError::Failed(format!("levm: {other:?}"))),
    }
}

/// The canonical class of a levm exceptional halt: the same classes the revm adapter gives
/// revm's reasons (see the module docs for the non-obvious ones).
pub(crate) fn halt_class(h: &ExceptionalHalt) -> HaltClass {
    match h {
        ExceptionalHalt::StackUnderflow => HaltClass::StackUnderflow,
        ExceptionalHalt::StackOverflow => HaltClass::StackOverflow,
        ExceptionalHalt::InvalidJump => HaltClass::InvalidJump,
        ExceptionalHalt::OpcodeNotAllowedInStaticContext => HaltClass::StaticViolation,
        ExceptionalHalt::InvalidContractPrefix => HaltClass::InvalidCodePrefix,
        ExceptionalHalt::VeryLargeNumber | ExceptionalHalt::OutOfGas => HaltClass::OutOfGas,
        ExceptionalHalt::InvalidOpcode => HaltClass::InvalidOpcode,
        ExceptionalHalt::AddressAlreadyOccupied => HaltClass::CreateCollision,
        ExceptionalHalt::ContractOutputTooBig => HaltClass::CodeSizeLimit,
        ExceptionalHalt::OutOfBounds => HaltClass::ReturnDataOutOfBounds,
        ExceptionalHalt::Precompile(PrecompileError::NotEnoughGas) => HaltClass::OutOfGas,
        ExceptionalHalt::Precompile(_) => HaltClass::PrecompileFailure,
    }
}

/// The pre-state with the accounts levm accessed mutably applied (see the module docs).
pub(crate) fn post_state(pre: &State, db: &GeneralizedDatabase) -> Result<State, BackendError> {
    let mut post = pre.clone();
    for (addr, acc) in &db.current_accounts_state {
        let a = alloy_primitives::Address::from(addr.0);
        let previous = match acc.status {
            AccountStatus::Unmodified => continue,
            AccountStatus::Destroyed => {
                post.remove(&a);
                continue;
            }
            AccountStatus::Modified => post.remove(&a),
            AccountStatus::DestroyedModified => {
                post.remove(&a);
                None
            }
        };
        let code = if acc.info.code_hash == *ethrex_common::constants::EMPTY_KECCAK_HASH {
            Bytes::new()
        } else if let Some(code) = db.codes.get(&acc.info.code_hash) {
            Bytes(code.code_bytes())
        } else {
            // Code levm did not need to load is the pre-state's, unchanged.
            match pre.get(&a) {
                Some(p) if keccak256(&p.code).0 == acc.info.code_hash.0 => p.code.clone(),
                _ => {
                    return Err(BackendError::Failed(format!(
                        "levm: no code for {a} with hash {:#x}",
                        acc.info.code_hash
                    )));
                }
            }
        };
        let mut storage = previous.map(|p| p.storage).unwrap_or_default();
        for (key, value) in &acc.storage {
            let k = alloy_primitives::U256::from_be_bytes(key.0);
            if value.is_zero() {
                storage.remove(&k);
            } else {
                storage.insert(k, alloy_u256(*value));
            }
        }
        let account = Account {
            balance: alloy_u256(acc.info.balance),
            nonce: acc.info.nonce,
            code,
            storage,
        };
        if !account.is_empty() {
            post.insert(a, account);
        }
    }
    Ok(post)
}
