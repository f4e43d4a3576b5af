//! Counters, histograms and typed families: seeding, writes through every handle, counters from
//! snapshots, histogram timers, the lifecycle family, `create_metric`'s refusals, promtool, and
//! registration rollback.

use engine_gauges::error::MetricErrorKind;
use engine_gauges::prometheus::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec,
};
use engine_gauges::reference::{ShutdownReason, ShutdownStage};
use engine_gauges::{
    CreateMetric, EngineConfig, EngineGauges, EngineMetrics, Error, Family, LabelValue,
    MetricsRoot, PerRank, create_metric, metric::MetricKind, reference::LifecycleGauges,
    testing::TestHierarchy,
};
use engine_gauges_tests::fixture;
use engine_gauges_tests::page::scrape_text;
use engine_gauges_tests::{programs, promtool};

/// A level with no labels at all, and no model: series carry only their own labels.
fn bare() -> EngineMetrics {
    EngineMetrics::from_hierarchy(TestHierarchy::new())
}

/// `# HELP` and `# TYPE` of one family, then its rows (`labels` without braces, empty for none).
fn family(name: &str, help: &str, ty: &str, rows: &[(&str, &str)]) -> String {
    let mut s = format!("# HELP {name} {help}\n# TYPE {name} {ty}\n");
    for (labels, value) in rows {
        if labels.is_empty() {
            s.push_str(&format!("{name} {value}\n"));
        } else {
            s.push_str(&format!("{name}{{{labels}}} {value}\n"));
        }
    }
    s
}

/// [`family`] with owned label strings.
fn family_owned(name: &str, help: &str, ty: &str, rows: &[(String, &str)]) -> String {
    let rows: Vec<(&str, &str)> = rows.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    family(name, help, ty, &rows)
}

/// The rows of one histogram series: `_bucket` per bound (with `+Inf`), `_sum`, `_count`.
fn histogram_rows(name: &str, labels: &str, buckets: &[(&str, u64)], sum: &str) -> String {
    let sep = if labels.is_empty() { "" } else { "," };
    let mut s = String::new();
    for (le, count) in buckets {
        s.push_str(&format!(
            "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {count}\n"
        ));
    }
    let count = buckets.last().map_or(0, |&(_, count)| count);
    if labels.is_empty() {
        s.push_str(&format!("{name}_sum {sum}\n{name}_count {count}\n"));
    } else {
        s.push_str(&format!(
            "{name}_sum{{{labels}}} {sum}\n{name}_count{{{labels}}} {count}\n"
        ));
    }
    s
}

fn histogram_header(name: &str, help: &str) -> String {
    format!("# HELP {name} {help}\n# TYPE {name} histogram\n")
}

#[derive(Clone, Copy, Debug, LabelValue)]
enum Reason {
    Stop,
    Length,
    Abort,
}

#[derive(Clone, Copy, Debug, LabelValue)]
enum Phase {
    Prefill,
    Decode,
}

#[derive(Clone, Copy, Debug, LabelValue)]
enum Outcome {
    Ok,
    Error,
}

// ------------------------------------------------------------------------------------ seeding

#[derive(Debug, EngineGauges)]
struct Seeding {
    /// Requests finished, by why they finished.
    #[metric(labels("finish_reason"))]
    finished_total: Family<Reason, IntCounter>,
    /// Requests finished on each rank, by why they finished.
    #[metric(labels("finish_reason"))]
    rank_finished_total: PerRank<Family<Reason, IntCounter>>,
    /// Seconds one engine step took, by phase and outcome.
    #[metric(labels("phase", "outcome"), buckets = [0.1, 1.0])]
    step_duration_seconds: Family<(Phase, Outcome), Histogram>,
    /// Requests retried, by why they were retried.
    #[metric(labels("finish_reason"), unseeded)]
    retried_total: Family<Reason, IntCounter>,
}

const FINISHED: &str = "dynamo_component_finished_total";
const FINISHED_HELP: &str = "Requests finished, by why they finished.";
const RANK_FINISHED: &str = "dynamo_component_rank_finished_total";
const RANK_FINISHED_HELP: &str = "Requests finished on each rank, by why they finished.";
const STEP: &str = "dynamo_component_step_duration_seconds";
const STEP_HELP: &str = "Seconds one engine step took, by phase and outcome.";
const RETRIED: &str = "dynamo_component_retried_total";
const RETRIED_HELP: &str = "Requests retried, by why they were retried.";

