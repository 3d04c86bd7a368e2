//! External backends: EVM implementations that run in another process (the Python execution
//! spec, ethereumjs, py-evm, any state-test runner), driven over pipes.
//!
//! * [`process`]: one child process with a line reader and a stderr tail, restarted after a
//!   crash or a timeout;
//! * [`protocol`]: evmdiff's JSON-lines worker protocol (`docs/backends.md`), a request per
//!   case and a normalized outcome per response;
//! * [`json_worker`]: the [`Backend`](evmdiff_core::Backend) over that protocol;
//! * [`known`]: where workers and their runtimes live, and how a declared worker starts;
//! * [`statetest`]: any state-test runner (`evm statetest`, `ethereum-spec-evm statetest`, ...)
//!   configured in a backends file ([`config`]), which also declares workers (the shipped
//!   ones are entries of `adapters/workers/backends.toml`).

pub mod config;
pub mod json_worker;
pub mod known;
pub mod process;
pub mod protocol;
pub mod statetest;
pub mod t8n;

pub use config::{BackendsFile, ConfigError, Declared, RunnerConfig, RunnerKind, WorkerConfig};
pub use json_worker::JsonWorker;
pub use known::home;
pub use process::{Process, ProcessError, ProcessSpec};
pub use statetest::StateTestRunner;
pub use t8n::T8nRunner;

/// Interns a backend name read at run time (from a backends file): [`Backend::name`] is
/// `&'static str` because names are compared and copied on every case, and the set of names is
/// fixed for the life of the process.
///
/// [`Backend::name`]: evmdiff_core::Backend::name
pub(crate) fn intern(s: &str) -> &'static str {
    use std::collections::BTreeSet;
    use std::sync::Mutex;
    static NAMES: Mutex<BTreeSet<&'static str>> = Mutex::new(BTreeSet::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(s) {
        return n;
    }
    let leaked: &'static str = Box::leak(s.to_string().into_boxed_str());
    names.insert(leaked);
    leaked
}
