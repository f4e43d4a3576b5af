use engine_gauges::prometheus::IntGauge;
use engine_gauges::{ComponentSnapshot, EngineGauges};

#[derive(EngineGauges)]
#[gauges(snapshot = ComponentSnapshot)]
struct Set {
    /// KV cache blocks free.
    #[gauge(from = kv_free_blocks)]
    free_blocks: IntGauge,
}

fn main() {}
