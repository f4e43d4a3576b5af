//! A gauge set of your own: const labels, labelled families, per-rank families and a snapshot.
//!
//! `cargo run --example custom` prints the page.

use engine_gauges::prometheus::{Gauge, IntGauge, IntGaugeVec};
use engine_gauges::{EngineConfig, EngineGauges, EngineMetrics, MetricsRoot, PerRank};

/// What a scheduler reports about one data-parallel rank.
#[derive(Clone, Copy, Debug, Default)]
struct SchedulerSnapshot {
    dp_rank: u32,
    running: u64,
    waiting: u64,
    kv_usage: f32,
    /// `None` until speculative decoding has run.
    acceptance_rate: Option<f64>,
}

/// Scheduler gauges of a mocker engine.
#[derive(Debug, EngineGauges)]
#[gauges(snapshot = SchedulerSnapshot, const_labels(engine = "mocker", scheduler = "fcfs"))]
struct Scheduler {
    /// Sequences running, by rank.
    #[metric(from = running)]
    running_sequences: PerRank<IntGauge>,
    /// Sequences waiting to be scheduled, by rank.
    #[metric(from = waiting)]
    waiting_sequences: PerRank<IntGauge>,
    /// KV cache usage (0.0-1.0), by rank.
    #[metric(from = kv_usage, name = "kv_usage_ratio")]
    kv_usage: PerRank<Gauge>,
    /// Speculative decoding acceptance rate (0.0-1.0), by rank; absent until it has run.
    #[metric(from = acceptance_rate, unseeded)]
    spec_acceptance_rate: PerRank<Gauge>,
    /// LoRA adapters loaded, by adapter and rank.
    #[metric(labels("lora_adapter", "rank"))]
    lora_loaded: IntGaugeVec,
    /// Batch size limit of the scheduler.
    max_batch_size: IntGauge,
}

fn main() -> Result<(), engine_gauges::Error> {
    let endpoint = MetricsRoot::with_connection_id(0xbeef)
        .namespace("dynamo")?
        .component("mocker")?
        .endpoint("generate")?;
    let config = EngineConfig {
        model: "/models/llama-3.1-8b".into(),
        served_model_name: Some("llama-3.1-8b".into()),
        data_parallel_size: Some(2),
        data_parallel_start_rank: Some(4),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let scheduler = Scheduler::register(&metrics, &config.dp_ranks()?)?;

    scheduler.max_batch_size.set(256);
    scheduler
        .lora_loaded
        .with_label_values(&["sql-expert", "4"])
        .set(1);
    scheduler.update(&SchedulerSnapshot {
        dp_rank: 4,
        running: 12,
        waiting: 3,
        kv_usage: 0.625,
        acceptance_rate: Some(0.7),
    });
    scheduler.update(&SchedulerSnapshot {
        dp_rank: 5,
        running: 9,
        waiting: 0,
        kv_usage: 0.5,
        acceptance_rate: None,
    });
    print!("{}", metrics.registry().prometheus_expfmt_combined()?);
    Ok(())
}
