//! A [`Backend`] that is a worker process speaking evmdiff's JSON-lines protocol
//! ([`protocol`](super::protocol)).
//!
//! The process starts on the first case and stays up; each case is one request line and one
//! answer line. A worker that dies, overruns its timeout or answers out of step is killed: the
//! case becomes a [`BackendError::Failed`] carrying the worker's last stderr lines (so the
//! campaign keeps it as a finding), and the next case starts a fresh worker.

use std::time::{Duration, Instant};

use evmdiff_core::{Backend, BackendError, Capabilities, Case, Outcome, Profile};
use serde_json::Value;

use super::config::Declared;
use super::process::{Process, ProcessError, ProcessSpec};
use super::protocol::{into_result, native_request, parse_response, request};

/// How long a worker may take to import its implementation and say hello.
const STARTUP: Duration = Duration::from_secs(60);

/// An external backend behind the JSON-lines protocol.
pub struct JsonWorker {
    name: &'static str,
    version: &'static str,
    process: Process,
    next_id: u64,
    /// The version the worker announced in its hello line.
    announced: Option<String>,
    /// The `elapsedUs` of the last answer.
    reported: Option<Duration>,
    /// The forks it runs and the profiles it implements itself.
    declared: Declared,
}

impl JsonWorker {
    /// A worker started by `spec` on first use.
    pub fn new(
        name: &'static str,
        version: &'static str,
        declared: Declared,
        spec: ProcessSpec,
    ) -> JsonWorker {
        JsonWorker {
            name,
            version,
            process: Process::new(spec),
            next_id: 0,
            announced: None,
            reported: None,
            declared,
        }
    }

    /// How many times the process was started (restarts after crashes and timeouts count).
    pub fn starts(&self) -> u64 {
        self.process.starts
    }

    /// The implementation version of the running worker's hello line.
    pub fn announced_version(&self) -> Option<&str> {
        self.announced.as_deref()
    }

    /// Starts the worker if needed and waits for its hello line.
    fn ready(&mut self) -> Result<(), BackendError> {
        if !self.process.ensure_started().map_err(failed)? {
            return Ok(());
        }
        let line = self
            .process
            .recv_until(Instant::now() + STARTUP.max(self.process.spec().timeout))
            .map_err(failed)?;
        let hello: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
        if hello.get("ready").and_then(Value::as_bool) != Some(true) {
            let stderr = self.process.stderr_tail();
            self.process.kill();
            return Err(BackendError::Failed(format!(
                "{} worker did not say hello (got {line:.200}); stderr:\n{stderr}",
                self.name
            )));
        }
        self.announced = hello
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(())
    }
}

/// The answer's `elapsedUs`: the time the worker spent inside its implementation.
fn elapsed(line: &str) -> Option<Duration> {
    // Cheaper than parsing the line twice: the field is a plain number.
    let at = line.find("\"elapsedUs\":")? + "\"elapsedUs\":".len();
    let digits: String = line[at..]
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    digits
        .parse::<f64>()
        .ok()
        .map(|us| Duration::from_secs_f64(us / 1e6))
}

fn failed(e: ProcessError) -> BackendError {
    BackendError::from(e)
}

impl Backend for JsonWorker {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        self.version
    }

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<Outcome, BackendError> {
        self.ready()?;
        self.next_id += 1;
        let id = self.next_id;
        // A profile the worker implements itself: the case unchanged, no rules to apply.
        let line = match self.declared.native(profile) {
            Some(native) => native_request(id, case, native),
            None => request(id, case, profile),
        };
        self.process.send(&line).map_err(failed)?;
        let line = self.process.recv().map_err(failed)?;
        self.reported = elapsed(&line);
        match parse_response(&line, id) {
            Ok(r) => into_result(r),
            Err(violation) => {
                let stderr = self.process.stderr_tail();
                self.process.kill();
                Err(BackendError::Failed(format!(
                    "{} worker broke the protocol: {violation}; stderr:\n{stderr}",
                    self.name
                )))
            }
        }
    }

    fn capabilities(&self) -> Capabilities {
        self.declared.capabilities(Capabilities::all_rules)
    }

    fn reported_time(&self) -> Option<Duration> {
        self.reported
    }
}
