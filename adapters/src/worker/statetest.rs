//! Any state-test runner as a backend: `evm statetest` (geth), `ethereum-spec-evm statetest`,
//! `evmone-statetest`, `revme statetest`, besu's `evmtool state-test`, ..., declared in a
//! backends file ([`RunnerConfig`]).
//!
//! Each case is written as a one-vector state test into a private temporary folder and handed
//! to the runner: as a path on stdin to a long-lived runner (`batch`, the goevmlab protocol),
//! else as the last argument of a fresh process. The runner's answers follow geth's
//! conventions: a JSON array of `{name, fork, pass, stateRoot[, error]}` on stdout, and on
//! stderr (with `--json`) EIP-3155 lines, a summary `{"output", "gasUsed"[, "error"]}` and a
//! `{"stateRoot"}` line. A runner reports no post-state, logs or refund and its `gasUsed` is
//! the frame's gas before the refund, so its outcome is [`Scope::RootOutputStatus`]: kind of
//! ending, output and state root, and only those are compared.
//!
//! A transaction the runner refuses prints no summary line (EELS logs
//! `Transaction 0 failed: ...` instead): that is [`Status::Rejected`]. An `error` in the
//! summary containing "revert" is a revert, any other one an exceptional halt of unknown
//! class ([`HaltClass::Other`]).
//!
//! [`Scope::RootOutputStatus`]: evmdiff_core::Scope::RootOutputStatus

use std::path::PathBuf;
use std::time::Instant;

use alloy_primitives::{B256, Bytes};
use evmdiff_core::eip3155::{Parsed, parse_line};
use evmdiff_core::replay::{canonical, replay};
use evmdiff_core::{
    At, Backend, BackendError, Capabilities, Case, ChainOutcome, HaltClass, Observer, Outcome,
    Profile, Status,
};
use serde_json::{Value, json};

use super::config::RunnerConfig;
use super::intern;
use super::process::{Process, ProcessError, ProcessSpec};
use super::protocol::test_body;

/// A state-test runner.
pub struct StateTestRunner {
    name: &'static str,
    config: RunnerConfig,
    dir: tempfile::TempDir,
    process: Option<Process>,
    count: u64,
}

impl StateTestRunner {
    /// A runner configured by `config` (nothing starts until the first case).
    pub fn new(config: &RunnerConfig) -> Result<StateTestRunner, String> {
        let dir = config.workspace("runner", "statetest")?;
        Ok(StateTestRunner {
            name: intern(&config.name),
            config: config.clone(),
            dir,
            process: None,
            count: 0,
        })
    }

    fn spec(&self, file: Option<&PathBuf>) -> ProcessSpec {
        let mut args: Vec<String> = self.config.command[1..].to_vec();
        if let Some(f) = file {
            args.push(f.display().to_string());
        }
        ProcessSpec {
            program: self.config.program(),
            args,
            env: self
                .config
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cwd: None,
            timeout: self.config.timeout(),
        }
    }

    /// Writes the case file the runner reads. `post[fork][0].hash` must be present (EELS
    /// fails with a KeyError otherwise): the expectation when there is one, else zero.
    fn write_test(&mut self, case: &Case, profile: &Profile) -> Result<PathBuf, BackendError> {
        let mut test = test_body(case, profile);
        if let Some(entry) = test
            .pointer_mut(&format!("/post/{}/0", profile.base_fork.name()))
            .and_then(Value::as_object_mut)
        {
            entry.entry("hash").or_insert(json!(B256::ZERO));
            entry.entry("logs").or_insert(json!(B256::ZERO));
        }
        self.count += 1;
        let path = self
            .dir
            .path()
            .join(format!("case-{}.json", self.count % 2));
        let text = json!({ "evmdiff": test }).to_string();
        std::fs::write(&path, text)
            .map_err(|e| BackendError::Failed(format!("cannot write {}: {e}", path.display())))?;
        Ok(path)
    }

    /// Reads one test's answer: stdout up to the array's closing `]`, stderr up to the
    /// `stateRoot` line.
    fn read_answer(process: &mut Process) -> Result<(Vec<String>, Vec<String>), ProcessError> {
        let deadline = Instant::now() + process.spec().timeout;
        let mut out = Vec::new();
        loop {
            let line = process.recv_until(deadline)?;
            let done = line.trim() == "]";
            out.push(line);
            if done {
                break;
            }
        }
        let mut err = Vec::new();
        loop {
            let line = process.recv_stderr_until(deadline)?;
            let done = line.starts_with("{\"stateRoot\"");
            err.push(line);
            if done {
                break;
            }
        }
        Ok((out, err))
    }
}

