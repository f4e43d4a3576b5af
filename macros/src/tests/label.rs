//! `#[derive(LabelValue)]`: the values a fieldless enum's variants give, the checks, and the
//! generated impl. Errors are read back from the `compile_error!` calls of the output, whose
//! tokens carry the start and end of each error's span.

use super::{Diag, Nodes, expr_text, offset, parse, parse_file, path_name, str_values, type_name};
use crate::label::{derive, snake_case};
use proc_macro2::{Span, TokenTree};
use quote::ToTokens;
use syn::{Expr, File, FnArg, GenericParam, ImplItem, Item, ItemImpl, Meta, Pat, ReceiverKind};
use syn::{ReturnType, Stmt, TypeParamBound, WherePredicate};

/// The output of the derive for `src`, parsed back as a file of items.
fn expand(src: &str) -> File {
    parse_file(derive(&parse(src)))
}

/// Every error the derive reports for `src`, in order.
fn diagnostics(src: &str) -> Vec<Diag> {
    let tokens: Vec<TokenTree> = derive(&parse(src)).into_iter().collect();
    let mut diags = Vec::new();
    // `::core::compile_error! { "message" }`: `compile_error` at the start of the span, the
    // braces at its end.
    for window in tokens.windows(3) {
        let [
            TokenTree::Ident(ident),
            TokenTree::Punct(bang),
            TokenTree::Group(group),
        ] = window
        else {
            continue;
        };
        if ident != "compile_error" || bang.as_char() != '!' {
            continue;
        }
        let message: syn::LitStr = syn::parse2(group.stream()).unwrap();
        let (start, end) = (span_start(ident.span(), src), span_end(group.span(), src));
        diags.push(Diag {
            message: message.value(),
            at: src[start..end].to_owned(),
            offset: start,
        });
    }
    diags
}

fn span_start(span: Span, src: &str) -> usize {
    offset(src, span.start())
}

fn span_end(span: Span, src: &str) -> usize {
    offset(src, span.end())
}

/// The single error reported for `src`, underlining `at`, whose message contains every one of
/// `parts`.
#[track_caller]
fn assert_error(src: &str, at: &str, parts: &[&str]) -> Diag {
    let mut diags = diagnostics(src);
    assert_eq!(diags.len(), 1, "expected exactly one error, got {diags:#?}");
    let diag = diags.remove(0);
    assert_eq!(diag.at, at, "wrong span for {:?}", diag.message);
    for part in parts {
        assert!(
            diag.message.contains(part),
            "message {:?} lacks {part:?}",
            diag.message
        );
    }
    diag
}

/// How many `compile_error!` items `file` has.
fn compile_errors(file: &File) -> usize {
    let error = |item: &&Item| match item {
        Item::Macro(item) => path_name(&item.mac.path) == "::core::compile_error",
        _ => false,
    };
    file.items.iter().filter(error).count()
}

/// The one impl of `file`.
#[track_caller]
fn only_impl(file: &File) -> &ItemImpl {
    let impls: Vec<_> = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Impl(item) => Some(item),
            _ => None,
        })
        .collect();
    let [only] = impls[..] else {
        panic!("{} impls in `{}`", impls.len(), file.to_token_stream())
    };
    only
}

/// The trait `item` implements, by path: `::engine_gauges::LabelValue`.
fn trait_name(item: &ItemImpl) -> String {
    path_name(&item.trait_.as_ref().unwrap().0)
}

/// The outer attributes of `item` that are a bare path, such as `automatically_derived`.
fn marker_attrs(item: &ItemImpl) -> Vec<String> {
    let attrs = item.attrs.iter().filter_map(|attr| match &attr.meta {
        Meta::Path(path) => Some(path_name(path)),
        _ => None,
    });
    attrs.collect()
}

