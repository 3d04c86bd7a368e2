//! revm's own rate on evmdiff's cases: `transact` on a reused mainnet context, with none of
//! evmdiff's work around it. `evmdiff bench` sets the revm backend's rate against it, so the
//! gap is evmdiff's overhead (issue 18, item 4).
//!
//! What it does per case is what any harness that takes a state test must do: the pre-state
//! into revm's in-memory database (the adapter's own conversion), then each transaction
//! handed to `transact` (committed with `transact_commit` when more follow, in a chain). What
//! it leaves out is evmdiff's: the profile's instruction table and precompile provider, the
//! outcome's normalization (accounts, logs, the state root after each transaction), block
//! processing (system calls, withdrawals, rewards) and the observers. Its results are thrown
//! away; it is a yardstick, not a backend.

use evmdiff_core::{Case, Fork};
use revm::context::{BlockEnv, CfgEnv, Context, Journal, TxEnv};
use revm::handler::{ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext, MainnetEvm};

use super::env::{self, Db};

type RawCtx = Context<BlockEnv, TxEnv, CfgEnv, Db, Journal<Db>, ()>;

/// A mainnet revm, reused from case to case.
#[derive(Default)]
pub struct RawRevm {
    evm: Option<MainnetEvm<RawCtx>>,
}

impl std::fmt::Debug for RawRevm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawRevm")
    }
}

impl RawRevm {
    /// Runs every transaction of `case` under `fork`'s spec; returns how many revm ran
    /// (a transaction revm refuses counts: refusing is work too). `None` when revm has no
    /// spec for the fork.
    pub fn run(&mut self, case: &Case, fork: Fork) -> Option<usize> {
        let spec = env::spec_of(fork)?;
        let evm = self.evm.get_or_insert_with(|| {
            Context::mainnet()
                .with_db(Db::default())
                .modify_cfg_chained(|c| c.set_spec_and_mainnet_gas_params(spec))
                .build_mainnet()
        });
        let chain_id = case.env().map_or(1, |e| e.chain_id);
        env::configure(&mut evm.ctx.cfg, spec, chain_id);
        evm.ctx.journaled_state.database = env::database(&case.pre, &case.block_hashes());
        let total = case.tx_count();
        let mut ran = 0;
        for block in &case.blocks {
            evm.ctx.block = env::block(&block.env, &evm.ctx.cfg);
            for tx in &block.txs {
                let tx = env::tx(tx, chain_id);
                ran += 1;
                if ran < total {
                    let _ = std::hint::black_box(evm.transact_commit(tx));
                } else {
                    let _ = std::hint::black_box(evm.transact(tx));
                }
            }
        }
        evm.ctx.journaled_state.database = Db::default();
        Some(ran)
    }
}
