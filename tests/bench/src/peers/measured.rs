//! The page with the `measured` crate.
//!
//! `measured` has no constant labels: a vector is keyed by a label set, which encodes each label
//! group into an index and decodes the index back into the labels when it renders. Here the
//! per-rank families are keyed by [`RankSet`] (the rank is the index, the six hierarchy labels
//! are shared by every index) and each scalar is a vector of one series keyed by [`ScalarSet`].
//! The vectors use `measured`'s default storage: dense up to 1,024 series per family, a sharded
//! hash table beyond.
//!
//! The page differs from the prometheus page in spelling only: `measured` prints floats with
//! `ryu` (`12.5`, but `4096.0` where prometheus prints `4096`), puts a blank line between families
//! and renders series in index order (prometheus sorts them by label value).

use std::io;
use std::sync::Arc;

use ::measured::label::LabelVisitor;
use ::measured::label::{LabelGroup, LabelGroupSet, LabelGroupVisitor, LabelName, LabelValue};
use ::measured::metric::MetricFamilyEncoding;
use ::measured::metric::group::Encoding;
use ::measured::metric::name::MetricName;
use ::measured::text::TextEncoder;
use ::measured::{FloatGaugeVec, GaugeVec};
use engine_gauges::labels;
use engine_gauges_bench::page::{
    self, CLEANUP_SECONDS, CLEANUP_TIME, DRAIN_SECONDS, DRAIN_TIME, GPU_CACHE_USAGE,
    KV_CACHE_HIT_RATE, MODEL_LOAD_SECONDS, MODEL_LOAD_TIME, TOTAL_BLOCKS, rank_values,
};

/// The six hierarchy and engine labels, in the page's order.
pub(crate) struct Hierarchy {
    labels: Vec<(&'static LabelName, String)>,
}

impl LabelGroup for Hierarchy {
    fn visit_values(&self, v: &mut impl LabelGroupVisitor) {
        for (name, value) in &self.labels {
            v.write_value(name, value);
        }
    }
}

/// A rank, rendered as an integer label value.
#[derive(Clone, Copy)]
struct Rank(u32);

impl LabelValue for Rank {
    fn visit<V: LabelVisitor>(&self, v: V) -> V::Output {
        v.write_int(i64::from(self.0))
    }
}

/// The labels of one per-rank series: `dp_rank`, then the hierarchy's.
pub(crate) struct RankLabels<'a> {
    rank: u32,
    hierarchy: &'a Hierarchy,
}

impl LabelGroup for RankLabels<'_> {
    fn visit_values(&self, v: &mut impl LabelGroupVisitor) {
        const DP_RANK: &LabelName = LabelName::from_str(labels::DP_RANK);
        v.write_value(DP_RANK, &Rank(self.rank));
        self.hierarchy.visit_values(v);
    }
}

/// The label set of a per-rank family: ranks `0..ranks`, each its own index.
pub(crate) struct RankSet {
    ranks: u32,
    hierarchy: Arc<Hierarchy>,
}

impl LabelGroupSet for RankSet {
    type Group<'a> = RankLabels<'a>;
    type Unique = u32;

    fn cardinality(&self) -> Option<usize> {
        Some(self.ranks as usize)
    }

    fn encode_dense(&self, rank: u32) -> Option<usize> {
        Some(rank as usize)
    }

    fn decode_dense(&self, index: usize) -> RankLabels<'_> {
        RankLabels {
            rank: index as u32,
            hierarchy: &self.hierarchy,
        }
    }

    fn encode(&self, labels: RankLabels<'_>) -> Option<u32> {
        (labels.rank < self.ranks).then_some(labels.rank)
    }

    fn decode(&self, rank: &u32) -> RankLabels<'_> {
        self.decode_dense(*rank as usize)
    }
}

/// The label set of a scalar: one series, the hierarchy's labels.
pub(crate) struct ScalarSet {
    hierarchy: Arc<Hierarchy>,
}

impl LabelGroupSet for ScalarSet {
    type Group<'a> = &'a Hierarchy;
    type Unique = ();

    fn cardinality(&self) -> Option<usize> {
        Some(1)
    }

    fn encode_dense(&self, (): ()) -> Option<usize> {
        Some(0)
    }

    fn decode_dense(&self, _index: usize) -> &Hierarchy {
        &self.hierarchy
    }

    fn encode(&self, _labels: &Hierarchy) -> Option<()> {
        Some(())
    }

