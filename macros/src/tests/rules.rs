//! The rules that came with counters, histograms and typed families: bucket bounds, which
//! attribute fits which kind, typed label sets, promtool's naming lints and the label rules.

use super::{Nodes, assert_error, assert_valid, bool_value, call_text, descriptors, diagnostics};
use super::{expr_text, f64_values, only_error, parse, parse_file, str_values, type_name};
use crate::expand;
use quote::ToTokens;
use syn::{Expr, File, ImplItem, Item, Pat, Stmt};

/// A struct with `container` attributes and the fields `fields`.
fn with(container: &str, fields: &str) -> String {
    format!("#[gauges({container})]\nstruct S {{\n{fields}\n}}")
}

/// One histogram field `latency_seconds` with `#[metric(buckets = <buckets>)]`.
fn histogram(buckets: &str) -> String {
    with(
        "",
        &format!("/// h\n#[metric(buckets = {buckets})]\nlatency_seconds: Histogram"),
    )
}

/// The output of the derive for `src`, parsed back as a file of items.
fn derive(src: &str) -> File {
    parse_file(expand::derive(&parse(src)))
}

/// Each `const _: () = match <check> { .. };` of `file`, the checks of bucket bounds named by a
/// path, as its check.
fn bucket_checks(file: &File) -> Vec<String> {
    let consts = file.items.iter().filter_map(|item| match item {
        Item::Const(item) => Some(item),
        _ => None,
    });
    let check = |item: &syn::ItemConst| {
        assert_eq!(item.ident, "_");
        assert_eq!(type_name(&item.ty), "()");
        let Expr::Match(check) = &*item.expr else {
            panic!("not a match: `{}`", item.to_token_stream())
        };
        expr_text(&check.expr)
    };
    consts.map(check).collect()
}

/// The call a descriptor's `label_values: match <call> { .. }` makes to read the label set.
#[track_caller]
fn label_values_call(expr: &Expr) -> String {
    let Expr::Match(values) = expr else {
        panic!("not a match: `{}`", expr.to_token_stream())
    };
    expr_text(&values.expr)
}

/// Each typed `let` of the generated `register`, one per field, as
/// `let <var>: <type> = <registration>;`.
fn registrations(file: &File) -> Vec<String> {
    let register = file.items.iter().find_map(|item| match item {
        Item::Impl(item) if item.trait_.is_some() => {
            item.items.iter().find_map(|item| match item {
                ImplItem::Fn(method) if method.sig.ident == "register" => Some(method),
                _ => None,
            })
        }
        _ => None,
    });
    let typed = |stmt: &Stmt| {
        let Stmt::Local(local) = stmt else {
            return None;
        };
        let Pat::Type(typed) = &local.pat else {
            return None;
        };
        let Pat::Ident(var) = &*typed.pat else {
            panic!("not a binding: `{}`", local.to_token_stream())
        };
        let init = expr_text(&local.init.as_ref().unwrap().expr);
        Some(format!(
            "let {}: {} = {init};",
            var.ident,
            type_name(&typed.ty)
        ))
    };
    let stmts = register.unwrap().block.stmts.iter();
    stmts.filter_map(typed).collect()
}

#[test]
fn literal_buckets_are_checked_at_compile_time() {
    assert_error(
        &histogram("[]"),
        "[]",
        &[
            "histogram buckets are empty: give at least one upper bound, or a preset from `engine_gauges::buckets`",
        ],
    );
    assert_error(
        &histogram("[0.1, 1e999, 2.0]"),
        "1e999",
        &[
            "histogram bucket bounds must be finite: drop NaN and infinities (the `+Inf` bucket is added for you)",
        ],
    );
    let src = histogram("[0.1, 0.5, 0.5, 1.0]");
    let diag = only_error(&src);
    assert_eq!(diag.at, "0.5");
    assert_eq!(diag.offset, src.rfind("0.5").unwrap());
    assert_eq!(
        diag.message,
        "histogram bucket bounds must be strictly increasing: sort them and drop repeats"
    );
    assert_error(&histogram("[1, -1]"), "-1", &["strictly increasing"]);
    // Negative bounds, integers, exponents and suffixes are numbers; a trailing comma is fine.
    assert_valid(&histogram("[-1.5, -1, 0, 1e-3, 0.5f64, 2_000,]"));
}

