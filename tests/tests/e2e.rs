//! End to end: the examples' pages pass `promtool check metrics`, and a real Prometheus server
//! scrapes two running workers with the right labels and values.
//!
//! The example binaries are built by `cargo test --workspace` (which builds every example);
//! these tests run them from the target directory.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use engine_gauges_tests::http_client::{http_get, http_request};
use engine_gauges_tests::prometheus_server::PrometheusServer;
use engine_gauges_tests::serving::{self, Serving};
use engine_gauges_tests::{programs, promtool};

/// The path of an example binary of this workspace.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> → target/<profile>/examples/<name>
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test runs from target/<profile>/deps");
    let path = dir.join("examples").join(name);
    assert!(
        path.exists(),
        "example `{name}` is not built at {}: run `cargo test --workspace` (it builds the examples) \
         or `cargo build --examples` first",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str]) -> Output {
    let output = Command::new(example(name))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running example {name}: {e}"));
    assert!(
        output.status.success(),
        "example {name} {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn every_examples_page_passes_promtool() {
    let Some(promtool) = programs::promtool() else {
        return;
    };
    for (name, args) in [
        ("worker", &["--once"][..]),
        ("lifecycle", &[]),
        ("custom", &[]),
        ("hierarchy", &[]),
    ] {
        let output = run(name, args);
        let page = String::from_utf8(output.stdout).expect("utf-8 page");
        assert!(page.contains("# TYPE "), "{name} printed no page: {page}");
        promtool::check_metrics(&promtool, &page)
            .unwrap_or_else(|findings| panic!("{name}: {findings}\n{page}"));
    }
}

#[test]
fn worker_once_shows_every_family_with_its_labels() {
    let page = String::from_utf8(run("worker", &["--once"]).stdout).expect("utf-8");
    for family in [
        "dynamo_component_model_load_time_seconds",
        "dynamo_component_drain_time_seconds",
        "dynamo_component_cleanup_time_seconds",
        "dynamo_component_total_blocks",
        "dynamo_component_gpu_cache_usage_percent",
        "dynamo_component_kv_cache_hit_rate",
        "dynamo_component_requests_total",
        "dynamo_component_prompt_tokens_total",
        "dynamo_component_generation_tokens_total",
        "dynamo_component_time_to_first_token_seconds",
        "mocker_engine_steps_total",
    ] {
        assert!(
            page.contains(&format!("# TYPE {family} ")),
            "{family} missing:\n{page}"
        );
    }
    assert!(page.contains(
        "dynamo_component_total_blocks{dp_rank=\"1\",dynamo_component=\"backend\",dynamo_endpoint=\"generate\",\
dynamo_namespace=\"dynamo\",model=\"Qwen/Qwen3-0.6B\",model_name=\"qwen3-0.6b\",worker_id=\"7b1d3c2a\"} 4096\n"
    ), "{page}");
    // The typed family has every (rank, reason) from the start, written to or not: 2 ranks by
    // 3 reasons.
    for rank in ["0", "1"] {
        for reason in ["stop", "length", "abort"] {
            let series = page
                .lines()
                .filter(|line| {
                    line.starts_with("dynamo_component_requests_total{")
                        && line.contains(&format!("dp_rank=\"{rank}\""))
                        && line.contains(&format!("finish_reason=\"{reason}\""))
                })
                .count();
            assert_eq!(series, 1, "rank {rank}, reason {reason}:\n{page}");
        }
    }
    assert_eq!(
        page.lines()
            .filter(|line| line.starts_with("dynamo_component_requests_total{"))
            .count(),
        6,
        "{page}"
    );
}

#[test]
fn catalog_lists_every_builtin_metric() {
    let table = String::from_utf8(run("catalog", &[]).stdout).expect("utf-8");
    assert!(table.starts_with(
        "| metric | type | registered as | labels | buckets | help |\n| --- | --- | --- | --- | --- | --- |\n"
    ));
    for line in [
        "| `dynamo_component_total_blocks` | gauge | `IntGaugeVec` | `dp_rank` | - | Total number of KV cache blocks available on the worker. |",
        "| `dynamo_component_drain_time_seconds` | gauge | `Gauge` | - | - | Time spent draining in-flight work before cleanup. Stays at 0 for engines without a drain hook. |",
        "| `dynamo_component_shutdown_stage_seconds` | gauge | `GaugeVec` | `stage` ∈ {unregister, router_grace, stop_admission, inflight, kv_transfer, cleanup}, `reason` ∈ {completed, timed_out, skipped, cancelled, unsupported} | - |",
        "| `dynamo_component_requests_total` | counter | `IntCounterVec` | `dp_rank`, `finish_reason` ∈ {stop, length, abort} | - |",
        "| `dynamo_component_prompt_tokens_total` | counter | `IntCounter` | - | - |",
        "| `dynamo_component_time_to_first_token_seconds` | histogram | `Histogram` | - | 0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560, +Inf |",
    ] {
        assert!(table.contains(line), "{line}\nmissing from:\n{table}");
    }
    // 4 lifecycle, 3 per-rank KV, 4 request metrics.
    assert_eq!(table.lines().filter(|l| l.starts_with("| `")).count(), 11);
}

/// A worker process, killed by its PID when dropped (also when the test fails).
struct Worker {
    child: Child,
    addr: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl Worker {
    fn start(args: &[&str]) -> Self {
        let mut command = Command::new(example("worker"));
        command
            .args(["--listen", "127.0.0.1:0", "--step-ms", "100"])
            .args(args)
            .stdin(Stdio::null());
        let Serving {
            child,
            addr,
            stderr,
        } = serving::start(command, "the worker");
        Self {
            child,
            addr,
            stderr,
        }
    }

    /// Sends SIGTERM (as a service manager would) and waits for a clean exit.
    fn terminate(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(status.success());
        let exit = self.child.wait().expect("wait for the worker");
        assert!(exit.success(), "the worker exited with {exit}");
        self.stderr.try_iter().collect()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_served_page_passes_promtool_and_the_worker_stops_cleanly() {
    let worker = Worker::start(&[]);
    let response = http_request(worker.addr, "GET", "/metrics").expect("scrape the worker");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    if let Some(promtool) = programs::promtool() {
        promtool::check_metrics(&promtool, &response.text())
            .unwrap_or_else(|findings| panic!("{findings}\n{}", response.text()));
    }
    let said = worker.terminate();
    assert!(
        said.iter()
            .any(|l| l.starts_with("stopped after ") && l.contains("drain")),
        "{said:#?}"
    );
}

#[test]
fn prometheus_scrapes_two_workers_and_aggregates_them() {
    // Connection ids are given in hex, as the `worker_id` label shows them.
    let a = Worker::start(&["--connection-id", "0xa", "--total-blocks", "1000"]);
    let b = Worker::start(&[
        "--connection-id",
        "b",
        "--total-blocks",
        "3000",
        "--served-model-name",
        "qwen-b",
    ]);
    let Some(prometheus) =
        PrometheusServer::start_scraping("workers", [a.addr, b.addr], Duration::from_secs(60))
    else {
        return;
    };
    let fail = |error: String| -> ! { panic!("{error}\nprometheus log:\n{}", prometheus.log()) };

    let blocks = prometheus
        .wait_for(
            "dynamo_component_total_blocks",
            Duration::from_secs(30),
            |s| s.len() == 4,
        )
        .unwrap_or_else(|e| fail(e));
    for sample in &blocks {
        let (worker_id, value, model_name) = match sample.label("instance") {
            i if i == a.addr.to_string() => ("a", 1000.0, "qwen3-0.6b"),
            i if i == b.addr.to_string() => ("b", 3000.0, "qwen-b"),
            other => panic!("unexpected instance {other}: {sample:?}"),
        };
        assert_eq!(sample.label("worker_id"), worker_id, "{sample:?}");
        assert_eq!(sample.value, value, "{sample:?}");
        assert_eq!(sample.label("model_name"), model_name, "{sample:?}");
        assert_eq!(sample.label("model"), "Qwen/Qwen3-0.6B", "{sample:?}");
        assert_eq!(sample.label("dynamo_namespace"), "dynamo", "{sample:?}");
        assert_eq!(sample.label("dynamo_component"), "backend", "{sample:?}");
        assert_eq!(sample.label("dynamo_endpoint"), "generate", "{sample:?}");
        assert!(["0", "1"].contains(&sample.label("dp_rank")), "{sample:?}");
    }

    let sums = prometheus
        .query_vector("sum by (dp_rank) (dynamo_component_total_blocks)")
        .unwrap_or_else(|e| fail(e));
    assert_eq!(sums.len(), 2, "{sums:?}");
    for sum in &sums {
        assert_eq!(sum.value, 4000.0, "sum of both workers at {sum:?}");
    }

    let load = prometheus
        .query_vector("dynamo_component_model_load_time_seconds")
        .unwrap_or_else(|e| fail(e));
    assert_eq!(load.len(), 2, "{load:?}");
    for sample in &load {
        // The simulated start sleeps 300 ms.
        assert!(
            (0.3..5.0).contains(&sample.value),
            "model load time: {sample:?}"
        );
    }

    let bridged = prometheus
        .wait_for("mocker_engine_steps_total", Duration::from_secs(30), |s| {
            s.len() == 2 && s.iter().all(|x| x.value >= 1.0)
        })
        .unwrap_or_else(|e| fail(e));
    // The bridged registry's counter carries the worker's labels like the engine's own metrics.
    for sample in &bridged {
        let worker_id = if sample.label("instance") == a.addr.to_string() {
            "a"
        } else {
            "b"
        };
        assert_eq!(sample.label("worker_id"), worker_id, "{sample:?}");
        assert_eq!(sample.label("dynamo_namespace"), "dynamo", "{sample:?}");
        assert_eq!(sample.label("dynamo_component"), "backend", "{sample:?}");
        assert_eq!(sample.label("dynamo_endpoint"), "generate", "{sample:?}");
        assert_eq!(sample.label("model"), "Qwen/Qwen3-0.6B", "{sample:?}");
        assert!(!sample.label("model_name").is_empty(), "{sample:?}");
    }

    let hit_rate = prometheus
        .wait_for(
            "dynamo_component_kv_cache_hit_rate",
            Duration::from_secs(30),
            |s| s.len() == 4,
        )
        .unwrap_or_else(|e| fail(e));
    assert!(
        hit_rate.iter().all(|s| (0.0..=1.0).contains(&s.value)),
        "{hit_rate:?}"
    );
}

#[test]
fn a_taken_port_is_a_clear_error_and_exit_code_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("its address").to_string();
    let output = Command::new(example("worker"))
        .args(["--listen", &addr])
        .stdin(Stdio::null())
        .output()
        .expect("run the worker");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("worker: could not listen on {addr}; "))
            && stderr.contains("worker:   caused by: ")
            && stderr.contains("--listen"),
        "{stderr}"
    );
}

#[test]
fn an_absurd_dp_size_is_a_one_line_error_and_exit_code_1() {
    let output = Command::new(example("worker"))
        .args(["--once", "--dp-size", "4294967295"])
        .stdin(Stdio::null())
        .output()
        .expect("run the worker");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("worker: data_parallel_size 4294967295 from rank 0 is refused: "),
        "{stderr}"
    );
    assert!(
        output.stdout.is_empty(),
        "no page for a refused configuration"
    );
}

