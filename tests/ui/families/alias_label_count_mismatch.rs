use engine_gauges::prometheus::IntCounter;
use engine_gauges::{EngineGauges, Family, LabelValue};

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    Length,
}

#[derive(LabelValue)]
enum Phase {
    Prefill,
    Decode,
}

type Outcome = (FinishReason, Phase);

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by reason and phase.
    #[metric(labels("finish_reason"))]
    finished_total: Family<Outcome, IntCounter>,
}

fn main() {}
