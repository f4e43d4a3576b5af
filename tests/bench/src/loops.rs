//! The measured loops: one function per benchmark, never inlined, so that each can be read in the
//! disassembly and counted by name under an instruction profiler (see `benches/instructions.rs`).
//!
//! Every input of an operation (the handle, the rank, the value) goes through [`black_box`] on
//! every iteration, so the compiler can neither hoist the lookup out of the loop nor merge or drop
//! the stores. Every write loop passes the same three inputs through [`black_box`], a handle, a
//! rank and a value, whether or not its operation uses the rank: the loops then differ only in the
//! work under test, not in the harness around it.

use std::hint::black_box;
use std::sync::atomic::Ordering;

use engine_gauges::prometheus::IntGauge;
use engine_gauges::{ComponentSnapshot, LabelValue};

use crate::{
    Kinds, RANK, RANK_LABEL, REASON, REASON_LABEL, Scrape, Updates, Writes, reference_set,
    reference_update, store_f64,
};

/// The value the integer loops write.
pub const INT: i64 = 4_096;
/// The value the float loops write.
pub const FLOAT: f64 = 0.375;

/// A write loop: `iters` writes to the fixture.
pub type WriteLoop = fn(&Writes, u64);

/// The `i64` write loops, by benchmark name.
pub const I64_WRITES: [(&str, WriteLoop); 6] = [
    ("atomic_store", i64_atomic_store),
    ("cached_child_set", i64_cached_child),
    ("per_rank_declared", i64_per_rank_declared),
    ("per_rank_declared_set", i64_per_rank_declared_set),
    ("with_label_values", i64_with_label_values),
    ("reference_lookup", i64_reference_lookup),
];

/// The `f64` write loops, by benchmark name.
pub const F64_WRITES: [(&str, WriteLoop); 6] = [
    ("atomic_store", f64_atomic_store),
    ("cached_child_set", f64_cached_child),
    ("per_rank_declared", f64_per_rank_declared),
    ("per_rank_declared_set", f64_per_rank_declared_set),
    ("with_label_values", f64_with_label_values),
    ("reference_lookup", f64_reference_lookup),
];

/// A raw `AtomicI64::store(Relaxed)`: the floor.
#[inline(never)]
pub fn i64_atomic_store(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (atomic, _rank, value) = (black_box(&w.int_atomic), black_box(RANK), black_box(INT));
        atomic.store(value, Ordering::Relaxed);
    }
}

/// `IntGauge::set` on the shadow's child of [`RANK`], looked up once and kept.
#[inline(never)]
pub fn i64_cached_child(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (child, _rank, value) = (black_box(&w.int_child), black_box(RANK), black_box(INT));
        child.set(value);
    }
}

/// The subject: `PerRank<IntGauge>::rank(RANK).set(..)`, a declared rank.
#[inline(never)]
pub fn i64_per_rank_declared(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (black_box(&w.gauges.blocks), black_box(RANK), black_box(INT));
        family.rank(rank).set(value);
    }
}

/// The subject through the other entry point: `PerRank<IntGauge>::set(RANK, ..)`, which the
/// derived `update` uses.
#[inline(never)]
pub fn i64_per_rank_declared_set(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (black_box(&w.gauges.blocks), black_box(RANK), black_box(INT));
        family.set(rank, value);
    }
}

/// `IntGaugeVec::with_label_values(&["3"]).set(..)` on the shadow.
#[inline(never)]
pub fn i64_with_label_values(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&w.shadow_blocks),
            black_box(RANK_LABEL),
            black_box(INT),
        );
        family.with_label_values(&[rank]).set(value);
    }
}

/// The reference's way, on the shadow: `rank.to_string()`, then `with_label_values`.
#[inline(never)]
pub fn i64_reference_lookup(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (black_box(&w.shadow_blocks), black_box(RANK), black_box(INT));
        reference_set(family, rank, |child| child.set(value));
    }
}

/// A raw `AtomicU64::store(Relaxed)` of the value's bits: the floor.
#[inline(never)]
pub fn f64_atomic_store(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (atomic, _rank, value) = (
            black_box(&w.float_atomic),
            black_box(RANK),
            black_box(FLOAT),
        );
        store_f64(atomic, value);
    }
}

/// `Gauge::set` on the shadow's child of [`RANK`], looked up once and kept.
#[inline(never)]
pub fn f64_cached_child(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (child, _rank, value) = (black_box(&w.float_child), black_box(RANK), black_box(FLOAT));
        child.set(value);
    }
}

/// The subject: `PerRank<Gauge>::rank(RANK).set(..)`, a declared rank.
#[inline(never)]
pub fn f64_per_rank_declared(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&w.gauges.usage),
            black_box(RANK),
            black_box(FLOAT),
        );
        family.rank(rank).set(value);
    }
}

/// The subject through the other entry point: `PerRank<Gauge>::set(RANK, ..)`, which the derived
/// `update` uses.
#[inline(never)]
pub fn f64_per_rank_declared_set(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&w.gauges.usage),
            black_box(RANK),
            black_box(FLOAT),
        );
        family.set(rank, value);
    }
}