/// The value of `item`'s `VALUES`, after checking its type.
#[track_caller]
fn values_of(item: &ItemImpl) -> Vec<String> {
    let values = item.items.iter().find_map(|item| match item {
        ImplItem::Const(values) if values.ident == "VALUES" => Some(values),
        _ => None,
    });
    let values = values.unwrap_or_else(|| panic!("no `VALUES` in `{}`", item.to_token_stream()));
    let ty = "&'static [&'static ::core::primitive::str]";
    assert_eq!(type_name(&values.ty), ty);
    str_values(&values.expr)
}

/// The single expression that is the body of `item`'s `fn index(&self) -> usize`, after checking
/// its signature.
#[track_caller]
fn index_body(item: &ItemImpl) -> &Expr {
    let index = item.items.iter().find_map(|item| match item {
        ImplItem::Fn(index) if index.sig.ident == "index" => Some(index),
        _ => None,
    });
    let index = index.unwrap_or_else(|| panic!("no `index` in `{}`", item.to_token_stream()));
    let inputs: Vec<_> = index.sig.inputs.iter().collect();
    let [FnArg::Receiver(receiver)] = inputs[..] else {
        panic!("not `&self`: `{}`", index.sig.to_token_stream())
    };
    let by_ref = matches!(receiver.kind, ReceiverKind::Reference(_, None, None));
    assert!(by_ref && receiver.mutability.is_none(), "not `&self`");
    let ReturnType::Type(_, output) = &index.sig.output else {
        panic!("no return type: `{}`", index.sig.to_token_stream())
    };
    assert_eq!(type_name(output), "::core::primitive::usize");
    let [Stmt::Expr(body, None)] = &index.block.stmts[..] else {
        panic!("not one expression: `{}`", index.block.to_token_stream())
    };
    body
}

/// The arms of `index`'s `match self`, each as `<variant path> => <index>`.
#[track_caller]
fn index_arms(item: &ItemImpl) -> Vec<String> {
    let body = index_body(item);
    let Expr::Match(body) = body else {
        panic!("not a match: `{}`", body.to_token_stream())
    };
    assert_eq!(expr_text(&body.expr), "self");
    let arm = |arm: &syn::Arm| {
        let Pat::Path(variant) = &arm.pat else {
            panic!("not a path: `{}`", arm.pat.to_token_stream())
        };
        format!("{} => {}", path_name(&variant.path), expr_text(&arm.body))
    };
    body.arms.iter().map(arm).collect()
}

/// `VALUES` of the impl generated for `src`, which has no errors.
#[track_caller]
fn values(src: &str) -> Vec<String> {
    let file = expand(src);
    assert_eq!(compile_errors(&file), 0, "{src}");
    values_of(only_impl(&file))
}

#[test]
fn variant_names_in_snake_case() {
    let table = [
        ("Stop", "stop"),
        ("TimedOut", "timed_out"),
        ("HTTPError", "http_error"),
        ("HttpError", "http_error"),
        ("V2Beta", "v2_beta"),
        ("Gpu0Busy", "gpu0_busy"),
        ("ABC", "abc"),
        ("already_snake", "already_snake"),
        ("Timed_Out", "timed_out"),
        ("X", "x"),
    ];
    for (name, value) in table {
        assert_eq!(snake_case(name), value, "{name}");
    }
    assert_eq!(
        values("enum Reason { Stop, TimedOut, HTTPError, V2Beta, r#Type, r#loop }"),
        ["stop", "timed_out", "http_error", "v2_beta", "type", "loop"]
    );
}

#[test]
fn the_impl_lists_the_values_and_indexes_the_variants() {
    let file = expand(
        r#"
        enum Reason {
            Stop,
            #[label(rename = "len")]
            Length,
            TimedOut = 7,
        }
        "#,
    );
    assert_eq!(compile_errors(&file), 0);
    let item = only_impl(&file);
    assert_eq!(marker_attrs(item), ["automatically_derived"]);
    assert_eq!(trait_name(item), "::engine_gauges::LabelValue");
    assert_eq!(type_name(&item.self_ty), "Reason");
    assert!(item.generics.params.is_empty() && item.generics.where_clause.is_none());
    assert_eq!(values_of(item), ["stop", "len", "timed_out"]);
    // Indexes count the variants, whatever their discriminants.
    let arms = [
        "Self::Stop => 0usize",
        "Self::Length => 1usize",
        "Self::TimedOut => 2usize",
    ];
    assert_eq!(index_arms(item), arms);
}

