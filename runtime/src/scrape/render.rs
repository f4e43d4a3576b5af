//! Shared, time-bounded renders of a registry's page.
//!
//! Each render runs on a thread of its own, so that the scrape that asked for it can give up at
//! its deadline even when a callback hangs. Scrapes of the same registry that arrive while a
//! render is in flight (and younger than its timeout) join it instead of starting another: one
//! render serves them all, and its page is shared, not copied.
//!
//! Threads stay bounded however long a part hangs: a part never runs twice at once, a render
//! gives up on a part that is stuck (has run past the timeout) and stops running parts once its
//! own deadline has passed, and at most [`MAX_RENDER_THREADS`] renders exist at once.

use std::cell::Cell;
use std::fmt;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::Error;
use crate::error::ScrapeErrorKind;
use crate::hierarchy::registry::{MetricsRegistry, lock};
use crate::scrape::{Context, Late, panic_message, render_page};

/// The most render threads alive at once, across all registries. Only renders stuck in hung
/// callbacks can come near it: each stuck part holds at most one.
pub const MAX_RENDER_THREADS: usize = 32;

/// How a scrape is run: for now, its timeout. Pass it to
/// [`MetricsRegistry::scrape`](crate::MetricsRegistry::scrape), which returns the page as a
/// [`Page`], or the error that says which part was still running at the timeout.
///
/// ```
/// use std::time::Duration;
///
/// use engine_gauges::prometheus::IntGauge;
/// use engine_gauges::scrape::ScrapeOptions;
/// use engine_gauges::{MetricsRoot, create_metric};
///
/// let root = MetricsRoot::with_connection_id(7);
/// let in_flight: IntGauge =
///     create_metric(&root, "inflight_requests", "Requests in flight.", &[], None, None)?;
/// in_flight.set(2);
///
/// let options = ScrapeOptions::new().with_timeout(Duration::from_secs(2));
/// assert_eq!(options.timeout(), Duration::from_secs(2));
/// let page = root.registry().scrape(&options)?;
/// assert!(page.contains("dynamo_component_inflight_requests{worker_id=\"7\"} 2\n"));
/// # Ok::<(), engine_gauges::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScrapeOptions {
    timeout: Duration,
}

impl Default for ScrapeOptions {
    fn default() -> Self {
        Self {
            timeout: Self::DEFAULT_TIMEOUT,
        }
    }
}

impl ScrapeOptions {
    /// The default timeout: Prometheus's default scrape timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// How long a scrape may take before it is answered with
    /// [`ScrapeErrorKind::Timeout`](crate::error::ScrapeErrorKind::Timeout), and how long a part
    /// may run before later scrapes take it as stuck and skip it (default
    /// [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT), 10 s). A zero timeout is taken as 1 ms.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// A rendered page, shared between the scrapes that asked for it. Cloning it is cheap.
#[derive(Clone)]
pub struct Page(Arc<PageInner>);

pub(crate) struct PageInner {
    pub(crate) text: String,
    /// The page gzip-compressed, made once on first need and shared like the text.
    #[cfg(feature = "http")]
    pub(crate) gzip: std::sync::OnceLock<Option<Arc<[u8]>>>,
}

impl Page {
    fn new(text: String) -> Self {
        Self(Arc::new(PageInner {
            text,
            #[cfg(feature = "http")]
            gzip: std::sync::OnceLock::new(),
        }))
    }

