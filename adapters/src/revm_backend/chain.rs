//! A case's blocks on revm, driven by [`evmdiff_core::block_processing::process`]: each
//! transaction executed and committed by revm into its own database before the next, so
//! whatever revm keeps between transactions (or wrongly fails to clear) is what the next one
//! sees; in a chain, the fork's system calls executed by revm around each block, and the
//! withdrawals and reward credited to the same database.

use evmdiff_core::block_processing::{BlockExecutor, SYSTEM_ADDRESS, SystemCall};
use evmdiff_core::case::BlockEnv;
use evmdiff_core::seal::SealingExecutor;
use evmdiff_core::{At, BackendError, Observer, Outcome, Profile, State};
use revm::context::result::ExecutionResult;
use revm::database::AccountState;
use revm::handler::{ExecuteEvm, SystemCallEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, B256, U256};
use revm::state::EvmState;
use revm::{Database, DatabaseCommit};

use super::{Cached, env, normalize, observe};

/// One execution of a case.
pub(super) struct Run<'a, 'o> {
    /// The thread's EVM (`None` only while the inspector path has it).
    pub(super) lent: Option<Box<Cached>>,
    pub(super) profile: &'a Profile,
    pub(super) spec: SpecId,
    pub(super) chain_id: u64,
    pub(super) observer: Option<&'o mut dyn Observer>,
    /// The state as revm's commits have left it so far, for the outcomes.
    pub(super) post: State,
    /// A bug planted on purpose.
    pub(super) planted: Option<super::Planted>,
    /// What [`Planted::KeepsTransientStorage`](super::Planted::KeepsTransientStorage) carries
    /// from one transaction to the next.
    pub(super) kept: Option<revm::state::TransientStorage>,
}

impl SealingExecutor for Run<'_, '_> {
    fn sealed(&mut self, number: u64, hash: B256) {
        let db = &mut evm(&mut self.lent).ctx.journaled_state.database;
        db.cache.block_hashes.insert(U256::from(number), hash);
    }
}

impl BlockExecutor for Run<'_, '_> {
    fn state(&mut self) -> Result<State, BackendError> {
        Ok(self.post.clone())
    }

    fn begin_block(&mut self, _index: usize, block: &BlockEnv) -> Result<(), BackendError> {
        let evm = evm(&mut self.lent);
        evm.ctx.block = env::block(block, &evm.ctx.cfg);
        Ok(())
    }

    fn has_code(&mut self, address: Address) -> Result<bool, BackendError> {
        Ok(evm(&mut self.lent)
            .ctx
            .journaled_state
            .database
            .basic(address)
            .ok()
            .flatten()
            .is_some_and(|a| !a.is_empty_code_hash()))
    }

    fn system_call(&mut self, call: &SystemCall) -> Result<Result<(), String>, BackendError> {
        Ok(self.system_call(call))
    }

    fn observer(&mut self) -> Option<&mut dyn Observer> {
        match &mut self.observer {
            Some(o) => Some(&mut **o),
            None => None,
        }
    }

    fn transaction(
        &mut self,
        _at: At,
        tx: &evmdiff_core::case::Transaction,
    ) -> Result<Outcome, BackendError> {
        match env::invalid_tx(tx) {
            Some(why) => Ok(Outcome::rejected(&self.post, why)),
            None => self.transaction(tx),
        }
    }

    fn credit(&mut self, address: Address, amount: U256) -> Result<(), BackendError> {
        self.credit(address, amount);
        Ok(())
    }
}

