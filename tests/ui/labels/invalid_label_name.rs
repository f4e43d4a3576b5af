use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Queue depth, by adapter.
    #[gauge(labels("lora-adapter"))]
    depth: GaugeVec,
}

fn main() {}
