//! The crate's own store: where the values of `PerRank` and `Family` fields live, and how they
//! are rendered straight to text.
//!
//! A family is a [`Table`]: its constant text (help, type, and every label that is the same for
//! all its series: hierarchy, engine and const labels, sorted and escaped) is rendered once, at
//! registration; a series is a [`Slot`], an atomic and a presence flag, whose labels are its
//! position in the table (the rank, the typed label values). A scrape writes `name{labels} value`
//! lines from the template and the atomics into the page's buffer, in the order prometheus's
//! `Registry::gather` sorts series, so that the text is byte for byte what prometheus's
//! `TextEncoder` writes for the same metrics.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::BuildHasherDefault;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use prometheus::proto::{self, MetricFamily, MetricType};

use crate::hierarchy::registry::lock;
use crate::metric::bound::RankBound;
use crate::metric::sealed::Token;
use crate::scrape::encode::{escape_into, type_name};

/// One series: its value's bits (an `i64`, a `u64` or an `f64`, as the kind says), whether it is
/// on the page, a histogram's buckets, and the next series in the page's order.
///
/// A slot fills a cache line of its own, so that writers of neighbouring ranks on different cores
/// do not contend for one line (as separately allocated prometheus children do not); the line's
/// room holds the rest of the series' state, 64 bytes in all.
#[repr(align(64))]
pub(crate) struct Slot {
    pub(crate) bits: AtomicU64,
    pub(crate) present: AtomicBool,
    pub(crate) hist: Option<Box<HistCell>>,
    /// The index of the next slot on the page, [`END`] for the last.
    pub(crate) next: u32,
    /// Whether the slot's rank was declared at registration.
    pub(crate) declared: bool,
}

/// The end of a table's order.
pub(crate) const END: u32 = u32::MAX;

/// A histogram series' counts: one per bucket (not cumulative; the last is `+Inf`), the sum of
/// the observations, and how many there were.
pub(crate) struct HistCell {
    pub(crate) bounds: &'static [f64],
    pub(crate) counts: Box<[AtomicU64]>,
    pub(crate) sum: AtomicU64,
    pub(crate) count: AtomicU64,
}

impl Slot {
    pub(crate) fn new(present: bool, bounds: Option<&'static [f64]>) -> Self {
        Self {
            bits: AtomicU64::new(0),
            present: AtomicBool::new(present),
            next: END,
            declared: false,
            hist: bounds.map(|bounds| {
                Box::new(HistCell {
                    bounds,
                    counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
                    sum: AtomicU64::new(0f64.to_bits()),
                    count: AtomicU64::new(0),
                })
            }),
        }
    }

    /// Puts the series on the page (a write to an unseeded or removed series).
    #[inline]
    pub(crate) fn touch(&self) {
        if !self.present.load(Ordering::Relaxed) {
            self.present.store(true, Ordering::Relaxed);
        }
    }

    /// Takes the series off the page and back to zero.
    pub(crate) fn clear(&self) {
        self.present.store(false, Ordering::Relaxed);
        self.bits.store(0, Ordering::Relaxed);
        if let Some(hist) = &self.hist {
            for count in &hist.counts {
                count.store(0, Ordering::Relaxed);
            }
            hist.sum.store(0f64.to_bits(), Ordering::Relaxed);
            hist.count.store(0, Ordering::Relaxed);
        }
    }
}

impl HistCell {
    #[inline]
    pub(crate) fn observe(&self, value: f64) {
        // The first bound not below the value; NaN and values past the last bound go to +Inf.
        let index = self.bounds.partition_point(|&bound| bound < value);
        let index = if value.is_nan() {
            self.bounds.len()
        } else {
            index
        };
        if let Some(count) = self.counts.get(index) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        add_f64(&self.sum, value);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Adds to an `f64` kept as bits.
#[inline]
pub(crate) fn add_f64(bits: &AtomicU64, delta: f64) {
    let mut current = bits.load(Ordering::Relaxed);
    loop {
        let next = (f64::from_bits(current) + delta).to_bits();
        match bits.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return,
            Err(seen) => current = seen,
        }
    }
}

/// How a value's bits read as the number the page shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Repr {
    I64,
    U64,
    F64,
    Histogram,
}

