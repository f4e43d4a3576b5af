//! Finding the real Prometheus programs (`promtool` and `prometheus`) on `PATH`, and the rule for
//! when they are missing.
//!
//! A test that needs a program asks for it with [`promtool`] or [`prometheus`]. When the program
//! is not on `PATH`, the test should return early: the helper has already printed why (to the
//! real standard error, so the reason shows even when the test's output is captured). When the
//! environment variable [`REQUIRE_ENV`] is `1`, a missing program fails the test instead, so CI
//! cannot skip these tests without anyone noticing.
//!
//! ```no_run
//! use engine_gauges_tests::{programs, promtool};
//!
//! let Some(promtool) = programs::promtool() else { return };
//! let page = "# HELP up_seconds Up.\n# TYPE up_seconds gauge\nup_seconds 1\n";
//! promtool::check_metrics(&promtool, page).unwrap();
//! ```

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::{env, fs, thread};

/// The environment variable that turns a missing Prometheus program into a test failure.
pub const REQUIRE_ENV: &str = "ENGINE_GAUGES_REQUIRE_PROMETHEUS";

/// The Debian package that ships both programs.
const PACKAGE: &str = "prometheus";

/// The path of `promtool`, or `None` (after printing why the test skips) when it is missing.
///
/// # Panics
/// When it is missing and [`REQUIRE_ENV`] is set to `1`.
pub fn promtool() -> Option<PathBuf> {
    required_program("promtool")
}

/// The path of the `prometheus` server, or `None` (after printing why the test skips) when it is
/// missing.
///
/// # Panics
/// When it is missing and [`REQUIRE_ENV`] is set to `1`.
pub fn prometheus() -> Option<PathBuf> {
    required_program("prometheus")
}

/// Whether [`REQUIRE_ENV`] asks for the programs to be present.
pub fn programs_required() -> bool {
    env::var(REQUIRE_ENV).is_ok_and(|value| value.trim() == "1")
}

fn required_program(name: &str) -> Option<PathBuf> {
    if let Some(path) = find_in_path(name) {
        return Some(path);
    }
    let test = thread::current().name().unwrap_or("<unnamed>").to_owned();
    if programs_required() {
        panic!(
            "test `{test}` needs `{name}`, which is not on PATH, and {REQUIRE_ENV}=1 forbids skipping; \
             install it (`apt-get install -y --no-install-recommends {PACKAGE}`) or unset {REQUIRE_ENV}"
        );
    }
    // Straight to the process's standard error: libtest captures `eprintln!`, and a skip must be
    // visible in a normal `cargo test` run.
    let _ = writeln!(
        io::stderr(),
        "SKIPPED {test}: `{name}` is not on PATH (install the Debian package `{PACKAGE}`; \
         set {REQUIRE_ENV}=1 to make this a failure)"
    );
    None
}

/// The first executable file called `name` in `PATH`.
fn find_in_path(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
