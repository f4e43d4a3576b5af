use engine_gauges::prometheus::{Histogram, HistogramVec};
use engine_gauges::{EngineGauges, EngineMetrics, PerRank, testing::TestHierarchy};

const QUEUE_BUCKETS: [f64; 4] = [0.01, 0.1, 1.0, 10.0];
static PREFILL_BUCKETS: &[f64] = &[0.05, 0.5, 5.0];

mod buckets {
    pub const DECODE: &[f64] = &[0.001, 0.01];
}

#[derive(EngineGauges)]
struct Set {
    /// Time spent queued.
    #[metric(buckets = QUEUE_BUCKETS)]
    queue_time_seconds: Histogram,
    /// Time spent in prefill, by adapter.
    #[metric(labels("lora_adapter"), buckets = PREFILL_BUCKETS)]
    prefill_time_seconds: HistogramVec,
    /// Time per decode step, by rank.
    #[metric(buckets = self::buckets::DECODE)]
    decode_step_seconds: PerRank<Histogram>,
    /// End-to-end request latency.
    #[metric(buckets = engine_gauges::buckets::REQUEST_LATENCY_SECONDS)]
    request_latency_seconds: Histogram,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[0])?;
    set.queue_time_seconds.observe(0.05);
    set.prefill_time_seconds.with_label_values(&["base"]).observe(0.2);
    set.decode_step_seconds.rank(0).observe(0.005);
    set.request_latency_seconds.observe(1.2);

    let page = metrics.registry().prometheus_expfmt_combined()?;
    assert!(page.contains("dynamo_component_queue_time_seconds_bucket{le=\"0.1\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_queue_time_seconds_bucket{le=\"10\"} 1\n"), "{page}");
    assert!(
        page.contains("dynamo_component_prefill_time_seconds_bucket{lora_adapter=\"base\",le=\"0.5\"} 1\n"),
        "{page}"
    );
    assert!(page.contains("dynamo_component_decode_step_seconds_bucket{dp_rank=\"0\",le=\"0.01\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_request_latency_seconds_bucket{le=\"7680\"} 1\n"), "{page}");
    let d = Set::DESCRIPTORS;
    assert_eq!(d[0].buckets, QUEUE_BUCKETS);
    assert_eq!(d[1].buckets, PREFILL_BUCKETS);
    assert_eq!(d[3].buckets, engine_gauges::buckets::REQUEST_LATENCY_SECONDS);
    Ok(())
}
