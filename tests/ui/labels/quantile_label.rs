use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Request latency, by quantile.
    #[gauge(labels("quantile"))]
    latency_seconds: GaugeVec,
}

fn main() {}
