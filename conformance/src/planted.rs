//! Backends with a planted bug, for tests that the matrix and the oracle catch what they are
//! for. Each wraps a real backend and changes one thing.

use evmdiff_core::{Backend, BackendError, Capabilities, Case, ChainOutcome, Profile};

/// A backend configured with no profile: it runs every case under plain mainnet at the
/// profile's base fork, as a client or prover set up with the wrong profile (or none) does.
pub struct IgnoresProfile(pub Box<dyn Backend>);

impl Backend for IgnoresProfile {
    fn name(&self) -> &'static str {
        "ignores-profile"
    }
    fn version(&self) -> &'static str {
        self.0.version()
    }
    fn capabilities(&self) -> Capabilities {
        self.0.capabilities()
    }
    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.0.execute(case, &Profile::mainnet(profile.base_fork))
    }
}
