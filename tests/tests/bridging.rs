//! Foreign metrics on the page: exposition text from callbacks (parsed strictly and re-rendered),
//! and `prometheus` collectors and registries bridged without text. Whatever they produce, the
//! page passes `promtool check metrics`, and what cannot be made valid is dropped and counted.

use std::sync::Arc;

use engine_gauges::error::MetricErrorKind;
use engine_gauges::prometheus::core::{Collector, Desc};
use engine_gauges::prometheus::proto::{LabelPair, Metric, MetricFamily, MetricType};
use engine_gauges::prometheus::{self, Gauge, IntCounter, IntCounterVec, Opts};
use engine_gauges::{
    BridgeLabels, EngineConfig, EngineMetrics, Error, MetricsRegistry, MetricsRoot, create_metric,
};
use engine_gauges_tests::bad_text::{Outcome, bad_texts};
use engine_gauges_tests::fixture::NamedLevel;
use engine_gauges_tests::http_client::GzipSpy;
use engine_gauges_tests::prometheus_server::PrometheusServer;
use engine_gauges_tests::{programs, promtool};

/// A registry with one native gauge, `dynamo_component_alive 1`.
fn level() -> MetricsRegistry {
    let registry = MetricsRegistry::new();
    let alive: Gauge = create_metric(
        &NamedLevel::bare(&registry),
        "alive",
        "Served whatever the bridges do.",
        &[],
        None,
        None,
    )
    .expect("gauge");
    alive.set(1.0);
    registry
}

const ALIVE: &str = "# HELP dynamo_component_alive Served whatever the bridges do.\n\
                     # TYPE dynamo_component_alive gauge\ndynamo_component_alive 1\n";

fn failures_line(kind: &str, count: u32) -> String {
    format!("engine_gauges_scrape_failures_total{{kind=\"{kind}\"}} {count}\n")
}

/// The failure counter's family as the page renders it, with one `text_callback` failure.
fn one_text_callback_failure() -> String {
    let mut family =
        "# HELP engine_gauges_scrape_failures_total Failures met by this page's scrapes: \
                      parts skipped so that the rest could be served.\n\
                      # TYPE engine_gauges_scrape_failures_total counter\n"
            .to_owned();
    for kind in [
        "collector",
        "family_conflict",
        "text_callback",
        "timeout",
        "update_callback",
    ] {
        family.push_str(&failures_line(kind, u32::from(kind == "text_callback")));
    }
    family
}

fn check_with_promtool(page: &str) {
    if let Some(promtool) = programs::promtool() {
        promtool::check_metrics(&promtool, page).unwrap_or_else(|findings| panic!("{findings}"));
    }
}

#[test]
fn every_bad_callback_text_is_repaired_or_dropped_and_the_page_stays_valid() {
    for (what, text, outcome) in bad_texts() {
        let registry = level();
        registry.add_expfmt_callback(Arc::new(move || Ok(text.to_owned())));
        let page = registry.prometheus_expfmt_combined().expect("scrape");
        match outcome {
            Outcome::Repaired(rendered) => {
                // Families are sorted by name; these all sort after the native one.
                assert_eq!(page, format!("{ALIVE}{rendered}"), "{what}");
            }
            Outcome::Dropped => {
                assert!(page.starts_with(ALIVE), "{what}: {page}");
                assert!(
                    page.contains(&failures_line("text_callback", 1)),
                    "{what}: {page}"
                );
                assert_eq!(
                    page.lines().filter(|l| !l.starts_with('#')).count(),
                    6,
                    "{what}: only the native gauge and the failure counter remain:\n{page}"
                );
            }
        }
        check_with_promtool(&page);
    }
}

/// A family that every bad text below is followed by, in the same callback; it sorts after all
/// of theirs.
const GOOD: &str =
    "# HELP ext_zz_good Printed after the bad text.\n# TYPE ext_zz_good gauge\next_zz_good 1\n";

