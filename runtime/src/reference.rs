//! The reference worker's own gauge sets, declared with the derive.

use prometheus::Gauge;

use prometheus::IntGauge;

use crate::{ComponentSnapshot, EngineGauges, EngineMetrics, Error, Family, LabelValue, PerRank};

/// A stage of a worker's graceful shutdown, in the order they run: the `stage` label of
/// `shutdown_stage_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum ShutdownStage {
    /// The worker leaves service discovery.
    Unregister,
    /// Routers are given time to stop sending new requests.
    RouterGrace,
    /// The engine stops admitting requests.
    StopAdmission,
    /// In-flight requests finish.
    Inflight,
    /// KV cache blocks still wanted elsewhere are handed over.
    KvTransfer,
    /// The engine releases its resources.
    Cleanup,
}

/// How a shutdown stage ended: the `reason` label of `shutdown_stage_seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, LabelValue)]
pub enum ShutdownReason {
    /// The stage did all its work.
    Completed,
    /// The stage ran out of time.
    TimedOut,
    /// The stage had nothing to do, or was configured off.
    Skipped,
    /// The stage was cut short by a second signal or an error.
    Cancelled,
    /// The engine has no hook for this stage.
    Unsupported,
}

/// Lifecycle timings every worker exports, whether or not its engine opts into metrics:
/// `dynamo_component_cleanup_time_seconds`, `..._drain_time_seconds`,
/// `..._model_load_time_seconds`, and `..._shutdown_stage_seconds{stage, reason}` (one series per
/// stage that ran).
// The fields are the reference's metric names, all durations, and their docs its help texts,
// byte for byte (no backticks added).
#[allow(clippy::struct_field_names, clippy::doc_markdown)]
#[derive(Debug, EngineGauges)]
pub struct LifecycleGauges {
    /// Time spent releasing engine resources during shutdown. Set
    /// by the framework once after engine.cleanup() returns.
    cleanup_time_seconds: Gauge,
    /// Time spent draining in-flight work before cleanup. Stays at
    /// 0 for engines without a drain hook.
    drain_time_seconds: Gauge,
    /// Time engine.start() took to return. Set once at Worker setup.
    model_load_time_seconds: Gauge,
    /// Seconds one stage of the graceful shutdown took, by stage and by how it ended. A stage
    /// that never ran has no series.
    #[metric(labels("stage", "reason"), unseeded)]
    shutdown_stage_seconds: Family<(ShutdownStage, ShutdownReason), Gauge>,
}

impl LifecycleGauges {
    /// Registers the lifecycle metrics at `metrics`' level and sets the model load time (the
    /// measured duration of `engine.start()`); drain and cleanup start at 0.
    ///
    /// # Errors
    /// As [`EngineGauges::register`]; for example
    /// [`MetricErrorKind::AlreadyRegistered`](crate::error::MetricErrorKind::AlreadyRegistered)
    /// when the level already has them.
    pub fn new(metrics: &EngineMetrics, model_load_time_seconds: f64) -> Result<Self, Error> {
        let gauges = Self::register(metrics, &[])?;
        gauges.model_load_time_seconds.set(model_load_time_seconds);
        Ok(gauges)
    }

    /// Records how long `engine.cleanup()` took. Called once, at shutdown.
    pub fn observe_cleanup_time(&self, seconds: f64) {
        self.cleanup_time_seconds.set(seconds);
    }

    /// Records how long draining in-flight work took. Called once, at graceful shutdown.
    pub fn observe_drain_time(&self, seconds: f64) {
        self.drain_time_seconds.set(seconds);
    }

    /// Records how long one shutdown stage took and how it ended. Called once per stage that
    /// runs; its series then appears on the page.
    pub fn observe_shutdown_stage(
        &self,
        stage: ShutdownStage,
        reason: ShutdownReason,
        seconds: f64,
    ) {
        self.shutdown_stage_seconds
            .with((stage, reason))
            .set(seconds);
    }

    /// The recorded model load time, in seconds.
    pub fn model_load_time_seconds(&self) -> f64 {
        self.model_load_time_seconds.get()
    }
}

/// Per-rank engine gauges, labelled `dp_rank`: `dynamo_component_total_blocks`,
/// `..._gpu_cache_usage_percent` and `..._kv_cache_hit_rate`, written from
/// [`ComponentSnapshot`]s with [`ComponentGauges::update`].
///
/// The hit rate is tri-state: absent until the first snapshot with `Some` (and `Some(0.0)` writes).
#[derive(Debug, EngineGauges)]
#[gauges(snapshot = ComponentSnapshot)]
pub struct ComponentGauges {
    /// Total number of KV cache blocks available on the worker.
    #[metric(from = kv_total_blocks)]
    pub total_blocks: PerRank<IntGauge>,
    /// GPU cache usage as a percentage (0.0-1.0).
    #[metric(from = gpu_cache_usage)]
    pub gpu_cache_usage_percent: PerRank<Gauge>,
    /// Prefix cache hit rate (0.0-1.0). Portable across engines.
    #[metric(from = kv_cache_hit_rate, unseeded)]
    pub kv_cache_hit_rate: PerRank<Gauge>,
}

impl ComponentGauges {
    /// Registers the three families at `metrics`' level, seeding `dp_ranks` at 0 (except the hit
    /// rate).
    ///
    /// # Errors
    /// As [`EngineGauges::register`].
    pub fn new(metrics: &EngineMetrics, dp_ranks: &[u32]) -> Result<Self, Error> {
        Self::register(metrics, dp_ranks)
    }
}
