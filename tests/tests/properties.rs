//! Properties of the name rules and the encoder, checked on random input (proptest, 256 cases
//! each, no failure files written): the sanitizers agree with an independent model of the rules
//! (`engine_gauges_tests::names_model`), any label value and any value round-trip through a
//! page read back by the strict parser, and `create_metric` accepts exactly what the rules allow.
//! The fuzz targets in `tests/fuzz` check the same on inputs a fuzzer finds.

use engine_gauges::names::{
    is_valid_label_name, is_valid_metric_name, sanitize_label_name, sanitize_metric_name,
};
use engine_gauges::prometheus::{Gauge, GaugeVec};
use engine_gauges::{MetricsRoot, create_metric, labels, names::COMPONENT_PREFIX};
use engine_gauges_tests::expfmt;
use engine_gauges_tests::names_model;
use engine_gauges_tests::page::scrape;
use proptest::prelude::*;

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings rich in the characters the rules care about.
fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            3 => prop::char::range('a', 'z'),
            1 => prop::char::range('0', '9'),
            2 => prop::sample::select(vec![
                '"', '\\', '\n', '\t', '\r', '_', ':', '-', '.', ' ', '{', '}', '=', ',', '#', 'é',
                '日', '\u{0}', '🦀',
            ]),
        ],
        0..max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Label names: mostly notable ones, and some arbitrary strings.
fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "a", "_", "a1", "dp_rank", "model", "le", "quantile", "__x", "__name__", "worker_id",
            "dynamo_namespace", "dynamo_endpoint", "1a", "a-b", "", "é",
        ])
        .prop_map(str::to_owned),
        1 => tricky_string(8),
    ]
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::MAX, f64::MIN, 5e-324,
        ]),
    ]
}

fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Whether `create_metric` should accept `label` as a caller's label on a gauge.
fn label_allowed(label: &str) -> bool {
    expfmt::valid_label_name(label)
        && !label.starts_with("__")
        && !labels::HIERARCHY_INJECTED.contains(&label)
        && label != "quantile"
        && label != "le"
        // promtool's camelCase rule: a lowercase letter followed by an uppercase one.
        && !label
            .as_bytes()
            .windows(2)
            .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Sanitizing a metric name follows the rule exactly, and its output always validates.
    #[test]
    fn metric_name_sanitizing_follows_the_rule(name in tricky_string(24)) {
        let got = sanitize_metric_name(&name);
        let want = names_model::metric_name(&name);
        prop_assert_eq!(got.as_ref().ok(), want.as_ref());
        match got {
            Ok(clean) => {
                prop_assert!(is_valid_metric_name(&clean));
                let again = sanitize_metric_name(&clean);
                prop_assert_eq!(again.as_deref(), Ok(clean.as_str()));
                if is_valid_metric_name(&name) && !name.starts_with(':') {
                    prop_assert_eq!(&clean, &name);
                }
            }
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
    }

    /// Sanitizing a level name follows the rule exactly, its output always validates and never
    /// starts with the reserved `__`.
    #[test]
    fn level_name_sanitizing_follows_the_rule(name in tricky_string(24)) {
        let got = sanitize_label_name(&name);
        let want = names_model::level_label_value(&name);
        prop_assert_eq!(got.as_ref().ok(), want.as_ref());
        if let Ok(clean) = got {
            prop_assert!(is_valid_label_name(&clean));
            prop_assert!(!clean.starts_with("__"));
            let again = sanitize_label_name(&clean);
            prop_assert_eq!(again.as_deref(), Ok(clean.as_str()));
        }
    }

    /// A level whose name is accepted can carry metrics; its labels follow the rule.
    #[test]
    fn accepted_levels_label_their_metrics_by_the_rule(
        outer in tricky_string(12),
        inner in tricky_string(12),
        component in tricky_string(12),
        endpoint in tricky_string(12),
    ) {
        let root = MetricsRoot::with_connection_id(0x77);
        let Ok(ns) = root.namespace(&outer) else {
            prop_assert!(names_model::level_label_value(&outer).is_none());
            return Ok(());
        };
        let ns = match ns.namespace(&inner) {
            Ok(nested) => nested,
            Err(_) => {
                prop_assert!(names_model::level_label_value(&inner).is_none());
                ns
            }
        };
        let levels = ns.component(&component).and_then(|c| c.endpoint(&endpoint).map(|e| (c, e)));
        let Ok((_, level)) = levels else {
            prop_assert!(
                names_model::level_label_value(&component).is_none()
                    || names_model::level_label_value(&endpoint).is_none()
            );
            return Ok(());
        };
        let g: Gauge = create_metric(&level, "g", "A gauge.", &[], None, None)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        g.set(1.0);
        let (_, page) = scrape(root.registry());
        let sample = page.samples("dynamo_component_g").next().expect("the gauge");
        let want = [
            (labels::NAMESPACE, names_model::level_label_value(ns.path())),
            (labels::COMPONENT, names_model::level_label_value(&component)),
            (labels::ENDPOINT, names_model::level_label_value(&endpoint)),
        ];
        for (label, value) in &want {
            prop_assert_eq!(sample.label(label), value.as_deref(), "{}", label);
        }
        prop_assert_eq!(sample.label(labels::WORKER_ID), Some("77"));
    }

    /// Any label values and any value go through the encoder and come back exactly.
    #[test]
    fn any_label_value_round_trips(
        first in tricky_string(40),
        second in any::<String>(),
        help in tricky_string(40),
        value in any_value(),
    ) {
        let root = MetricsRoot::new();
        let help = format!("h{help}");
        let vec: GaugeVec =
            create_metric(&root, "round_trip", &help, &[("constant", &first)], None, Some(&["first", "second"]))
                .unwrap();
        vec.with_label_values(&[first.as_str(), second.as_str()]).set(value);
        let (_, page) = scrape(root.registry());
        let family = page.family("dynamo_component_round_trip").expect("the family");
        prop_assert_eq!(family.help.as_deref(), Some(help.as_str()));
        prop_assert_eq!(family.samples.len(), 1);
        let sample = &family.samples[0];
        prop_assert_eq!(sample.label("first"), Some(first.as_str()));
        prop_assert_eq!(sample.label("constant"), Some(first.as_str()));
        prop_assert_eq!(sample.label("second"), Some(second.as_str()));
        prop_assert!(same_value(sample.value, value), "{} != {}", sample.value, value);
    }

    /// `create_metric` never panics: it accepts exactly the inputs the rules allow (and then the
    /// page shows the metric), and otherwise leaves the page as it was.
    #[test]
    fn create_metric_accepts_exactly_what_the_rules_allow(
        name in tricky_string(12),
        help in tricky_string(6),
        key in label_name(),
        const_value in tricky_string(12),
        variable in label_name(),
    ) {
        let root = MetricsRoot::with_connection_id(3);
        let seed: Gauge = create_metric(&root, "seed", "Seed.", &[], None, None).unwrap();
        seed.set(1.0);
        let (before, _) = scrape(root.registry());
        let result = create_metric::<GaugeVec, _>(
            &root, &name, &help, &[(key.as_str(), const_value.as_str())], None, Some(&[variable.as_str()]),
        );
        // The naming conventions are the rules crate's, checked against promtool in `lint.rs`.
        let conventional = names_model::metric_name(&name).is_some_and(|short| {
            engine_gauges_rules::check_metric_name(
                &format!("{COMPONENT_PREFIX}_{short}"),
                engine_gauges_rules::MetricType::Gauge,
            )
            .is_ok()
        });
        let allowed = conventional
            && !help.trim().is_empty()
            && label_allowed(&key)
            && label_allowed(&variable)
            && key != variable
            && names_model::metric_name(&name).as_deref() != Some("seed");
        prop_assert_eq!(result.is_ok(), allowed, "{:?}", result);
        match result {
            Ok(vec) => {
                vec.with_label_values(&["v"]).set(2.0);
                let (_, page) = scrape(root.registry());
                let full = format!("{COMPONENT_PREFIX}_{}", names_model::metric_name(&name).unwrap());
                let sample = page.samples(&full).next().expect("the new metric");
                prop_assert_eq!(sample.label(&key), Some(const_value.as_str()));
                prop_assert_eq!(sample.label(&variable), Some("v"));
                prop_assert_eq!(sample.label("worker_id"), Some("3"));
            }
            Err(_) => {
                let (after, _) = scrape(root.registry());
                prop_assert_eq!(before, after);
            }
        }
    }
}
