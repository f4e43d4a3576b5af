//! Heap use of the scrape benchmark's page (`engine_gauges_bench::page`), by every implementation
//! of `benches/scrape.rs`, counted by a counting global allocator (`stats_alloc`):
//!
//! - **retained heap per series**: the bytes still allocated after the page is set up with N
//!   ranks written, minus the same with no rank, divided by the 3 × N series the ranks add;
//! - **allocations per scrape**: the allocations (and bytes allocated) of the 2nd to the 10th
//!   scrape, divided by 9; every implementation but ours renders into a buffer kept across
//!   scrapes, ours returns a new `String`, as its API does.
//!
//! Allocations on every thread are counted, so the thread that renders our scrape is included.
//! Before measuring, each implementation sets up and scrapes a small page once, so that lazily
//! initialised state (thread pools, thread locals) is not counted, and every count is read once no
//! thread has allocated or freed anything for 60 ms (a dropped hierarchy returns part of its
//! memory from another thread, shortly after the drop).
//!
//! Run it with `cargo bench -p engine-gauges-bench --bench alloc` (a few seconds; 64 and 4,096
//! ranks). It prints a Markdown table. Under `cargo test --benches` it measures 64 ranks only.

use std::alloc::System;
use std::hint::black_box;

use engine_gauges_bench::page::{Hierarchy, Plain, series};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, Stats, StatsAlloc};

#[path = "../src/peers/mod.rs"]
mod peers;

use peers::floor::FloorPage;
use peers::measured::MeasuredPage;
use peers::prometheus_client::ClientPage;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// The bytes a region left allocated.
fn net(stats: Stats) -> i128 {
    stats.bytes_allocated as i128 - stats.bytes_deallocated as i128
}

/// Waits until no thread has allocated or freed anything for a while (at most two seconds): a
/// dropped hierarchy returns part of its memory from another thread, shortly after the drop.
fn settle() {
    let mut last = GLOBAL.stats();
    let mut quiet = 0;
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let now = GLOBAL.stats();
        quiet = if now == last { quiet + 1 } else { 0 };
        if quiet == 3 {
            return;
        }
        last = now;
    }
}

/// The scrapes after the first whose allocations are counted.
const STEADY_SCRAPES: usize = 9;

/// What one implementation costs at one size.
struct Measured {
    retained_per_series: f64,
    allocations_per_scrape: f64,
    bytes_per_scrape: f64,
    page_bytes: usize,
}

/// Measures one implementation at `ranks` ranks: `build` sets the page up, `scrape` renders it
/// into the buffer and returns the page's length.
fn measure<T, B: Default>(
    ranks: u32,
    build: impl Fn(u32) -> T,
    scrape: impl Fn(&T, &mut B) -> usize,
) -> Measured {
    // Anything initialised once per process, not per page.
    {
        let warm = build(1);
        let mut buffer = B::default();
        scrape(&warm, &mut buffer);
    }
    settle();

    let region = Region::new(GLOBAL);
    let empty = black_box(build(0));
    settle();
    let without_ranks = net(region.change());
    let region = Region::new(GLOBAL);
    let page = black_box(build(ranks));
    settle();
    let with_ranks = net(region.change());
    drop(empty);
    settle();
    let added_series = 3.0 * f64::from(ranks);
    let retained_per_series = (with_ranks - without_ranks) as f64 / added_series;

    let mut buffer = B::default();
    let mut page_bytes = scrape(&page, &mut buffer);
    let region = Region::new(GLOBAL);
    for _ in 0..STEADY_SCRAPES {
        page_bytes = black_box(scrape(&page, &mut buffer));
    }
    let steady = region.change();
    drop(page);
    settle();
    Measured {
        retained_per_series,
        allocations_per_scrape: steady.allocations as f64 / STEADY_SCRAPES as f64,
        bytes_per_scrape: steady.bytes_allocated as f64 / STEADY_SCRAPES as f64,
        page_bytes,
    }
}

fn ours(ranks: u32) -> Measured {
    measure(
        ranks,
        |ranks| Hierarchy::new(ranks).expect("the hierarchy registers"),
        |page, _: &mut ()| page.render().expect("combined scrape").len(),
    )
}

fn gather(ranks: u32) -> Measured {
    measure(
        ranks,
        |ranks| Plain::new(ranks).expect("the plain registry registers"),
        |page, out: &mut String| {
            page.render_into(out).expect("plain scrape");
            out.len()
        },
    )
}

fn measured(ranks: u32) -> Measured {
    measure(ranks, MeasuredPage::new, |page, out: &mut Vec<u8>| {
        page.render_into(out).expect("measured");
        out.len()
    })
}

fn prometheus_client(ranks: u32) -> Measured {
    measure(ranks, ClientPage::new, |page, out: &mut String| {
        page.render_into(out).expect("prometheus-client");
        out.len()
    })
}

fn floor(ranks: u32) -> Measured {
    measure(ranks, FloorPage::new, |page, out: &mut String| {
        page.render_into(out).expect("floor");
        out.len()
    })
}

/// Measures one implementation at a number of ranks.
type Run = fn(u32) -> Measured;

/// The implementations, in the order of `benches/scrape.rs`.
const IMPLS: [(&str, Run); 5] = [
    ("ours", ours),
    ("gather", gather),
    ("measured", measured),
    ("prometheus_client", prometheus_client),
    ("floor", floor),
];

/// Whether this is `cargo bench`, not `cargo test --benches`.
fn timing() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--test" || a == "--list")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // Every page is the combined scrape's, series by series, before anything is counted.
    let ours_page = Hierarchy::new(8)
        .and_then(|h| h.render())
        .expect("combined scrape");
    let mut text = String::new();
    ClientPage::new(8)
        .render_into(&mut text)
        .expect("prometheus-client");
    peers::check_page(&text, &ours_page, 8).expect("prometheus-client's page");
    FloorPage::new(8).render_into(&mut text).expect("floor");
    assert_eq!(text, ours_page, "the floor's page");
    let mut bytes = Vec::new();
    MeasuredPage::new(8)
        .render_into(&mut bytes)
        .expect("measured");
    let measured_page = std::str::from_utf8(&bytes).expect("UTF-8");
    peers::check_page(measured_page, &ours_page, 8).expect("measured's page");

    let sizes: &[u32] = if timing() { &[64, 4_096] } else { &[64] };
    println!("\n## Heap use of the page\n");
    println!(
        "| implementation | ranks | series | retained bytes per series | allocations per scrape \
         | allocations per series and scrape | bytes allocated per scrape | page bytes | \
         allocated / page |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for &ranks in sizes {
        for (name, run) in IMPLS {
            let m = run(ranks);
            assert!(m.retained_per_series > 0.0, "{name}: nothing retained");
            println!(
                "| `{name}` | {ranks} | {} | {:.0} | {:.1} | {:.3} | {:.0} | {} | {:.2}× |",
                series(ranks),
                m.retained_per_series,
                m.allocations_per_scrape,
                m.allocations_per_scrape / series(ranks) as f64,
                m.bytes_per_scrape,
                m.page_bytes,
                m.bytes_per_scrape / m.page_bytes as f64,
            );
        }
    }
}