#[test]
fn renames() {
    assert_eq!(
        values(
            r#"enum Reason { #[label(rename = "EOS")] EndOfSequence, #[label(rename = "a b-c")] Odd, Stop }"#
        ),
        ["EOS", "a b-c", "stop"]
    );
    // A rename may take the value another variant would have had, if that one is renamed too.
    assert_eq!(
        values(r#"enum E { #[label(rename = "b")] A, #[label(rename = "a")] B }"#),
        ["b", "a"]
    );
}

#[test]
fn the_crate_path() {
    let file = expand("#[label(crate = ::my::eg)] enum Reason { Stop }");
    assert_eq!(trait_name(only_impl(&file)), "::my::eg::LabelValue");
    for path in Nodes::of(&file).paths {
        let names = path
            .segments
            .iter()
            .any(|segment| segment.ident == "engine_gauges");
        assert!(!names, "`{}`", path_name(path));
    }
    // The fallback impl uses it too.
    let file = expand("#[label(crate = my::eg)] enum Reason { A(u8) }");
    assert_eq!(compile_errors(&file), 1);
    assert_eq!(trait_name(only_impl(&file)), "my::eg::LabelValue");
    let src = "#[label(crate = a)] #[label(crate = b)] enum Reason { Stop }";
    let diag = assert_error(src, "crate", &["duplicate `crate`: remove one of them"]);
    assert_eq!(diag.offset, src.rfind("crate").unwrap());
}

#[test]
fn duplicate_values() {
    let src = "enum Reason { HttpError, Stop, HTTPError }";
    let diag = assert_error(
        src,
        "HTTPError",
        &[
            "variant `HTTPError` has the label value `http_error`, as variant `HttpError` has: each value names one variant; rename one of them with `#[label(rename = \"...\")]`",
        ],
    );
    assert_eq!(diag.offset, src.find("HTTPError").unwrap());
    assert_error(
        r#"enum Reason { TimedOut, #[label(rename = "timed_out")] Late }"#,
        "\"timed_out\"",
        &["variant `Late` has the label value `timed_out`, as variant `TimedOut` has"],
    );
    // At the second of the two, whichever way each value is given.
    assert_error(
        r#"enum Reason { #[label(rename = "stop")] Halt, Stop }"#,
        "Stop",
        &["variant `Stop` has the label value `stop`, as variant `Halt` has"],
    );
    // One error per repeat, each naming the first.
    let diags = diagnostics("enum R { A, B, A_ , a }");
    // `A_` is `a_`, not `a`; only `a` repeats `A`.
    assert_eq!(diags.len(), 1, "{diags:#?}");
    let diags = diagnostics(r#"enum R { A, #[label(rename = "a")] B, #[label(rename = "a")] C }"#);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["\"a\"", "\"a\""]);
    assert!(
        diags
            .iter()
            .all(|diag| diag.message.contains("as variant `A` has"))
    );
}

#[test]
fn empty_values() {
    assert_error(
        r#"enum Reason { Stop, #[label(rename = "")] Nothing }"#,
        "\"\"",
        &[
            "variant `Nothing` has an empty label value: Prometheus drops a label whose value is empty; give it a name",
        ],
    );
}

#[test]
fn variants_with_fields() {
    let src = "enum Reason { Stop, Error(String), Limit { tokens: u32 } }";
    let diags = diagnostics(src);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["(String)", "{ tokens: u32 }"], "{diags:#?}");
    assert_eq!(
        diags[0].message,
        "variant `Error` has fields: each variant of a `LabelValue` enum is one label value, without data; remove the fields"
    );
    assert!(diags[1].message.starts_with("variant `Limit` has fields"));
}

#[test]
fn shapes_that_are_not_a_fieldless_enum() {
    assert_error(
        "enum Never {}",
        "Never",
        &["enum `Never` has no variants: a label needs at least one value; add a variant"],
    );
    assert_error(
        "struct Reason { a: u8 }",
        "struct",
        &[
            "`LabelValue` is derived for a fieldless enum, each variant one value of the label; a struct has no fixed set of values",
        ],
    );
    assert_error(
        "union Reason { a: u8 }",
        "union",
        &["a union has no fixed set of values"],
    );
    assert_error(
        "enum Reason<T> { Stop }",
        "<T>",
        &[
            "`LabelValue` cannot be derived for `Reason` because it has generic parameters: a label's values are fixed; remove them",
        ],
    );
    let diags = diagnostics("enum Reason<'a, T: Copy> { Stop }");
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].at, "<'a, T: Copy>");
}

