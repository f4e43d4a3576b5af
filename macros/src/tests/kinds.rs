//! Field kinds: counters, histograms, their `*Vec`s, `PerRank<M>`, `Family<L, M>` and
//! `PerRank<Family<L, M>>`; and `#[metric(..)]` against its synonym `#[gauge(..)]`.

use super::{assert_error, assert_valid, diagnostics, parse};
use crate::attr;
use crate::errors::Errors;
use crate::expand;
use crate::kind::{FieldKind, Shape};
use quote::ToTokens;

fn ty(src: &str) -> syn::Type {
    syn::parse_str(src).unwrap()
}

fn shown(ty: &syn::Type) -> String {
    ty.to_token_stream().to_string()
}

#[test]
fn series_kinds_and_their_vecs() {
    // (type, as users write it, registered `MetricKind`, needs `labels(..)`)
    let cases = [
        ("Counter", "Counter", "Counter", false),
        ("prometheus::IntCounter", "IntCounter", "IntCounter", false),
        ("Histogram", "Histogram", "Histogram", false),
        ("CounterVec", "CounterVec", "CounterVec", true),
        ("IntCounterVec", "IntCounterVec", "IntCounterVec", true),
        (
            "::prometheus::HistogramVec",
            "HistogramVec",
            "HistogramVec",
            true,
        ),
    ];
    for (src, name, registered, needs_labels) in cases {
        let ty = ty(src);
        let kind = FieldKind::of(&ty).unwrap();
        assert!(matches!(kind.shape, Shape::Plain), "{src}");
        assert_eq!(kind.type_name(), name, "{src}");
        assert_eq!(kind.metric_kind(), registered, "{src}");
        assert_eq!(kind.needs_labels(), needs_labels, "{src}");
        assert!(!kind.per_rank(), "{src}");
        assert!(!kind.seedable(), "{src}");
        assert!(kind.label_set().is_none(), "{src}");
        assert_eq!(kind.written_arity(), None, "{src}");
    }
    assert!(FieldKind::of(&ty("Histogram")).unwrap().histogram());
    assert!(FieldKind::of(&ty("HistogramVec")).unwrap().histogram());
    assert!(!FieldKind::of(&ty("Counter")).unwrap().histogram());
}

#[test]
fn per_rank_of_every_series_kind() {
    let cases = [
        ("PerRank<Gauge>", "GaugeVec"),
        ("PerRank<IntGauge>", "IntGaugeVec"),
        ("PerRank<Counter>", "CounterVec"),
        (
            "engine_gauges::PerRank<prometheus::IntCounter>",
            "IntCounterVec",
        ),
        ("PerRank<Histogram>", "HistogramVec"),
    ];
    for (src, registered) in cases {
        let ty = ty(src);
        let kind = FieldKind::of(&ty).unwrap();
        assert!(matches!(kind.shape, Shape::PerRank), "{src}");
        assert_eq!(kind.metric_kind(), registered, "{src}");
        assert!(kind.per_rank(), "{src}");
        assert!(kind.seedable(), "{src}");
        assert!(!kind.needs_labels(), "{src}");
        assert_eq!(kind.written_arity(), None, "{src}");
    }
    assert_eq!(
        FieldKind::of(&ty("engine_gauges::PerRank<prometheus::IntCounter>"))
            .unwrap()
            .type_name(),
        "PerRank<IntCounter>"
    );
    // `from` writes one value per rank of gauges and counters, never a histogram.
    assert!(FieldKind::of(&ty("PerRank<Counter>")).unwrap().takes_from());
    assert!(
        !FieldKind::of(&ty("PerRank<Histogram>"))
            .unwrap()
            .takes_from()
    );
}

#[test]
fn families_over_a_typed_label_set() {
    let ty_ = ty("Family<Reason, IntCounter>");
    let kind = FieldKind::of(&ty_).unwrap();
    assert!(matches!(kind.shape, Shape::Family(_)));
    assert_eq!(kind.metric_kind(), "IntCounterVec");
    assert_eq!(kind.type_name(), "Family<Reason, IntCounter>");
    assert_eq!(shown(kind.label_set().unwrap()), "Reason");
    // A path's arity is checked by a const assertion, not read from the tokens.
    assert_eq!(kind.written_arity(), None);
    assert!(!kind.per_rank());
    assert!(kind.seedable());
    assert!(kind.needs_labels());
    assert!(!kind.takes_from());

    let ty_ = ty("engine_gauges::Family<(Stage, crate::Reason), Histogram>");
    let kind = FieldKind::of(&ty_).unwrap();
    assert_eq!(kind.metric_kind(), "HistogramVec");
    assert_eq!(
        kind.type_name(),
        "Family<(Stage, crate::Reason), Histogram>"
    );
    assert_eq!(kind.written_arity(), Some(2));
    assert!(kind.histogram());

    // A one-element tuple is written out too (and refused by the checks: not 2 to 4).
    let ty_ = ty("Family<(Reason,), Gauge>");
    assert_eq!(FieldKind::of(&ty_).unwrap().written_arity(), Some(1));
}