/// The `axum` example: the page mounted in an axum router beside another route, served by axum
/// itself; gzip when asked; the page passes promtool.
#[test]
fn the_axum_example_serves_the_page_beside_its_own_route() {
    let mut command = Command::new(example("axum"));
    command
        .args(["--listen", "127.0.0.1:0", "--run-for", "30"])
        .stdin(Stdio::null());
    let Serving {
        mut child, addr, ..
    } = serving::start(command, "the axum example");
    let timeout = Duration::from_secs(10);
    let health = http_get(addr, "/health", &[], timeout);
    let page = http_get(addr, "/metrics", &[], timeout);
    let zipped = http_get(addr, "/metrics", &[("Accept-Encoding", "gzip")], timeout);
    let _ = child.kill();
    let _ = child.wait();
    let health = health.expect("GET /health");
    assert_eq!((health.status, health.text().as_str()), (200, "ok\n"));
    let page = page.expect("GET /metrics");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert!(
        page.text().contains(
            "dynamo_component_num_requests_running{dynamo_component=\"backend\",\
             dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",model=\"Qwen/Qwen3-0.6B\",\
             model_name=\"Qwen/Qwen3-0.6B\",worker_id=\"7b1d\"} 3\n"
        ),
        "{}",
        page.text()
    );
    let zipped = zipped.expect("GET /metrics with gzip");
    assert_eq!(zipped.header("content-encoding"), Some("gzip"));
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&zipped.body[..])
        .read_to_string(&mut unzipped)
        .expect("gzip");
    assert_eq!(unzipped, page.text());
    if let Some(promtool) = programs::promtool() {
        promtool::check_metrics(&promtool, &page.text())
            .unwrap_or_else(|findings| panic!("{findings}"));
    }
}
