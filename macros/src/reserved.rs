//! The macro's copy of the label names the runtime reserves.
//!
//! The source of truth is `engine_gauges::labels`. A proc-macro crate cannot
//! depend on its runtime, so this copy is exposed through the hidden
//! `__reserved_label_names!()` macro and the runtime has a test asserting that
//! both lists are equal: edit them together.

/// Labels the runtime hierarchy (namespace, component, endpoint, worker)
/// injects on every metric.
pub(crate) const HIERARCHY_LABELS: &[&str] = &[
    "dynamo_namespace",
    "dynamo_component",
    "dynamo_endpoint",
    "worker_id",
];

/// Labels `EngineMetrics` adds to every metric it registers.
pub(crate) const AUTO_LABELS: &[&str] = &["model", "model_name"];

/// The variable label of every per-rank field.
pub(crate) const RANK_LABEL: &str = "dp_rank";

/// Why a label name cannot be declared by a gauge set, if it cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reserved {
    Hierarchy,
    AutoLabel,
}

pub(crate) fn reserved(name: &str) -> Option<Reserved> {
    if HIERARCHY_LABELS.contains(&name) {
        Some(Reserved::Hierarchy)
    } else if AUTO_LABELS.contains(&name) {
        Some(Reserved::AutoLabel)
    } else {
        None
    }
}

/// Every reserved name, hierarchy labels first, as the runtime lists them.
pub(crate) fn all() -> impl Iterator<Item = &'static str> {
    HIERARCHY_LABELS.iter().chain(AUTO_LABELS).copied()
}

/// `&["dynamo_namespace", .., "model_name"]`, for `__reserved_label_names!()`.
pub(crate) fn expand() -> proc_macro2::TokenStream {
    let names = all();
    quote::quote!(&[#(#names),*])
}
