//! The `Backend` trait: what every EVM implementation provides to evmdiff.

use crate::case::Case;
use crate::observe::Observer;
use crate::outcome::Outcome;
use crate::profile::Profile;

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
    /// Executes the case's transaction against its pre-state and normalizes the result.
    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<Outcome, BackendError>;
    /// Whether [`execute_observed`](Backend::execute_observed) reports steps. Backends that
    /// cannot (external workers, whose step traces would cost more than the execution) return
    /// `false`: the fast path then runs them with [`execute`](Backend::execute) and compares
    /// their steps with nobody's, only their outcomes.
    fn observes_steps(&self) -> bool {
        true
    }
    /// For a backend in another process: the time its implementation said it spent on the
    /// last case (the worker protocol's `elapsedUs`), so that the round trip's own cost can be
    /// told apart. `None` for in-process backends.
    fn reported_time(&self) -> Option<std::time::Duration> {
        None
    }
    /// Executes like [`execute`](Backend::execute), reporting every executed instruction and
    /// every precompile call to `observer`; the outcome must be exactly the one `execute`
    /// gives. A separate method rather than an optional observer on `execute`, so that the
    /// fuzzing path keeps its uninstrumented speed.
    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<Outcome, BackendError>;
}

/// The text of a panic payload: a backend that panics becomes a finding with this message.
pub fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".into())
}
