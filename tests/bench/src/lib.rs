//! Fixtures of the benchmarks in `benches/`, built the way a downstream crate builds them: through
//! the public API, with the default release profile.
//!
//! Every subject is paired with a baseline that writes to (or renders) the same thing, so that a
//! ratio measured in one run compares like with like:
//!
//! - [`Writes`]: one declared rank of a [`PerRank`] family, the child of the same rank in a
//!   prometheus shadow of the family (cached), the shadow's label lookup, and raw atomics;
//! - [`Kinds`]: the other kinds and shapes (per-rank `IntCounter` and `Counter`, a typed
//!   [`Family`], a per-rank typed family, per-rank and scalar `Histogram`s), each beside cached
//!   children of its prometheus shadow and the shadow's label lookup;
//! - [`Updates`]: [`ComponentGauges::update`] and [`reference_update`], a copy of the reference's
//!   update, writing a prometheus shadow of the same families;
//! - [`Scrape`]: the combined scrape of a four-level hierarchy and a plain
//!   [`Registry`] holding the same families, with the same names, labels and values (the two pages
//!   are byte for byte the same), both set up by [`page`].
//!
//! A *shadow* of a field is a plain prometheus family equivalent to it: the same name, help,
//! variable labels, const labels (the set's own, and the hierarchy and engine labels the field
//! gets at the endpoint) and buckets, made in a [`Registry`] of its own, so that its page is byte
//! for byte the field's lines of the combined scrape. `PerRank` and `Family` fields keep their
//! values in the crate's own store, not in prometheus children; the shadow's children, looked up
//! once and cached, are the prometheus baseline every per-rank write is compared with.
//!
//! The measured loops are in [`loops`]. [`page`] also holds what `benches/scrape.rs` and
//! `benches/alloc.rs` need to render the same page with other implementations (in `src/peers`,
//! which those targets include, since they use dev-dependencies).

pub mod loops;
pub mod page;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use engine_gauges::prometheus::{
    self, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};
use engine_gauges::{
    ComponentSnapshot, EngineConfig, EngineGauges, EngineMetrics, Error, Family, LabelValue,
    MetricsRoot, PerRank, metric::MetricDescriptor, reference::ComponentGauges, scrape::BoxError,
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

/// What a shadow of a field is made from: its name, help and const labels (the set's own, and the
/// hierarchy and engine labels of the benchmarks' endpoint), its variable labels, and a
/// histogram's buckets.
#[derive(Debug)]
pub struct ShadowOpts {
    /// The name, help and const labels.
    pub opts: Opts,
    /// The variable labels, `dp_rank` first for a per-rank field.
    pub labels: &'static [&'static str],
    /// A histogram's bucket upper bounds; empty for other kinds.
    pub buckets: &'static [f64],
}

impl ShadowOpts {
    /// The shadow of `S`'s field `field` (its name without prefix).
    ///
    /// # Errors
    /// If `S` declares no such field.
    pub fn of<S: EngineGauges>(field: &str) -> Result<Self, BoxError> {
        let d: &MetricDescriptor = S::DESCRIPTORS
            .iter()
            .find(|d| d.short_name == field)
            .ok_or_else(|| BoxError::from(format!("no field `{field}`")))?;
        let const_labels: HashMap<String, String> = page::hierarchy_labels()
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value))
            .chain(
                d.const_labels
                    .iter()
                    .map(|&(label, value)| (label.to_owned(), value.to_owned())),
            )
            .collect();
        Ok(Self {
            opts: Opts::new(d.name, d.help).const_labels(const_labels),
            labels: d.variable_labels,
            buckets: d.buckets,
        })
    }

    /// The histogram options: [`Self::opts`] and [`Self::buckets`].
    pub fn histogram(&self) -> HistogramOpts {
        HistogramOpts::from(self.opts.clone()).buckets(self.buckets.to_vec())
    }
}

/// Makes the shadow of `S`'s field `field` with `make`, and registers it in `registry`.
///
/// # Errors
/// If `S` declares no such field, and any error of `make` or of registration.
pub fn shadow<S, C>(
    registry: &Registry,
    field: &str,
    make: impl FnOnce(&ShadowOpts) -> prometheus::Result<C>,
) -> Result<C, BoxError>
where
    S: EngineGauges,
    C: prometheus::core::Collector + Clone + 'static,
{
    let collector = make(&ShadowOpts::of::<S>(field)?)?;
    registry.register(Box::new(collector.clone()))?;
    Ok(collector)
}

