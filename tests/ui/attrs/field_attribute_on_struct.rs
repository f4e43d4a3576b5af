use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauge(prefix = "vllm")]
struct Set {
    /// Queue depth.
    #[gauges(name = "queue_depth")]
    depth: Gauge,
}

fn main() {}
