use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    /// Prefix cache hit rate.
    #[gauge(unseeded)]
    hit_rate: Gauge,
}

fn main() {}
