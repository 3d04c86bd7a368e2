//! One external process behind pipes: started on first use, read line by line with a
//! deadline, and restarted after it crashes or overruns its timeout.
//!
//! stdout is read on a thread of its own that forwards lines over a channel, so that a worker
//! that stops answering costs a `recv_timeout`, not a hung fuzzer thread. stderr is drained on
//! another thread into a bounded tail (a Python traceback or a Node stack), which becomes part
//! of the finding when the process dies or times out. Dropping a [`Process`] kills its child.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, bounded, unbounded};
use evmdiff_core::BackendError;

/// How many stderr lines are kept for a finding.
const STDERR_TAIL: usize = 40;

/// How to start the process.
#[derive(Debug, Clone)]
pub struct ProcessSpec {
    /// The program.
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment (e.g. `PYTHONUNBUFFERED=1`, without which a Python child's answers sit
    /// in its stdout buffer and the driver waits for ever).
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Longest wait for one answer (or for the hello line) before the process is killed.
    pub timeout: Duration,
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// The program could not be started.
    #[error("cannot start `{program}`: {error}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        error: String,
    },
    /// The process exited (or closed its stdout) before answering.
    #[error("worker exited ({status}) before answering; last stderr:\n{stderr}")]
    Exited {
        /// Exit status, as the OS reports it.
        status: String,
        /// The last lines of its stderr.
        stderr: String,
    },
    /// The process did not answer within the timeout and was killed.
    #[error("worker gave no answer within {timeout:?} and was killed; last stderr:\n{stderr}")]
    Timeout {
        /// The timeout.
        timeout: Duration,
        /// The last lines of its stderr.
        stderr: String,
    },
}

/// A running child.
struct Running {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

/// An external process, (re)started on demand.
pub struct Process {
    spec: ProcessSpec,
    running: Option<Running>,
    /// Times the process was started (1 after the first start).
    pub starts: u64,
    /// Whether stderr lines are forwarded to [`Process::recv_stderr_until`], for runners that
    /// write their results there.
    capture_stderr: bool,
    stderr_lines: Option<Receiver<String>>,
}

impl Process {
    /// A process that will be started by the first [`send`](Process::send).
    pub fn new(spec: ProcessSpec) -> Process {
        Process {
            spec,
            running: None,
            starts: 0,
            capture_stderr: false,
            stderr_lines: None,
        }
    }

    /// Also forwards every stderr line to [`recv_stderr_line`](Process::recv_stderr_line)
    /// (state-test runners write their traces and summaries there).
    pub fn with_stderr_lines(mut self) -> Process {
        self.capture_stderr = true;
        self
    }

    /// The spec it runs.
    pub fn spec(&self) -> &ProcessSpec {
        &self.spec
    }

