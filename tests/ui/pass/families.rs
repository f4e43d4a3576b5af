use engine_gauges::prometheus::{Counter, Gauge, IntCounter};
use engine_gauges::{EngineGauges, EngineMetrics, Family, LabelValue, PerRank, testing::TestHierarchy};

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    Length,
    Abort,
}

#[derive(LabelValue)]
enum Phase {
    Prefill,
    Decode,
}

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by why they finished.
    #[metric(labels("finish_reason"))]
    finished_requests_total: Family<FinishReason, IntCounter>,
    /// Share of the batch, by reason and phase.
    #[metric(labels("finish_reason", "phase"), unseeded)]
    batch_share_ratio: Family<(FinishReason, Phase), Gauge>,
    /// Seconds spent, by rank and phase.
    #[metric(labels("phase"))]
    busy_seconds_total: PerRank<Family<Phase, Counter>>,
}

fn main() -> Result<(), engine_gauges::Error> {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = Set::register(&metrics, &[0, 1])?;
    set.finished_requests_total.with(FinishReason::Length).inc();
    set.batch_share_ratio.with((FinishReason::Stop, Phase::Decode)).set(0.75);
    set.busy_seconds_total.rank(0).with(Phase::Prefill).inc_by(2.0);
    assert_eq!(set.finished_requests_total.with(FinishReason::Length).get(), 1);

    let page = metrics.registry().prometheus_expfmt_combined()?;
    // Seeded: every value renders from registration.
    assert!(page.contains("dynamo_component_finished_requests_total{finish_reason=\"length\"} 1\n"), "{page}");
    assert!(page.contains("dynamo_component_finished_requests_total{finish_reason=\"abort\"} 0\n"), "{page}");
    // Unseeded: only the combination written.
    assert!(
        page.contains("dynamo_component_batch_share_ratio{finish_reason=\"stop\",phase=\"decode\"} 0.75\n"),
        "{page}"
    );
    assert!(!page.contains("finish_reason=\"abort\",phase="), "{page}");
    // Per rank: `dp_rank` first, then the family's labels.
    assert!(page.contains("dynamo_component_busy_seconds_total{dp_rank=\"0\",phase=\"prefill\"} 2\n"), "{page}");
    assert!(page.contains("dynamo_component_busy_seconds_total{dp_rank=\"1\",phase=\"decode\"} 0\n"), "{page}");
    Ok(())
}
