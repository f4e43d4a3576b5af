//! Memory the library asks for, counted by an instrumented global allocator in this test binary
//! alone (one test, so that no other test allocates at the same time).

use std::alloc::System;

use engine_gauges::{EngineConfig, Error};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn an_absurd_data_parallel_size_is_refused_before_anything_is_allocated() {
    let config = EngineConfig {
        data_parallel_size: Some(u32::MAX),
        ..Default::default()
    };
    let region = Region::new(GLOBAL);
    let result = config.dp_ranks();
    let stats = region.change();
    assert!(
        matches!(result, Err(Error::DataParallelSize { size: u32::MAX, .. })),
        "{result:?}"
    );
    assert_eq!(stats.bytes_allocated, 0, "bytes allocated while refusing");

    // The accepted maximum allocates its ranks, and nothing like 16 GB.
    let config = EngineConfig {
        data_parallel_size: Some(engine_gauges::limits::MAX_RANK_SPAN),
        ..Default::default()
    };
    let region = Region::new(GLOBAL);
    let ranks = config.dp_ranks().expect("the widest span is accepted");
    let stats = region.change();
    assert_eq!(ranks.len(), 65_536);
    assert!(
        stats.bytes_allocated <= 65_536 * 4 * 2,
        "{} bytes",
        stats.bytes_allocated
    );
}
