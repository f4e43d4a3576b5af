//! [`PerRank`]: a family labelled `dp_rank`, with each declared rank's series resolved once.

use std::fmt;
use std::sync::{Arc, OnceLock};

use prometheus::{Gauge, IntCounterVec, IntGauge};

use crate::Error;
use crate::bound::RankBound;
use crate::family::{self, ErasedVec, Family, LabelSet, RankRows};
use crate::metric::{Metric, Series};

/// The widest span of declared ranks (largest − smallest + 1) a [`PerRank`] table holds.
pub const MAX_RANK_SPAN: u32 = 1 << 16;

/// The most series one [`PerRank`] or [`Family`] table holds (declared ranks times label
/// combinations).
pub const MAX_TABLE_SERIES: u64 = 1 << 20;

mod sealed {
    use std::sync::{Arc, OnceLock};

    use crate::bound::RankBound;
    use crate::family::ErasedVec;

    /// What a per-rank kind keeps: one cell per rank, or one table; not part of the public API.
    pub trait Sealed: Sized {
        /// The cells (one per rank from `first`, `span` of them), the table, and what is left of
        /// the family, for the `declared` ranks (created and zeroed if `seeded`).
        #[allow(clippy::too_many_arguments)]
        fn layout(
            metric: &'static str,
            family: ErasedVec,
            declared: &[u32],
            first: u32,
            span: usize,
            seeded: bool,
            bound: &Arc<RankBound>,
        ) -> (Box<[OnceLock<Self>]>, Option<Self>, ErasedVec);
        /// How many series one rank holds.
        fn width() -> usize;
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
    message = "`PerRank` takes `IntGauge`, `Gauge`, `IntCounter`, `Counter`, `Histogram` or `Family<L, M>`",
    label = "not a per-rank kind",
    note = "for a family with string labels of its own, use a `*Vec` type with `#[metric(labels(..))]`"
)]
pub trait RankMetric: sealed::Sealed + Send + Sync + Sized + 'static {
    /// The kind of each series.
    type Series: Metric;
    /// What [`PerRank::rank`] returns: a [`Series`], or a [`RankFamily`] for a typed family.
    type Rank<'a>;
    #[doc(hidden)]
    fn __rank(per_rank: &PerRank<Self>, rank: u32) -> Self::Rank<'_>;
}

impl<M: Metric> sealed::Sealed for M {
    fn layout(
        metric: &'static str,
        family: ErasedVec,
        declared: &[u32],
        first: u32,
        span: usize,
        seeded: bool,
        _bound: &Arc<RankBound>,
    ) -> (Box<[OnceLock<M>]>, Option<M>, ErasedVec) {
        let cells: Box<[OnceLock<M>]> = (0..span).map(|_| OnceLock::new()).collect();
        // An unseeded rank's series appears with its first write.
        if seeded {
            for &rank in declared {
                if let Some(cell) = cells.get(rank.wrapping_sub(first) as usize) {
                    let series = series_at::<M>(metric, &family, rank);
                    series.__seed();
                    let _ = cell.set(series);
                }
            }
        }
        (cells, None, family)
    }

    fn width() -> usize {
        1
    }
}

/// The series of `rank` in a family labelled `dp_rank`.
fn series_at<M: Metric>(metric: &'static str, family: &ErasedVec, rank: u32) -> M {
    let label = RankLabel::new(rank);
    family::child_or_detached::<M>(metric, family, &[label.as_str()])
}

impl<M: Metric> RankMetric for M {
    type Series = M;
    type Rank<'a> = Series<'a, M>;

    #[inline]
    fn __rank(per_rank: &PerRank<M>, rank: u32) -> Series<'_, M> {
        match per_rank.resolved(rank) {
            Some(metric) => Series::table(metric),
            None => per_rank.resolve(rank),
        }
    }
}

impl<L: LabelSet + 'static, M: Metric> sealed::Sealed for Family<L, M> {
    fn layout(
        metric: &'static str,
        family: ErasedVec,
        declared: &[u32],
        first: u32,
        span: usize,
        seeded: bool,
        bound: &Arc<RankBound>,
    ) -> (Box<[OnceLock<Self>]>, Option<Self>, ErasedVec) {
        let rows = RankRows { first, rows: span };
        let table = Family::per_rank(metric, family, rows, declared, seeded, Arc::clone(bound));
        (Box::new([]), Some(table), Box::new(()))
    }

    fn width() -> usize {
        L::CARDINALITY
    }
}

