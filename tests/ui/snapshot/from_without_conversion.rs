use engine_gauges::EngineGauges;
use engine_gauges::prometheus::{Gauge, IntGauge};

struct Snapshot {
    usage: f32,
    engine: String,
}

#[derive(EngineGauges)]
#[gauges(snapshot = Snapshot)]
struct Set {
    /// Cache usage.
    #[gauge(from = usage)]
    usage: IntGauge,
    /// The engine.
    #[gauge(from = engine)]
    engine: Gauge,
}

fn main() {}
