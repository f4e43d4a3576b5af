use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauges(prefix = "vllm")]
struct Set {
    /// Queue depth.
    #[gauge(name = "queue_depth")]
    depth: Gauge,
}

fn main() {
    assert_eq!(Set::DESCRIPTORS[0].name, "vllm_queue_depth");
}
