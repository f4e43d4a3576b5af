//! The scrape of one page by every implementation, side by side in one run: the page of
//! `engine_gauges_bench::page` (three per-rank families and three scalar gauges, every series
//! carrying the six hierarchy and engine labels) at 1, 64, 512 and 4,096 ranks, rendered by
//!
//! - `ours`: the root's combined scrape of a four-level hierarchy whose endpoint carries
//!   `LifecycleGauges` and `ComponentGauges`;
//! - `gather`: prometheus's `Registry::gather` and `TextEncoder` over plain prometheus families;
//! - `measured`: the `measured` crate's vectors and text encoder;
//! - `prometheus_client`: the `prometheus-client` crate's registry and Prometheus text encoder;
//! - `floor`: a hand-written loop that formats the very bytes of the prometheus page from plain
//!   atomics.
//!
//! Every page is checked against ours before anything is timed: the floor's byte for byte, the
//! others series by series (they spell some floats differently and order series differently).
//! Every implementation but ours renders into a buffer kept across scrapes; ours returns a new
//! `String`, as its API does.
//!
//! Run it with `cargo bench -p engine-gauges-bench --bench scrape` (under a minute). After
//! criterion's report it prints a Markdown summary: each median round, the ratios of ours to
//! each of the others, the time per series, and how the time per series grows from 64 to 4,096
//! ranks. Under `cargo test --benches` every benchmark runs once, untimed.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use engine_gauges_bench::page::{Hierarchy, Plain, series};

#[path = "../src/peers/mod.rs"]
mod peers;

use peers::floor::FloorPage;
use peers::measured::MeasuredPage;
use peers::prometheus_client::ClientPage;

/// The page sizes, in ranks.
const RANKS: [u32; 4] = [1, 64, 512, 4_096];

/// The implementations, in the order they run at each size.
const IMPLS: [&str; 5] = ["ours", "gather", "measured", "prometheus_client", "floor"];

/// One page size, set up by every implementation, and the buffers they render into.
struct Fixture {
    ranks: u32,
    ours: Hierarchy,
    plain: Plain,
    measured: MeasuredPage,
    client: ClientPage,
    floor: FloorPage,
}

impl Fixture {
    fn new(ranks: u32) -> Self {
        Self {
            ranks,
            ours: Hierarchy::new(ranks).expect("the hierarchy registers"),
            plain: Plain::new(ranks).expect("the plain registry registers"),
            measured: MeasuredPage::new(ranks),
            client: ClientPage::new(ranks),
            floor: FloorPage::new(ranks),
        }
    }

    /// Checks every page against ours.
    fn check(&self) {
        let ranks = self.ranks;
        let ours = self.ours.render().expect("combined scrape");
        let mut text = String::new();
        self.plain.render_into(&mut text).expect("plain scrape");
        assert_eq!(text, ours, "gather: the same bytes at {ranks} ranks");
        self.floor.render_into(&mut text).expect("floor");
        assert_eq!(text, ours, "floor: the same bytes at {ranks} ranks");
        self.client
            .render_into(&mut text)
            .expect("prometheus-client");
        peers::check_page(&text, &ours, ranks).unwrap_or_else(|e| panic!("prometheus-client: {e}"));
        let mut bytes = Vec::new();
        self.measured.render_into(&mut bytes).expect("measured");
        let text = std::str::from_utf8(&bytes).expect("measured's page is UTF-8");
        peers::check_page(text, &ours, ranks).unwrap_or_else(|e| panic!("measured: {e}"));
    }

    /// `iters` scrapes by implementation `name`, timed.
    fn scrapes(&self, name: &str, iters: u64) -> Duration {
        let mut text = String::new();
        let mut bytes = Vec::new();
        let start = Instant::now();
        match name {
            "ours" => ours_scrapes(self, iters),
            "gather" => gather_scrapes(self, iters, &mut text),
            "measured" => measured_scrapes(self, iters, &mut bytes),
            "prometheus_client" => client_scrapes(self, iters, &mut text),
            "floor" => floor_scrapes(self, iters, &mut text),
            _ => unreachable!("no implementation `{name}`"),
        }
        start.elapsed()
    }
}

