//! Name sanitizing and validation: every input either sanitizes to exactly what the rule says
//! (and the result validates, and sanitizes to itself) or is refused exactly when the rule refuses
//! it; level creation and `create_metric` agree with the sanitizers and never panic.
#![no_main]

use engine_gauges::error::LevelErrorKind;
use engine_gauges::names::{
    is_valid_label_name, is_valid_metric_name, sanitize_label_name, sanitize_metric_name,
};
use engine_gauges::prometheus::Gauge;
use engine_gauges::{Error, MetricsRoot, create_metric};
use engine_gauges_tests::{expfmt, names_model};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    // The validators are the Prometheus grammar.
    assert_eq!(
        is_valid_metric_name(input),
        expfmt::valid_metric_name(input)
    );
    assert_eq!(is_valid_label_name(input), expfmt::valid_label_name(input));

    // Metric names.
    let metric = sanitize_metric_name(input);
    assert_eq!(
        metric.as_ref().ok(),
        names_model::metric_name(input).as_ref()
    );
    if let Ok(clean) = &metric {
        assert!(is_valid_metric_name(clean), "{clean:?}");
        assert_eq!(sanitize_metric_name(clean).as_ref(), Ok(clean));
    }

    // Level names, which become label values.
    let level = sanitize_label_name(input);
    let want = names_model::level_label_value(input);
    assert_eq!(level.as_ref().ok(), want.as_ref());
    if let Ok(clean) = &level {
        assert!(is_valid_label_name(clean), "{clean:?}");
        assert!(!clean.starts_with("__"), "{clean:?}");
        assert_eq!(sanitize_label_name(clean).as_ref(), Ok(clean));
    }

    // A level is created exactly when its name sanitizes, and then carries metrics.
    let root = MetricsRoot::new();
    match root.namespace(input) {
        Ok(ns) => {
            let g: Gauge = create_metric(&ns, "g", "A gauge.", &[], None, None)
                .expect("an accepted level carries metrics");
            g.set(1.0);
            let text = root
                .registry()
                .prometheus_expfmt_combined()
                .expect("scrape");
            let page = expfmt::parse(&text).unwrap_or_else(|e| panic!("{e}"));
            let sample = page
                .samples("dynamo_component_g")
                .next()
                .expect("the gauge");
            assert_eq!(sample.label("dynamo_namespace"), want.as_deref());
        }
        Err(Error::Level {
            kind: LevelErrorKind::InvalidName { .. },
            ..
        }) => assert!(want.is_none()),
        Err(other) => panic!("unexpected error {other:?}"),
    }

    // The input as a metric name and as a caller's label name: an answer, never a panic.
    let _ = create_metric::<Gauge, _>(&root, input, "Help.", &[], None, None);
    let _ = create_metric::<Gauge, _>(&root, "l", "Help.", &[(input, "v")], None, None);
    let text = root
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    expfmt::parse(&text).unwrap_or_else(|e| panic!("{e}"));
});
