use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Requests waiting.
    waiting: IntGaugeVec,
}

fn main() {}