impl Repr {
    fn value(self, bits: u64) -> f64 {
        match self {
            // The page shows every value through `f64`, as prometheus's encoder does.
            Self::I64 => bits as i64 as f64,
            Self::U64 => bits as f64,
            Self::F64 | Self::Histogram => f64::from_bits(bits),
        }
    }
}

/// A family's text, rendered once: the name, the `# HELP` and `# TYPE` lines, and the labels as
/// a template with a hole for each variable label.
pub(crate) struct FamilyText {
    pub(crate) name: String,
    pub(crate) help: String,
    pub(crate) kind: MetricType,
    header: String,
    /// The labels between the braces, in name order; empty when there are none.
    pieces: Vec<Piece>,
    /// The constant labels, sorted, for the slow path.
    const_labels: Vec<(String, String)>,
    /// The variable labels' names, in the order the table indexes them (`dp_rank` first for a
    /// per-rank family), and where each sits among all the labels in name order.
    variable: Vec<String>,
    /// Variable indices in the order their names sort: the order series sort by.
    sort_order: Vec<usize>,
    /// A histogram's `le` values, `+Inf` last.
    le: Vec<String>,
}

enum Piece {
    Text(String),
    Var(usize),
}

impl FamilyText {
    /// `const_labels` are every label that is the same for all series (hierarchy, engine and the
    /// set's own), `variable` the table's variable labels, in its order.
    pub(crate) fn new(
        name: &str,
        help: &str,
        kind: MetricType,
        const_labels: &[(String, String)],
        variable: &[&str],
        buckets: &[f64],
    ) -> Self {
        enum Label<'a> {
            Const(&'a str, &'a str),
            Var(&'a str, usize),
        }
        fn label_name<'a>(label: &Label<'a>) -> &'a str {
            match label {
                Label::Const(n, _) | Label::Var(n, _) => n,
            }
        }

        let mut header = String::new();
        header.push_str("# HELP ");
        header.push_str(name);
        header.push(' ');
        escape_into(&mut header, help, false);
        header.push_str("\n# TYPE ");
        header.push_str(name);
        header.push(' ');
        header.push_str(type_name(kind));
        header.push('\n');

        let mut all: Vec<Label<'_>> = const_labels
            .iter()
            .map(|(n, v)| Label::Const(n, v))
            .chain(variable.iter().enumerate().map(|(i, n)| Label::Var(n, i)))
            .collect();
        all.sort_by(|a, b| label_name(a).cmp(label_name(b)));
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut sort_order = Vec::new();
        for (i, label) in all.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            match label {
                Label::Const(n, v) => {
                    text.push_str(n);
                    text.push_str("=\"");
                    escape_into(&mut text, v, true);
                    text.push('"');
                }
                Label::Var(n, index) => {
                    text.push_str(n);
                    text.push_str("=\"");
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                    pieces.push(Piece::Var(*index));
                    text.push('"');
                    sort_order.push(*index);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let mut sorted_consts = const_labels.to_vec();
        sorted_consts.sort();
        Self {
            name: name.to_owned(),
            help: help.to_owned(),
            kind,
            header,
            pieces,
            const_labels: sorted_consts,
            variable: variable.iter().map(|&v| v.to_owned()).collect(),
            sort_order,
            le: buckets
                .iter()
                .map(std::string::ToString::to_string)
                .chain(["+Inf".to_owned()])
                .collect(),
        }
    }

    /// Writes `{labels}` (with `le` last, for a bucket), or nothing when the series has no label.
    fn labels(&self, out: &mut String, values: &[&str], le: Option<&str>) {
        if self.pieces.is_empty() && le.is_none() {
            return;
        }
        out.push('{');
        for piece in &self.pieces {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(index) => {
                    escape_into(out, values.get(*index).copied().unwrap_or_default(), true);
                }
            }
        }
        if let Some(le) = le {
            if !self.pieces.is_empty() {
                out.push(',');
            }
            out.push_str("le=\"");
            out.push_str(le);
            out.push('"');
        }
        out.push('}');
    }

    fn sample(
        &self,
        out: &mut String,
        suffix: &str,
        values: &[&str],
        le: Option<&str>,
        value: f64,
    ) {
        out.push_str(&self.name);
        out.push_str(suffix);
        self.labels(out, values, le);
        out.push(' ');
        write_value(out, value);
        out.push('\n');
    }
}

