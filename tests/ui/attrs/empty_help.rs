use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
struct Set {
    #[gauge(help = " ")]
    depth: Gauge,
}

fn main() {}
