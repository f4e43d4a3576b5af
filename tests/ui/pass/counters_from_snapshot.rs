use engine_gauges::prometheus::{Counter, IntCounter};
use engine_gauges::{EngineGauges, EngineMetrics, PerRank, testing::TestHierarchy};

/// What the engine reports: cumulative totals since it started.
#[derive(Default)]
struct EngineStats {
    dp_rank: u32,
    requests_served: u64,
    tokens_generated: Option<u64>,
    busy_seconds: f64,
}

#[derive(EngineGauges)]
#[gauges(snapshot = EngineStats)]
struct Set {
    /// Requests served.
    #[metric(from = requests_served)]
    requests_total: IntCounter,
    /// Tokens generated, by rank.
    #[metric(from = tokens_generated)]
    generated_tokens_total: PerRank<IntCounter>,
    /// Seconds the engine was busy.
    #[metric(from = busy_seconds)]
    busy_seconds_total: Counter,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[0, 1])?;
    set.update(&EngineStats {
        dp_rank: 1,
        requests_served: 5,
        tokens_generated: Some(120),
        busy_seconds: 1.5,
    });
    set.update(&EngineStats {
        dp_rank: 1,
        requests_served: 7,
        tokens_generated: None,
        busy_seconds: 2.0,
    });
    assert_eq!(set.requests_total.get(), 7);
    assert_eq!(set.generated_tokens_total.rank(1).get(), 120);
    assert_eq!(set.generated_tokens_total.rank(0).get(), 0);
    assert_eq!(set.busy_seconds_total.get(), 2.0);

    // A lower total means the engine restarted: the counter restarts from it.
    set.update(&EngineStats {
        requests_served: 2,
        ..EngineStats::default()
    });
    assert_eq!(set.requests_total.get(), 2);
    Ok(())
}
