//! The compile-time checks: one test per kind of mistake, each checking the
//! message and the text it underlines.

use super::{KV, assert_error, assert_valid, diagnostics, only_error};
use engine_gauges_rules::labels as reserved;

/// A struct with `container` attributes and one field `field`.
fn with(container: &str, field: &str) -> String {
    format!("#[gauges({container})]\nstruct S {{\n{field}\n}}")
}

#[test]
fn the_issue_examples_are_valid() {
    assert_valid(
        r#"
        pub struct Lifecycle {
            /// Time spent releasing engine resources during shutdown.
            pub cleanup_time_seconds: Gauge,
            #[gauge(help = "Time engine.start() took to return.")]
            pub model_load_time_seconds: Gauge,
        }
        "#,
    );
    assert_valid(KV);
}

#[test]
fn reserved_labels_in_const_labels() {
    for name in reserved::HIERARCHY_INJECTED {
        let src = with(&format!("const_labels({name} = \"x\")"), "/// h\nx: Gauge");
        assert_error(
            &src,
            name,
            &[
                &format!(
                    "label `{name}` is reserved: it is injected on every metric by the metrics hierarchy (`dynamo_namespace`, `dynamo_component`, `dynamo_endpoint`, `worker_id`)"
                ),
                "remove it from `const_labels(..)`",
            ],
        );
    }
    for name in reserved::ENGINE_AUTO {
        let src = with(&format!("const_labels({name} = \"x\")"), "/// h\nx: Gauge");
        assert_error(
            &src,
            name,
            &[&format!(
                "label `{name}` is reserved: it is added to every metric of a gauge set by `EngineMetrics` as an engine auto-label (`model`, `model_name`); remove it from `const_labels(..)`"
            )],
        );
    }
}

#[test]
fn reserved_labels_in_field_labels() {
    for name in reserved::RUNTIME_INJECTED {
        let src = with(
            "",
            &format!("/// h\n#[gauge(labels(\"a\", \"{name}\"))]\nx: IntGaugeVec"),
        );
        assert_error(
            &src,
            &format!("\"{name}\""),
            &[
                &format!("label `{name}` is reserved"),
                "remove it from `labels(..)` of field `x`",
            ],
        );
    }
}

#[test]
fn dp_rank_is_taken_only_when_the_set_has_per_rank_fields() {
    let per_rank = "/// h\nr: PerRank<Gauge>,\n/// h\n#[gauge(labels(\"dp_rank\"))]\nv: GaugeVec";
    assert_error(
        &with("", per_rank),
        "\"dp_rank\"",
        &[
            "label `dp_rank` in `labels(..)` of field `v` clashes with the per-rank fields of this set (such as `r`), whose variable label it is; rename it",
        ],
    );
    assert_error(
        &with(
            "const_labels(dp_rank = \"0\")",
            "/// h\nr: PerRank<IntGauge>",
        ),
        "dp_rank",
        &["label `dp_rank` in `const_labels(..)` clashes"],
    );
    assert_valid(&with(
        "const_labels(dp_rank = \"0\")",
        "/// h\n#[gauge(labels(\"x\"))]\nv: GaugeVec",
    ));
}

#[test]
fn prometheus_reserved_and_invalid_label_names() {
    let cases = [
        (
            "__name",
            "label `__name` in `labels(..)` of field `x`: names starting with `__` are reserved for Prometheus's own labels; rename it",
        ),
        (
            "quantile",
            "label `quantile` in `labels(..)` of field `x`: Prometheus reserves `quantile` for summary quantiles (promtool lints it on any other type); rename it",
        ),
        (
            "lora-adapter",
            "label `lora-adapter` in `labels(..)` of field `x`: label names must match `[a-zA-Z_][a-zA-Z0-9_]*`; use letters, digits and `_`",
        ),
        (
            "1st",
            "label `1st` in `labels(..)` of field `x`: label names must match",
        ),
        (
            "a:b",
            "label `a:b` in `labels(..)` of field `x`: label names must match",
        ),
        (
            "",
            "empty label name in `labels(..)` of field `x`: give the label a name",
        ),
    ];
    for (name, message) in cases {
        let src = with(
            "",
            &format!("/// h\n#[gauge(labels(\"{name}\"))]\nx: GaugeVec"),
        );
        assert_error(&src, &format!("\"{name}\""), &[message]);
    }
    assert_error(
        &with("const_labels(__x = \"v\")", "/// h\nx: Gauge"),
        "__x",
        &["label `__x` in `const_labels(..)`: names starting with `__` are reserved"],
    );
}

