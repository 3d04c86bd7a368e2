//! The backends file: state-test runners declared as backends, for `--backends-file`.
//!
//! ```toml
//! [[runner]]
//! name = "spec-statetest"                      # the name used in --backends
//! command = [".external/eels/bin/ethereum-spec-evm", "statetest", "--json", "--nomemory"]
//! batch = true                                 # reads test-file paths on stdin (goevmlab style)
//! env = { PYTHONUNBUFFERED = "1" }
//! timeout_secs = 30
//! ```
//!
//! A relative program path (one containing `/`) is resolved against the file's folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// One runner.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerConfig {
    /// Backend name.
    pub name: String,
    /// Program and options; the test file's path is appended unless `batch`.
    pub command: Vec<String>,
    /// The runner reads test-file paths on stdin, one per line, and answers each with a JSON
    /// array on stdout and its traces and `{"stateRoot": ..}` on stderr (as `evm statetest`
    /// and `ethereum-spec-evm statetest` do without a file argument).
    #[serde(default)]
    pub batch: bool,
    /// Extra environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Longest wait for one test, in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: f64,
    /// The runner is the executable specification: the reference when backends disagree.
    #[serde(default)]
    pub reference: bool,
    /// Folder the file was read from (relative programs resolve against it).
    #[serde(skip)]
    pub base: PathBuf,
}

fn default_timeout() -> f64 {
    30.0
}

impl RunnerConfig {
    /// The program, resolved.
    pub fn program(&self) -> PathBuf {
        let p = Path::new(&self.command[0]);
        if p.is_relative() && self.command[0].contains('/') {
            self.base.join(p)
        } else {
            p.to_path_buf()
        }
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_secs)
    }
}

/// A parsed backends file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendsFile {
    /// The runners, in file order.
    #[serde(default)]
    pub runner: Vec<RunnerConfig>,
}

/// A backends file that cannot be used; the message names the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

impl BackendsFile {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<BackendsFile, ConfigError> {
        let err = |message: String| ConfigError {
            file: path.display().to_string(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
        let base = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Self::parse(&text, base).map_err(err)
    }

    /// Parses the text of a backends file whose relative paths resolve against `base`.
    pub fn parse(text: &str, base: PathBuf) -> Result<BackendsFile, String> {
        let mut file: BackendsFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(span) => {
                    let line = text[..span.start.min(text.len())].lines().count().max(1);
                    format!("line {line}: {msg}")
                }
                None => msg,
            }
        })?;
        let mut seen = std::collections::BTreeSet::new();
        for r in &mut file.runner {
            if r.name.is_empty()
                || !r
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(format!(
                    "runner name `{}` must be letters, digits, `-` or `_`",
                    r.name
                ));
            }
            if !seen.insert(r.name.clone()) {
                return Err(format!("runner `{}` is declared twice", r.name));
            }
            if r.command.is_empty() {
                return Err(format!("runner `{}` has an empty `command`", r.name));
            }
            if r.timeout_secs.is_nan() || r.timeout_secs <= 0.0 {
                return Err(format!(
                    "runner `{}`: `timeout_secs` must be positive",
                    r.name
                ));
            }
            r.base = base.clone();
        }
        Ok(file)
    }

    /// The runner called `name`.
    pub fn find(&self, name: &str) -> Option<&RunnerConfig> {
        self.runner.iter().find(|r| r.name == name)
    }
}
