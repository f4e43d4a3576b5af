//! How long a level of the hierarchy lives: it leaves the tree when its handles are gone and
//! nothing on it can still be written, and not before; explicit removal and unregistering.

use std::sync::Arc;

use engine_gauges::error::{LevelErrorKind, MetricErrorKind};
use engine_gauges::prometheus::IntGauge;
use engine_gauges::{Component, Error, MetricsRegistry, MetricsRoot, create_metric};

fn page(registry: &MetricsRegistry) -> String {
    registry.prometheus_expfmt_combined().expect("scrape")
}

/// How many registries are linked under `registry`, as its `Debug` shows it.
fn linked_children(registry: &MetricsRegistry) -> usize {
    let debug = format!("{registry:?}");
    let count = debug
        .split("children: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no child count in {debug}"));
    count.parse().expect("a number")
}

fn backend() -> Component {
    MetricsRoot::new()
        .namespace("dynamo")
        .unwrap()
        .component("backend")
        .unwrap()
}

fn load(level: &impl engine_gauges::MetricsHierarchy) -> Result<IntGauge, Error> {
    create_metric(level, "load", "Requests in flight.", &[], None, None)
}

const LOAD_HEAD: &str = "# HELP dynamo_component_load Requests in flight.\n\
                         # TYPE dynamo_component_load gauge\n";

fn load_line(endpoint: &str, value: i64) -> String {
    format!(
        "dynamo_component_load{{dynamo_component=\"backend\",dynamo_endpoint=\"{endpoint}\",\
         dynamo_namespace=\"dynamo\"}} {value}\n"
    )
}

#[test]
fn a_dropped_endpoint_with_nothing_registered_detaches_and_is_freed() {
    let component = backend();
    let own = load(&component).unwrap();
    own.set(1);
    let before = page(component.registry());

    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    assert_eq!(linked_children(component.registry()), 1);
    let clone = endpoint.clone();
    drop(endpoint);
    assert!(weak.is_alive(), "a clone is a handle: the level stays");
    assert_eq!(linked_children(component.registry()), 1);

    drop(clone);
    assert!(!weak.is_alive(), "the node is still in memory");
    assert_eq!(linked_children(component.registry()), 0);
    assert_eq!(page(component.registry()), before);
}

#[test]
fn a_child_keeps_its_parents_alive() {
    let namespace = MetricsRoot::new().namespace("dynamo").unwrap();
    let endpoint = namespace
        .component("backend")
        .unwrap()
        .endpoint("generate")
        .unwrap();
    let component = endpoint.component().downgrade();

    // Only the endpoint holds the component: asking again gives the same one.
    let again = namespace.component("backend").unwrap();
    assert!(
        again
            .registry()
            .same_registry(endpoint.component().registry())
    );
    drop(again);
    assert!(component.is_alive());
    assert_eq!(linked_children(namespace.registry()), 1);

    // The endpoint goes, and with it the component it kept.
    drop(endpoint);
    assert!(!component.is_alive());
    assert_eq!(linked_children(namespace.registry()), 0);
}

#[test]
fn an_attached_child_with_a_metric_keeps_its_parents_attached() {
    let root = MetricsRoot::new();
    let endpoint = root
        .namespace("dynamo")
        .unwrap()
        .component("backend")
        .unwrap()
        .endpoint("generate")
        .unwrap();
    let gauge = load(&endpoint).unwrap();
    drop(endpoint);

    // No handle on the namespace, the component or the endpoint is left; the gauge is.
    gauge.set(4);
    assert_eq!(
        page(root.registry()),
        format!("{LOAD_HEAD}{}", load_line("generate", 4))
    );
}

#[test]
fn a_dropped_level_holding_a_create_metric_gauge_serves_it_until_removed() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    let gauge = load(&endpoint).unwrap();
    gauge.set(3);
    drop(endpoint);

    // No write is lost: the level stays, its gauge is served and still written.
    assert!(weak.is_alive());
    gauge.set(5);
    let served = format!("{LOAD_HEAD}{}", load_line("generate", 5));
    assert_eq!(page(component.registry()), served);

    // Asking again gives the level that stayed, which can remove itself.
    let endpoint = component.endpoint("generate").unwrap();
    assert_eq!(page(endpoint.registry()), served);
    endpoint.remove();
    assert_eq!(page(component.registry()), "");
    assert_eq!(linked_children(component.registry()), 0);
    assert!(!weak.is_alive());

    // The gauge still takes writes; no page sees them.
    gauge.set(6);
    assert_eq!(page(component.registry()), "");
}

#[test]
fn unregistering_a_create_metric_metric_takes_it_off_the_page_and_frees_its_name() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let gauge = load(&endpoint).unwrap();
    gauge.set(2);
    assert!(matches!(
        load(&endpoint),
        Err(Error::Metric {
            kind: MetricErrorKind::AlreadyRegistered,
            ..
        })
    ));

    endpoint.registry().unregister(&gauge).unwrap();
    assert_eq!(page(component.registry()), "");

    // Unregistering twice names the metric and the level, and says what to do.
    let error = endpoint.registry().unregister(&gauge).unwrap_err();
    assert_eq!(
        error.to_string(),
        "metric `dynamo_component_load`: not registered at endpoint `generate`; unregister a \
         metric at the level it was created on, and only once"
    );

    let again = load(&endpoint).expect("the name is free again");
    again.set(7);
    let served = format!("{LOAD_HEAD}{}", load_line("generate", 7));
    assert_eq!(page(component.registry()), served);

    // From another level: refused, and nothing changes.
    let error = component.registry().unregister(&again).unwrap_err();
    assert!(
        matches!(&error, Error::Metric { metric, kind: MetricErrorKind::NotRegistered { level } }
            if metric == "dynamo_component_load" && level == "component `backend`"),
        "{error:?}"
    );
    assert_eq!(page(component.registry()), served);
}

