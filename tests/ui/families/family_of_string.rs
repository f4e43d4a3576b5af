use engine_gauges::prometheus::IntCounter;
use engine_gauges::{EngineGauges, Family};

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by reason.
    #[metric(labels("finish_reason"))]
    finished_total: Family<String, IntCounter>,
}

fn main() {}