impl<L: LabelSet + 'static, M: Metric> RankMetric for Family<L, M> {
    type Series = M;
    type Rank<'a> = RankFamily<'a, L, M>;

    #[inline]
    fn __rank(per_rank: &PerRank<Self>, rank: u32) -> RankFamily<'_, L, M> {
        RankFamily {
            table: per_rank.table.as_ref(),
            rank,
        }
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
///
/// Undeclared ranks are bounded per family (`#[metric(max_undeclared_ranks = N)]`, by default
/// [`DEFAULT_MAX_UNDECLARED_RANKS`](crate::DEFAULT_MAX_UNDECLARED_RANKS)): past the bound, writes
/// to new ranks are dropped and counted in [`DROPPED_WRITES`](crate::DROPPED_WRITES), and their
/// handle writes to a series registered nowhere.
pub struct PerRank<R> {
    metric: &'static str,
    first: u32,
    /// A series kind's cells, one per rank from `first`.
    cells: Box<[OnceLock<R>]>,
    /// A typed family's table, which holds every (rank, combination) in one flat array.
    table: Option<R>,
    declared: Box<[u32]>,
    /// Which undeclared ranks writes may reach.
    bound: Arc<RankBound>,
    /// Where a series kind's dropped writes go: a series registered nowhere.
    sink: OnceLock<R>,
    /// The registered `prometheus` family labelled `dp_rank`, used only to create series: kept
    /// without its type, so that `PerRank<R>` is a well-formed type whatever `R` is and an
    /// unsupported `R` is reported once, by the derive.
    family: ErasedVec,
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
        let width = R::width() as u64;
        let series = (u64::from(max - min) + 1).saturating_mul(width);
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
        bound: (u32, Option<IntCounterVec>),
    ) -> Self {
        let mut declared: Vec<u32> = dp_ranks.to_vec();
        declared.sort_unstable();
        declared.dedup();
        let first = declared.first().copied().unwrap_or(0);
        let span = declared
            .last()
            .map_or(0, |&last| (last - first) as usize + 1);
        let bound = Arc::new(RankBound::new(metric, bound.0, &declared, bound.1));
        let (cells, table, family) = R::layout(
            metric,
            Box::new(family),
            &declared,
            first,
            span,
            seeded,
            &bound,
        );
        Self {
            metric,
            first,
            cells,
            table,
            declared: declared.into_boxed_slice(),
            bound,
            sink: OnceLock::new(),
            family,
        }
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

    /// What the table holds for `rank`, if it holds it already: one compare (a rank below the
    /// table wraps to an offset past its end), one load of the cell's state, no call.
    #[inline]
    fn resolved(&self, rank: u32) -> Option<&R> {
        let offset = rank.wrapping_sub(self.first) as usize;
        self.cells.get(offset)?.get()
    }
}

impl<M: Metric> PerRank<M> {
    /// The series of a rank the table does not hold yet: a table rank's is created and kept, any
    /// other rank's is created for this one use.
    #[cold]
    #[inline(never)]
    fn resolve(&self, rank: u32) -> Series<'_, M> {
        if !self.bound.admit(rank) {
            return Series::table(self.sink.get_or_init(M::__detached));
        }
        let make = || series_at::<M>(self.metric, &self.family, rank);
        match rank
            .checked_sub(self.first)
            .and_then(|offset| self.cells.get(offset as usize))
        {
            Some(cell) => Series::table(cell.get_or_init(make)),
            None => Series::owned(make()),
        }
    }
}

impl<M: SetGauge> PerRank<M> {
    /// Sets the gauge of `rank`.
    #[inline]
    pub fn set(&self, rank: u32, value: M::Value) {
        match self.resolved(rank) {
            Some(metric) => metric.set_value(value),
            None => self.set_slow(rank, value),
        }
    }

    #[cold]
    #[inline(never)]
    fn set_slow(&self, rank: u32, value: M::Value) {
        self.rank(rank).metric().set_value(value);
    }
}

impl<M: Metric> PerRank<M> {
    /// The underlying `prometheus` family, labelled `dp_rank`. Not a stable API: the values will
    /// move into the crate's own store, and this accessor with them.
    #[doc(hidden)]
    pub fn family(&self) -> &M::Vec {
        match family::vec_of::<M>(&self.family) {
            Some(family) => family,
            None => unreachable!("a `PerRank<M>` is built from an `M::Vec`"),
        }
    }
}

impl<R> fmt::Debug for PerRank<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerRank")
            .field("metric", &self.metric)
            .field("declared_ranks", &self.declared)
            .finish_non_exhaustive()
    }
}

/// One rank of a `PerRank<Family<L, M>>`, from [`PerRank::rank`]: `with(value)` gives the series.
pub struct RankFamily<'a, L, M> {
    table: Option<&'a Family<L, M>>,
    rank: u32,
}

impl<'a, L: LabelSet + 'static, M: Metric> RankFamily<'a, L, M> {
    /// The series of `value` at this rank.
    #[inline]
    pub fn with(&self, value: L) -> Series<'a, M> {
        match self.table {
            Some(table) => table.at_rank(self.rank, value.combination()),
            None => Series::owned(no_table()),
        }
    }
}

/// A `PerRank<Family<..>>` always has its table; were it missing, writes would be logged and
/// dropped rather than panic.
#[cold]
fn no_table<M: Metric>() -> M {
    tracing::error!("a per-rank typed family has no table; the write is not recorded");
    M::__detached()
}

impl<L, M> fmt::Debug for RankFamily<'_, L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RankFamily")
            .field("table", &self.table)
            .field("rank", &self.rank)
            .finish()
    }
}

/// A rank's label value, formatted on the stack.
pub(crate) struct RankLabel {
    buf: [u8; 10],
    start: usize,
}

impl RankLabel {
    pub(crate) fn new(mut rank: u32) -> Self {
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

    pub(crate) fn as_str(&self) -> &str {
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
