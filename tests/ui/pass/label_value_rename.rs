use engine_gauges::prometheus::IntCounter;
use engine_gauges::{EngineGauges, EngineMetrics, Family, LabelValue, testing::TestHierarchy};

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    #[label(rename = "length")]
    MaxTokens,
    TimedOut,
    HTTPError,
    r#Abort,
    #[allow(non_camel_case_types)]
    r#type,
}

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by why they finished.
    #[metric(labels("finish_reason"))]
    r#finished_requests_total: Family<FinishReason, IntCounter>,
}

fn main() -> Result<(), engine_gauges::Error> {
    assert_eq!(
        FinishReason::VALUES,
        ["stop", "length", "timed_out", "http_error", "abort", "type"]
    );
    assert_eq!(FinishReason::r#type.index(), 5);

    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[])?;
    set.finished_requests_total.with(FinishReason::MaxTokens).inc();
    set.finished_requests_total.with(FinishReason::r#type).inc();

    let page = metrics.registry().prometheus_expfmt_combined()?;
    assert!(page.contains("dynamo_component_finished_requests_total{finish_reason=\"length\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_finished_requests_total{finish_reason=\"type\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_finished_requests_total{finish_reason=\"http_error\"} 0\n"), "{page}");
    Ok(())
}
