//! [`create_metric`]: a metric with the hierarchy's labels, registered at its level.

use std::collections::{HashMap, HashSet};
use std::fmt;

use prometheus::core::Collector;
use prometheus::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter,
    IntCounterVec, IntGauge, IntGaugeVec, Opts,
};

use crate::hierarchy::{MetricsHierarchy, injected_label_values};
use engine_gauges_rules::{LabelProblem, MetricType, check_label_name as label_rule};

use crate::Error;
use crate::error::{LevelErrorKind, MetricErrorKind};
use crate::names::{is_valid_metric_name, sanitize_metric_name};

/// The prefix [`create_metric`] puts before every name.
pub const COMPONENT_PREFIX: &str = engine_gauges_rules::DEFAULT_PREFIX;

/// The metric types [`create_metric`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricKind {
    /// [`prometheus::Gauge`]
    Gauge,
    /// [`prometheus::IntGauge`]
    IntGauge,
    /// [`prometheus::GaugeVec`]
    GaugeVec,
    /// [`prometheus::IntGaugeVec`]
    IntGaugeVec,
    /// [`prometheus::Counter`]
    Counter,
    /// [`prometheus::IntCounter`]
    IntCounter,
    /// [`prometheus::CounterVec`]
    CounterVec,
    /// [`prometheus::IntCounterVec`]
    IntCounterVec,
    /// [`prometheus::Histogram`]
    Histogram,
    /// [`prometheus::HistogramVec`]
    HistogramVec,
}