/// The page of a fresh `Seeding` registered with ranks `[0, 1]`.
fn seeding_page_at_zero() -> String {
    let reasons = ["abort", "length", "stop"];
    let finished: Vec<(String, &str)> = reasons
        .iter()
        .map(|r| (format!("finish_reason=\"{r}\""), "0"))
        .collect();
    let rank_finished: Vec<(String, &str)> = [0, 1]
        .iter()
        .flat_map(|rank| {
            reasons
                .iter()
                .map(move |r| (format!("dp_rank=\"{rank}\",finish_reason=\"{r}\""), "0"))
        })
        .collect();
    let mut step = histogram_header(STEP, STEP_HELP);
    for outcome in ["error", "ok"] {
        for phase in ["decode", "prefill"] {
            step.push_str(&histogram_rows(
                STEP,
                &format!("outcome=\"{outcome}\",phase=\"{phase}\""),
                &[("0.1", 0), ("1", 0), ("+Inf", 0)],
                "0",
            ));
        }
    }
    family_owned(FINISHED, FINISHED_HELP, "counter", &finished)
        + &family_owned(RANK_FINISHED, RANK_FINISHED_HELP, "counter", &rank_finished)
        + &step
}

#[test]
fn typed_families_show_every_combination_at_zero_on_the_first_scrape() {
    let metrics = bare();
    let set = Seeding::register(&metrics, &[0, 1]).unwrap();
    assert_eq!(scrape_text(metrics.registry()), seeding_page_at_zero());
    // Reading the seeded series through their handles changes nothing.
    assert_eq!(set.finished_total.with(Reason::Abort).get(), 0);
    assert_eq!(set.rank_finished_total.rank(1).with(Reason::Stop).get(), 0);
    let step = set
        .step_duration_seconds
        .with((Phase::Decode, Outcome::Error));
    assert_eq!((step.sample_count(), step.sample_sum()), (0, 0.0));
    assert_eq!(scrape_text(metrics.registry()), seeding_page_at_zero());
}

#[test]
fn an_unseeded_family_is_absent_until_written_then_shows_only_the_written_series() {
    let metrics = bare();
    let set = Seeding::register(&metrics, &[0, 1]).unwrap();
    let before = scrape_text(metrics.registry());
    assert!(!before.contains(RETRIED), "{before}");
    set.retried_total.with(Reason::Length).inc_by(2);
    let retried = family(
        RETRIED,
        RETRIED_HELP,
        "counter",
        &[("finish_reason=\"length\"", "2")],
    );
    // `retried_total` sorts between `rank_finished_total` and `step_duration_seconds`.
    let at_zero = seeding_page_at_zero();
    let split = at_zero.find(&format!("# HELP {STEP} ")).unwrap();
    let expected = format!("{}{retried}{}", &at_zero[..split], &at_zero[split..]);
    assert_eq!(scrape_text(metrics.registry()), expected);
    assert_eq!(set.retried_total.with(Reason::Length).get(), 2);
}

// ------------------------------------------------------------------------ writes through handles

#[derive(Debug, EngineGauges)]
struct Handles {
    /// Tokens generated.
    tokens_total: PerRank<IntCounter>,
    /// Seconds spent busy.
    busy_seconds_total: PerRank<Counter>,
    /// Seconds one step took.
    #[metric(buckets = [0.1, 1.0])]
    step_seconds: PerRank<Histogram>,
    /// Requests running.
    running_requests: PerRank<IntGauge>,
    /// Requests in flight, by phase and outcome.
    #[metric(labels("phase", "outcome"))]
    phase_requests: Family<(Phase, Outcome), IntGauge>,
    /// Requests finished on each rank, by why they finished.
    #[metric(labels("finish_reason"))]
    finished_total: PerRank<Family<Reason, IntCounter>>,
}

