//! Talking HTTP to our exporter on loopback, as the tests of the exporter need it: [`http_get`]
//! with request headers and a timeout, [`http_request`] with any method, and [`GzipSpy`], a TCP
//! relay that shows what a real Prometheus received.
//!
//! The client is `ureq` without its TLS and gzip features. It sends only the headers a test
//! gives (besides `Host` and the request's framing), never asks for compression, and hands back
//! the body as the server sent it, still compressed when the answer says `Content-Encoding:
//! gzip`. Answers of every status are returned, not turned into errors. Connections are not
//! reused: each request opens its own and closes it after reading the answer.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::thread;
use std::time::{Duration, Instant};

use ureq::http::{HeaderMap, Request, Response};
use ureq::{Agent, AsSendBody};

/// How long one exchange of [`http_request`] may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest body read, far above any page the tests serve (the largest is about 4 MB).
const BODY_LIMIT: u64 = 256 * 1024 * 1024;

/// One client for all requests; its configuration is the point of this module (see above).
static AGENT: LazyLock<Agent> = LazyLock::new(|| {
    Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        // No `User-Agent` or `Accept` unless a test sends one.
        .user_agent("")
        .accept("")
        .build()
        .new_agent()
});

/// An answer: status, headers and the body exactly as sent (not decompressed).
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers (the `http` crate keeps their names in lower case).
    pub headers: HeaderMap,
    /// The body, de-chunked but not decompressed; empty for an answer to `HEAD` (see
    /// [`bytes_after_head_answer`] for what the server sent after such an answer's head).
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive), when its value is visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `method path` (no body, no extra headers) to `addr` and reads the whole answer, within
/// [`IO_TIMEOUT`].
///
/// # Errors
/// When the connection fails, times out or closes before a whole answer, or the answer is not
/// HTTP.
pub fn http_request(addr: SocketAddr, method: &str, path: &str) -> io::Result<HttpResponse> {
    exchange(addr, method, path, &[], IO_TIMEOUT)
}

/// Sends `GET path` with the given request headers to `addr` and reads the whole answer, all
/// within `timeout`.
///
/// # Errors
/// When the connection fails, times out or closes before a whole answer, or the answer is not
/// HTTP.
pub fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> io::Result<HttpResponse> {
    exchange(addr, "GET", path, headers, timeout)
}

fn exchange(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for &(name, value) in headers {
        request = request.header(name, value);
    }
    let invalid = |error| io::Error::new(io::ErrorKind::InvalidInput, error);
    // Any other method says it sends no body with `Content-Length: 0`: without a body given,
    // ureq would frame a `POST` as chunked.
    if matches!(method, "GET" | "HEAD") {
        send(request.body(()).map_err(invalid)?, timeout)
    } else {
        let empty: &[u8] = &[];
        send(request.body(empty).map_err(invalid)?, timeout)
    }
}

fn send(request: Request<impl AsSendBody>, timeout: Duration) -> io::Result<HttpResponse> {
    let request = AGENT
        .configure_request(request)
        .timeout_global(Some(timeout))
        .build();
    AGENT
        .run(request)
        .and_then(read_answer)
        .map_err(|error| match error {
            ureq::Error::Timeout(_) => io::Error::new(io::ErrorKind::TimedOut, error),
            error => error.into_io(),
        })
}

fn read_answer(mut response: Response<ureq::Body>) -> Result<HttpResponse, ureq::Error> {
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()?;
    Ok(HttpResponse {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body,
    })
}

/// Sends `HEAD path` to `addr` over a plain TCP connection and returns the bytes the server sent
/// after the head of its answer, until it closed the connection: none, when the server is right.
///
/// A raw socket rather than the client, because an HTTP client knows that an answer to `HEAD`
/// has no body: it stops reading at the end of the head, so it cannot show a body sent anyway.
///
/// # Errors
/// When the connection fails or times out (after [`IO_TIMEOUT`]), or the answer has no complete
/// head.
pub fn bytes_after_head_answer(addr: SocketAddr, path: &str) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    write!(
        stream,
        "HEAD {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no end of the answer's head"))?;
    Ok(raw.split_off(end + 4))
}

// ------------------------------------------------------------------------------ recording relay

/// A loopback TCP relay in front of a server that notes whether any answer it relayed was
/// gzip-compressed: it shows what a real Prometheus received, not only that it scraped.
///
/// Plain TCP on purpose: it passes the bytes through untouched and only looks at them.
/// It relays until dropped (its threads stop within about 100 ms then).
#[derive(Debug)]
pub struct GzipSpy {
    addr: SocketAddr,
    saw_gzip: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
}

impl GzipSpy {
    /// Starts relaying to `upstream`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let saw_gzip = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (Arc::clone(&saw_gzip), Arc::clone(&stop));
        thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(20));
                    continue;
                };
                let Ok(server) = TcpStream::connect_timeout(&upstream, IO_TIMEOUT) else {
                    continue;
                };
                let (seen, stopped) = (Arc::clone(&seen), Arc::clone(&stopped));
                thread::spawn(move || relay(client, server, &seen, &stopped));
            }
        });
        Ok(Self {
            addr,
            saw_gzip,
            stop,
        })
    }

    /// The address to scrape instead of the server's.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether an answer with `Content-Encoding: gzip` went through.
    pub fn saw_gzip(&self) -> bool {
        self.saw_gzip.load(Ordering::Relaxed)
    }
}

impl Drop for GzipSpy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Copies both ways until either side closes or `stop` is set; notes gzip answers.
fn relay(client: TcpStream, server: TcpStream, seen: &AtomicBool, stop: &AtomicBool) {
    let tick = Some(Duration::from_millis(100));
    for stream in [&client, &server] {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(tick);
    }
    let (Ok(mut client_in), Ok(mut server_out)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let upstream = thread::spawn(move || pump(&mut client_in, &mut server_out, None));
    let (mut server_in, mut client_out) = (server, client);
    pump(&mut server_in, &mut client_out, Some((seen, stop)));
    let _ = client_out.shutdown(Shutdown::Both);
    let _ = server_in.shutdown(Shutdown::Both);
    let _ = upstream.join();
}

/// Copies `from` to `to`; with `watch`, notes gzip answers in its first flag and stops when its
/// second is set.
fn pump(from: &mut TcpStream, to: &mut TcpStream, watch: Option<(&AtomicBool, &AtomicBool)>) {
    let mut buf = [0u8; 16 * 1024];
    let started = Instant::now();
    // Bounded: a relay lasts at most ten minutes.
    while started.elapsed() < Duration::from_secs(600) {
        if let Some((_, stop)) = watch
            && stop.load(Ordering::Relaxed)
        {
            return;
        }
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if let Some((seen, _)) = watch {
                    let chunk = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
                    if chunk.contains("\r\ncontent-encoding: gzip\r\n") {
                        seen.store(true, Ordering::Relaxed);
                    }
                }
                if to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