/// Writes a value as prometheus's encoder does (Rust's `Display` for `f64`: `1`, `0.5`, `inf`,
/// `-inf`, `NaN`, never an exponent), with a fast path for whole numbers.
pub(crate) fn write_value(out: &mut String, value: f64) {
    // Whole numbers below 2^53 print as the integer they are; `-0` keeps its sign.
    if value.fract() == 0.0
        && value.abs() < 9_007_199_254_740_992.0
        && value.to_bits() != (-0f64).to_bits()
    {
        let mut buffer = itoa::Buffer::new();
        out.push_str(buffer.format(value as i64));
    } else {
        let _ = write!(out, "{value}");
    }
}

/// What a table needs to know of what it holds. Implemented for the series kinds
/// ([`Metric`](crate::metric::Metric)s) and for typed families.
pub trait TableKind: Send + Sync + 'static {
    /// How a series' bits read.
    #[doc(hidden)]
    const REPR: Repr;
    /// The page's type.
    #[doc(hidden)]
    const TYPE: MetricType;
    /// How many series one row (one rank) holds.
    #[doc(hidden)]
    fn width(_: Token) -> usize;
    /// The typed label values of column `column`, appended to `out`.
    #[doc(hidden)]
    fn values(column: usize, out: &mut Vec<&'static str>, _: Token);
}

/// The rows of a per-rank table: `rows` ranks from `first`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ranks {
    pub(crate) first: u32,
    pub(crate) rows: usize,
}

/// The values of one family: a table of series, in the crate's own store.
pub(crate) struct Table<K> {
    pub(crate) text: FamilyText,
    ranks: Option<Ranks>,
    /// The first rank of the table (0 without ranks) and how many rows it has (1 without ranks).
    pub(crate) first: u32,
    pub(crate) rows: usize,
    width: usize,
    pub(crate) slots: Box<[Slot]>,
    /// The first slot on the page; each slot names the next.
    head: u32,
    /// Per-rank tables: the ranks outside the table, one row each, as they are first written.
    extras: Extras,
    pub(crate) bound: Option<RankBound>,
    buckets: Option<&'static [f64]>,
    /// The level the family is on: held, so that the level stays in the tree while the family
    /// can be written.
    _level: Option<Arc<dyn crate::MetricsHierarchy>>,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Table<K> {
    /// The declared ranks, in order.
    pub(crate) fn declared(&self) -> Vec<u32> {
        self.slots
            .chunks(self.width.max(1))
            .enumerate()
            .filter(|(_, row)| row.first().is_some_and(|slot| slot.declared))
            .map(|(row, _)| self.first.wrapping_add(row as u32))
            .collect()
    }
}

impl<K: TableKind> Table<K> {
    /// A table of `ranks` rows (one row without ranks), the `declared` ranks' series present at 0
    /// if `seeded`.
    pub(crate) fn new(
        text: FamilyText,
        ranks: Option<Ranks>,
        declared: &[u32],
        seeded: bool,
        buckets: Option<&'static [f64]>,
        bound: Option<RankBound>,
        level: Option<Arc<dyn crate::MetricsHierarchy>>,
    ) -> Self {
        let width = K::width(Token(()));
        let rows = ranks.map_or(1, |r| r.rows);
        let is_declared = |row: usize| match ranks {
            Some(r) => declared
                .binary_search(&r.first.wrapping_add(row as u32))
                .is_ok(),
            None => false,
        };
        // A seeded table shows its declared ranks' series (every series, without ranks) at 0.
        let slots: Box<[Slot]> = (0..rows * width)
            .map(|i| {
                let declared = is_declared(i / width.max(1));
                let mut slot = Slot::new(seeded && (ranks.is_none() || declared), buckets);
                slot.declared = declared;
                slot
            })
            .collect();
        let capacity = bound.as_ref().map_or(0, RankBound::limit);
        let mut table = Self {
            text,
            ranks,
            first: ranks.map_or(0, |r| r.first),
            rows,
            width,
            slots,
            head: END,
            extras: Extras::new(capacity),
            bound,
            buckets,
            _level: level,
            _kind: PhantomData,
        };
        let order = table.sorted_order();
        table.head = order.first().copied().unwrap_or(END);
        for pair in order.windows(2) {
            if let Some(slot) = table.slots.get_mut(pair[0] as usize) {
                slot.next = pair[1];
            }
        }
        table
    }

