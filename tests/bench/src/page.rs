//! The page every scrape benchmark renders: [`ComponentGauges`]' three per-rank families and
//! [`LifecycleGauges`]' three scalar gauges, every series carrying the six hierarchy and engine
//! labels (the per-rank ones `dp_rank` too), every rank written with [`snapshot`].
//!
//! It holds the two prometheus sides, [`Hierarchy`] (the subject: the combined scrape of a
//! four-level hierarchy) and [`Plain`] (`Registry::gather` and the text encoder over plain
//! prometheus families), the values and help texts the other implementations render the page
//! from, and [`samples`], which reads any of their pages back into its series, so that pages
//! that differ only in series order, label order or float spelling compare equal.

use std::collections::{BTreeMap, HashMap};

use engine_gauges::prometheus::{self, Gauge, GaugeVec, IntGaugeVec, Opts, Registry, TextEncoder};
use engine_gauges::{
    ComponentSnapshot, EngineGauges, Error, MetricsRoot, labels, metric::MetricDescriptor,
    reference::ComponentGauges, reference::LifecycleGauges, scrape::BoxError,
};

use crate::{COMPONENT, ENDPOINT, MODEL, NAMESPACE, WORKER_ID, endpoint_metrics, snapshot};

/// The model load time the page carries, in seconds.
pub const MODEL_LOAD_SECONDS: f64 = 12.5;
/// The drain time the page carries, in seconds.
pub const DRAIN_SECONDS: f64 = 0.75;
/// The cleanup time the page carries, in seconds.
pub const CLEANUP_SECONDS: f64 = 0.125;

/// The per-rank `IntGauge` family.
pub const TOTAL_BLOCKS: &str = "dynamo_component_total_blocks";
/// The first per-rank `Gauge` family.
pub const GPU_CACHE_USAGE: &str = "dynamo_component_gpu_cache_usage_percent";
/// The second per-rank `Gauge` family.
pub const KV_CACHE_HIT_RATE: &str = "dynamo_component_kv_cache_hit_rate";
/// The first scalar gauge.
pub const CLEANUP_TIME: &str = "dynamo_component_cleanup_time_seconds";
/// The second scalar gauge.
pub const DRAIN_TIME: &str = "dynamo_component_drain_time_seconds";
/// The third scalar gauge.
pub const MODEL_LOAD_TIME: &str = "dynamo_component_model_load_time_seconds";

/// The help text [`ComponentGauges`] or [`LifecycleGauges`] declares for `name`.
///
/// # Panics
/// If neither declares `name`.
pub fn help(name: &str) -> &'static str {
    ComponentGauges::DESCRIPTORS
        .iter()
        .chain(LifecycleGauges::DESCRIPTORS)
        .find(|d| d.name == name)
        .map_or_else(|| panic!("no gauge set declares `{name}`"), |d| d.help)
}

/// The six hierarchy and engine labels of every series, sorted by name (the order in which
/// prometheus renders them, `dp_rank` coming first on a per-rank series).
pub fn hierarchy_labels() -> [(&'static str, String); 6] {
    [
        (labels::COMPONENT, COMPONENT.to_owned()),
        (labels::ENDPOINT, ENDPOINT.to_owned()),
        (labels::NAMESPACE, NAMESPACE.to_owned()),
        (labels::MODEL, MODEL.to_owned()),
        (labels::MODEL_NAME, MODEL.to_owned()),
        (labels::WORKER_ID, format!("{WORKER_ID:x}")),
    ]
}

/// The values of one rank's three series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankValues {
    /// `dynamo_component_total_blocks`.
    pub total_blocks: i64,
    /// `dynamo_component_gpu_cache_usage_percent`.
    pub gpu_cache_usage: f64,
    /// `dynamo_component_kv_cache_hit_rate`.
    pub kv_cache_hit_rate: f64,
}

/// What [`ComponentGauges::update`] writes for `rank`'s [`snapshot`].
pub fn rank_values(rank: u32) -> RankValues {
    let snap = snapshot(rank);
    RankValues {
        total_blocks: snap.kv_total_blocks as i64,
        gpu_cache_usage: f64::from(snap.gpu_cache_usage),
        kv_cache_hit_rate: f64::from(snap.kv_cache_hit_rate.unwrap_or(f32::NAN)),
    }
}

/// How many series the page has at `ranks` ranks: three per rank and the three scalars.
pub fn series(ranks: u32) -> usize {
    3 * ranks as usize + 3
}