/// `GaugeVec::with_label_values(&["3"]).set(..)` on the shadow.
#[inline(never)]
pub fn f64_with_label_values(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&w.shadow_usage),
            black_box(RANK_LABEL),
            black_box(FLOAT),
        );
        family.with_label_values(&[rank]).set(value);
    }
}

/// The reference's way, on the shadow: `rank.to_string()`, then `with_label_values`.
#[inline(never)]
pub fn f64_reference_lookup(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&w.shadow_usage),
            black_box(RANK),
            black_box(FLOAT),
        );
        reference_set(family, rank, |child| child.set(value));
    }
}

/// `iters` writes of `rank` through `PerRank<IntGauge>`, for the contention benchmarks.
#[inline(never)]
pub fn per_rank_writes(w: &Writes, rank: u32, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (black_box(&w.gauges.blocks), black_box(rank), black_box(INT));
        family.rank(rank).set(value);
    }
}

/// `iters` writes to a kept child, for the contention benchmarks.
#[inline(never)]
pub fn cached_child_writes(child: &IntGauge, iters: u64) {
    for _ in 0..iters {
        let (child, _rank, value) = (black_box(child), black_box(RANK), black_box(INT));
        child.set(value);
    }
}

/// `iters` reference-style writes of `rank` to the shadow, for the contention benchmarks.
#[inline(never)]
pub fn reference_writes(w: &Writes, rank: u32, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (black_box(&w.shadow_blocks), black_box(rank), black_box(INT));
        reference_set(family, rank, |child| child.set(value));
    }
}

/// `iters` calls of the derived `ComponentGauges::update`.
#[inline(never)]
pub fn derive_updates(u: &Updates, snapshot: &ComponentSnapshot, iters: u64) {
    for _ in 0..iters {
        black_box(&u.gauges).update(black_box(snapshot));
    }
}

/// `iters` calls of the copy of the reference's update, which writes the shadows.
#[inline(never)]
pub fn reference_updates(u: &Updates, snapshot: &ComponentSnapshot, iters: u64) {
    for _ in 0..iters {
        reference_update(black_box(&u.shadow), black_box(snapshot));
    }
}

/// `iters` combined scrapes of the hierarchy's root.
#[inline(never)]
pub fn combined_scrapes(scrape: &Scrape, iters: u64) {
    for _ in 0..iters {
        let page = black_box(scrape).combined();
        drop(black_box(page));
    }
}

/// `iters` plain gathers and encodings of the same families.
#[inline(never)]
pub fn plain_scrapes(scrape: &Scrape, iters: u64) {
    for _ in 0..iters {
        let page = black_box(scrape).plain();
        drop(black_box(page));
    }
}

// ---------------------------------------------------------------------------------------------
// The other kinds: counters, typed families, histograms
//
// Each group's loops pass the same inputs through `black_box`: the handle, and whichever of the
// rank, the label value and the value the group's subject takes, the baselines ignoring what they
// do not use.

/// The value the `Counter::inc_by` loops add.
pub const INC_BY: f64 = 0.375;
/// The value the histogram loops observe: a time to first token, in seconds, that falls in the
/// tenth of the histogram's 23 buckets (so each observe compares it with ten bounds).
pub const SECONDS: f64 = 0.3;

/// A write loop over the other kinds: `iters` writes to the fixture.
pub type KindLoop = fn(&Kinds, u64);

/// The loops over the other kinds: by group, each group its subjects and baselines, by benchmark
/// name.
pub const KIND_WRITES: [(&str, &[(&str, KindLoop)]); 5] = [
    (
        "counter_inc",
        &[
            ("cached_child", counter_inc_cached_child),
            ("per_rank_declared", counter_inc_per_rank_declared),
            ("with_label_values", counter_inc_with_label_values),
        ],
    ),
    (
        "counter_inc_by",
        &[
            ("cached_child", counter_inc_by_cached_child),
            ("per_rank_declared", counter_inc_by_per_rank_declared),
        ],
    ),
    (
        "family_inc",
        &[
            ("cached_child_table", family_inc_cached_child_table),
            ("family_with", family_inc_with),
            ("with_label_values", family_inc_with_label_values),
        ],
    ),
    (
        "rank_family_inc",
        &[
            ("cached_child_table", rank_family_inc_cached_child_table),
            ("per_rank_family", rank_family_inc_per_rank),
            ("with_label_values", rank_family_inc_with_label_values),
        ],
    ),
    (
        "histogram_observe",
        &[
            ("cached_child", histogram_cached_child),
            ("per_rank_declared", histogram_per_rank_declared),
            ("plain_histogram", histogram_plain),
            ("field", histogram_field),
            ("with_label_values", histogram_with_label_values),
        ],
    ),
];