    /// Every slot index, sorted by the values of the labels in name order, as `gather` sorts.
    fn sorted_order(&self) -> Box<[u32]> {
        let mut keys: Vec<(Vec<String>, u32)> = (0..self.slots.len())
            .map(|index| {
                let values = Self::values_of(
                    self.rank_of_row(index / self.width.max(1)),
                    index % self.width.max(1),
                );
                let key = self
                    .text
                    .sort_order
                    .iter()
                    .map(|&v| values.get(v).cloned().unwrap_or_default())
                    .collect();
                (key, index as u32)
            })
            .collect();
        keys.sort();
        keys.into_iter().map(|(_, index)| index).collect()
    }

    fn rank_of_row(&self, row: usize) -> Option<u32> {
        self.ranks
            .map(|r| r.first.wrapping_add(u32::try_from(row).unwrap_or(u32::MAX)))
    }

    /// The variable label values of a series (rank first, if any), as owned strings.
    fn values_of(rank: Option<u32>, column: usize) -> Vec<String> {
        let mut typed = Vec::new();
        K::values(column, &mut typed, Token(()));
        rank.map(|r| r.to_string())
            .into_iter()
            .chain(typed.into_iter().map(str::to_owned))
            .collect()
    }

    /// The slot of (`row`, `column`), if the table holds it.
    #[inline]
    pub(crate) fn slot(&self, row: usize, column: usize) -> Option<&Slot> {
        if column >= self.width || row >= self.rows {
            return None;
        }
        self.slots.get(row * self.width + column)
    }

    /// The row of `rank`, if the table holds it.
    #[inline]
    pub(crate) fn row_of(&self, rank: u32) -> Option<usize> {
        let row = rank.wrapping_sub(self.first) as usize;
        (self.ranks.is_some() && row < self.rows).then_some(row)
    }

    /// The slot at `column` of a rank outside the table, made when first written, if the bound
    /// admits the rank; `None` for a dropped write (counted by the bound).
    #[cold]
    #[inline(never)]
    pub(crate) fn extra_slot(&self, rank: u32, column: usize) -> Option<&Slot> {
        if column >= self.width {
            return None;
        }
        if let Some(row) = self.extras.row(rank, self.width, self.buckets) {
            row.slots.get(column)
        } else {
            if let Some(bound) = &self.bound {
                bound.count_dropped(rank);
            }
            None
        }
    }

    /// Takes the series of (`rank`, `column`) off the page (back to zero); a later write brings
    /// it back.
    pub(crate) fn remove(&self, rank: Option<u32>, column: usize) {
        let row = match rank {
            Some(rank) => self.row_of(rank),
            None => Some(0),
        };
        match row {
            Some(row) => {
                if let Some(slot) = self.slot(row, column) {
                    slot.clear();
                }
            }
            None => {
                if let Some(rank) = rank
                    && let Some(row) = self.extras.find(rank)
                    && let Some(slot) = row.slots.get(column)
                {
                    slot.clear();
                }
            }
        }
    }

    /// Whether any series is on the page.
    fn any_present(&self) -> bool {
        let present = |slot: &Slot| slot.present.load(Ordering::Relaxed);
        self.slots.iter().any(present)
            || self.extras.rows().any(|row| row.slots.iter().any(present))
    }

    /// Renders the family (nothing when no series is on the page).
    pub(crate) fn render(&self, out: &mut String) {
        if self.extras.any() {
            // Ranks outside the table sort among its own: the slow, general path.
            let family = self.to_family();
            crate::scrape::encode::encode_family(&family, out);
            return;
        }
        let mut wrote_header = false;
        let mut typed: Vec<&'static str> = Vec::with_capacity(4);
        let mut rank_text = itoa::Buffer::new();
        let mut next = self.head;
        while next != END {
            let index = next as usize;
            let Some(slot) = self.slots.get(index) else {
                break;
            };
            next = slot.next;
            if !slot.present.load(Ordering::Relaxed) {
                continue;
            }
            if !wrote_header {
                out.push_str(&self.text.header);
                wrote_header = true;
            }
            let (row, column) = (index / self.width.max(1), index % self.width.max(1));
            typed.clear();
            K::values(column, &mut typed, Token(()));
            let mut values: [&str; 5] = [""; 5];
            let mut n = 0;
            if let Some(rank) = self.rank_of_row(row) {
                values[0] = rank_text.format(rank);
                n = 1;
            }
            for value in &typed {
                if let Some(place) = values.get_mut(n) {
                    *place = value;
                    n += 1;
                }
            }
            self.render_series(out, slot, &values[..n]);
        }
    }

