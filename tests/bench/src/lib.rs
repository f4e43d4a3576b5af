//! Fixtures of the benchmarks in `benches/`, built the way a downstream crate builds them: through
//! the public API, with the default release profile.
//!
//! Every subject is paired with a baseline that writes to (or renders) the same thing, so that a
//! ratio measured in one run compares like with like:
//!
//! - [`Writes`]: one declared rank of a [`PerRank`] family, the very prometheus child behind it
//!   (cached), the family's label lookup, and raw atomics;
//! - [`Kinds`]: the other kinds and shapes (per-rank `IntCounter` and `Counter`, a typed
//!   [`Family`], a per-rank typed family, per-rank and scalar `Histogram`s), each beside cached
//!   prometheus children and the label lookup;
//! - [`Updates`]: [`ComponentGauges::update`] and [`reference_update`], a copy of the reference's
//!   update, writing the same families;
//! - [`Scrape`]: the combined scrape of a four-level hierarchy and a plain
//!   [`Registry`] holding the same families, with the same names, labels and values (the two pages
//!   are byte for byte the same), both set up by [`page`].
//!
//! The measured loops are in [`loops`]. [`page`] also holds what `benches/scrape.rs` and
//! `benches/alloc.rs` need to render the same page with other implementations (in `src/peers`,
//! which those targets include, since they use dev-dependencies).

pub mod loops;
pub mod page;

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use engine_gauges::prometheus::{
    self, Counter, Gauge, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry,
};
use engine_gauges::{
    BoxError, ComponentGauges, ComponentSnapshot, EngineConfig, EngineGauges, EngineMetrics, Error,
    Family, LabelValue, MetricsRoot, PerRank, labels,
};

/// The worker's connection id: its `worker_id` label is this in lowercase hex.
pub const WORKER_ID: u64 = 0x6a3f_91c2_07d4;
/// The namespace level's name.
pub const NAMESPACE: &str = "dynamo";
/// The component level's name.
pub const COMPONENT: &str = "backend";
/// The endpoint level's name.
pub const ENDPOINT: &str = "generate";
/// The engine's model: its `model` and `model_name` labels.
pub const MODEL: &str = "Qwen/Qwen3-0.6B";

/// The ranks [`Writes`] and [`Updates`] declare.
pub const DECLARED: std::ops::Range<u32> = 0..8;
/// The declared rank the write benchmarks write.
pub const RANK: u32 = 3;
/// [`RANK`] as a label value.
pub const RANK_LABEL: &str = "3";
/// A rank outside the declared span: its writes take the family's label lookup.
pub const UNDECLARED: u32 = 100;

/// The four levels, root to endpoint, and the engine's handle at the endpoint.
fn endpoint_metrics() -> Result<(MetricsRoot, EngineMetrics), Error> {
    let root = MetricsRoot::with_connection_id(WORKER_ID);
    let endpoint = root
        .namespace(NAMESPACE)?
        .component(COMPONENT)?
        .endpoint(ENDPOINT)?;
    let config = EngineConfig {
        model: MODEL.to_owned(),
        ..EngineConfig::default()
    };
    Ok((root, EngineMetrics::with_engine_config(endpoint, &config)))
}

/// Two per-rank families for the write benchmarks, one of each gauge type.
#[derive(Debug, EngineGauges)]
pub struct RankWrites {
    /// Blocks, written by the integer write benchmarks.
    pub blocks: PerRank<IntGauge>,
    /// Usage, written by the float write benchmarks.
    pub usage: PerRank<Gauge>,
}

