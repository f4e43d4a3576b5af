use engine_gauges::prometheus::{CounterVec, HistogramVec, IntCounterVec};
use engine_gauges::{EngineGauges, EngineMetrics, testing::TestHierarchy};

#[derive(EngineGauges)]
struct Set {
    /// Requests served, by adapter.
    #[metric(labels("lora_adapter"))]
    requests_total: IntCounterVec,
    /// Seconds spent decoding, by adapter.
    #[metric(labels("lora_adapter"))]
    decode_seconds_total: CounterVec,
    /// Time to first token, by adapter.
    #[metric(labels("lora_adapter"), buckets = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS)]
    time_to_first_token_seconds: HistogramVec,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[])?;
    set.requests_total.with_label_values(&["base"]).inc();
    set.decode_seconds_total.with_label_values(&["base"]).inc_by(1.5);
    set.time_to_first_token_seconds.with_label_values(&["base"]).observe(0.03);

    let page = metrics.registry().prometheus_expfmt_combined()?;
    assert!(page.contains("dynamo_component_requests_total{lora_adapter=\"base\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_decode_seconds_total{lora_adapter=\"base\"} 1.5\n"), "{page}");
    assert!(
        page.contains(
            "dynamo_component_time_to_first_token_seconds_bucket{lora_adapter=\"base\",le=\"2560\"} 1\n"
        ),
        "{page}"
    );
    Ok(())
}
