//! The [`EngineGauges`] trait that `#[derive(EngineGauges)]` implements, and the
//! [`MetricDescriptor`]s it publishes.

use crate::{EngineMetrics, Error, metric::create::MetricKind};

/// A set of gauges registered together: the trait behind `#[derive(EngineGauges)]`.
///
/// See [the derive](derive@crate::EngineGauges) for how to declare one.
///
/// ```
/// use engine_gauges::prometheus::IntGauge;
/// use engine_gauges::{EngineConfig, EngineGauges, EngineMetrics, MetricsRoot, PerRank};
///
/// #[derive(EngineGauges)]
/// struct Scheduler {
///     /// Requests waiting for a batch slot.
///     waiting_requests: PerRank<IntGauge>,
///     /// Sequences preempted since the engine started.
///     #[metric(name = "preempted_sequences")]
///     preempted: IntGauge,
/// }
///
/// let endpoint = MetricsRoot::new()
///     .namespace("dynamo")?
///     .component("backend")?
///     .endpoint("generate")?;
/// let config = EngineConfig { model: "qwen".into(), ..Default::default() };
/// let metrics = EngineMetrics::with_engine_config(endpoint, &config);
///
/// let scheduler = Scheduler::register(&metrics, &[0])?;
/// scheduler.waiting_requests.rank(0).set(3);
/// assert_eq!(Scheduler::DESCRIPTORS[1].name, "dynamo_component_preempted_sequences");
///
/// let page = metrics.registry().prometheus_expfmt_combined()?;
/// assert!(page.contains(
///     "# HELP dynamo_component_waiting_requests Requests waiting for a batch slot.\n"
/// ));
/// assert!(page.contains(
///     "dynamo_component_waiting_requests{dp_rank=\"0\",dynamo_component=\"backend\",\
///      dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",model=\"qwen\",\
///      model_name=\"qwen\"} 3\n"
/// ));
///
/// // Unregistered, the set leaves the page and can be registered there again.
/// scheduler.unregister(&metrics)?;
/// assert_eq!(metrics.registry().prometheus_expfmt_combined()?, "");
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub trait EngineGauges: Sized + Send + Sync + 'static {
    /// One descriptor per metric of the set, in field order: enough to print a catalog.
    const DESCRIPTORS: &'static [MetricDescriptor];

    /// Creates and registers every metric of the set at `metrics`' level, with its auto-labels as
    /// const labels, seeding the per-rank fields' `dp_ranks`.
    ///
    /// # Errors
    /// Any error of [`create_metric`](crate::create_metric) (for example
    /// [`MetricErrorKind::AlreadyRegistered`](crate::error::MetricErrorKind::AlreadyRegistered)
    /// when the set is registered twice at one level), and
    /// [`MetricErrorKind::RankSpanTooLarge`](crate::error::MetricErrorKind::RankSpanTooLarge). On
    /// error nothing of the set stays registered.
    fn register(metrics: &EngineMetrics, dp_ranks: &[u32]) -> Result<Self, Error>;

    /// Takes every metric of the set off `metrics`' level, so that the set can be registered
    /// there again (with a new model name, say).
    ///
    /// Dropping a set is enough for its `PerRank` and `Family` fields: they live in the crate's
    /// store and leave the page with their owner. Its scalar and `*Vec` fields are `prometheus`
    /// metrics, whose handles may have been cloned out of the set and still be written; they stay
    /// on the page until the set is unregistered.
    ///
    /// # Errors
    /// [`MetricErrorKind::NotRegistered`](crate::error::MetricErrorKind::NotRegistered) naming the
    /// first metric the level does not hold (one unregistered before, or a set registered at
    /// another level); the others are still unregistered.
    fn unregister(self, metrics: &EngineMetrics) -> Result<(), Error> {
        let _ = metrics;
        drop(self);
        Ok(())
    }
}

/// What a gauge set declares about one of its metrics.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct MetricDescriptor {
    /// The exported name, prefix included (`dynamo_component_total_blocks`).
    pub name: &'static str,
    /// The prefix (`dynamo_component`; empty for none).
    pub prefix: &'static str,
    /// The name without prefix (`total_blocks`).
    pub short_name: &'static str,
    /// The registered type (`IntGaugeVec` for a `PerRank<IntGauge>`, `CounterVec` for a
    /// `Family<L, Counter>`).
    pub kind: MetricKind,
    /// Whether the field is a [`PerRank`](crate::PerRank) family.
    pub per_rank: bool,
    /// Whether declared ranks are seeded at 0 (per-rank fields not marked `unseeded`).
    pub seeded: bool,
    /// The help text.
    pub help: &'static str,
    /// Variable labels: `dp_rank` first for per-rank fields, then the field's own `labels(..)`.
    pub variable_labels: &'static [&'static str],
    /// The values of each typed label of a [`Family`](crate::Family) field, in the order of its
    /// labels (the last ones of [`variable_labels`](Self::variable_labels)); empty otherwise.
    pub label_values: &'static [&'static [&'static str]],
    /// A histogram's bucket upper bounds (the `+Inf` bucket is implied); empty for other kinds.
    pub buckets: &'static [f64],
    /// For a per-rank field, how many undeclared ranks it takes before it drops writes to new ones
    /// ([`DEFAULT_MAX_UNDECLARED_RANKS`](crate::metric::bound::DEFAULT_MAX_UNDECLARED_RANKS)
    /// unless the field sets `max_undeclared_ranks`).
    pub max_undeclared_ranks: u32,
    /// Const labels declared on the set.
    pub const_labels: &'static [(&'static str, &'static str)],
    /// Labels the runtime adds at registration
    /// ([`labels::RUNTIME_INJECTED`](crate::labels::RUNTIME_INJECTED)), where the hierarchy and
    /// engine configuration provide them.
    pub injected_labels: &'static [&'static str],
    /// The Rust field.
    pub field: &'static str,
    /// The field's source line.
    pub line: u32,
}
