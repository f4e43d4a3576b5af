//! The hot paths at a fixed number of iterations, for counting instructions, which unlike times
//! are stable on a noisy machine. It times nothing: run it under an instruction profiler.
//!
//! ```text
//! cargo bench -p engine-gauges-bench --no-run
//! valgrind --tool=callgrind --callgrind-out-file=callgrind.out \
//!     "$(ls target/release/deps/instructions-* | grep -v '\.d$')"
//! callgrind_annotate --inclusive=yes --tree=calling callgrind.out \
//!     | grep -E 'loops::|_updates|scrapes_'
//! ```
//!
//! Each write and update loop of `engine_gauges_bench::loops` (the gauge writes, and the counter,
//! typed family and histogram writes of `KIND_WRITES`) runs [`ITERATIONS`] iterations per
//! call, each scrape loop [`SCRAPES`]; a loop's inclusive count divided by its iterations is the
//! instructions one iteration costs, harness included (the harness is the same in every gauge
//! write loop, three `black_box`ed inputs and the loop counter, and the same within each group of
//! `KIND_WRITES`). Loops run more than once appear under
//! the caller that names the case: `declared_updates` and `undeclared_updates` for the update of
//! a declared and an undeclared rank, `scrapes_1`, `scrapes_64` and `scrapes_512` for the
//! scrape sizes.

use engine_gauges_bench::loops::{
    F64_WRITES, I64_WRITES, KIND_WRITES, combined_scrapes, derive_updates, plain_scrapes,
    reference_updates,
};
use engine_gauges_bench::{Kinds, RANK, Scrape, UNDECLARED, Updates, Writes, snapshot};

/// Iterations of every write and update loop.
const ITERATIONS: u64 = 100_000;
/// Iterations of every scrape loop.
const SCRAPES: u64 = 20;

/// Both updates of a declared rank, under a name of their own.
#[inline(never)]
fn declared_updates(updates: &Updates) {
    let snap = snapshot(RANK);
    derive_updates(updates, &snap, ITERATIONS);
    reference_updates(updates, &snap, ITERATIONS);
}

/// Both updates of an undeclared rank, under a name of their own.
#[inline(never)]
fn undeclared_updates(updates: &Updates) {
    let snap = snapshot(UNDECLARED);
    derive_updates(updates, &snap, ITERATIONS);
    reference_updates(updates, &snap, ITERATIONS);
}

/// Scrapes at 1 rank: the fixed cost.
#[inline(never)]
fn scrapes_1() {
    let scrape = Scrape::new(1).expect("the scrape fixture registers");
    combined_scrapes(&scrape, SCRAPES);
    plain_scrapes(&scrape, SCRAPES);
}

/// Scrapes at 64 ranks: with 512 ranks, the cost per series.
#[inline(never)]
fn scrapes_64() {
    let scrape = Scrape::new(64).expect("the scrape fixture registers");
    combined_scrapes(&scrape, SCRAPES);
    plain_scrapes(&scrape, SCRAPES);
}

/// Scrapes at 512 ranks: with 64 ranks, the cost per series.
#[inline(never)]
fn scrapes_512() {
    let scrape = Scrape::new(512).expect("the scrape fixture registers");
    combined_scrapes(&scrape, SCRAPES);
    plain_scrapes(&scrape, SCRAPES);
}

fn main() {
    let writes = Writes::new().expect("the write fixture registers");
    let updates = Updates::new().expect("the update fixture registers");
    let kinds = Kinds::new().expect("the fixture of the other kinds registers");
    for (_, run) in I64_WRITES.iter().chain(&F64_WRITES) {
        run(&writes, ITERATIONS);
    }
    for (_, loops) in KIND_WRITES {
        for (_, run) in loops {
            run(&kinds, ITERATIONS);
        }
    }
    declared_updates(&updates);
    undeclared_updates(&updates);
    scrapes_1();
    scrapes_64();
    scrapes_512();
    println!(
        "ran every write and update loop {ITERATIONS} times and every scrape loop {SCRAPES} \
         times; under an instruction profiler, divide each loop's inclusive count by that"
    );
}
