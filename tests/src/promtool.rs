//! `promtool check metrics`: the real Prometheus linter run on a page of the text format.
//!
//! Find the program with [`programs::promtool`](crate::programs::promtool), which also decides
//! whether a test skips or fails when it is missing.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

/// Runs `promtool check metrics` on `page` (given on standard input).
///
/// Passing means no findings at all: exit status 0 **and** nothing printed on either stream
/// (promtool prints lint findings on standard output and parse errors on standard error).
///
/// # Errors
/// The findings, the exit status and the page, ready to be shown in a failed assertion.
pub fn check_metrics(promtool: &Path, page: &str) -> Result<(), String> {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("could not run {}: {error}", promtool.display()))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| "promtool's standard input is not piped".to_owned())?;
    // Written from another thread, so that a promtool that answers before reading everything
    // cannot block us on a full pipe.
    let input = page.to_owned();
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|error| format!("waiting for promtool failed: {error}"))?;
    let written = writer
        .join()
        .map_err(|_| "the thread writing to promtool panicked".to_owned())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() && stdout.trim().is_empty() && stderr.trim().is_empty() {
        return Ok(());
    }
    Err(format!(
        "`promtool check metrics` found problems ({status}{write}):\n\
         --- stdout\n{stdout}\n--- stderr\n{stderr}\n--- page\n{page}",
        status = output.status,
        write = match written {
            Ok(()) => String::new(),
            Err(error) => format!("; writing the page failed: {error}"),
        },
    ))
}