/// [`Registry::gather`] and the text encoder: a shadow registry's page.
///
/// # Errors
/// As [`TextEncoder::encode_utf8`].
pub fn shadow_page(registry: &Registry) -> prometheus::Result<String> {
    let mut page = String::new();
    TextEncoder::new().encode_utf8(&registry.gather(), &mut page)?;
    Ok(page)
}

/// The combined scrape of `root`, and the page of the `shadow` registry.
fn pages(root: &MetricsRoot, shadow: &Registry) -> Result<(String, String), BoxError> {
    let ours = root.registry().prometheus_expfmt_combined()?;
    Ok((ours, shadow_page(shadow)?))
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
    /// The shadow of `gauges.blocks`: the target of the label lookups of the integer baselines.
    pub shadow_blocks: IntGaugeVec,
    /// The shadow of `gauges.usage`: the target of the label lookups of the float baselines.
    pub shadow_usage: GaugeVec,
    /// The child of [`RANK`] in `shadow_blocks`, looked up once and kept.
    pub int_child: IntGauge,
    /// The child of [`RANK`] in `shadow_usage`, looked up once and kept.
    pub float_child: Gauge,
    /// A bare atomic, the floor for an `i64` store.
    pub int_atomic: AtomicI64,
    /// A bare atomic holding `f64` bits, the floor for an `f64` store (prometheus stores a
    /// `Gauge`'s value this way).
    pub float_atomic: AtomicU64,
    shadow: Registry,
    root: MetricsRoot,
}

