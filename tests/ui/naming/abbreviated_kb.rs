use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGauge;

#[derive(EngineGauges)]
struct Set {
    /// Free KV cache memory.
    #[metric(name = "kv_free_kb")]
    kv_free: IntGauge,
}

fn main() {}
