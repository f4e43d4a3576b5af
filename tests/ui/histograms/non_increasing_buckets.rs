use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

#[derive(EngineGauges)]
struct Set {
    /// End-to-end request latency.
    #[metric(buckets = [0.1, 0.5, 0.5, 2.0])]
    request_latency_seconds: Histogram,
}

fn main() {}
