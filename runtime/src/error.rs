//! The library's error: one variant per operation, each carrying a kind to match on (but
//! [`Error::DataParallelSize`], an operation with one way to fail).
//!
//! | variant | operation | subject named once |
//! | --- | --- | --- |
//! | [`Error::Metric`] | creating, registering or unregistering a metric or gauge set | `metric` |
//! | [`Error::Level`] | creating a level of the hierarchy, or using one taken out of the tree | `level` |
//! | [`Error::Bridge`] | bridging a foreign collector or registry with labels | the collector |
//! | [`Error::DataParallelSize`] | reading the engine's data-parallel ranks | the ranks |
//! | [`Error::Scrape`] | rendering the combined page | none |
//! | [`Error::Server`] | starting the metrics server (feature `http`) | the address, for `Bind` |
//!
//! ```
//! use engine_gauges::error::MetricErrorKind;
//! use engine_gauges::prometheus::IntCounter;
//! use engine_gauges::{Error, MetricsRoot, create_metric};
//!
//! let root = MetricsRoot::new();
//! let err = create_metric::<IntCounter, _>(&root, "requests", "Requests.", &[], None, None)
//!     .unwrap_err();
//! match &err {
//!     Error::Metric { metric, kind: MetricErrorKind::NamingConvention { .. } } => {
//!         assert_eq!(metric, "dynamo_component_requests");
//!     }
//!     other => panic!("unexpected: {other}"),
//! }
//! assert!(err.to_string().starts_with("metric `dynamo_component_requests`: "));
//! ```

use std::fmt;
use std::time::Duration;

use crate::metric::create::MetricKind;

/// Everything that can go wrong when creating levels, metrics and gauge sets, reading the
/// engine's configuration, scraping, or starting the server.
///
/// Each variant is one operation and names its subject once; its kind says what went wrong.
/// Each message names the metric, label or level at fault and says what to do instead.
///
/// A message does not repeat its cause: where there is one (the operating system's error for
/// the server, the registry's for a registration), [`source()`](std::error::Error::source)
/// returns it. Print the chain to see both (for example with `anyhow`'s `{:#}`, or a loop over
/// `source()`).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Creating, registering or unregistering a metric (or a gauge set, named by the metric at
    /// fault) was refused.
    Metric {
        /// The metric's full name (the name as given when the name itself is at fault; names,
        /// for a collector of several families).
        metric: String,
        /// What is wrong.
        kind: MetricErrorKind,
    },

    /// A level of the hierarchy could not be created, or was used after it left the tree.
    Level {
        /// The level, as in ``endpoint `generate` ``.
        level: String,
        /// What is wrong.
        kind: LevelErrorKind,
    },

    /// Bridging a foreign `prometheus` collector or registry with injected labels was refused;
    /// nothing was bridged.
    Bridge {
        /// What was being bridged: ``the collector of `vllm:num_requests_running` `` or
        /// `a foreign registry`.
        bridged: String,
        /// What is wrong with the labels (a label name, or a hierarchy value).
        kind: MetricErrorKind,
    },

    /// An engine configuration whose data-parallel ranks cannot be served.
    DataParallelSize {
        /// `data_parallel_start_rank` (0 when absent).
        start: u32,
        /// `data_parallel_size` (1 when absent).
        size: u32,
        /// The most ranks a worker owns.
        limit: u32,
        /// What is wrong.
        reason: &'static str,
    },

    /// A scrape of the combined page did not produce a page.
    Scrape(ScrapeErrorKind),

    /// The metrics server could not start.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    Server(ServerErrorKind),
}

impl Error {
    /// The metric at fault, for [`Error::Metric`].
    pub fn metric(&self) -> Option<&str> {
        match self {
            Error::Metric { metric, .. } => Some(metric),
            _ => None,
        }
    }

