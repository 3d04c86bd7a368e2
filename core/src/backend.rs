//! The `Backend` trait: what every EVM implementation provides to evmdiff.

use crate::case::Case;
use crate::fork::Fork;
use crate::observe::Observer;
use crate::outcome::ChainOutcome;
use crate::profile::Profile;

/// What a backend can do, declared as data: a campaign checks the profile against every
/// selected backend before its first case and says which will sit out and why (an engine
/// narrows the configuration when it is built, as wasmtime's fuzzers do), and the pipeline
/// asks for steps, pre-state reads or prover views only from backends that give them.
#[derive(Debug, Clone)]
pub struct Capabilities {
    /// The forks it runs.
    pub forks: Vec<Fork>,
    /// It reports every executed instruction through
    /// [`execute_observed`](Backend::execute_observed): step hash, lockstep localization,
    /// read/write log, coverage.
    pub steps: bool,
    /// It reports what it loads from the pre-state ([`Observer::read`]): the execution
    /// witness view.
    pub reads: bool,
    /// It runs inside evmdiff's process (a hang there can only be abandoned, not killed).
    pub in_process: bool,
    /// Why it cannot apply a profile's rules, if it cannot (checked once per campaign; `None`
    /// when it applies them all).
    pub rules: fn(&Profile) -> Option<String>,
    /// The profiles it implements itself, by content id ([`Profile::content_id`]): under one
    /// of them it runs the case unchanged, whatever `rules` says.
    pub native: Vec<String>,
    /// It executes chains ([`Case::is_chain`]): blocks of transactions with the state carried
    /// by the implementation itself. A backend without it (a state-test runner) runs state
    /// tests only and sits out every chain case, which a campaign says before its first case.
    pub chains: bool,
}

impl Capabilities {
    /// Why a backend with these capabilities cannot run any case under `profile`: its base
    /// fork is not one it runs, or a rule it cannot apply.
    pub fn sits_out(&self, profile: &Profile) -> Option<String> {
        if !self.forks.contains(&profile.base_fork) {
            return Some(format!(
                "it does not run {} (the base fork of {}); it runs {}",
                profile.base_fork,
                profile.name,
                fork_ranges(&self.forks)
            ));
        }
        if self.native.contains(&profile.content_id()) {
            return None;
        }
        (self.rules)(profile)
    }

    /// Its steps are reported while it executes (an in-process backend), not replayed from a
    /// record once it has finished ([`crate::replay`], an external backend): only live steps
    /// are hashed on every case of the fast path and give the prover views their addresses
    /// and reads; recorded ones localize a divergence once it is found.
    pub fn live_steps(&self) -> bool {
        self.steps && self.in_process
    }

    /// Why a backend with these capabilities does not run `case` at all, whatever the
    /// profile: a chain, for a backend that runs single transactions only.
    pub fn sits_out_case(&self, case: &Case) -> Option<String> {
        (case.is_chain() && !self.chains)
            .then(|| "it runs single transactions only, not chains".to_string())
    }

    /// Every rule applies.
    pub fn all_rules(_: &Profile) -> Option<String> {
        None
    }
}

