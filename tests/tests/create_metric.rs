//! `create_metric`: how it names a metric, every metric type it makes, and every input it
//! refuses: with a specific error that names the metric (and the label, prefix or value at
//! fault), leaving nothing registered.

use engine_gauges::error::MetricErrorKind;
use engine_gauges::prometheus::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec,
};
use engine_gauges::{
    Component, EngineMetrics, Error, MetricsHierarchy, MetricsRoot, create_metric,
    create_metric_with_prefix, labels, limits::MAX_RANK_SPAN, metric::MetricKind,
    names::COMPONENT_PREFIX, reference::ComponentGauges,
};
use engine_gauges_tests::fixture::{self, NamedLevel};
use engine_gauges_tests::page::{scrape, scrape_text};

fn worker() -> Component {
    fixture::backend_component(&MetricsRoot::with_connection_id(0xabc))
}

// -------------------------------------------------------------------------------- names and types

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
            scrape_text(c.registry()).contains(&format!("\n{full}{{")),
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
    let text = scrape_text(frontend.registry());
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
    let _: CounterVec = create_metric(&c, "g_total", "h", &[], None, Some(&["x"])).unwrap();
    let _: IntCounterVec = create_metric(&c, "hh_total", "h", &[], None, Some(&["x"])).unwrap();
    let h: Histogram = create_metric(&c, "i", "h", &[], Some(vec![0.5, 1.0]), None).unwrap();
    h.observe(0.7);
    let _: HistogramVec = create_metric(&c, "j", "h", &[], None, Some(&["x"])).unwrap();
    let text = scrape_text(c.registry());
    assert!(text.contains("dynamo_component_i_bucket{dynamo_component=\"backend\",dynamo_namespace=\"dynamo\",worker_id=\"abc\",le=\"0.5\"} 0\n"), "{text}");
    assert!(text.contains("worker_id=\"abc\",le=\"1\"} 1\n"), "{text}");
}

