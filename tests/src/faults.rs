//! Faults injected on purpose, and a watchdog that turns a deadlock into a test failure.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once, mpsc};
use std::thread;
use std::time::Duration;

/// Panics caused on purpose carry this marker; the panic hook installed by [`quiet_panics`] does
/// not print them, so that hundreds of injected panics do not bury real failures.
pub const ON_PURPOSE: &str = "[injected fault]";

/// Installs (once per test binary) a panic hook that prints every panic but those whose message
/// contains [`ON_PURPOSE`].
pub fn quiet_panics() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
                .unwrap_or_default();
            if !message.contains(ON_PURPOSE) {
                previous(info);
            }
        }));
    });
}

/// The watchdog's limit for a whole watched scenario.
pub const WATCHDOG: Duration = Duration::from_secs(30);

/// Runs `body` on a thread of its own and fails the test (instead of hanging it) when it has not
/// finished after `limit`. `progress` is shown in the failure, to tell a deadlock from slowness.
pub fn with_watchdog<T: Send + 'static>(
    what: &str,
    limit: Duration,
    progress: Arc<Progress>,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (done, finished) = mpsc::channel();
    let worker = thread::Builder::new()
        .name(format!("{what} (watched)"))
        .spawn(move || {
            let value = body();
            let _ = done.send(());
            value
        })
        .expect("spawn the watched thread");
    match finished.recv_timeout(limit) {
        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(value) => value,
            Err(payload) => std::panic::resume_unwind(payload),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "watchdog: `{what}` did not finish within {limit:?} (deadlock or livelock?); \
             progress so far: {progress}"
        ),
    }
}

/// Counters a watched scenario keeps up to date, shown when the watchdog fires.
#[derive(Debug, Default)]
pub struct Progress {
    /// Metric writes done.
    pub updates: AtomicU64,
    /// Scrapes finished.
    pub scrapes: AtomicU64,
    /// Hierarchy levels created.
    pub levels: AtomicU64,
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} updates, {} scrapes, {} levels created",
            self.updates.load(Ordering::Relaxed),
            self.scrapes.load(Ordering::Relaxed),
            self.levels.load(Ordering::Relaxed)
        )
    }
}
