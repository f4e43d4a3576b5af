use engine_gauges::{EngineGauges, PerRank};

#[derive(EngineGauges)]
struct Set {
    /// The engine's state.
    state: PerRank<String>,
}

fn main() {}
