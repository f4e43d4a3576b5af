use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

struct Snapshot {
    last_latency_seconds: f64,
}

#[derive(EngineGauges)]
#[gauges(snapshot = Snapshot)]
struct Set {
    /// End-to-end request latency.
    #[metric(from = last_latency_seconds, buckets = [0.1, 1.0, 10.0])]
    request_latency_seconds: Histogram,
}

fn main() {}