#[test]
fn a_bucket_that_is_not_a_number_literal() {
    for (element, at) in [
        ("\"a\"", "\"a\""),
        ("f64::INFINITY", "f64::INFINITY"),
        ("1.0 + 1.0", "1.0 + 1.0"),
        ("-x", "-x"),
        ("true", "true"),
    ] {
        let src = histogram(&format!("[0.1, {element}, 5.0]"));
        let diag = only_error(&src);
        assert_eq!(diag.at, at, "{element}: {:?}", diag.message);
        assert!(
            diag.message
                .starts_with("`buckets = [..]` takes number literals; for bounds computed or kept"),
            "{:?}",
            diag.message
        );
        assert!(
            diag.message
                .ends_with("name a `const` or `static`: `buckets = MY_BUCKETS`"),
            "{:?}",
            diag.message
        );
    }
    // Each bad element is reported, and not again by the bucket rules.
    let at: Vec<_> = diagnostics(&histogram("[x, 1.0, y]"))
        .into_iter()
        .map(|diag| diag.at)
        .collect();
    assert_eq!(at, ["x", "y"]);
}

#[test]
fn bad_bucket_value_forms() {
    let expects = "`buckets` expects a list of upper bounds or a path to a `const` or `static`";
    for (buckets, at) in [
        ("buckets", "buckets"),
        ("buckets =", "buckets"),
        ("buckets(0.1, 1.0)", "buckets"),
        ("buckets = 5", "5"),
        ("buckets = \"0.1\"", "\"0.1\""),
        ("buckets = (0.1, 1.0)", "(0.1, 1.0)"),
    ] {
        let src = with(
            "",
            &format!("/// h\n#[metric({buckets})]\nlatency_seconds: Histogram"),
        );
        // A malformed `buckets` is reported once, not again as missing.
        assert_error(&src, at, &[expects]);
    }
}

#[test]
fn buckets_by_path_are_checked_by_a_const_assertion() {
    let src = histogram("engine_gauges::buckets::REQUEST_LATENCY_SECONDS");
    assert_valid(&src);
    let file = derive(&src);
    let check = "::engine_gauges::__private::rules::check_buckets(\
                 &engine_gauges::buckets::REQUEST_LATENCY_SECONDS)";
    assert_eq!(bucket_checks(&file), [check]);
    let [latency] = &descriptors(&file)[..] else {
        panic!("not one descriptor")
    };
    let buckets = "&engine_gauges::buckets::REQUEST_LATENCY_SECONDS";
    assert_eq!(expr_text(latency["buckets"]), buckets);
    let kind = "::engine_gauges::__private::MetricKind::Histogram";
    assert_eq!(expr_text(latency["kind"]), kind);
    // With a crate path, the assertion goes through it.
    let file = derive(&with(
        "crate = ::my::eg",
        "/// h\n#[metric(buckets = MY_BUCKETS)]\nlatency_seconds: Histogram",
    ));
    let check = "::my::eg::__private::rules::check_buckets(&MY_BUCKETS)";
    assert_eq!(bucket_checks(&file), [check]);
}

#[test]
fn literal_buckets_are_written_into_the_descriptor() {
    let file = derive(&histogram("[-1, 0.25, 2]"));
    let [latency] = &descriptors(&file)[..] else {
        panic!("not one descriptor")
    };
    assert_eq!(f64_values(latency["buckets"]), [-1.0, 0.25, 2.0]);
    // Checked already: no assertion is generated.
    assert!(bucket_checks(&file).is_empty());
    assert!(Nodes::of(&file).calls_to("check_buckets").is_empty());
}

