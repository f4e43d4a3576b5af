//! [`TestHierarchy`]: a standalone level for tests, and [`WeakLevel`], to check that a level's
//! memory returns.

pub use crate::hierarchy::levels::WeakLevel;

use crate::{MetricsHierarchy, MetricsRegistry};

/// A one-level hierarchy for tests: basename `test`, no parents, no connection id, its own
/// registry. By the positional rule it gives no hierarchy labels.
#[derive(Debug, Default)]
pub struct TestHierarchy {
    registry: MetricsRegistry,
}

impl TestHierarchy {
    /// A new test level with an empty registry.
    pub fn new() -> Self {
        Self::default()
    }
}

impl MetricsHierarchy for TestHierarchy {
    fn basename(&self) -> String {
        "test".to_owned()
    }
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
        Vec::new()
    }
    fn get_metrics_registry(&self) -> &MetricsRegistry {
        &self.registry
    }
}
