use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
#[gauges(prefix = "")]
struct Set {
    /// Time to first token.
    #[gauge(name = "1st_token_seconds")]
    first_token_seconds: Gauge,
}

fn main() {}
