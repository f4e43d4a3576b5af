use engine_gauges::prometheus::IntCounterVec;
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    requests_total: PerRank<IntCounterVec>,
}

fn main() {}