/// Everything the write benchmarks write to.
#[derive(Debug)]
pub struct Writes {
    /// The subject: [`DECLARED`] ranks of each type, resolved at registration.
    pub gauges: RankWrites,
    /// The child of [`RANK`] in `gauges.blocks`' family, looked up once and kept.
    pub int_child: IntGauge,
    /// The child of [`RANK`] in `gauges.usage`' family, looked up once and kept.
    pub float_child: Gauge,
    /// A bare atomic, the floor for an `i64` store.
    pub int_atomic: AtomicI64,
    /// A bare atomic holding `f64` bits, the floor for an `f64` store (prometheus stores a
    /// `Gauge`'s value this way).
    pub float_atomic: AtomicU64,
    _root: MetricsRoot,
}

impl Writes {
    /// Registers the families at a fresh hierarchy's endpoint.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, Error> {
        let (root, metrics) = endpoint_metrics()?;
        let ranks: Vec<u32> = DECLARED.collect();
        let gauges = RankWrites::register(&metrics, &ranks)?;
        Ok(Self {
            int_child: gauges.blocks.family().with_label_values(&[RANK_LABEL]),
            float_child: gauges.usage.family().with_label_values(&[RANK_LABEL]),
            gauges,
            int_atomic: AtomicI64::new(0),
            float_atomic: AtomicU64::new(0),
            _root: root,
        })
    }
}

/// Stores `value` in a bare atomic, as prometheus stores a `Gauge`'s value.
#[inline]
pub fn store_f64(atomic: &AtomicU64, value: f64) {
    atomic.store(value.to_bits(), Ordering::Relaxed);
}

/// The reference's way of writing one rank: format the rank, then look the child up by label.
#[inline]
pub fn reference_set<M: prometheus::core::MetricVecBuilder>(
    family: &prometheus::core::MetricVec<M>,
    rank: u32,
    set: impl FnOnce(&M::M),
) {
    let rank = rank.to_string();
    set(&family.with_label_values(&[&rank]));
}

/// Why a request finished: the typed label of the family benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, LabelValue)]
pub enum Reason {
    /// A stop token or stop string.
    Stop,
    /// The token limit.
    Length,
    /// The client went away.
    Abort,
}

/// The label value the family benchmarks write.
pub const REASON: Reason = Reason::Length;
/// [`REASON`] as a label value.
pub const REASON_LABEL: &str = "length";

/// The bounds of every histogram of the benchmarks, on both sides.
pub const BUCKETS: &[f64] = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS;

/// Counters, typed families and histograms for the write benchmarks of the other kinds: one field
/// per shape.
#[derive(Debug, EngineGauges)]
pub struct KindSet {
    /// Requests finished, by rank: the `IntCounter::inc` benchmarks.
    pub requests_total: PerRank<IntCounter>,
    /// Seconds of work, by rank: the `Counter::inc_by` benchmarks.
    pub busy_seconds_total: PerRank<Counter>,
    /// Requests finished, by why: the typed family benchmarks.
    #[metric(labels("finish_reason"))]
    pub finished_total: Family<Reason, IntCounter>,
    /// Requests finished, by rank and by why: the per-rank typed family benchmarks.
    #[metric(labels("finish_reason"))]
    pub rank_finished_total: PerRank<Family<Reason, IntCounter>>,
    /// Time to first token, by rank: the per-rank histogram benchmarks.
    #[metric(buckets = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS)]
    pub rank_time_to_first_token_seconds: PerRank<Histogram>,
    /// Time to first token: the scalar histogram benchmarks.
    #[metric(buckets = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS)]
    pub time_to_first_token_seconds: Histogram,
}

