//! A case's blocks on levm, the way ethrex executes a block: one `GeneralizedDatabase` for
//! the whole case, every transaction a new `VM` on it, so that what levm's cache keeps from one
//! transaction to the next (accounts, slots, destroyed accounts, code) is exactly what the next
//! one sees, while what levm keeps per `VM` (transient storage, warm sets, refund counter,
//! self-destruct set) starts afresh as it does in ethrex. levm refuses an invalid transaction
//! by restoring its cache itself; a transaction stopped by a profile's `reject` rule is undone
//! from a copy of the database taken before it (only under rules, where such a rule can fire).
//!
//! In a chain the block rules of [`evmdiff_core::block_processing`] are applied with levm's
//! own machinery: system calls run by levm as system calls (`Environment::is_system_call`: no
//! validation, nonce, fee or intrinsic gas), the system address and the beneficiary restored
//! afterwards as ethrex's `generic_system_contract_levm` restores them; withdrawals credited to
//! the cache as ethrex's `process_withdrawals` credits them. levm starts at Paris, so there is
//! never a block reward.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy_primitives::{Address, B256, U256};
use ethrex_common::NativeCrypto;
use ethrex_common::types::{EIP1559Transaction, Fork as LevmFork, Transaction, TxKind};
use ethrex_levm::constants::SYS_CALL_GAS_LIMIT;
use ethrex_levm::db::gen_db::GeneralizedDatabase;
use ethrex_levm::errors::TxResult;
use ethrex_levm::precompiles::PrecompileMoves;
use ethrex_levm::tracing::LevmCallTracer;
use ethrex_levm::vm::{VM, VMType};
use evmdiff_core::block_processing::{BlockExecutor, SYSTEM_ADDRESS, SystemCall};
use evmdiff_core::case::{BlockEnv, Transaction as CaseTx};
use evmdiff_core::{At, BackendError, Case, Fork, Observer, Outcome, State};

use super::normalize::{self, Executed};
use super::profile::{self, Rules};
use super::{dispatch, env, observe};

/// One execution of a case on levm.
pub(super) struct Run<'a, 'o> {
    pub(super) case: &'a Case,
    pub(super) fork: Fork,
    pub(super) levm_fork: LevmFork,
    pub(super) rules: Option<Rules>,
    /// Run even rule-less cases through the adapter's loop (`LevmBackend::with_own_loop`).
    pub(super) own_loop: bool,
    pub(super) observer: Option<&'o mut dyn Observer>,
    /// levm's state for the whole case: the pre-state store and levm's cache on top of it.
    pub(super) db: GeneralizedDatabase,
    /// The block being executed.
    pub(super) block: usize,
    /// Whether levm executed a transaction or a system call (reads are reported only then, as
    /// before chains: a refused state test has no witness).
    executed: bool,
}

impl<'a, 'o> Run<'a, 'o> {
    /// A run of `case` under `fork`: the database holds the pre-state and, in a chain, answers
    /// BLOCKHASH from the case's headers.
    pub(super) fn new(
        case: &'a Case,
        fork: Fork,
        levm_fork: LevmFork,
        rules: Option<Rules>,
        own_loop: bool,
        observer: Option<&'o mut dyn Observer>,
    ) -> Run<'a, 'o> {
        let hashes: Option<BTreeMap<u64, B256>> = case.is_chain().then(|| case.block_hashes());
        let mut db = GeneralizedDatabase::new(env::PreState::new(&case.pre, hashes));
        if let Some(rules) = &rules {
            // Precompiles with a rule become ordinary accounts for levm's dispatch, so that a
            // call to one enters a frame the adapter's loop intercepts (see `profile.rs`).
            let moves = PrecompileMoves::from_parts([], rules.moved());
            if !moves.is_empty() {
                db.precompile_moves = Some(Arc::new(moves));
            }
        }
        Run {
            case,
            fork,
            levm_fork,
            rules,
            own_loop,
            observer,
            db,
            block: 0,
            executed: false,
        }
    }

