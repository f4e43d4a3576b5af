//! The HTTP exporter (`MetricsServer`, feature `http`), its functional tests: the server runs in
//! the test's own process and is reached over real loopback TCP; what it answers, binding,
//! shutdown, compression, timeouts and connection limits, and its page checked by the real
//! `promtool` and scraped by a real `prometheus`.
//!
//! The exporter under hostile conditions that need a process of its own (a low file-descriptor
//! limit; memory and threads measured from outside) is tested in `exporter.rs`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use engine_gauges::error::ServerErrorKind;
use engine_gauges::prometheus::{Counter, Gauge, GaugeVec, Histogram, IntGauge, IntGaugeVec};
use engine_gauges::{
    EngineConfig, EngineMetrics, Error, MetricsRegistry, MetricsRoot, create_metric,
    http::MetricsServer, http::ServerOptions, scrape::ScrapeOptions,
};
use engine_gauges_tests::fixture;
use engine_gauges_tests::http_client::{
    HttpResponse, bytes_after_head_answer, http_get, http_request,
};
use engine_gauges_tests::prometheus_server::PrometheusServer;
use engine_gauges_tests::{programs, promtool};

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

fn get(server: &MetricsServer, method: &str, path: &str) -> HttpResponse {
    http_request(server.local_addr(), method, path)
        .unwrap_or_else(|error| panic!("{method} {path}: {error}"))
}

/// A worker-like hierarchy: root (worker id 0x1f) → `dynamo` → `backend` → `generate`, with a
/// gauge per level kind and per-rank families, as an engine would declare them.
struct Worker {
    root: MetricsRoot,
    load: Gauge,
    blocks: IntGaugeVec,
    usage: GaugeVec,
    requests: Counter,
    latency: Histogram,
    active: IntGauge,
}

fn worker() -> Worker {
    let root = MetricsRoot::with_connection_id(0x1f);
    let component = fixture::backend_component(&root);
    let endpoint = component.endpoint("generate").expect("endpoint");
    let config = EngineConfig {
        model: "Qwen/Qwen3-0.6B".into(),
        served_model_name: Some("qwen3".into()),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint.clone(), &config);
    let labels = metrics.engine_const_labels();
    let load: Gauge = create_metric(
        &endpoint,
        "model_load_time_seconds",
        "Time engine.start() took to return.",
        &labels,
        None,
        None,
    )
    .expect("load gauge");
    let blocks: IntGaugeVec = create_metric(
        &component,
        "total_blocks",
        "Total KV cache blocks available on the worker.",
        &[],
        None,
        Some(&["dp_rank"]),
    )
    .expect("blocks");
    let usage: GaugeVec = create_metric(
        &component,
        "gpu_cache_usage_percent",
        "GPU cache usage as a percentage (0.0-1.0).",
        &[],
        None,
        Some(&["dp_rank"]),
    )
    .expect("usage");
    let requests: Counter = create_metric(
        &endpoint,
        "requests_total",
        "Requests the endpoint received.",
        &labels,
        None,
        None,
    )
    .expect("requests");
    let latency: Histogram = create_metric(
        &endpoint,
        "request_duration_seconds",
        "Time from a request's arrival to its last token.",
        &labels,
        None,
        None,
    )
    .expect("latency");
    let active: IntGauge = create_metric(
        &endpoint,
        "active_requests",
        "Requests in flight.",
        &labels,
        None,
        None,
    )
    .expect("active");

    load.set(2.5);
    for rank in ["0", "1"] {
        blocks.with_label_values(&[rank]).set(1024);
        usage.with_label_values(&[rank]).set(0.25);
    }
    requests.inc_by(3.0);
    latency.observe(0.2);
    active.set(2);
    Worker {
        root,
        load,
        blocks,
        usage,
        requests,
        latency,
        active,
    }
}

fn serve(registry: &MetricsRegistry) -> MetricsServer {
    MetricsServer::start(loopback(), registry.clone()).expect("start the metrics server")
}

