//! The backend registry: one table from which the backend names, their constructors, the
//! default set, `--help` and the conformance suite all derive. In-process backends are rows
//! of [`IN_PROCESS`]; the shipped external workers are rows of [`KNOWN`]; state-test runners
//! come from a backends file. A team's own Rust EVM (a revm fork, a zkVM's executor) is one
//! more [`Entry`], added from its own crate with [`Registry::with`] — no fork of evmdiff.

use evmdiff_core::Backend;

use crate::worker::{BackendsFile, KNOWN, Known, StateTestRunner};
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
    runners: BackendsFile,
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
            runners: BackendsFile::default(),
        }
    }

    /// This registry with one more in-process backend (a team's own EVM crate); an entry
    /// with an existing name replaces it.
    pub fn with(mut self, entry: Entry) -> Registry {
        self.entries.retain(|e| e.name != entry.name);
        self.entries.push(entry);
        self
    }

    /// This registry with the runners of a backends file.
    pub fn with_runners(mut self, runners: BackendsFile) -> Registry {
        self.runners = runners;
        self
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
        if let Some(r) = self.runners.find(name) {
            return StateTestRunner::new(r).map(|b| Box::new(b) as Box<dyn Backend>);
        }
        if let Some(k) = Known::find(name) {
            k.check_installed()?;
            return Ok(Box::new(k.backend()));
        }
        Err(format!(
            "unknown backend `{name}` (available: {})",
            self.names().join(", ")
        ))
    }

    /// Every backend name: in-process, external workers, then the runners.
    pub fn names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| e.name.to_string())
            .chain(KNOWN.iter().map(|k| k.name.to_string()))
            .chain(self.runners.runner.iter().map(|r| r.name.clone()))
            .collect()
    }

    /// True when `name` is the executable specification (a shipped worker or a runner marked
    /// `reference`): the side evmdiff reports as right when backends disagree.
    pub fn is_reference(&self, name: &str) -> bool {
        Known::find(name).is_some_and(|k| k.reference)
            || self.runners.find(name).is_some_and(|r| r.reference)
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
        for k in KNOWN {
            lines.push(format!(
                "  {:<11} {} (worker, after `scripts/setup-external.sh {}`)",
                k.name, k.description, k.name
            ));
        }
        for r in &self.runners.runner {
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
