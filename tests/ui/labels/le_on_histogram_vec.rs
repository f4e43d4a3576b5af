use engine_gauges::EngineGauges;
use engine_gauges::prometheus::HistogramVec;

#[derive(EngineGauges)]
struct Set {
    /// Request latency, by bound.
    #[metric(labels("le"), buckets = [0.1, 1.0, 10.0])]
    request_latency_seconds: HistogramVec,
}

fn main() {}