    fn render_series(&self, out: &mut String, slot: &Slot, values: &[&str]) {
        match (&slot.hist, K::REPR) {
            (Some(hist), _) => {
                let count = hist.count.load(Ordering::Relaxed);
                let mut cumulative = 0u64;
                let last = hist.counts.len().saturating_sub(1);
                for (i, bucket) in hist.counts.iter().enumerate() {
                    cumulative += bucket.load(Ordering::Relaxed);
                    if i == last {
                        break;
                    }
                    let le = self.text.le.get(i).map_or("", String::as_str);
                    self.text
                        .sample(out, "_bucket", values, Some(le), cumulative as f64);
                }
                // The `+Inf` bucket is the count, and no bucket exceeds it.
                let count = count.max(cumulative);
                self.text
                    .sample(out, "_bucket", values, Some("+Inf"), count as f64);
                let sum = f64::from_bits(hist.sum.load(Ordering::Relaxed));
                self.text.sample(out, "_sum", values, None, sum);
                self.text.sample(out, "_count", values, None, count as f64);
            }
            (None, repr) => {
                let value = repr.value(slot.bits.load(Ordering::Relaxed));
                self.text.sample(out, "", values, None, value);
            }
        }
    }

    /// The family as prometheus's data model, for merging with families of the same name from
    /// other registries (and for the tests that compare the two renderings).
    pub(crate) fn to_family(&self) -> MetricFamily {
        let mut family = MetricFamily::default();
        family.set_name(self.text.name.clone());
        family.set_help(self.text.help.clone());
        family.set_field_type(self.text.kind);
        let mut metrics = Vec::new();
        let mut push = |rank: Option<u32>, column: usize, slot: &Slot| {
            if !slot.present.load(Ordering::Relaxed) {
                return;
            }
            let values = Self::values_of(rank, column);
            let mut pairs: Vec<proto::LabelPair> = self
                .text
                .const_labels
                .iter()
                .map(|(n, v)| (n.clone(), v.clone()))
                .chain(
                    self.text
                        .variable
                        .iter()
                        .cloned()
                        .zip(values.iter().cloned()),
                )
                .map(|(name, value)| {
                    let mut pair = proto::LabelPair::default();
                    pair.set_name(name);
                    pair.set_value(value);
                    pair
                })
                .collect();
            pairs.sort_by(|a, b| a.name().cmp(b.name()));
            let mut metric = proto::Metric::default();
            metric.set_label(pairs);
            if let Some(hist) = &slot.hist {
                let mut h = proto::Histogram::default();
                let mut cumulative = 0u64;
                let mut buckets = Vec::new();
                for (i, count) in hist.counts.iter().enumerate() {
                    cumulative += count.load(Ordering::Relaxed);
                    if let Some(&bound) = hist.bounds.get(i) {
                        let mut bucket = proto::Bucket::default();
                        bucket.set_upper_bound(bound);
                        bucket.set_cumulative_count(cumulative);
                        buckets.push(bucket);
                    }
                }
                h.set_bucket(buckets);
                h.set_sample_count(hist.count.load(Ordering::Relaxed).max(cumulative));
                h.set_sample_sum(f64::from_bits(hist.sum.load(Ordering::Relaxed)));
                metric.set_histogram(h);
            } else {
                let value = K::REPR.value(slot.bits.load(Ordering::Relaxed));
                if self.text.kind == MetricType::COUNTER {
                    let mut c = proto::Counter::default();
                    c.set_value(value);
                    metric.set_counter(c);
                } else {
                    let mut g = proto::Gauge::default();
                    g.set_value(value);
                    metric.set_gauge(g);
                }
            }
            metrics.push(metric);
        };
        for (index, slot) in self.slots.iter().enumerate() {
            let (row, column) = (index / self.width.max(1), index % self.width.max(1));
            push(self.rank_of_row(row), column, slot);
        }
        for row in self.extras.rows() {
            for (column, slot) in row.slots.iter().enumerate() {
                push(Some(row.rank), column, slot);
            }
        }
        metrics.sort_by(|a, b| {
            let values = |m: &proto::Metric| -> Vec<String> {
                m.get_label().iter().map(|p| p.value().to_owned()).collect()
            };
            values(a).cmp(&values(b))
        });
        family.set_metric(metrics);
        family
    }
}

/// The rows of a per-rank table's ranks outside its declared span, made as they are first
/// written: at most the family's bound on undeclared ranks, in chunks allocated as they fill, so
/// that a family with a large bound costs nothing until it is used, and a row, once made, stays
/// where it is (a handle to one of its series borrows it from the table).
struct Extras {
    chunks: Box<[OnceLock<Chunk>]>,
    /// Rank to row number, for the writes that find their row (the cold path).
    index: Mutex<HashMap<u32, usize, BuildHasherDefault<RankHasher>>>,
    capacity: usize,
}

struct ExtraRow {
    rank: u32,
    slots: Box<[Slot]>,
}

/// [`CHUNK`] rows of [`Extras`], allocated together.
type Chunk = Box<[OnceLock<ExtraRow>]>;

const CHUNK: usize = 64;

/// Hashes a rank with one multiplication: the map holds at most the family's bound, so even
/// ranks chosen to collide cost a bounded scan.
#[derive(Default)]
struct RankHasher(u64);

impl std::hash::Hasher for RankHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, rank: u32) {
        self.0 = u64::from(rank).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

impl Extras {
    fn new(capacity: usize) -> Self {
        Self {
            chunks: (0..capacity.div_ceil(CHUNK))
                .map(|_| OnceLock::new())
                .collect(),
            index: Mutex::new(HashMap::default()),
            capacity,
        }
    }

