//! [`MetricsServer`]: a level's combined scrape served on `/metrics` over HTTP/1 (feature `http`).
//!
//! The server owns its own thread and a current-thread tokio runtime, so the caller needs no async
//! runtime of its own: [`MetricsServer::start`] binds the address on the caller's thread (a taken
//! port is its error, not a log line on another thread), then serves until
//! [`MetricsServer::shutdown`] or drop.
//!
//! | request | answer |
//! | --- | --- |
//! | `GET /metrics` | `200`, `Content-Type: text/plain; version=0.0.4; charset=utf-8`, the page |
//! | `HEAD /metrics` | `200`, the same headers (with the page's `Content-Length`), no body |
//! | any other method on `/metrics` | `405`, `Allow: GET, HEAD` |
//! | any other path | `404` |
//! | a scrape that fails | `500`, a one-line body; the error is logged through `tracing` |
//!
//! Each scrape runs on the runtime's blocking pool (at most
//! [`MetricsServer::MAX_CONCURRENT_SCRAPES`] at once), not on the thread that serves connections:
//! a scrape runs the registries' callbacks, which are user code and may be slow, and a slow
//! callback must neither stall other connections nor keep [`MetricsServer::shutdown`] waiting
//! longer than its bound. The hand-off costs a few microseconds per scrape, nothing next to
//! Prometheus's scrape interval.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, poll_fn};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::oneshot;

use crate::{Error, MetricsRegistry};

/// How long a scrape still running after [`MetricsServer::SHUTDOWN_TIMEOUT`] is waited for before
/// the server's thread ends anyway (the scrape then finishes on its own, unobserved).
const STRAGGLER_TIMEOUT: Duration = Duration::from_secs(1);

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The pause after a failed `accept` (for example when the process is out of file descriptors),
/// so that the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

const ALLOWED_METHODS: &str = "GET, HEAD";
const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

type Body = Full<Bytes>;

/// An HTTP/1 server of a [`MetricsRegistry`]'s combined scrape on [`MetricsServer::PATH`].
///
/// It runs on a thread of its own with a current-thread tokio runtime, so it can be started from
/// plain synchronous code as well as from inside any async runtime. It stops on
/// [`shutdown`](Self::shutdown) or when dropped.
///
/// ```
/// use engine_gauges::{MetricsRoot, MetricsServer};
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
    pub const CONTENT_TYPE: &'static str = "text/plain; version=0.0.4; charset=utf-8";

    /// How many scrapes may run at once; further requests wait for a free slot.
    pub const MAX_CONCURRENT_SCRAPES: usize = 4;

    /// How long [`shutdown`](Self::shutdown) lets requests in flight finish before closing them.
    pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

    /// Binds `addr` and serves `registry`'s combined scrape on it, from a thread of its own.
    ///
    /// The address is bound before this returns: a request sent once it has returned is answered.
    /// Port 0 binds a free port; [`local_addr`](Self::local_addr) tells which. Pass the registry
    /// of the level whose page you want (usually the root's or the endpoint's; clones share state,
    /// so metrics created later appear on the page).
    ///
    /// # Errors
    /// - [`Error::Bind`] when the address cannot be bound (in use, not local, not permitted).
    /// - [`Error::ServerStart`] when the server's thread or runtime cannot be created.
    pub fn start(addr: SocketAddr, registry: MetricsRegistry) -> Result<Self, Error> {
        let bind_error = |source| Error::Bind {
            addr: addr.to_string(),
            source,
        };
        let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;

        let (stop, stopped) = oneshot::channel();
        let (ready, is_ready) = mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("engine-gauges-http".to_owned())
            .spawn(move || serve_thread(listener, registry, stopped, ready))
            .map_err(|source| Error::ServerStart {
                step: "spawning its thread",
                source,
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
                return Err(Error::ServerStart {
                    step: "starting its runtime",
                    source: std::io::Error::other("the server thread ended before it was ready"),
                });
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
    stopped: oneshot::Receiver<()>,
    ready: mpsc::SyncSender<Result<(), Error>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(MetricsServer::MAX_CONCURRENT_SCRAPES)
        .thread_name("engine-gauges-scrape")
        .build()
    {
        Ok(runtime) => runtime,
        Err(source) => {
            let _ = ready.send(Err(Error::ServerStart {
                step: "building its runtime",
                source,
            }));
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
            let _ = ready.send(Err(Error::ServerStart {
                step: "registering its socket",
                source,
            }));
            return;
        }
    };
    if ready.send(Ok(())).is_err() {
        return;
    }
    runtime.block_on(serve(listener, registry, stopped));
    runtime.shutdown_timeout(STRAGGLER_TIMEOUT);
}

/// What woke the accept loop.
enum Event {
    Stop,
    Accepted(std::io::Result<(tokio::net::TcpStream, SocketAddr)>),
}

/// Accepts connections until `stopped` fires (or its sender is dropped), then shuts the open
/// connections down gracefully, waiting at most [`MetricsServer::SHUTDOWN_TIMEOUT`].
async fn serve(
    listener: tokio::net::TcpListener,
    registry: MetricsRegistry,
    mut stopped: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);

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
                let registry = registry.clone();
                let service = service_fn(move |request| respond(request, registry.clone()));
                let connection =
                    graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%peer, %error, "metrics connection ended with an error");
                    }
                });
            }
            Event::Accepted(Err(error)) => {
                tracing::warn!(%error, "could not accept a metrics connection; retrying");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
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

/// Answers one request.
async fn respond(
    request: Request<Incoming>,
    registry: MetricsRegistry,
) -> Result<Response<Body>, Infallible> {
    if request.uri().path() != MetricsServer::PATH {
        return Ok(text(
            StatusCode::NOT_FOUND,
            "not found: metrics are served on /metrics\n",
        ));
    }
    let head = match *request.method() {
        Method::GET => false,
        Method::HEAD => true,
        _ => {
            let mut response = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "method not allowed: use GET or HEAD\n",
            );
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static(ALLOWED_METHODS));
            return Ok(response);
        }
    };
    drop(request);
    let scraped =
        match tokio::task::spawn_blocking(move || registry.prometheus_expfmt_combined()).await {
            Ok(Ok(page)) => Ok(page),
            Ok(Err(error)) => Err(error.to_string()),
            Err(join_error) if join_error.is_panic() => Err("the scrape panicked".to_owned()),
            Err(_) => Err("the scrape was cancelled".to_owned()),
        };
    Ok(page_response(scraped, head))
}

