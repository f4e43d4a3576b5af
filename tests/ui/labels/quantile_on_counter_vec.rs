use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntCounterVec;

#[derive(EngineGauges)]
struct Set {
    /// Requests served, by quantile.
    #[metric(labels("adapter", "quantile"))]
    requests_total: IntCounterVec,
}

fn main() {}
