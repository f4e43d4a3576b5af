//! A small hierarchy with a few metrics, and the combined scrape of its root.
//!
//! Run with `cargo run --example hierarchy`.

use engine_gauges::prometheus::{Gauge, IntGaugeVec};
use engine_gauges::{EngineConfig, EngineMetrics, MetricsRoot, create_metric};

fn main() -> Result<(), engine_gauges::Error> {
    let root = MetricsRoot::with_connection_id(0x7b1d_3c2a);
    let endpoint = root
        .namespace("dynamo")?
        .component("backend")?
        .endpoint("generate")?;
    let config = EngineConfig {
        model: "Qwen/Qwen3-0.6B".into(),
        served_model_name: Some("qwen3".into()),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint.clone(), &config);

    let load: Gauge = create_metric(
        &endpoint,
        "model_load_time_seconds",
        "Time engine.start() took to return.",
        &metrics.engine_const_labels(),
        None,
        None,
    )?;
    load.set(4.25);

    let blocks: IntGaugeVec = create_metric(
        &endpoint,
        "total_blocks",
        "Total number of KV cache blocks available on the worker.",
        &metrics.engine_const_labels(),
        None,
        Some(&["dp_rank"]),
    )?;
    blocks.with_label_values(&["0"]).set(4096);
    blocks.with_label_values(&["1"]).set(4096);

    print!("{}", root.registry().prometheus_expfmt_combined()?);
    Ok(())
}
