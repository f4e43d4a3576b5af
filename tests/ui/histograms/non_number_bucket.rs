use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

const ONE: f64 = 1.0;

#[derive(EngineGauges)]
struct Set {
    /// End-to-end request latency.
    #[metric(buckets = [0.1, ONE, 10.0])]
    request_latency_seconds: Histogram,
}

fn main() {}
