//! The engine's side: [`EngineConfig`], [`ComponentSnapshot`] and the [`EngineMetrics`] handle.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use prometheus::core::Collector;

use crate::hierarchy::registry::collector_description;
use crate::hierarchy::{MetricsHierarchy, injected_label_values, injected_labels};
use crate::{
    Error, MetricsRegistry, hierarchy::registry::PrometheusExpositionFormatCallback, labels,
};

/// Which labels a bridged collector's or registry's families get.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum BridgeLabels {
    /// None: the families as the foreign code made them.
    #[default]
    AsIs,
    /// The level's hierarchy labels (`dynamo_namespace`, `dynamo_component`, `dynamo_endpoint`,
    /// `worker_id`, with the values [`create_metric`](crate::create_metric) gives them) and the
    /// engine's auto-labels (`model`, `model_name`), as the engine's own metrics carry them. A
    /// foreign family that already has one of these labels is dropped and counted (`collector`).
    Engine,
}

/// What an engine reports about itself at registration. Build it with `..Default::default()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineConfig {
    /// The model path or name the engine was started with: the `model` label (and `model_name`,
    /// unless `served_model_name` is set). Empty gives no label.
    pub model: String,
    /// The name the model is served under: the `model_name` label. Empty gives no label.
    pub served_model_name: Option<String>,
    /// Other names the model answers to.
    pub model_aliases: Vec<String>,
    /// The context window, in tokens.
    pub context_length: Option<u32>,
    /// Tokens per KV cache block.
    pub kv_cache_block_size: Option<u32>,
    /// KV cache blocks in all.
    pub total_kv_blocks: Option<u64>,
    /// The most sequences scheduled at once.
    pub max_num_seqs: Option<u64>,
    /// The most tokens in one batch.
    pub max_num_batched_tokens: Option<u64>,
    /// How many data-parallel ranks this worker owns (absent means 1).
    pub data_parallel_size: Option<u32>,
    /// The first data-parallel rank this worker owns (absent means 0).
    pub data_parallel_start_rank: Option<u32>,
}

impl EngineConfig {
    /// The data-parallel ranks this worker owns: `data_parallel_size` ranks from
    /// `data_parallel_start_rank` (by default just rank 0).
    ///
    /// # Errors
    /// [`Error::DataParallelSize`] when the size is 0, wider than a per-rank table holds
    /// ([`MAX_RANK_SPAN`](crate::metric::per_rank::MAX_RANK_SPAN) ranks), or runs past rank
    /// `u32::MAX`; checked before anything is allocated.
    pub fn dp_ranks(&self) -> Result<Vec<u32>, Error> {
        let start = self.data_parallel_start_rank.unwrap_or(0);
        let size = self.data_parallel_size.unwrap_or(1);
        let refuse = |reason| Error::DataParallelSize {
            start,
            size,
            limit: crate::metric::per_rank::MAX_RANK_SPAN,
            reason,
        };
        if size == 0 {
            return Err(refuse("a worker owns at least one rank"));
        }
        if size > crate::metric::per_rank::MAX_RANK_SPAN {
            return Err(refuse("that is more ranks than a per-rank table holds"));
        }
        if start.checked_add(size - 1).is_none() {
            return Err(refuse("the last rank would be past `u32::MAX`"));
        }
        Ok((start..=start + (size - 1)).collect())
    }
}

/// One data-parallel rank's state, as an engine pushes it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ComponentSnapshot {
    /// KV cache blocks in use.
    pub kv_used_blocks: u64,
    /// KV cache blocks in all.
    pub kv_total_blocks: u64,
    /// GPU cache usage, 0.0 to 1.0.
    pub gpu_cache_usage: f32,
    /// Prefix cache hit rate, 0.0 to 1.0; `None` while there is no data (or no prefix cache).
    pub kv_cache_hit_rate: Option<f32>,
    /// The rank this snapshot is about.
    pub dp_rank: u32,
}

