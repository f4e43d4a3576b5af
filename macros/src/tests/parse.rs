//! `#[gauges(..)]`, `#[gauge(..)]` and doc comments.

use super::{Diag, assert_error, diagnostics, diags, parse};
use crate::ast::Input;
use crate::attr;
use crate::errors::Errors;
use crate::key;
use crate::kind::{self, FieldKind};
use crate::symbol::{
    BUCKETS, CONST_LABELS, CRATE, FROM, HELP, LABELS, MAX_UNDECLARED_RANKS, NAME, PREFIX, SNAPSHOT,
    Symbol, UNSEEDED,
};
use quote::ToTokens;

fn tokens(node: impl ToTokens) -> String {
    node.to_token_stream().to_string()
}

#[test]
fn container_attributes() {
    let node = parse(
        r#"
        #[gauges(snapshot = crate::ComponentSnapshot, prefix = "")]
        #[gauges(const_labels(engine = "mocker", r#type = "x"), crate = ::my::eg)]
        struct S {}
        "#,
    );
    let mut errors = Errors::default();
    let attrs = attr::container(&node.attrs, &mut errors);
    errors.finish().unwrap();
    assert_eq!(
        tokens(attrs.snapshot.unwrap()),
        "crate :: ComponentSnapshot"
    );
    assert_eq!(attrs.prefix.unwrap().value(), "");
    assert_eq!(tokens(attrs.krate.unwrap()), ":: my :: eg");
    let labels: Vec<_> = attrs
        .const_labels
        .iter()
        .map(|label| (label.name(), label.value.value()))
        .collect();
    assert_eq!(
        labels,
        [
            ("engine".into(), "mocker".into()),
            ("type".into(), "x".into())
        ]
    );
}

#[test]
fn field_attributes() {
    let node = parse(
        r#"
        struct S {
            #[gauge(help = "Help.", name = "short", labels("a", "b"))]
            #[gauge(unseeded, from = kv_total_blocks)]
            f: Gauge,
        }
        "#,
    );
    let syn::Data::Struct(data) = &node.data else {
        unreachable!()
    };
    let field = data.fields.iter().next().unwrap();
    let mut errors = Errors::default();
    let attrs = attr::field(&field.attrs, &mut errors);
    errors.finish().unwrap();
    assert_eq!(attrs.help.unwrap().value(), "Help.");
    assert_eq!(attrs.name.unwrap().value(), "short");
    let labels = attrs.labels.unwrap();
    assert_eq!(labels.key, "labels");
    let names: Vec<_> = labels.names.iter().map(syn::LitStr::value).collect();
    assert_eq!(names, ["a", "b"]);
    assert!(attrs.unseeded.is_some());
    assert_eq!(attrs.from.unwrap().field, "kv_total_blocks");
    assert_eq!(attrs.doc, None);
}

#[test]
fn doc_comment_lines_are_trimmed_and_joined() {
    let node = parse(
        "
        ///   Total number of KV cache blocks  
        ///
        /// available on the worker.
        #[doc = \"\"]
        #[doc = \"  Second   part. \"]
        /** Block
              comment. */
        #[doc(hidden)]
        struct S {}
        ",
    );
    assert_eq!(
        attr::doc(&node.attrs).unwrap(),
        "Total number of KV cache blocks available on the worker. Second   part. Block comment."
    );
    assert_eq!(attr::doc(&parse("/// \n///\nstruct S {}").attrs), None);
}

#[test]
fn help_wins_over_doc_comment() {
    let src = r#"
        struct S {
            /// From the doc.
            #[gauge(help = "From help.")]
            a: Gauge,
            /// From the doc.
            b: Gauge,
        }
    "#;
    let node = parse(src);
    let mut errors = Errors::default();
    let input = Input::from_syn(&node, &mut errors);
    errors.finish().unwrap();
    assert_eq!(input.fields[0].help().unwrap(), "From help.");
    assert_eq!(input.fields[1].help().unwrap(), "From the doc.");
}

