//! Where external workers live and how to start them: the evmdiff checkout (`EVMDIFF_HOME`)
//! that holds the shipped worker scripts and the runtimes `scripts/setup-external.sh`
//! installs into `.external/`, the default timeout, and — for any worker declared in a
//! backends file — what is missing before it can start and the process that runs it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::config::{Input, WorkerConfig};
use super::intern;
use super::json_worker::JsonWorker;
use super::process::ProcessSpec;

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

impl WorkerConfig {
    /// Why the worker cannot start here, if it cannot: its runtime is not installed (the
    /// `requires` file is missing; the message names the install command) or its program is
    /// not found.
    pub fn check_installed(&self) -> Result<(), String> {
        if let Some(req) = &self.requires
            && !self.base.join(req).exists()
        {
            let how = self.install.as_deref().map_or(String::new(), |i| {
                format!(": run `{i}` in {}", self.base.display())
            });
            return Err(format!(
                "backend `{}` needs {}, which is not installed{how}",
                self.name,
                if self.description.is_empty() {
                    req.as_str()
                } else {
                    self.description.as_str()
                },
            ));
        }
        let program = &self.command[0];
        let found = if program.contains('/') {
            self.program().is_file()
        } else {
            which(program).is_some()
        };
        if !found {
            let hint = if program == "node" {
                " (Node.js >= 20: Debian `apt-get install nodejs npm`)"
            } else {
                ""
            };
            return Err(format!(
                "backend `{}`: program `{}` not found{hint}",
                self.name,
                self.program().display()
            ));
        }
        Ok(())
    }

    /// The process that runs this worker: its command in the backends file's folder.
    pub fn spec(&self) -> ProcessSpec {
        ProcessSpec {
            program: self.program(),
            args: self.command[1..].to_vec(),
            env: self
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            cwd: Some(self.base.clone()),
            timeout: self.timeout(),
        }
    }

    /// A fresh backend instance (the process starts on its first case).
    pub fn backend(&self) -> JsonWorker {
        self.backend_with(self.spec())
    }

    /// Its worker, started with `spec` (another timeout, say) instead of [`WorkerConfig::spec`].
    pub fn backend_with(&self, spec: ProcessSpec) -> JsonWorker {
        let worker = JsonWorker::new(
            intern(&self.name),
            intern(&self.version),
            self.declared.clone(),
            spec,
        );
        let worker = if self.rules {
            worker
        } else {
            worker.without_rules()
        };
        match self.input {
            Input::State => worker,
            Input::Witness => worker.stateless(),
        }
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}