/// The metrics handle an engine gets: its place in the hierarchy and its auto-labels.
///
/// Auto-labels are the hierarchy's labels (`dynamo_namespace`, `dynamo_component`,
/// `dynamo_endpoint`, `worker_id`), which [`create_metric`](crate::create_metric) injects itself,
/// and the engine's `model` and `model_name`, which gauge sets registered through this handle get
/// as const labels. Values are kept raw here; sanitizing happens when a metric is created.
///
/// Not `Clone`: keep the instruments you create, not this handle.
///
/// ```
/// use engine_gauges::prometheus::{IntCounter, Registry};
/// use engine_gauges::{BridgeLabels, EngineConfig, EngineMetrics, MetricsRoot};
///
/// let endpoint = MetricsRoot::with_connection_id(0x2a)
///     .namespace("dynamo")?
///     .component("backend")?
///     .endpoint("generate")?;
/// let config = EngineConfig {
///     model: "Qwen/Qwen3-0.6B".into(),
///     served_model_name: Some("qwen3".into()),
///     ..Default::default()
/// };
/// let metrics = EngineMetrics::with_engine_config(endpoint, &config);
/// assert_eq!(
///     metrics.engine_const_labels(),
///     [("model", "Qwen/Qwen3-0.6B"), ("model_name", "qwen3")]
/// );
///
/// // An engine's own `prometheus` registry, bridged with the labels of the engine's metrics.
/// let steps = IntCounter::new("engine_steps_total", "Scheduler steps run.").unwrap();
/// let engine_registry = Registry::new();
/// engine_registry.register(Box::new(steps.clone())).unwrap();
/// metrics.add_foreign_registry(engine_registry, BridgeLabels::Engine)?;
/// steps.inc_by(3);
///
/// let page = metrics.registry().prometheus_expfmt_combined()?;
/// assert!(page.contains(
///     "engine_steps_total{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",\
///      dynamo_namespace=\"dynamo\",model=\"Qwen/Qwen3-0.6B\",model_name=\"qwen3\",\
///      worker_id=\"2a\"} 3\n"
/// ));
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub struct EngineMetrics {
    hierarchy: Arc<dyn MetricsHierarchy>,
    auto_labels: Arc<HashMap<String, String>>,
}