fn assert_refused(addr: SocketAddr) {
    match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
        Err(error) => assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "connecting to a stopped server: {error}"
        ),
        Ok(_) => panic!("{addr} still accepts connections after shutdown"),
    }
}

// ---------------------------------------------------------------------------------------- answers

#[test]
fn get_metrics_serves_the_combined_page() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let response = get(&server, "GET", "/metrics");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(
        response.header("content-type"),
        Some(MetricsServer::CONTENT_TYPE)
    );
    let expected = worker
        .root
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    assert_eq!(response.text(), expected);
    assert_eq!(
        response.header("content-length"),
        Some(expected.len().to_string().as_str())
    );
    assert!(
        expected.contains(
            "dynamo_component_model_load_time_seconds{dynamo_component=\"backend\",\
             dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",model=\"Qwen/Qwen3-0.6B\",\
             model_name=\"qwen3\",worker_id=\"1f\"} 2.5\n"
        ),
        "{expected}"
    );
}

#[test]
fn the_page_follows_the_registry_it_serves() {
    let worker = worker();
    let server = serve(worker.root.registry());
    worker.load.set(7.25);
    worker.blocks.with_label_values(&["3"]).set(9);
    let page = get(&server, "GET", "/metrics").text();
    assert!(page.contains("} 7.25\n"), "{page}");
    assert!(page.contains("dp_rank=\"3\""), "{page}");
    // A level's server serves that level and below, not its ancestors.
    let endpoint = fixture::generate_endpoint(&worker.root);
    let endpoint_server = serve(endpoint.registry());
    let page = get(&endpoint_server, "GET", "/metrics").text();
    assert!(
        page.contains("dynamo_component_model_load_time_seconds"),
        "{page}"
    );
    assert!(!page.contains("dynamo_component_total_blocks"), "{page}");
}

#[test]
fn a_query_string_is_ignored() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let response = get(&server, "GET", "/metrics?format=text");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some(MetricsServer::CONTENT_TYPE)
    );
}

#[test]
fn head_answers_the_headers_without_a_body() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let response = get(&server, "HEAD", "/metrics");
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(
        response.header("content-type"),
        Some(MetricsServer::CONTENT_TYPE)
    );
    let page = worker
        .root
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    assert_eq!(
        response.header("content-length"),
        Some(page.len().to_string().as_str())
    );
    let after_head = bytes_after_head_answer(server.local_addr(), "/metrics").expect("HEAD");
    assert!(
        after_head.is_empty(),
        "a HEAD answer carries no body, got {} bytes",
        after_head.len()
    );
}

#[test]
fn other_methods_get_405_with_allow() {
    let worker = worker();
    let server = serve(worker.root.registry());
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        let response = get(&server, method, "/metrics");
        assert_eq!(response.status, 405, "{method}: {response:?}");
        assert_eq!(response.header("allow"), Some("GET, HEAD"), "{method}");
        assert_eq!(response.text().lines().count(), 1, "{method}");
    }
}

#[test]
fn other_paths_get_404() {
    let worker = worker();
    let server = serve(worker.root.registry());
    for path in [
        "/",
        "/metrics/",
        "/metric",
        "/metricsx",
        "/Metrics",
        "/api/v1/query",
    ] {
        for method in ["GET", "HEAD", "POST"] {
            let response = get(&server, method, path);
            assert_eq!(response.status, 404, "{method} {path}: {response:?}");
        }
    }
}

/// A scrape answers 500 only when `prometheus_expfmt_combined` returns an error, which it does
/// only when the text encoder refuses every family. The public API cannot build such a family
/// (the registries drop empty families, and `create_metric` only makes the standard types), so
/// the 500 answer's shape is tested in the runtime's unit tests; here we check that the failures
/// the public API *can* cause keep the page a 200.
#[test]
fn a_failing_callback_still_serves_the_page() {
    let worker = worker();
    let registry = worker.root.registry();
    registry.add_update_callback(Arc::new(|| Err("engine not reachable".into())));
    registry.add_expfmt_callback(Arc::new(|| panic!("a bridged registry blew up")));
    let server = serve(registry);
    let response = get(&server, "GET", "/metrics");
    assert_eq!(response.status, 200, "{response:?}");
    let page = response.text();
    assert!(page.contains("dynamo_component_total_blocks"), "{page}");
    assert!(
        page.contains("engine_gauges_scrape_failures_total{kind=\"update_callback\"} 1"),
        "{page}"
    );
    assert!(
        page.contains("engine_gauges_scrape_failures_total{kind=\"text_callback\"} 1"),
        "{page}"
    );
}