    pub(crate) fn metric_error(metric: impl Into<String>, kind: MetricErrorKind) -> Self {
        Error::Metric {
            metric: metric.into(),
            kind,
        }
    }

    pub(crate) fn level_error(level: impl Into<String>, kind: LevelErrorKind) -> Self {
        Error::Level {
            level: level.into(),
            kind,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Metric { metric, kind } => write!(f, "metric `{metric}`: {kind}"),
            Error::Level { level, kind } => write!(f, "{level}: {kind}"),
            Error::Bridge { bridged, kind } => write!(f, "bridging {bridged}: {kind}"),
            Error::DataParallelSize {
                start,
                size,
                limit,
                reason,
            } => write!(
                f,
                "data_parallel_size {size} from rank {start} is refused: {reason}; give 1 to \
                 {limit} ranks, the last one at most rank {max}",
                max = u32::MAX
            ),
            Error::Scrape(kind) => kind.fmt(f),
            #[cfg(feature = "http")]
            Error::Server(kind) => kind.fmt(f),
        }
    }
}

impl std::error::Error for Error {
    /// The cause below the kind (the registry's or the operating system's error), never the
    /// kind itself: its text is already in this error's message.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Metric { kind, .. } => std::error::Error::source(kind),
            Error::Level { kind, .. } => std::error::Error::source(kind),
            Error::Bridge { kind, .. } => std::error::Error::source(kind),
            Error::DataParallelSize { .. } => None,
            Error::Scrape(kind) => std::error::Error::source(kind),
            #[cfg(feature = "http")]
            Error::Server(kind) => std::error::Error::source(kind),
        }
    }
}

