//! The backends file: external backends declared as data, for `--backends-file` — state-test
//! runners (`[[runner]]`) and programs speaking evmdiff's JSON-lines worker protocol
//! (`[[worker]]`). The workers evmdiff ships are entries of such a file too
//! (`adapters/workers/backends.toml`, built in), so a team's own EVM takes the same path.
//!
//! ```toml
//! [[runner]]
//! name = "spec-statetest"                      # the name used in --backends
//! command = [".external/eels/bin/ethereum-spec-evm", "statetest", "--json", "--nomemory"]
//! batch = true                                 # reads test-file paths on stdin (goevmlab style)
//! env = { PYTHONUNBUFFERED = "1" }
//! timeout_secs = 30
//!
//! [[worker]]
//! name = "my-prover"
//! command = ["./target/release/my-prover-worker"]
//! forks = ["Cancun"]                           # the forks it runs (default: every fork)
//! profiles = ["myrollup.toml"]                 # profiles it implements itself
//! ```
//!
//! A relative program path (one containing `/`) is resolved against the file's folder, which
//! is also a worker's working folder; so are profile files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use evmdiff_core::replay::Refund;
use evmdiff_core::{Capabilities, Fork, Profile};
use serde::Deserialize;

/// The workers that ship with evmdiff, as a backends file.
const SHIPPED: &str = include_str!("../../workers/backends.toml");

/// One runner.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerConfig {
    /// Backend name.
    pub name: String,
    /// What interface the program has: a state-test runner (the default) or a transition
    /// tool (`t8n`, geth's `evm t8n` interface), which runs blocks and so chains.
    #[serde(default)]
    pub kind: RunnerKind,
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
    /// The forks it runs (fork names, as in state tests); every fork when absent.
    #[serde(default)]
    pub forks: Option<Vec<String>>,
    /// Profiles it implements itself (built-in names or profile files): under one of them it
    /// gets the case unchanged, and its answer is compared with the others'.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// It prints EIP-3155 step lines on stderr (`--json`): read as its steps, to localize a
    /// divergence to its first differing instruction.
    #[serde(default)]
    pub steps: bool,
    /// How its step lines print the refund counter (`before`, geth's way; `after`, the
    /// execution spec's; `omitted`: not compared).
    #[serde(default)]
    pub refund: Refund,
    /// Folder the file was read from (relative programs resolve against it).
    #[serde(skip)]
    pub base: PathBuf,
    /// What `forks` and `profiles` say, checked.
    #[serde(skip)]
    pub declared: Declared,
}

/// The interface of a `[[runner]]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunnerKind {
    /// A state-test runner: a test file in, results on stdout and stderr.
    #[default]
    Statetest,
    /// A transition tool: alloc, env and transactions in, result and alloc out, per block.
    T8n,
}

