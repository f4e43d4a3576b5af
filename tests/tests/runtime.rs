//! The runtime: hierarchy, auto-labels, `create_metric`'s rules and the combined scrape.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use engine_gauges::error::MetricErrorKind;
use engine_gauges::prometheus::{
    Counter, Gauge, GaugeVec, Histogram, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec,
};
use engine_gauges::{
    Component, EngineConfig, EngineMetrics, Error, MetricsRegistry, MetricsRoot, create_metric,
    create_metric_with_prefix, testing::TestHierarchy,
};
use engine_gauges_tests::fixture::NamedLevel;

fn page(registry: &MetricsRegistry) -> String {
    registry.prometheus_expfmt_combined().expect("scrape")
}

fn worker() -> Component {
    MetricsRoot::with_connection_id(0xabc)
        .namespace("dynamo")
        .unwrap()
        .component("backend")
        .unwrap()
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

#[test]
fn metric_names_are_sanitized() {
    let c = worker();
    for (name, full) in [
        ("test.name", "dynamo_component_test_name"),
        ("123test", "dynamo_component__123test"),
        ("ab-cd ef", "dynamo_component_ab_cd_ef"),
    ] {
        let g: Gauge = create_metric(&c, name, "A gauge.", &[], None, None).unwrap();
        g.set(1.0);
        assert!(
            page(c.registry()).contains(&format!("\n{full}{{")),
            "{name} -> {full}"
        );
    }
    // `:` survives sanitizing but breaks the naming conventions (recording rules own it).
    let colon = create_metric::<Gauge, _>(&c, "a:b", "A gauge.", &[], None, None);
    assert!(
        matches!(&colon, Err(Error::Metric { metric, kind: MetricErrorKind::NamingConvention { .. } }) if metric == "dynamo_component_a:b"),
        "{colon:?}"
    );
    let frontend = MetricsRoot::new();
    let g: Gauge = create_metric_with_prefix(
        &frontend,
        "dynamo_frontend",
        "queued",
        "Queued.",
        &[],
        None,
        None,
    )
    .unwrap();
    g.set(1.0);
    let none: Gauge =
        create_metric_with_prefix(&frontend, "", "bare", "No prefix.", &[], None, None).unwrap();
    none.set(1.0);
    let text = page(frontend.registry());
    assert!(text.contains("\ndynamo_frontend_queued 1\n"), "{text}");
    assert!(text.contains("\nbare 1\n"), "{text}");
}

#[test]
fn every_metric_type_can_be_created() {
    let c = worker();
    let _: Gauge = create_metric(&c, "a", "h", &[], None, None).unwrap();
    let _: IntGauge = create_metric(&c, "bb", "h", &[], None, None).unwrap();
    let _: GaugeVec = create_metric(&c, "c", "h", &[], None, Some(&["x"])).unwrap();
    let _: IntGaugeVec = create_metric(&c, "dd", "h", &[], None, Some(&["x"])).unwrap();
    let _: Counter = create_metric(&c, "e_total", "h", &[], None, None).unwrap();
    let _: IntCounter = create_metric(&c, "f_total", "h", &[], None, None).unwrap();
    let _: engine_gauges::prometheus::CounterVec =
        create_metric(&c, "g_total", "h", &[], None, Some(&["x"])).unwrap();
    let _: IntCounterVec = create_metric(&c, "hh_total", "h", &[], None, Some(&["x"])).unwrap();
    let h: Histogram = create_metric(&c, "i", "h", &[], Some(vec![0.5, 1.0]), None).unwrap();
    h.observe(0.7);
    let _: HistogramVec = create_metric(&c, "j", "h", &[], None, Some(&["x"])).unwrap();
    let text = page(c.registry());
    assert!(text.contains("dynamo_component_i_bucket{dynamo_component=\"backend\",dynamo_namespace=\"dynamo\",worker_id=\"abc\",le=\"0.5\"} 0\n"), "{text}");
    assert!(text.contains("worker_id=\"abc\",le=\"1\"} 1\n"), "{text}");
}

// ---------------------------------------------------------------- create_metric's rules

/// Every rejection: the specific error, nothing registered, the page unchanged.
#[test]
fn create_metric_rejections() {
    type R = Result<(), Error>;
    let c = worker();
    let seed: Gauge = create_metric(&c, "taken", "Taken.", &[("k", "v")], None, None).unwrap();
    seed.set(1.0);
    let before = page(c.registry());

    let gauge = |name: &str, consts: &[(&str, &str)]| -> R {
        create_metric::<Gauge, _>(&c, name, "Help.", consts, None, None).map(drop)
    };
    let vec = |consts: &[(&str, &str)], names: &[&str]| -> R {
        create_metric::<GaugeVec, _>(&c, "v", "Help.", consts, None, Some(names)).map(drop)
    };
    let hist = |names: Option<&[&str]>, buckets: Option<Vec<f64>>| -> R {
        match names {
            Some(n) => create_metric::<HistogramVec, _>(&c, "hist", "Help.", &[], buckets, Some(n))
                .map(drop),
            None => {
                create_metric::<Histogram, _>(&c, "hist", "Help.", &[], buckets, None).map(drop)
            }
        }
    };

    type Case<'a> = (&'a str, R, fn(&Error) -> bool);
    let cases: Vec<Case<'_>> = vec![
        (
            "hierarchy const label",
            gauge("g", &[("dynamo_namespace", "x")]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::HierarchyInjectedLabel { label, .. }, .. } if label == "dynamo_namespace"),
        ),
        (
            "hierarchy const label worker_id",
            gauge("g", &[("worker_id", "x")]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::HierarchyInjectedLabel { label, .. }, .. } if label == "worker_id"),
        ),
        (
            "hierarchy variable label",
            vec(&[], &["dynamo_endpoint"]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::HierarchyInjectedLabel { label, .. }, .. } if label == "dynamo_endpoint"),
        ),
        (
            "duplicate const keys",
            gauge("g", &[("a", "1"), ("a", "2")]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::DuplicateLabel { label, .. }, .. } if label == "a"),
        ),
        (
            "duplicate variable names",
            vec(&[], &["a", "a"]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::DuplicateLabel { label, .. }, .. } if label == "a"),
        ),
        (
            "variable equals const",
            vec(&[("dp_rank", "0")], &["dp_rank"]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::LabelIsConstAndVariable { label, .. }, .. } if label == "dp_rank"),
        ),
        (
            "__ const label",
            gauge("g", &[("__secret", "x")]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::ReservedLabel { label, .. }, .. } if label == "__secret"),
        ),
        (
            "__ variable label",
            vec(&[], &["__name__"]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::ReservedLabel { label, .. }, .. } if label == "__name__"),
        ),
        (
            "le on a histogram",
            hist(Some(&["le"]), None),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::ReservedLabel { label, .. }, .. } if label == "le"),
        ),
        (
            "quantile",
            vec(&[], &["quantile"]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::ReservedLabel { label, .. }, .. } if label == "quantile"),
        ),
        ("empty metric name", gauge("", &[]), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::InvalidName { .. },
                    ..
                }
            )
        }),
        ("unsanitizable metric name", gauge("日本", &[]), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::InvalidName { .. },
                    ..
                }
            )
        }),
        (
            "invalid const label name",
            gauge("g", &[("a-b", "x")]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::InvalidLabelName { label, .. }, .. } if label == "a-b"),
        ),
        (
            "invalid variable label name",
            vec(&[], &["1a"]),
            |e| matches!(e, Error::Metric { kind: MetricErrorKind::InvalidLabelName { label, .. }, .. } if label == "1a"),
        ),
        (
            "empty help",
            create_metric::<Gauge, _>(&c, "g", "  ", &[], None, None).map(drop),
            |e| matches!(e, Error::Metric { metric, kind: MetricErrorKind::EmptyHelp } if metric == "dynamo_component_g"),
        ),
        ("empty buckets", hist(None, Some(vec![])), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::InvalidBuckets { .. },
                    ..
                }
            )
        }),
        ("unsorted buckets", hist(None, Some(vec![1.0, 0.5])), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::InvalidBuckets { .. },
                    ..
                }
            )
        }),
        ("repeated bucket", hist(None, Some(vec![1.0, 1.0])), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::InvalidBuckets { .. },
                    ..
                }
            )
        }),
        ("NaN bucket", hist(None, Some(vec![f64::NAN])), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::InvalidBuckets { .. },
                    ..
                }
            )
        }),
        (
            "infinite bucket",
            hist(None, Some(vec![1.0, f64::INFINITY])),
            |e| {
                matches!(
                    e,
                    Error::Metric {
                        kind: MetricErrorKind::InvalidBuckets { .. },
                        ..
                    }
                )
            },
        ),
        (
            "buckets on a gauge",
            create_metric::<Gauge, _>(&c, "g", "Help.", &[], Some(vec![1.0]), None).map(drop),
            |e| {
                matches!(
                    e,
                    Error::Metric {
                        kind: MetricErrorKind::UnexpectedBuckets { .. },
                        ..
                    }
                )
            },
        ),
        (
            "labels on a scalar",
            create_metric::<IntGauge, _>(&c, "g", "Help.", &[], None, Some(&["a"])).map(drop),
            |e| {
                matches!(
                    e,
                    Error::Metric {
                        kind: MetricErrorKind::UnexpectedLabelNames { .. },
                        ..
                    }
                )
            },
        ),
        (
            "no labels on a Vec",
            create_metric::<IntGaugeVec, _>(&c, "g", "Help.", &[], None, None).map(drop),
            |e| {
                matches!(
                    e,
                    Error::Metric {
                        kind: MetricErrorKind::MissingLabelNames { .. },
                        ..
                    }
                )
            },
        ),
        ("empty labels on a Vec", vec(&[], &[]), |e| {
            matches!(
                e,
                Error::Metric {
                    kind: MetricErrorKind::MissingLabelNames { .. },
                    ..
                }
            )
        }),
        (
            "invalid prefix",
            create_metric_with_prefix::<Gauge, _>(&c, "9x", "g", "Help.", &[], None, None)
                .map(drop),
            |e| {
                matches!(
                    e,
                    Error::Metric {
                        kind: MetricErrorKind::InvalidPrefix { .. },
                        ..
                    }
                )
            },
        ),
        (
            "second registration",
            gauge("taken", &[("k", "v")]),
            |e| matches!(e, Error::Metric { metric, kind: MetricErrorKind::AlreadyRegistered } if metric == "dynamo_component_taken"),
        ),
        (
            "same name, other labels",
            vec(&[("k", "v")], &["x"]).and(
                create_metric::<GaugeVec, _>(&c, "v", "Help.", &[("k", "w")], None, Some(&["y"]))
                    .map(drop),
            ),
            |e| {
                matches!(
                    e,
                    Error::Metric {
                        kind: MetricErrorKind::Registration { .. },
                        ..
                    }
                )
            },
        ),
    ];
    for (what, result, expected) in cases {
        match result {
            Err(e) if expected(&e) => {
                let message = e.to_string();
                assert!(
                    message.contains("`"),
                    "{what}: the message names nothing: {message}"
                );
            }
            other => panic!("{what}: got {other:?}"),
        }
    }
    // "same name, other labels" registered a first `v` on purpose; everything else left nothing.
    let after = page(c.registry());
    assert_eq!(after, before, "a refused metric changed the page");
}

