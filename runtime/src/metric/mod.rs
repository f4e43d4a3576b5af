//! The kinds a series can be ([`Metric`]), and [`Series`]: the handle of one series of a
//! [`PerRank`](crate::PerRank) or [`Family`](crate::Family), with the kind's usual methods. Also
//! the traits and types behind those handles, and what a set's [`MetricDescriptor`]s say.

pub(crate) mod bound;
pub(crate) mod create;
pub(crate) mod family;
pub(crate) mod gauges;
pub(crate) mod per_rank;
pub(crate) mod store;

pub use crate::metric::create::MetricKind;
pub use crate::metric::family::LabelSet;
pub use crate::metric::gauges::MetricDescriptor;
pub use crate::metric::per_rank::{RankFamily, RankMetric, SetGauge};

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

use prometheus::proto::MetricType;
use prometheus::{Counter, Gauge, Histogram, IntCounter, IntGauge};

use crate::metric::store::{Repr, Slot, TableKind, add_f64};

pub(crate) mod sealed {
    pub trait Sealed {}

    /// The last parameter of every method of the sealed traits (`TableKind`, `RankMetric`'s,
    /// `SetGauge`'s and `CreateMetric`'s supertraits). Only this crate can make one, so code
    /// outside it cannot call those methods, not even through a generic bound.
    #[derive(Clone, Copy, Debug)]
    pub struct Token(pub(crate) ());
}

/// A kind of series that [`PerRank`](crate::PerRank) and [`Family`](crate::Family) keep:
/// [`IntGauge`], [`Gauge`], [`IntCounter`], [`Counter`] and [`Histogram`], as markers: the values
/// live in the crate's own store. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a series of a `PerRank` or `Family`",
    label = "not `IntGauge`, `Gauge`, `IntCounter`, `Counter` or `Histogram`",
    note = "`PerRank<M>` and `Family<L, M>` take `M` = `IntGauge`, `Gauge`, `IntCounter`, `Counter` or `Histogram`"
)]
pub trait Metric: sealed::Sealed + TableKind + Send + Sync + 'static {
    /// The `*Vec` type [`create_metric`](crate::create_metric) would make for the same family,
    /// for descriptors.
    #[doc(hidden)]
    const VEC_KIND: crate::metric::create::MetricKind;
}

macro_rules! metric {
    ($($ty:ident: $repr:ident, $type:ident, $vec:ident;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl Metric for $ty {
            const VEC_KIND: crate::metric::create::MetricKind = crate::metric::create::MetricKind::$vec;
        }
        impl TableKind for $ty {
            const REPR: Repr = Repr::$repr;
            const TYPE: MetricType = MetricType::$type;
            fn width(_: sealed::Token) -> usize {
                1
            }
            fn values(_column: usize, _out: &mut Vec<&'static str>, _: sealed::Token) {}
        }
    )*};
}

metric! {
    IntGauge: I64, GAUGE, IntGaugeVec;
    Gauge: F64, GAUGE, GaugeVec;
    IntCounter: U64, COUNTER, IntCounterVec;
    Counter: F64, COUNTER, CounterVec;
    Histogram: Histogram, HISTOGRAM, HistogramVec;
}

/// Where writes that have no series go (a dropped write, a label value past its set's end): a
/// series on no page.
static NOWHERE: Slot = Slot {
    bits: AtomicU64::new(0),
    present: AtomicBool::new(false),
    hist: None,
    next: crate::metric::store::END,
    declared: false,
};

/// One series of a [`PerRank`](crate::PerRank) or [`Family`](crate::Family): from `rank(r)`,
/// `with(value)` or `rank(r).with(value)`.
///
/// Its methods are the kind's usual ones:
/// - gauges ([`IntGauge`], [`Gauge`]): `set`, `get`, `inc`, `dec`, `add`, `sub`;
/// - counters ([`IntCounter`], [`Counter`]): `inc`, `inc_by`, `get`;
/// - histograms ([`Histogram`]): `observe`, `start_timer`, `sample_count`, `sample_sum`.
///
/// A series of a declared rank or of a typed label value is resolved ahead of time: writing it is
/// one atomic operation. A write to a series that is not on the page (unseeded, or removed) puts
/// it there.
#[derive(Clone, Copy)]
pub struct Series<'a, M> {
    slot: &'a Slot,
    _kind: PhantomData<fn() -> M>,
}

