use engine_gauges::prometheus::{Counter, Histogram, IntCounter};
use engine_gauges::{EngineGauges, EngineMetrics, PerRank, testing::TestHierarchy};

#[derive(EngineGauges)]
struct Set {
    /// Requests served, by rank.
    requests_total: PerRank<IntCounter>,
    /// Seconds spent in prefill, by rank.
    prefill_seconds_total: PerRank<Counter>,
    /// Inter-token latency, by rank.
    #[metric(buckets = engine_gauges::buckets::TOKEN_LATENCY_SECONDS)]
    inter_token_latency_seconds: PerRank<Histogram>,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[0, 1])?;
    set.requests_total.rank(0).inc();
    set.prefill_seconds_total.rank(1).inc_by(0.5);
    set.inter_token_latency_seconds.rank(0).observe(0.02);
    assert_eq!(set.requests_total.rank(0).get(), 1);
    assert_eq!(set.inter_token_latency_seconds.rank(0).sample_count(), 1);

    let page = metrics.registry().prometheus_expfmt_combined()?;
    // Declared ranks render from registration, written or not.
    assert!(page.contains("dynamo_component_requests_total{dp_rank=\"0\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_requests_total{dp_rank=\"1\"} 0\n"), "{page}");
    assert!(page.contains("dynamo_component_prefill_seconds_total{dp_rank=\"1\"} 0.5\n"), "{page}");
    assert!(page.contains("dynamo_component_inter_token_latency_seconds_count{dp_rank=\"0\"} 1\n"), "{page}");
    Ok(())
}
