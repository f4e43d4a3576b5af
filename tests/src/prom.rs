//! The real Prometheus tools in tests: `promtool check metrics` and a `prometheus` server on
//! loopback, plus the small loopback HTTP client both the exporter's tests and the server's API
//! use.
//!
//! # Skipping
//! A test that needs a program asks for it with [`promtool`] or [`prometheus`]. When the program
//! is not on `PATH`, the test should return early: the helper has already printed why (to the
//! real standard error, so the reason shows even when the test's output is captured). When the
//! environment variable [`REQUIRE_ENV`] is `1`, a missing program fails the test instead, so CI
//! cannot skip these tests without anyone noticing.
//!
//! ```no_run
//! use engine_gauges_tests::prom;
//!
//! let Some(promtool) = prom::promtool() else { return };
//! let page = "# HELP up_seconds Up.\n# TYPE up_seconds gauge\nup_seconds 1\n";
//! prom::promtool_check_metrics(&promtool, page).unwrap();
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use std::{env, fs, io, thread};

use serde_json::Value;

/// The environment variable that turns a missing Prometheus program into a test failure.
pub const REQUIRE_ENV: &str = "ENGINE_GAUGES_REQUIRE_PROMETHEUS";

/// The Debian package that ships both programs.
const PACKAGE: &str = "prometheus";

/// How long [`PrometheusServer::start`] waits for the server to be ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long one HTTP exchange with a local server may take.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------------------ finding programs

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

// ------------------------------------------------------------------------------------- promtool

/// Runs `promtool check metrics` on `page` (given on standard input).
///
/// Passing means no findings at all: exit status 0 **and** nothing printed on either stream
/// (promtool prints lint findings on standard output and parse errors on standard error).
///
/// # Errors
/// The findings, the exit status and the page, ready to be shown in a failed assertion.
pub fn promtool_check_metrics(promtool: &Path, page: &str) -> Result<(), String> {
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

// ----------------------------------------------------------------------------------- temp dirs

/// A fresh directory under the system's temporary directory, removed (with its contents) on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/engine-gauges-<label>-<pid>-<n>-<nanos>`.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn new(label: &str) -> io::Result<Self> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = env::temp_dir().join(format!(
            "engine-gauges-{label}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
        ));
        fs::create_dir(&path)?;
        Ok(Self { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

// ------------------------------------------------------------------------------ the server

/// One `scrape_configs` entry: a job name and its `host:port` targets.
#[derive(Clone, Debug)]
pub struct ScrapeJob {
    /// The `job` label Prometheus gives the targets' series.
    pub name: String,
    /// The targets, scraped on `/metrics`.
    pub targets: Vec<SocketAddr>,
}

impl ScrapeJob {
    /// A job scraping `targets`.
    pub fn new(name: &str, targets: impl IntoIterator<Item = SocketAddr>) -> Self {
        Self {
            name: name.to_owned(),
            targets: targets.into_iter().collect(),
        }
    }
}

/// One series of an instant query's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series' labels, `__name__` included when the query keeps it.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, or `""` when the series has no such label.
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map_or("", String::as_str)
    }
}

/// A `prometheus` server on a free loopback port, with its own configuration and storage in a
/// temporary directory. Dropping it kills the process (by its PID, through the child handle) and
/// removes the directory, also when the test panics.
#[derive(Debug)]
pub struct PrometheusServer {
    child: Child,
    addr: SocketAddr,
    jobs: Vec<ScrapeJob>,
    dir: TempDir,
}

impl PrometheusServer {
    /// Starts a server that scrapes `jobs` every second, and waits (at most [`READY_TIMEOUT`])
    /// until it is ready. `None` means the program is missing and the test should return (see
    /// [`prometheus`]).
    ///
    /// # Panics
    /// When the server cannot be started or does not become ready in time (the message carries
    /// its log).
    pub fn start(jobs: &[ScrapeJob]) -> Option<Self> {
        let program = prometheus()?;
        match Self::start_with(&program, jobs) {
            Ok(server) => Some(server),
            Err(error) => panic!("{error}"),
        }
    }

    /// [`start`](Self::start) with the program's path given.
    ///
    /// # Errors
    /// When the server cannot be started or does not become ready in time.
    pub fn start_with(program: &Path, jobs: &[ScrapeJob]) -> Result<Self, String> {
        let mut last_error = String::new();
        // The free port is found by binding and releasing it, so another process can take it in
        // between: try again on a new port when that happens.
        for _ in 0..3 {
            let dir = TempDir::new("prometheus")
                .map_err(|error| format!("could not create a temp dir: {error}"))?;
            let port = free_port()?;
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            match Self::try_start(program, jobs, dir, addr) {
                Ok(server) => return Ok(server),
                Err((error, retry)) => {
                    last_error = error;
                    if !retry {
                        break;
                    }
                }
            }
        }
        Err(last_error)
    }

