use engine_gauges::prometheus::{Gauge, GaugeVec};
use engine_gauges::{ComponentSnapshot, EngineGauges, EngineMetrics};

#[derive(EngineGauges)]
#[gauges(snapshot = ComponentSnapshot, const_labels(worker_id = "1", engine = "vllm"))]
struct Set {
    /// Queue depth.
    #[gauge(labels("model", "engine", "__id"), from = kv_used_blocks)]
    depth: GaugeVec,
    #[gauge(unseeded)]
    no_help: Gauge,
    /// Requests served.
    requests_total: Gauge,
}

// The set keeps its trait impl and its `update`: using it adds no errors.
fn use_it(metrics: &EngineMetrics, snapshot: &ComponentSnapshot) {
    let set = Set::register(metrics, &[0]).unwrap();
    set.update(snapshot);
    set.no_help.set(1.0);
}

fn main() {
    let _ = use_it;
}
