use engine_gauges::EngineGauges;
use engine_gauges::prometheus::{Gauge, IntGauge};

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    requests_total: IntGauge,
    /// Requests observed.
    latency_count: IntGauge,
    /// Summed latency.
    latency_sum: Gauge,
    /// Latency bucket.
    #[gauge(name = "latency_bucket")]
    bucket: Gauge,
}

fn main() {}
