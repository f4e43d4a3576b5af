//! A simulated engine worker serving its metrics on `/metrics`.
//!
//! `cargo run --example worker` starts it on <http://127.0.0.1:9464/metrics>; `--help` lists the
//! flags. Ctrl-C (or `--run-for SECS`) drains and cleans up, records both times in the lifecycle
//! gauges, and exits. `--once` prints one exposition page to stdout and exits.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::Parser;
use engine_gauges::error::ServerErrorKind;
use engine_gauges::http::MetricsServer;
use engine_gauges::prometheus::{self, IntCounter};
use engine_gauges::reference::{ComponentGauges, LifecycleGauges, ShutdownReason, ShutdownStage};
use engine_gauges::{BridgeLabels, EngineConfig, EngineMetrics, MetricsRoot};
use engine_gauges::{EngineGauges, Error};
use engine_gauges_examples::{RequestMetrics, SimulatedEngine};

/// A simulated LLM engine worker that exports its gauges to Prometheus.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Where to serve /metrics (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9464")]
    listen: SocketAddr,
    /// The model the engine loads: the `model` label.
    #[arg(long, default_value = "Qwen/Qwen3-0.6B")]
    model: String,
    /// The name the model is served under: the `model_name` label.
    #[arg(long, default_value = "qwen3-0.6b")]
    served_model_name: String,
    /// The worker's connection id, in hex (`0x7b1d3c2a` or `7b1d3c2a`): the `worker_id` label,
    /// which shows it in lowercase hex without `0x`.
    #[arg(long, default_value = "0x7b1d3c2a", value_parser = parse_hex_id)]
    connection_id: u64,
    /// Data-parallel ranks this worker owns, from rank 0.
    #[arg(long, default_value_t = 2)]
    dp_size: u32,
    /// KV cache blocks per rank.
    #[arg(long, default_value_t = 4096)]
    total_blocks: u64,
    /// Milliseconds between engine steps.
    #[arg(long, default_value_t = 250)]
    step_ms: u64,
    /// Stop after this many seconds, as if Ctrl-C had been pressed.
    #[arg(long)]
    run_for: Option<f64>,
    /// Print one exposition page to stdout and exit, without serving.
    #[arg(long)]
    once: bool,
}

/// A connection id in hex, with or without `0x`.
fn parse_hex_id(text: &str) -> Result<u64, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    u64::from_str_radix(digits, 16)
        .map_err(|error| format!("`{text}` is not a connection id in hex ({error})"))
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .init();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("worker: {error}");
            let mut cause = error.source();
            while let Some(inner) = cause {
                eprintln!("worker:   caused by: {inner}");
                cause = inner.source();
            }
            if let Some(Error::Server(ServerErrorKind::Bind { .. })) = error.downcast_ref() {
                eprintln!(
                    "worker: choose another address with --listen (127.0.0.1:0 picks a free port)"
                );
            }
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    // The worker's place: root (with its connection id) → dynamo → backend → generate.
    let root = MetricsRoot::with_connection_id(args.connection_id);
    let endpoint = root
        .namespace("dynamo")?
        .component("backend")?
        .endpoint("generate")?;
    let config = EngineConfig {
        model: args.model.clone(),
        served_model_name: Some(args.served_model_name.clone()),
        total_kv_blocks: Some(args.total_blocks),
        data_parallel_size: Some(args.dp_size),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let ranks = config.dp_ranks()?;

    // Ctrl-C or SIGTERM, even while the engine is still loading, ends the run gracefully.
    let (stop_tx, stop_rx) = mpsc::channel();
    let signal_tx = stop_tx.clone();
    ctrlc::set_handler(move || {
        let _ = signal_tx.send(());
    })?;

    // Serve from the start: the page fills in as the engine comes up.
    let server = if args.once {
        None
    } else {
        let server = MetricsServer::start(args.listen, root.registry().clone())?;
        eprintln!("serving {}", server.url());
        Some(server)
    };

    // Start the engine, timing it into the lifecycle gauges.
    let started = Instant::now();
    let load_time = Duration::from_millis(if args.once { 5 } else { 300 });
    let mut engine = SimulatedEngine::start(args.total_blocks, load_time);
    let lifecycle = LifecycleGauges::new(&metrics, started.elapsed().as_secs_f64())?;
    let gauges = ComponentGauges::new(&metrics, &ranks)?;
    let requests = RequestMetrics::register(&metrics, &ranks)?;

    // A library with a registry of its own, bridged into the page with the worker's labels
    // (hierarchy, `worker_id`, `model`, `model_name`), as the engine's own metrics have them.
    let foreign = prometheus::Registry::new();
    let steps = IntCounter::new(
        "mocker_engine_steps_total",
        "Scheduler steps run by the simulated engine.",
    )?;
    foreign.register(Box::new(steps.clone()))?;
    metrics.add_foreign_registry(foreign, BridgeLabels::Engine)?;

    let mut step = || {
        for snapshot in engine.step(&ranks) {
            gauges.update(&snapshot);
        }
        for request in engine.finished_requests(&ranks) {
            requests.record(&request);
        }
        steps.inc();
    };

    if args.once {
        for _ in 0..=SimulatedEngine::WARMUP_STEPS {
            step();
        }
        let page = root.registry().prometheus_expfmt_combined()?;
        std::io::stdout().write_all(page.as_bytes())?;
        return Ok(());
    }

    let deadline = args
        .run_for
        .map(|s| Instant::now() + Duration::from_secs_f64(s));
    let live = std::io::stderr().is_terminal();
    let interval = Duration::from_millis(args.step_ms.max(1));
    let mut last_status = Instant::now();
    loop {
        step();
        let status = format!(
            "step {:>6} | ranks {:?} | rank 0 usage {:.2}",
            steps.get(),
            ranks,
            gauges
                .gpu_cache_usage_percent
                .rank(ranks.first().copied().unwrap_or(0))
                .get()
        );
        if live {
            eprint!("\r{status}");
        } else if last_status.elapsed() >= Duration::from_secs(5) {
            eprintln!("{status}");
            last_status = Instant::now();
        }
        let wait = match deadline {
            Some(deadline) => interval.min(deadline.saturating_duration_since(Instant::now())),
            None => interval,
        };
        if stop_rx.recv_timeout(wait).is_ok() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    drop(stop_tx);
    if live {
        eprintln!();
    }

    // Shutdown: drain, then clean up, timing both. The server keeps serving until the end so a
    // last scrape can see them.
    let drain = Instant::now();
    engine.drain();
    let drain_secs = drain.elapsed().as_secs_f64();
    lifecycle.observe_drain_time(drain_secs);
    lifecycle.observe_shutdown_stage(
        ShutdownStage::Inflight,
        ShutdownReason::Completed,
        drain_secs,
    );
    let ran = engine.steps();
    let cleanup = Instant::now();
    engine.cleanup();
    let cleanup_secs = cleanup.elapsed().as_secs_f64();
    lifecycle.observe_cleanup_time(cleanup_secs);
    lifecycle.observe_shutdown_stage(
        ShutdownStage::Cleanup,
        ShutdownReason::Completed,
        cleanup_secs,
    );
    eprintln!("stopped after {ran} steps: drain {drain_secs:.3}s, cleanup {cleanup_secs:.3}s");
    if let Some(server) = server {
        server.shutdown();
    }
    Ok(())
}
