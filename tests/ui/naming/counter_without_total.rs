use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntCounter;

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    requests_served: IntCounter,
}

fn main() {}