/// The subject: a four-level hierarchy (root → namespace → component → endpoint) whose endpoint
/// carries [`LifecycleGauges`] and [`ComponentGauges`], scraped with the root's combined scrape.
#[derive(Debug)]
pub struct Hierarchy {
    root: MetricsRoot,
    ranks: u32,
    _lifecycle: LifecycleGauges,
    _gauges: ComponentGauges,
}

impl Hierarchy {
    /// The hierarchy with ranks 0 to `ranks - 1` declared and written.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new(ranks: u32) -> Result<Self, Error> {
        let (root, metrics) = endpoint_metrics()?;
        let declared: Vec<u32> = (0..ranks).collect();
        let lifecycle = LifecycleGauges::new(&metrics, MODEL_LOAD_SECONDS)?;
        lifecycle.observe_drain_time(DRAIN_SECONDS);
        lifecycle.observe_cleanup_time(CLEANUP_SECONDS);
        let gauges = ComponentGauges::new(&metrics, &declared)?;
        for &rank in &declared {
            gauges.update(&snapshot(rank));
        }
        Ok(Self {
            root,
            ranks,
            _lifecycle: lifecycle,
            _gauges: gauges,
        })
    }

    /// The root's combined scrape, which walks all four levels.
    ///
    /// # Errors
    /// As [`engine_gauges::MetricsRegistry::prometheus_expfmt_combined`].
    pub fn render(&self) -> Result<String, Error> {
        self.root.registry().prometheus_expfmt_combined()
    }

    /// How many series the page has.
    pub fn series(&self) -> usize {
        series(self.ranks)
    }
}

/// The baseline: a plain prometheus [`Registry`] holding the same six families with the same
/// series, rendered with [`Registry::gather`] and [`TextEncoder`].
#[derive(Debug)]
pub struct Plain {
    registry: Registry,
    ranks: u32,
    _families: (IntGaugeVec, GaugeVec, GaugeVec, [Gauge; 3]),
}

impl Plain {
    /// The registry with ranks 0 to `ranks - 1` written.
    ///
    /// # Errors
    /// Any error of registration.
    pub fn new(ranks: u32) -> Result<Self, BoxError> {
        let const_labels: HashMap<String, String> = hierarchy_labels()
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value))
            .collect();
        let opts = |descriptors: &[MetricDescriptor], name: &str| {
            let d = descriptors
                .iter()
                .find(|d| d.name == name)
                .ok_or_else(|| BoxError::from(format!("no descriptor `{name}`")))?;
            Ok::<_, BoxError>(Opts::new(d.name, d.help).const_labels(const_labels.clone()))
        };
        let per_rank = ComponentGauges::DESCRIPTORS;
        let lifecycle = LifecycleGauges::DESCRIPTORS;
        let total_blocks = IntGaugeVec::new(opts(per_rank, TOTAL_BLOCKS)?, &[labels::DP_RANK])?;
        let usage = GaugeVec::new(opts(per_rank, GPU_CACHE_USAGE)?, &[labels::DP_RANK])?;
        let hit_rate = GaugeVec::new(opts(per_rank, KV_CACHE_HIT_RATE)?, &[labels::DP_RANK])?;
        let timings = [
            (CLEANUP_TIME, CLEANUP_SECONDS),
            (DRAIN_TIME, DRAIN_SECONDS),
            (MODEL_LOAD_TIME, MODEL_LOAD_SECONDS),
        ]
        .map(|(name, seconds)| {
            let gauge = Gauge::with_opts(opts(lifecycle, name)?)?;
            gauge.set(seconds);
            Ok::<_, BoxError>(gauge)
        });
        let [cleanup, drain, load] = timings;
        let timings = [cleanup?, drain?, load?];
        for rank in 0..ranks {
            reference_plain_update(&total_blocks, &usage, &hit_rate, &snapshot(rank));
        }
        let registry = Registry::new();
        registry.register(Box::new(total_blocks.clone()))?;
        registry.register(Box::new(usage.clone()))?;
        registry.register(Box::new(hit_rate.clone()))?;
        for gauge in &timings {
            registry.register(Box::new(gauge.clone()))?;
        }
        Ok(Self {
            registry,
            ranks,
            _families: (total_blocks, usage, hit_rate, timings),
        })
    }

    /// [`Registry::gather`] and the text encoder, into `page` (cleared first).
    ///
    /// # Errors
    /// As [`TextEncoder::encode_utf8`].
    pub fn render_into(&self, page: &mut String) -> prometheus::Result<()> {
        page.clear();
        let families = self.registry.gather();
        TextEncoder::new().encode_utf8(&families, page)
    }

    /// How many series the page has.
    pub fn series(&self) -> usize {
        series(self.ranks)
    }
}

