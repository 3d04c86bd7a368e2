//! A case's blocks on revm: each transaction executed and committed by revm into its own
//! database before the next, so whatever revm keeps between transactions (or wrongly fails to
//! clear) is what the next one sees; in a chain, the fork's system calls executed by revm
//! around each block, and the withdrawals and reward credited to the same database.

use evmdiff_core::block_processing::{
    SYSTEM_ADDRESS, SystemCall, after_transactions, before_transactions, block_reward,
    over_block_limits, withdrawal_wei,
};
use evmdiff_core::{
    At, BackendError, BlockEnd, BlockOutcome, Case, ChainOutcome, Fork, Observer, Outcome, Profile,
    State, Status,
};
use revm::context::result::ExecutionResult;
use revm::database::AccountState;
use revm::handler::{ExecuteEvm, SystemCallEvm};
use revm::primitives::hardfork::SpecId;
use revm::primitives::{Address, U256};
use revm::state::EvmState;
use revm::{Database, DatabaseCommit};

use super::{Cached, env, normalize, observe};

/// One execution of a case.
pub(super) struct Run<'a, 'o> {
    /// The thread's EVM (`None` only while the inspector path has it).
    pub(super) lent: Option<Box<Cached>>,
    pub(super) case: &'a Case,
    pub(super) profile: &'a Profile,
    pub(super) spec: SpecId,
    pub(super) fork: Fork,
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

impl Run<'_, '_> {
    /// Every block in order; a chain stops after a block revm refuses.
    pub(super) fn blocks(&mut self) -> Result<ChainOutcome, BackendError> {
        let mut blocks = Vec::with_capacity(self.case.blocks.len());
        for index in 0..self.case.blocks.len() {
            let block = self.block(index)?;
            let refused = block.invalid.is_some();
            blocks.push(block);
            if refused {
                break;
            }
        }
        Ok(ChainOutcome { blocks })
    }

    fn block(&mut self, index: usize) -> Result<BlockOutcome, BackendError> {
        let case = self.case;
        let block = &case.blocks[index];
        let chain = case.is_chain();
        let evm = evm(&mut self.lent);
        evm.ctx.block = env::block(&block.env, &evm.ctx.cfg);
        if chain {
            for call in before_transactions(case, index, self.fork) {
                if let Some(why) = self.system_call(&call) {
                    return Ok(BlockOutcome {
                        txs: Vec::new(),
                        end: None,
                        invalid: Some(why),
                    });
                }
            }
        }
        let (mut gas_used, mut blob_gas_used) = (0u64, 0u64);
        let mut txs = Vec::with_capacity(block.txs.len());
        for (t, tx) in block.txs.iter().enumerate() {
            if let Some(o) = self.observer.as_deref_mut() {
                o.transaction(At {
                    block: index,
                    tx: Some(t),
                });
            }
            let over = chain
                .then(|| over_block_limits(tx, &block.env, self.fork, gas_used, blob_gas_used))
                .flatten();
            let outcome = match over.or_else(|| env::invalid_tx(tx)) {
                Some(why) => Outcome::rejected(&self.post, why),
                None => self.transaction(tx)?,
            };
            if outcome.status != Status::Rejected {
                gas_used += outcome.gas_used;
                blob_gas_used += tx.blob_versioned_hashes.as_ref().map_or(0, Vec::len) as u64
                    * evmdiff_core::block_processing::GAS_PER_BLOB;
            }
            txs.push(outcome);
        }
        if !chain {
            return Ok(BlockOutcome {
                txs,
                end: None,
                invalid: None,
            });
        }
        for w in block.withdrawals.iter().flatten() {
            self.credit(w.address, withdrawal_wei(w));
        }
        if let Some(reward) = block_reward(self.fork) {
            self.credit(block.env.coinbase, reward);
        }
        for call in after_transactions(self.fork) {
            if let Some(why) = self.system_call(&call) {
                return Ok(BlockOutcome {
                    txs,
                    end: None,
                    invalid: Some(why),
                });
            }
        }
        Ok(BlockOutcome {
            txs,
            end: Some(BlockEnd::new(self.post.clone(), gas_used)),
            invalid: None,
        })
    }

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

    /// A system call, committed; why the block is invalid, if the call makes it so.
    fn system_call(&mut self, call: &SystemCall) -> Option<String> {
        let evm = evm(&mut self.lent);
        let has_code = evm
            .ctx
            .journaled_state
            .database
            .basic(call.address)
            .ok()
            .flatten()
            .is_some_and(|a| !a.is_empty_code_hash());
        if let Some(o) = self.observer.as_deref_mut()
            && o.wants_reads()
        {
            o.read(evmdiff_core::observe::StateRead::Account(call.address));
        }
        if !has_code {
            return call
                .required
                .then(|| format!("system contract {} has no code", call.address));
        }
        evm.ctx.chain.reset(self.profile);
        evm.ctx.error = Ok(());
        let beneficiary = evm.ctx.block.beneficiary;
        let result = evm.system_call_with_caller(SYSTEM_ADDRESS, call.address, call.data.clone());
        let mut r = match result {
            Ok(r) => r,
            Err(e) => {
                return call
                    .required
                    .then(|| format!("system call to {} refused: {e:?}", call.address));
            }
        };
        if call.required && !matches!(r.result, ExecutionResult::Success { .. }) {
            return Some(format!(
                "system call to {} failed: {:?}",
                call.address, r.result
            ));
        }
        if let Some(o) = self.observer.as_deref_mut()
            && o.wants_reads()
        {
            observe::report_reads(&r.state, o);
        }
        // As every client does: the system address and the beneficiary are not touched by a
        // system call (EIP-4788).
        r.state.remove(&SYSTEM_ADDRESS);
        r.state.remove(&beneficiary);
        self.apply(r.state);
        None
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
