//! [`MetricsRegistry`]: one level's metrics, links to its children, and the parts a scrape runs
//! (callbacks and bridges). The scrape itself is in [`crate::scrape`], the shared, time-bounded
//! render in [`crate::scrape::render`].

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;

use crate::Error;
use crate::error::MetricErrorKind;
use crate::hierarchy::levels::{LevelGuard, Node};
use crate::metric::store::Native;
use crate::names::is_valid_label_name;
use crate::scrape::Failures;
use crate::scrape::foreign::{Bridge, Source};
use crate::scrape::render::{Page, Render, ScrapeOptions};

/// The error type callbacks return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A callback whose exposition text is bridged into the combined scrape, for a foreign registry
/// that renders its own text.
///
/// The text is parsed strictly (the rules Prometheus's own parser applies) and re-rendered with
/// the rest of the page, so that whatever a callback prints, the page stays valid. A family whose
/// text cannot be read, or that repeats a family the page already has, is dropped (the text's
/// other families stay), logged and counted. Prefer [`MetricsRegistry::add_collector`] or
/// [`MetricsRegistry::add_foreign_registry`] when the foreign metrics are `prometheus`
/// collectors: no text round trip, and labels can be injected.
pub type PrometheusExpositionFormatCallback =
    Arc<dyn Fn() -> Result<String, BoxError> + Send + Sync>;

/// A callback run before every combined scrape, to refresh values that are pulled, not pushed.
pub type UpdateCallback = Arc<dyn Fn() -> Result<(), BoxError> + Send + Sync>;

/// The name of the counter of failures met by a registry's combined scrapes.
pub const SCRAPE_FAILURES: &str = "engine_gauges_scrape_failures_total";

/// One level's metrics registry. Clones share the same state.
///
/// A registry holds the metrics created at its level, links to its children's registries, and the
/// parts its scrapes run: update callbacks, text callbacks and bridged collectors. Its
/// [combined scrape](Self::prometheus_expfmt_combined) renders itself and all its descendants.
#[derive(Clone, Default)]
pub struct MetricsRegistry {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Default)]
pub(crate) struct Inner {
    pub(crate) registry: prometheus::Registry,
    /// How the scrape's messages name this registry (``component `backend` ``); empty for a
    /// registry made by hand.
    label: OnceLock<String>,
    children: Mutex<Vec<MetricsRegistry>>,
    pub(crate) update_callbacks: Mutex<Vec<Arc<Part<UpdateCallback>>>>,
    pub(crate) expfmt_callbacks: Mutex<Vec<Arc<Part<PrometheusExpositionFormatCallback>>>>,
    pub(crate) bridges: Mutex<Vec<Arc<Part<Bridge>>>>,
    pub(crate) failures: Failures,
    /// The render of this registry's page in flight, which new scrapes join.
    pub(crate) render: Mutex<Option<Arc<Render>>>,
    /// The counter of writes the per-rank families of this level dropped, made (and registered)
    /// with the first such family; `None` inside if it could not be made.
    dropped_writes: OnceLock<Option<prometheus::IntCounterVec>>,
    /// The families of this level kept in the crate's own store. Their owners (the gauge sets)
    /// hold them; a family whose owner is gone is gone from the page.
    natives: Mutex<Vec<Weak<dyn Native>>>,
    /// The length of the last page rendered, so that the next one is written into a buffer of
    /// that size at once.
    last_page_len: AtomicUsize,
    /// The level of the crate's hierarchy this registry belongs to, if any.
    level: OnceLock<Weak<Node>>,
    /// Set when that level left the tree: nothing may be created here any more.
    removed: AtomicBool,
    /// How many collectors are registered in `registry` (each keeps the level attached).
    registered: AtomicUsize,
}

/// Takes a lock whatever happened to its last holder: every value behind these locks stays
/// consistent even if a holder panicked.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A part of a scrape that runs user code (a callback or a bridged collector), and whether a
/// scrape is running it now. A part never runs twice at once: a scrape that finds it running
/// waits for it, and skips it once it has run for longer than the scrape timeout (it is then
/// taken as stuck).
pub(crate) struct Part<T> {
    pub(crate) job: T,
    busy_since: Mutex<Option<Instant>>,
    idle: Condvar,
}

