//! Processes that serve a page and say where: an example or the probe prints
//! `serving http://ADDR/metrics` on its standard error once it listens.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// A started process that listens at `addr`; `stderr` receives its later lines of standard error
/// (read on a thread of its own, so its logs never block it).
#[derive(Debug)]
pub struct Serving {
    /// The process.
    pub child: Child,
    /// Where it serves.
    pub addr: SocketAddr,
    /// Its standard error after the `serving` line.
    pub stderr: mpsc::Receiver<String>,
}

/// Starts `command` (its standard error piped, its standard output dropped) and waits at most
/// 30 s for its `serving http://ADDR/metrics` line.
///
/// # Panics
/// When it cannot be started or does not print its URL in time (it is killed first); `what`
/// names it in the message.
pub fn start(mut command: Command, what: &str) -> Serving {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("could not start {what}: {error}"));
    let stderr = child.stderr.take().expect("piped stderr");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let failure = loop {
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let url = line.strip_prefix("serving http://");
                match url.map(|url| url.trim_end_matches("/metrics").parse()) {
                    Some(Ok(addr)) => {
                        return Serving {
                            child,
                            addr,
                            stderr: rx,
                        };
                    }
                    Some(Err(error)) => break format!("printed a bad URL ({error}): {line}"),
                    None => seen.push(line),
                }
            }
            Err(error) => break format!("did not print its URL ({error}); it said: {seen:#?}"),
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} {failure}");
}
