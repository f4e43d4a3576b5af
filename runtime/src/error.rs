//! The one error type of the library.

use crate::create::MetricKind;

/// Everything that can go wrong when creating levels, metrics and gauge sets, or scraping.
///
/// Each message names the metric, label or level at fault and says what to do instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A metric name that cannot be made valid: empty, or without a single valid character.
    #[error(
        "metric name `{name}` is invalid: {reason}; use letters, digits, `_` and `:` (for example `total_blocks`)"
    )]
    InvalidMetricName {
        /// The name as given.
        name: String,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// A metric name prefix that is not a valid metric name.
    #[error(
        "metric `{metric}`: prefix `{prefix}` is invalid; a prefix must match `[a-zA-Z_:][a-zA-Z0-9_:]*`, or be empty for no prefix"
    )]
    InvalidPrefix {
        /// The metric being created.
        metric: String,
        /// The prefix as given.
        prefix: String,
    },

    /// A metric without help text.
    #[error("metric `{metric}` has an empty help text; say in one sentence what it measures")]
    EmptyHelp {
        /// The metric being created.
        metric: String,
    },

    /// A label name that does not match Prometheus's syntax.
    #[error(
        "metric `{metric}`: label name `{label}` is invalid; label names must match `[a-zA-Z_][a-zA-Z0-9_]*`"
    )]
    InvalidLabelName {
        /// The metric being created.
        metric: String,
        /// The label name as given.
        label: String,
    },

    /// A label the hierarchy injects on every metric, given by the caller.
    #[error(
        "metric `{metric}`: label `{label}` is automatically added by auto-label injection and cannot be set by hand; remove it (its value comes from the metrics hierarchy)"
    )]
    HierarchyInjectedLabel {
        /// The metric being created.
        metric: String,
        /// The label name.
        label: String,
    },

    /// A label name that Prometheus reserves (`__*`, `quantile`, `le` on histograms).
    #[error("metric `{metric}`: label name `{label}` is reserved: {reason}")]
    ReservedLabel {
        /// The metric being created.
        metric: String,
        /// The label name.
        label: String,
        /// Who reserves it.
        reason: &'static str,
    },

    /// The same label name given twice.
    #[error("metric `{metric}`: label `{label}` is given more than once; give each label once")]
    DuplicateLabel {
        /// The metric being created.
        metric: String,
        /// The repeated label name.
        label: String,
    },

    /// A variable label with the same name as a const label (the page would carry the label twice,
    /// which a Prometheus server rejects).
    #[error(
        "metric `{metric}`: label `{label}` is both a const label and a variable label; keep one of the two"
    )]
    LabelIsConstAndVariable {
        /// The metric being created.
        metric: String,
        /// The label name.
        label: String,
    },

    /// Histogram buckets that are empty, unsorted or not finite.
    #[error("metric `{metric}`: invalid buckets {buckets:?}: {reason}")]
    InvalidBuckets {
        /// The metric being created.
        metric: String,
        /// The buckets as given.
        buckets: Vec<f64>,
        /// What is wrong with them.
        reason: &'static str,
    },

    /// Buckets given for a metric that is not a histogram.
    #[error("metric `{metric}` is a {kind}: buckets are only for histograms; pass `None`")]
    UnexpectedBuckets {
        /// The metric being created.
        metric: String,
        /// Its type.
        kind: MetricKind,
    },

    /// A `*Vec` type created without variable label names.
    #[error(
        "metric `{metric}` is a {kind}, which needs at least one variable label name; pass `Some(&[\"label\"])`, or use the scalar type"
    )]
    MissingLabelNames {
        /// The metric being created.
        metric: String,
        /// Its type.
        kind: MetricKind,
    },

    /// Variable label names given for a scalar type.
    #[error(
        "metric `{metric}` is a {kind}, which takes no variable labels; pass `None`, or use the `*Vec` type"
    )]
    UnexpectedLabelNames {
        /// The metric being created.
        metric: String,
        /// Its type.
        kind: MetricKind,
    },

    /// The same metric (name and const labels) registered twice in one registry.
    #[error(
        "metric `{metric}` is already registered at this level with the same const labels; create it once and share the handle, or unregister the old one first (`MetricsRegistry::unregister`)"
    )]
    AlreadyRegistered {
        /// The full metric name.
        metric: String,
    },

    /// A metric to unregister that is not registered at the level asked.
    #[error(
        "metric `{metric}` is not registered at {level}; unregister a metric at the level it was created on, and only once"
    )]
    NotRegistered {
        /// The metric's full name (names, for a collector of several families).
        metric: String,
        /// The level asked (``endpoint `generate` ``), or `this registry`.
        level: String,
    },

    /// A level taken out of the tree (explicitly, or because nothing kept it), asked to hold
    /// something new.
    #[error(
        "{level} was removed from the metrics tree; ask its parent for it again (that gives a fresh level) and create the metric or child there"
    )]
    LevelRemoved {
        /// The level (``endpoint `generate` ``).
        level: String,
    },

    /// Registration refused by the underlying registry for another reason (for example the same
    /// name registered before with other label names or another help text).
    #[error(
        "metric `{metric}` could not be registered: {source}; a name must keep one help text and one set of label names"
    )]
    Registration {
        /// The full metric name.
        metric: String,
        /// What the registry said.
        #[source]
        source: prometheus::Error,
    },

    /// A hierarchy level whose name sanitizes to nothing.
    #[error(
        "{level} name `{name}` is invalid: {reason}; use letters, digits and `_` (other characters become `_`)"
    )]
    InvalidLevelName {
        /// `namespace`, `component` or `endpoint`.
        level: &'static str,
        /// The name as given.
        name: String,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// A user hierarchy whose level name cannot become a label value.
    #[error(
        "metric `{metric}`: the hierarchy's value `{value}` for label `{label}` is invalid: {reason}; rename that level"
    )]
    InvalidHierarchyValue {
        /// The metric being created.
        metric: String,
        /// The hierarchy label.
        label: &'static str,
        /// The level's name.
        value: String,
        /// Why it cannot be used.
        reason: &'static str,
    },

    /// Declared data-parallel ranks spread too wide for the per-rank table.
    #[error(
        "metric `{metric}`: declared ranks span {min}..={max}, wider than {limit} ranks; declare the ranks this worker owns"
    )]
    RankSpanTooLarge {
        /// The metric being created.
        metric: String,
        /// The smallest declared rank.
        min: u32,
        /// The largest declared rank.
        max: u32,
        /// The widest span allowed.
        limit: u32,
    },

    /// A name that breaks Prometheus's naming conventions, as `promtool check metrics` lints them
    /// (a counter without `_total`, a unit that is not a base unit, camelCase, ...).
    #[error("metric `{metric}` ({kind}) breaks Prometheus's naming conventions: {reason}")]
    NamingConvention {
        /// The metric being created.
        metric: String,
        /// Its type.
        kind: MetricKind,
        /// The rule broken and what to do instead.
        reason: String,
    },

    /// A label name that breaks Prometheus's naming conventions (camelCase).
    #[error(
        "metric `{metric}`: label name `{label}` breaks Prometheus's naming conventions: {reason}"
    )]
    LabelNamingConvention {
        /// The metric being created.
        metric: String,
        /// The label name.
        label: String,
        /// The rule broken and what to do instead.
        reason: &'static str,
    },

    /// A per-rank or typed family whose table of series would be too large.
    #[error(
        "metric `{metric}`: {series} series (declared ranks times label combinations) is more than {limit}; declare fewer ranks, or use fewer label values"
    )]
    TooManySeries {
        /// The metric being created.
        metric: String,
        /// How many series the table would hold.
        series: u64,
        /// The most a table holds.
        limit: u64,
    },

    /// A typed family whose declared label names do not match its label set.
    #[error(
        "metric `{metric}`: {given} label name(s) declared for a label set of {expected}; give one name per label"
    )]
    LabelCount {
        /// The metric being created.
        metric: String,
        /// How many labels the set has.
        expected: usize,
        /// How many names were declared.
        given: usize,
    },

    /// An engine configuration whose data-parallel ranks cannot be served.
    #[error(
        "data_parallel_size {size} from rank {start} is refused: {reason}; a worker owns 1 to {limit} ranks, ending at or before rank {max}",
        max = u32::MAX
    )]
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

    /// Encoding the exposition page failed. The crate's own encoder cannot fail, so scrapes no
    /// longer return this; it is kept for code that matches on it.
    #[error("encoding the exposition page failed: {0}")]
    Encode(#[source] prometheus::Error),

    /// The metrics server could not listen on the address it was given.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[error(
        "could not listen on {addr}: {source}; pick another address or port (port 0 picks a free one)"
    )]
    Bind {
        /// The address as given.
        addr: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The metrics server bound its address but could not start serving.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    #[error("could not start the metrics server: {step} failed: {source}")]
    ServerStart {
        /// What it was doing.
        step: &'static str,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A combined scrape started from inside a callback of the same registry's scrape.
    #[error(
        "a registry's scrape was started again from inside one of its own callbacks; a callback must not scrape the page it is part of"
    )]
    ReentrantScrape,

    /// A scrape whose page was not ready within its timeout.
    #[error(
        "the scrape did not finish within {timeout:?}: {running} is still running; make that part return sooner (a callback should not block), or raise the scrape timeout"
    )]
    ScrapeTimeout {
        /// The timeout the render was started with.
        timeout: std::time::Duration,
        /// The part of the scrape that was running when the scrape gave up (for example
        /// ``update callback #1 of endpoint `generate` ``).
        running: String,
    },

    /// A scrape that could not be rendered at all.
    #[error("the scrape failed: {reason}")]
    ScrapeFailed {
        /// Why.
        reason: String,
    },
}
