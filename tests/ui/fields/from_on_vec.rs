use engine_gauges::prometheus::IntGaugeVec;
use engine_gauges::{ComponentSnapshot, EngineGauges};

#[derive(EngineGauges)]
#[gauges(snapshot = ComponentSnapshot)]
struct Set {
    /// KV cache blocks in all, by adapter.
    #[gauge(labels("lora_adapter"), from = kv_total_blocks)]
    total_blocks: IntGaugeVec,
}

fn main() {}