/// What a scrape gets when it asks for a part.
pub(crate) enum Acquired<'a, T> {
    /// The part is this scrape's to run until the guard drops.
    Run(PartGuard<'a, T>),
    /// The part has been running (in another scrape) for this long: it is stuck.
    Stuck(Duration),
    /// The scrape's deadline passed while it waited for the part.
    Late,
}

pub(crate) struct PartGuard<'a, T>(&'a Part<T>);

impl<T> Drop for PartGuard<'_, T> {
    fn drop(&mut self) {
        *lock(&self.0.busy_since) = None;
        self.0.idle.notify_all();
    }
}

impl<T> Part<T> {
    fn new(job: T) -> Arc<Self> {
        Arc::new(Self {
            job,
            busy_since: Mutex::new(None),
            idle: Condvar::new(),
        })
    }

    /// The part's identity, for telling the parts a thread holds.
    pub(crate) fn id(&self) -> usize {
        std::ptr::from_ref(self).cast::<()>() as usize
    }

    /// Waits until the part is free (or stuck, or `deadline` passes) and takes it.
    pub(crate) fn acquire(&self, deadline: Instant, stuck_after: Duration) -> Acquired<'_, T> {
        let mut busy = lock(&self.busy_since);
        loop {
            let Some(since) = *busy else {
                *busy = Some(Instant::now());
                return Acquired::Run(PartGuard(self));
            };
            let now = Instant::now();
            let stuck_at = since + stuck_after;
            if now >= stuck_at {
                return Acquired::Stuck(now - since);
            }
            if now >= deadline {
                return Acquired::Late;
            }
            busy = self
                .idle
                .wait_timeout(busy, stuck_at.min(deadline) - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

impl fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counted before formatting: no lock is held while the formatter runs.
        let children = lock(&self.inner.children).len();
        let update_callbacks = lock(&self.inner.update_callbacks).len();
        let expfmt_callbacks = lock(&self.inner.expfmt_callbacks).len();
        let bridges = lock(&self.inner.bridges).len();
        f.debug_struct("MetricsRegistry")
            .field("children", &children)
            .field("update_callbacks", &update_callbacks)
            .field("expfmt_callbacks", &expfmt_callbacks)
            .field("bridges", &bridges)
            .finish_non_exhaustive()
    }
}

impl MetricsRegistry {
    /// A new, empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn set_label(&self, label: String) {
        let _ = self.inner.label.set(label);
    }

    /// How messages name this registry: its level (``component `backend` ``), if it has one.
    pub(crate) fn label(&self) -> Option<&str> {
        self.inner.label.get().map(String::as_str)
    }

    /// How errors name this registry: its level, or `this registry`.
    pub(crate) fn describe(&self) -> String {
        self.label().unwrap_or("this registry").to_owned()
    }

    pub(crate) fn set_level(&self, level: Weak<Node>) {
        let _ = self.inner.level.set(level);
    }

    /// Whether this registry's level was taken out of the tree.
    pub(crate) fn is_removed(&self) -> bool {
        self.inner.removed.load(Ordering::Acquire)
    }

    pub(crate) fn mark_removed(&self) {
        self.inner.removed.store(true, Ordering::Release);
    }

    /// Whether this registry holds anything that may still be written through handles the crate
    /// does not see, or that runs user code: a registered metric, a callback, a bridge, or a
    /// linked child registry. Such a registry keeps its level attached.
    pub(crate) fn holds_writable(&self) -> bool {
        self.inner.registered.load(Ordering::Acquire) != 0
            || !lock(&self.inner.children).is_empty()
            || !lock(&self.inner.update_callbacks).is_empty()
            || !lock(&self.inner.expfmt_callbacks).is_empty()
            || !lock(&self.inner.bridges).is_empty()
    }