    fn cell(&self, row: usize) -> Option<&OnceLock<ExtraRow>> {
        let chunk = self
            .chunks
            .get(row / CHUNK)?
            .get_or_init(|| (0..CHUNK).map(|_| OnceLock::new()).collect());
        chunk.get(row % CHUNK)
    }

    /// The row of `rank`, made if it is new and there is room.
    fn row(&self, rank: u32, width: usize, buckets: Option<&'static [f64]>) -> Option<&ExtraRow> {
        let mut index = lock(&self.index);
        let row = match index.get(&rank) {
            Some(&row) => row,
            None if index.len() < self.capacity => {
                let row = index.len();
                index.insert(rank, row);
                row
            }
            None => return None,
        };
        drop(index);
        Some(self.cell(row)?.get_or_init(|| ExtraRow {
            rank,
            slots: (0..width).map(|_| Slot::new(false, buckets)).collect(),
        }))
    }

    /// The row of `rank`, if it was made.
    fn find(&self, rank: u32) -> Option<&ExtraRow> {
        let row = *lock(&self.index).get(&rank)?;
        self.cell(row)?.get()
    }

    fn any(&self) -> bool {
        self.chunks.first().and_then(OnceLock::get).is_some()
    }

    fn rows(&self) -> impl Iterator<Item = &ExtraRow> {
        self.chunks
            .iter()
            .filter_map(OnceLock::get)
            .flat_map(|chunk| chunk.iter().filter_map(OnceLock::get))
    }
}

/// A family on a registry's page, whatever it holds.
pub(crate) trait Native: Send + Sync {
    fn name(&self) -> &str;
    fn render(&self, out: &mut String);
    fn to_family(&self) -> MetricFamily;
    fn on_page(&self) -> bool;
}

impl<K: TableKind> Native for Table<K> {
    fn name(&self) -> &str {
        &self.text.name
    }
    fn render(&self, out: &mut String) {
        Table::render(self, out);
    }
    fn to_family(&self) -> MetricFamily {
        Table::to_family(self)
    }
    fn on_page(&self) -> bool {
        self.any_present()
    }
}
