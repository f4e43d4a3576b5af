//! The engine-gauges benchmarks, side by side in one run:
//!
//! 1. `write_i64`, `write_f64`: one write to a declared rank of a `PerRank` family against a raw
//!    atomic store, the same rank's prometheus child kept in hand, and label lookups;
//! 2. `update`: `ComponentGauges::update` against a copy of the reference's update, for a declared
//!    and an undeclared rank;
//! 3. `scrape`: the combined scrape of a four-level hierarchy against a plain `Registry::gather`
//!    and text encoding of the same families, at 1, 8, 64 and 512 ranks;
//! 4. `contention`: two threads writing distinct ranks and the same rank;
//! 5. `counter_inc`, `counter_inc_by`, `family_inc`, `rank_family_inc`, `histogram_observe`: the
//!    other kinds and shapes (a declared rank of `PerRank<IntCounter>` and `PerRank<Counter>`,
//!    `Family<Reason, IntCounter>::with`, `PerRank<Family<..>>::rank(r).with(v)`, a declared rank
//!    of `PerRank<Histogram>` and a scalar `Histogram` field) against cached prometheus children
//!    (for the typed families, a table of them indexed the same way) and the label lookup.
//!
//! Run it with `cargo bench -p engine-gauges-bench --bench gauges`, or one group of it with
//! criterion's filter, e.g. `cargo bench -p engine-gauges-bench --bench gauges -- family`. After criterion's own report
//! the suite prints a summary, in Markdown, of every benchmark's median and best round and of the
//! ratios the targets are stated in, all from this one run.
//!
//! Each benchmark runs in rounds of equal length (criterion's flat sampling), and every round is
//! recorded. A sub-nanosecond write is judged on its best round (the best of 400 rounds of about
//! 2.5 ms), everything else on its median round. The loops themselves, and how they keep the
//! compiler from hoisting or dropping the work, are in `engine_gauges_bench::loops`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};
use engine_gauges_bench::loops::{
    F64_WRITES, I64_WRITES, KIND_WRITES, cached_child_writes, combined_scrapes, derive_updates,
    per_rank_writes, plain_scrapes, reference_updates, reference_writes,
};
use engine_gauges_bench::{Kinds, RANK, Scrape, UNDECLARED, Updates, Writes, snapshot};

// ---------------------------------------------------------------------------------------------
// Recording rounds

/// Every round of every benchmark, by benchmark id: (iterations, elapsed).
static ROUNDS: Mutex<BTreeMap<String, Recorded>> = Mutex::new(BTreeMap::new());

#[derive(Default)]
struct Recorded {
    /// How many of the last rounds are measurement rounds (the ones before are warm-up).
    measured: usize,
    rounds: Vec<(u64, Duration)>,
}

/// Records one round of benchmark `id`. Criterion runs the warm-up rounds first, then the `measured`
/// measurement rounds, so the last `measured` rounds recorded are the measurement.
fn record(id: &str, measured: usize, iters: u64, elapsed: Duration) -> Duration {
    let mut rounds = ROUNDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = rounds.entry(id.to_owned()).or_default();
    entry.measured = measured;
    entry.rounds.push((iters, elapsed));
    elapsed
}

/// A criterion group sampled in equal rounds, each of which is recorded.
struct Group<'c> {
    inner: BenchmarkGroup<'c, WallTime>,
    name: &'static str,
    rounds: usize,
}

impl<'c> Group<'c> {
    /// A group of `rounds` equal rounds over `measure`, after `warm_up`.
    fn new(
        c: &'c mut Criterion,
        name: &'static str,
        rounds: usize,
        warm_up: Duration,
        measure: Duration,
    ) -> Self {
        let mut inner = c.benchmark_group(name);
        inner
            .sampling_mode(SamplingMode::Flat)
            .sample_size(rounds)
            .warm_up_time(warm_up)
            .measurement_time(measure);
        Self {
            inner,
            name,
            rounds,
        }
    }

    /// Adds benchmark `bench`; `round(iters)` runs `iters` iterations and returns how long they
    /// took.
    fn bench(&mut self, bench: &str, mut round: impl FnMut(u64) -> Duration) {
        let id = format!("{}/{bench}", self.name);
        let rounds = self.rounds;
        self.inner.bench_function(bench, |b| {
            b.iter_custom(|iters| record(&id, rounds, iters, round(iters)));
        });
    }

    fn throughput(&mut self, series: usize) {
        self.inner.throughput(Throughput::Elements(series as u64));
    }

    fn finish(self) {
        self.inner.finish();
    }
}