/// What is wrong with a metric, in [`Error::Metric`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricErrorKind {
    /// A metric name that cannot be made valid: empty, or without a single valid character.
    #[error(
        "the name is invalid: {reason}; use letters, digits, `_` and `:` (for example `total_blocks`)"
    )]
    InvalidName {
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// A metric name prefix that is not a valid metric name.
    #[error(
        "prefix `{prefix}` is invalid; a prefix must match `[a-zA-Z_:][a-zA-Z0-9_:]*`, or be empty for no prefix"
    )]
    InvalidPrefix {
        /// The prefix as given.
        prefix: String,
    },

    /// A metric without help text.
    #[error("the help text is empty; say in one sentence what it measures")]
    EmptyHelp,

    /// A name that breaks Prometheus's naming conventions, as `promtool check metrics` lints them
    /// (a counter without `_total`, a unit that is not a base unit, camelCase, ...).
    #[error("the name breaks Prometheus's naming conventions for `{metric_kind}`: {reason}")]
    NamingConvention {
        /// The metric's type.
        metric_kind: MetricKind,
        /// The rule broken and what to do instead.
        reason: String,
    },

    /// A label name that does not match Prometheus's syntax.
    #[error("label name `{label}` is invalid; label names must match `[a-zA-Z_][a-zA-Z0-9_]*`")]
    InvalidLabelName {
        /// The label name as given.
        label: String,
    },

    /// A label the hierarchy injects on every metric, given by the caller.
    #[error(
        "label `{label}` is set on every metric by the hierarchy (auto-label injection) and cannot be set by hand; remove it"
    )]
    HierarchyInjectedLabel {
        /// The label name.
        label: String,
    },

    /// A label name that Prometheus reserves (`__*`, `quantile`, `le`).
    #[error("label name `{label}` is reserved: {reason}")]
    ReservedLabel {
        /// The label name.
        label: String,
        /// Who reserves it.
        reason: &'static str,
    },

    /// A label name that breaks Prometheus's naming conventions (camelCase).
    #[error("label name `{label}` breaks Prometheus's naming conventions: {reason}")]
    LabelNamingConvention {
        /// The label name.
        label: String,
        /// The rule broken and what to do instead.
        reason: &'static str,
    },

    /// The same label name given twice.
    #[error("label `{label}` is given more than once; give each label once")]
    DuplicateLabel {
        /// The repeated label name.
        label: String,
    },

    /// A variable label with the same name as a const label (the page would carry the label twice,
    /// which a Prometheus server rejects).
    #[error("label `{label}` is both a const label and a variable label; keep one of the two")]
    LabelIsConstAndVariable {
        /// The label name.
        label: String,
    },

    /// Histogram buckets that are empty, unsorted or not finite.
    #[error("invalid buckets {buckets:?}: {reason}")]
    InvalidBuckets {
        /// The buckets as given.
        buckets: Vec<f64>,
        /// What is wrong with them.
        reason: &'static str,
    },

    /// Buckets given for a metric that is not a histogram.
    #[error("buckets are only for histograms, not for `{metric_kind}`; pass `None`")]
    UnexpectedBuckets {
        /// The metric's type.
        metric_kind: MetricKind,
    },

    /// A `*Vec` type created without variable label names.
    #[error(
        "`{metric_kind}` needs at least one variable label name; pass `Some(&[\"label\"])`, or use the scalar type"
    )]
    MissingLabelNames {
        /// The metric's type.
        metric_kind: MetricKind,
    },

    /// Variable label names given for a scalar type.
    #[error("`{metric_kind}` takes no variable labels; pass `None`, or use the `*Vec` type")]
    UnexpectedLabelNames {
        /// The metric's type.
        metric_kind: MetricKind,
    },

    /// A user hierarchy whose level name cannot become a label value.
    #[error(
        "the hierarchy's value `{value}` for label `{label}` is invalid: {reason}; rename that level"
    )]
    InvalidHierarchyValue {
        /// The hierarchy label.
        label: &'static str,
        /// The level's name.
        value: String,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// A typed family whose declared label names do not match its label set.
    #[error(
        "the label set has {expected} label(s), and {given} label name(s) are declared; give one name per label"
    )]
    LabelCount {
        /// How many labels the set has.
        expected: usize,
        /// How many names were declared.
        given: usize,
    },

    /// Declared data-parallel ranks spread too wide for the per-rank table.
    #[error(
        "declared ranks span {min}..={max}, wider than {limit} ranks; declare the ranks this worker owns"
    )]
    RankSpanTooLarge {
        /// The smallest declared rank.
        min: u32,
        /// The largest declared rank.
        max: u32,
        /// The widest span allowed.
        limit: u32,
    },

    /// A per-rank or typed family whose table of series would be too large.
    #[error(
        "{series} series (declared ranks times label combinations) is more than {limit}; declare fewer ranks, or use fewer label values"
    )]
    TooManySeries {
        /// How many series the table would hold.
        series: u64,
        /// The most a table holds.
        limit: u64,
    },

    /// The same metric (name and const labels) registered twice in one registry.
    #[error(
        "already registered at this level with the same const labels; create it once and share the handle, or unregister the old one first (`MetricsRegistry::unregister`)"
    )]
    AlreadyRegistered,

    /// Registration refused by the underlying registry for another reason (for example the same
    /// name registered before with other label names or another help text).
    #[error(
        "the level's registry refused it, most likely because a metric of this name has other label names or another help text there; a name must keep one help text and one set of label names"
    )]
    Registration {
        /// What the registry said.
        #[source]
        source: prometheus::Error,
    },

    /// A metric to unregister that is not registered at the level asked.
    #[error(
        "not registered at {level}; unregister a metric at the level it was created on, and only once"
    )]
    NotRegistered {
        /// The level asked (``endpoint `generate` ``), or `this registry`.
        level: String,
    },
}

/// What is wrong with a level of the hierarchy, in [`Error::Level`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LevelErrorKind {
    /// A level name that sanitizes to nothing.
    #[error(
        "the name is invalid: {reason}; use letters, digits and `_` (other characters become `_`)"
    )]
    InvalidName {
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// A level taken out of the tree (explicitly, or because nothing kept it), asked to hold
    /// something new.
    #[error(
        "the level was removed from the metrics tree; ask its parent for it again (that gives a fresh level) and create the metric or child there"
    )]
    Removed,
}

