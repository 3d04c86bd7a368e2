//! A [`Backend`] that is a worker process speaking evmdiff's JSON-lines protocol
//! ([`protocol`](super::protocol)).
//!
//! The process starts on the first case and stays up; each case is one request line and one
//! answer line. A worker that dies, overruns its timeout or answers out of step is killed: the
//! case becomes a [`BackendError::Failed`] carrying the worker's last stderr lines (so the
//! campaign keeps it as a finding), and the next case starts a fresh worker.

use std::time::{Duration, Instant};

use evmdiff_core::eip3155::{Line, Parsed, parse_line};
use evmdiff_core::replay::{Refund, canonical, replay};
use evmdiff_core::state_proof::execution_witness;
use evmdiff_core::witness::{Witness, collect, completed, stateless_case};
use evmdiff_core::{
    At, Backend, BackendError, Capabilities, Case, ChainOutcome, Observer, Profile,
};
use serde_json::Value;

use super::config::Declared;
use super::process::{Process, ProcessError, ProcessSpec};
use super::protocol::{
    PROTOCOL_VERSION, chain_request, into_chain_result, into_result, native_request,
    parse_chain_response, parse_response, request,
};
use crate::revm_backend::RevmBackend;

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
    /// Its hello line, as it said it.
    hello: String,
    /// For a worker sent execution witnesses: the in-process EVM whose reads make them.
    stateless: Option<RevmBackend>,
    /// It applies the profile rules requests carry.
    rules: bool,
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
            hello: String::new(),
            stateless: None,
            rules: true,
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
        let refuse = |this: &mut JsonWorker, why: String| {
            let stderr = this.process.stderr_tail();
            this.process.kill();
            Err(BackendError::Failed(format!(
                "{} worker {why}; stderr:\n{stderr}",
                this.name
            )))
        };
        if hello.get("ready").and_then(Value::as_bool) != Some(true) {
            return refuse(self, format!("did not say hello (got {line:.200})"));
        }
        match hello.get("protocol").and_then(Value::as_u64) {
            Some(PROTOCOL_VERSION) => {}
            Some(v) => {
                return refuse(
                    self,
                    format!(
                        "speaks protocol version {v}; this evmdiff speaks version \
                         {PROTOCOL_VERSION} (docs/protocol.md)"
                    ),
                );
            }
            None => {
                return refuse(
                    self,
                    format!(
                        "said hello without a `protocol` version (got {line:.200}); this \
                         evmdiff speaks version {PROTOCOL_VERSION} (docs/protocol.md)"
                    ),
                );
            }
        }
        if self.declared.steps && hello.get("steps").and_then(Value::as_bool) != Some(true) {
            return refuse(
                self,
                "is declared with `steps = true` but its hello does not say `\"steps\": true`"
                    .into(),
            );
        }
        if self.declared.chains && hello.get("chains").and_then(Value::as_bool) != Some(true) {
            return refuse(
                self,
                "is declared with `chains = true` but its hello does not say `\"chains\": true`"
                    .into(),
            );
        }
        self.hello = line.trim().to_string();
        self.announced = hello
            .get("version")
            .and_then(Value::as_str)
            .map(str::to_string);
        Ok(())
    }
}

impl JsonWorker {
    /// Sends one request (asking for steps when `steps`) and reads the step lines streamed
    /// before the answer, then the answer.
    fn run(
        &mut self,
        case: &Case,
        profile: &Profile,
        steps: bool,
    ) -> Result<(ChainOutcome, Vec<Line>), BackendError> {
        if case.single().is_none() {
            return self.run_chain(case, profile).map(|o| (o, Vec::new()));
        }
        self.ready()?;
        self.next_id += 1;
        let id = self.next_id;
        // The witness form: the case as a stateless executor gets it.
        let witness = match self.stateless {
            Some(_) => Some(self.witness(case, profile)?),
            None => None,
        };
        let sent = witness
            .as_ref()
            .map_or_else(|| case.clone(), |(_, w)| stateless_case(case, w));
        // A profile the worker implements itself: the case unchanged, no rules to apply.
        let mut line = match self.declared.native(profile) {
            Some(native) => native_request(id, &sent, native, steps),
            None => request(id, &sent, profile, steps),
        };
        if let Some(w) = &witness {
            line["witness"] = serde_json::to_value(execution_witness(&case.pre, &w.1))
                .expect("a witness serializes");
        }
        self.process.send(&line.to_string()).map_err(failed)?;
        // One deadline for the whole answer, step lines included.
        let deadline = Instant::now() + self.process.spec().timeout;
        let mut recorded = Vec::new();
        let answer = loop {
            let line = self.process.recv_until(deadline).map_err(failed)?;
            // Step lines have a `pc` and no `id`; anything else is the answer.
            if !line.contains("\"pc\"") || line.contains("\"id\"") {
                break line;
            }
            match parse_line(&line) {
                Ok(Parsed::Step(step)) if steps => recorded.push(step),
                Ok(Parsed::Step(_)) => {
                    return Err(self.violation("streamed a step line unasked".into()));
                }
                Ok(_) => {}
                Err(e) => return Err(self.violation(format!("bad step line ({e}): {line:.200}"))),
            }
        };
        self.reported = elapsed(&answer);
        match parse_response(&answer, id) {
            // A stateless answer holds what the witness held: the rest of the state is
            // untouched, as in the pre-state (or cleared with a destroyed account, as the
            // sequencer's execution shows).
            Ok(r) => into_result(r)
                .map(ChainOutcome::single)
                .map(|o| match &witness {
                    Some((full, w)) => (completed(case, w, &o, full), recorded),
                    None => (o, recorded),
                }),
            Err(violation) => Err(self.violation(violation)),
        }
    }

