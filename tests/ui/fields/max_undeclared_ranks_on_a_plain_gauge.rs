use engine_gauges::prometheus::IntGauge;
use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
struct Set {
    /// Queue depth.
    #[metric(max_undeclared_ranks = 8)]
    depth: IntGauge,
    /// Blocks by rank.
    #[metric(max_undeclared_ranks = -1)]
    blocks: PerRank<IntGauge>,
}

fn main() {}