impl MetricKind {
    /// The Rust type's name, such as `IntGaugeVec`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Gauge => "Gauge",
            Self::IntGauge => "IntGauge",
            Self::GaugeVec => "GaugeVec",
            Self::IntGaugeVec => "IntGaugeVec",
            Self::Counter => "Counter",
            Self::IntCounter => "IntCounter",
            Self::CounterVec => "CounterVec",
            Self::IntCounterVec => "IntCounterVec",
            Self::Histogram => "Histogram",
            Self::HistogramVec => "HistogramVec",
        }
    }

    /// The Prometheus type on the page's `# TYPE` line: `gauge`, `counter` or `histogram`.
    pub const fn prometheus_type(self) -> &'static str {
        self.metric_type().as_str()
    }

    /// Whether the type has variable labels (a `*Vec`).
    pub const fn is_vec(self) -> bool {
        matches!(
            self,
            Self::GaugeVec
                | Self::IntGaugeVec
                | Self::CounterVec
                | Self::IntCounterVec
                | Self::HistogramVec
        )
    }

    /// Whether the type is a histogram.
    pub const fn is_histogram(self) -> bool {
        matches!(self, Self::Histogram | Self::HistogramVec)
    }

    /// The Prometheus type, which decides the naming rules the name follows.
    pub const fn metric_type(self) -> MetricType {
        match self {
            Self::Gauge | Self::IntGauge | Self::GaugeVec | Self::IntGaugeVec => MetricType::Gauge,
            Self::Counter | Self::IntCounter | Self::CounterVec | Self::IntCounterVec => {
                MetricType::Counter
            }
            Self::Histogram | Self::HistogramVec => MetricType::Histogram,
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

mod sealed {
    use crate::metric::sealed::Token;

    pub trait Sealed: Sized {
        /// Builds the metric from its options, buckets (histograms) and label names (vectors).
        fn build(
            opts: prometheus::Opts,
            buckets: Vec<f64>,
            label_names: &[&str],
            _: Token,
        ) -> prometheus::Result<Self>;
    }
}

/// A prometheus metric type that [`create_metric`] can make. Sealed.
pub trait CreateMetric:
    Collector + Clone + Send + Sync + fmt::Debug + sealed::Sealed + 'static
{
    /// Which type this is.
    const KIND: MetricKind;
}

macro_rules! create_metric_impl {
    ($($ty:ident => |$opts:ident, $buckets:ident, $names:ident| $build:expr;)*) => {$(
        impl sealed::Sealed for $ty {
            fn build(
                $opts: Opts,
                $buckets: Vec<f64>,
                $names: &[&str],
                _: crate::metric::sealed::Token,
            ) -> prometheus::Result<Self> {
                $build
            }
        }
        impl CreateMetric for $ty {
            const KIND: MetricKind = MetricKind::$ty;
        }
    )*};
}

create_metric_impl! {
    Gauge => |opts, _buckets, _names| Gauge::with_opts(opts);
    IntGauge => |opts, _buckets, _names| IntGauge::with_opts(opts);
    GaugeVec => |opts, _buckets, names| GaugeVec::new(opts, names);
    IntGaugeVec => |opts, _buckets, names| IntGaugeVec::new(opts, names);
    Counter => |opts, _buckets, _names| Counter::with_opts(opts);
    IntCounter => |opts, _buckets, _names| IntCounter::with_opts(opts);
    CounterVec => |opts, _buckets, names| CounterVec::new(opts, names);
    IntCounterVec => |opts, _buckets, names| IntCounterVec::new(opts, names);
    Histogram => |opts, buckets, _names| Histogram::with_opts(HistogramOpts::from(opts).buckets(buckets));
    HistogramVec => |opts, buckets, names| HistogramVec::new(HistogramOpts::from(opts).buckets(buckets), names);
}

/// Creates a metric named `dynamo_component_<name>` at `hierarchy`'s level, with the hierarchy's
/// labels, and registers it there. [`create_metric_with_prefix`] with [`COMPONENT_PREFIX`].
///
/// ```
/// use engine_gauges::{MetricsRoot, create_metric};
/// use engine_gauges::prometheus::IntGaugeVec;
///
/// let endpoint = MetricsRoot::with_connection_id(0xabc)
///     .namespace("dynamo")?
///     .component("backend")?
///     .endpoint("generate")?;
/// let waiting: IntGaugeVec = create_metric(
///     &endpoint,
///     "waiting_requests",
///     "Requests waiting, by adapter.",
///     &[("engine", "mocker")],
///     None,
///     Some(&["lora_adapter"]),
/// )?;
/// waiting.with_label_values(&["base"]).set(3);
/// let page = endpoint.registry().prometheus_expfmt_combined()?;
/// assert!(page.contains(
///     r#"dynamo_component_waiting_requests{dynamo_component="backend",dynamo_endpoint="generate",dynamo_namespace="dynamo",engine="mocker",lora_adapter="base",worker_id="abc"} 3"#
/// ));
/// # Ok::<(), engine_gauges::Error>(())
/// ```
///
/// # Errors
/// See [`create_metric_with_prefix`].
pub fn create_metric<T: CreateMetric, H: MetricsHierarchy + ?Sized>(
    hierarchy: &H,
    name: &str,
    help: &str,
    const_labels: &[(&str, &str)],
    buckets: Option<Vec<f64>>,
    label_names: Option<&[&str]>,
) -> Result<T, Error> {
    create_metric_with_prefix(
        hierarchy,
        COMPONENT_PREFIX,
        name,
        help,
        const_labels,
        buckets,
        label_names,
    )
}

/// Creates a metric named `<prefix>_<name>` (`<name>` when `prefix` is empty) at `hierarchy`'s
/// level and registers it there.
///
/// `name` is sanitized (characters outside `[a-zA-Z0-9_:]` become `_`). The metric gets, as const
/// labels, the hierarchy's labels (`dynamo_namespace`, `dynamo_component`, `dynamo_endpoint`, each
/// where the level has it, values sanitized like label names) and `worker_id` (the connection id in
/// lowercase hex, where there is one), then `const_labels` as given. `label_names` are the variable
/// labels: required for the `*Vec` types, refused for the others. `buckets` only for histograms
/// (default [`buckets::DEFAULT`](crate::buckets::DEFAULT)).
///
/// Nothing is registered when an error is returned.
///
/// # Errors
/// [`Error::Metric`] naming the metric, with one of these [`MetricErrorKind`]s:
/// - [`InvalidName`](MetricErrorKind::InvalidName),
///   [`InvalidPrefix`](MetricErrorKind::InvalidPrefix),
///   [`NamingConvention`](MetricErrorKind::NamingConvention) (promtool's lints, by kind),
///   [`EmptyHelp`](MetricErrorKind::EmptyHelp);
/// - [`InvalidLabelName`](MetricErrorKind::InvalidLabelName) for a const key or variable name
///   outside `[a-zA-Z_][a-zA-Z0-9_]*` (label names are validated, never rewritten);
/// - [`HierarchyInjectedLabel`](MetricErrorKind::HierarchyInjectedLabel) for any of
///   [`labels::HIERARCHY_INJECTED`](crate::labels::HIERARCHY_INJECTED);
/// - [`ReservedLabel`](MetricErrorKind::ReservedLabel) for names starting with `__`, `quantile`
///   and `le`; [`LabelNamingConvention`](MetricErrorKind::LabelNamingConvention) for camelCase;
/// - [`DuplicateLabel`](MetricErrorKind::DuplicateLabel),
///   [`LabelIsConstAndVariable`](MetricErrorKind::LabelIsConstAndVariable);
/// - [`InvalidBuckets`](MetricErrorKind::InvalidBuckets),
///   [`UnexpectedBuckets`](MetricErrorKind::UnexpectedBuckets);
/// - [`MissingLabelNames`](MetricErrorKind::MissingLabelNames),
///   [`UnexpectedLabelNames`](MetricErrorKind::UnexpectedLabelNames);
/// - [`InvalidHierarchyValue`](MetricErrorKind::InvalidHierarchyValue) for a level name that
///   sanitizes to nothing;
/// - [`AlreadyRegistered`](MetricErrorKind::AlreadyRegistered) and
///   [`Registration`](MetricErrorKind::Registration) from the level's registry.
///
/// [`Error::Level`] with [`LevelErrorKind::Removed`] when the level was taken out of the tree.
///
/// The metric keeps its level attached to the tree until it is unregistered
/// ([`MetricsRegistry::unregister`](crate::MetricsRegistry::unregister)) or the level is
/// removed.
pub fn create_metric_with_prefix<T: CreateMetric, H: MetricsHierarchy + ?Sized>(
    hierarchy: &H,
    prefix: &str,
    name: &str,
    help: &str,
    const_labels: &[(&str, &str)],
    buckets: Option<Vec<f64>>,
    label_names: Option<&[&str]>,
) -> Result<T, Error> {
    let prepared = prepare(
        hierarchy,
        T::KIND,
        prefix,
        name,
        help,
        const_labels,
        buckets,
        label_names,
    )?;
    let Prepared {
        metric,
        const_labels: all_const,
        buckets,
        ..
    } = prepared;
    let label_names = label_names.unwrap_or(&[]);
    let registry = hierarchy.get_metrics_registry();
    if registry.has_native(&metric) {
        return Err(Error::metric_error(
            metric,
            MetricErrorKind::AlreadyRegistered,
        ));
    }
    let opts = Opts::new(metric.clone(), help).const_labels(all_const.into_iter().collect());
    let registered =
        <T as sealed::Sealed>::build(opts, buckets, label_names, crate::metric::sealed::Token(()))
            .and_then(|built| {
                registry.register(Box::new(built.clone()))?;
                Ok(built)
            });
    registered.map_err(|source| {
        let kind = match source {
            prometheus::Error::AlreadyReg => MetricErrorKind::AlreadyRegistered,
            source => MetricErrorKind::Registration { source },
        };
        Error::metric_error(metric, kind)
    })
}

/// A metric's name, help, labels and buckets, checked against every rule and with the
/// hierarchy's labels added: what both `create_metric` and the store register.
pub(crate) struct Prepared {
    pub(crate) metric: String,
    pub(crate) help: String,
    /// Every label that is the same for all series: the hierarchy's, then the caller's.
    pub(crate) const_labels: Vec<(String, String)>,
    pub(crate) buckets: Vec<f64>,
}

/// Checks a metric about to be made and adds the hierarchy's labels (see
/// [`create_metric_with_prefix`] for the rules and errors).
#[allow(clippy::too_many_arguments)]
pub(crate) fn prepare<H: MetricsHierarchy + ?Sized>(
    hierarchy: &H,
    kind: MetricKind,
    prefix: &str,
    name: &str,
    help: &str,
    const_labels: &[(&str, &str)],
    buckets: Option<Vec<f64>>,
    label_names: Option<&[&str]>,
) -> Result<Prepared, Error> {
    let short = sanitize_metric_name(name)
        .map_err(|reason| Error::metric_error(name, MetricErrorKind::InvalidName { reason }))?;
    let metric = if prefix.is_empty() {
        short
    } else {
        format!("{prefix}_{short}")
    };
    let checked = check_metric(
        kind,
        prefix,
        &metric,
        help,
        const_labels,
        buckets,
        label_names,
    );
    let buckets = checked.map_err(|kind| Error::metric_error(&metric, kind))?;

    let injected =
        injected_label_values(hierarchy).map_err(|kind| Error::metric_error(&metric, kind))?;
    let mut all_const: HashMap<String, String> = HashMap::new();
    for (label, value) in injected {
        all_const.insert(label.to_owned(), value);
    }
    for &(key, value) in const_labels {
        all_const.insert(key.to_owned(), value.to_owned());
    }
    let registry = hierarchy.get_metrics_registry();
    if registry.is_removed() {
        return Err(Error::level_error(
            registry.describe(),
            LevelErrorKind::Removed,
        ));
    }
    let mut const_labels: Vec<(String, String)> = all_const.into_iter().collect();
    const_labels.sort();
    Ok(Prepared {
        metric,
        help: help.to_owned(),
        const_labels,
        buckets,
    })
}

/// Every rule on what the caller gave, in the order the errors are reported; on success, the
/// histogram's buckets (empty for other kinds).
fn check_metric(
    kind: MetricKind,
    prefix: &str,
    metric: &str,
    help: &str,
    const_labels: &[(&str, &str)],
    buckets: Option<Vec<f64>>,
    label_names: Option<&[&str]>,
) -> Result<Vec<f64>, MetricErrorKind> {
    if !prefix.is_empty() && !is_valid_metric_name(prefix) {
        return Err(MetricErrorKind::InvalidPrefix {
            prefix: prefix.to_owned(),
        });
    }
    if let Err(problem) = engine_gauges_rules::check_metric_name(metric, kind.metric_type()) {
        return Err(MetricErrorKind::NamingConvention {
            metric_kind: kind,
            reason: problem.to_string(),
        });
    }
    if help.trim().is_empty() {
        return Err(MetricErrorKind::EmptyHelp);
    }

    let mut const_keys = HashSet::new();
    for &(key, _) in const_labels {
        check_label_name(key)?;
        if !const_keys.insert(key) {
            return Err(MetricErrorKind::DuplicateLabel {
                label: key.to_owned(),
            });
        }
    }

    let label_names = match (kind.is_vec(), label_names) {
        (true, Some(names)) if !names.is_empty() => names,
        (true, _) => return Err(MetricErrorKind::MissingLabelNames { metric_kind: kind }),
        (false, Some(_)) => {
            return Err(MetricErrorKind::UnexpectedLabelNames { metric_kind: kind });
        }
        (false, None) => &[],
    };
    let mut variable = HashSet::new();
    for &label in label_names {
        check_label_name(label)?;
        if !variable.insert(label) {
            return Err(MetricErrorKind::DuplicateLabel {
                label: label.to_owned(),
            });
        }
        if const_keys.contains(label) {
            return Err(MetricErrorKind::LabelIsConstAndVariable {
                label: label.to_owned(),
            });
        }
    }

    check_buckets(kind, buckets)
}

/// Checks a caller's label name (const key or variable name) against every naming rule. The
/// engine's auto-labels (`model`, `model_name`) are ordinary labels here: a caller of
/// `create_metric` sets them itself.
pub(crate) fn check_label_name(label: &str) -> Result<(), MetricErrorKind> {
    let owned = label.to_owned();
    match label_rule(label) {
        Ok(()) | Err(LabelProblem::EngineAuto) => Ok(()),
        Err(LabelProblem::Empty | LabelProblem::Invalid) => {
            Err(MetricErrorKind::InvalidLabelName { label: owned })
        }
        Err(LabelProblem::HierarchyInjected) => {
            Err(MetricErrorKind::HierarchyInjectedLabel { label: owned })
        }
        Err(problem @ LabelProblem::CamelCase) => Err(MetricErrorKind::LabelNamingConvention {
            label: owned,
            reason: problem.message(),
        }),
        Err(problem) => Err(MetricErrorKind::ReservedLabel {
            label: owned,
            reason: problem.message(),
        }),
    }
}

fn check_buckets(kind: MetricKind, buckets: Option<Vec<f64>>) -> Result<Vec<f64>, MetricErrorKind> {
    match (kind.is_histogram(), buckets) {
        (false, None) => Ok(Vec::new()),
        (false, Some(_)) => Err(MetricErrorKind::UnexpectedBuckets { metric_kind: kind }),
        (true, None) => Ok(crate::buckets::DEFAULT.to_vec()),
        (true, Some(buckets)) => match engine_gauges_rules::check_buckets(&buckets) {
            Ok(()) => Ok(buckets),
            Err(problem) => Err(MetricErrorKind::InvalidBuckets {
                buckets,
                reason: problem.message(),
            }),
        },
    }
}