    fn decode(&self, (): &()) -> &Hierarchy {
        &self.hierarchy
    }
}

/// A family's name and help text.
struct Meta {
    name: &'static MetricName,
    help: &'static str,
}

impl Meta {
    fn of(name: &'static str) -> Self {
        Self {
            name: MetricName::try_from_str(name).expect("a valid metric name"),
            help: page::help(name),
        }
    }
}

/// The page, with `measured`'s vectors.
pub(crate) struct MeasuredPage {
    total_blocks: GaugeVec<RankSet>,
    gpu_cache_usage: FloatGaugeVec<RankSet>,
    kv_cache_hit_rate: FloatGaugeVec<RankSet>,
    cleanup_time: FloatGaugeVec<ScalarSet>,
    drain_time: FloatGaugeVec<ScalarSet>,
    model_load_time: FloatGaugeVec<ScalarSet>,
    /// The names and help texts, in the order of [`TOTAL_BLOCKS`], [`GPU_CACHE_USAGE`],
    /// [`KV_CACHE_HIT_RATE`], [`CLEANUP_TIME`], [`DRAIN_TIME`], [`MODEL_LOAD_TIME`].
    meta: [Meta; 6],
    hierarchy: Arc<Hierarchy>,
}

impl MeasuredPage {
    /// The page with ranks 0 to `ranks - 1` written.
    pub(crate) fn new(ranks: u32) -> Self {
        let hierarchy = Arc::new(Hierarchy {
            labels: page::hierarchy_labels()
                .into_iter()
                .map(|(name, value)| (LabelName::from_str(name), value))
                .collect(),
        });
        let per_rank = || RankSet {
            ranks,
            hierarchy: Arc::clone(&hierarchy),
        };
        let scalar = |seconds: f64| {
            let gauge = FloatGaugeVec::with_label_set(ScalarSet {
                hierarchy: Arc::clone(&hierarchy),
            });
            gauge.set(&hierarchy, seconds);
            gauge
        };
        let page = Self {
            total_blocks: GaugeVec::with_label_set(per_rank()),
            gpu_cache_usage: FloatGaugeVec::with_label_set(per_rank()),
            kv_cache_hit_rate: FloatGaugeVec::with_label_set(per_rank()),
            cleanup_time: scalar(CLEANUP_SECONDS),
            drain_time: scalar(DRAIN_SECONDS),
            model_load_time: scalar(MODEL_LOAD_SECONDS),
            meta: [
                TOTAL_BLOCKS,
                GPU_CACHE_USAGE,
                KV_CACHE_HIT_RATE,
                CLEANUP_TIME,
                DRAIN_TIME,
                MODEL_LOAD_TIME,
            ]
            .map(Meta::of),
            hierarchy,
        };
        for rank in 0..ranks {
            page.update(rank);
        }
        page
    }

    /// Writes `rank`'s three series.
    fn update(&self, rank: u32) {
        let values = rank_values(rank);
        let labels = || RankLabels {
            rank,
            hierarchy: &self.hierarchy,
        };
        self.total_blocks.set(labels(), values.total_blocks);
        self.gpu_cache_usage.set(labels(), values.gpu_cache_usage);
        self.kv_cache_hit_rate
            .set(labels(), values.kv_cache_hit_rate);
    }

    /// Renders the page into `out` (cleared first), families in the prometheus page's order.
    pub(crate) fn render_into(&self, out: &mut Vec<u8>) -> io::Result<()> {
        out.clear();
        let mut enc = TextEncoder::new(out);
        let [blocks, usage, hit_rate, cleanup, drain, load] = &self.meta;
        enc.write_help(cleanup.name, cleanup.help)?;
        self.cleanup_time
            .collect_family_into(cleanup.name, &mut enc)?;
        enc.write_help(drain.name, drain.help)?;
        self.drain_time.collect_family_into(drain.name, &mut enc)?;
        enc.write_help(usage.name, usage.help)?;
        self.gpu_cache_usage
            .collect_family_into(usage.name, &mut enc)?;
        enc.write_help(hit_rate.name, hit_rate.help)?;
        self.kv_cache_hit_rate
            .collect_family_into(hit_rate.name, &mut enc)?;
        enc.write_help(load.name, load.help)?;
        self.model_load_time
            .collect_family_into(load.name, &mut enc)?;
        enc.write_help(blocks.name, blocks.help)?;
        self.total_blocks
            .collect_family_into(blocks.name, &mut enc)?;
        enc.flush()
    }
}