#[test]
fn a_bad_text_costs_its_own_family_not_the_callbacks_other_families() {
    for (what, text, outcome) in bad_texts() {
        let registry = level();
        registry.add_expfmt_callback(Arc::new(move || Ok(format!("{text}{GOOD}"))));
        let page = registry.prometheus_expfmt_combined().expect("scrape");
        let expected = match outcome {
            Outcome::Repaired(rendered) => format!("{ALIVE}{rendered}{GOOD}"),
            Outcome::Dropped => format!("{ALIVE}{}{GOOD}", one_text_callback_failure()),
        };
        assert_eq!(page, expected, "{what}");
        check_with_promtool(&page);
    }
}

#[test]
fn a_bad_value_drops_its_family_and_keeps_the_others_of_the_text() {
    let registry = level();
    registry.add_expfmt_callback(Arc::new(|| Ok("good 1\nx 1e999\nalso_good 2\n".to_owned())));
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    // Families are sorted by name. (The text has no HELP lines, so this page is not checked
    // with promtool, which wants help text on every family.)
    assert_eq!(
        page,
        format!(
            "# TYPE also_good untyped\nalso_good 2\n{ALIVE}{}# TYPE good untyped\ngood 1\n",
            one_text_callback_failure()
        )
    );
}

#[test]
fn a_bad_line_in_a_histogram_drops_the_whole_histogram_and_keeps_the_gauge() {
    let registry = level();
    registry.add_expfmt_callback(Arc::new(|| {
        Ok(
            "# HELP ext_latency_seconds Latency.\n# TYPE ext_latency_seconds histogram\n\
            ext_latency_seconds_bucket{le=\"0.1\"} 1\n\
            ext_latency_seconds_bucket{le=\"1\"} +nan\n\
            ext_latency_seconds_bucket{le=\"+Inf\"} 2\n\
            ext_latency_seconds_sum 1.5\next_latency_seconds_count 2\n\
            # HELP ext_queue Queued.\n# TYPE ext_queue gauge\next_queue 4\n"
                .to_owned(),
        )
    }));
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert_eq!(
        page,
        format!(
            "{ALIVE}{}# HELP ext_queue Queued.\n# TYPE ext_queue gauge\next_queue 4\n",
            one_text_callback_failure()
        )
    );
    assert!(!page.contains("ext_latency_seconds"), "{page}");
    check_with_promtool(&page);
}

#[test]
fn garbage_lines_are_dropped_alone() {
    let registry = level();
    registry.add_expfmt_callback(Arc::new(|| {
        Ok("%%%\n# HELP ext_a A.\n%%%\n# TYPE ext_a gauge\next_a 1\n%%%\n".to_owned())
    }));
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert_eq!(
        page,
        format!(
            "{ALIVE}{}# HELP ext_a A.\n# TYPE ext_a gauge\next_a 1\n",
            one_text_callback_failure()
        )
    );
    check_with_promtool(&page);
}

#[test]
fn all_bad_texts_at_once_leave_every_other_series() {
    let registry = level();
    let mut repaired = Vec::new();
    let mut dropped = 0;
    for (_, text, outcome) in bad_texts() {
        registry.add_expfmt_callback(Arc::new(move || Ok(text.to_owned())));
        match outcome {
            Outcome::Repaired(rendered) => repaired.push(rendered),
            Outcome::Dropped => dropped += 1,
        }
    }
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert!(page.starts_with(ALIVE), "{page}");
    for rendered in repaired {
        assert!(page.contains(rendered), "{rendered} missing from\n{page}");
    }
    assert!(
        page.contains(&failures_line("text_callback", dropped)),
        "{page}"
    );
    check_with_promtool(&page);
}

#[test]
fn text_repeating_a_native_family_is_dropped() {
    let registry = level();
    registry.add_expfmt_callback(Arc::new(|| Ok("dynamo_component_alive 2\n".to_owned())));
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert!(page.starts_with(ALIVE), "{page}");
    assert!(page.contains(&failures_line("text_callback", 1)), "{page}");
    check_with_promtool(&page);
}

