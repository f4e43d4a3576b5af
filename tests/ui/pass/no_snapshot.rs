use engine_gauges::prometheus::{Gauge, IntGauge, IntGaugeVec};
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
struct Set {
    /// Queue depth.
    depth: Gauge,
    /// KV cache blocks in all.
    #[gauge(unseeded)]
    total_blocks: PerRank<IntGauge>,
    /// Requests waiting, by adapter.
    #[gauge(labels("lora_adapter"))]
    waiting: IntGaugeVec,
}

fn main() {
    assert_eq!(Set::DESCRIPTORS.len(), 3);
}
