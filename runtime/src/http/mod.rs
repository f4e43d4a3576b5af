//! [`MetricsServer`]: a level's combined scrape served on `/metrics` over HTTP/1 (feature `http`).
//!
//! The server owns its own thread and a current-thread tokio runtime, so the caller needs no async
//! runtime of its own: [`MetricsServer::start`] binds the address on the caller's thread (a taken
//! port is its error, not a log line on another thread), then serves until
//! [`MetricsServer::shutdown`] or drop. Answers come from [`metrics_response`]:
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /metrics` | `200`, `Content-Type: text/plain; version=0.0.4; charset=utf-8`, the page (gzip when accepted) |
//! | `HEAD /metrics` | `200`, the same headers (with the page's `Content-Length`), no body |
//! | any other method on `/metrics` | `405`, `Allow: GET, HEAD` |
//! | any other path | `404` |
//! | a scrape not ready within the timeout | `503`, one line naming the part still running |
//! | a scrape that cannot run | `500`, one line saying why |
//!
//! # Staying up
//! Every resource a client can hold is bounded ([`ServerOptions`] has the defaults):
//! - scrapes: concurrent requests share one render; a render runs on its own thread and is
//!   answered (`503`) at the scrape timeout whatever its callbacks do;
//! - memory: all requests served from one render share its bytes (and its gzip bytes);
//! - connections: at most [`ServerOptions::max_connections`]; at the cap, the connection idle the
//!   longest is closed to make room, and a new one is refused only if none is idle;
//! - slow clients: a connection that has not sent a whole request header within
//!   [`ServerOptions::header_read_timeout`] (also between requests), or whose reply makes no
//!   progress for [`ServerOptions::write_timeout`], is closed;
//! - file descriptors: when `accept` fails for want of them, the accept loop closes the connection
//!   idle the longest and backs off (10 ms, doubling up to 1 s), then recovers by itself.

pub(crate) mod response;

pub use crate::http::response::{
    CONTENT_TYPE_TEXT, PROMETHEUS_TIMEOUT_HEADER, metrics_response, metrics_response_blocking,
};

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{ALLOW, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body::{Body as HttpBody, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{Notify, oneshot};

use crate::error::ServerErrorKind;
use crate::hierarchy::registry::lock;
use crate::http::response::text_response;
use crate::{Error, MetricsRegistry, scrape::render::ScrapeOptions};

/// How long a scrape still running after [`MetricsServer::SHUTDOWN_TIMEOUT`] is waited for before
/// the server's thread ends anyway (the scrape then finishes on its own, unobserved).
const STRAGGLER_TIMEOUT: Duration = Duration::from_secs(1);

/// The first pause after `accept` failed for want of resources; it doubles up to
/// [`MAX_ACCEPT_BACKOFF`] while the failures go on.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

const ALLOWED_METHODS: &str = "GET, HEAD";

/// How a [`MetricsServer`] bounds what its clients can hold. Every field has a default, listed
/// with its setter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerOptions {
    scrape: ScrapeOptions,
    max_connections: usize,
    header_read_timeout: Duration,
    write_timeout: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            scrape: ScrapeOptions::default(),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            write_timeout: Self::DEFAULT_WRITE_TIMEOUT,
        }
    }
}

impl ServerOptions {
    /// Default [`max_connections`](Self::max_connections): far more than the few Prometheus
    /// servers and people that scrape a worker, far fewer than the 1,024 file descriptors a
    /// process often gets.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 128;
    /// Default [`header_read_timeout`](Self::header_read_timeout): 5 s.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default [`write_timeout`](Self::write_timeout): 10 s.
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

    /// The default options.
    pub fn new() -> Self {
        Self::default()
    }

    /// How scrapes run (their timeout: default 10 s, see [`ScrapeOptions`]).
    #[must_use]
    pub fn with_scrape(mut self, scrape: ScrapeOptions) -> Self {
        self.scrape = scrape;
        self
    }

    /// The most connections open at once (default
    /// [`DEFAULT_MAX_CONNECTIONS`](Self::DEFAULT_MAX_CONNECTIONS), 128; at least 1). At the cap, a
    /// new connection closes the one idle the longest, or is closed itself if none is idle.
    #[must_use]
    pub fn with_max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections.max(1);
        self
    }

    /// How long a client may take to send a whole request header, counted from the connection's
    /// start or from the end of the previous answer (default
    /// [`DEFAULT_HEADER_READ_TIMEOUT`](Self::DEFAULT_HEADER_READ_TIMEOUT), 5 s). So it is also how
    /// long an idle keep-alive connection stays open.
    #[must_use]
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// How long writing an answer may make no progress (the client does not read) before the
    /// connection is closed (default [`DEFAULT_WRITE_TIMEOUT`](Self::DEFAULT_WRITE_TIMEOUT),
    /// 10 s).
    #[must_use]
    pub fn with_write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The scrape options.
    pub fn scrape(&self) -> &ScrapeOptions {
        &self.scrape
    }

    /// The connection cap.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// The header read timeout.
    pub fn header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }

    /// The write timeout.
    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }
}

/// An HTTP/1 server of a [`MetricsRegistry`]'s combined scrape on [`MetricsServer::PATH`].
///
/// It runs on a thread of its own with a current-thread tokio runtime, so it can be started from
/// plain synchronous code as well as from inside any async runtime. It stops on
/// [`shutdown`](Self::shutdown) or when dropped. For a server you already run, mount
/// [`metrics_response`] (or, with the `axum` feature,
/// [`metrics_route`](crate::axum::metrics_route)) instead.
///
/// ```
/// use engine_gauges::{MetricsRoot, http::MetricsServer};
///
/// let endpoint = MetricsRoot::with_connection_id(7)
///     .namespace("dynamo")?
///     .component("backend")?
///     .endpoint("generate")?;
/// // Port 0 picks a free port; `local_addr` and `url` tell which.
/// let server = MetricsServer::start("127.0.0.1:0".parse().unwrap(), endpoint.registry().clone())?;
/// assert_ne!(server.local_addr().port(), 0);
/// assert!(server.url().ends_with("/metrics"));
/// server.shutdown();
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub struct MetricsServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