#[test]
fn writes_through_each_handle_land_on_the_right_series() {
    let metrics = bare();
    let set = Handles::register(&metrics, &[0, 1]).unwrap();

    set.tokens_total.rank(1).inc();
    set.tokens_total.rank(1).inc_by(4);
    set.tokens_total.rank(7).inc_by(3); // undeclared: the slow path
    assert_eq!(set.tokens_total.rank(1).get(), 5);
    assert_eq!(set.tokens_total.rank(7).get(), 3);

    set.busy_seconds_total.rank(0).inc_by(2.5);
    set.busy_seconds_total.rank(0).inc();
    assert_eq!(set.busy_seconds_total.rank(0).get(), 3.5);

    set.step_seconds.rank(0).observe(0.05);
    set.step_seconds.rank(0).observe(0.5);
    set.step_seconds.rank(7).observe(2.0);
    assert_eq!(set.step_seconds.rank(0).sample_count(), 2);
    assert_eq!(set.step_seconds.rank(0).sample_sum(), 0.55);

    let running = set.running_requests.rank(1);
    running.set(10);
    running.inc();
    running.dec();
    running.dec();
    running.add(5);
    running.sub(3);
    assert_eq!(running.get(), 11);
    set.running_requests.set(0, -2);
    set.running_requests.rank(7).add(4);

    set.phase_requests
        .with((Phase::Decode, Outcome::Error))
        .set(6);
    set.phase_requests.with((Phase::Prefill, Outcome::Ok)).inc();

    set.finished_total.rank(1).with(Reason::Abort).inc();
    set.finished_total.rank(0).with(Reason::Stop).inc_by(2);
    set.finished_total.rank(7).with(Reason::Length).inc();
    assert_eq!(set.finished_total.rank(0).with(Reason::Stop).get(), 2);

    let name = |short: &str| format!("dynamo_component_{short}");
    let mut steps = histogram_header(&name("step_seconds"), "Seconds one step took.");
    steps += &histogram_rows(
        &name("step_seconds"),
        "dp_rank=\"0\"",
        &[("0.1", 1), ("1", 2), ("+Inf", 2)],
        "0.55",
    );
    steps += &histogram_rows(
        &name("step_seconds"),
        "dp_rank=\"1\"",
        &[("0.1", 0), ("1", 0), ("+Inf", 0)],
        "0",
    );
    steps += &histogram_rows(
        &name("step_seconds"),
        "dp_rank=\"7\"",
        &[("0.1", 0), ("1", 0), ("+Inf", 1)],
        "2",
    );
    let expected = family(
        &name("busy_seconds_total"),
        "Seconds spent busy.",
        "counter",
        &[("dp_rank=\"0\"", "3.5"), ("dp_rank=\"1\"", "0")],
    ) + &family(
        &name("finished_total"),
        "Requests finished on each rank, by why they finished.",
        "counter",
        &[
            ("dp_rank=\"0\",finish_reason=\"abort\"", "0"),
            ("dp_rank=\"0\",finish_reason=\"length\"", "0"),
            ("dp_rank=\"0\",finish_reason=\"stop\"", "2"),
            ("dp_rank=\"1\",finish_reason=\"abort\"", "1"),
            ("dp_rank=\"1\",finish_reason=\"length\"", "0"),
            ("dp_rank=\"1\",finish_reason=\"stop\"", "0"),
            ("dp_rank=\"7\",finish_reason=\"length\"", "1"),
        ],
    ) + &family(
        &name("phase_requests"),
        "Requests in flight, by phase and outcome.",
        "gauge",
        &[
            ("outcome=\"error\",phase=\"decode\"", "6"),
            ("outcome=\"error\",phase=\"prefill\"", "0"),
            ("outcome=\"ok\",phase=\"decode\"", "0"),
            ("outcome=\"ok\",phase=\"prefill\"", "1"),
        ],
    ) + &family(
        &name("running_requests"),
        "Requests running.",
        "gauge",
        &[
            ("dp_rank=\"0\"", "-2"),
            ("dp_rank=\"1\"", "11"),
            ("dp_rank=\"7\"", "4"),
        ],
    ) + &steps
        + &family(
            &name("tokens_total"),
            "Tokens generated.",
            "counter",
            &[
                ("dp_rank=\"0\"", "0"),
                ("dp_rank=\"1\"", "5"),
                ("dp_rank=\"7\"", "3"),
            ],
        );
    assert_eq!(scrape_text(metrics.registry()), expected);
}

#[test]
fn counter_inc_by_refuses_negative_and_nan_without_panicking() {
    let metrics = bare();
    let set = Handles::register(&metrics, &[0]).unwrap();
    let busy = set.busy_seconds_total.rank(0);
    busy.inc_by(1.25);
    busy.inc_by(-1.0);
    assert_eq!(busy.get(), 1.25);
    busy.inc_by(f64::NAN);
    assert_eq!(busy.get(), 1.25);
    busy.inc_by(f64::NEG_INFINITY);
    assert_eq!(busy.get(), 1.25);
    let text = scrape_text(metrics.registry());
    assert!(
        text.contains("dynamo_component_busy_seconds_total{dp_rank=\"0\"} 1.25\n"),
        "{text}"
    );
}

#[test]
fn a_histogram_timer_records_once_or_not_at_all() {
    let metrics = bare();
    let set = Handles::register(&metrics, &[0]).unwrap();
    let step = || set.step_seconds.rank(0);

    let elapsed = step().start_timer().observe_duration();
    assert!(elapsed >= 0.0);
    assert_eq!(step().sample_count(), 1, "observe_duration records one");
    assert_eq!(step().sample_sum(), elapsed);

    drop(step().start_timer());
    assert_eq!(step().sample_count(), 2, "dropping a timer records one");

    let discarded = step().start_timer().stop_and_discard();
    assert!(discarded >= 0.0);
    assert_eq!(step().sample_count(), 2, "stop_and_discard records none");

    let text = scrape_text(metrics.registry());
    assert!(
        text.contains("dynamo_component_step_seconds_count{dp_rank=\"0\"} 2\n"),
        "{text}"
    );
}

