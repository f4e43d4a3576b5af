use engine_gauges::prometheus::Counter;
use engine_gauges::{EngineGauges, Family, LabelValue, PerRank};

#[derive(LabelValue)]
enum Phase {
    Prefill,
    Decode,
}

#[derive(EngineGauges)]
struct Set {
    /// Seconds spent, by rank and phase.
    #[metric(labels("dp_rank", "phase"))]
    busy_seconds_total: PerRank<Family<Phase, Counter>>,
}

fn main() {}
