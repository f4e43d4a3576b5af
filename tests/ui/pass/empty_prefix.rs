use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauges(prefix = "")]
struct Set {
    /// Queue depth.
    depth: Gauge,
}

fn main() {
    assert_eq!(Set::DESCRIPTORS[0].name, "depth");
}