// ------------------------------------------------------------------------------------ concurrency

#[test]
fn scrapes_while_writers_update() {
    let worker = Arc::new(worker());
    let server = serve(worker.root.registry());
    for rank in ["0", "1", "2", "3"] {
        worker.blocks.with_label_values(&[rank]).set(0);
        worker.usage.with_label_values(&[rank]).set(0.0);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|id| {
            let worker = Arc::clone(&worker);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                let rank = id.to_string();
                let blocks = worker.blocks.with_label_values(&[&rank]);
                let usage = worker.usage.with_label_values(&[&rank]);
                let mut i: i64 = 0;
                // Bounded: stops when told, and after a million updates in any case.
                while !stop.load(Ordering::Relaxed) && i < 1_000_000 {
                    blocks.set(i);
                    usage.set((i % 100) as f64 / 100.0);
                    worker.load.set(i as f64);
                    worker.active.set(i % 7);
                    worker.requests.inc();
                    worker.latency.observe((i % 10) as f64 / 10.0);
                    i += 1;
                }
                i
            })
        })
        .collect();

    let mut last_requests = 0.0;
    for _ in 0..40 {
        let response = get(&server, "GET", "/metrics");
        assert_eq!(response.status, 200);
        let page = response.text();
        for rank in 0..4 {
            assert!(page.contains(&format!("dp_rank=\"{rank}\"")), "{page}");
        }
        // Every sample line is `series value`, and the counter never goes back.
        for line in page.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap_or_default();
            assert!(value.parse::<f64>().is_ok(), "bad sample line `{line}`");
        }
        let requests: f64 = page
            .lines()
            .find(|l| l.starts_with("dynamo_component_requests_total{"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .expect("requests counter on the page");
        assert!(requests >= last_requests, "{requests} < {last_requests}");
        last_requests = requests;
    }
    stop.store(true, Ordering::Relaxed);
    let updates: i64 = writers.into_iter().map(|w| w.join().expect("writer")).sum();
    assert!(updates > 0);
}

#[test]
fn concurrent_clients_are_all_answered() {
    let worker = worker();
    let server = Arc::new(serve(worker.root.registry()));
    let expected = worker
        .root
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    let start = Arc::new(Barrier::new(8));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let server = Arc::clone(&server);
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                (0..10)
                    .map(|_| get(&server, "GET", "/metrics"))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for client in clients {
        for response in client.join().expect("client") {
            assert_eq!(response.status, 200);
            assert_eq!(response.text(), expected);
        }
    }
}

// ---------------------------------------------------------------------------------------- binding

