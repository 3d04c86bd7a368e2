//! One external process behind pipes: started on first use, read line by line with a
//! deadline, and restarted after it crashes or overruns its timeout.
//!
//! stdout is read in the calling thread: `poll(2)` waits for it to become readable until the
//! deadline, so that a worker that stops answering costs a timeout, not a hung fuzzer thread,
//! and an answer costs no thread hop (a reader thread forwarding lines over a channel took a
//! third wake-up per round trip: docs/performance.md). The search for the end of a line looks
//! only at bytes not searched before, so that a chain's answer of many megabytes costs one pass
//! over it, not one pass per read. stderr is drained on a thread of its own into a bounded tail
//! (a Python traceback or a Node stack), which becomes part of the finding when the process
//! dies or times out. Dropping a [`Process`] kills its child.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, unbounded};
use evmdiff_core::BackendError;
use rustix::event::{PollFd, PollFlags, Timespec, poll};

/// How many stderr lines are kept for a finding.
const STDERR_TAIL: usize = 40;

/// How many bytes one read of stdout asks for.
const READ_CHUNK: usize = 64 * 1024;

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
    stdout: Lines,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

/// A child's stdout, split into lines in the calling thread.
struct Lines {
    stdout: ChildStdout,
    /// Bytes read but not yet returned as a line.
    pending: Vec<u8>,
    /// How much of `pending` is known to hold no newline.
    searched: usize,
}

/// How a wait for a stdout line ended without one.
enum NoLine {
    Timeout,
    Closed,
}

impl Lines {
    fn new(stdout: ChildStdout) -> Lines {
        Lines {
            stdout,
            pending: Vec::new(),
            searched: 0,
        }
    }

    /// The next line (without its newline), reading until `deadline`.
    fn next(&mut self, deadline: Instant) -> Result<String, NoLine> {
        loop {
            if let Some(i) = self.pending[self.searched..]
                .iter()
                .position(|b| *b == b'\n')
            {
                let end = self.searched + i;
                let rest = self.pending.split_off(end + 1);
                let mut line = std::mem::replace(&mut self.pending, rest);
                self.searched = 0;
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8(line)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()));
            }
            self.searched = self.pending.len();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(NoLine::Timeout);
            }
            let timeout = Timespec::try_from(left).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            });
            let mut fds = [PollFd::new(&self.stdout, PollFlags::IN)];
            match poll(&mut fds, Some(&timeout)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(e) if e == rustix::io::Errno::INTR => continue,
                Err(_) => return Err(NoLine::Closed),
            }
            // Readable (or closed): this read returns what is there without blocking.
            let had = self.pending.len();
            self.pending.resize(had + READ_CHUNK, 0);
            let read = self.stdout.read(&mut self.pending[had..]);
            self.pending.truncate(had + *read.as_ref().unwrap_or(&0));
            match read {
                Ok(0) => return Err(NoLine::Closed),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(NoLine::Closed),
            }
        }
    }
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
            stdout: Lines::new(stdout),
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
        let Some(r) = &mut self.running else {
            return Err(self.exited());
        };
        match r.stdout.next(deadline) {
            Ok(line) => Ok(line),
            Err(NoLine::Timeout) => Err(self.timed_out()),
            Err(NoLine::Closed) => Err(self.exited()),
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
                // stdout closes slightly before the child is reaped.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn python(script: &str) -> Process {
        Process::new(ProcessSpec {
            program: "python3".into(),
            args: vec!["-c".into(), script.into()],
            env: Vec::new(),
            cwd: None,
            timeout: Duration::from_secs(30),
        })
    }

    /// A line of 16 MiB arrives in hundreds of reads, the next two in one: each comes out
    /// whole and in order, and a closed stdout is an exit, not a line.
    #[test]
    fn lines_come_out_whole_however_the_reads_split_them() {
        let mut p = python(
            "import sys\nsys.stdout.write('x' * (16 << 20) + '\\nsecond\\r\\nthird\\n')\nsys.stdout.flush()\n",
        );
        p.ensure_started().unwrap();
        let long = p.recv().unwrap();
        assert_eq!(long.len(), 16 << 20);
        assert!(long.bytes().all(|b| b == b'x'));
        assert_eq!(p.recv().unwrap(), "second");
        assert_eq!(p.recv().unwrap(), "third");
        assert!(matches!(p.recv(), Err(ProcessError::Exited { .. })));
    }

    /// A worker that does not answer is killed at the deadline, with its stderr.
    #[test]
    fn a_silent_worker_times_out_with_its_stderr() {
        let mut p = python(
            "import sys, time\nsys.stderr.write('thinking\\n')\nsys.stderr.flush()\ntime.sleep(60)\n",
        );
        p.ensure_started().unwrap();
        let deadline = Instant::now() + Duration::from_millis(800);
        match p.recv_until(deadline) {
            Err(ProcessError::Timeout { stderr, .. }) => {
                assert!(stderr.contains("thinking"), "{stderr}")
            }
            other => panic!("{other:?}"),
        }
        assert!(Instant::now() >= deadline);
    }
}
