//! [`PerRank`]: a family labelled `dp_rank`, with each declared rank's series resolved once.

use std::fmt;
use std::sync::OnceLock;

use prometheus::{Gauge, IntGauge};

use crate::Error;
use crate::family::{self, Family, LabelSet, LabelValues};
use crate::metric::{Metric, Series};

/// The widest span of declared ranks (largest − smallest + 1) a [`PerRank`] table holds.
pub const MAX_RANK_SPAN: u32 = 1 << 16;

/// The most series one [`PerRank`] or [`Family`] table holds (declared ranks times label
/// combinations).
pub const MAX_TABLE_SERIES: u64 = 1 << 20;

mod sealed {
    use crate::family::LabelValues;

    /// What the table needs to know of a per-rank kind; not part of the public API.
    pub trait Sealed {
        /// How many series one rank holds: 1, or the label set's number of combinations.
        const WIDTH: usize;
        /// Pushes the labels after `dp_rank` of the series at `column`.
        fn labels(column: usize, values: &mut LabelValues<'_>);
    }
}

/// A gauge that can be set directly: [`Gauge`] (`f64`) and [`IntGauge`] (`i64`). Sealed.
pub trait SetGauge: Metric {
    /// The value type the gauge holds.
    type Value: Copy;
    /// Sets the gauge.
    fn set_value(&self, value: Self::Value);
}

impl SetGauge for Gauge {
    type Value = f64;
    #[inline]
    fn set_value(&self, value: f64) {
        self.set(value);
    }
}

impl SetGauge for IntGauge {
    type Value = i64;
    #[inline]
    fn set_value(&self, value: i64) {
        self.set(value);
    }
}

/// What a [`PerRank`] keeps per rank: one series ([`IntGauge`], [`Gauge`], `IntCounter`,
/// `Counter`, `Histogram`), or a typed [`Family`] of them. Sealed.
#[diagnostic::on_unimplemented(
    message = "`PerRank` takes `IntGauge`, `Gauge`, `IntCounter`, `Counter`, `Histogram` or `Family<L, M>`, not `{Self}`",
    label = "not a per-rank kind",
    note = "for a family with string labels of its own, use a `*Vec` type with `#[metric(labels(..))]`"
)]
pub trait RankMetric: sealed::Sealed + 'static {
    /// The kind of each series.
    type Series: Metric;
    /// What [`PerRank::rank`] returns: a [`Series`], or a [`RankFamily`] for a typed family.
    type Rank<'a>;
    #[doc(hidden)]
    fn __rank(per_rank: &PerRank<Self>, rank: u32) -> Self::Rank<'_>
    where
        Self: Sized;
}

impl<M: Metric> sealed::Sealed for M {
    const WIDTH: usize = 1;
    fn labels(_column: usize, _values: &mut LabelValues<'_>) {}
}

impl<M: Metric> RankMetric for M {
    type Series = M;
    type Rank<'a> = Series<'a, M>;

    #[inline]
    fn __rank(per_rank: &PerRank<M>, rank: u32) -> Series<'_, M> {
        per_rank.series(rank, 0)
    }
}

impl<L: LabelSet + 'static, M: Metric> sealed::Sealed for Family<L, M> {
    const WIDTH: usize = L::CARDINALITY;
    fn labels(column: usize, values: &mut LabelValues<'_>) {
        values.push_set::<L>(column);
    }
}

impl<L: LabelSet + 'static, M: Metric> RankMetric for Family<L, M> {
    type Series = M;
    type Rank<'a> = RankFamily<'a, L, M>;

    #[inline]
    fn __rank(per_rank: &PerRank<Self>, rank: u32) -> RankFamily<'_, L, M> {
        RankFamily { per_rank, rank }
    }
}