    /// Reports what levm loaded from the pre-state over the whole case, if asked.
    pub(super) fn report_reads(&mut self) {
        if let Some(observer) = self.observer.as_deref_mut()
            && self.executed
            && observer.wants_reads()
        {
            observe::report_reads(&self.db, observer);
        }
    }
}

/// A levm internal error as a backend failure.
fn failed(e: impl std::fmt::Debug) -> BackendError {
    BackendError::Failed(format!("levm: {e:?}"))
}

impl BlockExecutor for Run<'_, '_> {
    /// The pre-state with what levm's cache holds applied (`normalize::post_state`).
    fn state(&mut self) -> Result<State, BackendError> {
        normalize::post_state(&self.case.pre, &self.db)
    }

    // `env` is the case's own here: only revm seals a chain as it runs it.
    fn begin_block(&mut self, index: usize, _env: &BlockEnv) -> Result<(), BackendError> {
        self.block = index;
        Ok(())
    }

    fn has_code(&mut self, address: Address) -> Result<bool, BackendError> {
        let account = self.db.get_account(env::address(address)).map_err(failed)?;
        Ok(account.info.code_hash != *ethrex_common::constants::EMPTY_KECCAK_HASH)
    }

    fn system_call(&mut self, call: &SystemCall) -> Result<Result<(), String>, BackendError> {
        let block = &self.case.blocks[self.block].env;
        // The block environment through the usual path, then the system call's own rules
        // (ethrex's `generic_system_contract_levm`): from SYSTEM_ADDRESS, 30M gas, no fees.
        let sys_tx = CaseTx::legacy(
            SYSTEM_ADDRESS,
            B256::ZERO,
            Some(call.address),
            call.data.clone(),
            SYS_CALL_GAS_LIMIT,
            0,
        );
        let mut environment = env::environment(block, &sys_tx, self.levm_fork);
        environment.is_system_call = true;
        environment.gas_price = ethrex_common::U256::zero();
        environment.base_fee_per_gas = ethrex_common::U256::zero();
        let tx = Transaction::EIP1559Transaction(EIP1559Transaction {
            to: TxKind::Call(env::address(call.address)),
            data: call.data.0.clone(),
            gas_limit: SYS_CALL_GAS_LIMIT,
            ..Default::default()
        });
        let system = env::address(SYSTEM_ADDRESS);
        let coinbase = environment.coinbase;
        // What the call loads is part of the block's reads.
        self.executed = true;
        let system_before = self.db.current_accounts_state.get(&system).cloned();
        let coinbase_before = self.db.current_accounts_state.get(&coinbase).cloned();
        let result = VM::new(
            environment,
            &mut self.db,
            &tx,
            LevmCallTracer::disabled(),
            VMType::L1,
            &NativeCrypto,
            None,
        )
        .and_then(|mut vm| vm.execute());
        // As ethrex does: a system call leaves the system address and the beneficiary as they
        // were (EIP-4788).
        for (address, before) in [(system, system_before), (coinbase, coinbase_before)] {
            match before {
                Some(account) => self.db.current_accounts_state.insert(address, account),
                None => self.db.current_accounts_state.remove(&address),
            };
        }
        let verdict = match result {
            Ok(report) => match report.result {
                TxResult::Success => Ok(()),
                TxResult::Revert(e) => Err(format!("{e:?}")),
            },
            Err(e) => Err(format!("{e:?}")),
        };
        Ok(verdict)
    }

    fn observer(&mut self) -> Option<&mut dyn Observer> {
        match &mut self.observer {
            Some(o) => Some(&mut **o),
            None => None,
        }
    }