#[test]
fn field_types_by_last_segment() {
    let cases = [
        ("Gauge", "Gauge", "Gauge"),
        (
            "::engine_gauges::prometheus::IntGauge",
            "IntGauge",
            "IntGauge",
        ),
        ("prometheus::GaugeVec", "GaugeVec", "GaugeVec"),
        ("IntGaugeVec", "IntGaugeVec", "IntGaugeVec"),
        ("PerRank<Gauge>", "PerRank<Gauge>", "GaugeVec"),
        (
            "engine_gauges::PerRank<engine_gauges::prometheus::IntGauge>",
            "PerRank<IntGauge>",
            "IntGaugeVec",
        ),
        ("Counter", "Counter", "Counter"),
        (
            "prometheus::IntCounterVec",
            "IntCounterVec",
            "IntCounterVec",
        ),
    ];
    for (src, name, registered) in cases {
        let ty: syn::Type = syn::parse_str(src).unwrap();
        let kind = FieldKind::of(&ty).unwrap();
        assert_eq!(kind.type_name(), name, "{src}");
        assert_eq!(kind.metric_kind(), registered, "{src}");
    }
    for src in [
        "Summary",
        "PerRank<GaugeVec>",
        "PerRank<Gauge, Gauge>",
        "PerRank",
        "Option<Gauge>",
        "Gauge<u8>",
        "&'static Gauge",
        "<T as Trait>::Gauge",
        "(Gauge, Gauge)",
    ] {
        let ty: syn::Type = syn::parse_str(src).unwrap();
        assert!(FieldKind::of(&ty).is_none(), "{src}");
    }
}

#[test]
fn supported_types_come_from_the_table() {
    assert_eq!(
        kind::supported_list(),
        "`Gauge`, `IntGauge`, `Counter`, `IntCounter`, `Histogram`, `GaugeVec`, `IntGaugeVec`, \
         `CounterVec`, `IntCounterVec`, `HistogramVec`, `PerRank<M>`, `Family<L, M>` or \
         `PerRank<Family<L, M>>` (with `M` one of Gauge, IntGauge, Counter, IntCounter, Histogram)"
    );
}

#[test]
fn unknown_keys_name_the_key_and_list_the_valid_ones() {
    assert_error(
        "struct S { #[gauge(halp = \"x\", help = \"ok\")] a: Gauge }",
        "halp",
        &[
            "unknown key `halp` in `#[gauge(..)]`: valid keys are `help`, `name`, `labels`, `unseeded`, `from`",
        ],
    );
    assert_error(
        "#[gauges(snapshot = S, prefixx(\"a\"))] struct S { /// h\n a: Gauge }",
        "prefixx",
        &[
            "unknown key `prefixx` in `#[gauges(..)]`: valid keys are `snapshot`, `const_labels`, `prefix`, `crate`",
        ],
    );
}

#[test]
fn parsing_goes_on_after_a_bad_key() {
    let diags = diagnostics(
        "struct S { #[gauge(a = 1 + 2, b(c, d), e, help = 5, name = \"n\", f)] x: Gauge }",
    );
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["a", "b", "e", "5", "f"]);
}

#[test]
fn duplicate_keys_are_reported_at_the_second() {
    assert_error(
        "struct S { #[gauge(help = \"a\")] #[gauge(help = \"b\")] x: Gauge }",
        "help",
        &["duplicate `help`: remove one of them"],
    );
    let src = "#[gauges(prefix = \"a\", prefix = \"b\")] struct S { #[gauge(unseeded, unseeded, help = \"h\")] x: PerRank<Gauge> }";
    let diags = diagnostics(src);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert_eq!(diags[0].message, "duplicate `prefix`: remove one of them");
    assert_eq!(diags[0].offset, src.rfind("prefix").unwrap());
    assert_eq!(diags[1].message, "duplicate `unseeded`: remove one of them");
    assert_eq!(diags[1].offset, src.rfind("unseeded").unwrap());
}