/// Everything the counter, family and histogram write benchmarks write to.
///
/// Where the set exposes its prometheus family (the `PerRank` of one series kind), the cached child
/// is the very child behind the declared rank. A typed [`Family`] does not expose its family, so
/// the family baselines are the children of a plain family with the same labels, kept in a table
/// indexed the way a hand-written fast path would: `[value.index()]`, `[rank][value.index()]`. The
/// scalar histogram's baseline is a plain `Histogram` with the same buckets.
#[derive(Debug)]
pub struct Kinds {
    /// The subjects: [`DECLARED`] ranks of each per-rank field, every label value, resolved at
    /// registration.
    pub set: KindSet,
    /// The child of [`RANK`] in `set.requests_total`' family, looked up once and kept.
    pub int_counter_child: IntCounter,
    /// The child of [`RANK`] in `set.busy_seconds_total`' family, looked up once and kept.
    pub counter_child: Counter,
    /// The child of [`RANK`] in `set.rank_time_to_first_token_seconds`' family, looked up once
    /// and kept.
    pub histogram_child: Histogram,
    /// A family labelled `finish_reason`, the target of the label lookups of the family baseline.
    pub reason_family: IntCounterVec,
    /// Its child of each [`Reason`], by [`LabelValue::index`].
    pub reason_children: [IntCounter; 3],
    /// A family labelled `dp_rank` and `finish_reason`, the target of the label lookups of the
    /// per-rank family baseline.
    pub rank_reason_family: IntCounterVec,
    /// Its child of each [`DECLARED`] rank and [`Reason`], by rank, then by
    /// [`LabelValue::index`].
    pub rank_reason_children: Box<[[IntCounter; 3]]>,
    /// A plain histogram with [`BUCKETS`], the scalar histogram's baseline.
    pub plain_histogram: Histogram,
    _plain: Registry,
    _root: MetricsRoot,
}

impl Kinds {
    /// Registers the set at a fresh hierarchy's endpoint, and the plain baselines in a registry of
    /// their own.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, BoxError> {
        let (root, metrics) = endpoint_metrics()?;
        let ranks: Vec<u32> = DECLARED.collect();
        let set = KindSet::register(&metrics, &ranks)?;

        let plain = Registry::new();
        let reason_family = IntCounterVec::new(
            Opts::new("bench_finished_total", "Requests finished, by why."),
            &["finish_reason"],
        )?;
        let rank_reason_family = IntCounterVec::new(
            Opts::new(
                "bench_rank_finished_total",
                "Requests finished, by rank and by why.",
            ),
            &[labels::DP_RANK, "finish_reason"],
        )?;
        let plain_histogram = Histogram::with_opts(
            HistogramOpts::new("bench_time_to_first_token_seconds", "Time to first token.")
                .buckets(BUCKETS.to_vec()),
        )?;
        plain.register(Box::new(reason_family.clone()))?;
        plain.register(Box::new(rank_reason_family.clone()))?;
        plain.register(Box::new(plain_histogram.clone()))?;

        let reasons = |family: &IntCounterVec, rank: Option<String>| {
            let children: Vec<IntCounter> = Reason::VALUES
                .iter()
                .map(|reason| match &rank {
                    Some(rank) => family.get_metric_with_label_values(&[rank.as_str(), reason]),
                    None => family.get_metric_with_label_values(&[reason]),
                })
                .collect::<prometheus::Result<_>>()?;
            <[IntCounter; 3]>::try_from(children)
                .map_err(|_| BoxError::from("`Reason` has three values"))
        };
        let reason_children = reasons(&reason_family, None)?;
        let rank_reason_children = DECLARED
            .map(|rank| reasons(&rank_reason_family, Some(rank.to_string())))
            .collect::<Result<Vec<_>, _>>()?
            .into_boxed_slice();

        Ok(Self {
            int_counter_child: set.requests_total.family().with_label_values(&[RANK_LABEL]),
            counter_child: set
                .busy_seconds_total
                .family()
                .with_label_values(&[RANK_LABEL]),
            histogram_child: set
                .rank_time_to_first_token_seconds
                .family()
                .with_label_values(&[RANK_LABEL]),
            set,
            reason_family,
            reason_children,
            rank_reason_family,
            rank_reason_children,
            plain_histogram,
            _plain: plain,
            _root: root,
        })
    }
}

/// The reference worker's per-rank gauges, registered at a fresh hierarchy's endpoint.
#[derive(Debug)]
pub struct Updates {
    /// The families, [`DECLARED`] ranks seeded.
    pub gauges: ComponentGauges,
    _root: MetricsRoot,
}