#[test]
fn per_rank_families() {
    let ty_ = ty("PerRank<Family<(A, B, C), Counter>>");
    let kind = FieldKind::of(&ty_).unwrap();
    assert!(matches!(kind.shape, Shape::PerRankFamily(_)));
    assert_eq!(kind.metric_kind(), "CounterVec");
    assert_eq!(kind.type_name(), "PerRank<Family<(A, B, C), Counter>>");
    assert_eq!(kind.written_arity(), Some(3));
    assert!(kind.per_rank());
    assert!(kind.seedable());
    assert!(kind.needs_labels());
    assert!(!kind.takes_from());
    for (src, registered) in [
        ("PerRank<Family<Reason, Gauge>>", "GaugeVec"),
        ("PerRank<Family<Reason, IntGauge>>", "IntGaugeVec"),
        ("PerRank<Family<Reason, IntCounter>>", "IntCounterVec"),
        ("PerRank<Family<Reason, Histogram>>", "HistogramVec"),
    ] {
        let ty = ty(src);
        assert_eq!(
            FieldKind::of(&ty).unwrap().metric_kind(),
            registered,
            "{src}"
        );
    }
}

#[test]
fn unsupported_wrappings() {
    for src in [
        "PerRank<CounterVec>",
        "PerRank<HistogramVec>",
        "PerRank<PerRank<Counter>>",
        "Family<Reason, CounterVec>",
        "Family<Reason, PerRank<Gauge>>",
        "Family<A, Family<B, Gauge>>",
        "Family<Reason>",
        "Family<A, B, Gauge>",
        "PerRank<Family<Reason, GaugeVec>>",
        "PerRank<Family<A, B, Gauge>>",
        "Family<Reason, Counter<u8>>",
        "Summary",
    ] {
        let ty = ty(src);
        assert!(FieldKind::of(&ty).is_none(), "{src}");
    }
}

fn field_of(src: &str) -> syn::Field {
    let node = parse(src);
    let syn::Data::Struct(data) = node.data else {
        unreachable!()
    };
    data.fields.into_iter().next().unwrap()
}

#[test]
fn metric_and_gauge_attributes_are_synonyms() {
    let body = r#"(help = "Help.", name = "short_total", labels("a"), unseeded, from = v, buckets = [0.5, 1])"#;
    let parsed = ["metric", "gauge"].map(|name| {
        let field = field_of(&format!("struct S {{ #[{name}{body}] f: Counter }}"));
        let mut errors = Errors::default();
        let attrs = attr::field(&field.attrs, &mut errors);
        errors.finish().unwrap();
        (
            attrs.help.unwrap().value(),
            attrs.name.unwrap().value(),
            attrs.labels.unwrap().names.len(),
            attrs.unseeded.is_some(),
            attrs.from.unwrap().field.to_string(),
            attrs.buckets.is_some(),
            attrs.given,
        )
    });
    assert_eq!(parsed[0], parsed[1]);

    // The same set written with either attribute expands to the same code.
    let set = |name: &str| {
        format!(
            "#[gauges(snapshot = Snap)] struct S {{ /// h\n #[{name}(from = n, name = \"requests_total\")] x: IntCounter, \
             /// h\n #[{name}(labels(\"reason\"), unseeded)] y: Family<Reason, Gauge> }}"
        )
    };
    let metric = expand::derive(&parse(&set("metric"))).to_string();
    assert!(!metric.contains("compile_error"), "{metric}");
    assert_eq!(metric, expand::derive(&parse(&set("gauge"))).to_string());

    // One field may use both; a key given in each is a duplicate.
    assert_error(
        "struct S { #[metric(help = \"a\")] #[gauge(help = \"b\")] x: Gauge }",
        "help",
        &["duplicate `help`: remove one of them"],
    );
    assert_valid("struct S { #[metric(help = \"a\")] #[gauge(name = \"depth\")] x: Gauge }");
}

#[test]
fn messages_name_the_attribute_as_written() {
    assert_error(
        "#[metric(help = \"h\")] struct S { /// h\n x: Gauge }",
        "metric",
        &["`#[metric(..)]` belongs on fields; the struct takes `#[gauges(..)]`"],
    );
    for name in ["metric", "gauge"] {
        let diags = diagnostics(&format!(
            "struct S {{ /// h\n #[{name}(colour = 1)] x: Gauge }}"
        ));
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].at, "colour");
        assert!(
            diags[0].message.starts_with(&format!(
                "unknown key `colour` in `#[{name}(..)]`: valid keys are `help`, `name`, `labels`, \
                 `unseeded`, `from`, `max_undeclared_ranks`, `buckets`"
            )),
            "{:?}",
            diags[0].message
        );
    }
}
