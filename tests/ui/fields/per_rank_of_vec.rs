use engine_gauges::prometheus::GaugeVec;
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
struct Set {
    /// Requests waiting.
    waiting: PerRank<GaugeVec>,
}

fn main() {}