    /// A guard that keeps this registry's level attached to the tree as a handle on the level
    /// does (see [`LevelGuard`]): `None` when the registry belongs to no level of the crate's
    /// hierarchy (a registry made with [`new`](Self::new)), or when its level has already left
    /// the tree.
    pub fn level_guard(&self) -> Option<LevelGuard> {
        LevelGuard::from_level(self.inner.level.get()?)
    }

    /// Unlinks `child` from this registry (the reverse of
    /// [`add_child_registry`](Self::add_child_registry)).
    pub(crate) fn remove_child_registry(&self, child: &MetricsRegistry) {
        lock(&self.inner.children).retain(|c| !Arc::ptr_eq(&c.inner, &child.inner));
    }

    /// Links `child` under this registry: this registry's combined scrape includes the child and
    /// its descendants, after everything linked before it. Linking the same registry twice, or
    /// linking a registry under itself, changes nothing.
    pub fn add_child_registry(&self, child: &MetricsRegistry) {
        if Arc::ptr_eq(&self.inner, &child.inner) {
            return;
        }
        let mut children = lock(&self.inner.children);
        if !children.iter().any(|c| Arc::ptr_eq(&c.inner, &child.inner)) {
            children.push(child.clone());
        }
    }

    /// Adds a callback run before every combined scrape that includes this registry. A callback
    /// that errors or panics is skipped, logged and counted; the scrape goes on.
    ///
    /// A callback never runs twice at once. One still running when another scrape needs it is
    /// waited for; once it has run for longer than the scrape timeout, scrapes skip it (counted
    /// as `timeout`) until it returns.
    pub fn add_update_callback(&self, callback: UpdateCallback) {
        lock(&self.inner.update_callbacks).push(Part::new(callback));
    }

    /// Adds a callback whose exposition text is bridged into every combined scrape that includes
    /// this registry (see [`PrometheusExpositionFormatCallback`]). The text is parsed strictly
    /// and re-rendered; what is wrong costs only the metric family it belongs to (all of that
    /// family's lines, as Go's `promhttp` drops a bad family), and a family the page already has
    /// is dropped alone: the callback's other families are served. Every problem is logged, and a
    /// callback with any dropped line or family counts one `text_callback` failure per scrape. A
    /// callback that errors or panics is skipped, logged and counted the same way.
    pub fn add_expfmt_callback(&self, callback: PrometheusExpositionFormatCallback) {
        lock(&self.inner.expfmt_callbacks).push(Part::new(callback));
    }

    /// Bridges a `prometheus` collector into every combined scrape that includes this registry,
    /// its families as they are. A family that the page cannot carry (an invalid name, a label
    /// given twice, a family the page already has) is dropped, logged and counted as
    /// `collector`; a collector that panics is skipped the same way.
    ///
    /// See [`EngineMetrics::add_collector`](crate::EngineMetrics::add_collector) to give the
    /// families the level's and the engine's labels.
    pub fn add_collector(&self, collector: Box<dyn Collector>) {
        self.add_bridge(Source::Collector(Arc::from(collector)), Vec::new());
    }

    /// Bridges a whole foreign `prometheus::Registry` (through its `gather()`), as
    /// [`add_collector`](Self::add_collector) does a collector. The registry is shared, not
    /// copied: metrics registered in it later appear too.
    pub fn add_foreign_registry(&self, registry: prometheus::Registry) {
        self.add_bridge(Source::Registry(registry), Vec::new());
    }

    /// [`add_collector`](Self::add_collector), with `labels` added to every series of the
    /// collector's families.
    ///
    /// # Errors
    /// [`Error::Bridge`] naming the collector's families, with
    /// [`MetricErrorKind::InvalidLabelName`] for a label name outside `[a-zA-Z_][a-zA-Z0-9_]*`,
    /// [`MetricErrorKind::ReservedLabel`] for one starting with `__`, and
    /// [`MetricErrorKind::DuplicateLabel`] for a name given twice; nothing is bridged then.
    pub fn add_collector_with_labels(
        &self,
        collector: Box<dyn Collector>,
        labels: &[(&str, &str)],
    ) -> Result<(), Error> {
        let labels = bridge_labels(|| collector_description(&*collector), labels)?;
        self.add_bridge(Source::Collector(Arc::from(collector)), labels);
        Ok(())
    }