// ------------------------------------------------------------------------ counters from snapshots

#[derive(Debug, Default)]
struct Snap {
    total: Option<u64>,
    rank_total: Option<u64>,
    dp_rank: u32,
}

#[derive(Debug, EngineGauges)]
#[gauges(snapshot = Snap)]
struct Totals {
    /// Requests served since the engine started.
    #[metric(from = total)]
    requests_total: IntCounter,
    /// Requests served on each rank since the engine started.
    #[metric(from = rank_total)]
    rank_requests_total: PerRank<IntCounter>,
}

#[test]
fn counters_follow_snapshot_totals_and_restart_on_a_lower_total() {
    let metrics = bare();
    let set = Totals::register(&metrics, &[0, 1]).unwrap();
    let expected = |total: &str, rank1: &str| {
        family(
            "dynamo_component_rank_requests_total",
            "Requests served on each rank since the engine started.",
            "counter",
            &[("dp_rank=\"0\"", "0"), ("dp_rank=\"1\"", rank1)],
        ) + &family(
            "dynamo_component_requests_total",
            "Requests served since the engine started.",
            "counter",
            &[("", total)],
        )
    };
    let update = |total: Option<u64>| {
        set.update(&Snap {
            total,
            rank_total: total,
            dp_rank: 1,
        })
    };

    update(Some(5));
    assert_eq!(
        (
            set.requests_total.get(),
            set.rank_requests_total.rank(1).get()
        ),
        (5, 5)
    );
    assert_eq!(scrape_text(metrics.registry()), expected("5", "5"));

    update(Some(9));
    assert_eq!(
        (
            set.requests_total.get(),
            set.rank_requests_total.rank(1).get()
        ),
        (9, 9)
    );
    assert_eq!(scrape_text(metrics.registry()), expected("9", "9"));

    update(Some(3)); // the source restarted
    assert_eq!(
        (
            set.requests_total.get(),
            set.rank_requests_total.rank(1).get()
        ),
        (3, 3)
    );
    assert_eq!(scrape_text(metrics.registry()), expected("3", "3"));

    update(None);
    assert_eq!(
        (
            set.requests_total.get(),
            set.rank_requests_total.rank(1).get()
        ),
        (3, 3)
    );
    assert_eq!(set.rank_requests_total.rank(0).get(), 0);
    assert_eq!(scrape_text(metrics.registry()), expected("3", "3"));
}

// ------------------------------------------------------------------------------------- lifecycle

#[test]
fn lifecycle_shutdown_stage_appears_with_exactly_the_observed_series() {
    // A `TestHierarchy` has no hierarchy labels and `from_hierarchy` adds no model labels.
    let metrics = bare();
    let lifecycle = LifecycleGauges::new(&metrics, 2.5).unwrap();
    let gauges = family(
        "dynamo_component_cleanup_time_seconds",
        "Time spent releasing engine resources during shutdown. Set by the framework once after engine.cleanup() returns.",
        "gauge",
        &[("", "0")],
    ) + &family(
        "dynamo_component_drain_time_seconds",
        "Time spent draining in-flight work before cleanup. Stays at 0 for engines without a drain hook.",
        "gauge",
        &[("", "0")],
    ) + &family(
        "dynamo_component_model_load_time_seconds",
        "Time engine.start() took to return. Set once at Worker setup.",
        "gauge",
        &[("", "2.5")],
    );
    assert_eq!(
        scrape_text(metrics.registry()),
        gauges,
        "absent before any stage"
    );

    lifecycle.observe_shutdown_stage(ShutdownStage::Inflight, ShutdownReason::TimedOut, 1.5);
    let stage = family(
        "dynamo_component_shutdown_stage_seconds",
        "Seconds one stage of the graceful shutdown took, by stage and by how it ended. A stage that never ran has no series.",
        "gauge",
        &[("reason=\"timed_out\",stage=\"inflight\"", "1.5")],
    );
    assert_eq!(scrape_text(metrics.registry()), gauges + &stage);
}