#[test]
fn duplicate_labels() {
    assert_error(
        &with(
            "",
            "/// h\n#[gauge(labels(\"a\", \"b\", \"a\"))]\nx: GaugeVec",
        ),
        "\"a\"",
        &["duplicate label `a` in `labels(..)` of field `x`: remove one of them"],
    );
    let src = with(
        "const_labels(engine = \"a\", engine = \"b\")",
        "/// h\nx: Gauge",
    );
    let diag = only_error(&src);
    assert_eq!(
        diag.message,
        "duplicate const label `engine`: remove one of them"
    );
    assert_eq!(diag.offset, src.rfind("engine").unwrap());
    let src = with(
        "",
        "/// h\n#[gauge(labels(\"a\", \"b\", \"a\"))]\nx: GaugeVec",
    );
    assert_eq!(only_error(&src).offset, src.rfind("\"a\"").unwrap());
    assert_error(
        &with(
            "const_labels(engine = \"mocker\")",
            "/// h\n#[gauge(labels(\"engine\"))]\nx: IntGaugeVec",
        ),
        "\"engine\"",
        &[
            "label `engine` in `labels(..)` of field `x` is also a const label of this set (`const_labels(..)`): remove one of them",
        ],
    );
}

#[test]
fn invalid_metric_names() {
    assert_error(
        &with("", "/// h\n#[gauge(name = \"queue-depth\")]\nx: Gauge"),
        "\"queue-depth\"",
        &[
            "invalid metric name `dynamo_component_queue-depth`: metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`; change `name`",
        ],
    );
    assert_error(
        &with("prefix = \"\"", "/// h\n#[gauge(name = \"1x\")]\nx: Gauge"),
        "\"1x\"",
        &["invalid metric name `1x`"],
    );
    assert_error(
        &with("", "/// h\ngröße: Gauge"),
        "größe",
        &[
            "invalid metric name `dynamo_component_größe`",
            "rename the field or set `#[metric(name = \"...\")]`",
        ],
    );
    assert_error(
        &with("", "/// h\n#[gauge(name = \"\")]\nx: Gauge"),
        "\"\"",
        &["empty metric name: `name` sets the name after the prefix"],
    );
    // A leading digit is fine after a prefix; a raw identifier loses its `r#`.
    assert_valid(&with(
        "",
        "/// h\n#[gauge(name = \"1x\")]\nx: Gauge,\n/// h\nr#type: Gauge",
    ));
}

#[test]
fn invalid_prefix() {
    assert_error(
        &with("prefix = \"dynamo component\"", "/// h\nx: Gauge"),
        "\"dynamo component\"",
        &[
            "invalid prefix `dynamo component`: a prefix must be a valid metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or `\"\"` for no prefix",
        ],
    );
    assert_valid(&with("prefix = \"\"", "/// h\nx: Gauge"));
    assert_valid(&with("prefix = \"vllm_engine\"", "/// h\nx: Gauge"));
    // A `:` is valid syntax, but promtool's naming rules refuse it: once, at the prefix, not
    // again at every field under it.
    assert_error(
        &with(
            "prefix = \"vllm:engine\"",
            "/// h\nx: Gauge,\n/// h\ny: Gauge",
        ),
        "\"vllm:engine\"",
        &["prefix `vllm:engine`: metric names should not contain `:`"],
    );
}

#[test]
fn two_fields_exporting_one_name() {
    assert_error(
        &with(
            "",
            "/// h\nqueue: Gauge,\n/// h\n#[gauge(name = \"queue\")]\nother: IntGauge",
        ),
        "\"queue\"",
        &[
            "metric `dynamo_component_queue` is already exported by field `queue`: two fields cannot export the same name; change `name`",
        ],
    );
}

