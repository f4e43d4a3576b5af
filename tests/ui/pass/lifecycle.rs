use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;

#[derive(EngineGauges)]
pub struct Lifecycle {
    /// Time spent releasing engine resources during shutdown.
    pub cleanup_time_seconds: Gauge,
    #[gauge(help = "Time engine.start() took to return.")]
    pub model_load_time_seconds: Gauge,
}

fn main() {
    let names: Vec<&str> = Lifecycle::DESCRIPTORS.iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        [
            "dynamo_component_cleanup_time_seconds",
            "dynamo_component_model_load_time_seconds",
        ]
    );
}
