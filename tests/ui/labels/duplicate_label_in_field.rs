use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Queue depth, by adapter.
    #[gauge(labels("lora_adapter", "lora_adapter"))]
    depth: GaugeVec,
}

fn main() {}