#[test]
fn a_taken_port_is_a_bind_error_naming_the_address() {
    let taken = TcpListener::bind(loopback()).expect("bind");
    let addr = taken.local_addr().expect("addr");
    let error = MetricsServer::start(addr, MetricsRegistry::new()).expect_err("port is taken");
    match &error {
        Error::Server(ServerErrorKind::Bind {
            addr: reported,
            source,
        }) => {
            assert_eq!(reported, &addr.to_string());
            assert_eq!(source.kind(), std::io::ErrorKind::AddrInUse);
        }
        other => panic!("expected Error::Server(ServerErrorKind::Bind), got {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains(&addr.to_string()), "{message}");
    assert!(message.contains("port 0"), "{message}");

    // The same with a running exporter holding the port.
    let first = MetricsServer::start(loopback(), MetricsRegistry::new()).expect("first");
    let second = MetricsServer::start(first.local_addr(), MetricsRegistry::new());
    assert!(
        matches!(second, Err(Error::Server(ServerErrorKind::Bind { .. }))),
        "a second server on {}: {second:?}",
        first.local_addr()
    );
}

#[test]
fn port_zero_reports_the_real_port() {
    let server = MetricsServer::start(loopback(), MetricsRegistry::new()).expect("start");
    let addr = server.local_addr();
    assert_eq!(addr.ip(), loopback().ip());
    assert_ne!(addr.port(), 0);
    assert_eq!(
        server.url(),
        format!("http://127.0.0.1:{}/metrics", addr.port())
    );
    assert_eq!(
        format!("{server:?}"),
        format!("MetricsServer {{ local_addr: {addr}, running: true }}")
    );
    // An empty registry serves an empty page.
    let response = get(&server, "GET", "/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "");
}

#[test]
fn serves_on_ipv6_loopback_when_available() {
    let Ok(probe) = TcpListener::bind("[::1]:0") else {
        return; // no IPv6 loopback on this machine
    };
    drop(probe);
    let server = MetricsServer::start("[::1]:0".parse().expect("addr"), MetricsRegistry::new())
        .expect("start on ::1");
    assert!(
        server.url().starts_with("http://[::1]:"),
        "{}",
        server.url()
    );
    assert_eq!(get(&server, "GET", "/metrics").status, 200);
}

// --------------------------------------------------------------------------------------- shutdown

#[test]
fn shutdown_stops_listening() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let addr = server.local_addr();
    assert_eq!(get(&server, "GET", "/metrics").status, 200);
    server.shutdown();
    assert_refused(addr);
}

#[test]
fn drop_stops_listening() {
    let server = serve(&MetricsRegistry::new());
    let addr = server.local_addr();
    drop(server);
    assert_refused(addr);
}

#[test]
fn a_request_in_flight_finishes_during_shutdown() {
    let worker = worker();
    let registry = worker.root.registry();
    let (entered, scraping) = mpsc::channel();
    registry.add_update_callback(Arc::new(move || {
        let _ = entered.send(());
        thread::sleep(Duration::from_millis(500));
        Ok(())
    }));
    let server = serve(registry);
    let addr = server.local_addr();
    let client = thread::spawn(move || http_request(addr, "GET", "/metrics"));
    scraping
        .recv_timeout(Duration::from_secs(10))
        .expect("the scrape started");
    let started = Instant::now();
    server.shutdown();
    let response = client
        .join()
        .expect("client")
        .expect("the in-flight request was answered");
    assert_eq!(response.status, 200);
    assert!(response.text().contains("dynamo_component_total_blocks"));
    assert!(started.elapsed() < MetricsServer::SHUTDOWN_TIMEOUT);
    assert_refused(addr);
}

#[test]
fn shutdown_is_bounded_when_a_scrape_hangs() {
    let registry = MetricsRegistry::new();
    let (entered, scraping) = mpsc::channel();
    let (release, released) = mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    registry.add_update_callback(Arc::new(move || {
        let _ = entered.send(());
        // Hangs until the test releases it (bounded all the same).
        let _ = released
            .lock()
            .map(|r| r.recv_timeout(Duration::from_secs(60)));
        Ok(())
    }));
    let server = serve(&registry);
    let addr = server.local_addr();
    let client = thread::spawn(move || http_request(addr, "GET", "/metrics"));
    scraping
        .recv_timeout(Duration::from_secs(10))
        .expect("the scrape started");
    let started = Instant::now();
    server.shutdown();
    let took = started.elapsed();
    let _ = release.send(());
    assert!(
        took < MetricsServer::SHUTDOWN_TIMEOUT + Duration::from_secs(3),
        "shutdown took {took:?}"
    );
    assert!(
        client.join().expect("client").is_err(),
        "the hung request was closed without an answer"
    );
    assert_refused(addr);
}

#[test]
fn starts_and_stops_inside_an_async_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let worker = worker();
    let addr = runtime.block_on(async {
        let server = serve(worker.root.registry());
        let addr = server.local_addr();
        assert_eq!(get(&server, "GET", "/metrics").status, 200);
        drop(server);
        addr
    });
    assert_refused(addr);
}

// ------------------------------------------------------------------------------------- real tools

#[test]
fn promtool_passes_the_served_page() {
    let Some(promtool) = programs::promtool() else {
        return;
    };
    let worker = worker();
    let server = serve(worker.root.registry());
    let page = get(&server, "GET", "/metrics").text();
    assert!(
        page.contains("dynamo_component_request_duration_seconds_bucket"),
        "{page}"
    );
    promtool::check_metrics(&promtool, &page).unwrap_or_else(|findings| panic!("{findings}"));
}

#[test]
fn promtool_check_reports_findings() {
    let Some(promtool) = programs::promtool() else {
        return;
    };
    // A counter without `_total` is a lint finding (exit 3, on stdout).
    let lint = "# HELP requests Requests.\n# TYPE requests counter\nrequests 1\n";
    let findings = promtool::check_metrics(&promtool, lint).expect_err("a lint finding");
    assert!(findings.contains("_total"), "{findings}");
    // A parse error (exit 1, on stderr).
    let broken = "requests{ 1\n";
    assert!(promtool::check_metrics(&promtool, broken).is_err());
}

#[test]
fn prometheus_scrapes_the_exporter() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let Some(prometheus) =
        PrometheusServer::start_scraping("worker", [server.local_addr()], Duration::from_secs(30))
    else {
        return;
    };
    let samples = prometheus
        .wait_for(
            "dynamo_component_total_blocks",
            Duration::from_secs(30),
            |s| s.len() == 2,
        )
        .unwrap_or_else(|error| panic!("{error}"));
    for sample in &samples {
        assert_eq!(sample.value, 1024.0, "{sample:?}");
        assert_eq!(sample.label("worker_id"), "1f");
        assert_eq!(sample.label("dynamo_namespace"), "dynamo");
        assert_eq!(sample.label("dynamo_component"), "backend");
        assert_eq!(sample.label("job"), "worker");
        assert_eq!(sample.label("instance"), server.local_addr().to_string());
    }
    let mut ranks: Vec<_> = samples.iter().map(|s| s.label("dp_rank")).collect();
    ranks.sort_unstable();
    assert_eq!(ranks, ["0", "1"]);

    let load = prometheus
        .query_vector("dynamo_component_model_load_time_seconds")
        .expect("query");
    assert_eq!(load.len(), 1, "{load:?}");
    assert_eq!(load[0].value, 2.5);
    assert_eq!(load[0].label("model_name"), "qwen3");
    assert_eq!(load[0].label("model"), "Qwen/Qwen3-0.6B");
    assert_eq!(load[0].label("dynamo_endpoint"), "generate");

    let sum = prometheus
        .query_vector("sum(dynamo_component_total_blocks)")
        .expect("query");
    assert_eq!(sum.len(), 1);
    assert_eq!(sum[0].value, 2048.0);
}

