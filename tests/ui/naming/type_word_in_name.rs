use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    /// Cache usage.
    kv_usage_gauge: Gauge,
}

fn main() {}