/// One program speaking evmdiff's JSON-lines worker protocol (docs/backends.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerConfig {
    /// Backend name.
    pub name: String,
    /// One line for `--help`.
    #[serde(default)]
    pub description: String,
    /// The implementation's version, as findings record it (the worker's hello may announce
    /// its own).
    #[serde(default = "unknown")]
    pub version: String,
    /// Program and arguments; it runs in the file's folder.
    pub command: Vec<String>,
    /// Extra environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Longest wait for one answer, in seconds (default: `EVMDIFF_WORKER_TIMEOUT`, else 30).
    #[serde(default)]
    pub timeout_secs: Option<f64>,
    /// The worker is the executable specification: the reference when backends disagree.
    #[serde(default)]
    pub reference: bool,
    /// The forks it runs (fork names); every fork when absent.
    #[serde(default)]
    pub forks: Option<Vec<String>>,
    /// Profiles it implements itself (built-in names or profile files): under one of them it
    /// gets the case with no profile rules, and its answer is compared with the others'.
    #[serde(default)]
    pub profiles: Vec<String>,
    /// It streams its steps when a request asks for them (`"steps": true`, docs/protocol.md):
    /// a divergence with it is localized to its first differing instruction.
    #[serde(default)]
    pub steps: bool,
    /// It executes chains (docs/protocol.md, "The chain form"): every case that is not a
    /// state test of one transaction is sent to it in the chain form, and its hello must say
    /// `"chains": true`. Without it, it sits out every chain case.
    #[serde(default)]
    pub chains: bool,
    /// What its requests carry: the full pre-state (`state`, the default) or an execution
    /// witness (`witness`: only what the sequencer's execution read, with its trie proofs),
    /// for a prover EVM that executes statelessly.
    #[serde(default)]
    pub input: Input,
    /// It applies the profile rules a request carries (the default). `false` for a worker
    /// that runs mainnet and the `profiles` it declares only (the templates): under any other
    /// profile it sits out, said before the first case, instead of answering `unsupported`
    /// to every case.
    #[serde(default = "yes")]
    pub rules: bool,
    /// A file (relative to the backends file's folder) that exists once the worker's runtime
    /// is installed.
    #[serde(default)]
    pub requires: Option<String>,
    /// How to install the runtime, said when `requires` is missing.
    #[serde(default)]
    pub install: Option<String>,
    /// Folder the file was read from.
    #[serde(skip)]
    pub base: PathBuf,
    /// What `forks` and `profiles` say, checked.
    #[serde(skip)]
    pub declared: Declared,
}

/// What a worker's requests carry as the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Input {
    /// The whole pre-state (`test.pre`).
    #[default]
    State,
    /// An execution witness: `test.pre` holds only the accounts and slots revm's execution
    /// of the case read, and `witness` their trie proofs against the pre-state root
    /// (docs/protocol.md, "The witness form").
    Witness,
}

/// The forks and native profiles a backend declares, checked when the file is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    /// The forks it runs.
    pub forks: Vec<Fork>,
    /// The profiles it implements itself.
    pub native: Vec<Profile>,
    /// It reports its steps (recorded, replayed after it finished: [`evmdiff_core::replay`]).
    pub steps: bool,
    /// It executes chains (a worker declared `chains = true`; never a state-test runner).
    pub chains: bool,
}

impl Declared {
    /// Reads `forks` and `profiles` of backend `name`, profile files relative to `base`.
    fn read(
        name: &str,
        forks: &Option<Vec<String>>,
        profiles: &[String],
        steps: bool,
        base: &Path,
    ) -> Result<Declared, String> {
        let forks = match forks {
            None => Fork::ALL.to_vec(),
            Some(list) => list
                .iter()
                .map(|f| {
                    f.parse::<Fork>()
                        .map_err(|e| format!("backend `{name}`: `forks`: {e}"))
                })
                .collect::<Result<_, _>>()?,
        };
        let native = profiles
            .iter()
            .map(|p| {
                let path = base.join(p);
                let arg = if evmdiff_core::profile::builtin(p).is_none() && path.exists() {
                    path.display().to_string()
                } else {
                    p.clone()
                };
                Profile::load(&arg).map_err(|e| format!("backend `{name}`: `profiles`: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Declared {
            forks,
            native,
            steps,
            chains: false,
        })
    }

    /// The native profile `profile` is, if it is one (same content, wherever it was loaded
    /// from).
    pub fn native(&self, profile: &Profile) -> Option<&Profile> {
        // Asked on every case: nothing to hash for the many backends that declare none.
        if self.native.is_empty() {
            return None;
        }
        let id = profile.content_id();
        self.native.iter().find(|p| p.content_id() == id)
    }
}

impl Declared {
    /// The capabilities of an external backend that declares these forks and native
    /// profiles: outcomes, and steps if it declares them (recorded, so they localize a
    /// divergence but are not hashed on every case), no pre-state reads, out of process,
    /// applying profiles as `rules` says.
    pub fn capabilities(&self, rules: fn(&Profile) -> Option<String>) -> Capabilities {
        Capabilities {
            forks: self.forks.clone(),
            native: self.native.iter().map(Profile::content_id).collect(),
            steps: self.steps,
            reads: false,
            in_process: false,
            rules,
            chains: self.chains,
        }
    }
}

fn default_timeout() -> f64 {
    30.0
}

fn yes() -> bool {
    true
}

fn unknown() -> String {
    "unknown".into()
}

/// A backend name: letters, digits, `-` or `_`.
fn check_name(kind: &str, name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "{kind} name `{name}` must be letters, digits, `-` or `_`"
        ));
    }
    Ok(())
}

