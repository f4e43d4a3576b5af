use engine_gauges::prometheus::{Gauge, IntGauge, IntGaugeVec};
use engine_gauges::{ComponentSnapshot, EngineGauges, PerRank};

#[derive(EngineGauges)]
#[gauges(snapshot = ComponentSnapshot, const_labels(engine = "mocker"))]
pub struct Kv {
    /// Total number of KV cache blocks available on the worker.
    #[gauge(from = kv_total_blocks)]
    pub total_blocks: PerRank<IntGauge>,
    /// Prefix cache hit rate (0.0-1.0). Portable across engines.
    #[gauge(from = kv_cache_hit_rate, unseeded)]
    pub kv_cache_hit_rate: PerRank<Gauge>,
    /// Requests waiting, by adapter.
    #[gauge(labels("lora_adapter"))]
    pub waiting_requests: IntGaugeVec,
}

fn update(kv: &Kv, snapshot: &ComponentSnapshot) {
    kv.update(snapshot);
}

fn main() {
    let _ = update;
}
