use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Requests waiting, by rank (a set without per-rank fields may use `dp_rank`).
    #[gauge(labels("dp_rank"))]
    waiting: IntGaugeVec,
}

fn main() {}
