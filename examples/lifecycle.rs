//! The lifecycle gauges, declared with the derive and driven through start, drain and cleanup.
//!
//! `cargo run --example lifecycle` prints the page after shutdown.

use std::time::{Duration, Instant};

use engine_gauges::prometheus::Gauge;
use engine_gauges::reference::{ShutdownReason, ShutdownStage};
use engine_gauges::{EngineConfig, EngineGauges, EngineMetrics, Family, MetricsRoot};
use engine_gauges_examples::SimulatedEngine;

/// What a worker's life costs: the same metrics as `engine_gauges::reference::LifecycleGauges`, declared
/// here to show the derive.
#[derive(Debug, EngineGauges)]
struct Lifecycle {
    /// Time engine.start() took to return. Set once at Worker setup.
    model_load_time_seconds: Gauge,
    /// Time spent draining in-flight work before cleanup. Stays at
    /// 0 for engines without a drain hook.
    drain_time_seconds: Gauge,
    /// Time spent releasing engine resources during shutdown. Set
    /// by the framework once after engine.cleanup() returns.
    cleanup_time_seconds: Gauge,
    /// Seconds one stage of the graceful shutdown took, by stage and by how it ended. A stage
    /// that never ran has no series.
    #[metric(labels("stage", "reason"), unseeded)]
    shutdown_stage_seconds: Family<(ShutdownStage, ShutdownReason), Gauge>,
}

fn main() -> Result<(), engine_gauges::Error> {
    let endpoint = MetricsRoot::with_connection_id(0x51)
        .namespace("dynamo")?
        .component("backend")?
        .endpoint("generate")?;
    let config = EngineConfig {
        model: "mistralai/Mistral-7B-Instruct-v0.3".into(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let lifecycle = Lifecycle::register(&metrics, &[])?;

    let start = Instant::now();
    let mut engine = SimulatedEngine::start(1024, Duration::from_millis(120));
    lifecycle
        .model_load_time_seconds
        .set(start.elapsed().as_secs_f64());

    engine.step(&[0]);

    let drain = Instant::now();
    engine.drain();
    let drained = drain.elapsed().as_secs_f64();
    lifecycle.drain_time_seconds.set(drained);
    lifecycle
        .shutdown_stage_seconds
        .with((ShutdownStage::Inflight, ShutdownReason::Completed))
        .set(drained);
    // This engine hands no KV blocks over: the stage is recorded as unsupported.
    lifecycle
        .shutdown_stage_seconds
        .with((ShutdownStage::KvTransfer, ShutdownReason::Unsupported))
        .set(0.0);

    let cleanup = Instant::now();
    engine.cleanup();
    let cleaned = cleanup.elapsed().as_secs_f64();
    lifecycle.cleanup_time_seconds.set(cleaned);
    lifecycle
        .shutdown_stage_seconds
        .with((ShutdownStage::Cleanup, ShutdownReason::Completed))
        .set(cleaned);

    print!("{}", metrics.registry().prometheus_expfmt_combined()?);
    Ok(())
}
