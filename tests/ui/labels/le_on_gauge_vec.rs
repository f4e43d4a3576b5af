use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Requests waiting, by bound.
    #[metric(labels("le"))]
    waiting_requests: GaugeVec,
}

fn main() {}
