//! The page with the `prometheus-client` crate.
//!
//! The registry carries the six hierarchy labels as its constant labels; each per-rank gauge is a
//! `Family` keyed by the rank, each scalar a plain `Gauge`. The page is rendered by the crate's
//! Prometheus text encoder (`encoding::prometheus_text`, format 0.0.4, no `# EOF`).
//!
//! The page differs from the prometheus page in spelling only: the registry appends a full stop to
//! every help text (so the help texts are registered without theirs), constant labels come before
//! `dp_rank`, floats are printed with `dtoa` (`4096.0` where prometheus prints `4096`), and series
//! come in hash-map order (prometheus sorts them by label value).

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::AtomicU64;

use ::prometheus_client::encoding::{EncodeLabelSet, prometheus_text};
use ::prometheus_client::metrics::family::Family;
use ::prometheus_client::metrics::gauge::Gauge;
use ::prometheus_client::registry::Registry;
use engine_gauges_bench::page::{
    self, CLEANUP_SECONDS, CLEANUP_TIME, DRAIN_SECONDS, DRAIN_TIME, GPU_CACHE_USAGE,
    KV_CACHE_HIT_RATE, MODEL_LOAD_SECONDS, MODEL_LOAD_TIME, TOTAL_BLOCKS, rank_values,
};

/// The variable label of the per-rank families.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RankLabel {
    dp_rank: u32,
}

/// An `f64` gauge.
type FloatGauge = Gauge<f64, AtomicU64>;

/// The page, with `prometheus-client`'s registry.
#[derive(Debug)]
pub(crate) struct ClientPage {
    registry: Registry,
    total_blocks: Family<RankLabel, Gauge>,
    gpu_cache_usage: Family<RankLabel, FloatGauge>,
    kv_cache_hit_rate: Family<RankLabel, FloatGauge>,
}

impl ClientPage {
    /// The page with ranks 0 to `ranks - 1` written.
    pub(crate) fn new(ranks: u32) -> Self {
        let mut registry = Registry::with_labels(
            page::hierarchy_labels()
                .into_iter()
                .map(|(name, value)| (Cow::Borrowed(name), Cow::Owned(value))),
        );
        // The registry appends a full stop to the help text.
        let help = |name: &str| {
            let help = page::help(name);
            help.strip_suffix('.').unwrap_or(help)
        };
        let total_blocks = Family::<RankLabel, Gauge>::default();
        let gpu_cache_usage = Family::<RankLabel, FloatGauge>::default();
        let kv_cache_hit_rate = Family::<RankLabel, FloatGauge>::default();
        // Registered in the prometheus page's order of families.
        for (name, seconds) in [(CLEANUP_TIME, CLEANUP_SECONDS), (DRAIN_TIME, DRAIN_SECONDS)] {
            let gauge = FloatGauge::default();
            gauge.set(seconds);
            registry.register(name, help(name), gauge);
        }
        registry.register(
            GPU_CACHE_USAGE,
            help(GPU_CACHE_USAGE),
            gpu_cache_usage.clone(),
        );
        registry.register(
            KV_CACHE_HIT_RATE,
            help(KV_CACHE_HIT_RATE),
            kv_cache_hit_rate.clone(),
        );
        let load = FloatGauge::default();
        load.set(MODEL_LOAD_SECONDS);
        registry.register(MODEL_LOAD_TIME, help(MODEL_LOAD_TIME), load);
        registry.register(TOTAL_BLOCKS, help(TOTAL_BLOCKS), total_blocks.clone());

        let page = Self {
            registry,
            total_blocks,
            gpu_cache_usage,
            kv_cache_hit_rate,
        };
        for rank in 0..ranks {
            page.update(rank);
        }
        page
    }

    /// Writes `rank`'s three series.
    fn update(&self, rank: u32) {
        let values = rank_values(rank);
        let label = RankLabel { dp_rank: rank };
        self.total_blocks
            .get_or_create(&label)
            .set(values.total_blocks);
        self.gpu_cache_usage
            .get_or_create(&label)
            .set(values.gpu_cache_usage);
        self.kv_cache_hit_rate
            .get_or_create(&label)
            .set(values.kv_cache_hit_rate);
    }

    /// Renders the page into `out` (cleared first).
    pub(crate) fn render_into(&self, out: &mut String) -> fmt::Result {
        out.clear();
        prometheus_text::encode(out, &self.registry)
    }
}
