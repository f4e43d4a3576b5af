use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    /// Time to first token.
    #[gauge(unit = "seconds")]
    first_token: Gauge,
}

fn main() {}