#[test]
fn lifecycle_shutdown_stage_with_hierarchy_labels() {
    let endpoint = fixture::generate_endpoint(&MetricsRoot::with_connection_id(0x2a));
    let config = EngineConfig {
        model: "qwen".into(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let lifecycle = LifecycleGauges::new(&metrics, 1.0).unwrap();
    lifecycle.observe_shutdown_stage(ShutdownStage::Inflight, ShutdownReason::TimedOut, 1.5);
    let text = scrape_text(metrics.registry());
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("dynamo_component_shutdown_stage_seconds"))
        .collect();
    assert_eq!(
        rows,
        [
            "dynamo_component_shutdown_stage_seconds{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",model=\"qwen\",model_name=\"qwen\",reason=\"timed_out\",stage=\"inflight\",worker_id=\"2a\"} 1.5"
        ],
        "{text}"
    );
}

#[test]
fn lifecycle_descriptor_lists_the_stage_and_reason_labels_and_values() {
    let d = LifecycleGauges::DESCRIPTORS
        .iter()
        .find(|d| d.name == "dynamo_component_shutdown_stage_seconds")
        .expect("descriptor");
    assert_eq!(d.kind, MetricKind::GaugeVec);
    assert!(!d.per_rank);
    assert!(!d.seeded);
    assert_eq!(d.variable_labels, ["stage", "reason"]);
    assert_eq!(
        d.label_values,
        [
            &[
                "unregister",
                "router_grace",
                "stop_admission",
                "inflight",
                "kv_transfer",
                "cleanup"
            ][..],
            &[
                "completed",
                "timed_out",
                "skipped",
                "cancelled",
                "unsupported"
            ][..],
        ]
    );
    assert_eq!(d.label_values[0], ShutdownStage::VALUES);
    assert_eq!(d.label_values[1], ShutdownReason::VALUES);
}

// ------------------------------------------------------------------------ create_metric refusals

/// A level holding one gauge, so "unchanged" means something.
fn occupied() -> TestHierarchy {
    let level = TestHierarchy::new();
    let gauge: Gauge =
        create_metric(&level, "queue_depth", "Queue depth.", &[], None, None).unwrap();
    gauge.set(3.0);
    level
}

/// Creates `name` as a `T`, expects a refusal that names the full metric, and checks the page is
/// unchanged.
fn refused<T: CreateMetric>(
    name: &str,
    buckets: Option<Vec<f64>>,
    labels: Option<&[&str]>,
) -> Error {
    use engine_gauges::MetricsHierarchy;
    let level = occupied();
    let before = scrape_text(level.get_metrics_registry());
    let err = create_metric::<T, _>(&level, name, "Some help.", &[], buckets, labels)
        .expect_err("create_metric must refuse it");
    let full = format!("dynamo_component_{name}");
    assert!(
        err.to_string().contains(&full),
        "the message names `{full}`: {err}"
    );
    assert_eq!(
        scrape_text(level.get_metrics_registry()),
        before,
        "the page changed"
    );
    err
}

#[test]
fn refuses_a_counter_without_total() {
    let err = refused::<IntCounter>("requests", None, None);
    assert!(
        matches!(&err, Error::Metric { metric, kind: MetricErrorKind::NamingConvention { metric_kind: MetricKind::IntCounter, .. } } if metric == "dynamo_component_requests"),
        "{err:?}"
    );
}

#[test]
fn refuses_a_gauge_ending_in_total() {
    let err = refused::<Gauge>("blocks_total", None, None);
    assert!(
        matches!(
            &err,
            Error::Metric {
                kind: MetricErrorKind::NamingConvention {
                    metric_kind: MetricKind::Gauge,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_a_histogram_ending_in_count() {
    let err = refused::<Histogram>("tokens_count", None, None);
    assert!(
        matches!(
            &err,
            Error::Metric {
                kind: MetricErrorKind::NamingConvention {
                    metric_kind: MetricKind::Histogram,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_a_type_word_in_the_name() {
    let err = refused::<Gauge>("queue_gauge", None, None);
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::NamingConvention { reason, .. }, .. } if reason.contains("gauge")),
        "{err:?}"
    );
}

#[test]
fn refuses_milliseconds_and_names_seconds() {
    let err = refused::<Histogram>("latency_milliseconds", None, None);
    assert!(
        matches!(
            &err,
            Error::Metric {
                kind: MetricErrorKind::NamingConvention { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("_seconds"), "{err}");
}

#[test]
fn refuses_kb_and_names_bytes() {
    let err = refused::<IntGauge>("cache_kb", None, None);
    assert!(
        matches!(
            &err,
            Error::Metric {
                kind: MetricErrorKind::NamingConvention { .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("_bytes"), "{err}");
}

#[test]
fn refuses_a_camel_case_name() {
    let err = refused::<Gauge>("queueDepth", None, None);
    assert!(
        matches!(&err, Error::Metric { metric, kind: MetricErrorKind::NamingConvention { .. } } if metric == "dynamo_component_queueDepth"),
        "{err:?}"
    );
}

#[test]
fn refuses_a_colon_in_the_name() {
    let err = refused::<Gauge>("queue:depth", None, None);
    assert!(
        matches!(&err, Error::Metric { metric, kind: MetricErrorKind::NamingConvention { .. } } if metric == "dynamo_component_queue:depth"),
        "{err:?}"
    );
}

#[test]
fn refuses_le_on_a_gauge_vec() {
    let err = refused::<GaugeVec>("queue_size", None, Some(&["le"]));
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::ReservedLabel { label, .. }, .. } if label == "le"),
        "{err:?}"
    );
}

#[test]
fn refuses_quantile() {
    let err = refused::<IntCounterVec>("requests_total", None, Some(&["quantile"]));
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::ReservedLabel { label, .. }, .. } if label == "quantile"),
        "{err:?}"
    );
}

#[test]
fn refuses_a_camel_case_label() {
    let err = refused::<IntGaugeVec>("waiting_requests", None, Some(&["loraAdapter"]));
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::LabelNamingConvention { label, .. }, .. } if label == "loraAdapter"),
        "{err:?}"
    );
}

#[test]
fn refuses_buckets_not_increasing() {
    let err = refused::<Histogram>("latency_seconds", Some(vec![1.0, 0.5]), None);
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::InvalidBuckets { buckets, .. }, .. } if buckets == &[1.0, 0.5]),
        "{err:?}"
    );
}

#[test]
fn refuses_nan_buckets() {
    let err = refused::<Histogram>("latency_seconds", Some(vec![0.1, f64::NAN]), None);
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::InvalidBuckets { buckets, .. }, .. } if buckets.len() == 2 && buckets[1].is_nan()),
        "{err:?}"
    );
}

