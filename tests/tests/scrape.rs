//! The combined page: what a scrape puts on it (the registries below the scraped one, merged and
//! sorted; callbacks' text), how it resolves conflicts (the first family and the first series
//! win; the rest is dropped and counted), that hostile label values and special floats survive
//! it (read back by the strict parser, promtool and a real Prometheus server), and that failing,
//! panicking and re-entrant parts cost only themselves.

use std::collections::HashMap;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Barrier, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use engine_gauges::error::{MetricErrorKind, ScrapeErrorKind};
use engine_gauges::prometheus::{Gauge, GaugeVec, Histogram, IntGauge, IntGaugeVec};
use engine_gauges::{
    EngineConfig, EngineMetrics, Error, MetricsHierarchy, MetricsRegistry, MetricsRoot,
    create_metric, http::MetricsServer, reference::LifecycleGauges, scrape::ScrapeOptions,
    testing::TestHierarchy,
};
use engine_gauges_tests::expfmt;
use engine_gauges_tests::faults::{ON_PURPOSE, Progress, WATCHDOG, quiet_panics, with_watchdog};
use engine_gauges_tests::fixture::{self, NamedLevel};
use engine_gauges_tests::hostile::hostile_values;
use engine_gauges_tests::page::{failures, promtool_check, scrape, scrape_text};
use engine_gauges_tests::programs;
use engine_gauges_tests::prometheus_server::PrometheusServer;

// ---------------------------------------------------------------------------------------- merging

#[test]
fn add_expfmt_callback_appears_in_combined_scrape() {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    metrics.add_expfmt_callback(Arc::new(|| {
        Ok("# HELP external_total From outside.\n# TYPE external_total counter\nexternal_total 3\n".to_string())
    }));
    assert_eq!(
        scrape_text(metrics.registry()),
        "# HELP external_total From outside.\n# TYPE external_total counter\nexternal_total 3\n"
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
        scrape_text(root.registry()),
        "# HELP dynamo_component_bb B.\n# TYPE dynamo_component_bb gauge\n\
dynamo_component_bb{dynamo_component=\"z\",dynamo_namespace=\"n\"} 1\n\
# HELP dynamo_component_g G.\n# TYPE dynamo_component_g gauge\n\
dynamo_component_g{dynamo_component=\"a\",dynamo_namespace=\"n\"} 1\n\
dynamo_component_g{dynamo_component=\"z\",dynamo_namespace=\"n\"} 1\n"
    );
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
        scrape_text(&parent),
        "# HELP dynamo_component_g G.\n# TYPE dynamo_component_g gauge\ndynamo_component_g 1\n"
    );
    assert_eq!(
        scrape_text(&child),
        "# HELP dynamo_component_g G.\n# TYPE dynamo_component_g gauge\ndynamo_component_g 2\n"
    );
}

/// The same gauge set registered in two registries of one tree with the same labels: the first
/// one linked is served, the page stays valid, the other set keeps working on its own page.
#[test]
fn the_same_gauge_set_in_two_registries_serves_the_first() {
    let parent = MetricsRegistry::new();
    let child = MetricsRegistry::new();
    parent.add_child_registry(&child);
    let config = EngineConfig {
        model: "m".into(),
        ..Default::default()
    };
    let on_parent = EngineMetrics::with_engine_config(NamedLevel::bare(&parent), &config);
    let on_child = EngineMetrics::with_engine_config(NamedLevel::bare(&child), &config);
    let a = LifecycleGauges::new(&on_parent, 1.0).unwrap();
    let b = LifecycleGauges::new(&on_child, 2.0).unwrap();
    // The same set twice at one level is refused and leaves the first alone.
    assert!(matches!(
        LifecycleGauges::new(&on_child, 3.0),
        Err(Error::Metric {
            kind: MetricErrorKind::AlreadyRegistered,
            ..
        })
    ));
    let (text, page) = scrape(&parent);
    assert_eq!(
        page.samples("dynamo_component_model_load_time_seconds")
            .map(|s| s.value)
            .collect::<Vec<_>>(),
        [1.0],
        "{text}"
    );
    assert_eq!(page.sample_count(), 3, "{text}");
    let (_, child_page) = scrape(&child);
    assert_eq!(
        child_page.value(
            "dynamo_component_model_load_time_seconds",
            &[("model", "m"), ("model_name", "m")]
        ),
        Some(2.0)
    );
    assert_eq!(a.model_load_time_seconds(), 1.0);
    assert_eq!(b.model_load_time_seconds(), 2.0);
    promtool_check(&text);
}

