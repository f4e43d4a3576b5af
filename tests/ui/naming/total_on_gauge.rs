use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGauge;

#[derive(EngineGauges)]
struct Set {
    /// Requests running.
    #[metric(name = "running_requests_total")]
    running_requests: IntGauge,
}

fn main() {}
