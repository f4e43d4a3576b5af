//! The crate's own store, and how long what it holds lives: its pages are byte for byte what
//! prometheus's `TextEncoder` renders for the equivalent prometheus metrics; a gauge set's series
//! live exactly as long as the set; a level of the hierarchy leaves the tree when its handles are
//! gone and nothing on it can still be written, and not before (see `MetricsRoot`'s
//! documentation, section Lifetime), or when it is removed.

use std::sync::Arc;

use engine_gauges::error::{LevelErrorKind, MetricErrorKind};
use engine_gauges::prometheus::{
    self, CounterVec, Encoder, Gauge, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts, TextEncoder,
};
use engine_gauges::{
    Component, EngineConfig, EngineGauges, EngineMetrics, Error, Family, LabelValue,
    MetricsRegistry, MetricsRoot, PerRank, create_metric,
};
use engine_gauges_tests::fixture;
use engine_gauges_tests::page::scrape_text;
use proptest::prelude::*;

// -------------------------------------------------------------------------------------- rendering

#[derive(Clone, Copy, Debug, LabelValue)]
enum Phase {
    Prefill,
    #[label(rename = "de\"code\\n")]
    Decode,
}

#[derive(Clone, Copy, Debug, LabelValue)]
enum Outcome {
    Ok,
    #[label(rename = "tab\there\nnewline")]
    Failed,
    Zz,
}

const PHASES: [Phase; 2] = [Phase::Prefill, Phase::Decode];
const OUTCOMES: [Outcome; 3] = [Outcome::Ok, Outcome::Failed, Outcome::Zz];

/// Help texts with every character the format escapes.
#[derive(Debug, EngineGauges)]
#[gauges(const_labels(engine = "mo\"ck\\er\n"))]
struct Everything {
    /// Blocks, by rank. A \ backslash and a "quote".
    blocks: PerRank<IntGauge>,
    /// Usage, by rank.
    #[metric(unseeded)]
    usage: PerRank<Gauge>,
    /// Tokens, by rank.
    tokens_total: PerRank<IntCounter>,
    /// Seconds busy, by rank.
    busy_seconds_total: PerRank<engine_gauges::prometheus::Counter>,
    /// Latency, by rank.
    #[metric(buckets = [0.005, 0.25, 1.0, 1e3])]
    latency_seconds: PerRank<Histogram>,
    /// Steps, by phase and outcome.
    #[metric(labels("phase", "outcome"))]
    steps_total: Family<(Phase, Outcome), IntCounter>,
    /// Step time, by phase.
    #[metric(labels("phase"), buckets = [0.5, 2.0])]
    step_seconds: Family<Phase, Histogram>,
    /// Requests, by rank and outcome.
    #[metric(labels("outcome"))]
    requests_total: PerRank<Family<Outcome, IntCounter>>,
}

/// One value written to every series of [`Everything`], and the same written to prometheus's own
/// metrics with the same names, labels and help.
#[derive(Clone, Debug)]
struct Writes {
    ranks: Vec<u32>,
    gauge: i64,
    float: f64,
    count: u64,
    fcount: f64,
    observations: Vec<f64>,
}

fn writes() -> impl Strategy<Value = Writes> {
    let float = prop_oneof![
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(0.0),
        Just(i64::MAX as f64),
        Just(1e300),
        Just(5e-324),
        any::<f64>(),
        -1e6..1e6f64,
    ];
    let count = prop_oneof![
        Just(0u64),
        Just((1u64 << 53) + 1),
        Just(u64::MAX),
        any::<u64>()
    ];
    (
        prop::collection::btree_set(0u32..12, 1..5),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), any::<i64>()],
        float.clone(),
        count,
        prop_oneof![Just(0.0), Just(1e300), 0.0..1e9f64],
        prop::collection::vec(prop_oneof![float, 0.0..3.0f64], 0..6),
    )
        .prop_map(
            |(ranks, gauge, float, count, fcount, observations)| Writes {
                ranks: ranks.into_iter().collect(),
                gauge,
                float,
                count,
                fcount,
                observations,
            },
        )
}