impl Writes {
    /// Registers the families at a fresh hierarchy's endpoint, and their shadows in a registry of
    /// their own, [`DECLARED`] ranks seeded on both sides.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, BoxError> {
        let (root, metrics) = endpoint_metrics()?;
        let ranks: Vec<u32> = DECLARED.collect();
        let gauges = RankWrites::register(&metrics, &ranks)?;
        let registry = Registry::new();
        let shadow_blocks = shadow::<RankWrites, _>(&registry, "blocks", |s| {
            IntGaugeVec::new(s.opts.clone(), s.labels)
        })?;
        let shadow_usage = shadow::<RankWrites, _>(&registry, "usage", |s| {
            GaugeVec::new(s.opts.clone(), s.labels)
        })?;
        for rank in DECLARED {
            let rank = rank.to_string();
            shadow_blocks.with_label_values(&[&rank]);
            shadow_usage.with_label_values(&[&rank]);
        }
        Ok(Self {
            int_child: shadow_blocks.with_label_values(&[RANK_LABEL]),
            float_child: shadow_usage.with_label_values(&[RANK_LABEL]),
            shadow_blocks,
            shadow_usage,
            gauges,
            int_atomic: AtomicI64::new(0),
            float_atomic: AtomicU64::new(0),
            shadow: registry,
            root,
        })
    }

    /// The combined scrape of the hierarchy, and the shadows' page: the shadows' families render
    /// the same lines in both.
    ///
    /// # Errors
    /// Any error of either scrape.
    pub fn pages(&self) -> Result<(String, String), BoxError> {
        pages(&self.root, &self.shadow)
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
/// Each field has a shadow, a plain prometheus family (or, for the scalar histogram, a plain
/// `Histogram`) with the same name, help, labels, const labels and buckets, in a registry of its
/// own. For a `PerRank` of one series kind, the cached child is the shadow's child of the declared
/// rank. For the typed families, the cached children are all of the shadow's, kept in a table
/// indexed the way a hand-written fast path would: `[value.index()]`, `[rank][value.index()]`.
#[derive(Debug)]
pub struct Kinds {
    /// The subjects: [`DECLARED`] ranks of each per-rank field, every label value, resolved at
    /// registration.
    pub set: KindSet,
    /// The shadow of `set.requests_total`: the target of the counter's label lookups.
    pub int_counter_family: IntCounterVec,
    /// The child of [`RANK`] in `int_counter_family`, looked up once and kept.
    pub int_counter_child: IntCounter,
    /// The shadow of `set.busy_seconds_total`.
    pub counter_family: CounterVec,
    /// The child of [`RANK`] in `counter_family`, looked up once and kept.
    pub counter_child: Counter,
    /// The shadow of `set.rank_time_to_first_token_seconds`: the target of the per-rank
    /// histogram's label lookups.
    pub histogram_family: HistogramVec,
    /// The child of [`RANK`] in `histogram_family`, looked up once and kept.
    pub histogram_child: Histogram,
    /// The shadow of `set.finished_total`, labelled `finish_reason`: the target of the label
    /// lookups of the family baseline.
    pub reason_family: IntCounterVec,
    /// Its child of each [`Reason`], by [`LabelValue::index`].
    pub reason_children: [IntCounter; 3],
    /// The shadow of `set.rank_finished_total`, labelled `dp_rank` and `finish_reason`: the
    /// target of the label lookups of the per-rank family baseline.
    pub rank_reason_family: IntCounterVec,
    /// Its child of each [`DECLARED`] rank and [`Reason`], by rank, then by
    /// [`LabelValue::index`].
    pub rank_reason_children: Box<[[IntCounter; 3]]>,
    /// The shadow of `set.time_to_first_token_seconds`, a plain histogram with [`BUCKETS`]: the
    /// scalar histogram's baseline.
    pub plain_histogram: Histogram,
    shadow: Registry,
    root: MetricsRoot,
}

impl Kinds {
    /// Registers the set at a fresh hierarchy's endpoint, and the shadows in a registry of their
    /// own, [`DECLARED`] ranks seeded on both sides.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, BoxError> {
        let (root, metrics) = endpoint_metrics()?;
        let ranks: Vec<u32> = DECLARED.collect();
        let set = KindSet::register(&metrics, &ranks)?;

        let registry = Registry::new();
        let int_counter_family = shadow::<KindSet, _>(&registry, "requests_total", |s| {
            IntCounterVec::new(s.opts.clone(), s.labels)
        })?;
        let counter_family = shadow::<KindSet, _>(&registry, "busy_seconds_total", |s| {
            CounterVec::new(s.opts.clone(), s.labels)
        })?;
        let histogram_family =
            shadow::<KindSet, _>(&registry, "rank_time_to_first_token_seconds", |s| {
                HistogramVec::new(s.histogram(), s.labels)
            })?;
        let reason_family = shadow::<KindSet, _>(&registry, "finished_total", |s| {
            IntCounterVec::new(s.opts.clone(), s.labels)
        })?;
        let rank_reason_family = shadow::<KindSet, _>(&registry, "rank_finished_total", |s| {
            IntCounterVec::new(s.opts.clone(), s.labels)
        })?;
        let plain_histogram =
            shadow::<KindSet, _>(&registry, "time_to_first_token_seconds", |s| {
                Histogram::with_opts(s.histogram())
            })?;
        for rank in DECLARED {
            let rank = rank.to_string();
            int_counter_family.with_label_values(&[&rank]);
            counter_family.with_label_values(&[&rank]);
            histogram_family.with_label_values(&[&rank]);
        }

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
            int_counter_child: int_counter_family.with_label_values(&[RANK_LABEL]),
            int_counter_family,
            counter_child: counter_family.with_label_values(&[RANK_LABEL]),
            counter_family,
            histogram_child: histogram_family.with_label_values(&[RANK_LABEL]),
            histogram_family,
            set,
            reason_family,
            reason_children,
            rank_reason_family,
            rank_reason_children,
            plain_histogram,
            shadow: registry,
            root,
        })
    }

    /// The combined scrape of the hierarchy, and the shadows' page: the shadows' families render
    /// the same lines in both.
    ///
    /// # Errors
    /// Any error of either scrape.
    pub fn pages(&self) -> Result<(String, String), BoxError> {
        pages(&self.root, &self.shadow)
    }
}

/// The shadows of [`ComponentGauges`]' three per-rank families, in a registry of their own: what
/// [`reference_update`] writes.
#[derive(Debug)]
pub struct ComponentShadow {
    /// The shadow of `total_blocks`.
    pub total_blocks: IntGaugeVec,
    /// The shadow of `gpu_cache_usage_percent`.
    pub gpu_cache_usage_percent: GaugeVec,
    /// The shadow of `kv_cache_hit_rate`.
    pub kv_cache_hit_rate: GaugeVec,
    registry: Registry,
}