#[test]
fn errors_come_with_a_fallback_impl() {
    // The enum's own generics and bounds, no values, and index 0 for any value.
    let file = expand("enum Reason<T> where T: Copy { Stop }");
    assert_eq!(compile_errors(&file), 1);
    let fallback = only_impl(&file);
    assert_eq!(trait_name(fallback), "::engine_gauges::LabelValue");
    let params: Vec<_> = fallback.generics.params.iter().collect();
    let [GenericParam::Type(param)] = params[..] else {
        panic!(
            "not one type parameter: `{}`",
            fallback.generics.to_token_stream()
        )
    };
    assert_eq!(param.ident, "T");
    assert!(param.bounds.is_empty());
    assert_eq!(type_name(&fallback.self_ty), "Reason<T>");
    let where_clause = fallback.generics.where_clause.as_ref().unwrap();
    let predicates: Vec<_> = where_clause.predicates.iter().collect();
    let [WherePredicate::Type(predicate)] = predicates[..] else {
        panic!("not one bound: `{}`", where_clause.to_token_stream())
    };
    assert_eq!(type_name(&predicate.bounded_ty), "T");
    let bounds: Vec<_> = predicate.bounds.iter().collect();
    let [TypeParamBound::Trait(bound)] = bounds[..] else {
        panic!("not one trait: `{}`", predicate.to_token_stream())
    };
    assert_eq!(path_name(&bound.path), "Copy");
    assert!(values_of(fallback).is_empty());
    assert_eq!(expr_text(index_body(fallback)), "0");
    let file = expand("enum Never {}");
    assert_eq!(compile_errors(&file), 1);
    let fallback = only_impl(&file);
    assert_eq!(trait_name(fallback), "::engine_gauges::LabelValue");
    assert_eq!(type_name(&fallback.self_ty), "Never");
}