/// The answer to a `GET` (or, with `head`, a `HEAD`) of the page, given what the scrape returned.
fn page_response(scraped: Result<String, String>, head: bool) -> Response<Body> {
    match scraped {
        Ok(page) => {
            let length = HeaderValue::from(page.len());
            let body = if head {
                Body::default()
            } else {
                Body::from(page)
            };
            let mut response = Response::new(body);
            let headers = response.headers_mut();
            headers.insert(
                CONTENT_TYPE,
                HeaderValue::from_static(MetricsServer::CONTENT_TYPE),
            );
            headers.insert(CONTENT_LENGTH, length);
            response
        }
        Err(error) => {
            tracing::error!(%error, "metrics scrape failed; answered 500");
            let line = error.replace(['\r', '\n'], " ");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("metrics scrape failed: {line}\n"),
            )
        }
    }
}

/// A plain-text answer.
fn text(status: StatusCode, body: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_owned()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN));
    response
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;

    fn body(response: Response<Body>) -> String {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let bytes = runtime
            .block_on(response.into_body().collect())
            .expect("a full body cannot fail")
            .to_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn a_failed_scrape_is_a_500_with_one_line() {
        let error = Error::Encode(prometheus::Error::Msg("bad\nfamily".into())).to_string();
        let response = page_response(Err(error), false);
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], TEXT_PLAIN);
        let body = body(response);
        assert_eq!(
            body,
            "metrics scrape failed: encoding the exposition page failed: Error: bad family\n"
        );
        assert_eq!(body.lines().count(), 1);
    }

    #[test]
    fn a_head_answer_has_the_page_length_and_no_body() {
        let response = page_response(Ok("x 1\n".to_owned()), true);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            MetricsServer::CONTENT_TYPE
        );
        assert_eq!(response.headers()[CONTENT_LENGTH], "4");
        assert_eq!(body(response), "");
    }

    #[test]
    fn the_server_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<MetricsServer>();
    }
}
