use engine_gauges::EngineGauges;

#[derive(EngineGauges)]
struct Set;

fn main() {}