// The stop channel and thread handle show as `running`; nothing else is left out.
#[allow(clippy::missing_fields_in_debug)]
impl fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServer")
            .field("local_addr", &self.local_addr)
            .field("running", &self.thread.is_some())
            .finish()
    }
}

impl MetricsServer {
    /// The path the page is served on.
    pub const PATH: &'static str = "/metrics";

    /// The page's content type: Prometheus's text exposition format, version 0.0.4.
    pub const CONTENT_TYPE: &'static str = crate::http::response::CONTENT_TYPE_TEXT;

    /// How long [`shutdown`](Self::shutdown) lets requests in flight finish before closing them.
    pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

    /// Binds `addr` and serves `registry`'s combined scrape on it, from a thread of its own, with
    /// the default [`ServerOptions`].
    ///
    /// The address is bound before this returns: a request sent once it has returned is answered.
    /// Port 0 binds a free port; [`local_addr`](Self::local_addr) tells which. Pass the registry
    /// of the level whose page you want (usually the root's or the endpoint's; clones share state,
    /// so metrics created later appear on the page).
    ///
    /// # Errors
    /// - [`ServerErrorKind::Bind`] when the address cannot be bound (in use, not local, not
    ///   permitted).
    /// - [`ServerErrorKind::Start`] when the server's thread or runtime cannot be created.
    pub fn start(addr: SocketAddr, registry: MetricsRegistry) -> Result<Self, Error> {
        Self::start_with(addr, registry, ServerOptions::default())
    }