impl Updates {
    /// Registers [`ComponentGauges`] for [`DECLARED`] ranks and writes each of them once, hit rate
    /// included, so that both update paths find every child in place.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, Error> {
        let (root, metrics) = endpoint_metrics()?;
        let ranks: Vec<u32> = DECLARED.collect();
        let gauges = ComponentGauges::new(&metrics, &ranks)?;
        for rank in DECLARED.chain([UNDECLARED]) {
            gauges.update(&snapshot(rank));
        }
        Ok(Self {
            gauges,
            _root: root,
        })
    }
}

/// A snapshot of `rank` that writes all three per-rank gauges.
pub fn snapshot(rank: u32) -> ComponentSnapshot {
    ComponentSnapshot {
        kv_used_blocks: 1_000 + u64::from(rank),
        kv_total_blocks: 4_096 + u64::from(rank),
        gpu_cache_usage: 0.25 + (rank % 64) as f32 / 256.0,
        kv_cache_hit_rate: Some(0.5 + (rank % 32) as f32 / 128.0),
        dp_rank: rank,
    }
}

/// A hand-written copy of the reference's `ComponentGauges::update`: the rank formatted once, then
/// three label lookups.
pub fn reference_update(gauges: &ComponentGauges, snapshot: &ComponentSnapshot) {
    let rank = snapshot.dp_rank.to_string();
    gauges
        .total_blocks
        .family()
        .with_label_values(&[&rank])
        .set(snapshot.kv_total_blocks as i64);
    gauges
        .gpu_cache_usage_percent
        .family()
        .with_label_values(&[&rank])
        .set(f64::from(snapshot.gpu_cache_usage));
    if let Some(rate) = snapshot.kv_cache_hit_rate {
        gauges
            .kv_cache_hit_rate
            .family()
            .with_label_values(&[&rank])
            .set(f64::from(rate));
    }
}

/// The scrape benchmark's two sides, on the page of [`page`]: a four-level hierarchy (root →
/// namespace → component → endpoint) whose endpoint carries [`engine_gauges::LifecycleGauges`] and
/// [`ComponentGauges`], and a plain prometheus [`Registry`] holding the same six families with the
/// same series.
#[derive(Debug)]
pub struct Scrape {
    ours: page::Hierarchy,
    plain: page::Plain,
}

