//! Levels for tests: [`NamedLevel`], a user's own `MetricsHierarchy`, for tests of the positional
//! rule and of the registry without the crate's levels; and the crate's levels most tests label
//! their metrics with, [`backend_component`] and [`generate_endpoint`].

use engine_gauges::{Component, Endpoint, MetricsHierarchy, MetricsRegistry, MetricsRoot};

/// The component `backend` of namespace `dynamo` under `root`.
pub fn backend_component(root: &MetricsRoot) -> Component {
    root.namespace("dynamo")
        .and_then(|ns| ns.component("backend"))
        .expect("namespace `dynamo`, component `backend`")
}

/// The endpoint `generate` of [`backend_component`].
pub fn generate_endpoint(root: &MetricsRoot) -> Endpoint {
    backend_component(root)
        .endpoint("generate")
        .expect("endpoint `generate`")
}

/// A user hierarchy level: a name, its parents (root first, each a level of its own), an optional
/// connection id, and a registry of its own or a given one.
///
/// By the positional rule, the chain `[parents.., self]` gives its labels: the first element is
/// the runtime's root, the next ones namespace, component and endpoint. So
/// `NamedLevel::new("generate", &["drt", "dyn", "backend"])` is labelled
/// `dynamo_namespace="dyn"`, `dynamo_component="backend"`, `dynamo_endpoint="generate"`, and a
/// level without parents (as [`NamedLevel::bare`] makes) has no hierarchy labels at all.
#[derive(Debug, Clone)]
pub struct NamedLevel {
    registry: MetricsRegistry,
    name: String,
    parents: Vec<NamedLevel>,
    connection_id: Option<u64>,
}

impl NamedLevel {
    /// A level named `name` under `parents`, over a new registry.
    pub fn new(name: &str, parents: &[&str]) -> Self {
        Self::over(&MetricsRegistry::new(), name, parents)
    }

    /// A level named `name` under `parents`, over `registry` (each parent has a new registry).
    pub fn over(registry: &MetricsRegistry, name: &str, parents: &[&str]) -> Self {
        Self {
            registry: registry.clone(),
            name: name.to_owned(),
            parents: parents.iter().map(|p| Self::new(p, &[])).collect(),
            connection_id: None,
        }
    }

    /// A level over `registry` with no name, no parents and so no labels: for tests of the
    /// registry and the combined scrape without the hierarchy's labels in the way.
    pub fn bare(registry: &MetricsRegistry) -> Self {
        Self::over(registry, "", &[])
    }

    /// The same level with connection id `id` (the `worker_id` label, in hex).
    pub fn with_connection_id(mut self, id: u64) -> Self {
        self.connection_id = Some(id);
        self
    }
}

impl MetricsHierarchy for NamedLevel {
    fn basename(&self) -> String {
        self.name.clone()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        self.parents
            .iter()
            .map(|p| p as &dyn MetricsHierarchy)
            .collect()
    }
    fn connection_id(&self) -> Option<u64> {
        self.connection_id
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        &self.registry
    }
}