#[test]
fn histograms_need_buckets_and_only_histograms_take_them() {
    assert_error(
        &with("", "/// h\nlatency_seconds: prometheus::Histogram"),
        "prometheus::Histogram",
        &[
            "histogram `dynamo_component_latency_seconds` needs bucket bounds: add `#[metric(buckets = [..])]`, or a preset such as `buckets = engine_gauges::buckets::REQUEST_LATENCY_SECONDS`",
        ],
    );
    for ty in [
        "PerRank<Histogram>",
        "Family<Stage, Histogram>",
        "PerRank<Family<Stage, Histogram>>",
    ] {
        let labels = if ty.contains("Family") {
            "#[metric(labels(\"stage\"))]\n"
        } else {
            ""
        };
        assert_error(
            &with("", &format!("/// h\n{labels}latency_seconds: {ty}")),
            ty,
            &["histogram `dynamo_component_latency_seconds` needs bucket bounds"],
        );
    }
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels(\"stage\"))]\nlatency_seconds: HistogramVec",
        ),
        "HistogramVec",
        &["needs bucket bounds"],
    );
    assert_error(
        &with("", "/// h\n#[metric(buckets = [1.0])]\nqueue_depth: Gauge"),
        "buckets",
        &[
            "`buckets` only applies to histograms; field `queue_depth` is a `Gauge`: remove `buckets`",
        ],
    );
    assert_error(
        &with(
            "",
            "/// h\n#[metric(buckets = [1.0])]\nrequests_total: PerRank<Counter>",
        ),
        "buckets",
        &["field `requests_total` is a `PerRank<Counter>`: remove `buckets`"],
    );
    // Bounds on a field that takes none are not judged on top of that.
    assert_error(
        &with("", "/// h\n#[metric(buckets = [])]\nqueue_depth: Gauge"),
        "buckets",
        &["`buckets` only applies to histograms"],
    );
}

#[test]
fn from_on_counters_and_histograms() {
    let snap = "snapshot = Snap";
    assert_error(
        &with(
            snap,
            "/// h\n#[metric(from = latency, buckets = [1.0])]\nlatency_seconds: Histogram",
        ),
        "from",
        &[
            "`from` cannot write field `latency_seconds`: a histogram records observations, not a value to copy: remove `from` and call `observe` on field `latency_seconds`",
        ],
    );
    assert_error(
        &with(
            snap,
            "/// h\n#[metric(from = latency, buckets = [1.0])]\nlatency_seconds: PerRank<Histogram>",
        ),
        "from",
        &["call `observe`"],
    );
    // A counter takes `from`: the snapshot's value is its cumulative total.
    let src = with(
        snap,
        "/// h\n#[metric(from = requests)]\nrequests_total: IntCounter,\n\
         /// h\n#[metric(from = tokens)]\ntokens_total: PerRank<Counter>",
    );
    assert_valid(&src);
    let file = derive(&src);
    let nodes = Nodes::of(&file);
    let writes = |name| -> Vec<_> { nodes.calls_to(name).into_iter().map(call_text).collect() };
    let write = "::engine_gauges::__private::write(&self.requests_total, snapshot.requests)";
    assert_eq!(writes("write"), [write]);
    let write =
        "::engine_gauges::__private::write_rank(&self.tokens_total, __rank, snapshot.tokens)";
    assert_eq!(writes("write_rank"), [write]);
    // A family has a series per label value.
    assert_error(
        &with(
            snap,
            "/// h\n#[metric(from = n, labels(\"reason\"))]\nfinished_total: Family<Reason, IntCounter>",
        ),
        "from",
        &["`Family<Reason, IntCounter>` has a series per label value"],
    );
}

