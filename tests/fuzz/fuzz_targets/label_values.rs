//! Label-value escaping: any label value, const or variable, any help text and any value go
//! through the encoder and the strict parser and come back exactly.
#![no_main]

use engine_gauges::prometheus::GaugeVec;
use engine_gauges::{MetricsRoot, create_metric};
use engine_gauges_tests::expfmt;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (String, String, String, f64)| {
    let (variable, constant, help, value) = input;
    let help = format!("h{help}");
    let root = MetricsRoot::new();
    let vec: GaugeVec = create_metric(
        &root,
        "fuzz",
        &help,
        &[("constant", constant.as_str())],
        None,
        Some(&["variable"]),
    )
    .expect("valid names");
    vec.with_label_values(&[variable.as_str()]).set(value);
    let text = root
        .registry()
        .prometheus_expfmt_combined()
        .expect("scrape");
    let page = expfmt::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let family = page.family("dynamo_component_fuzz").expect("the family");
    assert_eq!(family.help.as_deref(), Some(help.as_str()));
    assert_eq!(family.samples.len(), 1);
    let sample = &family.samples[0];
    assert_eq!(sample.label("variable"), Some(variable.as_str()));
    assert_eq!(sample.label("constant"), Some(constant.as_str()));
    assert!(
        sample.value.to_bits() == value.to_bits() || (sample.value.is_nan() && value.is_nan()),
        "{value:?} came back as {:?}",
        sample.value
    );
});