impl ComponentShadow {
    /// The three shadows, with no series yet.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, BoxError> {
        let registry = Registry::new();
        let int = |field| {
            shadow::<ComponentGauges, _>(&registry, field, |s| {
                IntGaugeVec::new(s.opts.clone(), s.labels)
            })
        };
        let total_blocks = int("total_blocks")?;
        let float = |field| {
            shadow::<ComponentGauges, _>(&registry, field, |s| {
                GaugeVec::new(s.opts.clone(), s.labels)
            })
        };
        let gpu_cache_usage_percent = float("gpu_cache_usage_percent")?;
        let kv_cache_hit_rate = float("kv_cache_hit_rate")?;
        Ok(Self {
            total_blocks,
            gpu_cache_usage_percent,
            kv_cache_hit_rate,
            registry,
        })
    }

    /// The shadows' page.
    ///
    /// # Errors
    /// As [`TextEncoder::encode_utf8`].
    pub fn render(&self) -> prometheus::Result<String> {
        shadow_page(&self.registry)
    }
}

/// The reference worker's per-rank gauges, registered at a fresh hierarchy's endpoint, and their
/// shadows.
#[derive(Debug)]
pub struct Updates {
    /// The families, [`DECLARED`] ranks seeded: what the derived update writes.
    pub gauges: ComponentGauges,
    /// Their shadows: what [`reference_update`] writes.
    pub shadow: ComponentShadow,
    root: MetricsRoot,
}

