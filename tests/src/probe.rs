//! The `probe` binary (a `MetricsServer` in a process of its own) driven from tests, with what
//! the tests measure of it: peak memory, threads, open file descriptors.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::thread;

use crate::serving::{self, Serving};

/// A running probe. Dropping it closes its standard input and kills it (by its PID, through the
/// child handle), also when the test panics.
#[derive(Debug)]
pub struct Probe {
    child: Child,
    addr: SocketAddr,
}

impl Probe {
    /// Starts the probe at `path` with `args`, under a soft limit of `fd_limit` open files when
    /// given (through the shell's `ulimit -n`), and waits (at most 30 s) until it listens.
    ///
    /// # Panics
    /// When it cannot be started or does not print its URL in time.
    pub fn start(path: &str, args: &[&str], fd_limit: Option<u32>) -> Self {
        let mut command = match fd_limit {
            Some(limit) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(path);
                command
            }
            None => Command::new(path),
        };
        command.args(args).stdin(Stdio::piped());
        let Serving {
            child,
            addr,
            stderr,
        } = serving::start(command, &format!("the probe {path}"));
        // Keep draining its standard error so that its logs never block it.
        thread::spawn(move || while stderr.recv().is_ok() {});
        Self { child, addr }
    }

    /// The address it serves on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn status_field(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
    }

    /// Its peak resident memory so far, in KiB (`VmHWM`), when the system tells.
    pub fn peak_rss_kib(&self) -> Option<u64> {
        self.status_field("VmHWM:")
    }

    /// How many threads it has now, when the system tells.
    pub fn threads(&self) -> Option<u64> {
        self.status_field("Threads:")
    }

    /// How many file descriptors it has open now, when the system tells.
    pub fn open_files(&self) -> Option<usize> {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .ok()
            .map(Iterator::count)
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