#[test]
fn refuses_empty_buckets() {
    let err = refused::<HistogramVec>("latency_seconds", Some(Vec::new()), Some(&["phase"]));
    assert!(
        matches!(&err, Error::Metric { kind: MetricErrorKind::InvalidBuckets { buckets, .. }, .. } if buckets.is_empty()),
        "{err:?}"
    );
}

#[test]
fn no_buckets_on_a_histogram_give_the_default_buckets() {
    let level = TestHierarchy::new();
    let histogram: Histogram =
        create_metric(&level, "latency_seconds", "Latency.", &[], None, None).unwrap();
    histogram.observe(0.2);
    let text = {
        use engine_gauges::MetricsHierarchy;
        scrape_text(level.get_metrics_registry())
    };
    let bounds: Vec<f64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("dynamo_component_latency_seconds_bucket{le=\""))
        .map(|rest| {
            let le = &rest[..rest.find('"').unwrap()];
            if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            }
        })
        .collect();
    let mut expected = engine_gauges::buckets::DEFAULT.to_vec();
    expected.push(f64::INFINITY);
    assert_eq!(bounds, expected, "{text}");
}

// --------------------------------------------------------------------------------------- promtool

#[derive(Debug, EngineGauges)]
struct Everything {
    /// Requests waiting.
    waiting_requests: IntGauge,
    /// GPU utilisation (0.0-1.0).
    gpu_utilization_ratio: Gauge,
    /// Requests served.
    served_total: IntCounter,
    /// Seconds spent in prefill.
    prefill_seconds_total: Counter,
    /// Seconds from request to first token.
    #[metric(buckets = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS)]
    time_to_first_token_seconds: Histogram,
    /// Requests queued, by adapter.
    #[metric(labels("lora_adapter"))]
    queued_requests: IntGaugeVec,
    /// Temperature of each sensor, in celsius.
    #[metric(labels("sensor"))]
    temperature_celsius: GaugeVec,
    /// Requests refused, by cause.
    #[metric(labels("cause"))]
    refused_total: IntCounterVec,
    /// Bytes sent, by peer.
    #[metric(labels("peer"))]
    sent_bytes_total: CounterVec,
    /// Seconds a request waited, by priority.
    #[metric(labels("priority"), buckets = [0.5, 1.0, 5.0])]
    queue_wait_seconds: HistogramVec,
    /// KV cache blocks on each rank.
    kv_blocks: PerRank<IntGauge>,
    /// KV cache usage on each rank (0.0-1.0).
    kv_usage_ratio: PerRank<Gauge>,
    /// Tokens generated on each rank.
    tokens_total: PerRank<IntCounter>,
    /// Seconds busy on each rank.
    busy_seconds_total: PerRank<Counter>,
    /// Seconds one step took on each rank.
    #[metric(buckets = engine_gauges::buckets::TOKEN_LATENCY_SECONDS)]
    step_seconds: PerRank<Histogram>,
    /// Requests finished, by why they finished.
    #[metric(labels("finish_reason"))]
    finished_total: Family<Reason, IntCounter>,
    /// Requests in flight, by phase and outcome.
    #[metric(labels("phase", "outcome"))]
    phase_requests: Family<(Phase, Outcome), Gauge>,
    /// Seconds a phase took, by phase.
    #[metric(labels("phase"), buckets = [0.1, 1.0])]
    phase_seconds: Family<Phase, Histogram>,
    /// Requests finished on each rank, by why they finished.
    #[metric(labels("finish_reason"))]
    rank_finished_total: PerRank<Family<Reason, Counter>>,
}