// The measured loops, one never-inlined function each. A page is dropped (ours) or overwritten
// (the others) by the next scrape.

#[inline(never)]
fn ours_scrapes(f: &Fixture, iters: u64) {
    for _ in 0..iters {
        let page = black_box(f).ours.render();
        drop(black_box(page));
    }
}

#[inline(never)]
fn gather_scrapes(f: &Fixture, iters: u64, page: &mut String) {
    for _ in 0..iters {
        black_box(f).plain.render_into(page).expect("plain scrape");
        black_box(&*page);
    }
}

#[inline(never)]
fn measured_scrapes(f: &Fixture, iters: u64, page: &mut Vec<u8>) {
    for _ in 0..iters {
        black_box(f).measured.render_into(page).expect("measured");
        black_box(&*page);
    }
}

#[inline(never)]
fn client_scrapes(f: &Fixture, iters: u64, page: &mut String) {
    for _ in 0..iters {
        black_box(f)
            .client
            .render_into(page)
            .expect("prometheus-client");
        black_box(&*page);
    }
}

#[inline(never)]
fn floor_scrapes(f: &Fixture, iters: u64, page: &mut String) {
    for _ in 0..iters {
        black_box(f).floor.render_into(page).expect("floor");
        black_box(&*page);
    }
}

// ---------------------------------------------------------------------------------------------
// Recording rounds

/// Every measurement round's time per scrape, in ns, by benchmark id.
static ROUNDS: Mutex<BTreeMap<String, Recorded>> = Mutex::new(BTreeMap::new());

#[derive(Default)]
struct Recorded {
    /// How many of the last rounds are measurement rounds (the ones before are warm-up).
    measured: usize,
    rounds: Vec<f64>,
}

fn record(id: &str, measured: usize, iters: u64, elapsed: Duration) -> Duration {
    let mut rounds = ROUNDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = rounds.entry(id.to_owned()).or_default();
    entry.measured = measured;
    entry
        .rounds
        .push(elapsed.as_nanos() as f64 / iters.max(1) as f64);
    elapsed
}

/// The median of a benchmark's measurement rounds, in ns per scrape.
fn median(id: &str) -> Option<f64> {
    let rounds = ROUNDS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let recorded = rounds.get(id)?;
    let from = recorded.rounds.len().checked_sub(recorded.measured)?;
    let mut per_iter = recorded.rounds[from..].to_vec();
    if per_iter.is_empty() {
        return None;
    }
    per_iter.sort_by(f64::total_cmp);
    let n = per_iter.len();
    Some(if n % 2 == 1 {
        per_iter[n / 2]
    } else {
        (per_iter[n / 2 - 1] + per_iter[n / 2]) / 2.0
    })
}

/// Rounds, warm-up and measurement time at `ranks` ranks: fewer, longer rounds for the largest
/// page, whose scrape takes tens of milliseconds.
fn sampling(ranks: u32) -> (usize, Duration, Duration) {
    if ranks >= 4_096 {
        (10, Duration::from_millis(500), Duration::from_secs(3))
    } else {
        (30, Duration::from_millis(300), Duration::from_millis(1_500))
    }
}

/// Benchmarks every implementation at every size. Each size's fixture is set up (and checked)
/// just before its benchmarks and dropped after them, so that the heap holds one size at a time.
fn scrape_peers(c: &mut Criterion, check_largest: bool) {
    let mut g = c.benchmark_group("scrape_peers");
    g.sampling_mode(SamplingMode::Flat);
    for ranks in RANKS {
        let f = Fixture::new(ranks);
        if check_largest || ranks < 4_096 {
            f.check();
        }
        let (rounds, warm_up, measure) = sampling(ranks);
        g.sample_size(rounds)
            .warm_up_time(warm_up)
            .measurement_time(measure)
            .throughput(Throughput::Elements(series(ranks) as u64));
        for name in IMPLS {
            let bench = format!("{name}/{ranks}");
            let id = format!("scrape_peers/{bench}");
            g.bench_function(&bench, |b| {
                b.iter_custom(|iters| record(&id, rounds, iters, f.scrapes(name, iters)));
            });
        }
    }
    g.finish();
}