    /// The page's text.
    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    #[cfg(feature = "http")]
    pub(crate) fn inner(&self) -> &Arc<PageInner> {
        &self.0
    }
}

impl Deref for Page {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Debug for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("len", &self.0.text.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Page {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One render in flight (or done), and the scrapes waiting for it.
pub(crate) struct Render {
    registry_id: usize,
    timeout: Duration,
    deadline: Instant,
    state: Mutex<State>,
    done: Condvar,
}

struct State {
    outcome: Option<Result<Page, String>>,
    running: String,
    #[cfg(feature = "http")]
    wakers: Vec<std::task::Waker>,
}

thread_local! {
    /// On a render thread: the registry it renders.
    static RENDERING: Cell<Option<usize>> = const { Cell::new(None) };
    /// On a render thread: the part it is running now.
    static HELD: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Marks the current thread as running a part until dropped.
pub(crate) struct HeldPart(Option<usize>);

pub(crate) fn hold_part(id: usize) -> HeldPart {
    HeldPart(HELD.with(|held| held.replace(Some(id))))
}

impl Drop for HeldPart {
    fn drop(&mut self) {
        HELD.with(|held| held.set(self.0));
    }
}

fn registry_id(registry: &MetricsRegistry) -> usize {
    Arc::as_ptr(&registry.inner) as usize
}

/// Joins `registry`'s render in flight, or starts one.
///
/// # Errors
/// [`ScrapeErrorKind::Reentrant`](crate::error::ScrapeErrorKind::Reentrant) from a callback of the
/// same registry's render; [`ScrapeErrorKind::Failed`](crate::error::ScrapeErrorKind::Failed) when
/// no render thread can be started.
pub(crate) fn start_or_join(
    registry: &MetricsRegistry,
    options: &ScrapeOptions,
) -> Result<Arc<Render>, Error> {
    let id = registry_id(registry);
    let rendering = RENDERING.with(Cell::get);
    if rendering == Some(id) {
        return Err(Error::Scrape(ScrapeErrorKind::Reentrant));
    }
    let held = HELD.with(Cell::get);
    // From inside a callback (of another registry's render), a render of our own that skips the
    // part this thread runs: joining one could mean waiting for ourselves.
    let shared = rendering.is_none();
    let mut slot = lock(&registry.inner.render);
    if shared
        && let Some(render) = slot.as_ref()
        && render.joinable()
    {
        return Ok(Arc::clone(render));
    }
    let render = Arc::new(Render {
        registry_id: id,
        timeout: options.timeout,
        deadline: Instant::now() + options.timeout,
        state: Mutex::new(State {
            outcome: None,
            running: "starting".to_owned(),
            #[cfg(feature = "http")]
            wakers: Vec::new(),
        }),
        done: Condvar::new(),
    });
    spawn(registry.clone(), Arc::clone(&render), held)?;
    if shared {
        *slot = Some(Arc::clone(&render));
    }
    Ok(render)
}

fn spawn(registry: MetricsRegistry, render: Arc<Render>, held: Option<usize>) -> Result<(), Error> {
    POOL.submit(Box::new(move || {
        RENDERING.with(|r| r.set(Some(render.registry_id)));
        let cx = Context {
            render: &render,
            deadline: render.deadline,
            stuck_after: render.timeout,
            held,
        };
        let outcome = match catch_unwind(AssertUnwindSafe(|| render_page(&registry, &cx))) {
            Ok(Ok(text)) => Ok(Page::new(text)),
            Ok(Err(Late)) => Err(format!(
                "the render passed its {:?} timeout",
                render.timeout
            )),
            Err(payload) => Err(format!("the scrape {}", panic_message(payload.as_ref()))),
        };
        RENDERING.with(|r| r.set(None));
        render.finish(outcome);
    }))
}

/// How long an idle render thread waits for another render before it ends.
const IDLE_THREAD_TIMEOUT: Duration = Duration::from_secs(30);

type Job = Box<dyn FnOnce() + Send>;

/// The render threads: started on demand, reused while they are idle (a new thread for every
/// render would cost more than the render of a small page), ended after
/// [`IDLE_THREAD_TIMEOUT`] without work, and never more than [`MAX_RENDER_THREADS`].
static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        jobs: std::collections::VecDeque::new(),
        alive: 0,
        idle: 0,
    }),
    work: Condvar::new(),
};

struct Pool {
    state: Mutex<PoolState>,
    work: Condvar,
}

struct PoolState {
    jobs: std::collections::VecDeque<Job>,
    alive: usize,
    idle: usize,
}

impl Pool {
    fn submit(&'static self, job: Job) -> Result<(), Error> {
        let mut state = lock(&self.state);
        if state.idle > state.jobs.len() {
            state.jobs.push_back(job);
            drop(state);
            self.work.notify_one();
            return Ok(());
        }
        if state.alive >= MAX_RENDER_THREADS {
            return Err(Error::Scrape(ScrapeErrorKind::Failed {
                reason: format!(
                    "{} renders are still running, most likely stuck in callbacks that do not return; \
                     fix those callbacks (the scrapes that gave up on them logged which part they were running)",
                    state.alive
                ),
            }));
        }
        state.alive += 1;
        drop(state);
        let spawned = std::thread::Builder::new()
            .name("engine-gauges-render".to_owned())
            .spawn(move || self.work_loop(job));
        match spawned {
            Ok(_) => Ok(()),
            Err(error) => {
                lock(&self.state).alive -= 1;
                Err(Error::Scrape(ScrapeErrorKind::Failed {
                    reason: format!("could not start a render thread: {error}"),
                }))
            }
        }
    }