#[test]
fn bad_value_forms() {
    let field = |attr: &str| format!("struct S {{ /// h\n #[gauge({attr})] x: PerRank<Gauge> }}");
    let cases = [
        (
            "help = 5",
            "5",
            "`help` expects a string literal, as in `help = \"...\"`",
        ),
        ("help", "help", "`help` expects a string literal"),
        ("help =", "help", "`help` expects a string literal"),
        (
            "name(\"x\")",
            "name",
            "`name` expects a string literal, as in `name = \"...\"`",
        ),
        (
            "name = \"a\" \"b\"",
            "\"a\" \"b\"",
            "`name` expects a string literal",
        ),
        (
            "from = \"x\"",
            "\"x\"",
            "`from` expects a snapshot field name, as in `from = snapshot_field`",
        ),
        ("from = a.b", "a.b", "`from` expects a snapshot field name"),
        (
            "unseeded = true",
            "unseeded",
            "`unseeded` takes no value: write `unseeded`",
        ),
        (
            "labels = \"a\"",
            "labels",
            "`labels` expects a parenthesized list of string literals, as in `labels(\"label\", ..)`",
        ),
        (
            "labels(a)",
            "a",
            "`labels(..)` takes label names as string literals",
        ),
    ];
    for (attr, at, message) in cases {
        let diags = diagnostics(&field(attr));
        assert!(!diags.is_empty(), "{attr}: no error");
        assert_eq!(diags[0].at, at, "{attr}: {:?}", diags[0].message);
        assert!(
            diags[0].message.contains(message),
            "{attr}: {:?}",
            diags[0].message
        );
    }
    let container = |attr: &str| format!("#[gauges({attr})] struct S {{ /// h\n x: Gauge }}");
    let cases = [
        (
            "snapshot = 5",
            "5",
            "`snapshot` expects a type, as in `snapshot = SnapshotType`",
        ),
        (
            "prefix = dynamo",
            "dynamo",
            "`prefix` expects a string literal, as in `prefix = \"...\"`",
        ),
        (
            "crate = \"eg\"",
            "\"eg\"",
            "`crate` expects a path to the engine_gauges crate, as in `crate = path::to::engine_gauges`",
        ),
        (
            "const_labels = \"a\"",
            "const_labels",
            "`const_labels` expects a parenthesized list, as in `const_labels(key = \"value\", ..)`",
        ),
        (
            "const_labels(engine)",
            "engine",
            "`const_labels(..)` takes `label = \"value\"` pairs",
        ),
        (
            "const_labels(engine = mocker)",
            "mocker",
            "`const_labels(..)` takes `label = \"value\"` pairs",
        ),
        (
            "const_labels(a::b = \"x\")",
            "a::b",
            "`const_labels(..)` takes `label = \"value\"` pairs",
        ),
    ];
    for (attr, at, message) in cases {
        let diags = diagnostics(&container(attr));
        assert_eq!(diags.len(), 1, "{attr}: {diags:#?}");
        assert_eq!(diags[0].at, at, "{attr}: {:?}", diags[0].message);
        assert!(
            diags[0].message.contains(message),
            "{attr}: {:?}",
            diags[0].message
        );
    }
}

#[test]
fn attributes_in_the_wrong_place() {
    assert_error(
        "#[gauge(help = \"h\")] struct S { /// h\n x: Gauge }",
        "gauge",
        &["`#[gauge(..)]` belongs on fields; the struct takes `#[gauges(..)]`"],
    );
    assert_error(
        "struct S { /// h\n #[gauges(prefix = \"\")] x: Gauge }",
        "gauges",
        &["`#[gauges(..)]` belongs on the struct; fields take `#[metric(..)]`"],
    );
}

