use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauges(prefix = "vllm")]
#[gauges(prefix = "sglang")]
struct Set {
    #[gauge(help = "Queue depth.", help = "Requests queued.")]
    depth: Gauge,
}

fn main() {}
