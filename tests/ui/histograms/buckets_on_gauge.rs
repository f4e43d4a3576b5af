use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    /// Cache usage.
    #[metric(buckets = [0.5, 0.9])]
    kv_usage_ratio: Gauge,
}

fn main() {}
