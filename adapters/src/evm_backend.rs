//! The `evm` backend (to be written).

use evmdiff_core::{Backend, BackendError, Case, Outcome, Profile};

/// evm, in process.
#[derive(Debug, Default)]
pub struct EvmBackend;

impl Backend for EvmBackend {
    fn name(&self) -> &'static str {
        "evm"
    }
    fn version(&self) -> &'static str {
        "unknown"
    }
    fn execute(&mut self, _case: &Case, _profile: &Profile) -> Result<Outcome, BackendError> {
        Err(BackendError::Unsupported("not written yet".into()))
    }
}