    /// Sends `case` in the chain form (docs/protocol.md, "The chain form") and reads the
    /// blocks' outcomes. A chain is never sent as a witness nor with steps: the witness form
    /// and the step lines describe one transaction.
    fn run_chain(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        if !self.declared.chains {
            return Err(BackendError::Unsupported(format!(
                "worker {} is sent single transactions only, not chains (declare `chains = \
                 true` once it executes the chain form)",
                self.name
            )));
        }
        if self.stateless.is_some() {
            return Err(BackendError::Unsupported(format!(
                "worker {} is sent execution witnesses, which describe one transaction; chains \
                 are not sent in the witness form",
                self.name
            )));
        }
        self.ready()?;
        self.next_id += 1;
        let id = self.next_id;
        let line = chain_request(id, case, profile, self.declared.native(profile));
        self.process.send(&line.to_string()).map_err(failed)?;
        let deadline = Instant::now() + self.process.spec().timeout;
        let answer = self.process.recv_until(deadline).map_err(failed)?;
        self.reported = elapsed(&answer);
        match parse_chain_response(&answer, id) {
            Ok(r) => into_chain_result(r),
            Err(violation) => Err(self.violation(violation)),
        }
    }

    /// What revm's execution of `case` read: the witness a sequencer running revm hands to
    /// the prover.
    fn witness(
        &mut self,
        case: &Case,
        profile: &Profile,
    ) -> Result<(ChainOutcome, Witness), BackendError> {
        let sequencer = self.stateless.get_or_insert_with(RevmBackend::default);
        collect(sequencer, case, profile).map_err(|e| {
            BackendError::Unsupported(format!(
                "the witness is made by revm's execution of the case, which failed: {e}"
            ))
        })
    }

    /// The same worker, declared to apply no profile rules: it sits out every profile but
    /// mainnet and the ones it implements itself.
    pub fn without_rules(mut self) -> JsonWorker {
        self.rules = false;
        self
    }

    /// The same worker, sent execution witnesses instead of full pre-states.
    pub fn stateless(mut self) -> JsonWorker {
        self.stateless = Some(RevmBackend::default());
        self
    }

    /// The worker broke the protocol: it is out of step, so it is killed (the next case
    /// starts a fresh one) and the case fails with its stderr.
    fn violation(&mut self, what: String) -> BackendError {
        let stderr = self.process.stderr_tail();
        self.process.kill();
        BackendError::Failed(format!(
            "{} worker broke the protocol: {what}; stderr:\n{stderr}",
            self.name
        ))
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

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.run(case, profile, false).map(|(o, _)| o)
    }

    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        // Steps are streamed for a state test only (docs/protocol.md, "Steps").
        if !self.declared.steps || case.single().is_none() {
            return self.execute(case, profile);
        }
        let (outcome, steps) = self.run(case, profile, true)?;
        // The protocol's refund is the transaction-wide counter before the instruction.
        let steps = canonical(steps, case, Refund::Before);
        observer.transaction(At {
            block: 0,
            tx: Some(0),
        });
        let _ = replay(&steps, observer);
        Ok(outcome)
    }

    fn observes_steps_of(&self, case: &Case) -> bool {
        // Steps are streamed for a state test only (docs/protocol.md, "Steps").
        self.declared.steps && case.single().is_some()
    }

    fn handshake(&mut self) -> Result<String, BackendError> {
        self.ready()?;
        Ok(self.hello.clone())
    }

    fn capabilities(&self) -> Capabilities {
        if self.rules {
            self.declared.capabilities(Capabilities::all_rules)
        } else {
            self.declared.capabilities(|p| {
                (!p.is_mainnet()).then(|| {
                    "it applies no profile rules (declared `rules = false`): it runs mainnet \
                     profiles and those it declares in `profiles` only"
                        .into()
                })
            })
        }
    }

    fn reported_time(&self) -> Option<Duration> {
        self.reported
    }
}
