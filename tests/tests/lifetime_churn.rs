//! Level churn: endpoints created and dropped under one component, with no scrape in between,
//! measured by an instrumented global allocator in this test binary alone (one test, so that no
//! other test allocates at the same time). RELIABILITY.md records the figures.

use std::alloc::System;
use std::sync::Arc;

use engine_gauges::prometheus::{IntCounter, IntGauge};
use engine_gauges::{
    EngineConfig, EngineGauges, EngineMetrics, Family, LabelValue, MetricsRoot, PerRank,
    reference::ComponentGauges,
};
use engine_gauges_tests::fixture;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const CYCLES: u32 = 100_000;

/// Retained heap allowed after the churn, in all: a few hash-map and vector capacities, nothing
/// per cycle.
const RETAINED_BOUND: i64 = 16 * 1024;

#[derive(Clone, Copy, LabelValue)]
enum Reason {
    Stop,
    Length,
}

/// A set of store fields only: it leaves its level with its owner.
#[derive(EngineGauges)]
struct Requests {
    /// Requests by rank and reason.
    #[metric(labels("reason"))]
    requests_total: PerRank<Family<Reason, IntCounter>>,
    /// Queue depth by rank.
    queue_depth: PerRank<IntGauge>,
}

#[test]
fn level_churn_leaves_the_page_unchanged_and_memory_bounded() {
    let root = MetricsRoot::new();
    let component = fixture::backend_component(&root);
    let before = component
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    let debug_before = format!("{:?}", component.registry());

    let region = Region::new(GLOBAL);
    for i in 0..CYCLES {
        // Every name new, as workers that come and go would give.
        let endpoint = component.endpoint(&format!("generate_{i}")).unwrap();
        match i % 3 {
            1 => {
                // A bridged callback pins its level: it goes only when removed explicitly.
                endpoint
                    .registry()
                    .add_expfmt_callback(Arc::new(|| Ok("foreign_up 1\n".to_owned())));
                endpoint.clone().remove();
                drop(endpoint);
            }
            2 => {
                // Gauge sets of store fields hold their level while they live, and leave with it.
                let config = EngineConfig {
                    model: format!("model_{i}"),
                    data_parallel_size: Some(2),
                    ..Default::default()
                };
                let metrics = EngineMetrics::with_engine_config(endpoint, &config);
                let ranks = config.dp_ranks().unwrap();
                let kv = ComponentGauges::new(&metrics, &ranks).unwrap();
                let requests = Requests::register(&metrics, &ranks).unwrap();
                kv.total_blocks.rank(1).set(4096);
                requests.requests_total.rank(0).with(Reason::Length).inc();
                requests.requests_total.rank(1).with(Reason::Stop).inc();
                requests.queue_depth.rank(1).set(3);
            }
            _ => drop(endpoint),
        }
    }
    let stats = region.change();
    let retained = stats.bytes_allocated as i64 - stats.bytes_deallocated as i64;
    eprintln!(
        "{CYCLES} cycles: {} allocations, {} bytes retained ({} per cycle)",
        stats.allocations,
        retained,
        retained / i64::from(CYCLES)
    );

    let after = component
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    assert_eq!(after, before);
    assert_eq!(format!("{:?}", component.registry()), debug_before);
    assert!(
        retained <= RETAINED_BOUND,
        "{retained} bytes retained after {CYCLES} cycles of level churn"
    );
}