/// A program path: relative ones containing `/` resolve against `base`.
fn resolve(base: &Path, program: &str) -> PathBuf {
    let p = Path::new(program);
    if p.is_relative() && program.contains('/') {
        base.join(p)
    } else {
        p.to_path_buf()
    }
}

impl RunnerConfig {
    /// The program, resolved.
    pub fn program(&self) -> PathBuf {
        resolve(&self.base, &self.command[0])
    }

    /// Checks that a program given by path exists and makes the private temporary folder
    /// the runner writes its inputs into (`evmdiff-<prefix>-...`); `what` names the program
    /// in the error (`runner`, `t8n`).
    pub fn workspace(&self, what: &str, prefix: &str) -> Result<tempfile::TempDir, String> {
        let program = self.program();
        if program.components().count() > 1 && !program.exists() {
            return Err(format!(
                "backend `{}`: {what} program {} does not exist",
                self.name,
                program.display()
            ));
        }
        tempfile::Builder::new()
            .prefix(&format!("evmdiff-{prefix}-"))
            .tempdir()
            .map_err(|e| {
                format!(
                    "backend `{}`: cannot make a temporary folder: {e}",
                    self.name
                )
            })
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
    /// The workers, in file order.
    #[serde(default)]
    pub worker: Vec<WorkerConfig>,
}

impl WorkerConfig {
    /// The program, resolved.
    pub fn program(&self) -> PathBuf {
        resolve(&self.base, &self.command[0])
    }

    /// The timeout: the declared one, else `EVMDIFF_WORKER_TIMEOUT`, else 30 s.
    pub fn timeout(&self) -> Duration {
        self.timeout_secs
            .map(Duration::from_secs_f64)
            .unwrap_or_else(super::known::timeout)
    }
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
        // `backends.toml` has the parent "", which no process can run in: the current folder,
        // made absolute so that a worker's working folder does not depend on evmdiff's.
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let base = parent
            .canonicalize()
            .unwrap_or_else(|_| parent.to_path_buf());
        Self::parse(&text, base).map_err(err)
    }

    /// Parses the text of a backends file whose relative paths resolve against `base`.
    pub fn parse(text: &str, base: PathBuf) -> Result<BackendsFile, String> {
        let mut file: BackendsFile = toml::from_str(text).map_err(|e| {
            let msg = e.message().to_string();
            match e.span() {
                Some(span) => {
                    // 1-based: the newlines before the span, plus one.
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: {msg}")
                }
                None => msg,
            }
        })?;
        let mut seen = std::collections::BTreeSet::new();
        for w in &mut file.worker {
            check_name("worker", &w.name)?;
            if !seen.insert(w.name.clone()) {
                return Err(format!("backend `{}` is declared twice", w.name));
            }
            if w.command.is_empty() {
                return Err(format!("worker `{}` has an empty `command`", w.name));
            }
            if w.timeout_secs.is_some_and(|t| t.is_nan() || t <= 0.0) {
                return Err(format!(
                    "worker `{}`: `timeout_secs` must be positive",
                    w.name
                ));
            }
            w.declared = Declared::read(&w.name, &w.forks, &w.profiles, w.steps, &base)?;
            w.declared.chains = w.chains;
            w.base = base.clone();
        }
        for r in &mut file.runner {
            check_name("runner", &r.name)?;
            if !seen.insert(r.name.clone()) {
                return Err(format!("backend `{}` is declared twice", r.name));
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
            r.declared = Declared::read(&r.name, &r.forks, &r.profiles, r.steps, &base)?;
            r.base = base.clone();
        }
        Ok(file)
    }

    /// The workers that ship with evmdiff (`adapters/workers/backends.toml`), their paths
    /// relative to the evmdiff checkout ([`home`](super::home)).
    pub fn shipped() -> BackendsFile {
        BackendsFile::parse(SHIPPED, super::home()).expect("the shipped backends file parses")
    }

    /// The worker called `name`.
    pub fn find_worker(&self, name: &str) -> Option<&WorkerConfig> {
        self.worker.iter().find(|w| w.name == name)
    }

    /// Every backend name it declares: workers, then runners.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.worker
            .iter()
            .map(|w| w.name.as_str())
            .chain(self.runner.iter().map(|r| r.name.as_str()))
    }