    /// [`add_foreign_registry`](Self::add_foreign_registry), with `labels` added to every series.
    ///
    /// # Errors
    /// As [`add_collector_with_labels`](Self::add_collector_with_labels).
    pub fn add_foreign_registry_with_labels(
        &self,
        registry: prometheus::Registry,
        labels: &[(&str, &str)],
    ) -> Result<(), Error> {
        let labels = bridge_labels(|| "a foreign registry".to_owned(), labels)?;
        self.add_bridge(Source::Registry(registry), labels);
        Ok(())
    }

    fn add_bridge(&self, source: Source, labels: Vec<(String, String)>) {
        let bridge = Bridge {
            source,
            labels: labels.into(),
        };
        lock(&self.inner.bridges).push(Part::new(bridge));
    }

    /// Whether two handles share one registry.
    pub fn same_registry(&self, other: &MetricsRegistry) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Puts a store family on this level's page, unless the level already has a family of that
    /// name.
    pub(crate) fn register_native(&self, native: &Arc<dyn Native>) -> Result<(), Error> {
        let mut natives = lock(&self.inner.natives);
        natives.retain(|weak| weak.strong_count() > 0);
        let name = native.name();
        if natives
            .iter()
            .filter_map(Weak::upgrade)
            .any(|other| other.name() == name)
            || self
                .inner
                .registry
                .gather()
                .iter()
                .any(|family| family.name() == name)
        {
            return Err(Error::metric_error(
                name,
                MetricErrorKind::AlreadyRegistered,
            ));
        }
        natives.push(Arc::downgrade(native));
        Ok(())
    }

    pub(crate) fn last_page_len(&self) -> usize {
        self.inner.last_page_len.load(Ordering::Relaxed)
    }

    pub(crate) fn set_last_page_len(&self, len: usize) {
        self.inner.last_page_len.store(len, Ordering::Relaxed);
    }

    /// Whether a live store family of this level is named `name`.
    pub(crate) fn has_native(&self, name: &str) -> bool {
        lock(&self.inner.natives)
            .iter()
            .filter_map(Weak::upgrade)
            .any(|native| native.name() == name)
    }

    /// This level's live store families, in registration order; the dead are forgotten.
    pub(crate) fn natives(&self) -> Vec<Arc<dyn Native>> {
        let mut natives = lock(&self.inner.natives);
        natives.retain(|weak| weak.strong_count() > 0);
        natives.iter().filter_map(Weak::upgrade).collect()
    }

    /// The counter of writes dropped by this level's per-rank families
    /// ([`DROPPED_WRITES`](crate::metric::bound::DROPPED_WRITES)), labelled `metric` and with `hierarchy`'s
    /// labels, registered here the first time a family asks for it. Its series appear with the
    /// first dropped write.
    pub(crate) fn dropped_writes(
        &self,
        hierarchy: &dyn crate::MetricsHierarchy,
    ) -> Option<prometheus::IntCounterVec> {
        self.inner
            .dropped_writes
            .get_or_init(|| {
                crate::create_metric_with_prefix(
                    hierarchy,
                    "",
                    crate::metric::bound::DROPPED_WRITES,
                    "Writes dropped because a per-rank family already held its most undeclared \
                     ranks, by the family's name.",
                    &[],
                    None,
                    Some(&["metric"]),
                )
                .inspect_err(|error| {
                    tracing::warn!(%error, "could not make the dropped-writes counter; drops are only logged");
                })
                .ok()
            })
            .clone()
    }