#[test]
fn a_set_with_every_kind_passes_promtool() {
    let Some(promtool) = programs::promtool() else {
        return;
    };
    let endpoint = fixture::generate_endpoint(&MetricsRoot::with_connection_id(0x2a));
    let config = EngineConfig {
        model: "qwen".into(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let set = Everything::register(&metrics, &[0, 1]).unwrap();
    set.waiting_requests.set(2);
    set.gpu_utilization_ratio.set(0.5);
    set.served_total.inc();
    set.prefill_seconds_total.inc_by(0.25);
    set.time_to_first_token_seconds.observe(0.3);
    set.queued_requests.with_label_values(&["base"]).set(1);
    set.temperature_celsius
        .with_label_values(&["gpu0"])
        .set(61.5);
    set.refused_total.with_label_values(&["full"]).inc();
    set.sent_bytes_total
        .with_label_values(&["peer0"])
        .inc_by(1024.0);
    set.queue_wait_seconds
        .with_label_values(&["high"])
        .observe(0.7);
    set.kv_blocks.rank(0).set(4096);
    set.kv_usage_ratio.rank(1).set(0.25);
    set.tokens_total.rank(3).inc_by(7);
    set.busy_seconds_total.rank(1).inc_by(1.5);
    set.step_seconds.rank(0).observe(0.02);
    set.finished_total.with(Reason::Stop).inc();
    set.phase_requests
        .with((Phase::Decode, Outcome::Ok))
        .set(3.0);
    set.phase_seconds.with(Phase::Prefill).observe(0.4);
    set.rank_finished_total
        .rank(1)
        .with(Reason::Abort)
        .inc_by(2.0);
    let text = scrape_text(metrics.registry());
    for d in Everything::DESCRIPTORS {
        assert!(
            text.contains(&format!("# TYPE {} ", d.name)),
            "{} missing: {text}",
            d.name
        );
    }
    promtool::check_metrics(&promtool, &text).unwrap_or_else(|findings| panic!("{findings}"));
}

// --------------------------------------------------------------------------------------- rollback

/// Its registration is meant to fail, so its fields are never read.
#[allow(dead_code)]
#[derive(Debug, EngineGauges)]
struct Colliding {
    /// Requests waiting.
    waiting_requests: IntGauge,
    /// Requests served.
    served_total: IntCounter,
    /// Seconds one step took on each rank.
    #[metric(buckets = [0.1, 1.0])]
    step_seconds: PerRank<Histogram>,
}

#[test]
fn a_failed_registration_rolls_back_and_leaves_the_page_byte_identical() {
    let metrics = bare();
    let squatter: IntCounter = create_metric(
        metrics.hierarchy(),
        "served_total",
        "Requests served.",
        &[],
        None,
        None,
    )
    .unwrap();
    squatter.inc_by(4);
    let before = scrape_text(metrics.registry());
    assert_eq!(
        before,
        family(
            "dynamo_component_served_total",
            "Requests served.",
            "counter",
            &[("", "4")]
        )
    );
    let err = Colliding::register(&metrics, &[0, 1]).unwrap_err();
    assert!(
        matches!(&err, Error::Metric { metric, kind: MetricErrorKind::AlreadyRegistered } if metric == "dynamo_component_served_total"),
        "{err:?}"
    );
    assert_eq!(scrape_text(metrics.registry()), before);
    // The first field's name is free again: it was unregistered.
    let waiting: IntGauge = create_metric(
        metrics.hierarchy(),
        "waiting_requests",
        "Requests waiting.",
        &[],
        None,
        None,
    )
    .unwrap();
    waiting.set(1);
}

#[derive(Debug, EngineGauges)]
#[gauges(prefix = "")]
struct Sparse {
    /// Requests by rank and reason.
    #[metric(labels("reason"))]
    sparse_total: PerRank<Family<Reason, IntCounter>>,
}

#[test]
fn a_per_rank_family_takes_undeclared_ranks_inside_and_outside_its_table() {
    let metrics = bare();
    // Ranks 0 and 2 declared: rank 1 lies inside the table, rank 9 outside it.
    let set = Sparse::register(&metrics, &[0, 2]).unwrap();
    let rows = |page: &str| {
        page.lines()
            .filter(|line| line.starts_with("sparse_total{"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows(&scrape_text(metrics.registry())).len(),
        6,
        "2 declared ranks by 3 reasons"
    );
    set.sparse_total.rank(1).with(Reason::Length).inc();
    set.sparse_total.rank(1).with(Reason::Length).inc();
    set.sparse_total.rank(9).with(Reason::Stop).inc_by(3);
    set.sparse_total.rank(9).with(Reason::Stop).inc();
    assert_eq!(set.sparse_total.rank(1).with(Reason::Length).get(), 2);
    assert_eq!(set.sparse_total.rank(9).with(Reason::Stop).get(), 4);
    let text = scrape_text(metrics.registry());
    let rows = rows(&text);
    // Only the series written appear for undeclared ranks.
    assert_eq!(rows.len(), 8, "{text}");
    assert!(
        rows.contains(&"sparse_total{dp_rank=\"1\",reason=\"length\"} 2".to_owned()),
        "{text}"
    );
    assert!(
        rows.contains(&"sparse_total{dp_rank=\"9\",reason=\"stop\"} 4".to_owned()),
        "{text}"
    );
}

#[derive(Debug, EngineGauges)]
#[gauges(prefix = "")]
struct Bounded {
    /// Blocks by rank, at most two undeclared ranks.
    #[metric(max_undeclared_ranks = 2, unseeded)]
    blocks: PerRank<IntGauge>,
    /// Requests by rank and reason, the default bound.
    #[metric(labels("reason"))]
    handled_total: PerRank<Family<Reason, IntCounter>>,
}

#[test]
fn undeclared_ranks_are_bounded_and_dropped_writes_counted() {
    let metrics = bare();
    let set = Bounded::register(&metrics, &[0, 4]).unwrap();
    let text = scrape_text(metrics.registry());
    assert!(
        !text.contains("engine_gauges_dropped_writes_total"),
        "{text}"
    );

    // Declared ranks never count against the bound, seeded or not, and neither do the ranks
    // between them (the table holds their series already).
    set.blocks.rank(0).set(1);
    set.blocks.rank(4).set(1);
    set.blocks.rank(2).set(2);
    set.blocks.rank(3).set(3);
    // Two ranks outside the declared span are taken.
    set.blocks.rank(9).set(9);
    set.blocks.rank(9).set(10);
    set.blocks.rank(1_000).set(4);
    // A third is dropped, as often as it is written, and counted.
    set.blocks.set(77, 5);
    set.blocks.rank(78).set(6);
    set.blocks.rank(77).set(7);
    assert_eq!(set.blocks.rank(9).get(), 10);

    let text = scrape_text(metrics.registry());
    let blocks: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("blocks{"))
        .collect();
    // Series sort by their label values as text, as prometheus sorts them.
    assert_eq!(
        blocks,
        [
            "blocks{dp_rank=\"0\"} 1",
            "blocks{dp_rank=\"1000\"} 4",
            "blocks{dp_rank=\"2\"} 2",
            "blocks{dp_rank=\"3\"} 3",
            "blocks{dp_rank=\"4\"} 1",
            "blocks{dp_rank=\"9\"} 10",
        ],
        "{text}"
    );
    assert!(
        text.contains(
            "# TYPE engine_gauges_dropped_writes_total counter\n\
             engine_gauges_dropped_writes_total{metric=\"blocks\"} 3\n"
        ),
        "{text}"
    );
    // The bound is per family: the typed family still takes undeclared ranks.
    set.handled_total.rank(2).with(Reason::Stop).inc();
    assert_eq!(set.handled_total.rank(2).with(Reason::Stop).get(), 1);
}

#[test]
fn twenty_thousand_undeclared_ranks_cost_a_bounded_page() {
    let metrics = bare();
    let set = Bounded::register(&metrics, &[0]).unwrap();
    for rank in 1..=20_000 {
        set.handled_total.rank(rank).with(Reason::Length).inc();
    }
    let text = scrape_text(metrics.registry());
    let series = text
        .lines()
        .filter(|line| line.starts_with("handled_total{"))
        .count();
    // Rank 0's three seeded series, and one series for each of the 256 undeclared ranks taken.
    assert_eq!(
        series,
        3 + engine_gauges::limits::DEFAULT_MAX_UNDECLARED_RANKS as usize,
        "{text}"
    );
    let dropped = 20_000 - engine_gauges::limits::DEFAULT_MAX_UNDECLARED_RANKS;
    assert!(
        text.contains(&format!(
            "engine_gauges_dropped_writes_total{{metric=\"handled_total\"}} {dropped}\n"
        )),
        "{text}"
    );
}