// -------------------------------------------------------------------------------------- conflicts

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
    assert_eq!(scrape_text(&parent), expected);
    assert!(
        scrape_text(&parent).contains("{kind=\"family_conflict\"} 2\n"),
        "counted per scrape"
    );
}

/// Registries that disagree on a family: by type, by help, by label names. The page keeps the
/// first family of each name whole, counts each conflict, and serves everything else.
#[test]
fn registries_that_disagree_on_families_keep_serving_the_rest() {
    let root = MetricsRoot::with_connection_id(0x2);
    let ns = root.namespace("dynamo").unwrap();
    let first = ns.component("first").unwrap();
    let second = ns.component("second").unwrap();
    let deeper = second.endpoint("deeper").unwrap();

    let by_type_gauge: Gauge =
        create_metric(&first, "by_type", "Same help.", &[], None, None).unwrap();
    by_type_gauge.set(1.0);
    // A histogram of the same name: the naming rules let no counter share a gauge's name.
    let by_type_histogram: Histogram =
        create_metric(&deeper, "by_type", "Same help.", &[], None, None).unwrap();
    by_type_histogram.observe(2.0);
    let by_help_a: Gauge = create_metric(&first, "by_help", "One help.", &[], None, None).unwrap();
    by_help_a.set(3.0);
    let by_help_b: Gauge =
        create_metric(&second, "by_help", "Another help.", &[], None, None).unwrap();
    by_help_b.set(4.0);
    // The same help and type with other label names is not a conflict: both series are served.
    let by_labels_a: GaugeVec =
        create_metric(&first, "by_labels", "Same.", &[], None, Some(&["dp_rank"])).unwrap();
    by_labels_a.with_label_values(&["0"]).set(5.0);
    let by_labels_b: GaugeVec =
        create_metric(&deeper, "by_labels", "Same.", &[], None, Some(&["rank"])).unwrap();
    by_labels_b.with_label_values(&["0"]).set(6.0);
    let untouched: IntGauge = create_metric(
        &deeper,
        "untouched",
        "Not in any conflict.",
        &[],
        None,
        None,
    )
    .unwrap();
    untouched.set(7);

    for scrape_number in 1..=3 {
        let (text, page) = scrape(root.registry());
        let values = |name: &str| -> Vec<f64> { page.samples(name).map(|s| s.value).collect() };
        assert_eq!(values("dynamo_component_by_type"), [1.0], "{text}");
        assert_eq!(
            page.family("dynamo_component_by_type")
                .map(expfmt::Family::kind),
            Some("gauge")
        );
        assert_eq!(values("dynamo_component_by_help"), [3.0], "{text}");
        assert_eq!(values("dynamo_component_by_labels"), [5.0, 6.0], "{text}");
        assert_eq!(values("dynamo_component_untouched"), [7.0], "{text}");
        assert_eq!(
            failures(&page)["family_conflict"],
            f64::from(2 * scrape_number),
            "{text}"
        );
        promtool_check(&text);
    }
    // Each level's page on its own has no conflict.
    for level in [first.registry(), second.registry()] {
        let (_, page) = scrape(level);
        assert!(failures(&page).is_empty());
    }
}

// --------------------------------------------------------------------------------- hostile values

/// A gauge per value at `level` (`hostile_labels`), labelled with its index and the value, and
/// set to its index.
fn gauge_per_label_value(level: &impl MetricsHierarchy, values: &[String]) -> GaugeVec {
    let vec: GaugeVec = create_metric(
        level,
        "hostile_labels",
        "A gauge per hostile label value.",
        &[],
        None,
        Some(&["index", "value"]),
    )
    .expect("a GaugeVec");
    for (index, value) in values.iter().enumerate() {
        vec.with_label_values(&[index.to_string().as_str(), value])
            .set(index as f64);
    }
    vec
}

