use engine_gauges::prometheus::{Gauge, IntGauge};
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
struct Set {
    /// Queue depth.
    #[gauge(labels("worker_id"))]
    depth: Gauge,
    /// KV cache blocks in all.
    #[gauge(labels("dp_rank"))]
    total_blocks: PerRank<IntGauge>,
}

fn main() {}
