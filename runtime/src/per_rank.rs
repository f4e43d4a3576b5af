//! [`PerRank`]: a gauge family labelled `dp_rank`, with each declared rank's child resolved once.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use prometheus::{Gauge, GaugeVec, IntGauge, IntGaugeVec};

use crate::{CreateMetric, Error};

/// The widest span of declared ranks (largest − smallest + 1) a [`PerRank`] table holds.
pub const MAX_RANK_SPAN: u32 = 1 << 16;

mod sealed {
    pub trait Sealed {}
}

/// A gauge that can be written to directly: [`Gauge`] (`f64`) and [`IntGauge`] (`i64`). Sealed.
pub trait SetGauge: Clone + Send + Sync + fmt::Debug + sealed::Sealed + 'static {
    /// The value type the gauge holds.
    type Value: Copy;
    /// Sets the gauge.
    fn set_value(&self, value: Self::Value);
}

/// A gauge type that can be kept per rank: [`Gauge`] and [`IntGauge`]. Sealed.
#[diagnostic::on_unimplemented(
    message = "`PerRank` takes `Gauge` or `IntGauge`, not `{Self}`",
    label = "not a per-rank gauge",
    note = "for a family with labels of its own, use `GaugeVec` or `IntGaugeVec` with `#[gauge(labels(..))]`"
)]
pub trait RankMetric: SetGauge {
    /// Its family type, labelled `dp_rank`.
    type Vec: CreateMetric;
    #[doc(hidden)]
    fn __child(family: &Self::Vec, rank: &str) -> Self;
    #[doc(hidden)]
    fn __zero() -> Self::Value;
}

macro_rules! rank_metric {
    ($($ty:ident($value:ty, $zero:expr) in $vec:ident;)*) => {$(
        impl sealed::Sealed for $ty {}
        impl SetGauge for $ty {
            type Value = $value;
            #[inline]
            fn set_value(&self, value: $value) {
                self.set(value);
            }
        }
        impl RankMetric for $ty {
            type Vec = $vec;
            fn __child(family: &$vec, rank: &str) -> Self {
                family.with_label_values(&[rank])
            }
            fn __zero() -> $value {
                $zero
            }
        }
    )*};
}

rank_metric! {
    Gauge(f64, 0.0) in GaugeVec;
    IntGauge(i64, 0) in IntGaugeVec;
}

/// A gauge family labelled `dp_rank`, one child per data-parallel rank.
///
/// The ranks declared at registration are resolved once into a flat table indexed by
/// `rank - smallest declared rank`, so writing a declared rank is an index and one atomic store:
/// no hashing, no allocation, no lock, no formatting. Ranks need not be contiguous. Other ranks
/// work too, through the family's label lookup (slower; ranks between the smallest and largest
/// declared one are cached after their first use).
///
/// Declared ranks are seeded at 0 so the family renders from the start, unless the field is
/// `unseeded`: then a rank's child (and so the family) appears with its first write.
pub struct PerRank<M: RankMetric> {
    family: M::Vec,
    first: u32,
    slots: Box<[OnceLock<M>]>,
    declared: Box<[u32]>,
}

impl<M: RankMetric> PerRank<M> {
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
        Ok(())
    }

    /// Wraps a registered family, resolving (and, if `seeded`, zeroing) each declared rank.
    /// The span must have passed [`Self::check_span`].
    pub(crate) fn new(family: M::Vec, dp_ranks: &[u32], seeded: bool) -> Self {
        let mut declared: Vec<u32> = dp_ranks.to_vec();
        declared.sort_unstable();
        declared.dedup();
        let first = declared.first().copied().unwrap_or(0);
        let len = declared
            .last()
            .map_or(0, |&last| (last - first) as usize + 1);
        let slots: Box<[OnceLock<M>]> = (0..len).map(|_| OnceLock::new()).collect();
        if seeded {
            for &rank in &declared {
                let child = M::__child(&family, RankLabel::new(rank).as_str());
                child.set_value(M::__zero());
                // Every declared rank lies in the table; a fresh cell is always empty.
                let _ = slots[(rank - first) as usize].set(child);
            }
        }
        Self {
            family,
            first,
            slots,
            declared: declared.into_boxed_slice(),
        }
    }

    /// The gauge of `rank`; it derefs to the metric (`.set(..)`, `.get()`). Touching an unseeded
    /// rank through it creates that rank's child.
    #[inline]
    pub fn rank(&self, rank: u32) -> RankGauge<'_, M> {
        RankGauge(match self.resolved(rank) {
            Some(metric) => Handle::Table(metric),
            None => self.resolve(rank),
        })
    }

    /// Sets the gauge of `rank`.
    #[inline]
    pub fn set(&self, rank: u32, value: M::Value) {
        match self.resolved(rank) {
            Some(metric) => metric.set_value(value),
            None => self.set_slow(rank, value),
        }
    }

    /// The child of `rank` if the table already holds it: one compare (a rank below the table
    /// wraps to an offset past its end), one load of the cell's state, no call.
    #[inline]
    fn resolved(&self, rank: u32) -> Option<&M> {
        let offset = rank.wrapping_sub(self.first) as usize;
        self.slots.get(offset)?.get()
    }

    /// The child of a rank the table does not hold yet: a table rank is resolved and kept, any
    /// other rank is looked up by label.
    #[cold]
    #[inline(never)]
    fn resolve(&self, rank: u32) -> Handle<'_, M> {
        match rank
            .checked_sub(self.first)
            .and_then(|offset| self.slots.get(offset as usize))
        {
            Some(slot) => Handle::Table(slot.get_or_init(|| self.child(rank))),
            None => Handle::Owned(self.child(rank)),
        }
    }

    #[cold]
    #[inline(never)]
    fn set_slow(&self, rank: u32, value: M::Value) {
        self.resolve(rank).get().set_value(value);
    }

    /// The declared ranks, sorted, without repeats.
    pub fn declared_ranks(&self) -> &[u32] {
        &self.declared
    }

    /// The underlying family.
    pub fn family(&self) -> &M::Vec {
        &self.family
    }

    #[cold]
    fn child(&self, rank: u32) -> M {
        M::__child(&self.family, RankLabel::new(rank).as_str())
    }
}

impl<M: RankMetric> fmt::Debug for PerRank<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerRank")
            .field("declared_ranks", &self.declared)
            .finish_non_exhaustive()
    }
}

/// The gauge of one rank, from [`PerRank::rank`]. Derefs to the metric.
#[derive(Debug)]
pub struct RankGauge<'a, M>(Handle<'a, M>);

#[derive(Debug)]
enum Handle<'a, M> {
    Table(&'a M),
    Owned(M),
    /// What [`RankGauge`]'s drop leaves behind.
    Released,
}

impl<M> Handle<'_, M> {
    #[inline]
    fn get(&self) -> &M {
        match self {
            Handle::Table(metric) => metric,
            Handle::Owned(metric) => metric,
            Handle::Released => unreachable!("a released rank gauge is never read"),
        }
    }
}

impl<M> Drop for RankGauge<'_, M> {
    /// Drops an owned child out of line, by value: the caller's `RankGauge` then never has its
    /// address taken and stays in registers on the table path.
    #[inline]
    fn drop(&mut self) {
        if matches!(self.0, Handle::Owned(_)) {
            release(std::mem::replace(&mut self.0, Handle::Released));
        }
    }
}

#[cold]
#[inline(never)]
fn release<M>(handle: Handle<'_, M>) {
    drop(handle);
}

impl<M> Deref for RankGauge<'_, M> {
    type Target = M;
    #[inline]
    fn deref(&self) -> &M {
        self.0.get()
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