impl EngineMetrics {
    /// Wraps a hierarchy level without a model: no `model` / `model_name` labels.
    pub fn from_hierarchy<H: MetricsHierarchy + 'static>(hierarchy: H) -> Self {
        Self::new(Arc::new(hierarchy), "", None)
    }

    /// Wraps a hierarchy level with the model identity of `engine_config`: `model` is
    /// `engine_config.model`, `model_name` is the served name if set and non-empty, else `model`.
    pub fn with_engine_config<H: MetricsHierarchy + 'static>(
        hierarchy: H,
        engine_config: &EngineConfig,
    ) -> Self {
        Self::new(
            Arc::new(hierarchy),
            &engine_config.model,
            engine_config.served_model_name.as_deref(),
        )
    }

    fn new(hierarchy: Arc<dyn MetricsHierarchy>, model: &str, served: Option<&str>) -> Self {
        let mut auto: HashMap<String, String> = injected_labels(&*hierarchy)
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(label, value)| (label.to_owned(), value))
            .collect();
        if !model.is_empty() {
            auto.insert(labels::MODEL.to_owned(), model.to_owned());
            auto.insert(labels::MODEL_NAME.to_owned(), model.to_owned());
        }
        if let Some(served) = served.filter(|s| !s.is_empty()) {
            auto.insert(labels::MODEL_NAME.to_owned(), served.to_owned());
        }
        Self {
            hierarchy,
            auto_labels: Arc::new(auto),
        }
    }

    /// The hierarchy level this handle registers at.
    pub fn hierarchy(&self) -> &dyn MetricsHierarchy {
        &*self.hierarchy
    }

    /// The level, shared: a registered set holds it, so that its level stays in the tree as long
    /// as the set can be written.
    pub(crate) fn hierarchy_arc(&self) -> Arc<dyn MetricsHierarchy> {
        Arc::clone(&self.hierarchy)
    }

    /// The auto-labels (hierarchy labels and model labels) as `(name, value)` pairs, sorted by
    /// name.
    pub fn auto_labels(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        let mut pairs: Vec<(&str, &str)> = self
            .auto_labels
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        pairs.sort_unstable();
        pairs.into_iter()
    }

    /// The value of one auto-label, if this handle injects it (`auto_label("model_name")`).
    pub fn auto_label(&self, name: &str) -> Option<&str> {
        self.auto_labels.get(name).map(String::as_str)
    }

    /// The auto-labels that [`create_metric`](crate::create_metric) does not inject itself
    /// (`model`, `model_name`), sorted by name: the const labels of every gauge set registered
    /// through this handle.
    pub fn engine_const_labels(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = self
            .auto_labels
            .iter()
            .filter(|(label, _)| !labels::is_hierarchy_injected(label))
            .map(|(label, value)| (label.as_str(), value.as_str()))
            .collect();
        out.sort_unstable();
        out
    }

    /// The registry of this handle's level.
    pub fn registry(&self) -> &MetricsRegistry {
        self.hierarchy.get_metrics_registry()
    }

    /// Bridges a foreign registry's exposition text into this level's combined scrape (see
    /// [`PrometheusExpositionFormatCallback`]). Auto-labels are not injected: the callback owns
    /// its labels and its families. Prefer [`add_foreign_registry`](Self::add_foreign_registry)
    /// for a `prometheus::Registry`.
    pub fn add_expfmt_callback(&self, callback: PrometheusExpositionFormatCallback) {
        self.registry().add_expfmt_callback(callback);
    }

    /// Bridges a `prometheus` collector into this level's combined scrape, with `labels`
    /// ([`BridgeLabels::Engine`] gives its series the same labels as the engine's own metrics).
    ///
    /// # Errors
    /// [`Error::Bridge`] naming the collector's families, with
    /// [`MetricErrorKind::InvalidHierarchyValue`](crate::error::MetricErrorKind::InvalidHierarchyValue)
    /// when a level's name cannot become a label value (only with [`BridgeLabels::Engine`]);
    /// nothing is bridged then.
    pub fn add_collector(
        &self,
        collector: Box<dyn Collector>,
        labels: BridgeLabels,
    ) -> Result<(), Error> {
        let injected = self.bridge_labels(labels, || collector_description(&*collector))?;
        let pairs: Vec<(&str, &str)> = injected
            .iter()
            .map(|(l, v)| (l.as_str(), v.as_str()))
            .collect();
        self.registry().add_collector_with_labels(collector, &pairs)
    }

    /// Bridges a whole foreign `prometheus::Registry` (through its `gather()`) into this level's
    /// combined scrape, with `labels`, as [`add_collector`](Self::add_collector) does a
    /// collector.
    ///
    /// # Errors
    /// As [`add_collector`](Self::add_collector).
    pub fn add_foreign_registry(
        &self,
        registry: prometheus::Registry,
        labels: BridgeLabels,
    ) -> Result<(), Error> {
        let injected = self.bridge_labels(labels, || "a foreign registry".to_owned())?;
        let pairs: Vec<(&str, &str)> = injected
            .iter()
            .map(|(l, v)| (l.as_str(), v.as_str()))
            .collect();
        self.registry()
            .add_foreign_registry_with_labels(registry, &pairs)
    }

    /// The labels a bridge injects, with hierarchy values sanitized as `create_metric` does.
    fn bridge_labels(
        &self,
        labels: BridgeLabels,
        bridged: impl Fn() -> String,
    ) -> Result<Vec<(String, String)>, Error> {
        if labels == BridgeLabels::AsIs {
            return Ok(Vec::new());
        }
        let injected = injected_label_values(&*self.hierarchy).map_err(|kind| Error::Bridge {
            bridged: bridged(),
            kind,
        })?;
        let mut out: Vec<(String, String)> = injected
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value))
            .collect();
        for (label, value) in self.engine_const_labels() {
            out.push((label.to_owned(), value.to_owned()));
        }
        out.sort();
        Ok(out)
    }
}

impl fmt::Debug for EngineMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineMetrics")
            .field("basename", &self.hierarchy.basename())
            .field("auto_labels", &self.auto_labels)
            .finish()
    }
}