/// A gauge per case at `level` (`special_values`), labelled `case`, and set to the case's value.
fn gauge_per_value(level: &impl MetricsHierarchy, cases: &[(&str, f64)]) -> GaugeVec {
    let vec: GaugeVec = create_metric(
        level,
        "special_values",
        "Special values.",
        &[],
        None,
        Some(&["case"]),
    )
    .expect("a GaugeVec");
    for (case, value) in cases {
        vec.with_label_values(&[case]).set(*value);
    }
    vec
}

#[test]
fn hostile_label_values_round_trip_through_the_page() {
    let endpoint = fixture::generate_endpoint(&MetricsRoot::with_connection_id(0xbad));
    let values = hostile_values();
    // Variable label values, two labels per series.
    let _vec = gauge_per_label_value(&endpoint, &values);
    // Caller const label values are passed through untouched.
    for (index, value) in values.iter().enumerate() {
        let g: Gauge = create_metric(
            &endpoint,
            "hostile_const_labels",
            "A gauge per hostile const label value.",
            &[("index", &index.to_string()), ("value", value)],
            None,
            None,
        )
        .expect("const gauge");
        g.set(index as f64);
    }
    // Help texts are escaped too (`\` and line feed).
    let help = "Help with \"quotes\", a back\\slash, a\nline feed, a\ttab and 日本語.";
    let h: IntGauge = create_metric(&endpoint, "hostile_help", help, &[], None, None).unwrap();
    h.set(1);

    let (text, page) = scrape(endpoint.registry());
    for family in [
        "dynamo_component_hostile_labels",
        "dynamo_component_hostile_const_labels",
    ] {
        let samples: Vec<_> = page.samples(family).collect();
        assert_eq!(samples.len(), values.len(), "{family}");
        for sample in samples {
            let index: usize = sample.label("index").unwrap().parse().unwrap();
            assert_eq!(
                sample.label("value"),
                Some(values[index].as_str()),
                "{family}: value {index} did not round-trip"
            );
            assert_eq!(sample.value, index as f64);
            assert_eq!(sample.label("dynamo_endpoint"), Some("generate"));
            assert_eq!(sample.label("worker_id"), Some("bad"));
        }
    }
    assert_eq!(
        page.family("dynamo_component_hostile_help")
            .and_then(|f| f.help.as_deref()),
        Some(help)
    );
    // No raw line feed or unescaped quote inside any label value: every line is one sample or
    // one comment (the strict parse above would have failed otherwise).
    assert_eq!(
        text.lines().count(),
        3 * 2 + 2 * values.len() + 1,
        "one line per HELP, TYPE and sample"
    );
    promtool_check(&text);
    eprintln!(
        "hostile label values: {} values (largest {} bytes) as variable and const labels, and a \
         hostile help text: page of {} bytes parsed back exactly{}",
        values.len(),
        values.iter().map(String::len).max().unwrap_or(0),
        text.len(),
        if programs::promtool().is_some() {
            ", promtool passed"
        } else {
            ""
        }
    );
}

