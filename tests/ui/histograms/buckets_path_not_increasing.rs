use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

const LATENCY_BUCKETS: [f64; 4] = [0.1, 1.0, 0.5, 10.0];

#[derive(EngineGauges)]
struct Set {
    /// End-to-end request latency.
    #[metric(buckets = LATENCY_BUCKETS)]
    request_latency_seconds: Histogram,
}

fn main() {}
