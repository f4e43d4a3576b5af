use engine_gauges::prometheus::IntCounter;
use engine_gauges::{EngineGauges, EngineMetrics, Family, LabelValue, testing::TestHierarchy};

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    Length,
}

#[derive(LabelValue)]
enum Phase {
    Prefill,
    Decode,
}

/// The label set, named once and used by several families.
type Outcome = (FinishReason, Phase);

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by reason and phase.
    #[metric(labels("finish_reason", "phase"))]
    finished_requests_total: Family<Outcome, IntCounter>,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[])?;
    set.finished_requests_total.with((FinishReason::Length, Phase::Decode)).inc();
    let page = metrics.registry().prometheus_expfmt_combined()?;
    assert!(
        page.contains(
            "dynamo_component_finished_requests_total{finish_reason=\"length\",phase=\"decode\"} 1\n"
        ),
        "{page}"
    );
    Ok(())
}