    /// Registers `collector` here. Counted: a registered collector keeps the level attached.
    pub(crate) fn register(&self, collector: Box<dyn Collector>) -> prometheus::Result<()> {
        self.inner.registry.register(collector)?;
        self.inner.registered.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Unregisters `collector`; the level may then be unused, and detach.
    pub(crate) fn unregister_boxed(&self, collector: Box<dyn Collector>) -> prometheus::Result<()> {
        self.inner.registry.unregister(collector)?;
        self.inner.registered.fetch_sub(1, Ordering::AcqRel);
        if let Some(level) = self.inner.level.get() {
            crate::hierarchy::levels::registry_released(level);
        }
        Ok(())
    }

    /// Unregisters a metric made by [`create_metric`](crate::create_metric) (or any collector
    /// registered at this level), as `prometheus::Registry::unregister` does: its families leave
    /// the page from the next scrape on, and a metric of the same name can be created here
    /// again. Writes to the metric's handles still succeed but are seen by no page.
    ///
    /// A metric is matched by its name and const labels (hierarchy labels included), as
    /// prometheus matches it: it must be unregistered from the level it was created on, and a
    /// handle kept from an earlier metric of the same name and labels unregisters the one
    /// registered now. When it was the last thing keeping a
    /// level whose handles are all gone, the level detaches now.
    ///
    /// ```
    /// use engine_gauges::{MetricsRoot, create_metric};
    /// use engine_gauges::prometheus::IntGauge;
    ///
    /// let endpoint = MetricsRoot::new().namespace("dynamo")?.component("backend")?.endpoint("generate")?;
    /// let load: IntGauge = create_metric(&endpoint, "load", "Requests in flight.", &[], None, None)?;
    /// endpoint.registry().unregister(&load)?;
    /// assert_eq!(endpoint.registry().prometheus_expfmt_combined()?, "");
    /// # Ok::<(), engine_gauges::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`MetricErrorKind::NotRegistered`](crate::error::MetricErrorKind::NotRegistered) when the
    /// metric is not registered here: created at another level, or already unregistered. Nothing
    /// changes then.
    pub fn unregister(&self, metric: &dyn Collector) -> Result<(), Error> {
        let name =
            family_names(metric).unwrap_or_else(|| "(a collector without descriptors)".to_owned());
        let descs: Vec<Desc> = metric.desc().into_iter().cloned().collect();
        self.unregister_boxed(Box::new(Descs(descs))).map_err(|_| {
            let level = self.describe();
            Error::metric_error(name, MetricErrorKind::NotRegistered { level })
        })
    }

    /// This registry and its descendants, depth-first, pre-order, children in the order they were
    /// linked; a registry reachable twice is visited once.
    pub(crate) fn walk(&self) -> Vec<MetricsRegistry> {
        let mut seen = HashSet::new();
        let mut order = Vec::new();
        let mut stack = vec![self.clone()];
        while let Some(registry) = stack.pop() {
            if !seen.insert(Arc::as_ptr(&registry.inner)) {
                continue;
            }
            let children = lock(&registry.inner.children).clone();
            stack.extend(children.into_iter().rev());
            order.push(registry);
        }
        order
    }

    /// Renders this registry and all its descendants as one Prometheus text exposition page.
    ///
    /// 1. Walks the registries depth-first, pre-order, starting here.
    /// 2. Runs every update callback.
    /// 3. Gathers every registry and merges families by name. The first family seen fixes the
    ///    help text and type; a later family that disagrees is dropped whole. A series (name and
    ///    label pairs) seen before is dropped: the first wins.
    /// 4. Gathers the bridged collectors and registries, and parses the text callbacks' output.
    ///    A bridged family (or a family of a text callback's output) that the page cannot carry,
    ///    or that repeats a family already on the page, is dropped; the others stay.
    /// 5. Sorts families by name and encodes them.
    ///
    /// A failure in one part never costs the page: a part that errors or panics, and a family
    /// that conflicts with an earlier one, are skipped, logged through `tracing`, and counted in
    /// [`SCRAPE_FAILURES`] by `kind`: `family_conflict`, `update_callback`, `text_callback`,
    /// `collector`, or `timeout` (a part skipped because it could not run: still running from an
    /// earlier scrape for longer than the timeout, or it is the very callback that asked for this
    /// scrape). The counter appears on this registry's page from its first failure on.
    ///
    /// The render runs on a thread of its own, and concurrent scrapes of the same registry share
    /// it. This is [`scrape`](Self::scrape) with the default [`ScrapeOptions`] (a 10 s timeout),
    /// copied into a `String`.
    ///
    /// # Errors
    /// - [`ScrapeErrorKind::Reentrant`](crate::error::ScrapeErrorKind::Reentrant) when called from
    ///   a callback of this same registry's scrape (the callback's failure is then counted by the
    ///   outer scrape);
    /// - [`ScrapeErrorKind::Timeout`](crate::error::ScrapeErrorKind::Timeout) when the page is not
    ///   ready within the timeout, naming the part still running;
    /// - [`ScrapeErrorKind::Failed`](crate::error::ScrapeErrorKind::Failed) when the render could
    ///   not run (no thread could be started, or too many renders are still stuck).
    pub fn prometheus_expfmt_combined(&self) -> Result<String, Error> {
        self.scrape(&ScrapeOptions::default())
            .map(|page| page.as_str().to_owned())
    }

    /// The combined page (see [`prometheus_expfmt_combined`](Self::prometheus_expfmt_combined)),
    /// as a cheap-to-clone [`Page`], within `options`' timeout.
    ///
    /// A render of this registry already in flight, and younger than its timeout, is joined
    /// instead of starting another.
    ///
    /// # Errors
    /// As [`prometheus_expfmt_combined`](Self::prometheus_expfmt_combined).
    pub fn scrape(&self, options: &ScrapeOptions) -> Result<Page, Error> {
        let deadline = Instant::now() + options.timeout();
        let render = crate::scrape::render::start_or_join(self, options)?;
        render.wait_blocking(deadline)
    }
}

/// A collector's descriptors alone: what `prometheus::Registry::unregister` matches on.
struct Descs(Vec<Desc>);

impl Collector for Descs {
    fn desc(&self) -> Vec<&Desc> {
        self.0.iter().collect()
    }
    fn collect(&self) -> Vec<MetricFamily> {
        Vec::new()
    }
}

/// The names of a collector's families, joined as ``a`, `b`` (the caller adds the outer
/// backticks), or `None` for a collector without descriptors.
fn family_names(collector: &dyn Collector) -> Option<String> {
    let descs = collector.desc();
    (!descs.is_empty()).then(|| {
        descs
            .iter()
            .map(|d| d.fq_name.as_str())
            .collect::<Vec<_>>()
            .join("`, `")
    })
}

/// How a bridge error names a collector.
pub(crate) fn collector_description(collector: &dyn Collector) -> String {
    match family_names(collector) {
        Some(names) => format!("the collector of `{names}`"),
        None => "a collector without descriptors".to_owned(),
    }
}

/// Checks the labels a bridge injects and owns them; `bridged` names what is bridged, for the
/// error.
fn bridge_labels(
    bridged: impl Fn() -> String,
    given: &[(&str, &str)],
) -> Result<Vec<(String, String)>, Error> {
    let mut out: Vec<(String, String)> = Vec::with_capacity(given.len());
    for &(label, value) in given {
        if !is_valid_label_name(label) {
            let label = label.to_owned();
            return Err(Error::Bridge {
                bridged: bridged(),
                kind: MetricErrorKind::InvalidLabelName { label },
            });
        }
        if label.starts_with("__") {
            let label = label.to_owned();
            return Err(Error::Bridge {
                bridged: bridged(),
                kind: MetricErrorKind::ReservedLabel {
                    label,
                    reason: engine_gauges_rules::LabelProblem::DoubleUnderscore.message(),
                },
            });
        }
        if out.iter().any(|(l, _)| l == label) {
            let label = label.to_owned();
            return Err(Error::Bridge {
                bridged: bridged(),
                kind: MetricErrorKind::DuplicateLabel { label },
            });
        }
        out.push((label.to_owned(), value.to_owned()));
    }
    Ok(out)
}