/// `Frontier..Cancun, Prague` style list of forks.
fn fork_ranges(forks: &[Fork]) -> String {
    let mut sorted = forks.to_vec();
    sorted.sort();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        let mut j = i;
        while j + 1 < sorted.len()
            && Fork::ALL
                .iter()
                .position(|f| *f == sorted[j])
                .is_some_and(|p| Fork::ALL.get(p + 1) == Some(&sorted[j + 1]))
        {
            j += 1;
        }
        parts.push(if i == j {
            start.to_string()
        } else {
            format!("{start}..{}", sorted[j])
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// Why a backend produced no outcome for a case.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The backend cannot honour this fork, profile or transaction feature (for example `evm`
    /// has no Osaka). Such a case is skipped for that backend, never counted as a divergence.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The backend failed internally (a database error, an impossible state). Reported as a
    /// finding of its own.
    #[error("backend failure: {0}")]
    Failed(String),
    /// The backend gave no answer in time (a worker process over its timeout, killed and
    /// restarted); the text says how long and what the worker last wrote on stderr. A finding
    /// of the kind `hang`.
    #[error("no answer in time: {0}")]
    Timeout(String),
    /// The backend does not run this kind of case at all (a chain, for a backend that runs
    /// single transactions only), as its capabilities say and a campaign says before its first
    /// case: neither an outcome nor an answer of the backend's.
    #[error("sits out: {0}")]
    SitsOut(String),
    /// The backend did not run this case: a campaign samples it (`--sample eels=0.05`) so
    /// that a slow backend does not set the pace of the fast ones.
    #[error("not sampled on this case")]
    NotSampled,
}

/// One EVM implementation, configured by a [`Profile`] per execution.
///
/// The fork comes from `profile.base_fork`, not from `case.fork`: the runner decides which
/// profile a case runs under (mainnet at the case's fork when replaying ethereum/tests).
pub trait Backend: Send {
    /// Short name used on the command line (`revm`, `evm`).
    fn name(&self) -> &'static str;
    /// The implementation's version (the crate version it was built with).
    fn version(&self) -> &'static str;
    /// What it can do. Required (no default), so a wrapper that forwards to another backend
    /// cannot silently lose a capability.
    fn capabilities(&self) -> Capabilities;
    /// Executes the whole case — every block, every transaction on the state the previous one
    /// left in the implementation itself — and normalizes each transaction's result and each
    /// block's end. A backend without [`Capabilities::chains`] returns
    /// [`BackendError::Unsupported`] for a chain.
    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError>;
    /// Whether [`execute_observed`](Backend::execute_observed) reports steps
    /// ([`Capabilities::steps`]), live or replayed: a divergence between two such backends is
    /// localized to its first differing step.
    fn observes_steps(&self) -> bool {
        self.capabilities().steps
    }
    /// Whether [`execute_observed`](Backend::execute_observed) reports the steps of `case`:
    /// [`observes_steps`](Backend::observes_steps), unless the backend reports steps for some
    /// kinds of case only (a worker streams steps for state tests, not for chains). Lockstep
    /// localizes a divergence only between two backends that report the case's steps.
    fn observes_steps_of(&self, case: &Case) -> bool {
        let _ = case;
        self.observes_steps()
    }
    /// Whether its steps are reported live ([`Capabilities::live_steps`]). Backends whose
    /// steps are not (external backends, whose step traces cost more than the execution) are
    /// run with [`execute`](Backend::execute) on the fast path and compared on their outcomes.
    fn observes_live_steps(&self) -> bool {
        self.capabilities().live_steps()
    }
    /// Starts the backend if it runs in another process and says what it announced (a
    /// worker's hello: protocol version, implementation version, steps), for `evmdiff check`.
    /// An in-process backend is always ready.
    fn handshake(&mut self) -> Result<String, BackendError> {
        Ok(format!("{} {}", self.name(), self.version()))
    }
    /// Loads what the backend would otherwise load inside its first case under `profile`
    /// (revm's KZG trusted setup: seconds of work, on a loaded machine enough to make that
    /// case a `slow` finding), so that a case's time is the case's own. A campaign calls it
    /// once per worker before the first case. The default does nothing.
    fn prepare(&mut self, profile: &Profile) {
        let _ = profile;
    }
    /// Whether it is the reference that seals generated chains (revm, without a planted bug):
    /// sealing a chain executes it observed, block by block, and that execution is then this
    /// backend's execution of the sealed chain, which the oracle takes rather than run the
    /// chain again. `false` for every other backend, whatever its name.
    fn is_sealer(&self) -> bool {
        false
    }
    /// For a backend in another process: the time its implementation said it spent on the
    /// last case (the worker protocol's `elapsedUs`), so that the round trip's own cost can be
    /// told apart. `None` for in-process backends.
    fn reported_time(&self) -> Option<std::time::Duration> {
        None
    }
    /// Executes like [`execute`](Backend::execute), reporting every executed instruction and
    /// every precompile call to `observer`, each transaction announced before its steps
    /// ([`Observer::transaction`]); the outcome must be exactly the one `execute`
    /// gives. A separate method rather than an optional observer on `execute`, so that the
    /// fuzzing path keeps its uninstrumented speed. The default reports nothing: right for a
    /// backend without [`Capabilities::steps`], and every backend with it overrides this.
    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        let _ = observer;
        self.execute(case, profile)
    }
}

/// The text of a panic payload: a backend that panics becomes a finding with this message.
pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
