use engine_gauges::prometheus::{IntGauge, IntGaugeVec};
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
#[gauges(const_labels(dp_rank = "0"))]
struct Set {
    /// KV cache blocks in all.
    total_blocks: PerRank<IntGauge>,
    /// Requests waiting, by rank.
    #[gauge(labels("dp_rank"))]
    waiting: IntGaugeVec,
}

fn main() {}
