use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauges(namespace = "dynamo")]
struct Set {
    /// Queue depth.
    depth: Gauge,
}

fn main() {}