#[test]
fn unregistering_the_last_metric_of_a_dropped_level_detaches_it_then() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    let registry = endpoint.registry().clone();
    let gauge = load(&endpoint).unwrap();
    drop(endpoint);
    assert!(weak.is_alive());
    assert_eq!(linked_children(component.registry()), 1);

    registry.unregister(&gauge).unwrap();
    assert!(!weak.is_alive());
    assert_eq!(linked_children(component.registry()), 0);
    assert_eq!(page(component.registry()), "");
}

#[test]
fn asking_again_for_a_detached_childs_name_gives_a_fresh_empty_level() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let old = endpoint.registry().clone();
    drop(endpoint);
    let fresh = component.endpoint("generate").unwrap();
    assert!(!fresh.registry().same_registry(&old));
    assert_eq!(page(fresh.registry()), "");
    // The fresh level is linked in place of the old one, and can hold the old one's metrics.
    load(&fresh).unwrap().set(1);
    assert_eq!(
        page(component.registry()),
        format!("{LOAD_HEAD}{}", load_line("generate", 1))
    );

    // After an explicit removal too.
    let held = fresh.clone();
    fresh.remove();
    let after_removal = component.endpoint("generate").unwrap();
    assert!(!after_removal.registry().same_registry(held.registry()));
    assert_eq!(page(after_removal.registry()), "");
    load(&after_removal).expect("a fresh level has no metric of that name");
}

#[test]
fn a_removed_level_refuses_new_metrics_and_children_with_an_error_saying_what_to_do() {
    let component = backend();
    let kept = component.clone();
    component.remove();

    let error = load(&kept).unwrap_err();
    assert_eq!(
        error.to_string(),
        "component `backend`: the level was removed from the metrics tree; ask its parent for it \
         again \
         (that gives a fresh level) and create the metric or child there"
    );
    let error = kept.endpoint("generate").unwrap_err();
    assert!(
        matches!(&error, Error::Level { level, kind: LevelErrorKind::Removed } if level == "component `backend`"),
        "{error:?}"
    );
    // Removing a level that is already out changes nothing.
    kept.clone().remove();
    assert_eq!(page(kept.namespace().registry()), "");
}

#[test]
fn removing_a_level_takes_its_whole_subtree_off_the_page() {
    let root = MetricsRoot::new();
    let component = root
        .namespace("dynamo")
        .unwrap()
        .component("backend")
        .unwrap();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    load(&endpoint).unwrap().set(1);
    drop(endpoint);
    assert_eq!(
        page(root.registry()),
        format!("{LOAD_HEAD}{}", load_line("generate", 1))
    );

    component.remove();
    assert_eq!(page(root.registry()), "");
    assert!(!weak.is_alive(), "the removed subtree is still in memory");
}

#[test]
fn a_bridged_callback_keeps_its_level_until_removed() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let text = "# TYPE foreign_up gauge\nforeign_up 1\n";
    endpoint
        .registry()
        .add_expfmt_callback(Arc::new(move || Ok(text.to_owned())));
    drop(endpoint);
    assert_eq!(page(component.registry()), text);

    component.endpoint("generate").unwrap().remove();
    assert_eq!(page(component.registry()), "");
    assert_eq!(linked_children(component.registry()), 0);
}

#[test]
fn a_level_guard_keeps_its_level_attached_until_it_goes() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    let guard = endpoint
        .registry()
        .level_guard()
        .expect("a level's registry");
    let registry = endpoint.registry().clone();
    drop(endpoint);
    assert!(weak.is_alive());
    assert!(
        component
            .endpoint("generate")
            .unwrap()
            .registry()
            .same_registry(&registry)
    );

    let second = guard.clone();
    drop(guard);
    assert!(weak.is_alive());
    drop(second);
    assert!(!weak.is_alive());
    assert_eq!(linked_children(component.registry()), 0);
    // The registry outlived its level: it gives no guard.
    assert!(registry.level_guard().is_none());
    assert!(MetricsRegistry::new().level_guard().is_none());
}

#[test]
fn a_level_asked_for_while_another_thread_drops_it_is_always_attached() {
    let component = backend();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let component = component.clone();
            std::thread::spawn(move || {
                let mut detached = 0;
                for _ in 0..5_000 {
                    let endpoint = component.endpoint("generate").unwrap();
                    // A handle's level is in the tree: it gives a guard, and is its parent's.
                    let linked = component
                        .endpoint("generate")
                        .unwrap()
                        .registry()
                        .same_registry(endpoint.registry());
                    if endpoint.registry().level_guard().is_none() || !linked {
                        detached += 1;
                    }
                }
                detached
            })
        })
        .collect();
    let detached: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(detached, 0, "handles on a level out of the tree");
    assert_eq!(linked_children(component.registry()), 0);
}
