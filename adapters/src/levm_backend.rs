//! The `levm` backend: LambdaClass's [ethrex-levm](https://github.com/lambdaclass/ethrex)
//! 31.0.0, the EVM that ethrex runs natively and inside its zkVM provers, in process.
//!
//! How a case is driven:
//! * [`env`] maps the fork (Paris and later only: levm is a post-Merge EVM), builds levm's
//!   `Environment` and `Transaction` from the case, and serves the pre-state through levm's
//!   `Database` trait; levm's `GeneralizedDatabase` caches everything it loads and every
//!   change on top of that store.
//! * One `GeneralizedDatabase` per case and one `VM` per transaction on it, as ethrex executes
//!   a block ([`chain`]): levm carries its own cache from one transaction to the next, and a
//!   chain's system calls run on levm as system calls. Each `VM` has levm's L1 hooks
//!   (validation, fee payment, refunds, self-destruct cleanup), the call tracer disabled, and
//!   levm's native crypto provider. A plain mainnet
//!   profile runs levm's own `VM::execute`; a profile with rules runs the same steps through
//!   [`dispatch`], levm's loop rebuilt from its public parts, which applies the rules
//!   ([`profile`] says how each one is honoured, and when `absent` cannot be).
//! * An observed execution runs [`dispatch`] under every profile, mainnet included (levm has
//!   no step hook; the loop is checked against `VM::execute` on the fixtures), with
//!   [`observe`] reporting its steps, precompile calls and pre-state reads in revm's shapes.
//! * [`normalize`] turns the report and the database cache into an [`Outcome`].

mod arkworks;
mod chain;
mod direct;
mod dispatch;
pub(crate) mod env;
mod normalize;
mod observe;
mod p256_arkworks;
mod profile;

use evmdiff_core::block_processing;
use evmdiff_core::{
    Backend, BackendError, Capabilities, Case, ChainOutcome, Fork, Observer, Profile,
};

pub use direct::DirectLevm;
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
            chains: true,
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
    /// Executes `case`: a state test or a chain, on one levm database (see [`chain`]).
    fn run(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: Option<&mut dyn Observer>,
    ) -> Result<ChainOutcome, BackendError> {
        let fork = profile.base_fork;
        let levm_fork = env::fork_of(fork).ok_or_else(|| {
            BackendError::Unsupported(format!(
                "levm 31 runs Paris and later only (ethrex is a post-Merge client), not {fork}"
            ))
        })?;
        let rules = Rules::of(profile)?;
        let mut run = chain::Run::new(case, fork, levm_fork, rules, self.own_loop, observer);
        let outcome = block_processing::process(case, fork, &mut run)?;
        run.report_reads();
        Ok(outcome)
    }
}
