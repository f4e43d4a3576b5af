use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Queue depth.
    #[gauge(labels("__queue"))]
    depth: GaugeVec,
}

fn main() {}
