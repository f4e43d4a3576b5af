use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntCounterVec;

#[derive(EngineGauges)]
struct Set {
    /// Requests served, by adapter.
    #[metric(labels("loraAdapter"))]
    requests_total: IntCounterVec,
}

fn main() {}
