//! The runtime: hierarchy, auto-labels, `create_metric`'s rules and the combined scrape.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use engine_gauges::prometheus::Gauge;
use engine_gauges::{
    Component, EngineConfig, EngineMetrics, Error, MetricsRegistry, MetricsRoot, create_metric,
    testing::TestHierarchy,
};
use engine_gauges_tests::fixture::NamedLevel;

fn page(registry: &MetricsRegistry) -> String {
    registry.prometheus_expfmt_combined().expect("scrape")
}

// ---------------------------------------------------------------- the reference's own tests

#[test]
fn add_expfmt_callback_appears_in_combined_scrape() {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    metrics.add_expfmt_callback(Arc::new(|| {
        Ok("# HELP external_total From outside.\n# TYPE external_total counter\nexternal_total 3\n".to_string())
    }));
    assert_eq!(
        page(metrics.registry()),
        "# HELP external_total From outside.\n# TYPE external_total counter\nexternal_total 3\n"
    );
}

// ---------------------------------------------------------------- the crate's own hierarchy

// ---------------------------------------------------------------- create_metric's rules

// ---------------------------------------------------------------- the combined scrape

fn two_level_with_conflict() -> (MetricsRegistry, MetricsRegistry) {
    let parent = MetricsRegistry::new();
    let child = MetricsRegistry::new();
    parent.add_child_registry(&child);
    let h_parent = NamedLevel::bare(&parent);
    let h_child = NamedLevel::bare(&child);
    let a: Gauge = create_metric(&h_parent, "shared", "First help.", &[], None, None).unwrap();
    a.set(1.0);
    let b: Gauge =
        create_metric(&h_child, "shared", "Other help.", &[("k", "v")], None, None).unwrap();
    b.set(2.0);
    let c: Gauge = create_metric(&h_child, "other", "Other.", &[], None, None).unwrap();
    c.set(3.0);
    (parent, child)
}

const OTHER_AND_SHARED: &str = "\
# HELP dynamo_component_other Other.
# TYPE dynamo_component_other gauge
dynamo_component_other 3
# HELP dynamo_component_shared First help.
# TYPE dynamo_component_shared gauge
dynamo_component_shared 1
";

const FAILURES_HEAD: &str = "\
# HELP engine_gauges_scrape_failures_total Failures met by this page's scrapes: parts skipped so that the rest could be served.
# TYPE engine_gauges_scrape_failures_total counter
";

#[test]
fn a_conflicting_family_is_dropped_and_counted_not_the_page() {
    let (parent, _child) = two_level_with_conflict();
    let expected = format!(
        "{OTHER_AND_SHARED}{FAILURES_HEAD}\
engine_gauges_scrape_failures_total{{kind=\"collector\"}} 0
engine_gauges_scrape_failures_total{{kind=\"family_conflict\"}} 1
engine_gauges_scrape_failures_total{{kind=\"text_callback\"}} 0
engine_gauges_scrape_failures_total{{kind=\"timeout\"}} 0
engine_gauges_scrape_failures_total{{kind=\"update_callback\"}} 0
"
    );
    assert_eq!(page(&parent), expected);
    assert!(
        page(&parent).contains("{kind=\"family_conflict\"} 2\n"),
        "counted per scrape"
    );
}

#[test]
fn failing_and_panicking_callbacks_are_skipped_and_counted() {
    let (parent, child) = two_level_with_conflict();
    let clean = page(&child);
    assert!(
        !clean.contains("engine_gauges_scrape_failures_total"),
        "absent before any failure"
    );

    child.add_expfmt_callback(Arc::new(|| Err("boom".into())));
    child.add_expfmt_callback(Arc::new(|| panic!("callback panicked on purpose")));
    child.add_expfmt_callback(Arc::new(|| Ok("# bridged\nforeign_metric 1".to_string())));
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    child.add_update_callback(Arc::new(move || {
        seen.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }));
    child.add_update_callback(Arc::new(|| Err("stale".into())));
    child.add_update_callback(Arc::new(|| panic!("update panicked on purpose")));

    let text = page(&child);
    let expected = format!(
        "{}{FAILURES_HEAD}\
engine_gauges_scrape_failures_total{{kind=\"collector\"}} 0
engine_gauges_scrape_failures_total{{kind=\"family_conflict\"}} 0
engine_gauges_scrape_failures_total{{kind=\"text_callback\"}} 2
engine_gauges_scrape_failures_total{{kind=\"timeout\"}} 0
engine_gauges_scrape_failures_total{{kind=\"update_callback\"}} 2
# TYPE foreign_metric untyped
foreign_metric 1
",
        clean
    );
    assert_eq!(text, expected);
    assert_eq!(calls.load(Ordering::Relaxed), 1);

    // The parent's own scrapes meet the same failures and count them on its own page.
    let parent_text = page(&parent);
    assert!(
        parent_text.contains("{kind=\"text_callback\"} 2\n"),
        "{parent_text}"
    );
    assert!(
        parent_text.contains("{kind=\"family_conflict\"} 1\n"),
        "{parent_text}"
    );
    assert!(parent_text.starts_with(OTHER_AND_SHARED), "{parent_text}");
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

#[test]
fn first_series_wins_across_registries_and_cycles_are_harmless() {
    let parent = MetricsRegistry::new();
    let child = MetricsRegistry::new();
    parent.add_child_registry(&child);
    child.add_child_registry(&parent);
    parent.add_child_registry(&child);
    let a: Gauge = create_metric(&NamedLevel::bare(&parent), "g", "G.", &[], None, None).unwrap();
    a.set(1.0);
    let b: Gauge = create_metric(&NamedLevel::bare(&child), "g", "G.", &[], None, None).unwrap();
    b.set(2.0);
    assert_eq!(
        page(&parent),
        "# HELP dynamo_component_g G.\n# TYPE dynamo_component_g gauge\ndynamo_component_g 1\n"
    );
    assert_eq!(
        page(&child),
        "# HELP dynamo_component_g G.\n# TYPE dynamo_component_g gauge\ndynamo_component_g 2\n"
    );
}

#[test]
fn merged_families_sort_series_and_families() {
    let root = MetricsRoot::new();
    let ns = root.namespace("n").unwrap();
    let z = ns.component("z").unwrap();
    let a = ns.component("a").unwrap();
    for c in [&z, &a] {
        let g: Gauge = create_metric(c, "g", "G.", &[], None, None).unwrap();
        g.set(1.0);
    }
    let b: Gauge = create_metric(&z, "bb", "B.", &[], None, None).unwrap();
    b.set(1.0);
    assert_eq!(
        page(root.registry()),
        "# HELP dynamo_component_bb B.\n# TYPE dynamo_component_bb gauge\n\
dynamo_component_bb{dynamo_component=\"z\",dynamo_namespace=\"n\"} 1\n\
# HELP dynamo_component_g G.\n# TYPE dynamo_component_g gauge\n\
dynamo_component_g{dynamo_component=\"a\",dynamo_namespace=\"n\"} 1\n\
dynamo_component_g{dynamo_component=\"z\",dynamo_namespace=\"n\"} 1\n"
    );
}

#[test]
fn public_types_are_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<MetricsRegistry>();
    check::<MetricsRoot>();
    check::<engine_gauges::Namespace>();
    check::<Component>();
    check::<engine_gauges::Endpoint>();
    check::<EngineMetrics>();
    check::<EngineConfig>();
    check::<engine_gauges::ComponentSnapshot>();
    check::<Error>();
    check::<TestHierarchy>();
    check::<engine_gauges::metric::MetricKind>();
}