impl Run<'_, '_> {
    /// One transaction: executed, and committed unless refused.
    fn transaction(
        &mut self,
        tx: &evmdiff_core::case::Transaction,
    ) -> Result<Outcome, BackendError> {
        let tx_env = env::tx(tx, self.chain_id);
        let keeps = self.planted == Some(super::Planted::KeepsTransientStorage);
        let evm_ = evm(&mut self.lent);
        evm_.ctx.chain.reset(self.profile);
        evm_.ctx.error = Ok(());
        if let Some(kept) = self.kept.take() {
            // The planted bug: the last transaction's transient storage is still there.
            evm_.ctx.journaled_state.inner.transient_storage = kept;
        }
        let mut observer = self.observer.take();
        let result = if observer.is_none() && !keeps {
            evm(&mut self.lent).transact(tx_env)
        } else {
            let mut idle = ();
            let o: &mut dyn Observer = match observer.as_deref_mut() {
                Some(o) => o,
                None => &mut idle,
            };
            let cached = self
                .lent
                .take()
                .expect("the EVM is back after every inspection");
            let (result, cached) = observe::inspect(cached, tx_env, o, keeps);
            self.lent = Some(cached);
            if let Ok(r) = &result
                && o.wants_reads()
            {
                observe::report_reads(&r.state, o);
            }
            result
        };
        self.observer = observer;
        if keeps {
            self.kept = evm(&mut self.lent).ctx.chain.transient_seen.take();
        }
        if let Some(why) = evm(&mut self.lent).ctx.chain.rejected.take() {
            return Ok(Outcome::rejected(&self.post, why));
        }
        match result {
            Ok(r) => {
                let outcome = normalize::outcome(&self.post, self.spec, r.result, &r.state);
                evm(&mut self.lent)
                    .ctx
                    .journaled_state
                    .database
                    .commit(r.state);
                self.post.clone_from(&outcome.post);
                Ok(outcome)
            }
            Err(e) => normalize::error(&self.post, e),
        }
    }

    /// A system call to a contract with code, committed unless a required one failed; why it
    /// failed, if it did.
    fn system_call(&mut self, call: &SystemCall) -> Result<(), String> {
        let evm = evm(&mut self.lent);
        evm.ctx.chain.reset(self.profile);
        evm.ctx.error = Ok(());
        let beneficiary = evm.ctx.block.beneficiary;
        let result = evm.system_call_with_caller(SYSTEM_ADDRESS, call.address, call.data.clone());
        let mut r = result.map_err(|e| format!("refused: {e:?}"))?;
        if let Some(o) = self.observer.as_deref_mut()
            && o.wants_reads()
        {
            observe::report_reads(&r.state, o);
        }
        let failed = !matches!(r.result, ExecutionResult::Success { .. });
        if call.required && failed {
            return Err(format!("{:?}", r.result));
        }
        // As every client does: the system address and the beneficiary are not touched by a
        // system call (EIP-4788).
        r.state.remove(&SYSTEM_ADDRESS);
        r.state.remove(&beneficiary);
        self.apply(r.state);
        if failed {
            return Err(format!("{:?}", r.result));
        }
        Ok(())
    }

    /// Commits a state change that is not a transaction's.
    fn apply(&mut self, state: EvmState) {
        self.post = normalize::post_state(&self.post, self.spec, &state);
        evm(&mut self.lent)
            .ctx
            .journaled_state
            .database
            .commit(state);
    }

    /// Credits `amount` to `address` (a withdrawal, the miner's reward). An account left empty
    /// is removed (EIP-161), as the execution spec removes it.
    fn credit(&mut self, address: Address, amount: U256) {
        let db = &mut evm(&mut self.lent).ctx.journaled_state.database;
        let Ok(account) = db.load_account(address);
        account.info.balance = account.info.balance.saturating_add(amount);
        let empty = account.info.is_empty();
        let eip161 = self.spec.is_enabled_in(SpecId::SPURIOUS_DRAGON);
        if empty && eip161 {
            account.account_state = AccountState::NotExisting;
            self.post.remove(&address);
            return;
        }
        if account.account_state == AccountState::NotExisting {
            account.account_state = AccountState::Touched;
        }
        let entry = self.post.entry(address).or_default();
        entry.balance = account.info.balance;
    }
}

/// The EVM, when it is not lent to the inspector path (it always is back between calls).
fn evm(lent: &mut Option<Box<Cached>>) -> &mut super::RevmEvm {
    &mut lent.as_mut().expect("the EVM is back").evm
}