#[test]
fn unseeded_on_families_and_per_rank_fields_only() {
    assert_valid(&with(
        "",
        "/// h\n#[metric(labels(\"reason\"), unseeded)]\nfinished_total: Family<Reason, IntCounter>,\n\
         /// h\n#[metric(labels(\"reason\"), unseeded)]\nwaiting: PerRank<Family<Reason, Gauge>>,\n\
         /// h\n#[metric(unseeded)]\ntokens_total: PerRank<Counter>",
    ));
    let file = derive(&with(
        "",
        "/// h\n#[metric(labels(\"reason\"), unseeded)]\nfinished_total: Family<Reason, IntCounter>",
    ));
    let [finished] = &descriptors(&file)[..] else {
        panic!("not one descriptor")
    };
    assert!(!bool_value(finished["per_rank"]));
    assert!(!bool_value(finished["seeded"]));
    assert_error(
        &with("", "/// h\n#[metric(unseeded)]\nrequests_total: IntCounter"),
        "unseeded",
        &[
            "`unseeded` only applies to `PerRank<..>` and `Family<..>` fields",
            "field `requests_total` is an `IntCounter`: remove `unseeded`",
        ],
    );
    assert_error(
        &with(
            "",
            "/// h\n#[metric(unseeded, labels(\"a\"))]\nrequests_total: IntCounterVec",
        ),
        "unseeded",
        &["field `requests_total` is an `IntCounterVec`"],
    );
}

#[test]
fn typed_families_name_one_label_per_element_of_their_set() {
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels(\"stage\"))]\nlatency: Family<(Stage, Reason), Gauge>",
        ),
        "labels",
        &[
            "field `latency` is a `Family<(Stage, Reason), Gauge>`, whose label set has 2 labels, but `labels(..)` names 1: give one name per label, in the order of the set",
        ],
    );
    // A path (an enum, or an alias to a tuple) is not counted from the tokens: the generated
    // `const` assertion checks it, at `labels`.
    let alias = with(
        "",
        "/// h\n#[metric(labels(\"a\", \"b\"))]\nwaiting: PerRank<Family<Pair, IntGauge>>",
    );
    assert_valid(&alias);
    let file = derive(&alias);
    let [waiting] = &descriptors(&file)[..] else {
        panic!("not one descriptor")
    };
    let call = "::engine_gauges::__private::label_values::<Pair>(2usize)";
    assert_eq!(label_values_call(waiting["label_values"]), call);
    // Only tuples of two to four are label sets.
    for set in ["()", "(A,)", "(A, B, C, D, E)"] {
        assert_error(
            &with(
                "",
                &format!("/// h\n#[metric(labels(\"a\"))]\nx: Family<{set}, Gauge>"),
            ),
            set,
            &["a label set is one `#[derive(LabelValue)]` enum, or a tuple of two to four of them"],
        );
    }
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels())]\nwaiting: Family<Reason, Gauge>",
        ),
        "labels",
        &["`labels()` of field `waiting` is empty"],
    );
    assert_error(
        &with("", "/// h\nwaiting: Family<(Stage, Reason), Gauge>"),
        "Family<(Stage, Reason), Gauge>",
        &[
            "`Family<(Stage, Reason), Gauge>` needs one label name per label of its set, as in `#[metric(labels(\"finish_reason\"))]`, on field `waiting`",
        ],
    );
    assert_error(
        &with("", "/// h\nwaiting: PerRank<Family<Reason, Gauge>>"),
        "PerRank<Family<Reason, Gauge>>",
        &["needs one label name per label of its set, as in"],
    );
    assert_valid(&with(
        "",
        "/// h\n#[metric(labels(\"stage\", \"reason\"))]\nwaiting: Family<(Stage, Reason), Gauge>",
    ));
}