/// Times one round of `iters` iterations on this thread.
fn timed(iters: u64, round: impl FnOnce(u64)) -> Duration {
    let start = Instant::now();
    round(iters);
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// 1. Writes

const WRITE_ROUNDS: usize = 400;

fn writes(c: &mut Criterion, writes: &Writes) {
    for (name, loops) in [("write_i64", I64_WRITES), ("write_f64", F64_WRITES)] {
        let mut g = Group::new(
            c,
            name,
            WRITE_ROUNDS,
            Duration::from_millis(300),
            Duration::from_secs(1),
        );
        for (bench, run) in loops {
            g.bench(bench, |iters| timed(iters, |n| run(writes, n)));
        }
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Update

const UPDATE_ROUNDS: usize = 100;

fn updates(c: &mut Criterion, updates: &Updates) {
    let mut g = Group::new(
        c,
        "update",
        UPDATE_ROUNDS,
        Duration::from_millis(300),
        Duration::from_secs(1),
    );
    for (label, rank) in [("declared", RANK), ("undeclared", UNDECLARED)] {
        let snap = snapshot(rank);
        g.bench(&format!("derive_{label}"), |iters| {
            timed(iters, |n| {
                derive_updates(updates, &snap, n);
            })
        });
        g.bench(&format!("reference_{label}"), |iters| {
            timed(iters, |n| {
                reference_updates(updates, &snap, n);
            })
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// 3. Scrape

const SCRAPE_RANKS: [u32; 4] = [1, 8, 64, 512];
const SCRAPE_ROUNDS: usize = 30;

fn scrapes(c: &mut Criterion, scrapes: &[(u32, Scrape)]) {
    let mut g = Group::new(
        c,
        "scrape",
        SCRAPE_ROUNDS,
        Duration::from_millis(300),
        Duration::from_secs(2),
    );
    for (ranks, scrape) in scrapes {
        g.throughput(scrape.series());
        g.bench(&format!("combined/{ranks}"), |iters| {
            timed(iters, |n| combined_scrapes(scrape, n))
        });
        g.bench(&format!("plain/{ranks}"), |iters| {
            timed(iters, |n| plain_scrapes(scrape, n))
        });
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// 4. Contention

const CONTENTION_ROUNDS: usize = 50;

/// Runs `iters` iterations of `first` on this thread and of `second` on another, started
/// together; the time is until both are done, so it is per iteration of the pair.
fn two_threads(iters: u64, first: impl Fn(u64) + Sync, second: impl Fn(u64) + Sync) -> Duration {
    let ready = AtomicUsize::new(0);
    let rendezvous = || {
        ready.fetch_add(1, Ordering::AcqRel);
        while ready.load(Ordering::Acquire) < 2 {
            std::hint::spin_loop();
        }
    };
    thread::scope(|s| {
        let helper = s.spawn(|| {
            rendezvous();
            second(iters);
        });
        rendezvous();
        let start = Instant::now();
        first(iters);
        helper
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        start.elapsed()
    })
}

fn contention(c: &mut Criterion, w: &Writes) {
    let mut g = Group::new(
        c,
        "contention",
        CONTENTION_ROUNDS,
        Duration::from_millis(300),
        Duration::from_secs(1),
    );
    let other_child = w.shadow_blocks.with_label_values(&[(RANK + 1).to_string()]);
    g.bench("per_rank_one_thread", |iters| {
        timed(iters, |n| per_rank_writes(w, RANK, n))
    });
    g.bench("per_rank_distinct", |iters| {
        two_threads(
            iters,
            |n| per_rank_writes(w, RANK, n),
            |n| per_rank_writes(w, RANK + 1, n),
        )
    });
    g.bench("per_rank_same", |iters| {
        two_threads(
            iters,
            |n| per_rank_writes(w, RANK, n),
            |n| per_rank_writes(w, RANK, n),
        )
    });
    g.bench("cached_child_one_thread", |iters| {
        timed(iters, |n| cached_child_writes(&w.int_child, n))
    });
    g.bench("cached_child_distinct", |iters| {
        two_threads(
            iters,
            |n| cached_child_writes(&w.int_child, n),
            |n| cached_child_writes(&other_child, n),
        )
    });
    g.bench("cached_child_same", |iters| {
        two_threads(
            iters,
            |n| cached_child_writes(&w.int_child, n),
            |n| cached_child_writes(&w.int_child, n),
        )
    });
    g.bench("reference_one_thread", |iters| {
        timed(iters, |n| reference_writes(w, RANK, n))
    });
    g.bench("reference_distinct", |iters| {
        two_threads(
            iters,
            |n| reference_writes(w, RANK, n),
            |n| reference_writes(w, RANK + 1, n),
        )
    });
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// 5. The other kinds

/// Each subject of the other kinds, the baseline its target is stated against, and the bound
/// (judged on best rounds, as the gauge writes are).
const KIND_TARGETS: [(&str, &str, &str, f64); 6] = [
    ("counter_inc", "per_rank_declared", "cached_child", 1.25),
    ("counter_inc_by", "per_rank_declared", "cached_child", 1.25),
    ("family_inc", "family_with", "cached_child_table", 1.25),
    (
        "rank_family_inc",
        "per_rank_family",
        "cached_child_table",
        1.25,
    ),
    (
        "histogram_observe",
        "per_rank_declared",
        "cached_child",
        1.25,
    ),
    ("histogram_observe", "field", "plain_histogram", 1.25),
];

fn kinds(c: &mut Criterion, kinds: &Kinds) {
    for (name, loops) in KIND_WRITES {
        let mut g = Group::new(
            c,
            name,
            WRITE_ROUNDS,
            Duration::from_millis(300),
            Duration::from_secs(1),
        );
        for &(bench, run) in loops {
            g.bench(bench, |iters| timed(iters, |n| run(kinds, n)));
        }
        g.finish();
    }
}

// ---------------------------------------------------------------------------------------------
// Summary

/// Nanoseconds per iteration of a benchmark's measurement rounds: (median, best).
fn stats(rounds: &BTreeMap<String, Recorded>, id: &str) -> Option<(f64, f64)> {
    let recorded = rounds.get(id)?;
    let from = recorded.rounds.len().checked_sub(recorded.measured)?;
    let mut per_iter: Vec<f64> = recorded.rounds[from..]
        .iter()
        .map(|&(iters, elapsed)| elapsed.as_nanos() as f64 / iters as f64)
        .collect();
    if per_iter.is_empty() {
        return None;
    }
    per_iter.sort_by(f64::total_cmp);
    let n = per_iter.len();
    let median = if n % 2 == 1 {
        per_iter[n / 2]
    } else {
        (per_iter[n / 2 - 1] + per_iter[n / 2]) / 2.0
    };
    Some((median, per_iter[0]))
}

/// A duration in nanoseconds, as µs from 100 µs up.
fn ns(value: f64) -> String {
    if value.abs() >= 100_000.0 {
        format!("{:.1} µs", value / 1_000.0)
    } else if value.abs() >= 100.0 {
        format!("{value:.0} ns")
    } else {
        format!("{value:.2} ns")
    }
}

/// The Markdown summary of the run: every benchmark, then every target as a ratio.
fn summary(scrapes: &[(u32, Scrape)]) -> String {
    use std::fmt::Write as _;

    let rounds = ROUNDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut out = String::new();
    let _ = writeln!(out, "\n## Summary of this run\n");
    let _ = writeln!(out, "| benchmark | median round | best round |");
    let _ = writeln!(out, "| --- | ---: | ---: |");
    for id in rounds.keys() {
        if let Some((median, best)) = stats(&rounds, id) {
            let _ = writeln!(out, "| `{id}` | {} | {} |", ns(median), ns(best));
        }
    }

    let get = |id: &str| stats(&rounds, id);
    let _ = writeln!(out, "\n| target | measured | holds |");
    let _ = writeln!(out, "| --- | ---: | :---: |");
    let mut target = |what: String, ratio: Option<f64>, holds: Option<bool>| {
        let measured = ratio.map_or_else(|| "not run".to_owned(), |r| format!("{r:.2}×"));
        let holds = match holds {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        let _ = writeln!(out, "| {what} | {measured} | {holds} |");
    };
    for ty in ["i64", "f64"] {
        for subject in ["per_rank_declared", "per_rank_declared_set"] {
            let measured = get(&format!("write_{ty}/{subject}"));
            for (baseline, limit) in [("cached_child_set", 1.25), ("atomic_store", 1.5)] {
                let base = get(&format!("write_{ty}/{baseline}"));
                let best = measured.zip(base).map(|(s, b)| s.1 / b.1);
                let median = measured.zip(base).map(|(s, b)| s.0 / b.0);
                target(
                    format!("`write_{ty}`: `{subject}` / `{baseline}`, best rounds (≤ {limit}×)"),
                    best,
                    best.map(|r| r <= limit),
                );
                target(
                    format!("`write_{ty}`: `{subject}` / `{baseline}`, medians (reported)"),
                    median,
                    None,
                );
            }
        }
    }
    for (group, subject, baseline, limit) in KIND_TARGETS {
        let measured = get(&format!("{group}/{subject}"));
        let base = get(&format!("{group}/{baseline}"));
        let best = measured.zip(base).map(|(s, b)| s.1 / b.1);
        let median = measured.zip(base).map(|(s, b)| s.0 / b.0);
        target(
            format!("`{group}`: `{subject}` / `{baseline}`, best rounds (≤ {limit}×)"),
            best,
            best.map(|r| r <= limit),
        );
        target(
            format!("`{group}`: `{subject}` / `{baseline}`, medians (reported)"),
            median,
            None,
        );
    }
    for (label, check) in [("declared", true), ("undeclared", false)] {
        let ratio = get(&format!("update/reference_{label}"))
            .zip(get(&format!("update/derive_{label}")))
            .map(|(r, d)| r.0 / d.0);
        let what = if check {
            format!("reference update / derive `update`, {label} rank, medians (≥ 25×)")
        } else {
            format!("reference update / derive `update`, {label} rank, medians (reported)")
        };
        target(
            what,
            ratio,
            check.then(|| ratio.map(|r| r >= 25.0)).flatten(),
        );
    }
    for (ranks, _) in scrapes {
        let ratio = get(&format!("scrape/combined/{ranks}"))
            .zip(get(&format!("scrape/plain/{ranks}")))
            .map(|(c, p)| c.0 / p.0);
        let checked = *ranks >= 64;
        let what = if checked {
            format!("combined / plain scrape, {ranks} ranks, medians (≤ 1.25×)")
        } else {
            format!("combined / plain scrape, {ranks} ranks, medians (reported)")
        };
        target(
            what,
            ratio,
            checked.then(|| ratio.map(|r| r <= 1.25)).flatten(),
        );
    }

    let _ = writeln!(
        out,
        "\n| ranks | series | combined | plain | combined per series | plain per series | combined − plain |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (ranks, scrape) in scrapes {
        let (Some(c), Some(p)) = (
            get(&format!("scrape/combined/{ranks}")),
            get(&format!("scrape/plain/{ranks}")),
        ) else {
            continue;
        };
        let series = scrape.series() as f64;
        let _ = writeln!(
            out,
            "| {ranks} | {} | {} | {} | {} | {} | {} |",
            scrape.series(),
            ns(c.0),
            ns(p.0),
            ns(c.0 / series),
            ns(p.0 / series),
            ns(c.0 - p.0),
        );
    }

    let _ = writeln!(
        out,
        "\n| two threads | median per iteration (one write on each thread) | vs one thread alone |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: |");
    for (name, alone) in [
        ("per_rank_distinct", "per_rank_one_thread"),
        ("per_rank_same", "per_rank_one_thread"),
        ("cached_child_distinct", "cached_child_one_thread"),
        ("cached_child_same", "cached_child_one_thread"),
        ("reference_distinct", "reference_one_thread"),
    ] {
        let base = get(&format!("contention/{alone}"));
        if let Some(m) = get(&format!("contention/{name}")) {
            let ratio = base.map_or_else(String::new, |b| format!("{:.2}×", m.0 / b.0));
            let _ = writeln!(out, "| `{name}` | {} | {ratio} |", ns(m.0));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

/// Whether criterion is timing (`cargo bench`), not testing (`cargo test --benches`), listing or
/// profiling: only then is there a summary to print.
fn timing() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--list" || a == "--test" || a.starts_with("--profile-time"))
}

fn main() {
    let w = Writes::new().expect("the write fixture registers");
    let u = Updates::new().expect("the update fixture registers");
    let k = Kinds::new().expect("the fixture of the other kinds registers");
    let s: Vec<(u32, Scrape)> = SCRAPE_RANKS
        .iter()
        .map(|&ranks| {
            let scrape = Scrape::new(ranks).expect("the scrape fixture registers");
            assert_eq!(
                scrape.combined().expect("combined scrape"),
                scrape.plain().expect("plain scrape"),
                "both sides of the scrape benchmark must render the same page"
            );
            (ranks, scrape)
        })
        .collect();

    let mut c = Criterion::default()
        .nresamples(10_000)
        .without_plots()
        .configure_from_args();
    writes(&mut c, &w);
    updates(&mut c, &u);
    scrapes(&mut c, &s);
    contention(&mut c, &w);
    kinds(&mut c, &k);
    c.final_summary();

    if timing() {
        println!("{}", summary(&s));
    }
}
