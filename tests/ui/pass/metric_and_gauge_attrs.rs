use engine_gauges::prometheus::{Gauge, IntCounter, IntGaugeVec};
use engine_gauges::{EngineGauges, EngineMetrics, testing::TestHierarchy};

#[derive(EngineGauges)]
struct Set {
    /// Cache usage (0.0-1.0).
    #[gauge(name = "kv_usage_ratio")]
    usage: Gauge,
    /// Requests served.
    #[metric(name = "served_requests_total")]
    served: IntCounter,
    #[gauge(help = "Requests waiting, by adapter.", labels("lora_adapter"))]
    waiting_requests: IntGaugeVec,
    #[metric(help = "Requests running.")]
    #[gauge(name = "running_requests")]
    running: Gauge,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[])?;
    set.usage.set(0.5);
    set.served.inc();
    set.waiting_requests.with_label_values(&["base"]).set(3);
    set.running.set(2.0);

    let names: Vec<&str> = Set::DESCRIPTORS.iter().map(|d| d.name).collect();
    assert_eq!(
        names,
        [
            "dynamo_component_kv_usage_ratio",
            "dynamo_component_served_requests_total",
            "dynamo_component_waiting_requests",
            "dynamo_component_running_requests",
        ]
    );
    assert_eq!(Set::DESCRIPTORS[3].help, "Requests running.");
    let page = metrics.registry().prometheus_expfmt_combined()?;
    assert!(page.contains("dynamo_component_served_requests_total 1\n"), "{page}");
    assert!(page.contains("dynamo_component_running_requests 2\n"), "{page}");
    Ok(())
}