    /// [`start`](Self::start) with the given options.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_with(
        addr: SocketAddr,
        registry: MetricsRegistry,
        options: ServerOptions,
    ) -> Result<Self, Error> {
        let bind_error = |source| {
            Error::Server(ServerErrorKind::Bind {
                addr: addr.to_string(),
                source,
            })
        };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;

        let (stop, stopped) = oneshot::channel();
        let (ready, is_ready) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("engine-gauges-http".to_owned())
            .spawn(move || serve_thread(listener, registry, options, stopped, &ready))
            .map_err(|source| {
                Error::Server(ServerErrorKind::Start {
                    step: "spawning its thread",
                    source,
                })
            })?;
        match is_ready.recv() {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                // The thread has returned (or is about to) without serving.
                let _ = thread.join();
                return Err(error);
            }
            Err(mpsc::RecvError) => {
                let _ = thread.join();
                return Err(Error::Server(ServerErrorKind::Start {
                    step: "starting its runtime",
                    source: io::Error::other("the server thread ended before it was ready"),
                }));
            }
        }
        tracing::info!(%local_addr, path = MetricsServer::PATH, "serving metrics");
        Ok(Self {
            local_addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address the server listens on, with the real port when it was started on port 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The page's URL, `http://ADDR/metrics` (an IPv6 address in brackets).
    pub fn url(&self) -> String {
        format!("http://{}{}", self.local_addr, Self::PATH)
    }

    /// Stops the server gracefully and waits for it to end: no new connection is accepted, idle
    /// connections are closed, and requests in flight get up to
    /// [`SHUTDOWN_TIMEOUT`](Self::SHUTDOWN_TIMEOUT) to finish before they are closed too; a
    /// scrape still running then is given one more second before the server's thread ends.
    /// Dropping the server does the same.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the thread has already ended, which is what we want.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.thread().id() == std::thread::current().id() {
                // Cannot join itself; the thread ends when the current work returns.
                return;
            }
            if thread.join().is_err() {
                tracing::error!(
                    local_addr = %self.local_addr,
                    "the metrics server's thread panicked"
                );
            } else {
                tracing::info!(local_addr = %self.local_addr, "metrics server stopped");
            }
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// The server's thread: builds the runtime, reports readiness, serves until told to stop.
fn serve_thread(
    listener: std::net::TcpListener,
    registry: MetricsRegistry,
    options: ServerOptions,
    stopped: oneshot::Receiver<()>,
    ready: &mpsc::SyncSender<Result<(), Error>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .thread_name("engine-gauges-gzip")
        .build()
    {
        Ok(runtime) => runtime,
        Err(source) => {
            let _ = ready.send(Err(Error::Server(ServerErrorKind::Start {
                step: "building its runtime",
                source,
            })));
            return;
        }
    };
    let listener = {
        let _context = runtime.enter();
        tokio::net::TcpListener::from_std(listener)
    };
    let listener = match listener {
        Ok(listener) => listener,
        Err(source) => {
            let _ = ready.send(Err(Error::Server(ServerErrorKind::Start {
                step: "registering its socket",
                source,
            })));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    runtime.block_on(serve(listener, registry, options, stopped));
    runtime.shutdown_timeout(STRAGGLER_TIMEOUT);
}

/// The open connections: whether each is idle (and since when), and how to close it.
#[derive(Default)]
struct Connections {
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    open: HashMap<u64, Connection>,
}

struct Connection {
    /// `None` while a request is being answered.
    idle_since: Option<Instant>,
    close: Arc<Notify>,
}

impl Connections {
    fn open(&self) -> (u64, Arc<Notify>) {
        let mut table = lock(&self.table);
        let id = table.next_id;
        table.next_id += 1;
        let close = Arc::new(Notify::new());
        table.open.insert(
            id,
            Connection {
                idle_since: Some(Instant::now()),
                close: Arc::clone(&close),
            },
        );
        (id, close)
    }

    fn len(&self) -> usize {
        lock(&self.table).open.len()
    }

    fn set_idle(&self, id: u64, idle: bool) {
        if let Some(connection) = lock(&self.table).open.get_mut(&id) {
            connection.idle_since = idle.then(Instant::now);
        }
    }

    fn closed(&self, id: u64) {
        lock(&self.table).open.remove(&id);
    }

    /// Closes the connection idle the longest; `false` if none is idle.
    fn evict_oldest_idle(&self) -> bool {
        let mut table = lock(&self.table);
        let oldest = table
            .open
            .iter()
            .filter_map(|(&id, c)| c.idle_since.map(|since| (since, id)))
            .min();
        match oldest.and_then(|(_, id)| table.open.remove(&id)) {
            Some(connection) => {
                connection.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// What woke the accept loop.
enum Event {
    Stop,
    Accepted(io::Result<(tokio::net::TcpStream, SocketAddr)>),
}

/// Whether an `accept` error means the process (or system) is out of resources, as opposed to a
/// connection that failed before it was accepted.
fn out_of_resources(error: &io::Error) -> bool {
    // EMFILE (24), ENFILE (23), ENOBUFS (105), ENOMEM (12) on Linux; the kinds elsewhere.
    matches!(error.raw_os_error(), Some(23 | 24 | 105 | 12))
        || matches!(error.kind(), io::ErrorKind::OutOfMemory)
}

/// Accepts connections until `stopped` fires (or its sender is dropped), then shuts the open
/// connections down gracefully, waiting at most [`MetricsServer::SHUTDOWN_TIMEOUT`].
async fn serve(
    listener: tokio::net::TcpListener,
    registry: MetricsRegistry,
    options: ServerOptions,
    mut stopped: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let connections = Arc::new(Connections::default());
    let options = Arc::new(options);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    let mut backoff = ACCEPT_BACKOFF;

    loop {
        let event = poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(Event::Stop);
            }
            listener.poll_accept(cx).map(Event::Accepted)
        })
        .await;
        match event {
            Event::Stop => break,
            Event::Accepted(Ok((stream, peer))) => {
                backoff = ACCEPT_BACKOFF;
                if connections.len() >= options.max_connections {
                    // Let the open connections read what they were sent first: one with a
                    // request waiting is busy, not idle, and must not be the one closed.
                    tokio::task::yield_now().await;
                }
                if connections.len() >= options.max_connections && !connections.evict_oldest_idle()
                {
                    tracing::warn!(%peer, max = options.max_connections, "metrics connection cap reached with no idle connection; closed the new one");
                    continue;
                }
                let (id, close) = connections.open();
                let service = {
                    let (registry, options, connections) = (
                        registry.clone(),
                        Arc::clone(&options),
                        Arc::clone(&connections),
                    );
                    service_fn(move |request| {
                        let busy = Busy::new(Arc::clone(&connections), id);
                        respond(request, registry.clone(), Arc::clone(&options), busy)
                    })
                };
                let io = TokioIo::new(WriteTimeout::new(stream, options.write_timeout));
                let connection = graceful.watch(builder.serve_connection(io, service));
                let connections = Arc::clone(&connections);
                tokio::spawn(async move {
                    tokio::select! {
                        result = connection => {
                            if let Err(error) = result {
                                tracing::debug!(%peer, %error, "metrics connection ended with an error");
                            }
                        }
                        () = close.notified() => {
                            tracing::debug!(%peer, "closed an idle metrics connection to make room");
                        }
                    }
                    connections.closed(id);
                });
            }
            Event::Accepted(Err(error)) if out_of_resources(&error) => {
                tracing::warn!(%error, ?backoff, "could not accept a metrics connection for want of resources; backing off");
                // The pause first: it lets the open connections read their requests, so that
                // the one closed to make room is really idle.
                tokio::time::sleep(backoff).await;
                connections.evict_oldest_idle();
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
            }
            Event::Accepted(Err(error)) => {
                tracing::debug!(%error, "a metrics connection failed before it was accepted");
            }
        }
    }
    drop(listener);

    if tokio::time::timeout(MetricsServer::SHUTDOWN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            timeout = ?MetricsServer::SHUTDOWN_TIMEOUT,
            "metrics requests still in flight at shutdown; closed them"
        );
    }
}

/// Marks a connection busy from its request's arrival until its answer's body is dropped (written
/// or abandoned).
struct Busy {
    connections: Arc<Connections>,
    id: u64,
}

impl Busy {
    fn new(connections: Arc<Connections>, id: u64) -> Self {
        connections.set_idle(id, false);
        Self { connections, id }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.connections.set_idle(self.id, true);
    }
}

/// An answer's body: the bytes, sent in one frame, and the connection's busy mark.
struct Body {
    data: Option<Bytes>,
    _busy: Busy,
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.data.take().map(|data| Ok(Frame::data(data))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// Answers one request.
async fn respond(
    request: Request<Incoming>,
    registry: MetricsRegistry,
    options: Arc<ServerOptions>,
    busy: Busy,
) -> Result<Response<Body>, Infallible> {
    let response = if request.uri().path() == MetricsServer::PATH {
        match *request.method() {
            Method::GET | Method::HEAD => {
                let head = request.method() == Method::HEAD;
                let (parts, _body) = request.into_parts();
                // One turn of the connection first: if the client has already closed it, the
                // connection sees the end of its input and drops this request before it starts
                // a render.
                tokio::task::yield_now().await;
                let response = metrics_response(&registry, &parts.headers, &options.scrape).await;
                if head {
                    // The headers (`Content-Length` included) of the GET answer, without its body.
                    response.map(|_| Bytes::new())
                } else {
                    response
                }
            }
            _ => {
                let mut response = text_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed: use GET or HEAD\n".to_owned(),
                );
                response
                    .headers_mut()
                    .insert(ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
                response
            }
        }
    } else {
        text_response(
            StatusCode::NOT_FOUND,
            "not found: metrics are served on /metrics\n".to_owned(),
        )
    };
    Ok(response.map(|data| Body {
        data: (!data.is_empty()).then_some(data),
        _busy: busy,
    }))
}

/// A socket whose writes fail with `TimedOut` once they have made no progress for a while.
struct WriteTimeout {
    stream: tokio::net::TcpStream,
    timeout: Duration,
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl WriteTimeout {
    fn new(stream: tokio::net::TcpStream, timeout: Duration) -> Self {
        Self {
            stream,
            timeout,
            stalled: None,
        }
    }

    /// Called when a write is pending: arms the timer, and fails once it has fired.
    fn pending<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {timeout:?}"),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn progress<T>(
        &mut self,
        result: Poll<io::Result<T>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<T>> {
        match result {
            Poll::Ready(result) => {
                self.stalled = None;
                Poll::Ready(result)
            }
            Poll::Pending => self.pending(cx),
        }
    }
}

impl AsyncRead for WriteTimeout {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteTimeout {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.progress(result, cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.progress(result, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let result = Pin::new(&mut self.stream).poll_flush(cx);
        self.progress(result, cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_resources_is_told_from_other_accept_errors() {
        for code in [23, 24, 105, 12] {
            assert!(
                out_of_resources(&io::Error::from_raw_os_error(code)),
                "{code}"
            );
        }
        // ECONNABORTED: the client left before the accept.
        assert!(!out_of_resources(&io::Error::from_raw_os_error(103)));
    }

    #[test]
    fn the_oldest_idle_connection_is_evicted_first_and_busy_ones_never() {
        let connections = Connections::default();
        let (first, first_close) = connections.open();
        let (second, _) = connections.open();
        let (third, third_close) = connections.open();
        connections.set_idle(first, false);
        assert!(connections.evict_oldest_idle());
        assert_eq!(connections.len(), 2);
        // The second was idle the longest; the first is busy.
        assert!(lock(&connections.table).open.contains_key(&first));
        assert!(!lock(&connections.table).open.contains_key(&second));
        connections.set_idle(third, false);
        assert!(!connections.evict_oldest_idle(), "every connection is busy");
        drop((first_close, third_close));
    }

    #[test]
    fn options_keep_their_floors() {
        let options = ServerOptions::new()
            .with_max_connections(0)
            .with_header_read_timeout(Duration::ZERO)
            .with_write_timeout(Duration::ZERO);
        assert_eq!(options.max_connections(), 1);
        assert_eq!(options.header_read_timeout(), Duration::from_millis(1));
        assert_eq!(options.write_timeout(), Duration::from_millis(1));
        assert_eq!(
            ServerOptions::default().header_read_timeout(),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn the_server_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MetricsServer>();
    }
}
