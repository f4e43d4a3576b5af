use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    /// Queue depth.
    depth: Gauge,
    /// Queue depth, again.
    #[gauge(name = "depth")]
    queue_depth: Gauge,
}

fn main() {}
