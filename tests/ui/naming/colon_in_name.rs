use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGauge;

#[derive(EngineGauges)]
struct Set {
    /// Requests waiting.
    #[metric(name = "scheduler:waiting_requests")]
    waiting: IntGauge,
}

fn main() {}