impl Scrape {
    /// Both sides with `ranks` ranks (0 to `ranks - 1`), every rank written.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new(ranks: u32) -> Result<Self, BoxError> {
        Ok(Self {
            ours: page::Hierarchy::new(ranks)?,
            plain: page::Plain::new(ranks)?,
        })
    }

    /// The subject: the root's combined scrape, which walks all four levels.
    ///
    /// # Errors
    /// As [`engine_gauges::MetricsRegistry::prometheus_expfmt_combined`].
    pub fn combined(&self) -> Result<String, Error> {
        self.ours.render()
    }

    /// The baseline: [`Registry::gather`] and the text encoder, nothing else.
    ///
    /// # Errors
    /// As [`prometheus::TextEncoder::encode_utf8`].
    pub fn plain(&self) -> prometheus::Result<String> {
        let mut page = String::new();
        self.plain.render_into(&mut page)?;
        Ok(page)
    }

    /// How many series each page has: three per rank and the three lifecycle gauges.
    pub fn series(&self) -> usize {
        self.ours.series()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_scrape_sides_render_the_same_page() {
        for ranks in [1, 8, 64] {
            let scrape = Scrape::new(ranks).expect("fixture registers");
            let combined = scrape.combined().expect("combined scrape");
            let plain = scrape.plain().expect("plain scrape");
            assert_eq!(combined, plain, "{ranks} ranks");
            let samples = plain.lines().filter(|l| !l.starts_with('#')).count();
            assert_eq!(samples, scrape.series(), "{ranks} ranks");
            assert!(combined.contains("worker_id=\"6a3f91c207d4\""));
        }
    }

    #[test]
    fn both_update_paths_write_the_same_children() {
        let updates = Updates::new().expect("fixture registers");
        let gauges = &updates.gauges;
        for rank in [RANK, UNDECLARED] {
            let mut snap = snapshot(rank);
            snap.kv_total_blocks = 77;
            snap.kv_cache_hit_rate = Some(0.125);
            gauges.update(&snap);
            let label = rank.to_string();
            let child = gauges.total_blocks.family().with_label_values(&[&label]);
            assert_eq!(child.get(), 77);
            snap.kv_total_blocks = 78;
            reference_update(gauges, &snap);
            assert_eq!(child.get(), 78);
            assert_eq!(gauges.total_blocks.rank(rank).get(), 78);
            let rate = gauges
                .kv_cache_hit_rate
                .family()
                .with_label_values(&[&label]);
            assert_eq!(rate.get(), 0.125);
        }
    }

    #[test]
    fn kind_baselines_are_the_same_series_or_alike() {
        let kinds = Kinds::new().expect("fixture registers");
        let set = &kinds.set;
        set.requests_total.rank(RANK).inc();
        assert_eq!(kinds.int_counter_child.get(), 1);
        set.busy_seconds_total.rank(RANK).inc_by(0.5);
        assert_eq!(kinds.counter_child.get(), 0.5);
        set.rank_time_to_first_token_seconds.rank(RANK).observe(0.3);
        assert_eq!(kinds.histogram_child.get_sample_count(), 1);

        // The typed families' baselines are other families, indexed the same way.
        assert_eq!(Reason::VALUES[REASON.index()], REASON_LABEL);
        kinds.reason_children[REASON.index()].inc();
        assert_eq!(
            kinds.reason_family.with_label_values(&[REASON_LABEL]).get(),
            1
        );
        kinds.rank_reason_children[RANK as usize][REASON.index()].inc();
        assert_eq!(
            kinds
                .rank_reason_family
                .with_label_values(&[RANK_LABEL, REASON_LABEL])
                .get(),
            1
        );
        set.finished_total.with(REASON).inc();
        assert_eq!(set.finished_total.with(REASON).get(), 1);
        set.rank_finished_total.rank(RANK).with(REASON).inc();
        assert_eq!(set.rank_finished_total.rank(RANK).with(REASON).get(), 1);
        assert_eq!(set.rank_finished_total.rank(RANK + 1).with(REASON).get(), 0);

        // The scalar histogram and its baseline have the same buckets.
        set.time_to_first_token_seconds.observe(0.3);
        kinds.plain_histogram.observe(0.3);
        let buckets = |h: &Histogram| {
            use prometheus::core::Collector;
            h.collect()[0].get_metric()[0]
                .get_histogram()
                .get_bucket()
                .iter()
                .map(|b| (b.upper_bound(), b.cumulative_count()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            buckets(&set.time_to_first_token_seconds),
            buckets(&kinds.plain_histogram)
        );
        assert_eq!(buckets(&kinds.plain_histogram).len(), BUCKETS.len());
    }

    #[test]
    fn cached_children_are_the_declared_ranks() {
        let writes = Writes::new().expect("fixture registers");
        writes.gauges.blocks.rank(RANK).set(41);
        assert_eq!(writes.int_child.get(), 41);
        writes.gauges.usage.rank(RANK).set(0.5);
        assert_eq!(writes.float_child.get(), 0.5);
        reference_set(writes.gauges.blocks.family(), RANK, |g| g.set(42));
        assert_eq!(writes.int_child.get(), 42);
        store_f64(&writes.float_atomic, 1.5);
        assert_eq!(
            f64::from_bits(writes.float_atomic.load(Ordering::Relaxed)),
            1.5
        );
    }
}
