//! The kinds a series can be ([`Metric`]), and [`Series`]: the handle of one series of a
//! [`PerRank`](crate::PerRank) or [`Family`](crate::Family), with the kind's usual methods.

use std::fmt;
use std::time::Instant;

use prometheus::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec,
};

use crate::CreateMetric;

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// A kind of series that [`PerRank`](crate::PerRank) and [`Family`](crate::Family) keep:
/// [`IntGauge`], [`Gauge`], [`IntCounter`], [`Counter`] and [`Histogram`]. Sealed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a series of a `PerRank` or `Family`",
    label = "not `IntGauge`, `Gauge`, `IntCounter`, `Counter` or `Histogram`",
    note = "`PerRank<M>` and `Family<L, M>` take `M` = `IntGauge`, `Gauge`, `IntCounter`, `Counter` or `Histogram`"
)]
pub trait Metric: Clone + Send + Sync + fmt::Debug + sealed::Sealed + 'static {
    /// Its family type, which [`create_metric`](crate::create_metric) registers.
    type Vec: CreateMetric;

    /// The series of `family` with these label values (created, and so shown, if it is new).
    #[doc(hidden)]
    fn __child(family: &Self::Vec, values: &[&str]) -> prometheus::Result<Self>;

    /// Writes the kind's zero: a gauge is set to 0; a counter or histogram already starts there.
    #[doc(hidden)]
    fn __seed(&self) {}

    /// A series registered nowhere, for writes that have no series to go to.
    #[doc(hidden)]
    fn __detached() -> Self;
}

macro_rules! metric {
    ($($ty:ident in $vec:ident, detached = $detached:expr, seed = |$m:ident| $seed:expr;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl Metric for $ty {
            type Vec = $vec;
            fn __child(family: &$vec, values: &[&str]) -> prometheus::Result<Self> {
                family.get_metric_with_label_values(values)
            }
            fn __seed(&self) {
                let $m = self;
                $seed
            }
            fn __detached() -> Self {
                $detached
            }
        }
    )*};
}

/// Options of a series that is never registered; its name is never shown.
fn detached_opts() -> prometheus::Opts {
    prometheus::Opts::new("detached", "A series registered nowhere.")
}

metric! {
    IntGauge in IntGaugeVec, detached = IntGauge::with_opts(detached_opts()).unwrap_or_else(|_| unreachable_opts()), seed = |m| m.set(0);
    Gauge in GaugeVec, detached = Gauge::with_opts(detached_opts()).unwrap_or_else(|_| unreachable_opts()), seed = |m| m.set(0.0);
    IntCounter in IntCounterVec, detached = IntCounter::with_opts(detached_opts()).unwrap_or_else(|_| unreachable_opts()), seed = |_m| ();
    Counter in CounterVec, detached = Counter::with_opts(detached_opts()).unwrap_or_else(|_| unreachable_opts()), seed = |_m| ();
    Histogram in HistogramVec, detached = Histogram::with_opts(prometheus::HistogramOpts::from(detached_opts())).unwrap_or_else(|_| unreachable_opts()), seed = |_m| ();
}

/// The options above are valid; prometheus cannot refuse them.
#[cold]
fn unreachable_opts<T>() -> T {
    unreachable!("constant, valid options for a detached series")
}

/// One series of a [`PerRank`](crate::PerRank) or [`Family`](crate::Family): from `rank(r)`,
/// `with(value)` or `rank(r).with(value)`.
///
/// Its methods are the kind's usual ones:
/// - gauges ([`IntGauge`], [`Gauge`]): `set`, `get`, `inc`, `dec`, `add`, `sub`;
/// - counters ([`IntCounter`], [`Counter`]): `inc`, `inc_by`, `get`;
/// - histograms ([`Histogram`]): `observe`, `start_timer`, `sample_count`, `sample_sum`.
///
/// A series of a declared rank or of a typed label value is resolved ahead of time: writing it is
/// one atomic operation.
pub struct Series<'a, M>(Slot<'a, M>);

