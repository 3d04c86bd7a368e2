//! The `revm` backend (to be written).

use evmdiff_core::{Backend, BackendError, Case, Outcome, Profile};

/// revm, in process.
#[derive(Debug, Default)]
pub struct RevmBackend;

impl Backend for RevmBackend {
    fn name(&self) -> &'static str {
        "revm"
    }
    fn version(&self) -> &'static str {
        "unknown"
    }
    fn execute(&mut self, _case: &Case, _profile: &Profile) -> Result<Outcome, BackendError> {
        Err(BackendError::Unsupported("not written yet".into()))
    }
}
