#[derive(engine_gauges::EngineGauges)]
struct Set {
    /// Queue depth.
    depth: ::engine_gauges::prometheus::Gauge,
    /// KV cache blocks in all.
    total_blocks: engine_gauges::PerRank<engine_gauges::prometheus::IntGauge>,
    /// Requests waiting, by adapter.
    #[gauge(labels("lora_adapter"))]
    waiting: engine_gauges::prometheus::IntGaugeVec,
}

fn main() {}