enum Slot<'a, M> {
    Table(&'a M),
    Owned(M),
    /// What [`Series`]'s drop leaves behind.
    Released,
}

impl<'a, M> Series<'a, M> {
    #[inline]
    pub(crate) fn table(metric: &'a M) -> Self {
        Self(Slot::Table(metric))
    }

    pub(crate) fn owned(metric: M) -> Self {
        Self(Slot::Owned(metric))
    }

    #[inline]
    pub(crate) fn metric(&self) -> &M {
        match &self.0 {
            Slot::Table(metric) => metric,
            Slot::Owned(metric) => metric,
            Slot::Released => unreachable!("a released series is never read"),
        }
    }
}

impl<M> Drop for Series<'_, M> {
    /// Drops an owned series out of line, by value: the caller's `Series` then never has its
    /// address taken and stays in registers on the table path.
    #[inline]
    fn drop(&mut self) {
        if matches!(self.0, Slot::Owned(_)) {
            release(std::mem::replace(&mut self.0, Slot::Released));
        }
    }
}

#[cold]
#[inline(never)]
fn release<M>(slot: Slot<'_, M>) {
    drop(slot);
}

impl<M: fmt::Debug> fmt::Debug for Series<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Series").field(self.metric()).finish()
    }
}

macro_rules! gauge_methods {
    ($ty:ident, $value:ty, $one:expr) => {
        impl Series<'_, $ty> {
            /// Sets the gauge.
            #[inline]
            pub fn set(&self, value: $value) {
                self.metric().set(value);
            }
            /// The gauge's value.
            #[inline]
            pub fn get(&self) -> $value {
                self.metric().get()
            }
            /// Adds 1.
            #[inline]
            pub fn inc(&self) {
                self.metric().add($one);
            }
            /// Subtracts 1.
            #[inline]
            pub fn dec(&self) {
                self.metric().sub($one);
            }
            /// Adds `value`.
            #[inline]
            pub fn add(&self, value: $value) {
                self.metric().add(value);
            }
            /// Subtracts `value`.
            #[inline]
            pub fn sub(&self, value: $value) {
                self.metric().sub(value);
            }
        }
    };
}

gauge_methods!(IntGauge, i64, 1);
gauge_methods!(Gauge, f64, 1.0);

impl Series<'_, IntCounter> {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.metric().inc();
    }
    /// Adds `value`.
    #[inline]
    pub fn inc_by(&self, value: u64) {
        self.metric().inc_by(value);
    }
    /// The counter's value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.metric().get()
    }
}

impl Series<'_, Counter> {
    /// Adds 1.
    #[inline]
    pub fn inc(&self) {
        self.metric().inc();
    }
    /// Adds `value`. A counter only goes up: a negative or NaN `value` is not added (it is logged
    /// as a warning).
    #[inline]
    pub fn inc_by(&self, value: f64) {
        if value >= 0.0 {
            self.metric().inc_by(value);
        } else {
            refused_decrement(value);
        }
    }
    /// The counter's value.
    #[inline]
    pub fn get(&self) -> f64 {
        self.metric().get()
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
        self.metric().observe(value);
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
        self.metric().get_sample_count()
    }
    /// The sum of the observations.
    pub fn sample_sum(&self) -> f64 {
        self.metric().get_sample_sum()
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
        let counter = Counter::__detached();
        let series = Series::table(&counter);
        series.inc_by(2.5);
        series.inc_by(-1.0);
        series.inc_by(f64::NAN);
        assert_eq!(series.get(), 2.5);
    }

    #[test]
    fn a_timer_observes_once() {
        let histogram = Histogram::__detached();
        let timer = Series::table(&histogram).start_timer();
        let elapsed = timer.observe_duration();
        assert!(elapsed >= 0.0);
        assert_eq!(histogram.get_sample_count(), 1);
        drop(Series::table(&histogram).start_timer());
        assert_eq!(histogram.get_sample_count(), 2);
        let _ = Series::table(&histogram).start_timer().stop_and_discard();
        assert_eq!(histogram.get_sample_count(), 2);
    }
}
