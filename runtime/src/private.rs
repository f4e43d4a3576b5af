//! Support for the code `#[derive(EngineGauges)]` and `#[derive(LabelValue)]` generate. Not a
//! public API.

pub use core;
pub use engine_gauges_rules as rules;

use prometheus::core::Collector;
use prometheus::{Counter, Gauge, IntCounter, IntGauge};

pub use crate::metric::create::MetricKind;
pub use crate::metric::family::LabelSet;
pub use crate::metric::per_rank::{RankMetric, SetGauge};
use std::sync::Arc;

use crate::error::MetricErrorKind;
use crate::metric::Series;
use crate::metric::bound::RankBound;
use crate::metric::create::prepare;
use crate::metric::store::{FamilyText, Native, Ranks, Repr, Table, TableKind};
use crate::{
    CreateMetric, EngineMetrics, Error, Family, PerRank, create_metric_with_prefix, labels,
    metric::Metric, metric::gauges::MetricDescriptor,
};

/// A descriptor as the derive writes it.
#[derive(Debug)]
pub struct DescriptorParts {
    pub prefix: &'static str,
    pub short_name: &'static str,
    pub name: &'static str,
    pub kind: MetricKind,
    pub per_rank: bool,
    pub seeded: bool,
    pub help: &'static str,
    pub variable_labels: &'static [&'static str],
    pub label_values: &'static [&'static [&'static str]],
    pub buckets: &'static [f64],
    pub max_undeclared_ranks: u32,
    pub const_labels: &'static [(&'static str, &'static str)],
    pub field: &'static str,
    pub line: u32,
}

impl DescriptorParts {
    pub const fn build(self) -> MetricDescriptor {
        MetricDescriptor {
            name: self.name,
            prefix: self.prefix,
            short_name: self.short_name,
            kind: self.kind,
            per_rank: self.per_rank,
            seeded: self.seeded,
            help: self.help,
            variable_labels: self.variable_labels,
            label_values: self.label_values,
            buckets: self.buckets,
            max_undeclared_ranks: self.max_undeclared_ranks,
            const_labels: self.const_labels,
            injected_labels: labels::RUNTIME_INJECTED,
            field: self.field,
            line: self.line,
        }
    }
}

/// The values of each label of a typed label set, for descriptors; an error when `declared`
/// label names do not match the set (the generated `const` panics with it, at `labels`).
pub const fn label_values<L: LabelSet>(
    declared: usize,
) -> Result<&'static [&'static [&'static str]], &'static str> {
    if L::ARITY == declared {
        Ok(L::LABEL_VALUES)
    } else {
        Err(
            "`labels(..)` must give one name per label of the family's label set (one per tuple element, in order)",
        )
    }
}

/// Registers a gauge set's metrics one by one; unless committed, unregisters them all when dropped,
/// so that a failed registration leaves nothing behind.
pub struct Registrar<'a> {
    metrics: &'a EngineMetrics,
    descriptors: &'static [MetricDescriptor],
    registered: Vec<Box<dyn Collector>>,
}

