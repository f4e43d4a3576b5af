use engine_gauges::prometheus::{Counter, Histogram, IntCounter};
use engine_gauges::{EngineGauges, EngineMetrics, testing::TestHierarchy};

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    requests_total: IntCounter,
    /// Seconds spent in prefill.
    prefill_seconds_total: Counter,
    /// End-to-end request latency.
    #[metric(buckets = [0.1, 0.5, 1.0, 5.0])]
    request_latency_seconds: Histogram,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[])?;
    set.requests_total.inc();
    set.prefill_seconds_total.inc_by(0.25);
    set.request_latency_seconds.observe(0.3);

    let page = metrics.registry().prometheus_expfmt_combined()?;
    assert!(page.contains("# TYPE dynamo_component_requests_total counter\n"), "{page}");
    assert!(page.contains("dynamo_component_requests_total 1\n"), "{page}");
    assert!(page.contains("dynamo_component_prefill_seconds_total 0.25\n"), "{page}");
    assert!(page.contains("# TYPE dynamo_component_request_latency_seconds histogram\n"), "{page}");
    assert!(page.contains("dynamo_component_request_latency_seconds_bucket{le=\"0.5\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_request_latency_seconds_count 1\n"), "{page}");
    Ok(())
}
