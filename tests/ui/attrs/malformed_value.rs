use engine_gauges::prometheus::{Gauge, GaugeVec, IntGauge};
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
#[gauges(prefix = vllm, const_labels(engine = 1))]
struct Set {
    #[gauge(help = 1)]
    depth: Gauge,
    /// Requests waiting.
    #[gauge(labels = "lora_adapter")]
    waiting: GaugeVec,
    /// KV cache blocks in all.
    #[gauge(unseeded = true)]
    total_blocks: PerRank<IntGauge>,
}

fn main() {}
