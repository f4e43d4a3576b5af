//! The [`MetricsHierarchy`] trait: where a metric lives, and so which labels it carries.

pub(crate) mod levels;
pub(crate) mod registry;

use std::sync::Arc;

use crate::MetricsRegistry;
use crate::error::MetricErrorKind;
use crate::labels;
use crate::names::sanitize_label_name;

/// A level of the metrics hierarchy (runtime → namespace → component → endpoint).
///
/// Every level owns a [`MetricsRegistry`]; a metric is registered at the level it was created on
/// and carries that level's position as labels ([`hierarchy_labels`](Self::hierarchy_labels)).
///
/// The crate's own levels ([`MetricsRoot`](crate::MetricsRoot), [`Namespace`](crate::Namespace),
/// [`Component`](crate::Component), [`Endpoint`](crate::Endpoint)) label by the level's kind. An
/// implementation of your own gets the reference's positional rule unless it overrides
/// [`hierarchy_labels`](Self::hierarchy_labels).
///
/// A level of your own, under the positional rule: the chain of basenames from the root (whose
/// basename is empty) gives `dynamo_namespace`, `dynamo_component` and `dynamo_endpoint` by
/// position, whatever the levels are called in your application.
///
/// ```
/// use engine_gauges::prometheus::IntGauge;
/// use engine_gauges::{MetricsHierarchy, MetricsRegistry, create_metric};
///
/// struct Level {
///     name: &'static str,
///     parent: Option<Box<Level>>,
///     registry: MetricsRegistry,
/// }
///
/// impl Level {
///     fn new(name: &'static str, parent: Option<Level>) -> Self {
///         Level { name, parent: parent.map(Box::new), registry: MetricsRegistry::new() }
///     }
/// }
///
/// impl MetricsHierarchy for Level {
///     fn basename(&self) -> String {
///         self.name.to_owned()
///     }
///     fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
///         match &self.parent {
///             Some(parent) => {
///                 let mut chain = parent.parent_hierarchies();
///                 chain.push(&**parent);
///                 chain
///             }
///             None => Vec::new(),
///         }
///     }
///     fn get_metrics_registry(&self) -> &MetricsRegistry {
///         &self.registry
///     }
/// }
///
/// let service = Level::new("inference", Some(Level::new("", None)));
/// let worker = Level::new("decode", Some(Level::new("vllm", Some(service))));
/// assert_eq!(
///     worker.hierarchy_labels(),
///     [
///         ("dynamo_namespace", "inference".to_owned()),
///         ("dynamo_component", "vllm".to_owned()),
///         ("dynamo_endpoint", "decode".to_owned()),
///     ]
/// );
///
/// let in_flight: IntGauge =
///     create_metric(&worker, "inflight_requests", "Requests in flight.", &[], None, None)?;
/// in_flight.set(2);
/// let page = worker.get_metrics_registry().prometheus_expfmt_combined()?;
/// assert!(page.contains(
///     "dynamo_component_inflight_requests{dynamo_component=\"vllm\",dynamo_endpoint=\"decode\",\
///      dynamo_namespace=\"inference\"} 2\n"
/// ));
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub trait MetricsHierarchy: Send + Sync {
    /// This level's own name (the root's is empty).
    fn basename(&self) -> String;

    /// The levels above this one, root first, ending with the direct parent.
    fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy>;

    /// The worker's connection id, shown in lowercase hex as the `worker_id` label.
    fn connection_id(&self) -> Option<u64> {
        None
    }

    /// This level's registry.
    fn get_metrics_registry(&self) -> &MetricsRegistry;

    /// The hierarchy labels of metrics created at this level, as `(label, raw value)`, without
    /// `worker_id`. Values are sanitized when a metric is created.
    ///
    /// The default is the positional rule: of the chain `[root, ..parents, self]` of basenames,
    /// index 1 gives `dynamo_namespace`, 2 `dynamo_component` and 3 `dynamo_endpoint`, each only
    /// when present and non-empty.
    fn hierarchy_labels(&self) -> Vec<(&'static str, String)> {
        positional_labels(self)
    }
}

/// The positional rule of [`MetricsHierarchy::hierarchy_labels`].
pub fn positional_labels<H: MetricsHierarchy + ?Sized>(
    hierarchy: &H,
) -> Vec<(&'static str, String)> {
    let mut chain: Vec<String> = hierarchy
        .parent_hierarchies()
        .iter()
        .map(MetricsHierarchy::basename)
        .collect();
    chain.push(hierarchy.basename());
    [labels::NAMESPACE, labels::COMPONENT, labels::ENDPOINT]
        .into_iter()
        .zip(chain.into_iter().skip(1))
        .filter(|(_, value)| !value.is_empty())
        .collect()
}

/// All hierarchy labels of a level as raw values: its [`MetricsHierarchy::hierarchy_labels`] and,
/// when it has a connection id, `worker_id` in lowercase hex.
pub(crate) fn injected_labels<H: MetricsHierarchy + ?Sized>(
    hierarchy: &H,
) -> Vec<(&'static str, String)> {
    let mut out = hierarchy.hierarchy_labels();
    if let Some(id) = hierarchy.connection_id() {
        out.push((labels::WORKER_ID, format!("{id:x}")));
    }
    out
}

/// [`injected_labels`] as label values, as every metric and bridge of the level carries them:
/// level names sanitized like label names (the connection id's hex is valid as it is). A name
/// that sanitizes to nothing is refused, naming the label and the name.
pub(crate) fn injected_label_values<H: MetricsHierarchy + ?Sized>(
    hierarchy: &H,
) -> Result<Vec<(&'static str, String)>, MetricErrorKind> {
    injected_labels(hierarchy)
        .into_iter()
        .map(|(label, value)| {
            if label == labels::WORKER_ID {
                return Ok((label, value));
            }
            match sanitize_label_name(&value) {
                Ok(sanitized) => Ok((label, sanitized)),
                Err(reason) => Err(MetricErrorKind::InvalidHierarchyValue {
                    label,
                    value,
                    reason,
                }),
            }
        })
        .collect()
}

macro_rules! forward_hierarchy {
    ($($ty:ty),*) => {$(
        impl<T: MetricsHierarchy + ?Sized> MetricsHierarchy for $ty {
            fn basename(&self) -> String {
                (**self).basename()
            }
            fn parent_hierarchies(&self) -> Vec<&dyn MetricsHierarchy> {
                (**self).parent_hierarchies()
            }
            fn connection_id(&self) -> Option<u64> {
                (**self).connection_id()
            }
            fn get_metrics_registry(&self) -> &MetricsRegistry {
                (**self).get_metrics_registry()
            }
            fn hierarchy_labels(&self) -> Vec<(&'static str, String)> {
                (**self).hierarchy_labels()
            }
        }
    )*};
}

forward_hierarchy!(&T, Arc<T>, Box<T>);
