//! Typed label sets ([`LabelValue`], [`LabelSet`]) and [`Family`]: a family whose label values
//! are fixed at compile time, every series resolved when it registers.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock};

use crate::bound::RankBound;
use crate::metric::{Metric, Series};
use crate::per_rank::RankLabel;

/// A label whose values are fixed: each variant of a fieldless enum is one value.
///
/// Implement it with `#[derive(LabelValue)]`, which names each variant in snake_case (or as
/// `#[label(rename = "...")]` says) and checks at compile time that the values are non-empty and
/// unique. The trait asks for nothing else: add `Clone`, `Copy` or `Debug` yourself if you want
/// them.
///
/// ```
/// use engine_gauges::LabelValue;
///
/// #[derive(LabelValue)]
/// enum FinishReason {
///     Stop,
///     Length,
///     #[label(rename = "abort")]
///     Cancelled,
/// }
///
/// assert_eq!(FinishReason::VALUES, ["stop", "length", "abort"]);
/// assert_eq!(FinishReason::Length.index(), 1);
/// ```
pub trait LabelValue {
    /// Every value, in declaration order.
    const VALUES: &'static [&'static str];

    /// The position of this value in [`VALUES`](Self::VALUES).
    fn index(&self) -> usize;
}

/// The label values of a [`Family`]: one [`LabelValue`] enum, or a tuple of two to four of them
/// (one label each, in order). Implemented for you.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a typed label set",
    label = "not a `#[derive(LabelValue)]` enum or a tuple of up to four of them",
    note = "a `Family<L, M>`'s `L` is an enum with `#[derive(LabelValue)]`, or a tuple of two to four such enums"
)]
pub trait LabelSet: sealed::Sealed {
    /// How many labels: 1 for an enum, the tuple's length for a tuple.
    const ARITY: usize;
    /// How many combinations of values there are.
    const CARDINALITY: usize;
    /// Each label's values, in the order of the labels.
    const LABEL_VALUES: &'static [&'static [&'static str]];

    /// This combination's position among all of them (the first label varies slowest).
    fn combination(&self) -> usize;

    /// The value of label `label` (0-based) in combination `combination`.
    fn value(combination: usize, label: usize) -> &'static str;
}

mod sealed {
    pub trait Sealed {}
}

impl<T: LabelValue> sealed::Sealed for T {}

// Not recommended in errors: an error about a type that is not a label set should not list the
// enums that are.
#[diagnostic::do_not_recommend]
impl<T: LabelValue> LabelSet for T {
    const ARITY: usize = 1;
    const CARDINALITY: usize = T::VALUES.len();
    const LABEL_VALUES: &'static [&'static [&'static str]] = &[T::VALUES];

    #[inline]
    fn combination(&self) -> usize {
        self.index()
    }

    fn value(combination: usize, _label: usize) -> &'static str {
        T::VALUES.get(combination).copied().unwrap_or_default()
    }
}

macro_rules! tuple_label_set {
    ($arity:literal: $($t:ident $i:tt),+) => {
        impl<$($t: LabelValue),+> sealed::Sealed for ($($t,)+) {}
        #[diagnostic::do_not_recommend]
        impl<$($t: LabelValue),+> LabelSet for ($($t,)+) {
            const ARITY: usize = $arity;
            const CARDINALITY: usize = 1 $(* $t::VALUES.len())+;
            const LABEL_VALUES: &'static [&'static [&'static str]] = &[$($t::VALUES),+];

            #[inline]
            fn combination(&self) -> usize {
                let mut combination = 0;
                $(combination = combination * $t::VALUES.len() + self.$i.index();)+
                combination
            }

            fn value(combination: usize, label: usize) -> &'static str {
                // Each label's stride is the product of the lengths of the labels after it.
                let lengths = [$($t::VALUES.len()),+];
                let values: [&'static [&'static str]; $arity] = [$($t::VALUES),+];
                let (Some(&length), Some(values)) = (lengths.get(label), values.get(label)) else {
                    return "";
                };
                let stride: usize = lengths[label + 1..].iter().product();
                let index = (combination / stride.max(1)) % length.max(1);
                values.get(index).copied().unwrap_or_default()
            }
        }
    };
}

tuple_label_set!(2: A 0, B 1);
tuple_label_set!(3: A 0, B 1, C 2);
tuple_label_set!(4: A 0, B 1, C 2, D 3);

/// At most how many labels a series of a typed family carries: `dp_rank` and four typed labels.
const MAX_LABELS: usize = 5;

/// The label values of one series, on the stack.
#[derive(Debug)]
pub(crate) struct LabelValues<'a> {
    values: [&'a str; MAX_LABELS],
    len: usize,
}

impl<'a> LabelValues<'a> {
    pub(crate) fn new() -> Self {
        Self {
            values: [""; MAX_LABELS],
            len: 0,
        }
    }

    pub(crate) fn push(&mut self, value: &'a str) {
        if let Some(slot) = self.values.get_mut(self.len) {
            *slot = value;
            self.len += 1;
        }
    }

