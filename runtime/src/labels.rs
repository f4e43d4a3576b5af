//! Label names with a fixed meaning, and the lists that say which names are reserved.
//!
//! These lists are the single source of truth for "reserved": [`create_metric`](crate::create_metric)
//! reads them at run time and `#[derive(EngineGauges)]` rejects the same names at compile time
//! (a test in this crate fails if the derive's copy ever differs from these lists).

/// The namespace a metric was created in. Injected by the hierarchy.
pub const NAMESPACE: &str = "dynamo_namespace";
/// The component a metric was created in. Injected by the hierarchy.
pub const COMPONENT: &str = "dynamo_component";
/// The endpoint a metric was created in. Injected by the hierarchy.
pub const ENDPOINT: &str = "dynamo_endpoint";
/// The worker's connection id, in lowercase hex without `0x`. Injected by the hierarchy.
pub const WORKER_ID: &str = "worker_id";
/// The model path or name the engine was started with. An engine auto-label.
pub const MODEL: &str = "model";
/// The name the model is served under (the served name wins over [`MODEL`]). An engine auto-label.
pub const MODEL_NAME: &str = "model_name";
/// The data-parallel rank of a per-rank family. A variable label, never injected.
pub const DP_RANK: &str = "dp_rank";

/// Labels that [`create_metric`](crate::create_metric) adds to every metric from the hierarchy.
/// A caller may not set them, neither as const labels nor as variable labels.
pub const HIERARCHY_INJECTED: &[&str] = &[NAMESPACE, COMPONENT, ENDPOINT, WORKER_ID];

/// Labels that [`EngineMetrics`](crate::EngineMetrics) adds to every metric of a gauge set
/// from the engine's configuration.
pub const ENGINE_AUTO: &[&str] = &[MODEL, MODEL_NAME];

/// Label names reserved by Prometheus itself for some metric types: `le` (histogram buckets)
/// and `quantile` (summary quantiles).
pub const PROMETHEUS_RESERVED: &[&str] = &["le", "quantile"];

/// Whether `name` is one of [`HIERARCHY_INJECTED`].
pub fn is_hierarchy_injected(name: &str) -> bool {
    HIERARCHY_INJECTED.contains(&name)
}

/// Whether `name` is one of [`ENGINE_AUTO`].
pub fn is_engine_auto(name: &str) -> bool {
    ENGINE_AUTO.contains(&name)
}

/// Every label the runtime adds to a gauge set's metrics at registration: the hierarchy's
/// ([`HIERARCHY_INJECTED`]) and the engine's ([`ENGINE_AUTO`]). The derive rejects all of them.
pub const RUNTIME_INJECTED: &[&str] =
    &[NAMESPACE, COMPONENT, ENDPOINT, WORKER_ID, MODEL, MODEL_NAME];