#[test]
fn the_prometheus_guard_kills_its_process_when_the_test_panics() {
    if programs::prometheus().is_none() {
        return;
    }
    let pid = std::sync::Mutex::new(None);
    let outcome = std::panic::catch_unwind(|| {
        let server = PrometheusServer::start(&[]).expect("prometheus is on PATH");
        *pid.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(server.pid());
        panic!("a failing test");
    });
    assert!(outcome.is_err());
    let pid = pid
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .expect("the server started");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "prometheus (pid {pid}) outlived the panicking test"
    );
}

// ------------------------------------------------------------------------------------- staying up

fn serve_with(registry: &MetricsRegistry, options: ServerOptions) -> MetricsServer {
    MetricsServer::start_with(loopback(), registry.clone(), options).expect("start the server")
}

fn gunzip(bytes: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut text)
        .expect("a gzip body");
    text
}

#[test]
fn the_page_is_gzipped_when_accepted_and_byte_identical() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let timeout = Duration::from_secs(10);
    let plain = http_get(server.local_addr(), "/metrics", &[], timeout).expect("plain");
    assert_eq!(plain.header("content-encoding"), None);
    // What Prometheus 2.42 sends with every scrape.
    let prometheus_headers = [
        (
            "Accept",
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
        ),
        ("Accept-Encoding", "gzip"),
        ("X-Prometheus-Scrape-Timeout-Seconds", "10"),
    ];
    let zipped = http_get(
        server.local_addr(),
        "/metrics",
        &prometheus_headers,
        timeout,
    )
    .expect("gzip");
    assert_eq!(zipped.status, 200);
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    assert_eq!(zipped.header("vary"), Some("accept-encoding"));
    assert_eq!(
        zipped.header("content-length"),
        Some(zipped.body.len().to_string().as_str())
    );
    assert!(
        zipped.body.len() * 3 < plain.body.len(),
        "gzip saved little"
    );
    let unzipped = gunzip(&zipped.body);
    assert_eq!(unzipped, plain.text());
    assert_eq!(
        unzipped,
        worker
            .root
            .registry()
            .prometheus_expfmt_combined()
            .expect("scrape")
    );
    // `q=0` refuses it.
    let refused = http_get(
        server.local_addr(),
        "/metrics",
        &[("Accept-Encoding", "gzip;q=0, identity")],
        timeout,
    )
    .expect("identity");
    assert_eq!(refused.header("content-encoding"), None);
    assert_eq!(refused.text(), plain.text());
}

