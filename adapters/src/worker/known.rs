//! The external workers shipped with evmdiff: their scripts under `adapters/workers/`, the
//! runtimes `scripts/setup-external.sh` installs into `.external/`, and how to say what is
//! missing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use evmdiff_core::Fork;

use super::json_worker::JsonWorker;
use super::process::ProcessSpec;

/// One shipped worker.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// Backend name on the command line.
    pub name: &'static str,
    /// The pinned implementation version (what the setup script installs).
    pub version: &'static str,
    /// What it is, for `--help` and reports.
    pub description: &'static str,
    /// The interpreter, relative to the evmdiff home (or a program on `PATH`).
    pub program: &'static str,
    /// The worker script, relative to the evmdiff home.
    pub script: &'static str,
    /// A file that exists once the runtime is installed, relative to the evmdiff home.
    pub installed: &'static str,
    /// The implementation is the executable specification: the reference when backends
    /// disagree.
    pub reference: bool,
    /// The forks its implementation does not run (every other one it does).
    pub lacks: &'static [Fork],
}

/// Every shipped worker.
pub const KNOWN: &[Known] = &[
    Known {
        name: "eels",
        version: "2.20.0",
        description: "the Python execution specification (ethereum-execution 2.20.0)",
        program: ".external/eels/bin/python",
        script: "adapters/workers/eels_worker.py",
        installed: ".external/eels/bin/python",
        reference: true,
        lacks: &[Fork::Constantinople],
    },
    Known {
        name: "ethereumjs",
        version: "10.1.3",
        description: "ethereumjs (@ethereumjs/vm 10.1.3, Node)",
        program: "node",
        script: "adapters/workers/ethereumjs/worker.mjs",
        installed: "adapters/workers/ethereumjs/node_modules/@ethereumjs/vm/package.json",
        reference: false,
        lacks: &[],
    },
    Known {
        name: "pyevm",
        version: "0.12.1b1",
        description: "py-evm 0.12.1b1 (Python, Frontier to Prague)",
        program: ".external/pyevm/bin/python",
        script: "adapters/workers/pyevm_worker.py",
        installed: ".external/pyevm/bin/python",
        reference: false,
        lacks: &[Fork::Osaka],
    },
];

/// The folder holding `adapters/workers/` and `.external/`: `EVMDIFF_HOME` when set, else the
/// checkout this binary was built from.
pub fn home() -> PathBuf {
    std::env::var_os("EVMDIFF_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let adapters = Path::new(env!("CARGO_MANIFEST_DIR"));
            adapters.parent().unwrap_or(adapters).to_path_buf()
        })
}

/// The per-answer timeout: `EVMDIFF_WORKER_TIMEOUT` seconds, else 30 s (below the campaign's
/// default hang budget, so that a stuck worker is a finding with its stderr, not a hang).
pub fn timeout() -> Duration {
    std::env::var("EVMDIFF_WORKER_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map_or(Duration::from_secs(30), Duration::from_secs_f64)
}

impl Known {
    /// The shipped worker called `name`.
    pub fn find(name: &str) -> Option<&'static Known> {
        KNOWN.iter().find(|k| k.name == name)
    }

    /// `Err` with the command that installs the runtime, when it is missing.
    pub fn check_installed(&self) -> Result<(), String> {
        let home = home();
        if !home.join(self.script).exists() {
            return Err(format!(
                "backend `{}`: worker script {} not found (set EVMDIFF_HOME to the evmdiff checkout)",
                self.name,
                home.join(self.script).display()
            ));
        }
        if !home.join(self.installed).exists() {
            return Err(format!(
                "backend `{}` needs {}, which is not installed: run `scripts/setup-external.sh {}` in {}",
                self.name,
                self.description,
                self.name,
                home.display()
            ));
        }
        if self.program == "node" && which("node").is_none() {
            return Err(format!(
                "backend `{}` needs Node.js (>= 20) on PATH: install it (Debian: `apt-get install nodejs npm`), then run `scripts/setup-external.sh {}`",
                self.name, self.name
            ));
        }
        Ok(())
    }

    /// The process that runs this worker.
    pub fn spec(&self) -> ProcessSpec {
        let home = home();
        let program = if self.program.contains('/') {
            home.join(self.program)
        } else {
            PathBuf::from(self.program)
        };
        ProcessSpec {
            program,
            args: vec![home.join(self.script).display().to_string()],
            env: vec![("PYTHONUNBUFFERED".into(), "1".into())],
            cwd: Some(home),
            timeout: timeout(),
        }
    }

    /// A fresh backend instance (the process starts on its first case).
    pub fn backend(&self) -> JsonWorker {
        self.backend_with(self.spec())
    }

    /// Its worker, started with `spec` (another timeout, say) instead of [`Known::spec`].
    pub fn backend_with(&self, spec: ProcessSpec) -> JsonWorker {
        let forks = Fork::ALL
            .into_iter()
            .filter(|f| !self.lacks.contains(f))
            .collect();
        JsonWorker::new(self.name, self.version, forks, spec)
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