/// NaN and the infinities print as `NaN`, `inf` and `-inf`; Go's `ParseFloat` (Prometheus,
/// promtool) reads those back to the same value, and so does the strict parser. Finite values
/// print in Rust's shortest round-trip form and come back bit for bit.
#[test]
fn special_float_values_round_trip() {
    let cases: Vec<(&str, f64)> = vec![
        ("nan", f64::NAN),
        ("pos_inf", f64::INFINITY),
        ("neg_inf", f64::NEG_INFINITY),
        ("zero", 0.0),
        ("neg_zero", -0.0),
        ("max", f64::MAX),
        ("min", f64::MIN),
        ("min_positive", f64::MIN_POSITIVE),
        ("smallest_subnormal", 5e-324),
        ("point_three", 0.1 + 0.2),
        ("big", 1e21),
        ("small", 1e-7),
        ("pi", std::f64::consts::PI),
        ("two_pow_53_plus_one", 9_007_199_254_740_993.0),
    ];
    let root = MetricsRoot::new();
    let _floats = gauge_per_value(&root, &cases);
    let ints: IntGaugeVec = create_metric(
        &root,
        "int_extremes",
        "Integer extremes.",
        &[],
        None,
        Some(&["case"]),
    )
    .unwrap();
    ints.with_label_values(&["max"]).set(i64::MAX);
    ints.with_label_values(&["min"]).set(i64::MIN);
    let (text, page) = scrape(root.registry());
    for (case, value) in &cases {
        let got = page
            .value_where("dynamo_component_special_values", "case", case)
            .unwrap();
        assert!(
            got.to_bits() == value.to_bits() || (got.is_nan() && value.is_nan()),
            "{case}: wrote {value:?}, read back {got:?}"
        );
    }
    for (case, token) in [("nan", "NaN"), ("pos_inf", "inf"), ("neg_inf", "-inf")] {
        assert!(
            text.contains(&format!("case=\"{case}\"}} {token}\n")),
            "{case} prints as {token}: {text}"
        );
    }
    // Integer gauges go through `f64` in the encoder: i64::MAX prints rounded (documented).
    assert!(
        text.contains("case=\"max\"} 9223372036854776000\n"),
        "{text}"
    );
    assert!(
        text.contains("case=\"min\"} -9223372036854776000\n"),
        "{text}"
    );
    promtool_check(&text);
}

/// The real server reads the page: hostile label values and NaN/±Inf come back from its query API
/// exactly (an empty label value, as Prometheus defines it, is no label at all).
#[test]
fn prometheus_reads_hostile_values_and_infinities_back() {
    let root = MetricsRoot::with_connection_id(0xbad);
    let values = hostile_values();
    let _labels = gauge_per_label_value(&root, &values);
    let _specials = gauge_per_value(
        &root,
        &[
            ("nan", f64::NAN),
            ("pos_inf", f64::INFINITY),
            ("neg_inf", f64::NEG_INFINITY),
            ("max", f64::MAX),
            ("subnormal", 5e-324),
        ],
    );
    let server = MetricsServer::start(([127, 0, 0, 1], 0).into(), root.registry().clone())
        .expect("metrics server");
    let Some(prometheus) =
        PrometheusServer::start_scraping("hostile", [server.local_addr()], Duration::from_secs(30))
    else {
        return;
    };
    let samples = prometheus
        .wait_for(
            "dynamo_component_hostile_labels",
            Duration::from_secs(30),
            |s| s.len() == values.len(),
        )
        .unwrap_or_else(|error| panic!("{error}"));
    for sample in &samples {
        let index: usize = sample.label("index").parse().unwrap();
        let want = &values[index];
        if want.is_empty() {
            assert!(
                !sample.labels.contains_key("value"),
                "an empty label value is absent in Prometheus: {sample:?}"
            );
        } else {
            assert_eq!(sample.label("value"), want, "value {index}");
        }
        assert_eq!(sample.value, index as f64);
    }
    let specials = prometheus
        .query_vector("dynamo_component_special_values")
        .expect("query");
    let by_case: HashMap<&str, f64> = specials
        .iter()
        .map(|s| (s.label("case"), s.value))
        .collect();
    assert!(by_case["nan"].is_nan(), "{specials:?}");
    assert_eq!(by_case["pos_inf"], f64::INFINITY);
    assert_eq!(by_case["neg_inf"], f64::NEG_INFINITY);
    assert_eq!(by_case["max"], f64::MAX);
    assert_eq!(by_case["subnormal"], 5e-324);
    eprintln!(
        "prometheus server: scraped {} hostile label values (largest {} bytes) and NaN/+Inf/-Inf \
         printed as NaN/inf/-inf; its query API gave every value back exactly",
        values.len(),
        values.iter().map(String::len).max().unwrap_or(0)
    );
}

// ---------------------------------------------------------------------------------- failing parts