#[test]
fn two_scrapes_of_an_idle_worker_are_identical() {
    let worker = worker();
    let server = serve(worker.root.registry());
    let first = get(&server, "GET", "/metrics");
    let second = get(&server, "GET", "/metrics");
    assert_eq!(first.status, 200);
    assert_eq!(
        first.body, second.body,
        "the page carries no per-request metrics"
    );
}

#[test]
fn concurrent_requests_share_one_render() {
    let registry = MetricsRegistry::new();
    let runs = Arc::new(AtomicUsize::new(0));
    {
        let runs = Arc::clone(&runs);
        registry.add_update_callback(Arc::new(move || {
            runs.fetch_add(1, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(1000));
            Ok(())
        }));
    }
    let server = serve(&registry);
    let addr = server.local_addr();
    let start = Arc::new(Barrier::new(8));
    let clients: Vec<_> = (0..8)
        .map(|_| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                http_get(addr, "/metrics", &[], Duration::from_secs(10))
            })
        })
        .collect();
    for client in clients {
        let response = client.join().expect("client").expect("answered");
        assert_eq!(response.status, 200);
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "8 concurrent requests, one render"
    );
}

#[test]
fn a_slow_scrape_is_a_503_naming_the_part_at_the_timeout() {
    let worker = worker();
    let registry = worker.root.registry();
    let (release, released) = mpsc::channel::<()>();
    let released = std::sync::Mutex::new(released);
    registry.add_update_callback(Arc::new(move || {
        let _ = released
            .lock()
            .map(|r| r.recv_timeout(Duration::from_secs(30)));
        Ok(())
    }));
    let options =
        ServerOptions::new().with_scrape(ScrapeOptions::new().with_timeout(Duration::from_secs(2)));
    let server = serve_with(registry, options);
    // Prometheus's own, shorter timeout is honoured.
    let started = Instant::now();
    let response = http_get(
        server.local_addr(),
        "/metrics",
        &[("X-Prometheus-Scrape-Timeout-Seconds", "0.3")],
        Duration::from_secs(10),
    )
    .expect("answered");
    let took = started.elapsed();
    assert_eq!(response.status, 503, "{}", response.text());
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    assert_eq!(
        response.text(),
        "metrics scrape failed: the scrape did not finish within 2s: update callback #1 of the root \
         is still running; make that part return sooner (a callback should not block), or raise \
         the scrape timeout\n"
    );
    let _ = release.send(());
    // Once the callback returns, the page is back.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = get(&server, "GET", "/metrics");
        if response.status == 200 {
            assert!(response.text().contains("dynamo_component_total_blocks"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no 200 after the callback returned"
        );
        thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_client_that_never_finishes_its_header_is_closed() {
    let options = ServerOptions::new().with_header_read_timeout(Duration::from_millis(300));
    let server = serve_with(&MetricsRegistry::new(), options);
    let mut stream = TcpStream::connect(server.local_addr()).expect("connect");
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .expect("part of a header");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    let mut answer = Vec::new();
    // The server closes the connection: the read ends (at end of input, or reset), well before
    // the client's own 5 s timeout.
    let read = stream.read_to_end(&mut answer);
    assert!(
        read.is_ok()
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "{read:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "closed after {:?}",
        started.elapsed()
    );
}

#[test]
fn at_the_connection_cap_the_oldest_idle_connection_makes_room() {
    let options = ServerOptions::new().with_max_connections(2);
    let server = serve_with(&MetricsRegistry::new(), options);
    let mut oldest = TcpStream::connect(server.local_addr()).expect("connect");
    thread::sleep(Duration::from_millis(50));
    let _younger = TcpStream::connect(server.local_addr()).expect("connect");
    thread::sleep(Duration::from_millis(50));
    let response = get(&server, "GET", "/metrics");
    assert_eq!(
        response.status, 200,
        "a new connection is served at the cap"
    );
    oldest
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    let started = Instant::now();
    let read = oldest.read(&mut buf);
    assert!(
        matches!(read, Ok(0))
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
        "the oldest idle connection was closed: {read:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// Polls a future to completion on this thread, with no async runtime at all.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::task::Waker::from(Arc::new(Unpark(thread::current())));
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(output) => return output,
            std::task::Poll::Pending => thread::park_timeout(Duration::from_millis(10)),
        }
    }
}

/// The framework-neutral answer needs no runtime: the blocking form, and the async form polled
/// by something that is not tokio.
#[test]
fn the_page_is_answered_without_any_async_runtime() {
    let root = MetricsRoot::new();
    let registry = root.registry().clone();
    let gauge: Gauge =
        create_metric(&root, "queue_depth", "Requests waiting.", &[], None, None).expect("a gauge");
    gauge.set(3.0);
    let options = ScrapeOptions::new();
    let mut gzip = http::HeaderMap::new();
    gzip.insert("accept-encoding", "gzip".parse().expect("a header value"));

    let plain = engine_gauges::http::metrics_response_blocking(
        &registry,
        &http::HeaderMap::new(),
        &options,
    );
    assert_eq!(plain.status(), 200);
    let text = String::from_utf8(plain.body().to_vec()).expect("utf-8");
    assert!(text.ends_with("dynamo_component_queue_depth 3\n"), "{text}");

    let compressed = engine_gauges::http::metrics_response_blocking(&registry, &gzip, &options);
    assert_eq!(compressed.headers()["content-encoding"], "gzip");
    let mut inflated = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&compressed.body()[..]),
        &mut inflated,
    )
    .expect("gunzip");
    assert_eq!(inflated, text);

    let polled = block_on(engine_gauges::http::metrics_response(
        &registry,
        &http::HeaderMap::new(),
        &options,
    ));
    assert_eq!(polled.status(), 200);
    assert_eq!(polled.body().to_vec(), text.as_bytes());

    // A hung part is a 503 naming it, within the timeout, here too.
    let (release, hold) = mpsc::channel::<()>();
    let hold = std::sync::Mutex::new(hold);
    registry.add_update_callback(Arc::new(move || {
        let _ = hold
            .lock()
            .map(|hold| hold.recv_timeout(Duration::from_secs(10)));
        Ok(())
    }));
    let started = Instant::now();
    let late = engine_gauges::http::metrics_response_blocking(
        &registry,
        &http::HeaderMap::new(),
        &ScrapeOptions::new().with_timeout(Duration::from_millis(300)),
    );
    assert_eq!(late.status(), 503);
    assert!(started.elapsed() < Duration::from_secs(3));
    let body = String::from_utf8(late.body().to_vec()).expect("utf-8");
    assert!(body.contains("update callback #1"), "{body}");
    drop(release);
}