    fn try_start(
        program: &Path,
        jobs: &[ScrapeJob],
        dir: TempDir,
        addr: SocketAddr,
    ) -> Result<Self, (String, bool)> {
        let fail = |error: String| (error, false);
        let config = dir.path().join("prometheus.yml");
        fs::write(&config, config_yaml(jobs))
            .map_err(|error| fail(format!("could not write the config: {error}")))?;
        let data = dir.path().join("data");
        let log_path = dir.path().join("prometheus.log");
        let log = fs::File::create(&log_path)
            .map_err(|error| fail(format!("could not create the log: {error}")))?;
        let log_err = log
            .try_clone()
            .map_err(|error| fail(format!("could not share the log: {error}")))?;
        let child = Command::new(program)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=info")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .current_dir(dir.path())
            .spawn()
            .map_err(|error| fail(format!("could not run {}: {error}", program.display())))?;
        let mut server = Self {
            child,
            addr,
            jobs: jobs.to_vec(),
            dir,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = server.log();
                let retry = log.contains("address already in use");
                return Err((
                    format!("prometheus exited before it was ready ({status}); its log:\n{log}"),
                    retry,
                ));
            }
            if let Ok(response) = http_request(addr, "GET", "/-/ready")
                && response.status == 200
            {
                return Ok(server);
            }
            if Instant::now() >= deadline {
                return Err((
                    format!(
                        "prometheus was not ready on {addr} after {READY_TIMEOUT:?}; its log:\n{}",
                        server.log()
                    ),
                    false,
                ));
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The address of its web server and API.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its log so far (standard output and error).
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("prometheus.log")).unwrap_or_default()
    }

    /// Runs an instant query and returns the API's `data` object (`resultType` and `result`).
    ///
    /// # Errors
    /// When the request fails or the API does not answer `success`.
    pub fn query(&self, promql: &str) -> Result<Value, String> {
        let path = format!("/api/v1/query?query={}", percent_encode(promql));
        let answer = self.api(&path)?;
        answer
            .get("data")
            .cloned()
            .ok_or_else(|| format!("query `{promql}`: no `data` in {answer}"))
    }