#[test]
fn gauge_names_with_counter_and_histogram_suffixes() {
    let cases = [
        ("requests_total", "_total", "counters"),
        (
            "latency_count",
            "_count",
            "the count series of histograms and summaries",
        ),
        (
            "latency_sum",
            "_sum",
            "the sum series of histograms and summaries",
        ),
        (
            "latency_bucket",
            "_bucket",
            "the bucket series of histograms",
        ),
    ];
    for (name, suffix, owner) in cases {
        assert_error(
            &with("", &format!("/// h\n{name}: Gauge")),
            name,
            &[&format!(
                "gauge `dynamo_component_{name}`: it ends in `{suffix}`, a suffix Prometheus gives to {owner}, so queries would misread it; drop `{suffix}` from the name"
            )],
        );
    }
    assert_error(
        &with(
            "",
            "/// h\n#[gauge(name = \"x_total\")]\nx: PerRank<IntGauge>",
        ),
        "\"x_total\"",
        &["gauge `dynamo_component_x_total`: it ends in `_total`"],
    );
    // The suffix rules look at the end of the name, after a `_`.
    assert_valid(&with(
        "",
        "/// h\ntotal_blocks: Gauge,\n/// h\nchecksum: Gauge",
    ));
}

#[test]
fn missing_or_empty_help() {
    assert_error(
        &with("", "#[gauge(name = \"y\")]\npub x: Gauge"),
        "x",
        &[
            "metric `dynamo_component_y` has no help text: add a doc comment (`/// ...`) or `#[metric(help = \"...\")]` to field `x`",
        ],
    );
    assert_error(
        &with("", "///   \npub x: Gauge"),
        "x",
        &["has no help text"],
    );
    assert_error(
        &with("", "/// Doc.\n#[gauge(help = \" \")]\nx: Gauge"),
        "\" \"",
        &["empty help for metric `dynamo_component_x`: say what it measures"],
    );
}

#[test]
fn attributes_that_do_not_fit_the_field_type() {
    assert_error(
        &with("", "/// h\n#[gauge(unseeded)]\nx: Gauge"),
        "unseeded",
        &[
            "`unseeded` only applies to `PerRank<..>` and `Family<..>` fields (it leaves their series absent until first written); field `x` is a `Gauge`: remove `unseeded`",
        ],
    );
    assert_error(
        &with("", "/// h\n#[gauge(from = kv_total_blocks)]\nx: Gauge"),
        "from",
        &[
            "`from = kv_total_blocks` needs a snapshot to read from: add `#[gauges(snapshot = YourSnapshot)]` to the struct, or remove `from`",
        ],
    );
    assert_error(
        &with(
            "snapshot = Snap",
            "/// h\n#[gauge(from = v, labels(\"a\"))]\nx: IntGaugeVec",
        ),
        "from",
        &[
            "`from` cannot write field `x`: a snapshot field is one value, but `IntGaugeVec` has a series per label value; remove `from` and write field `x` in code",
        ],
    );
    assert_error(
        &with("", "/// h\n#[gauge(labels(\"a\"))]\nx: IntGauge"),
        "labels",
        &[
            "`IntGauge` takes no `labels(..)`: only `GaugeVec`, `IntGaugeVec`, `CounterVec`, `IntCounterVec`, `HistogramVec` and `Family<L, M>` have labels of their own; remove `labels` from field `x`",
        ],
    );
    assert_error(
        &with("", "/// h\n#[gauge(labels(\"a\"))]\nx: PerRank<Gauge>"),
        "labels",
        &[
            "`PerRank<Gauge>` takes no `labels(..)` (the variable label of a `PerRank` field is `dp_rank`)",
        ],
    );
    // Labels a field's kind rejects are not also judged one by one.
    assert_error(
        &with(
            "",
            "/// h\n#[gauge(labels(\"dp_rank\", \"worker_id\", \"1\"))]\nx: PerRank<IntGauge>",
        ),
        "labels",
        &["`PerRank<IntGauge>` takes no `labels(..)`"],
    );
    assert_error(
        &with(
            "",
            "/// h\n#[gauge(labels(\"worker_id\", \"a\", \"a\"))]\nx: Gauge",
        ),
        "labels",
        &["`Gauge` takes no `labels(..)`"],
    );
    assert_error(
        &with("", "/// h\nx: prometheus::IntGaugeVec"),
        "prometheus::IntGaugeVec",
        &[
            "`IntGaugeVec` needs variable labels: add `#[metric(labels(\"label\", ..))]` on field `x`",
        ],
    );
    assert_error(
        &with("", "/// h\n#[gauge(labels())]\nx: GaugeVec"),
        "labels",
        &["`labels()` of field `x` is empty: `GaugeVec` needs at least one variable label"],
    );
}