/// The page of a level holding only `Everything`, written with `w`.
fn ours(w: &Writes) -> String {
    let root = MetricsRoot::with_connection_id(0xa1);
    let endpoint = root
        .namespace("dyn-amo")
        .unwrap()
        .component("back end")
        .unwrap()
        .endpoint("gen\"erate")
        .unwrap();
    let config = EngineConfig {
        model: "Qwen/\"Qwen\"\\3".into(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    let set = Everything::register(&metrics, &w.ranks).unwrap();
    for &rank in &w.ranks {
        set.blocks.rank(rank).set(w.gauge);
        set.usage.rank(rank).set(w.float);
        set.tokens_total.rank(rank).inc_by(w.count);
        set.busy_seconds_total.rank(rank).inc_by(w.fcount);
        for &o in &w.observations {
            set.latency_seconds.rank(rank).observe(o);
        }
        for outcome in OUTCOMES {
            set.requests_total
                .rank(rank)
                .with(outcome)
                .inc_by(w.count / 3);
        }
    }
    for phase in PHASES {
        for outcome in OUTCOMES {
            set.steps_total.with((phase, outcome)).inc_by(w.count / 7);
        }
        for &o in &w.observations {
            set.step_seconds.with(phase).observe(o);
        }
    }
    root.registry().prometheus_expfmt_combined().unwrap()
}

/// The same page, made of prometheus's own metrics and rendered by its `TextEncoder`.
fn theirs(w: &Writes) -> String {
    let registry = prometheus::Registry::new();
    let consts = [
        ("dynamo_component", "back_end"),
        ("dynamo_endpoint", "gen_erate"),
        ("dynamo_namespace", "dyn_amo"),
        ("engine", "mo\"ck\\er\n"),
        ("model", "Qwen/\"Qwen\"\\3"),
        ("model_name", "Qwen/\"Qwen\"\\3"),
        ("worker_id", "a1"),
    ];
    let opts = |name: &str, help: &str| {
        let mut opts = Opts::new(format!("dynamo_component_{name}"), help);
        for (k, v) in consts {
            opts = opts.const_label(k, v);
        }
        opts
    };
    let reg = |c: Box<dyn prometheus::core::Collector>| registry.register(c).unwrap();
    let blocks = IntGaugeVec::new(
        opts("blocks", "Blocks, by rank. A \\ backslash and a \"quote\"."),
        &["dp_rank"],
    )
    .unwrap();
    let usage = prometheus::GaugeVec::new(opts("usage", "Usage, by rank."), &["dp_rank"]).unwrap();
    let tokens =
        IntCounterVec::new(opts("tokens_total", "Tokens, by rank."), &["dp_rank"]).unwrap();
    let busy = CounterVec::new(
        opts("busy_seconds_total", "Seconds busy, by rank."),
        &["dp_rank"],
    )
    .unwrap();
    let latency = HistogramVec::new(
        HistogramOpts::from(opts("latency_seconds", "Latency, by rank."))
            .buckets(vec![0.005, 0.25, 1.0, 1e3]),
        &["dp_rank"],
    )
    .unwrap();
    let steps = IntCounterVec::new(
        opts("steps_total", "Steps, by phase and outcome."),
        &["phase", "outcome"],
    )
    .unwrap();
    let step_seconds = HistogramVec::new(
        HistogramOpts::from(opts("step_seconds", "Step time, by phase.")).buckets(vec![0.5, 2.0]),
        &["phase"],
    )
    .unwrap();
    let requests = IntCounterVec::new(
        opts("requests_total", "Requests, by rank and outcome."),
        &["dp_rank", "outcome"],
    )
    .unwrap();
    for c in [
        Box::new(blocks.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(usage.clone()),
        Box::new(tokens.clone()),
        Box::new(busy.clone()),
        Box::new(latency.clone()),
        Box::new(steps.clone()),
        Box::new(step_seconds.clone()),
        Box::new(requests.clone()),
    ] {
        reg(c);
    }
    for &rank in &w.ranks {
        let r = rank.to_string();
        blocks.with_label_values(&[&r]).set(w.gauge);
        usage.with_label_values(&[&r]).set(w.float);
        tokens.with_label_values(&[&r]).inc_by(w.count);
        busy.with_label_values(&[&r]).inc_by(w.fcount);
        let h = latency.with_label_values(&[&r]);
        for &o in &w.observations {
            h.observe(o);
        }
        for outcome in OUTCOMES {
            requests
                .with_label_values(&[&r, outcome_value(outcome)])
                .inc_by(w.count / 3);
        }
    }
    // Ranks between the declared ones are in the table but not on the page: nothing to do.
    for phase in PHASES {
        for outcome in OUTCOMES {
            steps
                .with_label_values(&[phase_value(phase), outcome_value(outcome)])
                .inc_by(w.count / 7);
        }
        let h = step_seconds.with_label_values(&[phase_value(phase)]);
        for &o in &w.observations {
            h.observe(o);
        }
    }
    let mut out = Vec::new();
    TextEncoder::new()
        .encode(&registry.gather(), &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn phase_value(p: Phase) -> &'static str {
    Phase::VALUES[p.index()]
}

fn outcome_value(o: Outcome) -> &'static str {
    Outcome::VALUES[o.index()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every kind, hostile label values and help texts, NaN, ±Inf, -0, `i64::MAX` through `f64`,
    /// counters past 2^53, histograms with NaN and infinite observations: the same bytes.
    #[test]
    fn the_store_renders_what_the_text_encoder_renders(w in writes()) {
        prop_assert_eq!(ours(&w), theirs(&w));
    }
}

// --------------------------------------------------------------------------- a gauge set's series

#[derive(Debug, EngineGauges)]
#[gauges(prefix = "")]
struct Owned {
    /// Blocks by rank.
    blocks: PerRank<IntGauge>,
    /// Steps by phase.
    #[metric(labels("phase"))]
    phases_total: Family<Phase, IntCounter>,
}

#[test]
fn a_dropped_set_leaves_the_page_and_can_register_again() {
    let metrics = EngineMetrics::from_hierarchy(MetricsRoot::new());
    let set = Owned::register(&metrics, &[0, 1]).unwrap();
    set.blocks.rank(1).set(7);
    assert!(scrape_text(metrics.registry()).contains("blocks{dp_rank=\"1\"} 7\n"));
    // Registered twice while the first lives: refused, and the first keeps its page.
    assert!(matches!(
        Owned::register(&metrics, &[0]),
        Err(Error::Metric { metric, kind: MetricErrorKind::AlreadyRegistered }) if metric == "blocks"
    ));
    drop(set);
    assert_eq!(
        scrape_text(metrics.registry()),
        "",
        "a dropped set leaves nothing on the page"
    );
    let again = Owned::register(&metrics, &[3]).unwrap();
    again.blocks.rank(3).set(1);
    let text = scrape_text(metrics.registry());
    assert!(text.contains("blocks{dp_rank=\"3\"} 1\n"), "{text}");
    assert!(!text.contains("dp_rank=\"1\""), "{text}");
}

#[test]
fn a_removed_series_leaves_the_page_and_a_later_write_brings_it_back() {
    let metrics = EngineMetrics::from_hierarchy(MetricsRoot::new());
    let set = Owned::register(&metrics, &[0, 1]).unwrap();
    set.blocks.set(1, 7);
    set.phases_total.with(Phase::Decode).inc_by(4);
    set.blocks.remove(1);
    set.phases_total.remove(Phase::Decode);
    let text = scrape_text(metrics.registry());
    assert!(!text.contains("dp_rank=\"1\""), "{text}");
    assert!(!text.contains("phase=\"de"), "{text}");
    assert!(text.contains("blocks{dp_rank=\"0\"} 0\n"), "{text}");
    // Not lost: the next write is on the page, from zero.
    set.blocks.set(1, 7);
    set.phases_total.with(Phase::Decode).inc();
    let text = scrape_text(metrics.registry());
    assert!(text.contains("blocks{dp_rank=\"1\"} 7\n"), "{text}");
    assert!(
        text.contains("phases_total{phase=\"de\\\"code\\\\n\"} 1\n"),
        "{text}"
    );
}

#[test]
fn a_new_model_name_does_not_double_count() {
    let endpoint = fixture::generate_endpoint(&MetricsRoot::with_connection_id(1));
    let first = EngineMetrics::with_engine_config(
        endpoint.clone(),
        &EngineConfig {
            model: "old".into(),
            ..Default::default()
        },
    );
    let set = Owned::register(&first, &[0]).unwrap();
    set.blocks.rank(0).set(10);
    drop(set);
    let second = EngineMetrics::with_engine_config(
        endpoint,
        &EngineConfig {
            model: "new".into(),
            ..Default::default()
        },
    );
    let set = Owned::register(&second, &[0]).unwrap();
    set.blocks.rank(0).set(10);
    let text = scrape_text(second.registry());
    assert_eq!(
        text.lines().filter(|l| l.starts_with("blocks{")).count(),
        1,
        "{text}"
    );
    assert!(text.contains("model=\"new\""), "{text}");
    assert!(!text.contains("model=\"old\""), "{text}");
}

#[derive(Debug, EngineGauges)]
#[gauges(prefix = "")]
struct Mixed {
    /// Load time.
    load_seconds: Gauge,
    /// Blocks by rank.
    blocks: PerRank<IntGauge>,
    /// Waiting, by adapter.
    #[metric(labels("adapter"))]
    waiting: IntGaugeVec,
}

impl Drop for Mixed {
    fn drop(&mut self) {}
}

#[test]
fn unregistering_a_set_takes_its_prometheus_fields_off_the_page_too() {
    let metrics = EngineMetrics::from_hierarchy(MetricsRoot::new());
    let set = Mixed::register(&metrics, &[0]).unwrap();
    set.load_seconds.set(2.0);
    set.blocks.rank(0).set(5);
    set.waiting.with_label_values(&["base"]).set(1);
    assert!(scrape_text(metrics.registry()).contains("blocks{dp_rank=\"0\"} 5\n"));
    let kept = set.load_seconds.clone();
    // A plain drop leaves the prometheus fields, whose clones may still be written.
    drop(set);
    let text = scrape_text(metrics.registry());
    assert!(text.contains("load_seconds 2\n"), "{text}");
    assert!(!text.contains("blocks"), "{text}");
    assert!(matches!(
        Mixed::register(&metrics, &[0]),
        Err(Error::Metric { metric, kind: MetricErrorKind::AlreadyRegistered }) if metric == "load_seconds"
    ));
    drop(kept);

    let metrics = EngineMetrics::from_hierarchy(MetricsRoot::new());
    let set = Mixed::register(&metrics, &[0]).unwrap();
    set.load_seconds.set(2.0);
    set.waiting.with_label_values(&["base"]).set(1);
    set.unregister(&metrics).unwrap();
    assert_eq!(scrape_text(metrics.registry()), "");
    let again = Mixed::register(&metrics, &[0]).unwrap();
    again.load_seconds.set(3.0);
    assert!(scrape_text(metrics.registry()).contains("load_seconds 3\n"));
    // Unregistering a set from a level that does not hold it names the metric.
    let elsewhere = EngineMetrics::from_hierarchy(MetricsRoot::new());
    match again.unregister(&elsewhere) {
        Err(Error::Metric {
            metric,
            kind: MetricErrorKind::NotRegistered { .. },
        }) => assert_eq!(metric, "load_seconds"),
        other => panic!("{other:?}"),
    }
}

// ----------------------------------------------------------------------------- a level's lifetime

/// How many registries are linked under `registry`, as its `Debug` shows it.
fn linked_children(registry: &MetricsRegistry) -> usize {
    let debug = format!("{registry:?}");
    let count = debug
        .split("children: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("no child count in {debug}"));
    count.parse().expect("a number")
}

fn backend() -> Component {
    fixture::backend_component(&MetricsRoot::new())
}

fn load(level: &impl engine_gauges::MetricsHierarchy) -> Result<IntGauge, Error> {
    create_metric(level, "load", "Requests in flight.", &[], None, None)
}

const LOAD_HEAD: &str = "# HELP dynamo_component_load Requests in flight.\n\
                         # TYPE dynamo_component_load gauge\n";

fn load_line(endpoint: &str, value: i64) -> String {
    format!(
        "dynamo_component_load{{dynamo_component=\"backend\",dynamo_endpoint=\"{endpoint}\",\
         dynamo_namespace=\"dynamo\"}} {value}\n"
    )
}

#[test]
fn a_dropped_endpoint_with_nothing_registered_detaches_and_is_freed() {
    let component = backend();
    let own = load(&component).unwrap();
    own.set(1);
    let before = scrape_text(component.registry());

    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    assert_eq!(linked_children(component.registry()), 1);
    let clone = endpoint.clone();
    drop(endpoint);
    assert!(weak.is_alive(), "a clone is a handle: the level stays");
    assert_eq!(linked_children(component.registry()), 1);

    drop(clone);
    assert!(!weak.is_alive(), "the node is still in memory");
    assert_eq!(linked_children(component.registry()), 0);
    assert_eq!(scrape_text(component.registry()), before);
}

#[test]
fn a_child_keeps_its_parents_alive() {
    let namespace = MetricsRoot::new().namespace("dynamo").unwrap();
    let endpoint = namespace
        .component("backend")
        .unwrap()
        .endpoint("generate")
        .unwrap();
    let component = endpoint.component().downgrade();

    // Only the endpoint holds the component: asking again gives the same one.
    let again = namespace.component("backend").unwrap();
    assert!(
        again
            .registry()
            .same_registry(endpoint.component().registry())
    );
    drop(again);
    assert!(component.is_alive());
    assert_eq!(linked_children(namespace.registry()), 1);

    // The endpoint goes, and with it the component it kept.
    drop(endpoint);
    assert!(!component.is_alive());
    assert_eq!(linked_children(namespace.registry()), 0);
}

#[test]
fn an_attached_child_with_a_metric_keeps_its_parents_attached() {
    let root = MetricsRoot::new();
    let endpoint = fixture::generate_endpoint(&root);
    let gauge = load(&endpoint).unwrap();
    drop(endpoint);

    // No handle on the namespace, the component or the endpoint is left; the gauge is.
    gauge.set(4);
    assert_eq!(
        scrape_text(root.registry()),
        format!("{LOAD_HEAD}{}", load_line("generate", 4))
    );
}

#[test]
fn a_dropped_level_holding_a_create_metric_gauge_serves_it_until_removed() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    let gauge = load(&endpoint).unwrap();
    gauge.set(3);
    drop(endpoint);

    // No write is lost: the level stays, its gauge is served and still written.
    assert!(weak.is_alive());
    gauge.set(5);
    let served = format!("{LOAD_HEAD}{}", load_line("generate", 5));
    assert_eq!(scrape_text(component.registry()), served);

    // Asking again gives the level that stayed, which can remove itself.
    let endpoint = component.endpoint("generate").unwrap();
    assert_eq!(scrape_text(endpoint.registry()), served);
    endpoint.remove();
    assert_eq!(scrape_text(component.registry()), "");
    assert_eq!(linked_children(component.registry()), 0);
    assert!(!weak.is_alive());

    // The gauge still takes writes; no page sees them.
    gauge.set(6);
    assert_eq!(scrape_text(component.registry()), "");
}

#[test]
fn unregistering_a_create_metric_metric_takes_it_off_the_page_and_frees_its_name() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let gauge = load(&endpoint).unwrap();
    gauge.set(2);
    assert!(matches!(
        load(&endpoint),
        Err(Error::Metric {
            kind: MetricErrorKind::AlreadyRegistered,
            ..
        })
    ));

    endpoint.registry().unregister(&gauge).unwrap();
    assert_eq!(scrape_text(component.registry()), "");

    // Unregistering twice names the metric and the level, and says what to do.
    let error = endpoint.registry().unregister(&gauge).unwrap_err();
    assert_eq!(
        error.to_string(),
        "metric `dynamo_component_load`: not registered at endpoint `generate`; unregister a \
         metric at the level it was created on, and only once"
    );

    let again = load(&endpoint).expect("the name is free again");
    again.set(7);
    let served = format!("{LOAD_HEAD}{}", load_line("generate", 7));
    assert_eq!(scrape_text(component.registry()), served);

    // From another level: refused, and nothing changes.
    let error = component.registry().unregister(&again).unwrap_err();
    assert!(
        matches!(&error, Error::Metric { metric, kind: MetricErrorKind::NotRegistered { level } }
            if metric == "dynamo_component_load" && level == "component `backend`"),
        "{error:?}"
    );
    assert_eq!(scrape_text(component.registry()), served);
}

#[test]
fn unregistering_the_last_metric_of_a_dropped_level_detaches_it_then() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    let registry = endpoint.registry().clone();
    let gauge = load(&endpoint).unwrap();
    drop(endpoint);
    assert!(weak.is_alive());
    assert_eq!(linked_children(component.registry()), 1);

    registry.unregister(&gauge).unwrap();
    assert!(!weak.is_alive());
    assert_eq!(linked_children(component.registry()), 0);
    assert_eq!(scrape_text(component.registry()), "");
}

#[test]
fn asking_again_for_a_detached_childs_name_gives_a_fresh_empty_level() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let old = endpoint.registry().clone();
    drop(endpoint);
    let fresh = component.endpoint("generate").unwrap();
    assert!(!fresh.registry().same_registry(&old));
    assert_eq!(scrape_text(fresh.registry()), "");
    // The fresh level is linked in place of the old one, and can hold the old one's metrics.
    load(&fresh).unwrap().set(1);
    assert_eq!(
        scrape_text(component.registry()),
        format!("{LOAD_HEAD}{}", load_line("generate", 1))
    );

    // After an explicit removal too.
    let held = fresh.clone();
    fresh.remove();
    let after_removal = component.endpoint("generate").unwrap();
    assert!(!after_removal.registry().same_registry(held.registry()));
    assert_eq!(scrape_text(after_removal.registry()), "");
    load(&after_removal).expect("a fresh level has no metric of that name");
}

#[test]
fn a_removed_level_refuses_new_metrics_and_children_with_an_error_saying_what_to_do() {
    let component = backend();
    let kept = component.clone();
    component.remove();

    let error = load(&kept).unwrap_err();
    assert_eq!(
        error.to_string(),
        "component `backend`: the level was removed from the metrics tree; ask its parent for it \
         again \
         (that gives a fresh level) and create the metric or child there"
    );
    let error = kept.endpoint("generate").unwrap_err();
    assert!(
        matches!(&error, Error::Level { level, kind: LevelErrorKind::Removed } if level == "component `backend`"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "component `backend`: the level was removed from the metrics tree; ask its parent for it \
         again (that gives a fresh level) and create the metric or child there"
    );
    // Removing a level that is already out changes nothing.
    kept.clone().remove();
    assert_eq!(scrape_text(kept.namespace().registry()), "");
}

#[test]
fn removing_a_level_takes_its_whole_subtree_off_the_page() {
    let root = MetricsRoot::new();
    let component = fixture::backend_component(&root);
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    load(&endpoint).unwrap().set(1);
    drop(endpoint);
    assert_eq!(
        scrape_text(root.registry()),
        format!("{LOAD_HEAD}{}", load_line("generate", 1))
    );

    component.remove();
    assert_eq!(scrape_text(root.registry()), "");
    assert!(!weak.is_alive(), "the removed subtree is still in memory");
}

#[test]
fn a_bridged_callback_keeps_its_level_until_removed() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let text = "# TYPE foreign_up gauge\nforeign_up 1\n";
    endpoint
        .registry()
        .add_expfmt_callback(Arc::new(move || Ok(text.to_owned())));
    drop(endpoint);
    assert_eq!(scrape_text(component.registry()), text);

    component.endpoint("generate").unwrap().remove();
    assert_eq!(scrape_text(component.registry()), "");
    assert_eq!(linked_children(component.registry()), 0);
}

#[test]
fn a_level_guard_keeps_its_level_attached_until_it_goes() {
    let component = backend();
    let endpoint = component.endpoint("generate").unwrap();
    let weak = endpoint.downgrade();
    let guard = endpoint
        .registry()
        .level_guard()
        .expect("a level's registry");
    let registry = endpoint.registry().clone();
    drop(endpoint);
    assert!(weak.is_alive());
    assert!(
        component
            .endpoint("generate")
            .unwrap()
            .registry()
            .same_registry(&registry)
    );

    let second = guard.clone();
    drop(guard);
    assert!(weak.is_alive());
    drop(second);
    assert!(!weak.is_alive());
    assert_eq!(linked_children(component.registry()), 0);
    // The registry outlived its level: it gives no guard.
    assert!(registry.level_guard().is_none());
    assert!(MetricsRegistry::new().level_guard().is_none());
}

#[test]
fn a_level_asked_for_while_another_thread_drops_it_is_always_attached() {
    let component = backend();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let component = component.clone();
            std::thread::spawn(move || {
                let mut detached = 0;
                for _ in 0..5_000 {
                    let endpoint = component.endpoint("generate").unwrap();
                    // A handle's level is in the tree: it gives a guard, and is its parent's.
                    let linked = component
                        .endpoint("generate")
                        .unwrap()
                        .registry()
                        .same_registry(endpoint.registry());
                    if endpoint.registry().level_guard().is_none() || !linked {
                        detached += 1;
                    }
                }
                detached
            })
        })
        .collect();
    let detached: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(detached, 0, "handles on a level out of the tree");
    assert_eq!(linked_children(component.registry()), 0);
}
