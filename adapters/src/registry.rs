//! The backend registry: one table from which the backend names, their constructors, the
//! default set, `--help` and the conformance suite all derive. In-process backends are rows
//! of [`IN_PROCESS`]; external ones — workers speaking the JSON-lines protocol and state-test
//! runners — are entries of backends files: the one evmdiff ships
//! ([`BackendsFile::shipped`]: `eels`, `ethereumjs`, `pyevm`) and a user's own. A team's own Rust EVM (a revm fork, a zkVM's executor) is one
//! more [`Entry`], added from its own crate with [`Registry::with`] — no fork of evmdiff.

use evmdiff_core::Backend;

use crate::worker::{BackendsFile, RunnerKind, StateTestRunner, T8nRunner, WorkerConfig};
use crate::{evm_backend, levm_backend, revm_backend};

/// One in-process backend.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// Its name on the command line.
    pub name: &'static str,
    /// One line for `--help`: the implementation and its version.
    pub description: &'static str,
    /// A fresh instance (a campaign makes one per worker thread).
    pub make: fn() -> Box<dyn Backend>,
    /// Whether it is in the default `--backends` set.
    pub default: bool,
}

/// The in-process backends of this build, in the default order.
pub const IN_PROCESS: &[Entry] = &[
    Entry {
        name: "revm",
        description: concat!("revm ", env!("EVMDIFF_VERSION_REVM"), " (in process)"),
        make: || Box::new(revm_backend::RevmBackend::default()),
        default: true,
    },
    Entry {
        name: "evm",
        description: concat!(
            "rust-ethereum evm ",
            env!("EVMDIFF_VERSION_EVM"),
            " (in process)"
        ),
        make: || Box::new(evm_backend::EvmBackend::default()),
        default: true,
    },
    Entry {
        name: "levm",
        description: concat!(
            "ethrex-levm ",
            env!("EVMDIFF_VERSION_ETHREX_LEVM"),
            " (in process, Paris and later; the EVM ethrex proves)"
        ),
        make: || Box::new(levm_backend::LevmBackend::default()),
        default: true,
    },
];

/// Every backend evmdiff can make: the in-process entries, the shipped workers and the
/// runners of a backends file.
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Vec<Entry>,
    /// A user's backends file (`--backends-file`): looked up before the shipped one.
    user: BackendsFile,
    /// The backends file evmdiff ships.
    shipped: BackendsFile,
}

impl Default for Registry {
    fn default() -> Registry {
        Registry::builtin()
    }
}

impl Registry {
    /// The backends of this build and the shipped workers.
    pub fn builtin() -> Registry {
        Registry {
            entries: IN_PROCESS.to_vec(),
            user: BackendsFile::default(),
            shipped: BackendsFile::shipped(),
        }
    }

    /// This registry with one more in-process backend (a team's own EVM crate); an entry
    /// with an existing name replaces it.
    pub fn with(mut self, entry: Entry) -> Registry {
        self.entries.retain(|e| e.name != entry.name);
        self.entries.push(entry);
        self
    }

    /// This registry with the runners and workers of a user's backends file (a name there
    /// takes precedence over a shipped worker of the same name).
    pub fn with_runners(mut self, file: BackendsFile) -> Registry {
        self.user = file;
        self
    }

    /// The worker called `name`: the user's, else a shipped one.
    pub fn worker(&self, name: &str) -> Option<&WorkerConfig> {
        self.user
            .find_worker(name)
            .or_else(|| self.shipped.find_worker(name))
    }

    /// The in-process entries.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The default `--backends` list.
    pub fn default_list(&self) -> String {
        self.entries
            .iter()
            .filter(|e| e.default)
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// A fresh instance of the backend called `name`. The error says which names exist, or
    /// what is missing and how to install it.
    pub fn make(&self, name: &str) -> Result<Box<dyn Backend>, String> {
        if let Some(e) = self.entries.iter().find(|e| e.name == name) {
            return Ok((e.make)());
        }
        if let Some(r) = self.user.find(name) {
            return match r.kind {
                RunnerKind::Statetest => {
                    StateTestRunner::new(r).map(|b| Box::new(b) as Box<dyn Backend>)
                }
                RunnerKind::T8n => T8nRunner::new(r).map(|b| Box::new(b) as Box<dyn Backend>),
            };
        }
        if let Some(w) = self.worker(name) {
            w.check_installed()?;
            return Ok(Box::new(w.backend()));
        }
        if let Some(bug) = name.strip_prefix(revm_backend::PLANTED_PREFIX) {
            return match revm_backend::Planted::from_name(bug) {
                Some(bug) => Ok(Box::new(revm_backend::RevmBackend::with_planted(bug))),
                None => Err(format!(
                    "unknown planted bug `{bug}` in backend `{name}` (`evmdiff planted --list` names them)"
                )),
            };
        }
        Err(format!(
            "unknown backend `{name}` (available: {}; and revm+<bug> for revm with a bug \
             planted, `evmdiff planted --list`)",
            self.names().join(", ")
        ))
    }

    /// Every backend name: in-process, the shipped workers, then the user's backends.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.entries.iter().map(|e| e.name.to_string()).collect();
        for n in self.shipped.names().chain(self.user.names()) {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
            }
        }
        names
    }

    /// True when `name` is the executable specification (a shipped worker or a runner marked
    /// `reference`): the side evmdiff reports as right when backends disagree.
    pub fn is_reference(&self, name: &str) -> bool {
        self.user.is_reference(name)
            || (self.user.find(name).is_none()
                && self.user.find_worker(name).is_none()
                && self.shipped.is_reference(name))
    }

    /// The backends for `--help`, one per line.
    pub fn help(&self) -> String {
        let mut lines: Vec<String> = self
            .entries
            .iter()
            .map(|e| {
                let default = if e.default { ", default" } else { "" };
                format!("  {:<11} {}{default}", e.name, e.description)
            })
            .collect();
        for w in self.shipped.worker.iter().chain(&self.user.worker) {
            let after = w
                .install
                .as_deref()
                .map_or(String::new(), |i| format!(", after `{i}`"));
            lines.push(format!(
                "  {:<11} {} (worker{after})",
                w.name, w.description
            ));
        }
        for r in &self.user.runner {
            lines.push(format!(
                "  {:<11} state-test runner `{}`",
                r.name,
                r.command.join(" ")
            ));
        }
        lines.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_constructors_and_versions_agree() {
        let r = Registry::builtin();
        for e in r.entries() {
            let b = r.make(e.name).unwrap();
            assert_eq!(b.name(), e.name);
            assert!(
                e.description.contains(b.version()),
                "{}: {}",
                e.name,
                b.version()
            );
            assert_ne!(b.version(), "unknown");
        }
        assert_eq!(r.default_list(), "revm,evm,levm");
        let e = r.make("geth").err().unwrap();
        assert!(
            e.contains("unknown backend `geth`") && e.contains("eels"),
            "{e}"
        );
    }

    #[test]
    fn a_teams_own_backend_is_one_more_row() {
        let own = Entry {
            name: "my-revm",
            description: "a revm fork",
            make: || Box::new(revm_backend::RevmBackend::default()),
            default: false,
        };
        let r = Registry::builtin().with(own);
        assert!(r.make("my-revm").is_ok());
        assert!(r.names().contains(&"my-revm".to_string()));
        assert_eq!(r.default_list(), "revm,evm,levm");
    }
}