#[test]
fn unsupported_field_types() {
    assert_error(
        &with("", "/// h\nx: ::prometheus::Summary"),
        "::prometheus::Summary",
        &[
            "unsupported field type `::prometheus::Summary`: engine metrics are `Gauge`, `IntGauge`, `Counter`, `IntCounter`, `Histogram`, `GaugeVec`, `IntGaugeVec`, `CounterVec`, `IntCounterVec`, `HistogramVec`, `PerRank<M>`, `Family<L, M>` or `PerRank<Family<L, M>>` (with `M` one of Gauge, IntGauge, Counter, IntCounter, Histogram)",
        ],
    );
    for ty in [
        "PerRank<GaugeVec>",
        "PerRank<prometheus::IntGaugeVec>",
        "PerRank<PerRank<Gauge>>",
    ] {
        assert_error(
            &with("", &format!("/// h\nx: {ty}")),
            ty,
            &[&format!(
                "unsupported field type `{ty}`: `PerRank` takes `Gauge`, `IntGauge`, `Counter`, `IntCounter` or `Histogram` (one series per `dp_rank`), or `Family<L, M>` of one of them; for string labels of its own use a `*Vec` type with `#[metric(labels(\"label\", ..))]`"
            )],
        );
    }
    for ty in [
        "Family<Reason, GaugeVec>",
        "Family<Reason>",
        "Family<Reason, Gauge, Gauge>",
    ] {
        assert_error(
            &with("", &format!("/// h\nx: {ty}")),
            ty,
            &[&format!(
                "unsupported field type `{ty}`: `Family<L, M>` takes a `#[derive(LabelValue)]` enum (or a tuple of up to four) as `L`, and `Gauge`, `IntGauge`, `Counter`, `IntCounter` or `Histogram` as `M`"
            )],
        );
    }
    for ty in [
        "PerRank<GaugeVec>",
        "PerRank<Summary>",
        "Option<Gauge>",
        "&'static Gauge",
        "Vec<u8, u16>",
    ] {
        assert_error(
            &with("", &format!("/// h\nx: {ty}")),
            ty,
            &[&format!("unsupported field type `{ty}`: ")],
        );
    }
}

#[test]
fn input_shapes() {
    assert_error(
        "enum E { A }",
        "enum",
        &[
            "`EngineGauges` cannot be derived for an enum: use a struct with one named field per gauge",
        ],
    );
    assert_error(
        "union U { a: u8 }",
        "union",
        &["`EngineGauges` cannot be derived for a union"],
    );
    assert_error(
        "struct T(Gauge, Gauge);",
        "(Gauge, Gauge)",
        &[
            "`EngineGauges` cannot be derived for a tuple struct: each metric is named after its field; use a struct with named fields",
        ],
    );
    assert_error(
        "struct Unit;",
        "Unit",
        &[
            "`EngineGauges` cannot be derived for the unit struct `Unit`: declare the gauges as named fields",
        ],
    );
    assert_error(
        "struct G<T> { /// h\n x: Gauge }",
        "<T>",
        &[
            "`EngineGauges` cannot be derived for `G` because it has generic parameters: a gauge set is a concrete type; remove them",
        ],
    );
    let diags = diagnostics("struct L<'a> { /// h\n x: &'a Gauge }");
    assert_eq!(diags[0].at, "<'a>");
    assert_eq!(diags.len(), 2, "{diags:#?}");
}

#[test]
fn every_error_of_a_struct_is_reported_at_once() {
    let src = r#"
        #[gauges(const_labels(model = "m", engine = "mocker"), prefix = "bad prefix")]
        struct S {
            /// Fine.
            #[gauge(labels("engine", "__x"), from = y)]
            waiting: IntGaugeVec,
            no_help: Gauge,
            /// h
            #[gauge(unseeded, colour = "red")]
            requests: Gauge,
            /// h
            latency_seconds: Histogram,
            /// h
            x: Summary,
        }
    "#;
    let at: Vec<_> = diagnostics(src).into_iter().map(|diag| diag.at).collect();
    assert_eq!(
        at,
        // In source order, whichever step found them.
        [
            "model",
            "\"bad prefix\"",
            "\"engine\"",
            "\"__x\"",
            "from",
            "from",
            "no_help",
            "unseeded",
            "colour",
            "Histogram",
            "Summary",
        ]
    );
    let first = only_error("struct S { x: Gauge }");
    assert_eq!(first.at, "x");
}
