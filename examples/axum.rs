//! The metrics page mounted in an `axum` router, beside the engine's own routes: for engines that
//! already run an HTTP server and want `/metrics` on it rather than on a port of its own.
//!
//! `cargo run --example axum` serves <http://127.0.0.1:9465/metrics> and `/health` until Ctrl-C
//! (or `--run-for SECS`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use clap::Parser;
use engine_gauges::prometheus::IntGauge;
use engine_gauges::{
    EngineConfig, EngineMetrics, MetricsRoot, create_metric, scrape::ScrapeOptions,
};

/// An engine's HTTP server with the metrics page mounted on it.
#[derive(Debug, Parser)]
struct Args {
    /// Where to serve (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9465")]
    listen: SocketAddr,
    /// Stop after this many seconds.
    #[arg(long)]
    run_for: Option<f64>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("axum: could not start a runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("axum: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let root = MetricsRoot::with_connection_id(0x7b1d);
    let endpoint = root
        .namespace("dynamo")?
        .component("backend")?
        .endpoint("generate")?;
    let config = EngineConfig {
        model: "Qwen/Qwen3-0.6B".into(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint.clone(), &config);
    let running: IntGauge = create_metric(
        &endpoint,
        "num_requests_running",
        "Requests in the running batch.",
        &metrics.engine_const_labels(),
        None,
        None,
    )?;
    running.set(3);

    // The engine's own routes, and the page beside them. The route answers GET and HEAD, with
    // shared renders, the scrape timeout (503 past it) and gzip when the client accepts it.
    let app = Router::new()
        .route("/health", get(|| async { "ok\n" }))
        .route(
            "/metrics",
            engine_gauges::axum::metrics_route(root.registry().clone(), ScrapeOptions::default()),
        );

    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    eprintln!("serving http://{}/metrics", listener.local_addr()?);
    let stop = async move {
        match args.run_for {
            Some(secs) => tokio::time::sleep(Duration::from_secs_f64(secs)).await,
            None => std::future::pending().await,
        }
    };
    axum::serve(listener, app)
        .with_graceful_shutdown(stop)
        .await?;
    Ok(())
}