#[test]
fn a_family_repeating_a_native_one_is_dropped_alone() {
    let registry = level();
    registry.add_expfmt_callback(Arc::new(|| {
        Ok(
            "# HELP dynamo_component_alive Repeated.\n# TYPE dynamo_component_alive gauge\n\
            dynamo_component_alive 2\n\
            # HELP ext_kept Kept.\n# TYPE ext_kept gauge\next_kept 3\n\
            # HELP ext_kept_too_total Kept too.\n# TYPE ext_kept_too_total counter\n\
            ext_kept_too_total 5\n"
                .to_owned(),
        )
    }));
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert_eq!(
        page,
        format!(
            "{ALIVE}{}# HELP ext_kept Kept.\n# TYPE ext_kept gauge\next_kept 3\n\
             # HELP ext_kept_too_total Kept too.\n# TYPE ext_kept_too_total counter\n\
             ext_kept_too_total 5\n",
            one_text_callback_failure()
        )
    );
    check_with_promtool(&page);
}

// ------------------------------------------------------------------------------ collectors

/// A hand-written collector: whatever families it is given, as a foreign library might make.
struct Fixed(Vec<MetricFamily>, Vec<Desc>);

impl Collector for Fixed {
    fn desc(&self) -> Vec<&Desc> {
        self.1.iter().collect()
    }
    fn collect(&self) -> Vec<MetricFamily> {
        self.0.clone()
    }
}

fn family(name: &str, kind: MetricType, labels: &[(&str, &str)]) -> MetricFamily {
    let mut family = MetricFamily::default();
    family.set_name(name.to_owned());
    family.set_help("From a foreign collector.".to_owned());
    family.set_field_type(kind);
    let mut metric = Metric::default();
    metric.set_label(
        labels
            .iter()
            .map(|&(n, v)| {
                let mut pair = LabelPair::default();
                pair.set_name(n.to_owned());
                pair.set_value(v.to_owned());
                pair
            })
            .collect(),
    );
    let mut gauge = prometheus::proto::Gauge::default();
    gauge.set_value(7.0);
    metric.set_gauge(gauge);
    let mut counter = prometheus::proto::Counter::default();
    counter.set_value(7.0);
    metric.set_counter(counter);
    family.set_metric(vec![metric]);
    family
}

#[test]
fn a_collector_and_a_foreign_registry_are_bridged_as_they_are() {
    let registry = level();
    let counter = IntCounter::new("lib_requests_total", "Requests seen by a library.").expect("c");
    counter.inc_by(5);
    registry.add_collector(Box::new(counter.clone()));
    let foreign = prometheus::Registry::new();
    let queue = prometheus::IntGauge::new("lib_queue", "Queued items.").expect("g");
    foreign.register(Box::new(queue.clone())).expect("register");
    queue.set(3);
    registry.add_foreign_registry(foreign.clone());
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert_eq!(
        page,
        format!(
            "{ALIVE}# HELP lib_queue Queued items.\n# TYPE lib_queue gauge\nlib_queue 3\n\
             # HELP lib_requests_total Requests seen by a library.\n# TYPE lib_requests_total counter\n\
             lib_requests_total 5\n"
        )
    );
    // The registry is shared, not copied: a metric registered later shows up.
    let later = prometheus::IntGauge::new("lib_later", "Registered later.").expect("g");
    foreign.register(Box::new(later)).expect("register");
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert!(page.contains("\nlib_later 0\n"), "{page}");
    check_with_promtool(&page);
}

