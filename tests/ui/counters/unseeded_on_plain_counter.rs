use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntCounter;

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    #[metric(unseeded)]
    requests_total: IntCounter,
}

fn main() {}