#[test]
fn model_is_an_ordinary_label_for_create_metric() {
    let c = worker();
    let v: GaugeVec = create_metric(&c, "served", "Served.", &[], None, Some(&["model"])).unwrap();
    v.with_label_values(&["a"]).set(1.0);
    // A plain level injects no engine labels, so `model` is the metric's own variable label.
    assert_eq!(
        scrape_text(c.registry()),
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
fn a_hierarchy_label_refusal_reads_in_full() {
    let c = worker();
    let e = create_metric::<Gauge, _>(&c, "load", "Help.", &[("worker_id", "7")], None, None)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "metric `dynamo_component_load`: label `worker_id` is set on every metric by the hierarchy (auto-label injection) and cannot be set by hand; remove it"
    );
}

// --------------------------------------------------------------------------------------- refusals

/// A `create_metric_with_prefix` call, owned so that table rows can repeat it.
#[derive(Clone, Debug)]
struct Spec {
    kind: MetricKind,
    prefix: String,
    name: String,
    help: String,
    consts: Vec<(String, String)>,
    buckets: Option<Vec<f64>>,
    labels: Option<Vec<String>>,
}

impl Spec {
    /// A spec for `kind` named `name`, with `_total` added for a counter (the naming rules
    /// refuse a counter without it; the rows below test other rules).
    fn new(kind: MetricKind, name: &str) -> Self {
        let name = if kind.prometheus_type() == "counter" && !name.ends_with("_total") {
            format!("{name}_total")
        } else {
            name.to_owned()
        };
        Self {
            kind,
            prefix: COMPONENT_PREFIX.to_owned(),
            name,
            help: "Help.".to_owned(),
            consts: Vec::new(),
            buckets: None,
            labels: kind.is_vec().then(|| vec!["x".to_owned()]),
        }
    }
    fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = prefix.to_owned();
        self
    }
    fn help(mut self, help: &str) -> Self {
        self.help = help.to_owned();
        self
    }
    fn consts(mut self, consts: &[(&str, &str)]) -> Self {
        self.consts = consts
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self
    }
    fn buckets(mut self, buckets: Option<Vec<f64>>) -> Self {
        self.buckets = buckets;
        self
    }
    fn labels(mut self, labels: Option<&[&str]>) -> Self {
        self.labels = labels.map(|l| l.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    fn create(&self, level: &dyn MetricsHierarchy) -> Result<(), Error> {
        fn make<T: engine_gauges::CreateMetric>(
            spec: &Spec,
            level: &dyn MetricsHierarchy,
        ) -> Result<(), Error> {
            let consts: Vec<(&str, &str)> = spec
                .consts
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let labels: Option<Vec<&str>> = spec
                .labels
                .as_ref()
                .map(|l| l.iter().map(String::as_str).collect());
            create_metric_with_prefix::<T, _>(
                level,
                &spec.prefix,
                &spec.name,
                &spec.help,
                &consts,
                spec.buckets.clone(),
                labels.as_deref(),
            )
            .map(drop)
        }
        match self.kind {
            MetricKind::Gauge => make::<Gauge>(self, level),
            MetricKind::IntGauge => make::<IntGauge>(self, level),
            MetricKind::GaugeVec => make::<GaugeVec>(self, level),
            MetricKind::IntGaugeVec => make::<IntGaugeVec>(self, level),
            MetricKind::Counter => make::<Counter>(self, level),
            MetricKind::IntCounter => make::<IntCounter>(self, level),
            MetricKind::CounterVec => make::<CounterVec>(self, level),
            MetricKind::IntCounterVec => make::<IntCounterVec>(self, level),
            MetricKind::Histogram => make::<Histogram>(self, level),
            MetricKind::HistogramVec => make::<HistogramVec>(self, level),
            other => panic!("no constructor for {other:?}"),
        }
    }
}

type Attempt = Box<dyn Fn(&Component) -> Result<(), Error>>;
type Expect = Box<dyn Fn(&Error) -> bool>;

/// One refusal: the call, the error it must give, and the corrected call that must then succeed
/// (which it could not if the refused call had left anything registered under that name).
struct Row {
    what: String,
    attempt: Attempt,
    expect: Expect,
    fixed: Attempt,
}

fn row(what: impl Into<String>, bad: Spec, expect: Expect, good: Spec) -> Row {
    Row {
        what: what.into(),
        attempt: Box::new(move |c| bad.create(c)),
        expect,
        fixed: Box::new(move |c| good.create(c)),
    }
}

fn invalid_label(label: &str) -> Expect {
    let label = label.to_owned();
    Box::new(
        move |e| matches!(e, Error::Metric { kind: MetricErrorKind::InvalidLabelName { label: l, .. }, .. } if *l == label),
    )
}

fn reserved(label: &str) -> Expect {
    let label = label.to_owned();
    Box::new(
        move |e| matches!(e, Error::Metric { kind: MetricErrorKind::ReservedLabel { label: l, .. }, .. } if *l == label),
    )
}

fn injected(label: &str) -> Expect {
    let label = label.to_owned();
    Box::new(
        move |e| matches!(e, Error::Metric { kind: MetricErrorKind::HierarchyInjectedLabel { label: l, .. }, .. } if *l == label),
    )
}

fn registration(metric: &'static str) -> Expect {
    Box::new(
        move |e| matches!(e, Error::Metric { metric: m, kind: MetricErrorKind::Registration { .. } } if m == metric),
    )
}

fn bad_buckets() -> Expect {
    Box::new(|e| {
        matches!(
            e,
            Error::Metric {
                kind: MetricErrorKind::InvalidBuckets { .. },
                ..
            }
        )
    })
}

/// Metric names, prefixes and help texts that cannot be used.
fn name_rows() -> Vec<Row> {
    use MetricKind::Gauge;
    let mut rows = Vec::new();
    for (name, reason) in [
        ("", "it is empty"),
        ("日本", "it has no valid character"),
        ("...", "it has no valid character"),
        ("\n", "it has no valid character"),
        ("\"", "it has no valid character"),
    ] {
        rows.push(row(
            format!("metric name {name:?}"),
            Spec::new(Gauge, name),
            Box::new(move |e| {
                matches!(e, Error::Metric { metric: n, kind: MetricErrorKind::InvalidName { reason: r } } if n == name && *r == reason)
            }),
            Spec::new(Gauge, "fixed_name"),
        ));
    }
    for prefix in ["9x", "a-b", "日本", "a b", "a\"b"] {
        rows.push(row(
            format!("prefix {prefix:?}"),
            Spec::new(Gauge, "g").prefix(prefix),
            Box::new(move |e| matches!(e, Error::Metric { kind: MetricErrorKind::InvalidPrefix { prefix: p, .. }, .. } if p == prefix)),
            Spec::new(Gauge, "g").prefix("ok_prefix"),
        ));
    }
    for help in ["", " ", "  ", "\n\t "] {
        rows.push(row(
            format!("help {help:?}"),
            Spec::new(Gauge, "g").help(help),
            Box::new(
                |e| matches!(e, Error::Metric { metric, kind: MetricErrorKind::EmptyHelp } if metric == "dynamo_component_g"),
            ),
            Spec::new(Gauge, "g"),
        ));
    }
    rows
}

/// Label names that are invalid, reserved or injected by the hierarchy, as const keys and as
/// variable names (validated, never rewritten), and labels given twice.
fn label_rows() -> Vec<Row> {
    use MetricKind::*;
    let mut rows = Vec::new();
    for label in ["", "1a", "a-b", "a b", "é", "a:b", "a\"", "a\n", "a=b"] {
        rows.push(row(
            format!("const label name {label:?}"),
            Spec::new(Gauge, "g").consts(&[(label, "v")]),
            invalid_label(label),
            Spec::new(Gauge, "g").consts(&[("ok", "v")]),
        ));
        rows.push(row(
            format!("variable label name {label:?}"),
            Spec::new(GaugeVec, "v").labels(Some(&[label])),
            invalid_label(label),
            Spec::new(GaugeVec, "v").labels(Some(&["ok"])),
        ));
    }
    for (kind, consts, variable, label) in [
        (Gauge, Some("__secret"), None, "__secret"),
        (GaugeVec, None, Some("__name__"), "__name__"),
        (Counter, Some("quantile"), None, "quantile"),
        (CounterVec, None, Some("quantile"), "quantile"),
        (GaugeVec, None, Some("quantile"), "quantile"),
        (Histogram, Some("le"), None, "le"),
        (HistogramVec, None, Some("le"), "le"),
    ] {
        let mut bad = Spec::new(kind, "r");
        if let Some(key) = consts {
            bad = bad.consts(&[(key, "v")]);
        }
        if let Some(name) = variable {
            bad = bad.labels(Some(&[name]));
        }
        rows.push(row(
            format!("reserved {label} on a {kind}"),
            bad,
            reserved(label),
            Spec::new(kind, "r"),
        ));
    }
    for &label in labels::HIERARCHY_INJECTED {
        rows.push(row(
            format!("injected const label {label}"),
            Spec::new(IntGauge, "i").consts(&[(label, "x")]),
            injected(label),
            Spec::new(IntGauge, "i"),
        ));
        let (alone, beside) = ([label], ["ok", label]);
        for names in [&alone[..], &beside[..]] {
            rows.push(row(
                format!("injected variable label {label} in {names:?}"),
                Spec::new(IntGaugeVec, "iv").labels(Some(names)),
                injected(label),
                Spec::new(IntGaugeVec, "iv").labels(Some(&["ok", "other"])),
            ));
        }
    }
    rows.extend(repeated_label_rows());
    rows
}

/// A label given twice: as two const keys, as two variable names, or as both.
fn repeated_label_rows() -> Vec<Row> {
    use MetricKind::{Gauge, GaugeVec};
    vec![
        row(
            "duplicate const keys",
            Spec::new(Gauge, "dup").consts(&[("a", "1"), ("a", "2")]),
            Box::new(
                |e| matches!(e, Error::Metric { kind: MetricErrorKind::DuplicateLabel { label, .. }, .. } if label == "a"),
            ),
            Spec::new(Gauge, "dup").consts(&[("a", "1")]),
        ),
        row(
            "duplicate variable names",
            Spec::new(GaugeVec, "dv").labels(Some(&["a", "a"])),
            Box::new(
                |e| matches!(e, Error::Metric { kind: MetricErrorKind::DuplicateLabel { label, .. }, .. } if label == "a"),
            ),
            Spec::new(GaugeVec, "dv").labels(Some(&["a"])),
        ),
        row(
            "a label both const and variable",
            Spec::new(GaugeVec, "cv")
                .consts(&[("dp_rank", "0")])
                .labels(Some(&["dp_rank"])),
            Box::new(
                |e| matches!(e, Error::Metric { kind: MetricErrorKind::LabelIsConstAndVariable { label, .. }, .. } if label == "dp_rank"),
            ),
            Spec::new(GaugeVec, "cv").labels(Some(&["dp_rank"])),
        ),
    ]
}

/// Buckets that are not usable, buckets on what is not a histogram, and variable label names
/// missing where a type needs them or given where it takes none.
fn shape_rows() -> Vec<Row> {
    use MetricKind::*;
    let mut rows = Vec::new();
    for buckets in [
        vec![],
        vec![f64::NAN],
        vec![1.0, f64::NAN],
        vec![f64::NEG_INFINITY, 1.0],
        vec![1.0, f64::INFINITY],
        vec![2.0, 1.0],
        vec![1.0, 0.5],
        vec![1.0, 1.0],
    ] {
        for kind in [Histogram, HistogramVec] {
            rows.push(row(
                format!("buckets {buckets:?} on a {kind}"),
                Spec::new(kind, "hist").buckets(Some(buckets.clone())),
                bad_buckets(),
                Spec::new(kind, "hist").buckets(Some(vec![0.5, 1.0])),
            ));
        }
    }
    for kind in [Gauge, IntGauge, Counter, GaugeVec, IntCounterVec] {
        rows.push(row(
            format!("buckets on a {kind}"),
            Spec::new(kind, "nb").buckets(Some(vec![1.0])),
            Box::new(move |e| matches!(e, Error::Metric { kind: MetricErrorKind::UnexpectedBuckets { metric_kind: k, .. }, .. } if *k == kind)),
            Spec::new(kind, "nb"),
        ));
    }
    for kind in [
        GaugeVec,
        IntGaugeVec,
        CounterVec,
        IntCounterVec,
        HistogramVec,
    ] {
        for labels in [None, Some(&[][..])] {
            rows.push(row(
                format!("{kind} with labels {labels:?}"),
                Spec::new(kind, "missing").labels(labels),
                Box::new(
                    move |e| matches!(e, Error::Metric { kind: MetricErrorKind::MissingLabelNames { metric_kind: k, .. }, .. } if *k == kind),
                ),
                Spec::new(kind, "missing"),
            ));
        }
    }
    for kind in [Gauge, IntGauge, Counter, IntCounter, Histogram] {
        rows.push(row(
            format!("{kind} with variable labels"),
            Spec::new(kind, "scalar").labels(Some(&["a"])),
            Box::new(
                move |e| matches!(e, Error::Metric { kind: MetricErrorKind::UnexpectedLabelNames { metric_kind: k, .. }, .. } if *k == kind),
            ),
            Spec::new(kind, "scalar"),
        ));
    }
    rows
}

/// Refusals that depend on what is already there: a user hierarchy's level name, a name
/// registered before (every row's level holds a gauge `seed`, help `Seed.`), and declared ranks
/// too wide for a gauge set.
fn registration_rows() -> Vec<Row> {
    use MetricKind::{Gauge, GaugeVec};
    vec![
        Row {
            what: "a user hierarchy level named 日本".to_owned(),
            attempt: Box::new(|c| {
                let level = NamedLevel::over(c.registry(), "日本", &["drt", "ns", "comp"]);
                Spec::new(Gauge, "uh").create(&level)
            }),
            expect: Box::new(
                |e| matches!(e, Error::Metric { kind: MetricErrorKind::InvalidHierarchyValue { label: "dynamo_endpoint", value, .. }, .. } if value == "日本"),
            ),
            fixed: Box::new(|c| Spec::new(Gauge, "uh").create(c)),
        },
        row(
            "the same metric twice",
            Spec::new(Gauge, "seed").help("Seed."),
            Box::new(
                |e| matches!(e, Error::Metric { metric, kind: MetricErrorKind::AlreadyRegistered } if metric == "dynamo_component_seed"),
            ),
            Spec::new(Gauge, "seed_other"),
        ),
        // Any other shape under a registered name is refused for good: prometheus keeps one
        // help text and one set of label names per name. So the corrected calls use new names.
        row(
            "the same name with another help",
            Spec::new(Gauge, "seed")
                .help("Another help.")
                .consts(&[("k", "v")]),
            registration("dynamo_component_seed"),
            Spec::new(Gauge, "seed_again"),
        ),
        row(
            "the same name with other label names",
            Spec::new(GaugeVec, "seed")
                .help("Seed.")
                .consts(&[("k", "v")])
                .labels(Some(&["y"])),
            registration("dynamo_component_seed"),
            Spec::new(GaugeVec, "seed_labelled"),
        ),
        Row {
            what: "declared ranks wider than MAX_RANK_SPAN".to_owned(),
            attempt: Box::new(|c| {
                ComponentGauges::new(
                    &EngineMetrics::from_hierarchy(c.clone()),
                    &[0, MAX_RANK_SPAN],
                )
                .map(drop)
            }),
            expect: Box::new(
                |e| matches!(e, Error::Metric { kind: MetricErrorKind::RankSpanTooLarge { min: 0, max, .. }, .. } if *max == MAX_RANK_SPAN),
            ),
            fixed: Box::new(|c| {
                ComponentGauges::new(
                    &EngineMetrics::from_hierarchy(c.clone()),
                    &[0, MAX_RANK_SPAN - 1],
                )
                .map(drop)
            }),
        },
    ]
}

/// Every refusal of the tables above.
fn refusal_table() -> Vec<Row> {
    [name_rows(), label_rows(), shape_rows(), registration_rows()]
        .into_iter()
        .flatten()
        .collect()
}

/// The error's message names the metric it is about (first, as `metric `name`: `), and the
/// label, prefix or hierarchy value at fault where there is one.
fn assert_message_names_its_subject(what: &str, error: &Error) {
    let message = error.to_string();
    let Error::Metric { metric, kind } = error else {
        panic!("{what}: not a metric's error: {error:?}");
    };
    assert!(
        message.starts_with(&format!("metric `{metric}`: ")),
        "{what}: the message does not name the metric first: {message}"
    );
    let at_fault: Vec<&str> = match kind {
        MetricErrorKind::InvalidLabelName { label }
        | MetricErrorKind::HierarchyInjectedLabel { label }
        | MetricErrorKind::ReservedLabel { label, .. }
        | MetricErrorKind::DuplicateLabel { label }
        | MetricErrorKind::LabelIsConstAndVariable { label } => vec![label],
        MetricErrorKind::InvalidPrefix { prefix } => vec![prefix],
        MetricErrorKind::InvalidHierarchyValue { label, value, .. } => vec![label, value],
        _ => Vec::new(),
    };
    for part in at_fault {
        assert!(
            message.contains(&format!("`{part}`")),
            "{what}: the message does not name `{part}`: {message}"
        );
    }
}

/// Every rule `create_metric` enforces, one table row each: the specific error, whose message
/// names the metric and what is at fault; the same error a second time (a refusal leaves nothing
/// that would change the answer); the page byte-identical; and the corrected call then succeeds
/// under the same name (so nothing was registered).
#[test]
fn create_metric_refuses_bad_input_and_registers_nothing() {
    let root = MetricsRoot::with_connection_id(0xabc);
    let ns = root.namespace("dynamo").unwrap();
    let rows = refusal_table();
    let count = rows.len();
    for (index, row) in rows.into_iter().enumerate() {
        // Each row on a level of its own, with a metric already there.
        let component = ns.component(&format!("row{index}")).unwrap();
        let seed: Gauge = create_metric(&component, "seed", "Seed.", &[], None, None).unwrap();
        seed.set(index as f64);
        let (before, _) = scrape(component.registry());
        for attempt in 1..=2 {
            match (row.attempt)(&component) {
                Err(error) if (row.expect)(&error) => {
                    assert_message_names_its_subject(&row.what, &error);
                }
                other => panic!("{} (attempt {attempt}): got {other:?}", row.what),
            }
            let (after, _) = scrape(component.registry());
            assert_eq!(
                before, after,
                "{}: a refused call changed the page",
                row.what
            );
        }
        (row.fixed)(&component)
            .unwrap_or_else(|error| panic!("{}: the corrected call failed: {error:?}", row.what));
    }
    // The whole tree still renders (rows reuse names with other types: those conflicts are
    // skipped and counted, not fatal).
    scrape(root.registry());
    eprintln!(
        "create_metric refusals: {count} table rows, each refused twice with its own error, page unchanged, corrected call accepted"
    );
}
