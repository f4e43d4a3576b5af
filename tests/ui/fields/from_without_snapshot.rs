use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGauge;

#[derive(EngineGauges)]
struct Set {
    /// KV cache blocks in all.
    #[gauge(from = kv_total_blocks)]
    total_blocks: IntGauge,
}

fn main() {}
