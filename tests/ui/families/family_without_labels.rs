use engine_gauges::prometheus::IntCounter;
use engine_gauges::{EngineGauges, Family, LabelValue};

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    Length,
}

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by reason.
    finished_total: Family<FinishReason, IntCounter>,
}

fn main() {}
