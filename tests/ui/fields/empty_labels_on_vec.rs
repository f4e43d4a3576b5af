use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Requests waiting.
    #[gauge(labels())]
    waiting: IntGaugeVec,
}

fn main() {}
