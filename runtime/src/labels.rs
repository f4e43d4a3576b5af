//! Label names with a fixed meaning, and the lists that say which names are reserved.
//!
//! These lists live in one place, shared with `#[derive(EngineGauges)]`: the derive rejects at
//! compile time exactly what [`create_metric`](crate::create_metric) rejects at run time.

pub use crate::hierarchy::positional_labels;
pub use engine_gauges_rules::labels::{
    COMPONENT, DP_RANK, ENDPOINT, ENGINE_AUTO, HIERARCHY_INJECTED, MODEL, MODEL_NAME, NAMESPACE,
    PROMETHEUS_RESERVED, RUNTIME_INJECTED, WORKER_ID,
};

/// Whether `name` is one of [`HIERARCHY_INJECTED`].
pub fn is_hierarchy_injected(name: &str) -> bool {
    HIERARCHY_INJECTED.contains(&name)
}

/// Whether `name` is one of [`ENGINE_AUTO`].
pub fn is_engine_auto(name: &str) -> bool {
    ENGINE_AUTO.contains(&name)
}
