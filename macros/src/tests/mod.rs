//! Unit tests of the parser, the checks and the expansion, on derive inputs
//! given as source text so each error's span can be checked against the text
//! it underlines.

#![allow(clippy::unwrap_used)]

mod check;
mod expand;
mod kinds;
mod label;
mod parse;
mod rules;

use crate::ast::Input;
use crate::errors::Errors;
use crate::valid;
use proc_macro2::{LineColumn, Span};
use syn::DeriveInput;

/// One reported error: its message, the source text it underlines and the
/// byte offset where that text starts.
#[derive(Debug)]
pub(crate) struct Diag {
    pub(crate) message: String,
    pub(crate) at: String,
    pub(crate) offset: usize,
}

/// The README's `Kv` example: per-rank fields, a labelled family, a snapshot.
pub(crate) const KV: &str = r#"
    #[gauges(snapshot = ComponentSnapshot, const_labels(engine = "mocker"))]
    pub struct Kv {
        /// Total number of KV cache blocks available on the worker.
        #[gauge(from = kv_total_blocks)]
        pub total_blocks: PerRank<IntGauge>,
        /// Prefix cache hit rate (0.0-1.0). Portable across engines.
        #[gauge(from = kv_cache_hit_rate, unseeded)]
        pub kv_cache_hit_rate: PerRank<Gauge>,
        /// Requests waiting, by adapter.
        #[gauge(labels("lora_adapter"))]
        pub waiting_requests: IntGaugeVec,
    }
"#;

pub(crate) fn parse(src: &str) -> DeriveInput {
    syn::parse_str(src).unwrap()
}

/// Every error the derive reports for `src`, in order.
pub(crate) fn diagnostics(src: &str) -> Vec<Diag> {
    let node = parse(src);
    let mut errors = Errors::default();
    let input = Input::from_syn(&node, &mut errors);
    valid::check(&input, &mut errors);
    diags(src, errors)
}

/// Every error in `errors`, in order, with the text of `src` it underlines.
pub(crate) fn diags(src: &str, errors: Errors) -> Vec<Diag> {
    match errors.finish() {
        Ok(()) => Vec::new(),
        Err(error) => error
            .into_iter()
            .map(|error| {
                let span = error.span();
                Diag {
                    message: error.to_string(),
                    at: text(src, span),
                    offset: offset(src, span.start()),
                }
            })
            .collect(),
    }
}

/// The single error reported for `src`.
#[track_caller]
pub(crate) fn only_error(src: &str) -> Diag {
    let mut diags = diagnostics(src);
    assert_eq!(diags.len(), 1, "expected exactly one error, got {diags:#?}");
    diags.remove(0)
}

/// Asserts that `src` has exactly one error, underlining `at`, whose message
/// contains every one of `parts`.
#[track_caller]
pub(crate) fn assert_error(src: &str, at: &str, parts: &[&str]) {
    let diag = only_error(src);
    assert_eq!(diag.at, at, "wrong span for {:?}", diag.message);
    for part in parts {
        assert!(
            diag.message.contains(part),
            "message {:?} lacks {part:?}",
            diag.message
        );
    }
}

#[track_caller]
pub(crate) fn assert_valid(src: &str) {
    let diags = diagnostics(src);
    assert!(diags.is_empty(), "unexpected errors: {diags:#?}");
}

/// The source text a span covers.
fn text(src: &str, span: Span) -> String {
    let start = offset(src, span.start());
    let end = offset(src, span.end());
    src[start..end].to_owned()
}

fn offset(src: &str, at: LineColumn) -> usize {
    let line_start: usize = src
        .split_inclusive('\n')
        .take(at.line - 1)
        .map(str::len)
        .sum();
    let line = &src[line_start..];
    line_start
        + line
            .char_indices()
            .nth(at.column)
            .map_or(line.len(), |(index, _)| index)
}