#[test]
fn unknown_and_misplaced_keys() {
    assert_error(
        r#"enum Reason { #[label(renam = "x")] Stop }"#,
        "renam",
        &["unknown key `renam` in `#[label(..)]` on a variant: the only key is `rename`"],
    );
    assert_error(
        "#[label(krate = x)] enum Reason { Stop }",
        "krate",
        &["unknown key `krate` in `#[label(..)]` on the enum: the only key is `crate`"],
    );
    assert_error(
        r#"#[label(rename = "x")] enum Reason { Stop }"#,
        "rename",
        &[
            "`rename` goes on a variant, as in `#[label(rename = \"...\")]`; the enum takes only `crate = path`",
        ],
    );
    assert_error(
        r#"enum Reason { #[label(rename("x"))] Stop }"#,
        "rename",
        &["`rename` expects a string, as in `rename = \"stop\"`"],
    );
    let diags = diagnostics(r#"enum Reason { #[label(rename = 5)] Stop }"#);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0].at, "5");
    let src = r#"enum Reason { #[label(rename = "a")] #[label(rename = "b")] Stop }"#;
    let diag = assert_error(src, "rename", &["duplicate `rename`: remove one of them"]);
    assert_eq!(diag.offset, src.rfind("rename").unwrap());
    // Other attributes are left alone.
    assert_eq!(
        values("#[derive(Debug)] #[doc = \"x\"] enum Reason { #[allow(unused)] Stop }"),
        ["stop"]
    );
}

#[test]
fn every_error_in_source_order() {
    let src = r#"
        enum Reason {
            #[label(rename = "")]
            Empty,
            Data(u8),
            #[label(colour = "red")]
            Red,
            Stop,
            #[label(rename = "stop")]
            Halt,
        }
    "#;
    let at: Vec<_> = diagnostics(src).into_iter().map(|diag| diag.at).collect();
    assert_eq!(at, ["\"\"", "(u8)", "colour", "\"stop\""]);
    // Nothing else reaches the token stream next to the errors: the fallback impl names no
    // variant.
    let file = expand(src);
    assert_eq!(compile_errors(&file), 4);
    let fallback = only_impl(&file);
    assert!(values_of(fallback).is_empty());
    assert_eq!(expr_text(index_body(fallback)), "0");
    let paths = Nodes::of(&file).paths.into_iter().map(path_name);
    let variants: Vec<_> = paths.filter(|path| path.starts_with("Self::")).collect();
    assert!(variants.is_empty(), "{variants:?}");
}

#[test]
fn a_duplicate_key_is_reported_once_at_the_later_occurrence() {
    for src in [
        r#"enum Reason { #[label(rename = "a", rename = "b")] Stop }"#,
        r#"enum Reason { #[label(rename = "a")] #[label(rename = "b")] Stop }"#,
        // A malformed first value still sets the key.
        r#"enum Reason { #[label(rename)] #[label(rename = "b")] Stop }"#,
    ] {
        let diags = diagnostics(src);
        let duplicates: Vec<_> = diags
            .iter()
            .filter(|diag| diag.message == "duplicate `rename`: remove one of them")
            .map(|diag| diag.offset)
            .collect();
        assert_eq!(duplicates, [src.rfind("rename").unwrap()], "{diags:#?}");
    }
    let src = "#[label(crate = a, crate = b)] #[label(crate = c)] enum Reason { Stop }";
    let at: Vec<_> = diagnostics(src)
        .into_iter()
        .map(|diag| diag.offset)
        .collect();
    assert_eq!(
        at,
        [
            src.find("crate = b").unwrap(),
            src.find("crate = c").unwrap()
        ]
    );
    // The first value stays: the fallback impl goes through the first path.
    assert_eq!(trait_name(only_impl(&expand(src))), "a::LabelValue");
    // A malformed first `rename` gives no value, and the second is not taken instead: `Halt`
    // keeps its own value, which does not clash with `Stop`'s.
    let diags =
        diagnostics(r#"enum Reason { #[label(rename = 5)] #[label(rename = "stop")] Halt, Stop }"#);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert_eq!(diags[0].at, "5");
    assert_eq!(diags[1].message, "duplicate `rename`: remove one of them");
}

#[test]
fn every_error_of_one_label_attribute_is_reported_together() {
    let src =
        r#"enum Reason { #[label(colour = "red", rename = 5, crate = x, rename = "a")] Stop }"#;
    let diags = diagnostics(src);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["colour", "5", "crate", "rename"], "{diags:#?}");
    assert_eq!(
        diags[2].message,
        "unknown key `crate` in `#[label(..)]` on a variant: the only key is `rename`"
    );
    let src = r#"#[label(rename = "x", krate = y, crate = ::my::eg)] enum Reason { Stop }"#;
    let diags = diagnostics(src);
    let at: Vec<_> = diags.iter().map(|diag| diag.at.as_str()).collect();
    assert_eq!(at, ["rename", "krate"], "{diags:#?}");
    // The key after the mistakes is still read.
    assert_eq!(trait_name(only_impl(&expand(src))), "::my::eg::LabelValue");
}