/// The reference's update, on families outside any hierarchy.
fn reference_plain_update(
    total_blocks: &IntGaugeVec,
    usage: &GaugeVec,
    hit_rate: &GaugeVec,
    snapshot: &ComponentSnapshot,
) {
    let rank = snapshot.dp_rank.to_string();
    total_blocks
        .with_label_values(&[&rank])
        .set(snapshot.kv_total_blocks as i64);
    usage
        .with_label_values(&[&rank])
        .set(f64::from(snapshot.gpu_cache_usage));
    if let Some(rate) = snapshot.kv_cache_hit_rate {
        hit_rate.with_label_values(&[&rank]).set(f64::from(rate));
    }
}

/// A page read back: every series (its name, then its labels sorted by name, as
/// `name{a="1",b="2"}`) and its value, and every `# HELP` and `# TYPE` line, by family.
#[derive(Debug, Default, PartialEq)]
pub struct Samples {
    /// Each series and its value.
    pub series: BTreeMap<String, f64>,
    /// Each family's help text.
    pub help: BTreeMap<String, String>,
    /// Each family's type.
    pub types: BTreeMap<String, String>,
}

/// Reads a page in the text format back into its series, whatever their order, the order of
/// their labels, or the spelling of their values (`1`, `1.0` and `1e0` are the same value).
/// Blank lines and `# EOF` are skipped.
///
/// # Errors
/// A line that is not a comment, a blank or `name{labels} value`, with the reason.
pub fn samples(page: &str) -> Result<Samples, String> {
    let mut out = Samples::default();
    for line in page.lines() {
        if line.is_empty() || line == "# EOF" {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            out.help.insert(name.to_owned(), help.to_owned());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').ok_or(format!("bad TYPE: {line}"))?;
            out.types.insert(name.to_owned(), ty.to_owned());
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or(format!("no value: {line}"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|e| format!("bad value in {line}: {e}"))?,
        };
        let key = match series.split_once('{') {
            None => series.to_owned(),
            Some((name, labels)) => {
                let labels = labels
                    .strip_suffix('}')
                    .ok_or(format!("unclosed labels: {line}"))?;
                let mut pairs = split_labels(labels).ok_or(format!("bad labels: {line}"))?;
                pairs.sort_unstable();
                format!("{name}{{{}}}", pairs.join(","))
            }
        };
        if out.series.insert(key, value).is_some() {
            return Err(format!("duplicate series: {line}"));
        }
    }
    Ok(out)
}

/// Splits `a="1",b="x,\"y\""` into its pairs, as written (escapes kept).
fn split_labels(labels: &str) -> Option<Vec<&str>> {
    let mut pairs = Vec::new();
    let bytes = labels.as_bytes();
    let (mut start, mut i, mut quoted) = (0, 0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quoted => i += 1,
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                pairs.push(&labels[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if quoted {
        return None;
    }
    if start < labels.len() {
        pairs.push(&labels[start..]);
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_prometheus_sides_render_the_same_page() {
        for ranks in [0, 1, 8] {
            let ours = Hierarchy::new(ranks).expect("hierarchy registers");
            let plain = Plain::new(ranks).expect("plain registry registers");
            let page = ours.render().expect("combined scrape");
            let mut plain_page = String::from("stale");
            plain.render_into(&mut plain_page).expect("plain scrape");
            assert_eq!(page, plain_page, "{ranks} ranks");
            let read = samples(&page).expect("the page reads back");
            assert_eq!(read.series.len(), series(ranks), "{ranks} ranks");
            // A family without series is left off the page.
            assert_eq!(read.help.len(), if ranks == 0 { 3 } else { 6 });
        }
    }

    #[test]
    fn samples_ignore_order_and_spelling() {
        let a = "# HELP m h\n# TYPE m gauge\nm{b=\"2\",a=\"x,\\\"y\"} 1\nn 0.5\n";
        let b = "# TYPE m gauge\n# HELP m h\n\nn 5e-1\nm{a=\"x,\\\"y\",b=\"2\"} 1.0\n# EOF\n";
        assert_eq!(samples(a), samples(b));
        assert!(samples("m{a=\"1} 2").is_err());
    }

    #[test]
    fn help_and_values_come_from_the_gauge_sets() {
        assert!(help(TOTAL_BLOCKS).starts_with("Total number of KV cache blocks"));
        assert_eq!(rank_values(3).total_blocks, 4_099);
        let labels = hierarchy_labels();
        assert!(labels.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(labels::DP_RANK < labels[0].0);
    }
}