/// A family labelled `dp_rank`, one series (or one typed [`Family`]) per data-parallel rank.
///
/// The ranks declared at registration are resolved once into a flat table indexed by
/// `rank - smallest declared rank`, so writing a declared rank is an index and one atomic
/// operation: no hashing, no allocation, no lock, no formatting. Ranks need not be contiguous.
/// Other ranks work too, through the family's label lookup (slower; ranks between the smallest
/// and largest declared one are cached after their first use).
///
/// Declared ranks are seeded at 0 so the family renders from the start, unless the field is
/// `unseeded`: then a rank's series (and so the family) appears with its first write.
pub struct PerRank<R: RankMetric> {
    family: <R::Series as Metric>::Vec,
    metric: &'static str,
    first: u32,
    cells: Box<[OnceLock<R::Series>]>,
    declared: Box<[u32]>,
}

impl<R: RankMetric> PerRank<R> {
    /// Checks that `dp_ranks` fit a table before anything is registered.
    pub(crate) fn check_span(metric: &str, dp_ranks: &[u32]) -> Result<(), Error> {
        let (Some(&min), Some(&max)) = (dp_ranks.iter().min(), dp_ranks.iter().max()) else {
            return Ok(());
        };
        if max - min >= MAX_RANK_SPAN {
            return Err(Error::RankSpanTooLarge {
                metric: metric.to_owned(),
                min,
                max,
                limit: MAX_RANK_SPAN,
            });
        }
        let series = (u64::from(max - min) + 1).saturating_mul(<R as sealed::Sealed>::WIDTH as u64);
        if series > MAX_TABLE_SERIES {
            return Err(Error::TooManySeries {
                metric: metric.to_owned(),
                series,
                limit: MAX_TABLE_SERIES,
            });
        }
        Ok(())
    }

    /// Wraps a registered family, resolving (and, if `seeded`, creating and zeroing) every series
    /// of each declared rank. The span must have passed [`Self::check_span`].
    pub(crate) fn new(
        metric: &'static str,
        family: <R::Series as Metric>::Vec,
        dp_ranks: &[u32],
        seeded: bool,
    ) -> Self {
        let mut declared: Vec<u32> = dp_ranks.to_vec();
        declared.sort_unstable();
        declared.dedup();
        let first = declared.first().copied().unwrap_or(0);
        let span = declared
            .last()
            .map_or(0, |&last| (last - first) as usize + 1);
        let cells: Box<[OnceLock<R::Series>]> = (0..span * <R as sealed::Sealed>::WIDTH)
            .map(|_| OnceLock::new())
            .collect();
        let this = Self {
            family,
            metric,
            first,
            cells,
            declared: declared.into_boxed_slice(),
        };
        if seeded {
            for &rank in &this.declared {
                for column in 0..<R as sealed::Sealed>::WIDTH {
                    let child = this.child(rank, column);
                    child.__seed();
                    if let Some(cell) = this.cell_slot(rank, column) {
                        let _ = cell.set(child);
                    }
                }
            }
        }
        this
    }