impl std::fmt::Debug for Registrar<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registrar")
            .field("registered", &self.registered.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Registrar<'a> {
    pub fn new(metrics: &'a EngineMetrics, descriptors: &'static [MetricDescriptor]) -> Self {
        Self {
            metrics,
            descriptors,
            registered: Vec::new(),
        }
    }

    fn descriptor(&self, index: usize) -> &'static MetricDescriptor {
        // The derive passes the index of a descriptor it wrote.
        &self.descriptors[index]
    }

    /// Creates and registers the metric of descriptor `index`.
    pub fn metric<T: CreateMetric>(&mut self, index: usize) -> Result<T, Error> {
        let d = self.descriptor(index);
        let mut const_labels = d.const_labels.to_vec();
        const_labels.extend(self.metrics.engine_const_labels());
        let variable = (!d.variable_labels.is_empty()).then_some(d.variable_labels);
        let buckets = T::KIND.is_histogram().then(|| d.buckets.to_vec());
        let metric: T = create_metric_with_prefix(
            self.metrics.hierarchy(),
            d.prefix,
            d.short_name,
            d.help,
            &const_labels,
            buckets,
            variable,
        )?;
        self.registered.push(Box::new(metric.clone()));
        Ok(metric)
    }

    /// Creates and registers the per-rank family of descriptor `index`, in the crate's store.
    pub fn per_rank<R: RankMetric>(
        &mut self,
        index: usize,
        dp_ranks: &[u32],
    ) -> Result<PerRank<R>, Error> {
        let d = self.descriptor(index);
        PerRank::<R>::check_span(d.name, dp_ranks)?;
        Ok(PerRank::new(self.table::<R>(d, Some(dp_ranks))?))
    }

    /// Creates and registers the typed family of descriptor `index`, in the crate's store.
    pub fn family<L: LabelSet + 'static, M: Metric>(
        &mut self,
        index: usize,
    ) -> Result<Family<L, M>, Error> {
        let d = self.descriptor(index);
        if d.variable_labels.len() != L::ARITY {
            return Err(Error::metric_error(
                d.name,
                MetricErrorKind::LabelCount {
                    expected: L::ARITY,
                    given: d.variable_labels.len(),
                },
            ));
        }
        if L::CARDINALITY as u64 > crate::metric::per_rank::MAX_TABLE_SERIES {
            return Err(Error::metric_error(
                d.name,
                MetricErrorKind::TooManySeries {
                    series: L::CARDINALITY as u64,
                    limit: crate::metric::per_rank::MAX_TABLE_SERIES,
                },
            ));
        }
        Ok(Family::new(self.table::<Family<L, M>>(d, None)?))
    }

    /// Checks descriptor `d` as `create_metric` would, builds its table (with rows for
    /// `dp_ranks` when given) and puts it on the level's page. The table leaves the page when the
    /// returned handle, and every clone of it, is dropped: a failed registration leaves nothing.
    fn table<K: TableKind>(
        &mut self,
        d: &'static MetricDescriptor,
        dp_ranks: Option<&[u32]>,
    ) -> Result<Arc<Table<K>>, Error> {
        let mut const_labels = d.const_labels.to_vec();
        const_labels.extend(self.metrics.engine_const_labels());
        let buckets = d.kind.is_histogram().then(|| d.buckets.to_vec());
        let hierarchy = self.metrics.hierarchy();
        let prepared = prepare(
            hierarchy,
            d.kind,
            d.prefix,
            d.short_name,
            d.help,
            &const_labels,
            buckets,
            Some(d.variable_labels),
        )?;
        let mut declared: Vec<u32> = dp_ranks.unwrap_or_default().to_vec();
        declared.sort_unstable();
        declared.dedup();
        let ranks = dp_ranks.map(|_| {
            let first = declared.first().copied().unwrap_or(0);
            let rows = declared
                .last()
                .map_or(0, |&last| (last - first) as usize + 1);
            Ranks { first, rows }
        });
        let text = FamilyText::new(
            &prepared.metric,
            &prepared.help,
            K::TYPE,
            &prepared.const_labels,
            d.variable_labels,
            &prepared.buckets,
        );
        let buckets = (K::REPR == Repr::Histogram).then_some(d.buckets);
        let registry = self.metrics.registry();
        let bound = ranks.map(|_| {
            let (registry, level) = (registry.clone(), self.metrics.hierarchy_arc());
            RankBound::new(d.name, d.max_undeclared_ranks, move || {
                registry.dropped_writes(&*level)
            })
        });
        let table = Arc::new(Table::<K>::new(
            text,
            ranks,
            &declared,
            d.seeded,
            buckets,
            bound,
            Some(self.metrics.hierarchy_arc()),
        ));
        let native: Arc<dyn Native> = Arc::clone(&table) as Arc<dyn Native>;
        registry.register_native(&native)?;
        Ok(table)
    }

    /// Keeps everything registered.
    pub fn commit(mut self) {
        self.registered.clear();
    }
}

