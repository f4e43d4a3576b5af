use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Counter;

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    served: Counter,
    /// Queue depth.
    depth: u64,
}

fn main() {}