#[test]
fn engine_labels_are_injected_into_bridged_families() {
    let root = MetricsRoot::with_connection_id(0x1f);
    let endpoint = root
        .namespace("dynamo")
        .and_then(|n| n.component("backend"))
        .and_then(|c| c.endpoint("generate"))
        .expect("levels");
    let config = EngineConfig {
        model: "Qwen/Qwen3-0.6B".into(),
        served_model_name: Some("qwen3".into()),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let foreign = prometheus::Registry::new();
    let steps =
        IntCounterVec::new(Opts::new("mocker_steps_total", "Steps."), &["phase"]).expect("v");
    steps.with_label_values(&["decode"]).inc_by(2);
    foreign.register(Box::new(steps)).expect("register");
    metrics
        .add_foreign_registry(foreign, BridgeLabels::Engine)
        .expect("bridge");
    let plain = IntCounter::new("plain_total", "Not labelled.").expect("c");
    metrics
        .add_collector(Box::new(plain), BridgeLabels::AsIs)
        .expect("bridge");
    let page = root
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    assert_eq!(
        page,
        "# HELP mocker_steps_total Steps.\n# TYPE mocker_steps_total counter\n\
         mocker_steps_total{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",\
         dynamo_namespace=\"dynamo\",model=\"Qwen/Qwen3-0.6B\",model_name=\"qwen3\",phase=\"decode\",\
         worker_id=\"1f\"} 2\n\
         # HELP plain_total Not labelled.\n# TYPE plain_total counter\nplain_total 0\n"
    );
    check_with_promtool(&page);
}

#[test]
fn bridged_families_the_page_cannot_carry_are_dropped_and_counted() {
    let registry = level();
    let bad = vec![
        // Repeats the native family.
        family("dynamo_component_alive", MetricType::GAUGE, &[]),
        // A label name Prometheus refuses, and `__name__`.
        family("bad_label", MetricType::GAUGE, &[("bad-label", "x")]),
        family("named", MetricType::GAUGE, &[("__name__", "x")]),
        // A label given twice.
        family("twice", MetricType::GAUGE, &[("a", "1"), ("a", "2")]),
        // A label that the bridge injects.
        family(
            "injected_clash_total",
            MetricType::COUNTER,
            &[("zone", "a")],
        ),
        // Fine: kept.
        family("kept_total", MetricType::COUNTER, &[("zone_id", "1")]),
    ];
    registry
        .add_collector_with_labels(Box::new(Fixed(bad, Vec::new())), &[("zone", "eu")])
        .expect("bridge");
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert!(page.starts_with(ALIVE), "{page}");
    assert!(
        page.contains("# TYPE kept_total counter\nkept_total{zone=\"eu\",zone_id=\"1\"} 7\n"),
        "{page}"
    );
    assert!(page.contains(&failures_line("collector", 5)), "{page}");
    for name in ["bad_label", "named", "twice", "injected_clash_total"] {
        assert!(!page.contains(name), "{name} on the page:\n{page}");
    }
    check_with_promtool(&page);
}

#[test]
fn an_untyped_family_renders_and_a_panicking_collector_is_skipped() {
    struct Panics(Vec<Desc>);
    impl Collector for Panics {
        fn desc(&self) -> Vec<&Desc> {
            self.0.iter().collect()
        }
        fn collect(&self) -> Vec<MetricFamily> {
            panic!("a foreign collector blew up")
        }
    }
    let registry = level();
    // The prometheus crate's own encoder panics on untyped families; the page renders them.
    let mut untyped = MetricFamily::default();
    untyped.set_name("legacy".to_owned());
    untyped.set_field_type(MetricType::UNTYPED);
    untyped.set_metric(vec![Metric::default()]);
    registry.add_collector(Box::new(Fixed(vec![untyped], Vec::new())));
    registry.add_collector(Box::new(Panics(Vec::new())));
    let page = registry.prometheus_expfmt_combined().expect("scrape");
    assert!(page.starts_with(ALIVE), "{page}");
    assert!(page.contains("# TYPE legacy untyped\nlegacy 0\n"), "{page}");
    assert!(page.contains(&failures_line("collector", 1)), "{page}");
}

#[test]
fn injected_labels_are_checked_when_the_bridge_is_added() {
    let registry = MetricsRegistry::new();
    let counter = || Box::new(IntCounter::new("c_total", "C.").expect("c"));
    match registry.add_collector_with_labels(counter(), &[("bad-name", "x")]) {
        Err(Error::Bridge {
            bridged,
            kind: MetricErrorKind::InvalidLabelName { label, .. },
        }) => {
            assert_eq!(label, "bad-name");
            assert_eq!(bridged, "the collector of `c_total`");
        }
        other => panic!("{other:?}"),
    }
    let error = registry
        .add_collector_with_labels(counter(), &[("__reserved", "x")])
        .unwrap_err();
    assert!(
        matches!(
            &error,
            Error::Bridge {
                kind: MetricErrorKind::ReservedLabel { label, .. },
                ..
            } if label == "__reserved"
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with(
            "bridging the collector of `c_total`: label name `__reserved` is reserved: names \
             starting with `__`"
        ),
        "{error}"
    );
    let error = registry
        .add_collector_with_labels(counter(), &[("a", "1"), ("a", "2")])
        .unwrap_err();
    match &error {
        Error::Bridge {
            kind: MetricErrorKind::DuplicateLabel { label, .. },
            ..
        } => assert_eq!(label, "a"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        error.to_string(),
        "bridging the collector of `c_total`: label `a` is given more than once; give each label \
         once"
    );
    let error = registry
        .add_foreign_registry_with_labels(prometheus::Registry::new(), &[("a-b", "1")])
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("bridging a foreign registry: label name `a-b` is invalid"),
        "{error}"
    );
    // Nothing was bridged by the refused calls.
    assert_eq!(registry.prometheus_expfmt_combined().expect("scrape"), "");
}

/// With the engine's labels, a bridge also takes the hierarchy's values as label values; a user
/// level whose name cannot be one refuses the bridge, naming the collector, the label and the
/// value. The same bridge without injected labels is taken.
#[test]
fn an_engine_bridge_refuses_a_hierarchy_value_that_cannot_be_a_label_value() {
    let registry = MetricsRegistry::new();
    let level = NamedLevel::over(&registry, "日本", &["root", "dynamo", "backend"]);
    let metrics = EngineMetrics::from_hierarchy(level);
    let counter = || Box::new(IntCounter::new("c_total", "C.").expect("c"));
    let error = metrics
        .add_collector(counter(), BridgeLabels::Engine)
        .unwrap_err();
    match &error {
        Error::Bridge {
            bridged,
            kind: MetricErrorKind::InvalidHierarchyValue { label, value, .. },
        } => {
            assert_eq!(bridged, "the collector of `c_total`");
            assert_eq!((*label, value.as_str()), ("dynamo_endpoint", "日本"));
        }
        other => panic!("{other:?}"),
    }
    assert!(
        error.to_string().starts_with(
            "bridging the collector of `c_total`: the hierarchy's value `日本` for label \
             `dynamo_endpoint` is invalid"
        ),
        "{error}"
    );
    let error = metrics
        .add_foreign_registry(prometheus::Registry::new(), BridgeLabels::Engine)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("bridging a foreign registry: "),
        "{error}"
    );
    assert_eq!(registry.prometheus_expfmt_combined().expect("scrape"), "");
    metrics
        .add_collector(counter(), BridgeLabels::AsIs)
        .expect("no labels injected, nothing to refuse");
    assert_eq!(
        registry.prometheus_expfmt_combined().expect("scrape"),
        "# HELP c_total C.\n# TYPE c_total counter\nc_total 0\n"
    );
}

/// End to end: a real Prometheus scrapes a page with every bad text above bridged into it,
/// through a proxy that sees its answers gzip-compressed. The target stays up, and every other
/// series (native, repaired, bridged) is there.
#[test]
fn prometheus_keeps_the_target_up_whatever_the_callbacks_print() {
    let registry = level();
    let mut repaired = 0;
    for (_, text, outcome) in bad_texts() {
        registry.add_expfmt_callback(Arc::new(move || Ok(text.to_owned())));
        if matches!(outcome, Outcome::Repaired(_)) {
            repaired += 1;
        }
    }
    let server = engine_gauges::http::MetricsServer::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        registry,
    )
    .expect("server");
    let spy = GzipSpy::start(server.local_addr()).expect("proxy");
    let Some(prometheus) = PrometheusServer::start_scraping(
        "bad-text",
        [spy.addr()],
        std::time::Duration::from_secs(30),
    ) else {
        return;
    };
    let fail = |error: String| -> ! { panic!("{error}\nprometheus log:\n{}", prometheus.log()) };
    let alive = prometheus
        .query_vector("dynamo_component_alive")
        .unwrap_or_else(|e| fail(e));
    assert_eq!(alive.len(), 1, "{alive:?}");
    let bridged = prometheus
        .query_vector("{__name__=~\"ext_.*\"}")
        .unwrap_or_else(|e| fail(e));
    let mut names: Vec<_> = bridged
        .iter()
        .map(|s| s.label("__name__").to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), repaired, "repaired families: {names:?}");
    // Up once more after a few scrapes: no scrape failed in between.
    let up = prometheus
        .query_vector("min_over_time(up{job=\"bad-text\"}[5s])")
        .unwrap_or_else(|e| fail(e));
    assert!(up.iter().all(|s| s.value == 1.0), "{up:?}");
    assert!(spy.saw_gzip(), "Prometheus got no gzip answer");
}