#[test]
fn model_is_an_ordinary_label_for_create_metric() {
    let c = worker();
    let v: GaugeVec = create_metric(&c, "served", "Served.", &[], None, Some(&["model"])).unwrap();
    v.with_label_values(&["a"]).set(1.0);
    // A plain level injects no engine labels, so `model` is the metric's own variable label.
    assert_eq!(
        page(c.registry()),
        "# HELP dynamo_component_served Served.\n\
         # TYPE dynamo_component_served gauge\n\
         dynamo_component_served{dynamo_component=\"backend\",dynamo_namespace=\"dynamo\",model=\"a\",worker_id=\"abc\"} 1\n"
    );
    let clash = create_metric::<GaugeVec, _>(
        &c,
        "served2",
        "Served.",
        &[("model", "a")],
        None,
        Some(&["model"]),
    );
    assert!(
        matches!(
            &clash,
            Err(Error::Metric {
                kind: MetricErrorKind::LabelIsConstAndVariable { .. },
                ..
            })
        ),
        "{clash:?}"
    );
}

#[test]
fn errors_name_the_metric_and_label() {
    let c = worker();
    let e = create_metric::<Gauge, _>(&c, "load", "Help.", &[("worker_id", "7")], None, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "metric `dynamo_component_load`: label `worker_id` is automatically added by auto-label injection and cannot be set by hand; remove it (its value comes from the metrics hierarchy)"
    );
}

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
