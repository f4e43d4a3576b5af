//! Label names with a fixed meaning, the lists that say which names are reserved, and the rules
//! every declared label name must follow.

use core::fmt;

use crate::names::{has_camel_case, is_valid_label_name};

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

/// Labels that the hierarchy adds to every metric. A caller may not set them, neither as const
/// labels nor as variable labels.
pub const HIERARCHY_INJECTED: &[&str] = &[NAMESPACE, COMPONENT, ENDPOINT, WORKER_ID];

/// Labels that the engine handle adds to every metric of a gauge set, from the engine's
/// configuration.
pub const ENGINE_AUTO: &[&str] = &[MODEL, MODEL_NAME];

/// Every label the runtime adds to a gauge set's metrics at registration: the hierarchy's
/// ([`HIERARCHY_INJECTED`]) and the engine's ([`ENGINE_AUTO`]).
pub const RUNTIME_INJECTED: &[&str] =
    &[NAMESPACE, COMPONENT, ENDPOINT, WORKER_ID, MODEL, MODEL_NAME];

/// Label names Prometheus gives a meaning of its own: `le` (histogram bucket bounds) and
/// `quantile` (summary quantiles). Refused on every kind: promtool lints `le` on anything but a
/// histogram and `quantile` on anything but a summary, and on a histogram `le` would clash with
/// the bucket label.
pub const PROMETHEUS_RESERVED: &[&str] = &["le", "quantile"];

/// Who reserves a label name that is otherwise valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reserved {
    /// One of [`HIERARCHY_INJECTED`].
    Hierarchy,
    /// One of [`ENGINE_AUTO`].
    EngineAuto,
}

/// Whether the runtime adds `name` itself, and from where.
pub fn reserved(name: &str) -> Option<Reserved> {
    if HIERARCHY_INJECTED.contains(&name) {
        Some(Reserved::Hierarchy)
    } else if ENGINE_AUTO.contains(&name) {
        Some(Reserved::EngineAuto)
    } else {
        None
    }
}

/// Why a label name cannot be declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LabelProblem {
    /// The name is empty.
    Empty,
    /// The name does not match `[a-zA-Z_][a-zA-Z0-9_]*`.
    Invalid,
    /// The name starts with `__`.
    DoubleUnderscore,
    /// One of [`HIERARCHY_INJECTED`].
    HierarchyInjected,
    /// One of [`ENGINE_AUTO`].
    EngineAuto,
    /// `le`: histogram bucket bounds.
    Le,
    /// `quantile`: summary quantiles.
    Quantile,
    /// camelCase, which promtool lints.
    CamelCase,
}

/// Checks a declared label name (a const label's key or a variable label's name), for a metric of
/// any type. Engine auto-labels ([`ENGINE_AUTO`]) are reported as
/// [`LabelProblem::EngineAuto`]; a caller for whom they are ordinary labels ignores that answer.
///
/// # Errors
/// The first rule `name` breaks, in the order of [`LabelProblem`]'s variants.
pub fn check_label_name(name: &str) -> Result<(), LabelProblem> {
    if name.is_empty() {
        Err(LabelProblem::Empty)
    } else if !is_valid_label_name(name) {
        Err(LabelProblem::Invalid)
    } else if name.starts_with("__") {
        Err(LabelProblem::DoubleUnderscore)
    } else if let Some(who) = reserved(name) {
        Err(match who {
            Reserved::Hierarchy => LabelProblem::HierarchyInjected,
            Reserved::EngineAuto => LabelProblem::EngineAuto,
        })
    } else if name == "le" {
        Err(LabelProblem::Le)
    } else if name == "quantile" {
        Err(LabelProblem::Quantile)
    } else if has_camel_case(name) {
        Err(LabelProblem::CamelCase)
    } else {
        Ok(())
    }
}

impl LabelProblem {
    /// What the rule is and what to do instead, without the label's name: callers say which label.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => "a label needs a name",
            Self::Invalid => {
                "label names must match `[a-zA-Z_][a-zA-Z0-9_]*`; use letters, digits and `_`"
            }
            Self::DoubleUnderscore => {
                "names starting with `__` are reserved for Prometheus's own labels; rename it"
            }
            Self::HierarchyInjected => {
                "it is injected on every metric by the metrics hierarchy (`dynamo_namespace`, \
                 `dynamo_component`, `dynamo_endpoint`, `worker_id`); remove it"
            }
            Self::EngineAuto => {
                "it is added to every metric of a gauge set by `EngineMetrics` as an engine \
                 auto-label (`model`, `model_name`); remove it"
            }
            Self::Le => {
                "Prometheus reserves `le` for histogram bucket bounds (promtool lints it on any \
                 other type); rename it"
            }
            Self::Quantile => {
                "Prometheus reserves `quantile` for summary quantiles (promtool lints it on any \
                 other type); rename it"
            }
            Self::CamelCase => {
                "label names are snake_case, not camelCase (promtool lints it); write it in \
                 snake_case"
            }
        }
    }
}

impl fmt::Display for LabelProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_name_that_breaks_it() {
        let table = [
            ("", LabelProblem::Empty),
            ("1a", LabelProblem::Invalid),
            ("a-b", LabelProblem::Invalid),
            ("a:b", LabelProblem::Invalid),
            ("__x", LabelProblem::DoubleUnderscore),
            ("worker_id", LabelProblem::HierarchyInjected),
            ("dynamo_namespace", LabelProblem::HierarchyInjected),
            ("model", LabelProblem::EngineAuto),
            ("model_name", LabelProblem::EngineAuto),
            ("le", LabelProblem::Le),
            ("quantile", LabelProblem::Quantile),
            ("loraAdapter", LabelProblem::CamelCase),
        ];
        for (name, problem) in table {
            assert_eq!(check_label_name(name), Err(problem), "{name}");
        }
        for ok in ["dp_rank", "finish_reason", "_x", "Stage", "a1", "HTTP"] {
            assert_eq!(check_label_name(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn reserved_lists_agree() {
        for name in RUNTIME_INJECTED {
            assert!(reserved(name).is_some(), "{name}");
        }
        assert_eq!(
            RUNTIME_INJECTED.len(),
            HIERARCHY_INJECTED.len() + ENGINE_AUTO.len()
        );
        assert_eq!(reserved(DP_RANK), None);
    }
}
