//! Support for the code `#[derive(EngineGauges)]` generates. Not a public API.

pub use core;

use prometheus::core::Collector;

pub use crate::MetricKind;
pub use crate::per_rank::{RankMetric, SetGauge};
use crate::{
    CreateMetric, EngineMetrics, Error, MetricDescriptor, PerRank, create_metric_with_prefix,
    labels,
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
            const_labels: self.const_labels,
            injected_labels: labels::RUNTIME_INJECTED,
            field: self.field,
            line: self.line,
        }
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

    /// Creates and registers the metric of descriptor `index`.
    pub fn metric<T: CreateMetric>(&mut self, index: usize) -> Result<T, Error> {
        let d = &self.descriptors[index];
        let mut const_labels = d.const_labels.to_vec();
        const_labels.extend(self.metrics.engine_const_labels());
        let variable = (!d.variable_labels.is_empty()).then_some(d.variable_labels);
        let metric: T = create_metric_with_prefix(
            &**self.metrics.hierarchy(),
            d.prefix,
            d.short_name,
            d.help,
            &const_labels,
            None,
            variable,
        )?;
        self.registered.push(Box::new(metric.clone()));
        Ok(metric)
    }

    /// Creates and registers the per-rank family of descriptor `index`.
    pub fn per_rank<M: RankMetric>(
        &mut self,
        index: usize,
        dp_ranks: &[u32],
    ) -> Result<PerRank<M>, Error> {
        let d = &self.descriptors[index];
        PerRank::<M>::check_span(d.name, dp_ranks)?;
        let family = self.metric::<M::Vec>(index)?;
        Ok(PerRank::new(family, dp_ranks, d.seeded))
    }

    /// Keeps everything registered.
    pub fn commit(mut self) {
        self.registered.clear();
    }
}

impl Drop for Registrar<'_> {
    fn drop(&mut self) {
        for collector in self.registered.drain(..) {
            if let Err(error) = self.metrics.registry().unregister(collector) {
                tracing::warn!(%error, "could not roll back a gauge of a failed registration");
            }
        }
    }
}

/// A snapshot field's value, as the value a gauge holds. `None` writes nothing; integers into an
/// `IntGauge` saturate at `i64::MAX` instead of wrapping.
#[diagnostic::on_unimplemented(
    message = "a snapshot field of type `{Self}` cannot be written to a gauge holding `{V}`",
    label = "this `from` field has type `{Self}`",
    note = "an `IntGauge` takes integers (saturating at `i64::MAX`); a `Gauge` takes floats and integers; `Option<_>` of either writes only `Some`"
)]
pub trait IntoGaugeValue<V> {
    fn into_gauge_value(self) -> Option<V>;
}

macro_rules! into_value {
    ($target:ty: $($from:ty => |$v:ident| $conv:expr),* $(,)?) => {$(
        impl IntoGaugeValue<$target> for $from {
            #[inline]
            fn into_gauge_value(self) -> Option<$target> {
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

impl<V, T: IntoGaugeValue<V>> IntoGaugeValue<V> for Option<T> {
    #[inline]
    fn into_gauge_value(self) -> Option<V> {
        self.and_then(IntoGaugeValue::into_gauge_value)
    }
}

/// Writes a snapshot value to a plain gauge.
#[inline]
pub fn write<M: SetGauge, V: IntoGaugeValue<M::Value>>(metric: &M, value: V) {
    if let Some(value) = value.into_gauge_value() {
        metric.set_value(value);
    }
}

/// Writes a snapshot value to one rank of a per-rank family; `None` does not touch the rank.
#[inline]
pub fn write_rank<M: RankMetric, V: IntoGaugeValue<M::Value>>(
    metric: &PerRank<M>,
    rank: u32,
    value: V,
) {
    if let Some(value) = value.into_gauge_value() {
        metric.set(rank, value);
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