/// Why a scrape produced no page, in [`Error::Scrape`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScrapeErrorKind {
    /// A combined scrape started from inside a callback of the same registry's scrape.
    #[error(
        "a registry's scrape was started again from inside one of its own callbacks; a callback must not scrape the page it is part of"
    )]
    Reentrant,

    /// A page that was not ready within its timeout.
    #[error(
        "the scrape did not finish within {timeout:?}: {running} is still running; make that part return sooner (a callback should not block), or raise the scrape timeout"
    )]
    Timeout {
        /// The timeout the render was started with.
        timeout: Duration,
        /// The part of the scrape that was running when the scrape gave up (for example
        /// ``update callback #1 of endpoint `generate` ``).
        running: String,
    },

    /// A page that could not be rendered at all.
    #[error("the scrape failed: {reason}")]
    Failed {
        /// Why.
        reason: String,
    },
}

/// Why the metrics server could not start, in [`Error::Server`].
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerErrorKind {
    /// The server could not listen on the address it was given.
    #[error("could not listen on {addr}; pick another address or port (port 0 picks a free one)")]
    Bind {
        /// The address as given.
        addr: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The server bound its address but could not start serving.
    #[error("could not start the metrics server: {step} failed")]
    Start {
        /// What it was doing.
        step: &'static str,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    use super::*;

    /// Every cause of `error`, outermost first.
    fn chain(error: &Error) -> Vec<String> {
        let mut texts = vec![error.to_string()];
        let mut next = error.source();
        while let Some(cause) = next {
            texts.push(cause.to_string());
            next = cause.source();
        }
        texts
    }

    #[test]
    fn no_text_is_printed_twice_along_the_chain() {
        let error = Error::metric_error("x_total", MetricErrorKind::AlreadyRegistered);
        assert_eq!(chain(&error).len(), 1, "no cause below the kind");

        let cause = prometheus::Error::Msg("the registry said no".to_owned());
        let error = Error::metric_error("x_total", MetricErrorKind::Registration { source: cause });
        assert_eq!(error.metric(), Some("x_total"));
        let texts = chain(&error);
        assert_eq!(
            texts,
            [
                "metric `x_total`: the level's registry refused it, most likely because a metric \
                 of this name has other label names or another help text there; a name must keep \
                 one help text and one set of label names",
                "Error: the registry said no",
            ]
        );

        #[cfg(feature = "http")]
        {
            let cause = std::io::Error::from(std::io::ErrorKind::AddrInUse);
            let error = Error::Server(ServerErrorKind::Bind {
                addr: "127.0.0.1:9464".to_owned(),
                source: cause,
            });
            let texts = chain(&error);
            assert_eq!(texts.len(), 2, "{texts:?}");
            assert!(!texts[0].contains(&texts[1]), "{texts:?}");
            assert!(texts[0].contains("127.0.0.1:9464"), "{texts:?}");
        }
    }

    #[test]
    fn int_kinds_read_without_an_article() {
        let error = Error::metric_error(
            "x",
            MetricErrorKind::UnexpectedLabelNames {
                metric_kind: MetricKind::IntGauge,
            },
        );
        assert_eq!(
            error.to_string(),
            "metric `x`: `IntGauge` takes no variable labels; pass `None`, or use the `*Vec` type"
        );
    }

    #[test]
    fn a_level_error_names_the_level_once() {
        let error = Error::level_error("endpoint `generate`", LevelErrorKind::Removed);
        assert!(error.metric().is_none());
        let text = error.to_string();
        assert!(
            text.starts_with("endpoint `generate`: the level was removed"),
            "{text}"
        );
        assert_eq!(text.matches("generate").count(), 1, "{text}");
    }
}