#[test]
fn a_malformed_key_does_not_also_count_as_missing() {
    // `help = 5` is reported once, not again as "no help text";
    // `labels = ".."` once, not again as "needs variable labels";
    // `snapshot = 5` once, not again under `from`.
    let diags = diagnostics(
        "#[gauges(snapshot = 5)] struct S { #[gauge(help = 5, labels = \"a\", from = x)] x: GaugeVec }",
    );
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["5", "5", "labels", "from"], "{diags:#?}");
    assert!(
        diags[3]
            .message
            .starts_with("`from` cannot write field `x`")
    );
}

/// Every error that parsing the attributes of `src` (the struct's, then each field's) reports,
/// without the checks that follow parsing.
fn parse_errors(src: &str) -> Vec<Diag> {
    let node = parse(src);
    let mut errors = Errors::default();
    attr::container(&node.attrs, &mut errors);
    if let syn::Data::Struct(data) = &node.data {
        for field in &data.fields {
            attr::field(&field.attrs, &mut errors);
        }
    }
    diags(src, errors)
}

/// Every key of `#[gauges(..)]`, with a well-formed value.
const CONTAINER_KEYS: [(Symbol, &str); 4] = [
    (SNAPSHOT, "snapshot = Snap"),
    (CONST_LABELS, "const_labels(engine = \"x\")"),
    (PREFIX, "prefix = \"p\""),
    (CRATE, "crate = ::eg"),
];

/// Every key of `#[metric(..)]`, with a well-formed value.
const FIELD_KEYS: [(Symbol, &str); 7] = [
    (HELP, "help = \"h\""),
    (NAME, "name = \"n\""),
    (LABELS, "labels(\"a\")"),
    (UNSEEDED, "unseeded"),
    (FROM, "from = f"),
    (MAX_UNDECLARED_RANKS, "max_undeclared_ranks = 4"),
    (BUCKETS, "buckets = [1.0]"),
];

#[test]
fn symbols_compare_with_idents_and_paths() {
    let ident: syn::Ident = syn::parse_quote!(help);
    assert!(ident == HELP);
    assert!(ident != NAME);
    let path: syn::Path = syn::parse_quote!(crate);
    assert!(path == CRATE);
    let path: syn::Path = syn::parse_quote!(a::crate);
    assert!(path != CRATE);
    assert_eq!(MAX_UNDECLARED_RANKS.to_string(), "max_undeclared_ranks");
}

#[test]
fn an_attr_keeps_its_first_occurrence() {
    let first: syn::Ident = syn::parse_quote!(prefix);
    let second: syn::Ident = syn::parse_quote!(prefix);
    let mut errors = Errors::default();
    let mut prefix = key::Attr::none(PREFIX);
    assert!(!prefix.is_set());
    // A malformed value (reported by the parser of values) still sets the key.
    prefix.set(&first, &mut errors, |_| Ok(None)).unwrap();
    assert!(prefix.is_set());
    let mut read = false;
    prefix
        .set(&second, &mut errors, |_| {
            read = true;
            Ok(Some("b"))
        })
        .unwrap();
    assert!(
        read,
        "the value of a duplicate is still read, to report its mistakes"
    );
    assert_eq!(prefix.get(), None);
    let messages: Vec<_> = errors
        .finish()
        .unwrap_err()
        .into_iter()
        .map(|error| error.to_string())
        .collect();
    assert_eq!(messages, ["duplicate `prefix`: remove one of them"]);

    let mut errors = Errors::default();
    let mut help = key::Attr::none(HELP);
    let key: syn::Ident = syn::parse_quote!(help);
    help.set(&key, &mut errors, |_| Ok(Some(1))).unwrap();
    help.set(&key, &mut errors, |_| Ok(Some(2))).unwrap();
    assert_eq!(help.get(), Some(1));
}

