//! `#[derive(LabelValue)]`: the values a fieldless enum's variants give, the checks, and the
//! generated impl. Errors are read back from the `compile_error!` calls of the output, whose
//! tokens carry the start and end of each error's span.

use super::{Diag, offset, parse};
use crate::label::{derive, snake_case};
use proc_macro2::{Span, TokenStream, TokenTree};

/// The output of the derive for `src`, as a string.
fn expand(src: &str) -> String {
    derive(&parse(src)).to_string()
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

/// `VALUES` of the impl generated for `src`.
fn values(src: &str) -> String {
    let out = expand(src);
    assert!(!out.contains("compile_error"), "{out}");
    let start = out.find("const VALUES").unwrap();
    let end = start + out[start..].find(';').unwrap();
    let values = &out[start..end];
    let list = values.find("= & [").unwrap();
    values[list + "= & [".len()..values.len() - 2].to_owned()
}

fn tokens(tokens: TokenStream) -> String {
    tokens.to_string()
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
        r#""stop" , "timed_out" , "http_error" , "v2_beta" , "type" , "loop""#
    );
}

#[test]
fn the_impl_lists_the_values_and_indexes_the_variants() {
    let out = expand(
        r#"
        enum Reason {
            Stop,
            #[label(rename = "len")]
            Length,
            TimedOut = 7,
        }
        "#,
    );
    for piece in [
        "# [automatically_derived] impl :: engine_gauges :: LabelValue for Reason",
        r#"const VALUES : & 'static [& 'static :: core :: primitive :: str] = & ["stop" , "len" , "timed_out"] ;"#,
        "fn index (& self) -> :: core :: primitive :: usize { match self { Self :: Stop => 0usize , Self :: Length => 1usize , Self :: TimedOut => 2usize , } }",
    ] {
        assert!(out.contains(piece), "{piece}\nnot in\n{out}");
    }
    assert!(!out.contains("compile_error"), "{out}");
}

#[test]
fn renames() {
    assert_eq!(
        values(
            r#"enum Reason { #[label(rename = "EOS")] EndOfSequence, #[label(rename = "a b-c")] Odd, Stop }"#
        ),
        r#""EOS" , "a b-c" , "stop""#
    );
    // A rename may take the value another variant would have had, if that one is renamed too.
    assert_eq!(
        values(r#"enum E { #[label(rename = "b")] A, #[label(rename = "a")] B }"#),
        r#""b" , "a""#
    );
}

#[test]
fn the_crate_path() {
    let out = expand("#[label(crate = ::my::eg)] enum Reason { Stop }");
    assert!(
        out.contains("impl :: my :: eg :: LabelValue for Reason"),
        "{out}"
    );
    assert!(!out.contains("engine_gauges"), "{out}");
    // The fallback impl uses it too.
    let out = expand("#[label(crate = my::eg)] enum Reason { A(u8) }");
    assert!(
        out.contains("impl my :: eg :: LabelValue for Reason"),
        "{out}"
    );
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
    let out = expand("enum Reason<T> where T: Copy { Stop }");
    assert!(
        out.contains(
            "impl < T > :: engine_gauges :: LabelValue for Reason < T > where T : Copy { const VALUES : & 'static [& 'static :: core :: primitive :: str] = & [] ; fn index (& self) -> :: core :: primitive :: usize { 0 } }"
        ),
        "{out}"
    );
    let out = expand("enum Never {}");
    assert_eq!(out.matches("compile_error").count(), 1, "{out}");
    assert!(
        out.contains("impl :: engine_gauges :: LabelValue for Never"),
        "{out}"
    );
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
        r#""stop""#
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
    // Nothing else reaches the token stream next to the errors.
    assert!(!tokens(derive(&parse(src))).contains("Self :: Stop"));
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
    assert!(expand(src).contains("impl a :: LabelValue for Reason"));
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
    assert!(expand(src).contains("impl :: my :: eg :: LabelValue for Reason"));
}