#[test]
fn failing_and_panicking_callbacks_are_skipped_and_counted() {
    let (parent, child) = two_level_with_conflict();
    let clean = scrape_text(&child);
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

    let text = scrape_text(&child);
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
    let parent_text = scrape_text(&parent);
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

/// Text from a callback is appended verbatim: text that is not exposition format makes a
/// Prometheus server reject the whole page. Expected: such text is dropped and counted like a
/// failing callback, and the rest of the page stays valid.
#[test]
fn malformed_text_from_a_callback_does_not_cost_the_page() {
    let root = MetricsRoot::new();
    let g: Gauge = create_metric(&root, "alive", "Alive.", &[], None, None).unwrap();
    g.set(1.0);
    root.registry()
        .add_expfmt_callback(Arc::new(|| Ok("broken{ 1\n".to_owned())));
    root.registry().add_expfmt_callback(Arc::new(|| {
        Ok("# TYPE dynamo_component_alive counter\ndynamo_component_alive 2\n".to_owned())
    }));
    let (text, page) = scrape(root.registry());
    assert_eq!(page.samples("dynamo_component_alive").count(), 1, "{text}");
    assert_eq!(failures(&page)["text_callback"], 2.0, "{text}");
}

/// A `fmt::Write` that panics on its first write.
struct PanickingWriter;

impl fmt::Write for PanickingWriter {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        panic!("{ON_PURPOSE} the formatter's writer failed");
    }
}

/// A writer that panics while it formats a registry (`MetricsRegistry`'s `Debug` counts its lists
/// first and holds no lock while the writer runs): every later use of the registry goes on as if
/// nothing happened. This guards the rule that no caller code runs under a runtime lock: a
/// `Debug` that wrote while holding its locks would poison them here.
#[test]
fn a_panicking_debug_writer_leaves_the_registry_usable() {
    quiet_panics();
    let progress = Arc::new(Progress::default());
    with_watchdog("poisoned locks", WATCHDOG, progress, || {
        let root = MetricsRoot::with_connection_id(1);
        let ns = root.namespace("dynamo").unwrap();
        let g: Gauge = create_metric(&ns, "before", "Before the panic.", &[], None, None).unwrap();
        g.set(1.0);
        ns.registry()
            .add_expfmt_callback(Arc::new(|| Ok("bridged_before 1\n".to_owned())));
        for registry in [root.registry(), ns.registry()] {
            let panicked = catch_unwind(AssertUnwindSafe(|| {
                use fmt::Write as _;
                let _ = write!(PanickingWriter, "{registry:?}");
            }));
            assert!(panicked.is_err(), "the writer did not panic");
        }
        // Every entry point that takes those locks still works.
        let (text, page) = scrape(root.registry());
        assert_eq!(page.samples("dynamo_component_before").count(), 1, "{text}");
        assert_eq!(page.samples("bridged_before").count(), 1, "{text}");
        ns.registry().add_update_callback(Arc::new(|| Ok(())));
        ns.registry()
            .add_expfmt_callback(Arc::new(|| Ok("bridged_after 1\n".to_owned())));
        let component = ns.component("backend").unwrap();
        let after: Gauge =
            create_metric(&component, "after", "After the panic.", &[], None, None).unwrap();
        after.set(2.0);
        let child = MetricsRegistry::new();
        ns.registry().add_child_registry(&child);
        let debug = format!("{:?}", ns.registry());
        assert!(debug.contains("children: 2"), "{debug}");
        let (text, page) = scrape(root.registry());
        assert_eq!(page.samples("dynamo_component_after").count(), 1, "{text}");
        assert_eq!(page.samples("bridged_before").count(), 1, "{text}");
        assert_eq!(page.samples("bridged_after").count(), 1, "{text}");
    });
}

// ------------------------------------------------------------------------------- re-entrant parts

