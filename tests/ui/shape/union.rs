use engine_gauges::EngineGauges;

#[derive(EngineGauges)]
union Set {
    depth: u64,
}

fn main() {}