    /// Runs an instant query whose answer is a vector, as [`Sample`]s.
    ///
    /// # Errors
    /// When the query fails or does not answer a vector.
    pub fn query_vector(&self, promql: &str) -> Result<Vec<Sample>, String> {
        let data = self.query(promql)?;
        if data.get("resultType").and_then(Value::as_str) != Some("vector") {
            return Err(format!("query `{promql}` did not answer a vector: {data}"));
        }
        let result = data
            .get("result")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("query `{promql}`: no result array in {data}"))?;
        result
            .iter()
            .map(|series| parse_sample(series).ok_or_else(|| format!("bad sample {series}")))
            .collect()
    }

    /// Polls `promql` every 250 ms until `done` accepts its samples, for at most `timeout`.
    ///
    /// # Errors
    /// On timeout, with the last answer and the targets' state.
    pub fn wait_for(
        &self,
        promql: &str,
        timeout: Duration,
        done: impl Fn(&[Sample]) -> bool,
    ) -> Result<Vec<Sample>, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = self.query_vector(promql);
            if let Ok(samples) = &last
                && done(samples)
            {
                return Ok(samples.clone());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "`{promql}` not as expected after {timeout:?}; last answer: {last:?}; \
                     targets: {}",
                    self.targets_summary()
                ));
            }
            thread::sleep(Duration::from_millis(250));
        }
    }

    /// Waits until every target of `job` has been scraped successfully (`up == 1`).
    ///
    /// # Errors
    /// On timeout, with the targets' last errors.
    pub fn wait_for_up(&self, job: &str, timeout: Duration) -> Result<(), String> {
        let expected = self
            .jobs
            .iter()
            .find(|j| j.name == job)
            .map_or(1, |j| j.targets.len());
        let promql = format!("up{{job=\"{job}\"}}");
        self.wait_for(&promql, timeout, |samples| {
            samples.len() >= expected && samples.iter().all(|s| s.value == 1.0)
        })
        .map(drop)
    }

    /// One line per target: its URL, health and last error.
    pub fn targets_summary(&self) -> String {
        let Ok(answer) = self.api("/api/v1/targets") else {
            return "(the targets API did not answer)".to_owned();
        };
        let targets = answer
            .pointer("/data/activeTargets")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        targets
            .iter()
            .map(|t| {
                format!(
                    "{} health={} lastError={:?}",
                    t.get("scrapeUrl").and_then(Value::as_str).unwrap_or("?"),
                    t.get("health").and_then(Value::as_str).unwrap_or("?"),
                    t.get("lastError").and_then(Value::as_str).unwrap_or(""),
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// GETs an API path and checks `status == "success"`.
    fn api(&self, path: &str) -> Result<Value, String> {
        let response = http_request(self.addr, "GET", path)
            .map_err(|error| format!("GET {path} on prometheus failed: {error}"))?;
        let answer: Value = serde_json::from_slice(&response.body).map_err(|error| {
            format!(
                "GET {path}: {} with a body that is not JSON ({error}): {}",
                response.status,
                response.text()
            )
        })?;
        if answer.get("status").and_then(Value::as_str) != Some("success") {
            return Err(format!("GET {path}: {} {answer}", response.status));
        }
        Ok(answer)
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config_yaml(jobs: &[ScrapeJob]) -> String {
    let mut yaml = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n",
    );
    for job in jobs {
        let targets = job
            .targets
            .iter()
            .map(|t| format!("'{t}'"))
            .collect::<Vec<_>>()
            .join(", ");
        yaml.push_str(&format!(
            "  - job_name: '{}'\n    static_configs:\n      - targets: [{targets}]\n",
            job.name
        ));
    }
    yaml
}

fn parse_sample(series: &Value) -> Option<Sample> {
    let labels = series
        .get("metric")?
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .collect::<Option<BTreeMap<_, _>>>()?;
    let value = series.get("value")?.get(1)?.as_str()?.parse().ok()?;
    Some(Sample { labels, value })
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> Result<u16, String> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|error| format!("could not find a free port: {error}"))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

// ------------------------------------------------------------------------------- HTTP client

/// A response as it came over the wire.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body (de-chunked); for a `HEAD`, whatever bytes followed the headers, which should be
    /// none.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends one HTTP/1.1 request with `Connection: close` to `addr` and reads the whole response.
///
/// A minimal client for loopback tests: it reads until the server closes the connection, so it
/// sees exactly what the server sent (a body after a `HEAD` answer included).
///
/// # Errors
/// When the connection fails, times out, or the answer is not HTTP.
pub fn http_request(addr: SocketAddr, method: &str, path: &str) -> io::Result<HttpResponse> {
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let body_length = if matches!(method, "GET" | "HEAD") {
        ""
    } else {
        "Content-Length: 0\r\n"
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{body_length}\r\n"
    )?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_response(&raw)
}

/// Sends one `GET` with extra request headers and `Connection: close`, and reads the whole
/// response, all within `timeout`.
///
/// # Errors
/// When the connection fails, times out, or the answer is not HTTP.
pub fn http_get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> io::Result<HttpResponse> {
    let deadline = Instant::now() + timeout;
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the answer took too long",
            ));
        }
        stream.set_read_timeout(Some(left))?;
        match stream.read(&mut chunk)? {
            0 => break,
            n => raw.extend_from_slice(&chunk[..n]),
        }
    }
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| bad("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("no status line"))?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers = lines
        .map(|line| {
            line.split_once(':')
                .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| bad("bad header line"))
        })
        .collect::<io::Result<Vec<_>>>()?;
    let rest = &raw[end + 4..];
    let mut response = HttpResponse {
        status,
        headers,
        body: Vec::new(),
    };
    response.body = if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest).ok_or_else(|| bad("bad chunked body"))?
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size_text = size_text.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

// ------------------------------------------------------------------------------ recording proxy

/// A loopback TCP proxy in front of a server that notes whether any answer it relayed was
/// gzip-compressed: it shows what a real Prometheus received, not only that it scraped.
///
/// It relays until dropped (its threads stop within about 100 ms then).
#[derive(Debug)]
pub struct GzipSpy {
    addr: SocketAddr,
    saw_gzip: std::sync::Arc<std::sync::atomic::AtomicBool>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl GzipSpy {
    /// Starts relaying to `upstream`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub fn start(upstream: SocketAddr) -> io::Result<Self> {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
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
fn relay(
    client: TcpStream,
    server: TcpStream,
    seen: &std::sync::atomic::AtomicBool,
    stop: &std::sync::atomic::AtomicBool,
) {
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
    let _ = client_out.shutdown(std::net::Shutdown::Both);
    let _ = server_in.shutdown(std::net::Shutdown::Both);
    let _ = upstream.join();
}

fn pump(
    from: &mut TcpStream,
    to: &mut TcpStream,
    watch: Option<(
        &std::sync::atomic::AtomicBool,
        &std::sync::atomic::AtomicBool,
    )>,
) {
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
