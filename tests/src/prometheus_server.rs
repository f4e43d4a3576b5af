//! A real `prometheus` server for end-to-end tests: started on a free loopback port with its own
//! configuration and storage in a temporary directory, scraping the given jobs every second, and
//! queried through its HTTP API.
//!
//! [`PrometheusServer::start`] returns `None` when the program is missing and the test should
//! return; whether a missing program fails the test instead is decided by
//! [`programs::prometheus`].

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};
use std::{fs, thread};

use serde_json::Value;
use tempfile::TempDir;
use ureq::Agent;

use crate::programs;

/// How long [`PrometheusServer::start`] waits for the server to be ready.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The client for the server's API. Error statuses are answers too: the API explains them in
/// its JSON body.
static API: LazyLock<Agent> = LazyLock::new(|| {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent()
});

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
    /// [`programs::prometheus`]).
    ///
    /// # Panics
    /// When the server cannot be started or does not become ready in time (the message carries
    /// its log).
    pub fn start(jobs: &[ScrapeJob]) -> Option<Self> {
        let program = programs::prometheus()?;
        match Self::start_with(&program, jobs) {
            Ok(server) => Some(server),
            Err(error) => panic!("{error}"),
        }
    }

    /// [`start`](Self::start) with one job, `job`, scraping `targets`; then waits (at most
    /// `timeout`) until every target is up. `None` means the program is missing and the test
    /// should return.
    ///
    /// # Panics
    /// As [`start`](Self::start) does, and when a target is not up in time (the message carries
    /// the server's log).
    pub fn start_scraping(
        job: &str,
        targets: impl IntoIterator<Item = SocketAddr>,
        timeout: Duration,
    ) -> Option<Self> {
        let server = Self::start(&[ScrapeJob::new(job, targets)])?;
        if let Err(error) = server.wait_for_up(job, timeout) {
            panic!("{error}\nprometheus log:\n{}", server.log());
        }
        Some(server)
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
            let dir = tempfile::Builder::new()
                .prefix("engine-gauges-prometheus-")
                .tempdir()
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
            if let Ok(response) = API.get(format!("http://{addr}/-/ready")).call()
                && response.status() == 200
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
        let answer = self
            .api("/api/v1/query", &[("query", promql)])
            .map_err(|error| format!("query `{promql}`: {error}"))?;
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
        let Ok(answer) = self.api("/api/v1/targets", &[]) else {
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

    /// GETs an API path with the given query parameters and checks `status == "success"`.
    fn api(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, String> {
        let mut response = API
            .get(format!("http://{}{path}", self.addr))
            .query_pairs(query.iter().copied())
            .call()
            .map_err(|error| format!("GET {path} on prometheus failed: {error}"))?;
        let status = response.status();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|error| format!("GET {path}: {status}, reading the body failed: {error}"))?;
        let answer: Value = serde_json::from_slice(&body).map_err(|error| {
            format!(
                "GET {path}: {status} with a body that is not JSON ({error}): {}",
                String::from_utf8_lossy(&body)
            )
        })?;
        if answer.get("status").and_then(Value::as_str) != Some("success") {
            return Err(format!("GET {path}: {status} {answer}"));
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
