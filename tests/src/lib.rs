//! Helpers shared by the integration tests.

pub mod bad_text;
pub mod expfmt;
pub mod http_client;
pub mod names_model;
pub mod probe;
pub mod programs;
pub mod prometheus_server;
pub mod promtool;
pub mod serving;

use engine_gauges::{MetricsHierarchy, MetricsRegistry};

/// A hierarchy level over a given registry, with no labels at all: for tests of the registry and
/// the combined scrape without the hierarchy's labels in the way.
#[derive(Debug, Clone)]
pub struct BareLevel(pub MetricsRegistry);

impl MetricsHierarchy for BareLevel {
    fn basename(&self) -> String {
        String::new()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        Vec::new()
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        &self.0
    }
}
