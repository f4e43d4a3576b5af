use engine_gauges::EngineGauges;
use engine_gauges::prometheus::GaugeVec;

#[derive(EngineGauges)]
struct Set {
    /// Queue depth, by worker.
    #[gauge(labels("worker_id"))]
    depth: GaugeVec,
}

fn main() {}