#[test]
fn typed_family_expansion() {
    let file = derive(&with(
        "",
        "/// h\n#[metric(labels(\"stage\", \"finish_reason\"), buckets = [0.5, 1.0])]\n\
         latency_seconds: Family<(Stage, Reason), Histogram>,\n\
         /// h\n#[metric(labels(\"finish_reason\"))]\nwaiting: PerRank<Family<Reason, IntGauge>>",
    ));
    let [latency, waiting] = &descriptors(&file)[..] else {
        panic!("not one descriptor per field")
    };
    let kind = "::engine_gauges::__private::MetricKind::HistogramVec";
    assert_eq!(expr_text(latency["kind"]), kind);
    assert!(!bool_value(latency["per_rank"]));
    assert_eq!(
        str_values(latency["variable_labels"]),
        ["stage", "finish_reason"]
    );
    let call = "::engine_gauges::__private::label_values::<(Stage, Reason)>(2usize)";
    assert_eq!(label_values_call(latency["label_values"]), call);
    assert_eq!(f64_values(latency["buckets"]), [0.5, 1.0]);
    // A per-rank family: `dp_rank` first, then the set's labels.
    let kind = "::engine_gauges::__private::MetricKind::IntGaugeVec";
    assert_eq!(expr_text(waiting["kind"]), kind);
    assert!(bool_value(waiting["per_rank"]));
    assert_eq!(
        str_values(waiting["variable_labels"]),
        ["dp_rank", "finish_reason"]
    );
    let call = "::engine_gauges::__private::label_values::<Reason>(1usize)";
    assert_eq!(label_values_call(waiting["label_values"]), call);
    assert!(f64_values(waiting["buckets"]).is_empty());
    let lets = [
        "let __f0: Family<(Stage, Reason), Histogram> = __registrar.family(0)?;",
        "let __f1: PerRank<Family<Reason, IntGauge>> = __registrar.per_rank(1, __dp_ranks)?;",
    ];
    assert_eq!(registrations(&file), lets);
}

/// Each of promtool's naming lints once, at the name token: the field ident or the `name` literal.
#[test]
fn promtool_naming_rules() {
    let cases = [
        (
            "requests: IntCounter",
            "requests",
            "counter `dynamo_component_requests`: counter names end in `_total` (promtool lints it); add `_total` to the name",
        ),
        (
            "#[metric(name = \"requests\")]\nx_total: Counter",
            "\"requests\"",
            "counter `dynamo_component_requests`: counter names end in `_total`",
        ),
        (
            "#[metric(labels(\"reason\"))]\nfinished: Family<Reason, Counter>",
            "finished",
            "counter `dynamo_component_finished`: counter names end in `_total`",
        ),
        (
            "queue_total: PerRank<IntGauge>",
            "queue_total",
            "gauge `dynamo_component_queue_total`: it ends in `_total`, a suffix Prometheus gives to counters",
        ),
        (
            "#[metric(buckets = [1.0])]\nlatency_seconds_count: Histogram",
            "latency_seconds_count",
            "histogram `dynamo_component_latency_seconds_count`: it ends in `_count`, a suffix Prometheus gives to the count series of histograms and summaries, so queries would misread it; drop `_count` from the name",
        ),
        (
            "queue_gauge: Gauge",
            "queue_gauge",
            "gauge `dynamo_component_queue_gauge`: metric names should not include their type `gauge` (promtool lints it); remove the word `gauge`",
        ),
        (
            "#[metric(buckets = [1.0])]\nlatency_milliseconds: Histogram",
            "latency_milliseconds",
            "histogram `dynamo_component_latency_milliseconds`: `milliseconds` is not a base unit (promtool lints it); use `_seconds` instead of `_milliseconds` and convert the value",
        ),
        (
            "#[metric(name = \"cache_kb\")]\nx: IntGauge",
            "\"cache_kb\"",
            "gauge `dynamo_component_cache_kb`: `kb` is an abbreviated unit (promtool lints it); use `_bytes` instead of `_kb`",
        ),
        (
            "#[metric(name = \"queueDepth\")]\nx: Gauge",
            "\"queueDepth\"",
            "gauge `dynamo_component_queueDepth`: metric names are snake_case, not camelCase (promtool lints it); write it in snake_case",
        ),
        (
            "#[metric(name = \"job:queue\")]\nx: Gauge",
            "\"job:queue\"",
            "gauge `dynamo_component_job:queue`: metric names should not contain `:`, which Prometheus keeps for recording rules (promtool lints it); use `_`",
        ),
    ];
    for (field, at, message) in cases {
        let src = with("", &format!("/// h\n{field}"));
        let diag = only_error(&src);
        assert_eq!(diag.at, at, "{field}: {:?}", diag.message);
        assert!(
            diag.message.starts_with(message),
            "{field}: {:?}",
            diag.message
        );
    }
    // A prefix that breaks a rule is reported once, at the prefix.
    assert_error(
        &with("prefix = \"engine_counter\"", "/// h\nqueue: Gauge"),
        "\"engine_counter\"",
        &["prefix `engine_counter`: metric names should not include their type `counter`"],
    );
    // The rules apply to the exported name, prefix included.
    assert_error(
        &with("prefix = \"engine\"", "/// h\nrequests: Counter"),
        "requests",
        &["counter `engine_requests`: counter names end in `_total`"],
    );
    assert_valid(&with(
        "",
        "/// h\nrequests_total: IntCounter,\n/// h\n#[metric(buckets = [1.0])]\n\
         time_to_first_token_seconds: Histogram,\n/// h\nkv_cache_bytes: Gauge",
    ));
}

