use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

#[derive(EngineGauges)]
struct Set {
    /// End-to-end request latency.
    #[metric(buckets = [])]
    request_latency_seconds: Histogram,
}

fn main() {}
