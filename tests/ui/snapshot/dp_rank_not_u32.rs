use engine_gauges::prometheus::IntGauge;
use engine_gauges::{EngineGauges, PerRank};

struct Snapshot {
    total_blocks: u64,
    dp_rank: u64,
}

#[derive(EngineGauges)]
#[gauges(snapshot = Snapshot)]
struct Set {
    /// KV cache blocks in all.
    #[gauge(from = total_blocks)]
    total_blocks: PerRank<IntGauge>,
}

fn main() {}