impl Updates {
    /// Registers [`ComponentGauges`] for [`DECLARED`] ranks and their shadows, and writes each
    /// rank and [`UNDECLARED`] once on both sides, hit rate included, so that both update paths
    /// find every series in place.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new() -> Result<Self, BoxError> {
        let (root, metrics) = endpoint_metrics()?;
        let ranks: Vec<u32> = DECLARED.collect();
        let gauges = ComponentGauges::new(&metrics, &ranks)?;
        let shadow = ComponentShadow::new()?;
        for rank in DECLARED.chain([UNDECLARED]) {
            gauges.update(&snapshot(rank));
            reference_update(&shadow, &snapshot(rank));
        }
        Ok(Self {
            gauges,
            shadow,
            root,
        })
    }

    /// The combined scrape of the hierarchy, and the shadows' page: the shadows' families render
    /// the same lines in both.
    ///
    /// # Errors
    /// Any error of either scrape.
    pub fn pages(&self) -> Result<(String, String), BoxError> {
        pages(&self.root, &self.shadow.registry)
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

/// A hand-written copy of the reference's `ComponentGauges::update`, writing the shadows: the rank
/// formatted once, then three label lookups.
pub fn reference_update(shadow: &ComponentShadow, snapshot: &ComponentSnapshot) {
    let rank = snapshot.dp_rank.to_string();
    shadow
        .total_blocks
        .with_label_values(&[&rank])
        .set(snapshot.kv_total_blocks as i64);
    shadow
        .gpu_cache_usage_percent
        .with_label_values(&[&rank])
        .set(f64::from(snapshot.gpu_cache_usage));
    if let Some(rate) = snapshot.kv_cache_hit_rate {
        shadow
            .kv_cache_hit_rate
            .with_label_values(&[&rank])
            .set(f64::from(rate));
    }
}

/// The scrape benchmark's two sides, on the page of [`page`]: a four-level hierarchy (root →
/// namespace → component → endpoint) whose endpoint carries [`engine_gauges::reference::LifecycleGauges`] and
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

    /// The lines of `page` that belong to the families `shadow` renders (their `# HELP` and
    /// `# TYPE` lines and their samples, a histogram's `_bucket`, `_sum` and `_count` included).
    fn family_lines<'a>(page: &'a str, shadow: &str) -> Vec<&'a str> {
        let names: std::collections::BTreeSet<&str> = shadow
            .lines()
            .filter_map(|line| line.strip_prefix("# TYPE "))
            .filter_map(|rest| rest.split_once(' ').map(|(name, _)| name))
            .collect();
        page.lines()
            .filter(|line| {
                let name = match line
                    .strip_prefix("# HELP ")
                    .or_else(|| line.strip_prefix("# TYPE "))
                {
                    Some(rest) => rest.split(' ').next().unwrap_or(""),
                    None => line.split(['{', ' ']).next().unwrap_or(""),
                };
                names.contains(name)
                    || ["_bucket", "_sum", "_count"].iter().any(|suffix| {
                        name.strip_suffix(suffix)
                            .is_some_and(|family| names.contains(family))
                    })
            })
            .collect()
    }

    /// Asserts that the shadows' page is byte for byte the lines of their families in the
    /// combined scrape, and returns how many lines that is.
    fn assert_shadow_matches(pages: Result<(String, String), BoxError>) -> usize {
        let (page, shadow) = pages.expect("both scrapes");
        let ours = family_lines(&page, &shadow);
        assert_eq!(ours, shadow.lines().collect::<Vec<_>>());
        ours.len()
    }

    #[test]
    fn shadows_render_as_their_fields() {
        let writes = Writes::new().expect("fixture registers");
        // Seeded: every declared rank at 0 on both sides.
        assert_eq!(
            assert_shadow_matches(writes.pages()),
            2 * (2 + DECLARED.len())
        );
        for rank in DECLARED {
            writes.gauges.blocks.rank(rank).set(i64::from(rank) * 3);
            writes.gauges.usage.rank(rank).set(f64::from(rank) / 8.0);
            reference_set(&writes.shadow_blocks, rank, |g| g.set(i64::from(rank) * 3));
            reference_set(&writes.shadow_usage, rank, |g| g.set(f64::from(rank) / 8.0));
        }
        assert_shadow_matches(writes.pages());

        let kinds = Kinds::new().expect("fixture registers");
        let set = &kinds.set;
        for rank in DECLARED {
            let label = rank.to_string();
            set.requests_total.rank(rank).inc();
            kinds.int_counter_family.with_label_values(&[&label]).inc();
            set.busy_seconds_total.rank(rank).inc_by(0.5);
            kinds
                .counter_family
                .with_label_values(&[&label])
                .inc_by(0.5);
            set.rank_time_to_first_token_seconds
                .rank(rank)
                .observe(f64::from(rank) / 4.0);
            kinds
                .histogram_family
                .with_label_values(&[&label])
                .observe(f64::from(rank) / 4.0);
            for reason in [Reason::Stop, Reason::Length, Reason::Abort] {
                set.rank_finished_total.rank(rank).with(reason).inc();
                kinds.rank_reason_children[rank as usize][reason.index()].inc();
            }
        }
        for reason in [Reason::Stop, Reason::Length, Reason::Abort] {
            set.finished_total.with(reason).inc();
            kinds.reason_children[reason.index()].inc();
        }
        set.time_to_first_token_seconds.observe(0.3);
        kinds.plain_histogram.observe(0.3);
        assert!(assert_shadow_matches(kinds.pages()) > 12);
    }

    #[test]
    fn both_update_paths_render_the_same_page() {
        let updates = Updates::new().expect("fixture registers");
        let shadow_lines = || assert_shadow_matches(updates.pages());
        // Three families, each of the declared ranks and the undeclared one.
        assert_eq!(shadow_lines(), 3 * (2 + DECLARED.len() + 1));
        for rank in [RANK, UNDECLARED] {
            let mut snap = snapshot(rank);
            snap.kv_total_blocks = 77;
            snap.kv_cache_hit_rate = Some(0.125);
            updates.gauges.update(&snap);
            reference_update(&updates.shadow, &snap);
            assert_eq!(updates.gauges.total_blocks.rank(rank).get(), 77);
            assert_eq!(updates.gauges.kv_cache_hit_rate.rank(rank).get(), 0.125);
            shadow_lines();
        }
    }

    #[test]
    fn kind_baselines_are_the_shadows_children() {
        let kinds = Kinds::new().expect("fixture registers");
        let set = &kinds.set;
        kinds.int_counter_child.inc();
        let rank = [RANK_LABEL];
        assert_eq!(kinds.int_counter_family.with_label_values(&rank).get(), 1);
        kinds.counter_child.inc_by(0.5);
        assert_eq!(kinds.counter_family.with_label_values(&rank).get(), 0.5);
        kinds.histogram_child.observe(0.3);
        let histogram = kinds.histogram_family.with_label_values(&rank);
        assert_eq!(histogram.get_sample_count(), 1);

        // The typed families' tables are indexed the way the typed label indexes its values.
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
    fn cached_children_are_the_shadows_declared_ranks() {
        let writes = Writes::new().expect("fixture registers");
        writes.int_child.set(41);
        let rank = [RANK_LABEL];
        assert_eq!(writes.shadow_blocks.with_label_values(&rank).get(), 41);
        writes.float_child.set(0.5);
        assert_eq!(writes.shadow_usage.with_label_values(&rank).get(), 0.5);
        reference_set(&writes.shadow_blocks, RANK, |g| g.set(42));
        assert_eq!(writes.int_child.get(), 42);
        store_f64(&writes.float_atomic, 1.5);
        assert_eq!(
            f64::from_bits(writes.float_atomic.load(Ordering::Relaxed)),
            1.5
        );
    }
}
