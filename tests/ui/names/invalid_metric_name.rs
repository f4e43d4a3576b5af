use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    /// Queue depth.
    #[gauge(name = "queue-depth")]
    depth: Gauge,
}

fn main() {}