// ---------------------------------------------------------------------------------------------
// Summary

/// A duration in nanoseconds, as µs from 10 µs up and as ms from 10 ms up.
fn ns(value: f64) -> String {
    if value >= 10_000_000.0 {
        format!("{:.1} ms", value / 1_000_000.0)
    } else if value >= 10_000.0 {
        format!("{:.1} µs", value / 1_000.0)
    } else {
        format!("{value:.0} ns")
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "not run".to_owned(), |r| format!("{r:.2}×"))
}

fn summary() -> String {
    use std::fmt::Write as _;

    let get = |name: &str, ranks: u32| median(&format!("scrape_peers/{name}/{ranks}"));
    let mut out = String::new();
    let _ = writeln!(out, "\n## Summary of this run (median rounds)\n");
    let _ = writeln!(
        out,
        "| ranks | series | {} |",
        IMPLS.map(|n| format!("`{n}`")).join(" | ")
    );
    let _ = writeln!(out, "| ---: | ---: |{}", " ---: |".repeat(IMPLS.len()));
    for ranks in RANKS {
        let cells = IMPLS.map(|name| get(name, ranks).map_or_else(|| "not run".to_owned(), ns));
        let _ = writeln!(
            out,
            "| {ranks} | {} | {} |",
            series(ranks),
            cells.join(" | ")
        );
    }

    let others = &IMPLS[1..];
    let _ = writeln!(
        out,
        "\n| ranks | {} |",
        others
            .iter()
            .map(|n| format!("ours / `{n}`"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(out, "| ---: |{}", " ---: |".repeat(others.len()));
    for ranks in RANKS {
        let ours = get("ours", ranks);
        let cells: Vec<String> = others
            .iter()
            .map(|name| ratio(ours.zip(get(name, ranks)).map(|(o, p)| o / p)))
            .collect();
        let _ = writeln!(out, "| {ranks} | {} |", cells.join(" | "));
    }

    let _ = writeln!(out, "\nTime per series:\n");
    let _ = writeln!(
        out,
        "| ranks | {} |",
        IMPLS.map(|n| format!("`{n}`")).join(" | ")
    );
    let _ = writeln!(out, "| ---: |{}", " ---: |".repeat(IMPLS.len()));
    for ranks in RANKS {
        let per_series = series(ranks) as f64;
        let cells = IMPLS.map(|name| {
            get(name, ranks).map_or_else(|| "not run".to_owned(), |t| ns(t / per_series))
        });
        let _ = writeln!(out, "| {ranks} | {} |", cells.join(" | "));
    }
    let per_series = |name: &str, ranks: u32| get(name, ranks).map(|t| t / series(ranks) as f64);
    let cells = IMPLS.map(|name| {
        ratio(
            per_series(name, 4_096)
                .zip(per_series(name, 64))
                .map(|(large, small)| large / small),
        )
    });
    let _ = writeln!(
        out,
        "| ns per series at 4,096 / at 64 | {} |",
        cells.join(" | ")
    );
    out
}

// ---------------------------------------------------------------------------------------------

/// Whether criterion is timing (`cargo bench`), not testing (`cargo test --benches`), listing or
/// profiling.
fn timing() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--list" || a == "--test" || a.starts_with("--profile-time"))
}

fn main() {
    let timing = timing();
    let mut c = Criterion::default()
        .nresamples(10_000)
        .without_plots()
        .configure_from_args();
    // Untimed, the largest page is rendered once per implementation, unchecked.
    scrape_peers(&mut c, timing);
    c.final_summary();

    if timing {
        println!("{}", summary());
    }
}