    /// Starts the child if it is not running. Returns `true` when it was (re)started now.
    pub fn ensure_started(&mut self) -> Result<bool, ProcessError> {
        if let Some(r) = &mut self.running
            && matches!(r.child.try_wait(), Ok(None))
        {
            return Ok(false);
        }
        self.kill();
        let mut cmd = Command::new(&self.spec.program);
        cmd.args(&self.spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.spec.env {
            cmd.env(k, v);
        }
        if let Some(d) = &self.spec.cwd {
            cmd.current_dir(d);
        }
        let mut child = cmd.spawn().map_err(|e| ProcessError::Spawn {
            program: self.spec.program.display().to_string(),
            error: e.to_string(),
        })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr_pipe = child.stderr.take().expect("piped stderr");
        let (tx, lines) = bounded::<String>(1024);
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
        let tail = Arc::clone(&stderr);
        let forward = if self.capture_stderr {
            let (etx, erx) = unbounded::<String>();
            self.stderr_lines = Some(erx);
            Some(etx)
        } else {
            None
        };
        thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                if let Some(f) = &forward {
                    // A runner's trace lines go to whoever reads them; the tail keeps only
                    // what is not protocol.
                    let _ = f.send(line.clone());
                }
                let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                if t.len() == STDERR_TAIL {
                    t.pop_front();
                }
                t.push_back(line);
            }
        });
        self.running = Some(Running {
            child,
            stdin,
            lines,
            stderr,
        });
        self.starts += 1;
        Ok(true)
    }

    /// Writes one line (a newline is added) to the child's stdin, starting the child first if
    /// needed.
    pub fn send(&mut self, line: &str) -> Result<(), ProcessError> {
        self.ensure_started()?;
        let r = self.running.as_mut().expect("started");
        let ok = r
            .stdin
            .write_all(line.as_bytes())
            .and_then(|_| r.stdin.write_all(b"\n"))
            .and_then(|_| r.stdin.flush());
        if ok.is_err() {
            return Err(self.exited());
        }
        Ok(())
    }

    /// The next stdout line, waiting at most the spec's timeout (from now).
    pub fn recv(&mut self) -> Result<String, ProcessError> {
        let deadline = Instant::now() + self.spec.timeout;
        self.recv_until(deadline)
    }

    /// The next stdout line, waiting until `deadline`.
    pub fn recv_until(&mut self, deadline: Instant) -> Result<String, ProcessError> {
        let Some(r) = &self.running else {
            return Err(self.exited());
        };
        match r.lines.recv_deadline(deadline) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(self.timed_out()),
            Err(RecvTimeoutError::Disconnected) => Err(self.exited()),
        }
    }

    /// The next stderr line (only with [`with_stderr_lines`](Process::with_stderr_lines)),
    /// waiting until `deadline`.
    pub fn recv_stderr_until(&mut self, deadline: Instant) -> Result<String, ProcessError> {
        let Some(rx) = &self.stderr_lines else {
            return Err(self.exited());
        };
        match rx.recv_deadline(deadline) {
            Ok(line) => Ok(line),
            Err(RecvTimeoutError::Timeout) => Err(self.timed_out()),
            Err(RecvTimeoutError::Disconnected) => Err(self.exited()),
        }
    }

    /// Discards stderr lines already read but not consumed (after a restart or a bad answer).
    pub fn drain_stderr_lines(&mut self) {
        if let Some(rx) = &self.stderr_lines {
            while rx.try_recv().is_ok() {}
        }
    }

    /// The last stderr lines, joined.
    pub fn stderr_tail(&self) -> String {
        match &self.running {
            Some(r) => {
                let t = r.stderr.lock().unwrap_or_else(|e| e.into_inner());
                t.iter().cloned().collect::<Vec<_>>().join("\n")
            }
            None => String::new(),
        }
    }

    /// Kills the child (it is restarted by the next request).
    pub fn kill(&mut self) {
        if let Some(mut r) = self.running.take() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
        self.stderr_lines = None;
    }

    fn timed_out(&mut self) -> ProcessError {
        // Ask the child to stop first (SIGINT): an interpreter then prints where it was (Python
        // a traceback), which is what the finding needs; a silent one is killed after 500 ms.
        if let Some(r) = &mut self.running {
            let interrupted = std::process::Command::new("kill")
                .args(["-INT", &r.child.id().to_string()])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            let deadline = Instant::now() + Duration::from_millis(500);
            while interrupted && Instant::now() < deadline {
                if matches!(r.child.try_wait(), Ok(Some(_))) {
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
        }
        // Give the stderr thread a moment to collect what the child said.
        thread::sleep(Duration::from_millis(50));
        let stderr = self.stderr_tail();
        self.kill();
        ProcessError::Timeout {
            timeout: self.spec.timeout,
            stderr,
        }
    }

    fn exited(&mut self) -> ProcessError {
        let status = match &mut self.running {
            Some(r) => {
                // The stdout reader ends slightly before the child is reaped.
                let deadline = Instant::now() + Duration::from_millis(500);
                loop {
                    match r.child.try_wait() {
                        Ok(Some(s)) => break s.to_string(),
                        Ok(None) if Instant::now() < deadline => {
                            thread::sleep(Duration::from_millis(5))
                        }
                        Ok(None) => break "stdout closed".to_string(),
                        Err(e) => break e.to_string(),
                    }
                }
            }
            None => "not running".to_string(),
        };
        thread::sleep(Duration::from_millis(20));
        let stderr = self.stderr_tail();
        self.kill();
        ProcessError::Exited { status, stderr }
    }
}

impl From<ProcessError> for BackendError {
    /// A worker over its timeout gave no answer (a hang finding); any other failure is a
    /// crash.
    fn from(e: ProcessError) -> BackendError {
        match e {
            ProcessError::Timeout { .. } => BackendError::Timeout(e.to_string()),
            other => BackendError::Failed(other.to_string()),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}
