use engine_gauges::EngineGauges;

#[derive(EngineGauges)]
enum Set {
    Depth,
}

fn main() {}