    /// The series of `rank` (for a typed family, a view whose `with(value)` gives the series).
    /// Touching an unseeded rank creates its series.
    #[inline]
    pub fn rank(&self, rank: u32) -> R::Rank<'_> {
        R::__rank(self, rank)
    }

    /// The declared ranks, sorted, without repeats.
    pub fn declared_ranks(&self) -> &[u32] {
        &self.declared
    }

    /// The series at (`rank`, `column`): from the table if it holds it, else resolved.
    #[inline]
    fn series(&self, rank: u32, column: usize) -> Series<'_, R::Series> {
        match self.resolved(rank, column) {
            Some(metric) => Series::table(metric),
            None => self.resolve(rank, column),
        }
    }

    /// The series at (`rank`, `column`) if the table already holds it: one compare (a rank below
    /// the table wraps to an offset past its end), one load of the cell's state, no call.
    #[inline]
    fn resolved(&self, rank: u32, column: usize) -> Option<&R::Series> {
        self.cell_slot(rank, column)?.get()
    }

    #[inline]
    fn cell_slot(&self, rank: u32, column: usize) -> Option<&OnceLock<R::Series>> {
        if column >= <R as sealed::Sealed>::WIDTH {
            return None;
        }
        let offset = rank.wrapping_sub(self.first) as usize;
        self.cells.get(
            offset
                .checked_mul(<R as sealed::Sealed>::WIDTH)?
                .checked_add(column)?,
        )
    }

    /// The series of a (`rank`, `column`) the table does not hold yet: a table rank's is resolved
    /// and kept, any other rank's is looked up by label.
    #[cold]
    #[inline(never)]
    fn resolve(&self, rank: u32, column: usize) -> Series<'_, R::Series> {
        if column >= <R as sealed::Sealed>::WIDTH {
            return Series::owned(family::out_of_range(
                self.metric,
                column,
                <R as sealed::Sealed>::WIDTH,
            ));
        }
        match self.cell_slot(rank, column) {
            Some(cell) => Series::table(cell.get_or_init(|| self.child(rank, column))),
            None => Series::owned(self.child(rank, column)),
        }
    }

    #[cold]
    fn child(&self, rank: u32, column: usize) -> R::Series {
        let rank_label = RankLabel::new(rank);
        let mut values = LabelValues::new();
        values.push(rank_label.as_str());
        <R as sealed::Sealed>::labels(column, &mut values);
        family::child_or_detached::<R::Series>(self.metric, &self.family, values.as_slice())
    }
}

impl<M: SetGauge> PerRank<M> {
    /// Sets the gauge of `rank`.
    #[inline]
    pub fn set(&self, rank: u32, value: M::Value) {
        match self.resolved(rank, 0) {
            Some(metric) => metric.set_value(value),
            None => self.set_slow(rank, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn set_slow(&self, rank: u32, value: M::Value) {
        self.resolve(rank, 0).metric().set_value(value);
    }
}

impl<M: Metric> PerRank<M> {
    /// The underlying `prometheus` family, labelled `dp_rank`.
    pub fn family(&self) -> &M::Vec {
        &self.family
    }
}

impl<R: RankMetric> fmt::Debug for PerRank<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerRank")
            .field("metric", &self.metric)
            .field("declared_ranks", &self.declared)
            .finish_non_exhaustive()
    }
}

/// One rank of a `PerRank<Family<L, M>>`, from [`PerRank::rank`]: `with(value)` gives the series.
pub struct RankFamily<'a, L: LabelSet + 'static, M: Metric> {
    per_rank: &'a PerRank<Family<L, M>>,
    rank: u32,
}

impl<'a, L: LabelSet + 'static, M: Metric> RankFamily<'a, L, M> {
    /// The series of `value` at this rank.
    #[inline]
    pub fn with(&self, value: L) -> Series<'a, M> {
        self.per_rank.series(self.rank, value.combination())
    }
}

impl<L: LabelSet + 'static, M: Metric> fmt::Debug for RankFamily<'_, L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RankFamily")
            .field("metric", &self.per_rank.metric)
            .field("rank", &self.rank)
            .finish()
    }
}

/// A rank's label value, formatted on the stack.
struct RankLabel {
    buf: [u8; 10],
    start: usize,
}

impl RankLabel {
    fn new(mut rank: u32) -> Self {
        let mut buf = [0u8; 10];
        let mut start = buf.len();
        loop {
            start -= 1;
            buf[start] = b'0' + (rank % 10) as u8;
            rank /= 10;
            if rank == 0 {
                break;
            }
        }
        Self { buf, start }
    }

    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[self.start..]).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::RankLabel;

    #[test]
    fn rank_labels_are_decimal() {
        for rank in [0, 7, 10, 4_096, u32::MAX] {
            assert_eq!(RankLabel::new(rank).as_str(), rank.to_string());
        }
    }
}
