//! [`PerRank`]: a family labelled `dp_rank`, with each declared rank's series resolved once.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use prometheus::{Gauge, IntGauge};

use crate::Error;
use crate::error::MetricErrorKind;
use crate::metric::family::{Family, LabelSet, out_of_range};
use crate::metric::sealed::Token;
use crate::metric::store::{Table, TableKind};
use crate::metric::{Metric, Series};

/// The widest span of declared ranks (largest − smallest + 1) a [`PerRank`] table holds.
pub const MAX_RANK_SPAN: u32 = 1 << 16;

/// The most series one [`PerRank`] or [`Family`] table holds (declared ranks times label
/// combinations).
pub const MAX_TABLE_SERIES: u64 = 1 << 20;

/// What the public traits of this module do, where users cannot call or implement it.
mod sealed {
    use super::{PerRank, RankMetric, SetGauge};
    use crate::metric::Series;
    use crate::metric::sealed::Token;

    pub trait Sealed {
        /// The handle of `rank`'s series (or family of series).
        fn rank(per_rank: &PerRank<Self>, rank: u32, _: Token) -> <Self as RankMetric>::Rank<'_>
        where
            Self: RankMetric;
    }

    pub trait SetSealed {
        /// Sets the gauge `series` to `value`.
        fn set(series: &Series<'_, Self>, value: <Self as SetGauge>::Value, _: Token)
        where
            Self: SetGauge + Sized;
    }
}

/// A gauge that can be set directly: [`Gauge`] (`f64`) and [`IntGauge`] (`i64`). Sealed.
pub trait SetGauge: Metric + sealed::SetSealed {
    /// The value a gauge of this kind holds.
    type Value: Copy;
}

impl SetGauge for Gauge {
    type Value = f64;
}

impl sealed::SetSealed for Gauge {
    #[inline]
    fn set(series: &Series<'_, Self>, value: f64, _: Token) {
        series.set(value);
    }
}

impl SetGauge for IntGauge {
    type Value = i64;
}

impl sealed::SetSealed for IntGauge {
    #[inline]
    fn set(series: &Series<'_, Self>, value: i64, _: Token) {
        series.set(value);
    }
}

/// What a [`PerRank`] keeps per rank: one series ([`IntGauge`], [`Gauge`], `IntCounter`,
/// `Counter`, `Histogram`), or a typed [`Family`] of them. Sealed.
#[diagnostic::on_unimplemented(
    message = "`PerRank` takes `IntGauge`, `Gauge`, `IntCounter`, `Counter`, `Histogram` or `Family<L, M>`",
    label = "not a per-rank kind",
    note = "for a family with string labels of its own, use a `*Vec` type with `#[metric(labels(..))]`"
)]
pub trait RankMetric: sealed::Sealed + TableKind + Sized {
    /// The kind of each series.
    type Series: Metric;
    /// What [`PerRank::rank`] returns: a [`Series`], or a [`RankFamily`] for a typed family.
    type Rank<'a>;
}

impl<M: Metric> RankMetric for M {
    type Series = M;
    type Rank<'a> = Series<'a, M>;
}

impl<M: Metric> sealed::Sealed for M {
    #[inline]
    fn rank(per_rank: &PerRank<M>, rank: u32, _: Token) -> <Self as RankMetric>::Rank<'_> {
        let table = &*per_rank.table;
        // One series per rank: the slot's index is the rank's offset in the table (a rank below
        // it wraps to an offset past its end).
        match table.slots.get(rank.wrapping_sub(table.first) as usize) {
            Some(slot) => Series::slot(slot),
            None => outside(table, rank, 0),
        }
    }
}

impl<L: LabelSet + 'static, M: Metric> RankMetric for Family<L, M> {
    type Series = M;
    type Rank<'a> = RankFamily<'a, L, M>;
}

impl<L: LabelSet + 'static, M: Metric> sealed::Sealed for Family<L, M> {
    #[inline]
    fn rank(per_rank: &PerRank<Self>, rank: u32, _: Token) -> <Self as RankMetric>::Rank<'_> {
        RankFamily {
            table: &per_rank.table,
            rank,
            _kind: PhantomData,
        }
    }
}

/// The series of a rank outside the table's declared span: made on its first write if the bound
/// admits the rank, else a series on no page (the write is dropped and counted).
#[cold]
#[inline(never)]
fn outside<K: TableKind, M>(table: &Table<K>, rank: u32, column: usize) -> Series<'_, M> {
    table
        .extra_slot(rank, column)
        .map_or_else(Series::nowhere, Series::slot)
}