/// Callbacks that call back into the registry (add callbacks, link children, create metrics,
/// scrape a child, format the registry) and then fail: no deadlock, and what they did while the
/// scrape ran shows on the next page.
#[test]
fn callbacks_that_reenter_the_registry_and_then_panic() {
    quiet_panics();
    let progress = Arc::new(Progress::default());
    with_watchdog("re-entrant callbacks", WATCHDOG, progress, || {
        let root = MetricsRoot::new();
        let ns = root.namespace("dynamo").unwrap();
        let component = ns.component("backend").unwrap();
        let inner: Gauge =
            create_metric(&component, "inner", "Below the callback.", &[], None, None).unwrap();
        inner.set(3.0);
        let runs = Arc::new(AtomicUsize::new(0));
        {
            let registry = ns.registry().clone();
            let (ns, component, runs) = (ns.clone(), component.clone(), Arc::clone(&runs));
            registry.add_update_callback(Arc::new(move || {
                let run = runs.fetch_add(1, Ordering::SeqCst);
                // Scraping a descendant from inside a scrape.
                let (_, below) = scrape(component.registry());
                assert_eq!(below.samples("dynamo_component_inner").count(), 1);
                // Formatting the registry takes its locks: none may be held by the scrape.
                let _ = format!("{:?}", ns.registry());
                // Growing the level during its own scrape.
                let level = ns.component(&format!("grown-{run}"))?;
                let g: IntGauge =
                    create_metric(&level, "grown", "Created during a scrape.", &[], None, None)?;
                g.set(run as i64);
                ns.registry()
                    .add_expfmt_callback(Arc::new(move || Ok(format!("added_by_run_{run} 1\n"))));
                ns.registry().add_child_registry(&MetricsRegistry::new());
                panic!("{ON_PURPOSE} after re-entering the registry");
            }));
        }
        {
            let component = component.clone();
            ns.registry().add_expfmt_callback(Arc::new(move || {
                let (text, _) = scrape(component.registry());
                Ok(format!("component_page_bytes {}\n", text.len()))
            }));
        }
        for scrape_number in 1..=3usize {
            let (text, page) = scrape(root.registry());
            assert_eq!(page.samples("dynamo_component_inner").count(), 1, "{text}");
            // A scrape renders the tree as it was when the scrape began: levels created by its
            // own update callbacks show from the next scrape on.
            assert_eq!(
                page.samples("dynamo_component_grown").count(),
                scrape_number - 1,
                "{text}"
            );
            assert_eq!(failures(&page)["update_callback"], scrape_number as f64);
            // Text callbacks are read after the update callbacks ran: one added by an update
            // callback runs in the same scrape.
            for run in 0..scrape_number {
                let family = format!("added_by_run_{run}");
                assert_eq!(page.samples(&family).count(), 1, "{text}");
            }
        }
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    });
}