    fn work_loop(&'static self, first: Job) {
        let mut job = first;
        loop {
            // A job catches its own panics; this keeps the count right whatever happens.
            let _ = catch_unwind(AssertUnwindSafe(job));
            let mut state = lock(&self.state);
            state.idle += 1;
            let deadline = Instant::now() + IDLE_THREAD_TIMEOUT;
            let next = loop {
                if let Some(next) = state.jobs.pop_front() {
                    break Some(next);
                }
                let now = Instant::now();
                if now >= deadline {
                    break None;
                }
                state = self
                    .work
                    .wait_timeout(state, deadline - now)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            };
            state.idle -= 1;
            if let Some(next) = next {
                job = next;
            } else {
                state.alive -= 1;
                return;
            }
        }
    }
}

impl Render {
    /// Whether a new scrape may still join this render: not done, and not past its deadline.
    fn joinable(&self) -> bool {
        Instant::now() < self.deadline && lock(&self.state).outcome.is_none()
    }

    pub(crate) fn set_running(&self, what: String) {
        lock(&self.state).running = what;
    }

    fn finish(&self, outcome: Result<Page, String>) {
        let mut state = lock(&self.state);
        state.outcome = Some(outcome);
        #[cfg(feature = "http")]
        for waker in state.wakers.drain(..) {
            waker.wake();
        }
        drop(state);
        self.done.notify_all();
    }

    fn answer(outcome: &Result<Page, String>) -> Result<Page, Error> {
        outcome
            .clone()
            .map_err(|reason| Error::Scrape(ScrapeErrorKind::Failed { reason }))
    }

    fn timed_out(&self, running: &str) -> Error {
        Error::Scrape(ScrapeErrorKind::Timeout {
            timeout: self.timeout,
            running: running.to_owned(),
        })
    }

    /// The page, waiting at most until `deadline` (and never past the render's own deadline).
    pub(crate) fn wait_blocking(&self, deadline: Instant) -> Result<Page, Error> {
        let until = deadline.min(self.deadline);
        let mut state = lock(&self.state);
        loop {
            if let Some(outcome) = &state.outcome {
                return Self::answer(outcome);
            }
            let now = Instant::now();
            if now >= until {
                return Err(self.timed_out(&state.running));
            }
            state = self
                .done
                .wait_timeout(state, until - now)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
    }

    /// The page, without blocking the task's thread; the caller bounds the wait (the render's
    /// own deadline is [`Render::deadline`]).
    #[cfg(feature = "http")]
    pub(crate) fn wait(self: &Arc<Self>) -> RenderWait {
        RenderWait(Arc::clone(self))
    }

    #[cfg(feature = "http")]
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    /// The outcome for a scrape that stopped waiting at its deadline: the page if it was ready
    /// just then, else the timeout naming the part still running.
    #[cfg(feature = "http")]
    pub(crate) fn outcome_at_deadline(&self) -> Result<Page, Error> {
        let state = lock(&self.state);
        match &state.outcome {
            Some(outcome) => Self::answer(outcome),
            None => Err(self.timed_out(&state.running)),
        }
    }
}

/// The future of a render's outcome.
#[cfg(feature = "http")]
pub(crate) struct RenderWait(Arc<Render>);

#[cfg(feature = "http")]
impl std::future::Future for RenderWait {
    type Output = Result<Page, Error>;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let mut state = lock(&self.0.state);
        if let Some(outcome) = &state.outcome {
            return std::task::Poll::Ready(Render::answer(outcome));
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        std::task::Poll::Pending
    }
}