/// A family labelled `dp_rank`, one series (or one typed [`Family`]) per data-parallel rank.
///
/// The ranks declared at registration (and every rank between the smallest and the largest of
/// them) are resolved once into a flat table indexed by `rank - smallest declared rank`, so
/// writing one is an index and one atomic operation: no hashing, no allocation, no lock, no
/// formatting. Ranks need not be contiguous. Other ranks work too: each gets its series on its
/// first write.
///
/// Declared ranks are seeded at 0 so the family renders from the start, unless the field is
/// `unseeded`: then a rank's series (and so the family) appears with its first write.
///
/// Ranks beyond the declared span are bounded per family (`#[metric(max_undeclared_ranks = N)]`, by
/// default [`DEFAULT_MAX_UNDECLARED_RANKS`](crate::metric::bound::DEFAULT_MAX_UNDECLARED_RANKS)): past the
/// bound, writes to new ranks are dropped and counted in
/// [`DROPPED_WRITES`](crate::metric::bound::DROPPED_WRITES).
///
/// The family leaves the page, and its memory is freed, when the `PerRank` (and so its set) is
/// dropped.
pub struct PerRank<R> {
    table: Arc<Table<R>>,
}

impl<R: RankMetric> PerRank<R> {
    /// Checks that `dp_ranks` fit a table before anything is registered.
    pub(crate) fn check_span(metric: &str, dp_ranks: &[u32]) -> Result<(), Error> {
        let (Some(&min), Some(&max)) = (dp_ranks.iter().min(), dp_ranks.iter().max()) else {
            return Ok(());
        };
        if max - min >= MAX_RANK_SPAN {
            return Err(Error::metric_error(
                metric,
                MetricErrorKind::RankSpanTooLarge {
                    min,
                    max,
                    limit: MAX_RANK_SPAN,
                },
            ));
        }
        let series = (u64::from(max - min) + 1).saturating_mul(R::width(Token(())) as u64);
        if series > MAX_TABLE_SERIES {
            return Err(Error::metric_error(
                metric,
                MetricErrorKind::TooManySeries {
                    series,
                    limit: MAX_TABLE_SERIES,
                },
            ));
        }
        Ok(())
    }

    pub(crate) fn new(table: Arc<Table<R>>) -> Self {
        Self { table }
    }

    /// The series of `rank` (for a typed family, a view whose `with(value)` gives the series).
    #[inline]
    pub fn rank(&self, rank: u32) -> R::Rank<'_> {
        <R as sealed::Sealed>::rank(self, rank, Token(()))
    }

    /// The declared ranks, sorted, without repeats.
    pub fn declared_ranks(&self) -> Vec<u32> {
        self.table.declared()
    }
}

impl<M: Metric> PerRank<M> {
    /// Takes the series of `rank` off the page (back to zero). A later write brings it back.
    pub fn remove(&self, rank: u32) {
        self.table.remove(Some(rank), 0);
    }
}

impl<M: SetGauge> PerRank<M> {
    /// Sets the gauge of `rank`.
    #[inline]
    pub fn set(&self, rank: u32, value: M::Value) {
        <M as sealed::SetSealed>::set(&self.rank(rank), value, Token(()));
    }
}

impl<R> fmt::Debug for PerRank<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerRank")
            .field("metric", &self.table.text.name)
            .field("declared_ranks", &self.table.declared())
            .finish_non_exhaustive()
    }
}

/// One rank of a `PerRank<Family<L, M>>`, from [`PerRank::rank`]: `with(value)` gives the series.
pub struct RankFamily<'a, L, M> {
    table: &'a Table<Family<L, M>>,
    rank: u32,
    _kind: PhantomData<fn() -> (L, M)>,
}

impl<'a, L: LabelSet + 'static, M: Metric> RankFamily<'a, L, M> {
    /// The series of `value` at this rank.
    #[inline]
    // Label values are small `Copy` enums (or tuples of them), taken by value as the
    // `prometheus` vectors take theirs; a reference would only add a `&` at every call.
    #[allow(clippy::needless_pass_by_value)]
    pub fn with(&self, value: L) -> Series<'a, M> {
        let combination = value.combination();
        if combination >= L::CARDINALITY {
            return out_of_range(&self.table.text.name, combination);
        }
        let row = self.rank.wrapping_sub(self.table.first) as usize;
        let slot = if row < self.table.rows {
            self.table.slots.get(row * L::CARDINALITY + combination)
        } else {
            None
        };
        match slot {
            Some(slot) => Series::slot(slot),
            None => outside(self.table, self.rank, combination),
        }
    }

    /// Takes the series of `value` at this rank off the page (back to zero). A later write brings
    /// it back.
    // Label values are small `Copy` enums (or tuples of them), taken by value as the
    // `prometheus` vectors take theirs; a reference would only add a `&` at every call.
    #[allow(clippy::needless_pass_by_value)]
    pub fn remove(&self, value: L) {
        self.table.remove(Some(self.rank), value.combination());
    }
}

impl<L, M> fmt::Debug for RankFamily<'_, L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RankFamily")
            .field("metric", &self.table.text.name)
            .field("rank", &self.rank)
            .finish()
    }
}