    /// One transaction: a new `VM` on the case's database. With an observer, always through
    /// the adapter's loop watched by [`observe::Watch`]; without, through levm's
    /// `VM::execute` unless rules (or `with_own_loop`) call for the loop.
    fn transaction(&mut self, _at: At, case_tx: &CaseTx) -> Result<Outcome, BackendError> {
        if let Some(why) = env::invalid_tx(case_tx) {
            return Ok(Outcome::rejected(&self.state()?, why));
        }
        let block = &self.case.blocks[self.block].env;
        let environment = env::environment(block, case_tx, self.levm_fork);
        let gas_limit = environment.gas_limit;
        let tx = env::transaction(case_tx, block.chain_id);
        // A rule may stop the transaction half-way; levm would keep what it did so far.
        let undo = self.rules.as_ref().map(|_| self.db.clone());
        // What levm had loaded before the transaction, when reads are reported.
        let loaded: Option<std::collections::BTreeSet<_>> = self
            .observer
            .as_ref()
            .is_some_and(|o| o.wants_reads())
            .then(|| self.db.initial_accounts_state.keys().copied().collect());
        let mut rejected = None;
        let fork = self.fork;
        let rules = &self.rules;
        let own_loop = self.own_loop;
        let observer = &mut self.observer;
        let result = VM::new(
            environment,
            &mut self.db,
            &tx,
            LevmCallTracer::disabled(),
            VMType::L1,
            &NativeCrypto,
            None,
        )
        .and_then(|mut vm| {
            if let Some(rules) = rules
                && !rules.absent.is_empty()
            {
                // Absent precompiles are cold ordinary accounts (see `profile.rs`).
                vm.substate = profile::cold_substate(&vm, fork, &rules.absent);
            }
            if let Some(rules) = rules {
                // An added precompile is warm from the start (EIP-2929), like any precompile.
                for (a, _) in &rules.added {
                    vm.substate.add_accessed_address(*a);
                }
            }
            let none = Rules::none();
            let report = match (observer.as_deref_mut(), rules, own_loop) {
                (Some(observer), rules, _) => {
                    vm.opcode_tracer = observe::cost_tracer();
                    let mut watch = observe::Watch::new(observer);
                    let rules = rules.as_ref().unwrap_or(&none);
                    dispatch::execute(&mut vm, rules, &mut rejected, &mut watch)?
                }
                (None, Some(rules), _) => {
                    dispatch::execute(&mut vm, rules, &mut rejected, &mut ())?
                }
                (None, None, true) => dispatch::execute(&mut vm, &none, &mut rejected, &mut ())?,
                (None, None, false) => vm.execute()?,
            };
            let remaining = u64::try_from(vm.current_call_frame.gas_remaining).unwrap_or(0);
            Ok(Executed {
                report,
                spent_before_refund: gas_limit.saturating_sub(remaining),
            })
        });
        if let Some(why) = rejected {
            if let Some(db) = undo {
                self.db = db;
            }
            return Ok(Outcome::rejected(&self.state()?, why));
        }
        match result {
            Ok(executed) => {
                self.executed = true;
                normalize::outcome(&self.case.pre, executed, &self.db)
            }
            // levm has restored its cache to the state before the transaction.
            Err(e) => {
                // A dropped transaction is not in the block a prover proves, so what levm
                // loaded to refuse it (the sender) is not a read of the block: forgotten, as
                // revm and evm report nothing of a refused transaction. The entries are
                // unchanged copies of the store, which a later load reads again.
                if let Some(loaded) = loaded {
                    let db = &mut self.db;
                    let fresh: Vec<_> = db
                        .initial_accounts_state
                        .keys()
                        .filter(|a| !loaded.contains(*a))
                        .copied()
                        .collect();
                    for a in fresh {
                        db.initial_accounts_state.remove(&a);
                        db.current_accounts_state.remove(&a);
                    }
                }
                normalize::error(&self.state()?, e)
            }
        }
    }

    /// A withdrawal credited to levm's cache as ethrex's `process_withdrawals` does (a zero
    /// amount skipped: ethrex never touches an account for nothing).
    fn credit(&mut self, address: Address, amount: U256) -> Result<(), BackendError> {
        if amount.is_zero() {
            return Ok(());
        }
        let account = self
            .db
            .get_account_mut(env::address(address))
            .map_err(failed)?;
        account.info.balance = account.info.balance.saturating_add(env::u256(amount));
        Ok(())
    }
}
