use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set<const N: usize> {
    /// Queue depth.
    depth: Gauge,
}

fn main() {
    let _ = Set::<1>::register;
}
