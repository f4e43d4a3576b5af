use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
#[gauges(const_labels(engine = "vllm"))]
struct Set {
    /// Queue depth, by engine.
    #[gauge(labels("engine"))]
    depth: GaugeVec,
}

fn main() {}