impl Drop for Registrar<'_> {
    fn drop(&mut self) {
        for collector in self.registered.drain(..) {
            if let Err(error) = self.metrics.registry().unregister_boxed(collector) {
                tracing::warn!(%error, "could not roll back a metric of a failed registration");
            }
        }
    }
}

/// Takes a `prometheus` field of a set off `metrics`' level.
///
/// # Errors
/// [`MetricErrorKind::NotRegistered`](crate::error::MetricErrorKind::NotRegistered) when the level
/// does not hold it.
pub fn unregister<T: CreateMetric>(
    metrics: &EngineMetrics,
    _metric: &'static str,
    field: &T,
) -> Result<(), Error> {
    metrics.registry().unregister(field)
}

/// A snapshot field's value, as the value a metric holds. `None` writes nothing; integers into an
/// `IntGauge` saturate at `i64::MAX` instead of wrapping.
#[diagnostic::on_unimplemented(
    message = "a snapshot field of type `{Self}` cannot be written to a metric holding `{V}`",
    label = "this `from` field has type `{Self}`",
    note = "an `IntGauge` takes integers (saturating at `i64::MAX`); a `Gauge` takes floats and integers; an `IntCounter` takes an unsigned cumulative total; a `Counter` takes a cumulative total, integer or float; `Option<_>` of any of them writes only `Some`"
)]
pub trait IntoValue<V> {
    fn into_value(self) -> Option<V>;
}

macro_rules! into_value {
    ($target:ty: $($from:ty => |$v:ident| $conv:expr),* $(,)?) => {$(
        // The accepted types are listed in the trait's note, in words; a list of impls would
        // only repeat them, less clearly.
        #[diagnostic::do_not_recommend]
        impl IntoValue<$target> for $from {
            #[inline]
            fn into_value(self) -> Option<$target> {
                let $v = self;
                Some($conv)
            }
        }
    )*};
}

into_value!(i64:
    i64 => |v| v,
    i32 => |v| i64::from(v),
    i16 => |v| i64::from(v),
    i8 => |v| i64::from(v),
    u32 => |v| i64::from(v),
    u16 => |v| i64::from(v),
    u8 => |v| i64::from(v),
    bool => |v| i64::from(v),
    u64 => |v| i64::try_from(v).unwrap_or(i64::MAX),
    usize => |v| i64::try_from(v).unwrap_or(i64::MAX),
    isize => |v| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }),
);

into_value!(f64:
    f64 => |v| v,
    f32 => |v| f64::from(v),
    i32 => |v| f64::from(v),
    u32 => |v| f64::from(v),
    i64 => |v| v as f64,
    u64 => |v| v as f64,
    usize => |v| v as f64,
);

into_value!(u64:
    u64 => |v| v,
    u32 => |v| u64::from(v),
    u16 => |v| u64::from(v),
    u8 => |v| u64::from(v),
    usize => |v| v as u64,
);

#[diagnostic::do_not_recommend]
impl<V, T: IntoValue<V>> IntoValue<V> for Option<T> {
    #[inline]
    fn into_value(self) -> Option<V> {
        self.and_then(IntoValue::into_value)
    }
}

/// A metric a snapshot field can be written to: a gauge is set to the value, a counter is moved
/// to the cumulative total the value is.
#[diagnostic::on_unimplemented(
    message = "`from` cannot write a `{Self}`",
    label = "`from` reads one value per snapshot",
    note = "`from` writes gauges (set to the value) and counters (moved to the cumulative total); record a histogram's observations with `observe`"
)]
pub trait FromSnapshot {
    type Value;
    fn write_value(&self, value: Self::Value);
}

impl FromSnapshot for IntGauge {
    type Value = i64;
    #[inline]
    fn write_value(&self, value: i64) {
        self.set(value);
    }
}

impl FromSnapshot for Gauge {
    type Value = f64;
    #[inline]
    fn write_value(&self, value: f64) {
        self.set(value);
    }
}