    /// Pushes the values of combination `combination` of `L`.
    pub(crate) fn push_set<L: LabelSet>(&mut self, combination: usize) {
        for label in 0..L::ARITY {
            self.push(L::value(combination, label));
        }
    }

    pub(crate) fn as_slice(&self) -> &[&'a str] {
        &self.values[..self.len]
    }
}

/// A family of series over a typed label set `L` (see [`LabelSet`]), each series an `M`.
///
/// Every combination of values is resolved when the family registers (and seeded at 0 unless the
/// field is `unseeded`), so [`with`](Self::with) is an index and one atomic operation: no hashing,
/// no formatting, no allocation, no lock.
///
/// ```
/// use engine_gauges::prometheus::IntCounter;
/// use engine_gauges::{EngineGauges, EngineMetrics, Family, LabelValue, MetricsRoot};
///
/// #[derive(LabelValue)]
/// enum FinishReason { Stop, Length, Abort }
///
/// #[derive(EngineGauges)]
/// struct Requests {
///     /// Requests finished, by why they finished.
///     #[metric(labels("finish_reason"))]
///     finished_total: Family<FinishReason, IntCounter>,
/// }
///
/// let metrics = EngineMetrics::from_hierarchy(MetricsRoot::new());
/// let requests = Requests::register(&metrics, &[])?;
/// requests.finished_total.with(FinishReason::Length).inc();
/// assert_eq!(requests.finished_total.with(FinishReason::Length).get(), 1);
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub struct Family<L, M> {
    /// The registered `prometheus` family (`M::Vec`), used only to create series: kept without
    /// its type so that `Family<L, M>` is a well-formed type whatever `L` and `M` are, and a
    /// wrong `M` is reported once, by the derive.
    family: ErasedVec,
    /// One row of `L::CARDINALITY` series per rank of the table (one row when there are no
    /// ranks), flat: the series of (rank, combination) is at
    /// `(rank - first) * L::CARDINALITY + combination`.
    cells: Box<[OnceLock<M>]>,
    metric: &'static str,
    /// For the table of a `PerRank<Family<L, M>>`: the first rank and the number of rows; its
    /// series carry `dp_rank` before `L`'s labels.
    ranks: Option<RankRows>,
    /// For the table of a `PerRank<Family<L, M>>`: which undeclared ranks writes may reach.
    bound: Option<Arc<RankBound>>,
    /// Where dropped writes go: a series registered nowhere.
    sink: OnceLock<M>,
    _labels: PhantomData<fn(L)>,
}

/// The ranks a per-rank family's table holds: `rows` ranks from `first`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RankRows {
    pub(crate) first: u32,
    pub(crate) rows: usize,
}

/// A `prometheus` family of any type.
pub(crate) type ErasedVec = Box<dyn Any + Send + Sync>;

/// The `M::Vec` behind `family`; `None` only if a caller of this crate mixed types up.
pub(crate) fn vec_of<M: Metric>(family: &ErasedVec) -> Option<&M::Vec> {
    family.downcast_ref::<M::Vec>()
}

impl<L: LabelSet, M: Metric> Family<L, M> {
    /// Wraps a registered family whose variable labels are `L`'s, resolving (and, if `seeded`,
    /// creating and zeroing) every combination.
    pub(crate) fn new(metric: &'static str, family: M::Vec, seeded: bool) -> Self {
        Self::build(metric, Box::new(family), None, &[], seeded, None)
    }

    /// The table of a per-rank family labelled `dp_rank` then `L`'s labels: `ranks.rows` rows from
    /// `ranks.first`, the `declared` ranks' series created (and zeroed) if `seeded`.
    pub(crate) fn per_rank(
        metric: &'static str,
        family: ErasedVec,
        ranks: RankRows,
        declared: &[u32],
        seeded: bool,
        bound: Arc<RankBound>,
    ) -> Self {
        Self::build(metric, family, Some(ranks), declared, seeded, Some(bound))
    }

    fn build(
        metric: &'static str,
        family: ErasedVec,
        ranks: Option<RankRows>,
        declared: &[u32],
        seeded: bool,
        bound: Option<Arc<RankBound>>,
    ) -> Self {
        let rows = ranks.map_or(1, |ranks| ranks.rows);
        let cells: Box<[OnceLock<M>]> = (0..rows * L::CARDINALITY)
            .map(|_| OnceLock::new())
            .collect();
        let this = Self {
            family,
            cells,
            metric,
            ranks,
            bound,
            sink: OnceLock::new(),
            _labels: PhantomData,
        };
        if seeded {
            let rows: Vec<usize> = match ranks {
                Some(ranks) => declared
                    .iter()
                    .map(|&rank| rank.wrapping_sub(ranks.first) as usize)
                    .filter(|&row| row < ranks.rows)
                    .collect(),
                None => vec![0],
            };
            for row in rows {
                for combination in 0..L::CARDINALITY {
                    let index = row * L::CARDINALITY + combination;
                    if let Some(cell) = this.cells.get(index) {
                        let child = this.child(index);
                        child.__seed();
                        let _ = cell.set(child);
                    }
                }
            }
        }
        this
    }