/// `IntCounter::inc` on the shadow's child of [`RANK`], looked up once and kept.
#[inline(never)]
pub fn counter_inc_cached_child(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (child, _rank) = (black_box(&k.int_counter_child), black_box(RANK));
        child.inc();
    }
}

/// The subject: `PerRank<IntCounter>::rank(RANK).inc()`, a declared rank.
#[inline(never)]
pub fn counter_inc_per_rank_declared(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank) = (black_box(&k.set.requests_total), black_box(RANK));
        family.rank(rank).inc();
    }
}

/// `IntCounterVec::with_label_values(&["3"]).inc()` on the shadow.
#[inline(never)]
pub fn counter_inc_with_label_values(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank) = (black_box(&k.int_counter_family), black_box(RANK_LABEL));
        family.with_label_values(&[rank]).inc();
    }
}

/// `Counter::inc_by` on the shadow's child of [`RANK`], looked up once and kept.
#[inline(never)]
pub fn counter_inc_by_cached_child(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (child, _rank, value) = (
            black_box(&k.counter_child),
            black_box(RANK),
            black_box(INC_BY),
        );
        child.inc_by(value);
    }
}

/// The subject: `PerRank<Counter>::rank(RANK).inc_by(..)`, a declared rank.
#[inline(never)]
pub fn counter_inc_by_per_rank_declared(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&k.set.busy_seconds_total),
            black_box(RANK),
            black_box(INC_BY),
        );
        family.rank(rank).inc_by(value);
    }
}

/// `IntCounter::inc` on a kept child, from a table indexed by the value's
/// `LabelValue::index`: a hand-written fast path.
#[inline(never)]
pub fn family_inc_cached_child_table(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (table, reason) = (black_box(&k.reason_children), black_box(REASON));
        table[reason.index()].inc();
    }
}

/// The subject: `Family<Reason, IntCounter>::with(REASON).inc()`.
#[inline(never)]
pub fn family_inc_with(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, reason) = (black_box(&k.set.finished_total), black_box(REASON));
        family.with(reason).inc();
    }
}

/// `IntCounterVec::with_label_values(&["length"]).inc()` on the shadow.
#[inline(never)]
pub fn family_inc_with_label_values(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, reason) = (black_box(&k.reason_family), black_box(REASON_LABEL));
        family.with_label_values(&[reason]).inc();
    }
}

/// `IntCounter::inc` on a kept child, from a table indexed by rank, then by the value's
/// `LabelValue::index`: a hand-written fast path.
#[inline(never)]
pub fn rank_family_inc_cached_child_table(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (table, rank, reason) = (
            black_box(&k.rank_reason_children),
            black_box(RANK),
            black_box(REASON),
        );
        table[rank as usize][reason.index()].inc();
    }
}

/// The subject: `PerRank<Family<Reason, IntCounter>>::rank(RANK).with(REASON).inc()`.
#[inline(never)]
pub fn rank_family_inc_per_rank(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank, reason) = (
            black_box(&k.set.rank_finished_total),
            black_box(RANK),
            black_box(REASON),
        );
        family.rank(rank).with(reason).inc();
    }
}

/// `IntCounterVec::with_label_values(&["3", "length"]).inc()` on the shadow.
#[inline(never)]
pub fn rank_family_inc_with_label_values(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank, reason) = (
            black_box(&k.rank_reason_family),
            black_box(RANK_LABEL),
            black_box(REASON_LABEL),
        );
        family.with_label_values(&[rank, reason]).inc();
    }
}

/// `Histogram::observe` on the shadow's child of [`RANK`], looked up once and kept.
#[inline(never)]
pub fn histogram_cached_child(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (child, _rank, value) = (
            black_box(&k.histogram_child),
            black_box(RANK),
            black_box(SECONDS),
        );
        child.observe(value);
    }
}

/// The subject: `PerRank<Histogram>::rank(RANK).observe(..)`, a declared rank.
#[inline(never)]
pub fn histogram_per_rank_declared(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&k.set.rank_time_to_first_token_seconds),
            black_box(RANK),
            black_box(SECONDS),
        );
        family.rank(rank).observe(value);
    }
}

/// `Histogram::observe` on a plain histogram with the same buckets.
#[inline(never)]
pub fn histogram_plain(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (histogram, _rank, value) = (
            black_box(&k.plain_histogram),
            black_box(RANK),
            black_box(SECONDS),
        );
        histogram.observe(value);
    }
}

/// The subject: `observe` on the set's scalar `Histogram` field.
#[inline(never)]
pub fn histogram_field(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (histogram, _rank, value) = (
            black_box(&k.set.time_to_first_token_seconds),
            black_box(RANK),
            black_box(SECONDS),
        );
        histogram.observe(value);
    }
}

/// `HistogramVec::with_label_values(&["3"]).observe(..)` on the shadow.
#[inline(never)]
pub fn histogram_with_label_values(k: &Kinds, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(&k.histogram_family),
            black_box(RANK_LABEL),
            black_box(SECONDS),
        );
        family.with_label_values(&[rank]).observe(value);
    }
}
