//! The floor: the page's values in plain atomics, and a hand-written loop that formats the very
//! bytes of the prometheus page from them.
//!
//! Everything that does not change between scrapes is rendered once, at setup: each family's
//! `# HELP` and `# TYPE` lines, the text of the six hierarchy labels, and the order of the ranks
//! on the page (prometheus sorts series by label value, so rank 10 comes before rank 2). A scrape
//! then appends, per series, the name, the rank, the shared label text and the value: integers
//! with a digit loop, floats with `f64`'s `Display`, as prometheus's encoder prints them.

use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use engine_gauges::labels;
use engine_gauges_bench::page::{
    self, CLEANUP_SECONDS, CLEANUP_TIME, DRAIN_SECONDS, DRAIN_TIME, GPU_CACHE_USAGE,
    KV_CACHE_HIT_RATE, MODEL_LOAD_SECONDS, MODEL_LOAD_TIME, TOTAL_BLOCKS, rank_values,
};

/// One family of the page, in the page's order.
#[derive(Debug)]
enum Family {
    /// A scalar `f64` gauge: its index in [`FloorPage::scalars`].
    Scalar(usize),
    /// The per-rank `i64` gauge.
    Blocks,
    /// A per-rank `f64` gauge: its index in [`FloorPage::floats`].
    PerRank(usize),
}

/// The page in plain atomics.
#[derive(Debug)]
pub(crate) struct FloorPage {
    /// `dynamo_component_total_blocks`, by rank.
    blocks: Box<[AtomicI64]>,
    /// `dynamo_component_gpu_cache_usage_percent` and `..._kv_cache_hit_rate`, by rank, as `f64`
    /// bits.
    floats: [Box<[AtomicU64]>; 2],
    /// The three scalars, as `f64` bits, in the page's order.
    scalars: [AtomicU64; 3],
    /// The ranks, in the page's order.
    order: Box<[u32]>,
    /// Each family in the page's order: its name, its `# HELP` and `# TYPE` lines, and where its
    /// values are.
    families: Vec<(&'static str, String, Family)>,
    /// `{` and the hierarchy's labels, for a scalar series.
    scalar_labels: String,
    /// `",` and the hierarchy's labels, after a per-rank series' `dp_rank` value.
    rank_suffix: String,
}

impl FloorPage {
    /// The page with ranks 0 to `ranks - 1` written.
    pub(crate) fn new(ranks: u32) -> Self {
        let mut hierarchy = String::new();
        for (i, (name, value)) in page::hierarchy_labels().iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let value = escape(value);
            let _ = write!(hierarchy, "{sep}{name}=\"{value}\"");
        }
        let head = |name: &'static str, family: Family| {
            let help = page::help(name).replace('\\', "\\\\").replace('\n', "\\n");
            let head = format!("# HELP {name} {help}\n# TYPE {name} gauge\n");
            (name, head, family)
        };
        let mut order: Vec<u32> = (0..ranks).collect();
        order.sort_by_cached_key(u32::to_string);
        let floats = || (0..ranks).map(|_| AtomicU64::new(0)).collect();
        let page = Self {
            blocks: (0..ranks).map(|_| AtomicI64::new(0)).collect(),
            floats: [floats(), floats()],
            scalars: [CLEANUP_SECONDS, DRAIN_SECONDS, MODEL_LOAD_SECONDS]
                .map(|seconds| AtomicU64::new(seconds.to_bits())),
            order: order.into_boxed_slice(),
            families: vec![
                head(CLEANUP_TIME, Family::Scalar(0)),
                head(DRAIN_TIME, Family::Scalar(1)),
                head(GPU_CACHE_USAGE, Family::PerRank(0)),
                head(KV_CACHE_HIT_RATE, Family::PerRank(1)),
                head(MODEL_LOAD_TIME, Family::Scalar(2)),
                head(TOTAL_BLOCKS, Family::Blocks),
            ],
            scalar_labels: format!("{{{hierarchy}}} "),
            rank_suffix: format!("\",{hierarchy}}} "),
        };
        for rank in 0..ranks {
            page.update(rank);
        }
        page
    }

    /// Writes `rank`'s three series.
    fn update(&self, rank: u32) {
        let values = rank_values(rank);
        let r = rank as usize;
        self.blocks[r].store(values.total_blocks, Ordering::Relaxed);
        self.floats[0][r].store(values.gpu_cache_usage.to_bits(), Ordering::Relaxed);
        self.floats[1][r].store(values.kv_cache_hit_rate.to_bits(), Ordering::Relaxed);
    }

    /// Renders the page into `out` (cleared first).
    pub(crate) fn render_into(&self, out: &mut String) -> fmt::Result {
        out.clear();
        for (name, head, family) in &self.families {
            let per_rank = !matches!(family, Family::Scalar(_));
            if per_rank && self.order.is_empty() {
                // prometheus leaves a family without series off the page.
                continue;
            }
            out.push_str(head);
            match *family {
                Family::Scalar(index) => {
                    out.push_str(name);
                    out.push_str(&self.scalar_labels);
                    let value = f64::from_bits(self.scalars[index].load(Ordering::Relaxed));
                    write!(out, "{value}")?;
                    out.push('\n');
                }
                Family::Blocks => {
                    for &rank in &self.order {
                        self.series_head(out, name, rank);
                        // prometheus renders an `i64` through `f64`.
                        let value = self.blocks[rank as usize].load(Ordering::Relaxed);
                        if value.unsigned_abs() < 1 << 53 {
                            push_int(out, value.unsigned_abs(), value < 0);
                        } else {
                            write!(out, "{}", value as f64)?;
                        }
                        out.push('\n');
                    }
                }
                Family::PerRank(index) => {
                    let values = &self.floats[index];
                    for &rank in &self.order {
                        self.series_head(out, name, rank);
                        let value = f64::from_bits(values[rank as usize].load(Ordering::Relaxed));
                        write!(out, "{value}")?;
                        out.push('\n');
                    }
                }
            }
        }
        Ok(())
    }

    /// `name{dp_rank="rank",<hierarchy>} `.
    fn series_head(&self, out: &mut String, name: &str, rank: u32) {
        out.push_str(name);
        out.push('{');
        out.push_str(labels::DP_RANK);
        out.push_str("=\"");
        push_int(out, u64::from(rank), false);
        out.push_str(&self.rank_suffix);
    }
}

/// Appends `value` (negated if `negative`) in decimal.
fn push_int(out: &mut String, mut value: u64, negative: bool) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    if negative {
        out.push('-');
    }
    for &digit in &digits[at..] {
        out.push(char::from(digit));
    }
}

/// A label value escaped as the text format requires.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