impl FromSnapshot for IntCounter {
    type Value = u64;
    /// Moves the counter to `total`; a lower total means the source restarted, and the counter
    /// restarts from it (Prometheus's `rate()` reads that as a reset).
    #[inline]
    fn write_value(&self, total: u64) {
        advance(
            self.get(),
            total,
            |delta| self.inc_by(delta),
            |total| {
                self.reset();
                self.inc_by(total);
            },
        );
    }
}

impl FromSnapshot for Counter {
    type Value = f64;
    /// As for `IntCounter`; a negative or NaN total is not written.
    #[inline]
    fn write_value(&self, total: f64) {
        if let Some(total) = float_total(total) {
            advance(
                self.get(),
                total,
                |delta| self.inc_by(delta),
                |total| {
                    self.reset();
                    self.inc_by(total);
                },
            );
        }
    }
}

/// Moves a counter at `current` to the cumulative `total`: up by the difference, or, for a lower
/// total (its source restarted), to the total itself, which Prometheus's `rate()` reads as a
/// counter reset.
#[inline]
fn advance<V: PartialOrd + Copy + std::ops::Sub<Output = V>>(
    current: V,
    total: V,
    up: impl FnOnce(V),
    restart: impl FnOnce(V),
) {
    if total >= current {
        up(total - current);
    } else {
        restart(total);
    }
}

/// A float total, unless it is negative or NaN (not a count: logged and not written).
#[inline]
fn float_total(total: f64) -> Option<f64> {
    if total.is_nan() || total < 0.0 {
        crate::metric::refused_decrement(total);
        None
    } else {
        Some(total)
    }
}

/// Writes a snapshot value to a plain metric.
#[inline]
pub fn write<M: FromSnapshot, V: IntoValue<M::Value>>(metric: &M, value: V) {
    if let Some(value) = value.into_value() {
        metric.write_value(value);
    }
}

/// Writes a snapshot value to one rank of a per-rank family; `None` does not touch the rank.
#[inline]
pub fn write_rank<M, V>(metric: &PerRank<M>, rank: u32, value: V)
where
    M: Metric + FromSnapshot + SeriesWrite,
    V: IntoValue<<M as FromSnapshot>::Value>,
{
    if let Some(value) = value.into_value() {
        M::write_series(&metric.rank(rank), value);
    }
}

/// A snapshot value written to one series of the store: a gauge set, a counter moved to a total.
pub trait SeriesWrite: FromSnapshot + Sized {
    fn write_series(series: &Series<'_, Self>, value: Self::Value);
}

impl SeriesWrite for IntGauge {
    #[inline]
    fn write_series(series: &Series<'_, Self>, value: i64) {
        series.set(value);
    }
}

impl SeriesWrite for Gauge {
    #[inline]
    fn write_series(series: &Series<'_, Self>, value: f64) {
        series.set(value);
    }
}

impl SeriesWrite for IntCounter {
    /// Moves the counter to `total`; a lower total restarts it from there.
    #[inline]
    fn write_series(series: &Series<'_, Self>, total: u64) {
        advance(
            series.get(),
            total,
            |delta| series.inc_by(delta),
            |total| {
                series.restart(total);
            },
        );
    }
}

impl SeriesWrite for Counter {
    /// As for `IntCounter`; a negative or NaN total is not written.
    #[inline]
    fn write_series(series: &Series<'_, Self>, total: f64) {
        if let Some(total) = float_total(total) {
            advance(
                series.get(),
                total,
                |delta| series.inc_by(delta),
                |total| {
                    series.restart(total);
                },
            );
        }
    }
}

/// The `dp_rank` of a snapshot, the rank its per-rank `from` fields are written at: a `u32`.
#[diagnostic::on_unimplemented(
    message = "the snapshot's `dp_rank` is a `{Self}`, but per-rank `from` fields need a `u32`",
    label = "this snapshot's `dp_rank` is a `{Self}`, not a `u32`",
    note = "`PerRank` fields with `from` are written at the rank in the snapshot's field `dp_rank`, which must be a `u32`"
)]
pub trait DpRank {
    fn dp_rank(self) -> u32;
}

impl DpRank for u32 {
    #[inline]
    fn dp_rank(self) -> u32 {
        self
    }
}