    /// True when `name` is declared as the reference.
    pub fn is_reference(&self, name: &str) -> bool {
        self.find(name).is_some_and(|r| r.reference)
            || self.find_worker(name).is_some_and(|w| w.reference)
    }

    /// The runner called `name`.
    pub fn find(&self, name: &str) -> Option<&RunnerConfig> {
        self.runner.iter().find(|r| r.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<BackendsFile, String> {
        BackendsFile::parse(text, PathBuf::from("/nowhere"))
    }

    #[test]
    fn a_worker_declares_its_forks_and_native_profiles() {
        let f = parse(
            "[[worker]]\nname = \"mine\"\ncommand = [\"./w\", \"--fast\"]\nforks = [\"Cancun\", \"Prague\"]\nprofiles = [\"scroll\"]\ntimeout_secs = 5\n",
        )
        .unwrap();
        let w = f.find_worker("mine").unwrap();
        assert_eq!(w.declared.forks, vec![Fork::Cancun, Fork::Prague]);
        let scroll = Profile::load("scroll").unwrap();
        assert!(w.declared.native(&scroll).is_some());
        assert!(
            w.declared
                .native(&Profile::load("linea").unwrap())
                .is_none()
        );
        assert_eq!(w.program(), PathBuf::from("/nowhere/w"));
        assert_eq!(w.timeout(), Duration::from_secs(5));
        assert_eq!(f.names().collect::<Vec<_>>(), vec!["mine"]);
    }

    #[test]
    fn bad_declarations_say_which_backend_and_what() {
        let cases = [
            (
                "[[worker]]\nname = \"w\"\ncommand = [\"x\"]\nbatch = true\n",
                "line 4: unknown field `batch`",
            ),
            (
                "[[worker]]\nname = \"w\"\ncommand = [\"x\"]\nforks = [\"Shanghai2\"]\n",
                "backend `w`: `forks`: unknown fork `Shanghai2`",
            ),
            (
                "[[worker]]\nname = \"w\"\ncommand = [\"x\"]\nprofiles = [\"nosuch\"]\n",
                "backend `w`: `profiles`: unknown profile `nosuch`",
            ),
            (
                "[[worker]]\nname = \"w\"\ncommand = []\n",
                "worker `w` has an empty `command`",
            ),
            (
                "[[worker]]\nname = \"w\"\ncommand = [\"x\"]\n[[runner]]\nname = \"w\"\ncommand = [\"y\"]\n",
                "backend `w` is declared twice",
            ),
            (
                "[[worker]]\nname = \"w w\"\ncommand = [\"x\"]\n",
                "worker name `w w`",
            ),
        ];
        for (text, expected) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    #[test]
    fn the_shipped_workers_are_entries_of_the_shipped_file() {
        let f = BackendsFile::shipped();
        assert_eq!(
            f.names().collect::<Vec<_>>(),
            vec!["eels", "ethereumjs", "pyevm"]
        );
        assert!(f.is_reference("eels") && !f.is_reference("pyevm"));
        let pyevm = f.find_worker("pyevm").unwrap();
        assert!(!pyevm.declared.forks.contains(&Fork::Osaka));
        assert!(f.find_worker("eels").unwrap().install.is_some());
    }
}
