//! The `levm` backend: LambdaClass's [ethrex-levm](https://github.com/lambdaclass/ethrex)
//! 31.0.0, the EVM that ethrex runs natively and inside its zkVM provers, in process.
//!
//! How a case is driven:
//! * [`env`] maps the fork (Paris and later only: levm is a post-Merge EVM), builds levm's
//!   `Environment` and `Transaction` from the case, and serves the pre-state through levm's
//!   `Database` trait; levm's `GeneralizedDatabase` caches everything it loads and every
//!   change on top of that store.
//! * One `VM` per case, with levm's L1 hooks (validation, fee payment, refunds, self-destruct
//!   cleanup), the call tracer disabled, and levm's native crypto provider. A plain mainnet
//!   profile runs levm's own `VM::execute`; a profile with rules runs the same steps through
//!   [`dispatch`], levm's loop rebuilt from its public parts, which applies the rules
//!   ([`profile`] says how each one is honoured, and when `absent` cannot be).
//! * An observed execution runs [`dispatch`] under every profile, mainnet included (levm has
//!   no step hook; the loop is checked against `VM::execute` on the fixtures), with
//!   [`observe`] reporting its steps, precompile calls and pre-state reads in revm's shapes.
//! * [`normalize`] turns the report and the database cache into an [`Outcome`].

mod dispatch;
mod env;
mod normalize;
mod observe;
mod profile;

use std::sync::Arc;

use ethrex_common::NativeCrypto;
use ethrex_levm::db::gen_db::GeneralizedDatabase;
use ethrex_levm::precompiles::PrecompileMoves;
use ethrex_levm::tracing::LevmCallTracer;
use ethrex_levm::vm::{VM, VMType};
use evmdiff_core::case::{BlockEnv, Transaction as CaseTx};
use evmdiff_core::{
    At, Backend, BackendError, Capabilities, Case, ChainOutcome, Fork, Observer, Outcome, Profile,
    State,
};

use normalize::Executed;
use profile::Rules;

/// levm, in process.
#[derive(Debug, Clone, Default)]
pub struct LevmBackend {
    /// Run every case through the adapter's own dispatch loop, even without rules.
    own_loop: bool,
}

impl LevmBackend {
    /// A backend that runs even plain mainnet cases through the adapter's own dispatch loop
    /// (the one that applies profile rules) instead of levm's `VM::execute`. It exists to check
    /// that the loop is levm's: both must give the same outcome for every case.
    pub fn with_own_loop() -> LevmBackend {
        LevmBackend { own_loop: true }
    }
}

impl Backend for LevmBackend {
    fn name(&self) -> &'static str {
        "levm"
    }

    fn version(&self) -> &'static str {
        env!("EVMDIFF_VERSION_ETHREX_LEVM")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            forks: Fork::ALL
                .into_iter()
                .filter(|f| env::fork_of(*f).is_some())
                .collect(),
            steps: true,
            reads: true,
            in_process: true,
            rules: |p| Rules::of(p).err().map(|e| e.to_string()),
            native: Vec::new(),
            chains: false,
        }
    }

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.run(case, profile, None)
    }

    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        self.run(case, profile, Some(observer))
    }
}

impl LevmBackend {
    /// Executes a state test (the only kind this adapter runs yet).
    fn run(
        &mut self,
        case: &Case,
        profile: &Profile,
        mut observer: Option<&mut dyn Observer>,
    ) -> Result<ChainOutcome, BackendError> {
        let Some((env, tx)) = case.single() else {
            return Err(BackendError::Unsupported(
                "the levm adapter runs single transactions only, not chains".into(),
            ));
        };
        if let Some(o) = observer.as_deref_mut() {
            o.transaction(At {
                block: 0,
                tx: Some(0),
            });
        }
        self.run_tx(env, &case.pre, tx, profile, observer)
            .map(ChainOutcome::single)
    }

    /// Executes `tx` on `pre` under `env`: with an observer, always through the adapter's loop watched by
    /// [`observe::Watch`]; without, through levm's `VM::execute` unless rules (or
    /// `with_own_loop`) call for the loop.
    fn run_tx(
        &mut self,
        block: &BlockEnv,
        pre: &State,
        case_tx: &CaseTx,
        profile: &Profile,
        mut observer: Option<&mut dyn Observer>,
    ) -> Result<Outcome, BackendError> {
        let fork = profile.base_fork;
        let levm_fork = env::fork_of(fork).ok_or_else(|| {
            BackendError::Unsupported(format!(
                "levm 31 runs Paris and later only (ethrex is a post-Merge client), not {fork}"
            ))
        })?;
        let rules = Rules::of(profile)?;
        if let Some(why) = env::invalid_tx(case_tx) {
            return Ok(Outcome::rejected(pre, why));
        }

        let environment = env::environment(block, case_tx, levm_fork);
        let gas_limit = environment.gas_limit;
        let tx = env::transaction(case_tx, block.chain_id);
        let mut db = GeneralizedDatabase::new(env::PreState::new(pre));
        if let Some(rules) = &rules {
            // Precompiles with a rule become ordinary accounts for levm's dispatch, so that a
            // call to one enters a frame the adapter's loop intercepts (see `profile.rs`).
            let moves = PrecompileMoves::from_parts([], rules.moved());
            if !moves.is_empty() {
                db.precompile_moves = Some(Arc::new(moves));
            }
        }
        let mut rejected = None;
        let result = VM::new(
            environment,
            &mut db,
            &tx,
            LevmCallTracer::disabled(),
            VMType::L1,
            &NativeCrypto,
            None,
        )
        .and_then(|mut vm| {
            if let Some(rules) = &rules
                && !rules.absent.is_empty()
            {
                // Absent precompiles are cold ordinary accounts (see `profile.rs`).
                vm.substate = profile::cold_substate(&vm, fork, &rules.absent);
            }
            if let Some(rules) = &rules {
                // An added precompile is warm from the start (EIP-2929), like any precompile.
                for (a, _) in &rules.added {
                    vm.substate.add_accessed_address(*a);
                }
            }
            let none = Rules::none();
            let report = match (&mut observer, &rules, self.own_loop) {
                (Some(observer), rules, _) => {
                    vm.opcode_tracer = observe::cost_tracer();
                    let mut watch = observe::Watch::new(&mut **observer);
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
        if let Some(observer) = observer
            && result.is_ok()
            && observer.wants_reads()
        {
            observe::report_reads(&db, observer);
        }
        if let Some(why) = rejected {
            return Ok(Outcome::rejected(pre, why));
        }
        match result {
            Ok(executed) => normalize::outcome(pre, executed, &db),
            Err(e) => normalize::error(pre, e),
        }
    }
}
