//! The bound on the undeclared ranks of one per-rank family, and the counter of the writes it
//! drops.
//!
//! A declared rank's series is resolved when its set registers. Any other rank a write names gets
//! a series of its own the first time, up to a bound per family: past it, writes to new ranks are
//! dropped and counted in [`DROPPED_WRITES`]`{metric="<exported name>"}`, on the page of the
//! family's level from the first dropped write on. This keeps a worker whose engine reports ranks
//! it was never told about (a misconfiguration, a bug, hostile input) from growing without bound:
//! every series costs memory and every scrape time, on the worker and in Prometheus. Prometheus's
//! guidance is to keep a metric's label values few and bounded, and OpenTelemetry's SDKs cap the
//! series of a metric the same way (2,000 by default, with an overflow series).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use prometheus::{IntCounter, IntCounterVec};

/// The name of the counter of writes dropped by a per-rank family's bound on undeclared ranks.
pub const DROPPED_WRITES: &str = "engine_gauges_dropped_writes_total";

/// How many undeclared ranks a per-rank family takes by default before it drops writes to new
/// ones: four times the widest data-parallel deployments in use, still a small page. Set it per
/// field with `#[metric(max_undeclared_ranks = N)]`.
pub const DEFAULT_MAX_UNDECLARED_RANKS: u32 = 256;

/// Which ranks a per-rank family has taken beyond its declared ones.
pub(crate) struct RankBound {
    metric: &'static str,
    limit: usize,
    /// Makes (or finds) the level's counter of dropped writes: called with the first dropped
    /// write, so that a level whose families never drop a write holds no such counter.
    dropped: Box<dyn Fn() -> Option<IntCounterVec> + Send + Sync>,
    /// This family's series of it, made with the first dropped write.
    counter: OnceLock<Option<IntCounter>>,
    warned: AtomicBool,
}

impl RankBound {
    pub(crate) fn new(
        metric: &'static str,
        limit: u32,
        dropped: impl Fn() -> Option<IntCounterVec> + Send + Sync + 'static,
    ) -> Self {
        Self {
            metric,
            limit: limit as usize,
            dropped: Box::new(dropped),
            counter: OnceLock::new(),
            warned: AtomicBool::new(false),
        }
    }

    /// How many undeclared ranks it takes.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Counts a write to a new rank that the family had no room for.
    #[cold]
    pub(crate) fn count_dropped(&self, rank: u32) {
        let counter = self.counter.get_or_init(|| {
            (self.dropped)().map(|dropped| dropped.with_label_values(&[self.metric]))
        });
        if let Some(counter) = counter {
            counter.inc();
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                metric = self.metric,
                rank,
                limit = self.limit,
                "a write to an undeclared rank was dropped: the family already holds its most \
                 undeclared ranks; declare the worker's ranks at registration, or raise \
                 `max_undeclared_ranks` (every later drop is counted in {DROPPED_WRITES})"
            );
        }
    }
}

impl std::fmt::Debug for RankBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RankBound")
            .field("metric", &self.metric)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}
