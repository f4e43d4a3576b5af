//! Typed label sets ([`LabelValue`], [`LabelSet`]) and [`Family`]: a family whose label values
//! are fixed at compile time, every series resolved when it registers.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use prometheus::proto::MetricType;

use crate::metric::sealed::Token;
use crate::metric::store::{Repr, Table, TableKind};
use crate::metric::{Metric, Series};

/// A label whose values are fixed: each variant of a fieldless enum is one value.
///
/// Implement it with `#[derive(LabelValue)]`, which names each variant in `snake_case` (or as
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
    table: Arc<Table<Family<L, M>>>,
    _kind: PhantomData<fn() -> (L, M)>,
}

impl<L: LabelSet + 'static, M: Metric> TableKind for Family<L, M> {
    const REPR: Repr = M::REPR;
    const TYPE: MetricType = M::TYPE;
    fn width(_: Token) -> usize {
        L::CARDINALITY
    }
    fn values(column: usize, out: &mut Vec<&'static str>, _: Token) {
        for label in 0..L::ARITY {
            out.push(L::value(column, label));
        }
    }
}

impl<L: LabelSet + 'static, M: Metric> Family<L, M> {
    pub(crate) fn new(table: Arc<Table<Family<L, M>>>) -> Self {
        Self {
            table,
            _kind: PhantomData,
        }
    }

    /// The series of `value`.
    #[inline]
    // Label values are small `Copy` enums (or tuples of them), taken by value as the
    // `prometheus` vectors take theirs; a reference would only add a `&` at every call.
    #[allow(clippy::needless_pass_by_value)]
    pub fn with(&self, value: L) -> Series<'_, M> {
        let combination = value.combination();
        match self.table.slot(0, combination) {
            Some(slot) => Series::slot(slot),
            None => out_of_range(self.table.text.name.as_str(), combination),
        }
    }

    /// Takes the series of `value` off the page (back to zero). A later write brings it back.
    // Label values are small `Copy` enums (or tuples of them), taken by value as the
    // `prometheus` vectors take theirs; a reference would only add a `&` at every call.
    #[allow(clippy::needless_pass_by_value)]
    pub fn remove(&self, value: L) {
        self.table.remove(None, value.combination());
    }
}

/// A combination past the end of the table: only a hand-written [`LabelValue`] whose `index` is
/// out of its own `VALUES` can produce one.
#[cold]
pub(crate) fn out_of_range<'a, M>(metric: &str, combination: usize) -> Series<'a, M> {
    tracing::error!(
        metric,
        combination,
        "a label value's index is past its `VALUES`: implement `LabelValue` with \
         `#[derive(LabelValue)]`; the write is not recorded"
    );
    Series::nowhere()
}

impl<L, M> fmt::Debug for Family<L, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("metric", &self.table.text.name)
            .finish_non_exhaustive()
    }
}
