//! The hierarchy: levels and their names, the labels they give (the crate's levels, and a user's
//! own `MetricsHierarchy` by the positional rule), and what the engine config adds: the `model`
//! and `model_name` labels and the data-parallel ranks.

use std::collections::HashMap;

use engine_gauges::error::{LevelErrorKind, MetricErrorKind};
use engine_gauges::prometheus::{Gauge, IntCounterVec, IntGauge};
use engine_gauges::{
    ComponentSnapshot, EngineConfig, EngineMetrics, Error, MetricsHierarchy, MetricsRoot,
    create_metric, labels, limits::MAX_RANK_SPAN, reference::ComponentGauges,
    reference::LifecycleGauges, testing::TestHierarchy,
};
use engine_gauges_tests::fixture::{self, NamedLevel};
use engine_gauges_tests::hostile::{KIB_64, hostile_values};
use engine_gauges_tests::names_model;
use engine_gauges_tests::page::{promtool_check, scrape, scrape_text};

// --------------------------------------------------------------------- the engine config's labels

#[test]
fn with_engine_config_populates_model_labels() {
    let config = EngineConfig {
        model: "/local/path/qwen".to_string(),
        served_model_name: Some("qwen3-0.6b".to_string()),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(TestHierarchy::new(), &config);
    // A TestHierarchy has no hierarchy labels; the pairs come sorted by name.
    assert_eq!(
        metrics.auto_labels().collect::<Vec<_>>(),
        [("model", "/local/path/qwen"), ("model_name", "qwen3-0.6b")]
    );
    assert_eq!(metrics.auto_label("model"), Some("/local/path/qwen"));
    assert_eq!(metrics.auto_label("worker_id"), None);
}

#[test]
fn model_name_defaults_to_model() {
    let config = EngineConfig {
        model: "m".into(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(TestHierarchy::new(), &config);
    assert_eq!(metrics.auto_label("model_name"), Some("m"));
    assert_eq!(
        metrics.engine_const_labels(),
        vec![("model", "m"), ("model_name", "m")]
    );
}

#[test]
fn empty_model_strings_do_not_emit_labels() {
    let config = EngineConfig {
        model: String::new(),
        served_model_name: Some(String::new()),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(TestHierarchy::new(), &config);
    assert_eq!(metrics.auto_labels().len(), 0, "{metrics:?}");
    let bare = EngineMetrics::from_hierarchy(TestHierarchy::new());
    assert_eq!(bare.auto_labels().len(), 0, "{bare:?}");
}

/// Model and served names become `model` / `model_name` label values untouched (an empty one
/// gives no label; an empty served name falls back to the model).
#[test]
fn hostile_model_and_served_names_round_trip() {
    let root = MetricsRoot::with_connection_id(0x1);
    let component = fixture::backend_component(&root);
    let values = hostile_values();
    let mut expected = Vec::new();
    let mut keep = Vec::new();
    let mut keep_sets = Vec::new();
    for (index, model) in values.iter().enumerate() {
        let served = match index % 4 {
            0 => None,
            1 => Some(String::new()),
            _ => Some(values[(index + 1) % values.len()].clone()),
        };
        let endpoint = component.endpoint(&format!("e{index}")).expect("endpoint");
        let config = EngineConfig {
            model: model.clone(),
            served_model_name: served.clone(),
            ..Default::default()
        };
        let metrics = EngineMetrics::with_engine_config(endpoint, &config);
        keep.push(LifecycleGauges::new(&metrics, index as f64).expect("lifecycle"));
        let gauges = ComponentGauges::new(&metrics, &[0]).expect("component gauges");
        gauges.update(&ComponentSnapshot {
            kv_total_blocks: index as u64,
            dp_rank: 0,
            ..Default::default()
        });
        // A set's families live as long as the set.
        keep_sets.push(gauges);
        let model_label = (!model.is_empty()).then(|| model.clone());
        let model_name = served
            .filter(|s| !s.is_empty())
            .or_else(|| model_label.clone());
        expected.push((format!("e{index}"), model_label, model_name));
    }
    let (text, page) = scrape(root.registry());
    for family in [
        "dynamo_component_model_load_time_seconds",
        "dynamo_component_total_blocks",
    ] {
        for (index, (endpoint, model, model_name)) in expected.iter().enumerate() {
            let sample = page
                .samples(family)
                .find(|s| s.label("dynamo_endpoint") == Some(endpoint))
                .unwrap_or_else(|| panic!("{family} of {endpoint} is missing"));
            assert_eq!(
                sample.label("model"),
                model.as_deref(),
                "{family} {endpoint}"
            );
            assert_eq!(
                sample.label("model_name"),
                model_name.as_deref(),
                "{family} {endpoint}"
            );
            assert_eq!(sample.value, index as f64);
        }
    }
    promtool_check(&text);
}

// ----------------------------------------------------------------------------------------- levels

#[test]
fn four_level_hierarchy_golden_pages() {
    let root = MetricsRoot::with_connection_id(0x1f2e);
    let ns = root.namespace("dynamo").unwrap();
    let backend = ns.component("backend").unwrap();
    let generate = backend.endpoint("generate").unwrap();
    let prefill = backend.endpoint("prefill").unwrap();

    let up: IntGauge =
        create_metric(&root, "up", "Whether the worker is up.", &[], None, None).unwrap();
    up.set(1);
    let comps: IntGauge = create_metric(
        &ns,
        "components",
        "Components in the namespace.",
        &[],
        None,
        None,
    )
    .unwrap();
    comps.set(1);
    let requests: IntCounterVec = create_metric(
        &backend,
        "requests_total",
        "Requests served.",
        &[],
        None,
        Some(&["status"]),
    )
    .unwrap();
    requests.with_label_values(&["ok"]).inc_by(7);
    let inflight = |e: &engine_gauges::Endpoint| -> Gauge {
        create_metric(e, "inflight", "Requests in flight.", &[], None, None).unwrap()
    };
    inflight(&generate).set(3.0);
    inflight(&prefill).set(1.5);

    let generate_page = "\
# HELP dynamo_component_inflight Requests in flight.
# TYPE dynamo_component_inflight gauge
dynamo_component_inflight{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",worker_id=\"1f2e\"} 3
";
    assert_eq!(scrape_text(generate.registry()), generate_page);

    let backend_page = "\
# HELP dynamo_component_inflight Requests in flight.
# TYPE dynamo_component_inflight gauge
dynamo_component_inflight{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",worker_id=\"1f2e\"} 3
dynamo_component_inflight{dynamo_component=\"backend\",dynamo_endpoint=\"prefill\",dynamo_namespace=\"dynamo\",worker_id=\"1f2e\"} 1.5
# HELP dynamo_component_requests_total Requests served.
# TYPE dynamo_component_requests_total counter
dynamo_component_requests_total{dynamo_component=\"backend\",dynamo_namespace=\"dynamo\",status=\"ok\",worker_id=\"1f2e\"} 7
";
    assert_eq!(scrape_text(backend.registry()), backend_page);

    let ns_extra = "\
# HELP dynamo_component_components Components in the namespace.
# TYPE dynamo_component_components gauge
dynamo_component_components{dynamo_namespace=\"dynamo\",worker_id=\"1f2e\"} 1
";
    assert_eq!(
        scrape_text(ns.registry()),
        format!("{ns_extra}{backend_page}")
    );

    let root_extra = "\
# HELP dynamo_component_up Whether the worker is up.
# TYPE dynamo_component_up gauge
dynamo_component_up{worker_id=\"1f2e\"} 1
";
    assert_eq!(
        scrape_text(root.registry()),
        format!("{ns_extra}{backend_page}{root_extra}")
    );
}

#[test]
fn levels_are_cached_by_name_and_scrapes_stay_below() {
    let ns = MetricsRoot::new().namespace("dynamo").unwrap();
    let a = ns.component("a").unwrap();
    assert!(
        a.registry()
            .same_registry(ns.component("a").unwrap().registry())
    );
    let b = ns.component("b").unwrap();
    assert!(!a.registry().same_registry(b.registry()));
    let ga: Gauge = create_metric(&a, "g", "A gauge.", &[], None, None).unwrap();
    ga.set(1.0);
    let page_b = scrape_text(b.registry());
    assert_eq!(page_b, "", "a sibling's metrics leak into b's page");
    let e = a.endpoint("e").unwrap();
    assert!(
        !scrape_text(e.registry()).contains("dynamo_component_g"),
        "an ancestor's metric leaks down"
    );
    assert!(scrape_text(ns.registry()).contains("dynamo_component_g{"));
    // No root connection id: no worker_id label.
    assert!(!scrape_text(a.registry()).contains("worker_id"));
}

#[test]
fn nested_namespaces_label_by_kind_not_depth() {
    let root = MetricsRoot::new();
    let inner = root.namespace("a").unwrap().namespace("b").unwrap();
    assert_eq!(inner.path(), "a.b");
    let endpoint = inner
        .component("backend")
        .unwrap()
        .endpoint("generate")
        .unwrap();
    assert_eq!(
        endpoint.hierarchy_labels(),
        vec![
            (labels::NAMESPACE, "a.b".to_owned()),
            (labels::COMPONENT, "backend".to_owned()),
            (labels::ENDPOINT, "generate".to_owned()),
        ]
    );
    let parents: Vec<String> = endpoint
        .parent_hierarchies()
        .iter()
        .map(|p| p.basename())
        .collect();
    assert_eq!(parents, ["", "a", "b", "backend"]);
    let g: Gauge = create_metric(&endpoint, "g", "A gauge.", &[], None, None).unwrap();
    g.set(2.0);
    assert!(
        scrape_text(root.registry()).contains(
            "dynamo_component_g{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"a_b\"} 2\n"
        ),
        "{}",
        scrape_text(root.registry())
    );
}

#[test]
fn user_hierarchies_keep_the_positional_rule() {
    let endpoint = NamedLevel::new("generate", &["drt", "dyn", "backend"]).with_connection_id(255);
    let metrics = EngineMetrics::with_engine_config(
        endpoint,
        &EngineConfig {
            model: "test-model".into(),
            ..Default::default()
        },
    );
    let expected: HashMap<String, String> = [
        (labels::NAMESPACE, "dyn"),
        (labels::COMPONENT, "backend"),
        (labels::ENDPOINT, "generate"),
        (labels::WORKER_ID, "ff"),
        (labels::MODEL, "test-model"),
        (labels::MODEL_NAME, "test-model"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let auto: HashMap<String, String> = metrics
        .auto_labels()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    assert_eq!(auto, expected);

    // Nested positions shift, as in the reference: ns1.ns2.ns3 gives namespace=ns1, ...
    let shifted = NamedLevel::new("comp", &["drt", "ns1", "ns2", "ns3"]);
    assert_eq!(
        shifted.hierarchy_labels(),
        vec![
            (labels::NAMESPACE, "ns1".to_owned()),
            (labels::COMPONENT, "ns2".to_owned()),
            (labels::ENDPOINT, "ns3".to_owned()),
        ]
    );
}

// ------------------------------------------------------------------------------------------ names

/// Level names a level accepts, with the label value each becomes by the rule.
fn accepted_names() -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = [
        ("my-ns", "my_ns"),
        ("a\"b", "a_b"),
        ("a\\b", "a_b"),
        ("line\nbreak", "line_break"),
        ("tab\there", "tab_here"),
        ("Qwen/Qwen3-0.6B", "Qwen_Qwen3_0_6B"),
        ("9lives", "_9lives"),
        ("@@123", "_123"),
        ("__init__", "init__"),
        ("___x", "_x"),
        ("日x", "_x"),
        // Two non-ASCII characters make a leading `__`, which is stripped.
        ("日本x", "x"),
        ("x日本", "x__"),
        ("a:b", "a_b"),
        ("_", "_"),
    ]
    .into_iter()
    .map(|(raw, want)| (raw.to_owned(), want.to_owned()))
    .collect();
    names.push(("a-".repeat(KIB_64 / 2), "a_".repeat(KIB_64 / 2)));
    names
}

/// Level names with nothing left after sanitizing.
const REFUSED_NAMES: [&str; 14] = [
    "",
    "\"",
    "\\",
    "\n",
    "\t",
    " ",
    "日本語",
    "...",
    "—",
    "__",
    "____",
    "-",
    "\"\\\n\t",
    "🦀",
];

/// A namespace, a nested namespace, a component and an endpoint named `raw` label their metrics
/// with `want` (a nested namespace with its whole path, joined with `.`, sanitized).
fn check_accepted_levels(root: &MetricsRoot, raw: &str, want: &str) {
    let ns = root.namespace(raw).expect("namespace");
    let endpoint = ns
        .component(raw)
        .and_then(|c| c.endpoint(raw))
        .expect("component and endpoint");
    let nested = ns.namespace("inner").expect("nested namespace");
    let nested_want = names_model::level_label_value(&format!("{raw}.inner"));
    let levels: [(&dyn MetricsHierarchy, _, _); 2] = [
        (
            &endpoint,
            endpoint.registry(),
            [Some(want), Some(want), Some(want)],
        ),
        (
            &nested,
            nested.registry(),
            [nested_want.as_deref(), None, None],
        ),
    ];
    for (level, registry, [namespace, component, endpoint]) in levels {
        let g: Gauge =
            create_metric(level, "named_level", "A gauge.", &[], None, None).expect("gauge");
        g.set(1.0);
        let (text, page) = scrape(registry);
        let sample = page
            .samples("dynamo_component_named_level")
            .next()
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(sample.label(labels::NAMESPACE), namespace);
        assert_eq!(sample.label(labels::COMPONENT), component);
        assert_eq!(sample.label(labels::ENDPOINT), endpoint);
    }
}

/// A user hierarchy whose levels are all named `raw` labels its metrics with `want`: the rule is
/// applied when `create_metric` runs.
fn check_accepted_user_level(raw: &str, want: &str) {
    let level = NamedLevel::new(raw, &["drt", raw, raw]);
    let g: Gauge = create_metric(&level, "g", "A gauge.", &[], None, None).expect("gauge");
    g.set(1.0);
    let (text, page) = scrape(level.get_metrics_registry());
    let sample = page.samples("dynamo_component_g").next().expect(&text);
    for label in [labels::NAMESPACE, labels::COMPONENT, labels::ENDPOINT] {
        assert_eq!(sample.label(label), Some(want), "{label}");
    }
}

/// Every kind of level refuses `raw` when it is created, with an error naming the level.
fn check_refused_levels(root: &MetricsRoot, raw: &str) {
    let ns = root.namespace("ok").expect("namespace");
    let component = ns.component("ok").expect("component");
    for (level, result) in [
        ("namespace", root.namespace(raw).map(drop)),
        ("namespace", ns.namespace(raw).map(drop)),
        ("component", ns.component(raw).map(drop)),
        ("endpoint", component.endpoint(raw).map(drop)),
    ] {
        let error = result.expect_err(level);
        let named = format!("{level} `{raw}`");
        assert!(
            matches!(&error, Error::Level { level: got, kind: LevelErrorKind::InvalidName { .. } } if *got == named),
            "{level} {raw:?}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("{named}: the name is invalid: ")),
            "{message}"
        );
    }
}

/// A user hierarchy whose endpoint is named `raw` cannot carry metrics: `create_metric` names the
/// label and the value. (An empty name at a user level gives no label at all, so it is not
/// refused there.)
fn check_refused_user_level(raw: &str) {
    if raw.is_empty() {
        return;
    }
    let level = NamedLevel::new(raw, &["drt", "ns", "comp"]);
    let error = create_metric::<Gauge, _>(&level, "g", "A gauge.", &[], None, None).unwrap_err();
    assert!(
        matches!(&error, Error::Metric { kind: MetricErrorKind::InvalidHierarchyValue { label: "dynamo_endpoint", value, .. }, .. } if value == raw),
        "{raw:?}: {error:?}"
    );
}

/// Hierarchy names become label values through sanitizing (the documented rule), at the crate's
/// levels and at a user's own; a name with nothing left after sanitizing is refused when its
/// level is created (or, for a user hierarchy, when a metric is created on it), and leaves
/// nothing behind.
#[test]
fn hierarchy_names_are_sanitized_and_unusable_ones_refused() {
    let root = MetricsRoot::with_connection_id(0xcafe);
    for (raw, want) in accepted_names() {
        assert_eq!(names_model::level_label_value(&raw), Some(want.clone()));
        check_accepted_levels(&root, &raw, &want);
        check_accepted_user_level(&raw, &want);
    }
    // Levels of different names on one series, and a metric name sanitized too.
    let mixed = root.namespace("my-ns").unwrap().component("@@123").unwrap();
    let g: Gauge = create_metric(&mixed, "test.name", "A gauge.", &[], None, None).unwrap();
    g.set(1.0);
    let text = scrape_text(mixed.registry());
    assert!(
        text.contains(
            "dynamo_component_test_name{dynamo_component=\"_123\",dynamo_namespace=\"my_ns\",worker_id=\"cafe\"} 1\n"
        ),
        "{text}"
    );

    let (before, _) = scrape(root.registry());
    for raw in REFUSED_NAMES {
        assert_eq!(names_model::level_label_value(raw), None, "{raw:?}");
        check_refused_levels(&root, raw);
        check_refused_user_level(raw);
    }
    let (after, _) = scrape(root.registry());
    assert_eq!(before, after, "a refused level changed the page");
    promtool_check(&after);
}

/// Two level names that sanitize alike give identical series: the combined page keeps the first
/// (it stays valid: no series twice) and the sibling's value is not shown.
#[test]
fn levels_whose_names_sanitize_alike_keep_the_page_valid() {
    let root = MetricsRoot::new();
    let ns = root.namespace("dynamo").unwrap();
    let dashed = ns.component("my-comp").unwrap();
    let dotted = ns.component("my.comp").unwrap();
    assert!(!dashed.registry().same_registry(dotted.registry()));
    for (level, value) in [(&dashed, 1.0), (&dotted, 2.0)] {
        let g: Gauge = create_metric(level, "g", "A gauge.", &[], None, None).unwrap();
        g.set(value);
    }
    let (text, page) = scrape(root.registry());
    let samples: Vec<_> = page.samples("dynamo_component_g").collect();
    assert_eq!(samples.len(), 1, "{text}");
    assert_eq!(samples[0].value, 1.0, "the first level linked wins");
    promtool_check(&text);
}

// ---------------------------------------------------------------------------- data-parallel ranks

#[test]
fn dp_ranks_follow_the_config() {
    let ranks = |start: Option<u32>, size: Option<u32>| {
        EngineConfig {
            data_parallel_size: size,
            data_parallel_start_rank: start,
            ..Default::default()
        }
        .dp_ranks()
    };
    assert_eq!(ranks(None, None).unwrap(), [0]);
    assert_eq!(ranks(Some(4), Some(4)).unwrap(), [4, 5, 6, 7]);
    assert_eq!(
        ranks(Some(u32::MAX - 1), Some(2)).unwrap(),
        [u32::MAX - 1, u32::MAX]
    );
    assert_eq!(ranks(None, Some(MAX_RANK_SPAN)).unwrap().len(), 65_536);
    // Refused before anything is built: no ranks, too many, or past `u32::MAX`.
    for (start, size, reason) in [
        (0, 0, "at least one rank"),
        (
            0,
            MAX_RANK_SPAN + 1,
            "more ranks than a per-rank table holds",
        ),
        (0, u32::MAX, "more ranks than a per-rank table holds"),
        (u32::MAX - 1, 3, "past `u32::MAX`"),
    ] {
        let error = ranks(Some(start), Some(size)).unwrap_err();
        assert!(
            matches!(error, Error::DataParallelSize { start: s, size: n, .. } if s == start && n == size),
            "{error:?}"
        );
        let message = error.to_string();
        assert!(message.contains(reason), "{message}");
        assert!(
            message.contains(&format!("data_parallel_size {size}")),
            "{message}"
        );
    }
}