impl<'a, M> Series<'a, M> {
    #[inline]
    pub(crate) fn slot(slot: &'a Slot) -> Self {
        Self {
            slot,
            _kind: PhantomData,
        }
    }

    /// A series on no page, for writes that are dropped.
    pub(crate) fn nowhere() -> Self {
        Self::slot(&NOWHERE)
    }

    #[inline]
    pub(crate) fn target(&self) -> &'a Slot {
        self.slot
    }
}

impl<M> fmt::Debug for Series<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = self.target();
        f.debug_struct("Series")
            .field("present", &slot.present.load(Ordering::Relaxed))
            .field("bits", &slot.bits.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Series<'_, IntGauge> {
    /// Sets the gauge.
    #[inline]
    pub fn set(&self, value: i64) {
        let slot = self.target();
        slot.touch();
        slot.bits.store(value as u64, Ordering::Relaxed);
    }
    /// The gauge's value.
    #[inline]
    pub fn get(&self) -> i64 {
        self.target().bits.load(Ordering::Relaxed) as i64
    }
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }
    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.add(-1);
    }
    /// Adds `value`.
    #[inline]
    pub fn add(&self, value: i64) {
        let slot = self.target();
        slot.touch();
        // Two's complement: adding the bits of a negative number subtracts.
        slot.bits.fetch_add(value as u64, Ordering::Relaxed);
    }
    /// Subtracts `value`.
    #[inline]
    pub fn sub(&self, value: i64) {
        self.add(value.wrapping_neg());
    }
}

impl Series<'_, Gauge> {
    /// Sets the gauge.
    #[inline]
    pub fn set(&self, value: f64) {
        let slot = self.target();
        slot.touch();
        slot.bits.store(value.to_bits(), Ordering::Relaxed);
    }
    /// The gauge's value.
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.target().bits.load(Ordering::Relaxed))
    }
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }
    /// Subtracts 1.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }
    /// Adds `value`.
    #[inline]
    pub fn add(&self, value: f64) {
        let slot = self.target();
        slot.touch();
        add_f64(&slot.bits, value);
    }
    /// Subtracts `value`.
    #[inline]
    pub fn sub(&self, value: f64) {
        self.add(-value);
    }
}

impl Series<'_, IntCounter> {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }
    /// Adds `value`.
    #[inline]
    pub fn inc_by(&self, value: u64) {
        let slot = self.target();
        slot.touch();
        slot.bits.fetch_add(value, Ordering::Relaxed);
    }
    /// The counter's value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.target().bits.load(Ordering::Relaxed)
    }
}

impl Series<'_, IntCounter> {
    /// Sets the counter to `total`: a counter's restart (its source restarted), which
    /// Prometheus's `rate()` reads as a reset.
    pub(crate) fn restart(&self, total: u64) {
        let slot = self.target();
        slot.touch();
        slot.bits.store(total, Ordering::Relaxed);
    }
}

impl Series<'_, Counter> {
    /// As for `IntCounter`.
    pub(crate) fn restart(&self, total: f64) {
        let slot = self.target();
        slot.touch();
        slot.bits.store(total.to_bits(), Ordering::Relaxed);
    }

    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1.0);
    }
    /// Adds `value`. A counter only goes up: a negative or NaN `value` is not added (it is logged
    /// as a warning).
    #[inline]
    pub fn inc_by(&self, value: f64) {
        if value >= 0.0 {
            let slot = self.target();
            slot.touch();
            add_f64(&slot.bits, value);
        } else {
            refused_decrement(value);
        }
    }
    /// The counter's value.
    #[inline]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.target().bits.load(Ordering::Relaxed))
    }
}

