use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauges(const_labels(engine = "vllm", engine = "sglang"))]
struct Set {
    /// Queue depth.
    depth: Gauge,
}

fn main() {}
