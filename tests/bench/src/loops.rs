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

use engine_gauges::ComponentSnapshot;
use engine_gauges::prometheus::IntGauge;

use crate::{
    RANK, RANK_LABEL, Scrape, Updates, Writes, reference_set, reference_update, store_f64,
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

/// `IntGauge::set` on the child of [`RANK`], looked up once and kept.
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

/// `IntGaugeVec::with_label_values(&["3"]).set(..)`.
#[inline(never)]
pub fn i64_with_label_values(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(w.gauges.blocks.family()),
            black_box(RANK_LABEL),
            black_box(INT),
        );
        family.with_label_values(&[rank]).set(value);
    }
}

/// The reference's way: `rank.to_string()`, then `with_label_values`.
#[inline(never)]
pub fn i64_reference_lookup(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(w.gauges.blocks.family()),
            black_box(RANK),
            black_box(INT),
        );
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

/// `Gauge::set` on the child of [`RANK`], looked up once and kept.
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

/// `GaugeVec::with_label_values(&["3"]).set(..)`.
#[inline(never)]
pub fn f64_with_label_values(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(w.gauges.usage.family()),
            black_box(RANK_LABEL),
            black_box(FLOAT),
        );
        family.with_label_values(&[rank]).set(value);
    }
}

/// The reference's way: `rank.to_string()`, then `with_label_values`.
#[inline(never)]
pub fn f64_reference_lookup(w: &Writes, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(w.gauges.usage.family()),
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

/// `iters` reference-style writes of `rank`, for the contention benchmarks.
#[inline(never)]
pub fn reference_writes(w: &Writes, rank: u32, iters: u64) {
    for _ in 0..iters {
        let (family, rank, value) = (
            black_box(w.gauges.blocks.family()),
            black_box(rank),
            black_box(INT),
        );
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

/// `iters` calls of the copy of the reference's update.
#[inline(never)]
pub fn reference_updates(u: &Updates, snapshot: &ComponentSnapshot, iters: u64) {
    for _ in 0..iters {
        reference_update(black_box(&u.gauges), black_box(snapshot));
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