/// The outcome a runner's answer describes.
fn outcome(stdout: &[String], stderr: &[String]) -> Result<Outcome, BackendError> {
    let results: Value = serde_json::from_str(&stdout.join("\n")).map_err(|e| {
        BackendError::Failed(format!(
            "runner printed no result array ({e}): {:.300}",
            stdout.join("\n")
        ))
    })?;
    let result = results
        .as_array()
        .and_then(|a| a.first())
        .ok_or_else(|| BackendError::Failed("runner printed an empty result array".into()))?;
    let root = result
        .get("stateRoot")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<B256>().ok())
        .ok_or_else(|| {
            BackendError::Failed(format!("runner result without a stateRoot: {result}"))
        })?;
    let summary = stderr.iter().rev().find_map(|l| {
        let v: Value = serde_json::from_str(l).ok()?;
        (v.get("output").is_some() && v.get("gasUsed").is_some()).then_some(v)
    });
    let Some(summary) = summary else {
        let why = stderr
            .iter()
            .rev()
            .find(|l| !l.starts_with('{'))
            .cloned()
            .unwrap_or_else(|| "no execution summary".into());
        return Ok(Outcome::root_only(
            Status::Rejected,
            Bytes::new(),
            root,
            why,
        ));
    };
    let output = summary
        .get("output")
        .and_then(Value::as_str)
        .map(|s| s.strip_prefix("0x").unwrap_or(s))
        .and_then(|s| alloy_primitives::hex::decode(s).ok())
        .map(Bytes::from)
        .unwrap_or_default();
    let error = summary.get("error").and_then(Value::as_str).unwrap_or("");
    let status = if error.is_empty() {
        Status::Success
    } else if error.to_ascii_lowercase().contains("revert") {
        Status::Revert
    } else {
        Status::Halt(HaltClass::Other)
    };
    // A halt's return data is empty whatever the runner prints.
    let output = if matches!(status, Status::Halt(_)) {
        Bytes::new()
    } else {
        output
    };
    Ok(Outcome::root_only(status, output, root, error.to_string()))
}

impl Backend for StateTestRunner {
    fn name(&self) -> &'static str {
        self.name
    }

    fn version(&self) -> &'static str {
        "external"
    }

    fn execute(&mut self, case: &Case, profile: &Profile) -> Result<ChainOutcome, BackendError> {
        self.run(case, profile)
            .map(|(o, _)| ChainOutcome::single(o))
    }

    fn execute_observed(
        &mut self,
        case: &Case,
        profile: &Profile,
        observer: &mut dyn Observer,
    ) -> Result<ChainOutcome, BackendError> {
        let (outcome, stderr) = self.run(case, profile)?;
        let outcome = ChainOutcome::single(outcome);
        if !self.config.steps {
            return Ok(outcome);
        }
        observer.transaction(At {
            block: 0,
            tx: Some(0),
        });
        let mut steps = Vec::new();
        for line in stderr.iter().filter(|l| l.starts_with("{\"pc\"")) {
            match parse_line(line) {
                Ok(Parsed::Step(s)) => steps.push(s),
                Ok(_) => {}
                Err(e) => {
                    return Err(BackendError::Failed(format!(
                        "runner `{}` printed a step line evmdiff cannot read ({e}): {line:.200}",
                        self.name
                    )));
                }
            }
        }
        let steps = canonical(steps, case, self.config.refund);
        let _ = replay(&steps, observer);
        Ok(outcome)
    }

    fn capabilities(&self) -> Capabilities {
        self.config.declared.capabilities(|p| {
            (!p.is_mainnet()).then(|| {
                "a state-test runner cannot apply profile rules (mainnet profiles and those it \
                 declares in `profiles` only)"
                    .into()
            })
        })
    }
}

impl StateTestRunner {
    /// Runs one case: its outcome, and the stderr lines it printed (its EIP-3155 steps).
    fn run(
        &mut self,
        case: &Case,
        profile: &Profile,
    ) -> Result<(Outcome, Vec<String>), BackendError> {
        if case.single().is_none() {
            return Err(BackendError::Unsupported(format!(
                "state-test runner `{}` runs single transactions only, not chains",
                self.name
            )));
        }
        if !profile.is_mainnet() && self.config.declared.native(profile).is_none() {
            return Err(BackendError::Unsupported(format!(
                "state-test runner `{}` cannot apply profile rules, and does not declare `{}` as \
                 a profile it implements itself",
                self.name, profile.name
            )));
        }
        let path = self.write_test(case, profile)?;
        let failed = BackendError::from;
        if self.config.batch {
            if self.process.is_none() {
                self.process = Some(Process::new(self.spec(None)).with_stderr_lines());
            }
            let p = self.process.as_mut().expect("just set");
            if p.ensure_started().map_err(failed)? {
                p.drain_stderr_lines();
            }
            p.send(&path.display().to_string()).map_err(failed)?;
            let (out, err) = Self::read_answer(p).map_err(failed)?;
            Ok((outcome(&out, &err)?, err))
        } else {
            let mut p = Process::new(self.spec(Some(&path))).with_stderr_lines();
            p.ensure_started().map_err(failed)?;
            let (out, err) = Self::read_answer(&mut p).map_err(failed)?;
            Ok((outcome(&out, &err)?, err))
        }
    }
}