#[cold]
#[inline(never)]
pub(crate) fn refused_decrement(value: f64) {
    tracing::warn!(
        value,
        "a counter only goes up: `inc_by` with a negative or NaN value was not applied; use a gauge for values that go down"
    );
}

impl<'a> Series<'a, Histogram> {
    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        let slot = self.target();
        if let Some(hist) = &slot.hist {
            slot.touch();
            hist.observe(value);
        }
    }
    /// Starts a timer that observes the seconds elapsed when it is dropped (or
    /// [`observe_duration`](HistogramTimer::observe_duration) is called).
    pub fn start_timer(self) -> HistogramTimer<'a> {
        HistogramTimer {
            series: Some(self),
            start: Instant::now(),
        }
    }
    /// How many observations were recorded.
    pub fn sample_count(&self) -> u64 {
        self.target()
            .hist
            .as_ref()
            .map_or(0, |hist| hist.count.load(Ordering::Relaxed))
    }
    /// The sum of the observations.
    pub fn sample_sum(&self) -> f64 {
        self.target()
            .hist
            .as_ref()
            .map_or(0.0, |hist| f64::from_bits(hist.sum.load(Ordering::Relaxed)))
    }
}

/// A running timer of a histogram series: observes the elapsed seconds once, when dropped or
/// stopped. From [`Series::start_timer`].
#[must_use = "a timer observes when it is dropped; dropping it at once records about 0 s"]
#[derive(Debug)]
pub struct HistogramTimer<'a> {
    series: Option<Series<'a, Histogram>>,
    start: Instant,
}

impl HistogramTimer<'_> {
    /// Observes the elapsed seconds now, and returns them.
    pub fn observe_duration(mut self) -> f64 {
        self.finish(true)
    }

    /// Stops without observing anything, and returns the elapsed seconds.
    pub fn stop_and_discard(mut self) -> f64 {
        self.finish(false)
    }

    fn finish(&mut self, observe: bool) -> f64 {
        let elapsed = self.start.elapsed().as_secs_f64();
        if let Some(series) = self.series.take()
            && observe
        {
            series.observe(elapsed);
        }
        elapsed
    }
}

impl Drop for HistogramTimer<'_> {
    fn drop(&mut self) {
        self.finish(true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counter_never_goes_down() {
        let slot = Slot::new(true, None);
        let series = Series::<Counter>::slot(&slot);
        series.inc_by(2.5);
        series.inc_by(-1.0);
        series.inc_by(f64::NAN);
        assert_eq!(series.get(), 2.5);
    }

    #[test]
    fn a_timer_observes_once() {
        let slot = Slot::new(false, Some(&[0.5, 1.0]));
        let timer = Series::<Histogram>::slot(&slot).start_timer();
        let elapsed = timer.observe_duration();
        assert!(elapsed >= 0.0);
        let series = Series::<Histogram>::slot(&slot);
        assert_eq!(series.sample_count(), 1);
        drop(Series::<Histogram>::slot(&slot).start_timer());
        assert_eq!(series.sample_count(), 2);
        let _ = Series::<Histogram>::slot(&slot)
            .start_timer()
            .stop_and_discard();
        assert_eq!(series.sample_count(), 2);
        assert!(slot.present.load(Ordering::Relaxed));
    }

    #[test]
    fn int_gauges_add_and_subtract_through_twos_complement() {
        let slot = Slot::new(true, None);
        let series = Series::<IntGauge>::slot(&slot);
        series.set(-5);
        series.add(3);
        series.sub(10);
        series.inc();
        series.dec();
        assert_eq!(series.get(), -12);
    }
}
