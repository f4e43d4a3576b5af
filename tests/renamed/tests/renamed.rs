//! The derive used through a renamed runtime crate.

use engine_gauges_renamed::Renamed;
use engine_gauges_renamed::metrics::{ComponentSnapshot, EngineGauges, EngineMetrics, MetricsRoot};

#[test]
fn a_set_declared_through_a_renamed_crate_registers_and_updates() {
    let endpoint = MetricsRoot::new()
        .namespace("n")
        .unwrap()
        .component("c")
        .unwrap()
        .endpoint("e")
        .unwrap();
    let metrics = EngineMetrics::from_hierarchy(endpoint);
    let set = Renamed::register(&metrics, &[0]).unwrap();
    set.update(&ComponentSnapshot {
        kv_total_blocks: 9,
        ..Default::default()
    });
    set.plain.set(1.0);
    let page = metrics.registry().prometheus_expfmt_combined().unwrap();
    assert!(page.contains(
        "dynamo_component_blocks{dp_rank=\"0\",dynamo_component=\"c\",dynamo_endpoint=\"e\",dynamo_namespace=\"n\"} 9\n"
    ), "{page}");
    assert_eq!(Renamed::DESCRIPTORS[1].name, "dynamo_component_plain");
}