    /// The series of `value`.
    #[inline]
    pub fn with(&self, value: L) -> Series<'_, M> {
        self.at(0, value.combination())
    }

    /// The series of (`row`, `combination`): from the table if it holds it, else resolved.
    #[inline]
    fn at(&self, row: usize, combination: usize) -> Series<'_, M> {
        let index = (combination < L::CARDINALITY)
            .then(|| row.checked_mul(L::CARDINALITY)?.checked_add(combination))
            .flatten();
        match index.and_then(|index| self.cells.get(index)?.get()) {
            Some(metric) => Series::table(metric),
            None => self.resolve(index, row, combination),
        }
    }

    /// The series of `combination` at `rank`, for a per-rank family's table.
    #[inline]
    pub(crate) fn at_rank(&self, rank: u32, combination: usize) -> Series<'_, M> {
        match self.ranks {
            Some(ranks) => {
                let row = rank.wrapping_sub(ranks.first) as usize;
                if row < ranks.rows {
                    self.at(row, combination)
                } else {
                    self.outside(rank, combination)
                }
            }
            None => self.outside(rank, combination),
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve(&self, index: Option<usize>, row: usize, combination: usize) -> Series<'_, M> {
        match index.and_then(|index| Some((index, self.cells.get(index)?))) {
            Some((index, cell)) => {
                if !self.admit(self.rank_of_row(row)) {
                    return self.dropped();
                }
                Series::table(cell.get_or_init(|| self.child(index)))
            }
            None if combination >= L::CARDINALITY => {
                Series::owned(out_of_range(self.metric, combination, L::CARDINALITY))
            }
            None => self.outside(self.rank_of_row(row), combination),
        }
    }

    /// The rank of a row of a per-rank table (0 for a family without ranks).
    fn rank_of_row(&self, row: usize) -> u32 {
        self.ranks.map_or(0, |ranks| {
            ranks
                .first
                .wrapping_add(u32::try_from(row).unwrap_or(u32::MAX))
        })
    }

    /// Whether a write to `rank` goes through the per-rank bound (always, without ranks).
    fn admit(&self, rank: u32) -> bool {
        self.bound.as_ref().is_none_or(|bound| bound.admit(rank))
    }

    /// Where a dropped write goes.
    #[cold]
    fn dropped(&self) -> Series<'_, M> {
        Series::table(self.sink.get_or_init(M::__detached))
    }

    /// The series of a rank outside the table, resolved for this one use.
    #[cold]
    #[inline(never)]
    fn outside(&self, rank: u32, combination: usize) -> Series<'_, M> {
        if combination >= L::CARDINALITY {
            return Series::owned(out_of_range(self.metric, combination, L::CARDINALITY));
        }
        if !self.admit(rank) {
            return self.dropped();
        }
        let rank = RankLabel::new(rank);
        let mut values = LabelValues::new();
        values.push(rank.as_str());
        values.push_set::<L>(combination);
        Series::owned(child_or_detached::<M>(
            self.metric,
            &self.family,
            values.as_slice(),
        ))
    }

    /// The series at `index` of the table.
    fn child(&self, index: usize) -> M {
        let (row, combination) = (index / L::CARDINALITY, index % L::CARDINALITY);
        let rank = self.ranks.map(|ranks| {
            RankLabel::new(
                ranks
                    .first
                    .wrapping_add(u32::try_from(row).unwrap_or(u32::MAX)),
            )
        });
        let mut values = LabelValues::new();
        if let Some(rank) = &rank {
            values.push(rank.as_str());
        }
        values.push_set::<L>(combination);
        child_or_detached::<M>(self.metric, &self.family, values.as_slice())
    }
}

/// The series of `values`, or a detached one (after logging why) when prometheus refuses them.
pub(crate) fn child_or_detached<M: Metric>(metric: &str, family: &ErasedVec, values: &[&str]) -> M {
    let Some(family) = vec_of::<M>(family) else {
        tracing::error!(
            metric,
            "a family holds another metric type than its series; the write is not recorded"
        );
        return M::__detached();
    };
    M::__child(family, values).unwrap_or_else(|error| {
        tracing::error!(
            metric,
            %error,
            ?values,
            "could not resolve a series of a typed family; the write is not recorded"
        );
        M::__detached()
    })
}

/// A combination past the end of the table: only a hand-written [`LabelValue`] whose `index` is
/// out of its own `VALUES` can produce one.
#[cold]
pub(crate) fn out_of_range<M: Metric>(metric: &str, combination: usize, cardinality: usize) -> M {
    tracing::error!(
        metric,
        combination,
        cardinality,
        "a label value's index is past its `VALUES`: implement `LabelValue` with \
         `#[derive(LabelValue)]`; the write is not recorded"
    );
    M::__detached()
}

impl<L, M> fmt::Debug for Family<L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("metric", &self.metric)
            .field("series", &self.cells.len())
            .finish_non_exhaustive()
    }
}