#[test]
fn label_rules_on_every_kind() {
    for ty in ["GaugeVec", "IntCounterVec", "HistogramVec"] {
        let buckets = if ty == "HistogramVec" {
            ", buckets = [1.0]"
        } else {
            ""
        };
        let src = with(
            "",
            &format!("/// h\n#[metric(labels(\"le\"){buckets})]\nx_total_seconds: {ty}"),
        );
        let diags: Vec<_> = diagnostics(&src)
            .into_iter()
            .filter(|diag| diag.message.starts_with("label"))
            .collect();
        assert_eq!(diags.len(), 1, "{ty}: {diags:#?}");
        assert_eq!(diags[0].at, "\"le\"", "{ty}");
        assert_eq!(
            diags[0].message,
            "label `le` in `labels(..)` of field `x_total_seconds`: Prometheus reserves `le` for histogram bucket bounds (promtool lints it on any other type); rename it",
            "{ty}"
        );
    }
    assert_error(
        &with("const_labels(le = \"x\")", "/// h\nx: Gauge"),
        "le",
        &["label `le` in `const_labels(..)`: Prometheus reserves `le`"],
    );
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels(\"quantile\"))]\nlatency: Family<Reason, Gauge>",
        ),
        "\"quantile\"",
        &[
            "label `quantile` in `labels(..)` of field `latency`: Prometheus reserves `quantile` for summary quantiles",
        ],
    );
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels(\"loraAdapter\"))]\nwaiting: GaugeVec",
        ),
        "\"loraAdapter\"",
        &[
            "label `loraAdapter` in `labels(..)` of field `waiting`: label names are snake_case, not camelCase (promtool lints it); write it in snake_case",
        ],
    );
    assert_error(
        &with("const_labels(engineName = \"x\")", "/// h\nx: Gauge"),
        "engineName",
        &["label `engineName` in `const_labels(..)`: label names are snake_case"],
    );
    // A per-rank family's first label is `dp_rank`, even in a set with no other per-rank field.
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels(\"dp_rank\"))]\nwaiting: PerRank<Family<Reason, Gauge>>",
        ),
        "\"dp_rank\"",
        &[
            "label `dp_rank` in `labels(..)` of field `waiting` repeats the label `PerRank` gives every series of this field; remove it",
        ],
    );
    // In a set without per-rank fields, a family may name a label `dp_rank`.
    assert_valid(&with(
        "",
        "/// h\n#[metric(labels(\"dp_rank\"))]\nwaiting: Family<Rank, Gauge>",
    ));
    // With one, it clashes.
    assert_error(
        &with(
            "",
            "/// h\nr: PerRank<Gauge>,\n/// h\n#[metric(labels(\"dp_rank\"))]\nwaiting: Family<Rank, Gauge>",
        ),
        "\"dp_rank\"",
        &["clashes with the per-rank fields of this set (such as `r`)"],
    );
    // Reserved names in a typed family too.
    assert_error(
        &with(
            "",
            "/// h\n#[metric(labels(\"worker_id\", \"stage\"))]\nwaiting: Family<(Worker, Stage), Gauge>",
        ),
        "\"worker_id\"",
        &["label `worker_id` is reserved"],
    );
}
