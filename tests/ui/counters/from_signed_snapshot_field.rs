use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntCounter;

struct Snapshot {
    requests_served: i64,
}

#[derive(EngineGauges)]
#[gauges(snapshot = Snapshot)]
struct Set {
    /// Requests served.
    #[metric(from = requests_served)]
    requests_total: IntCounter,
}

fn main() {}