/// An update callback that scrapes the very registry it belongs to recurses without end. Run in
/// a child process (the recursion overflows the stack, which aborts the process), which must
/// come back with a page rather than die. The child must have run this very test: a child that
/// ran no test would pass without checking anything.
#[test]
fn an_update_callback_that_scrapes_its_own_registry_does_not_kill_the_process() {
    const CHILD: &str = "ENGINE_GAUGES_SELF_SCRAPE_CHILD";
    if std::env::var_os(CHILD).is_some() {
        let root = MetricsRoot::new();
        let registry = root.registry().clone();
        let g: Gauge = create_metric(&root, "alive", "Alive.", &[], None, None).unwrap();
        g.set(1.0);
        root.registry().add_update_callback(Arc::new(move || {
            registry.prometheus_expfmt_combined()?;
            Ok(())
        }));
        let (text, _) = scrape(root.registry());
        assert!(text.contains("dynamo_component_alive 1\n"), "{text}");
        return;
    }
    let exe = std::env::current_exe().expect("the test binary");
    let output = std::process::Command::new(exe)
        .args([
            "--exact",
            "an_update_callback_that_scrapes_its_own_registry_does_not_kill_the_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child process died: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the child did not run the test:\n{stdout}"
    );
}

/// A callback scraping its own registry from a thread it spawns. The inner scrape gets a clear
/// error by its deadline; the outer returns within its own (with its page, since the callback
/// returned in time); nothing nests further. The two deadlines are far apart, so that which
/// returns first does not depend on the machine's load.
#[test]
fn a_callback_scraping_its_registry_from_another_thread_nests_once() {
    let registry = MetricsRegistry::new();
    let entered = Arc::new(AtomicUsize::new(0));
    let (inner_tx, inner_rx) = mpsc::channel();
    {
        let (registry, entered) = (registry.clone(), Arc::clone(&entered));
        let inner_tx = std::sync::Mutex::new(inner_tx);
        registry.clone().add_update_callback(Arc::new(move || {
            if entered.fetch_add(1, Ordering::SeqCst) == 0 {
                let registry = registry.clone();
                let inner = thread::spawn(move || {
                    let started = Instant::now();
                    let result = registry
                        .scrape(&ScrapeOptions::new().with_timeout(Duration::from_millis(300)));
                    (result.map(|page| page.len()), started.elapsed())
                })
                .join()
                .map_err(|_| "the inner scrape panicked")?;
                let _ = inner_tx.lock().map(|tx| tx.send(inner));
            }
            Ok(())
        }));
    }
    let started = Instant::now();
    let outer = registry.scrape(&ScrapeOptions::new().with_timeout(Duration::from_secs(5)));
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "the outer scrape took {took:?}"
    );
    assert!(outer.is_ok(), "the outer scrape: {outer:?}");
    let (inner, inner_took) = inner_rx
        .recv_timeout(Duration::from_secs(5))
        .expect("the inner scrape returned");
    assert!(
        inner_took >= Duration::from_millis(300) && inner_took < Duration::from_secs(3),
        "the inner scrape took {inner_took:?}"
    );
    match inner {
        Err(Error::Scrape(ScrapeErrorKind::Timeout { running, .. })) => {
            assert_eq!(running, "update callback #1 of the scraped registry");
        }
        other => panic!("the inner scrape: {other:?}"),
    }
    assert_eq!(
        entered.load(Ordering::SeqCst),
        1,
        "the inner scrape did not nest"
    );
    // Later scrapes are served.
    let page = registry.prometheus_expfmt_combined();
    assert!(page.is_ok(), "{page:?}");
    assert_eq!(entered.load(Ordering::SeqCst), 2);
}

/// A part never runs twice at once: scrapes of two levels that share a callback (the child's,
/// which the parent's page includes) run it one after the other.
#[test]
fn a_callback_never_runs_twice_at_once() {
    let parent = MetricsRegistry::new();
    let child = MetricsRegistry::new();
    parent.add_child_registry(&child);
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    {
        let (inside, most) = (Arc::clone(&inside), Arc::clone(&most));
        child.add_update_callback(Arc::new(move || {
            let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(200));
            inside.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }));
    }
    let start = Arc::new(Barrier::new(2));
    let scrapers: Vec<_> = [parent, child]
        .into_iter()
        .map(|registry| {
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                registry.prometheus_expfmt_combined()
            })
        })
        .collect();
    for scraper in scrapers {
        let page = scraper.join().expect("scraper");
        assert!(page.is_ok(), "{page:?}");
    }
    assert_eq!(
        most.load(Ordering::SeqCst),
        1,
        "the callback ran twice at once"
    );
}

/// Formatting a registry with `{:?}` into a writer that itself uses the registry (a logger that
/// scrapes, say) must not deadlock.
#[test]
fn formatting_a_registry_into_a_writer_that_uses_it_does_not_deadlock() {
    struct Reentrant(MetricsRegistry);
    impl fmt::Write for Reentrant {
        fn write_str(&mut self, _: &str) -> fmt::Result {
            self.0.add_expfmt_callback(Arc::new(|| Ok(String::new())));
            Ok(())
        }
    }
    let registry = MetricsRegistry::new();
    let (done, finished) = mpsc::channel();
    let writer = Reentrant(registry.clone());
    // Not joined when it deadlocks: the thread is left behind and the test fails.
    thread::spawn(move || {
        use fmt::Write as _;
        let mut writer = writer;
        let _ = write!(writer, "{registry:?}");
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(Duration::from_secs(5)).is_ok(),
        "formatting the registry deadlocked"
    );
}