#[test]
fn a_duplicate_of_every_key_is_reported_once_at_the_later_occurrence() {
    let container = CONTAINER_KEYS.iter().flat_map(|(key, given)| {
        [
            (*key, format!("#[gauges({given}, {given})] struct S {{}}")),
            (
                *key,
                format!("#[gauges({given})] #[gauges()] #[gauges({given})] struct S {{}}"),
            ),
        ]
    });
    let field = FIELD_KEYS.iter().flat_map(|(key, given)| {
        [
            (
                *key,
                format!("struct S {{ #[metric({given}, {given})] x: Gauge }}"),
            ),
            (
                *key,
                format!("struct S {{ #[metric({given})] #[gauge({given})] x: Gauge }}"),
            ),
        ]
    });
    for (key, src) in container.chain(field) {
        let diags = parse_errors(&src);
        assert_eq!(diags.len(), 1, "{src}: {diags:#?}");
        assert_eq!(
            diags[0].message,
            format!("duplicate `{key}`: remove one of them")
        );
        assert_eq!(diags[0].at, key.to_string(), "{src}");
        assert_eq!(
            diags[0].offset,
            src.rfind(&key.to_string()).unwrap(),
            "{src}"
        );
    }
}

#[test]
fn every_later_occurrence_is_a_duplicate_and_the_first_value_stays() {
    let src = r#"struct S { #[gauge(help = "a", help = "b")] #[gauge(help = "c")] x: Gauge }"#;
    let offsets: Vec<_> = parse_errors(src).iter().map(|diag| diag.offset).collect();
    let second = src.find(r#"help = "b""#).unwrap();
    let third = src.find(r#"help = "c""#).unwrap();
    assert_eq!(offsets, [second, third]);
    let node = parse(src);
    let syn::Data::Struct(data) = &node.data else {
        unreachable!()
    };
    let mut errors = Errors::default();
    let attrs = attr::field(&data.fields.iter().next().unwrap().attrs, &mut errors);
    assert_eq!(attrs.help.unwrap().value(), "a");
}

#[test]
fn a_malformed_first_occurrence_still_makes_the_next_a_duplicate() {
    let src = r#"#[gauges(prefix = 1, prefix = "b")] struct S {}"#;
    let diags = parse_errors(src);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["1", "prefix"], "{diags:#?}");
    assert_eq!(diags[1].offset, src.rfind("prefix").unwrap());
    assert_eq!(diags[1].message, "duplicate `prefix`: remove one of them");
    // The key counts as given, so no later check reports it missing; its value is the first
    // one's, which is malformed, not `b`.
    let mut errors = Errors::default();
    let attrs = attr::container(&parse(src).attrs, &mut errors);
    assert!(attrs.prefix.is_none());
    assert!(attrs.has(PREFIX));
    assert!(!attrs.has(SNAPSHOT));
}

#[test]
fn a_duplicate_is_reported_before_what_is_wrong_with_its_value() {
    let src = "struct S { #[gauge(unseeded, unseeded = true)] x: Gauge }";
    let diags = parse_errors(src);
    let messages: Vec<_> = diags.iter().map(|diag| diag.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "duplicate `unseeded`: remove one of them",
            "`unseeded` takes no value: write `unseeded`"
        ]
    );
    assert!(
        diags
            .iter()
            .all(|diag| diag.offset == src.rfind("unseeded").unwrap())
    );
}

#[test]
fn every_error_of_one_attribute_is_reported_together() {
    let src = r#"#[gauges(prefix = 1, colour, snapshot = 5, prefix = "x", crate = "eg", const_labels)] struct S {}"#;
    let diags = parse_errors(src);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(
        at,
        ["1", "colour", "5", "prefix", "\"eg\"", "const_labels"],
        "{diags:#?}"
    );
    let src = r#"struct S { #[metric(help, name = 1, help = "h", from = "f", buckets, max_undeclared_ranks = x)] x: Gauge }"#;
    let diags = parse_errors(src);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(
        at,
        ["help", "1", "help", "\"f\"", "buckets", "x"],
        "{diags:#?}"
    );
}
