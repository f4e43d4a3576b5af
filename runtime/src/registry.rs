//! [`MetricsRegistry`]: one level's metrics, links to its children, callbacks, and the combined
//! scrape of a level and its descendants.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, Opts, TextEncoder};

use crate::Error;
use crate::text::TakenNames;

/// The error type callbacks return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A callback whose text is appended verbatim to the combined scrape, for bridging a foreign
/// registry (one that renders its own exposition text) into the page.
///
/// The text must be valid exposition format and must not repeat a family that the registries
/// (or an earlier callback) already render: the callback owns the families it prints. Text that
/// breaks either rule is dropped, logged and counted, so that it cannot cost the whole page.
pub type PrometheusExpositionFormatCallback =
    Arc<dyn Fn() -> Result<String, BoxError> + Send + Sync>;

/// A callback run before every combined scrape, to refresh values that are pulled, not pushed.
pub type UpdateCallback = Arc<dyn Fn() -> Result<(), BoxError> + Send + Sync>;

/// The name of the counter of failures met by a registry's combined scrapes.
pub const SCRAPE_FAILURES: &str = "engine_gauges_scrape_failures_total";

/// The kinds of scrape failure counted in [`SCRAPE_FAILURES`], by its `kind` label.
const FAILURE_KINDS: [&str; 3] = ["family_conflict", "update_callback", "text_callback"];

/// One level's metrics registry. Clones share the same state.
///
/// A registry holds the metrics created at its level and links to its children's registries; its
/// [combined scrape](Self::prometheus_expfmt_combined) renders itself and all its descendants.
#[derive(Clone, Default)]
pub struct MetricsRegistry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    registry: prometheus::Registry,
    children: Mutex<Vec<MetricsRegistry>>,
    update_callbacks: Mutex<Vec<UpdateCallback>>,
    expfmt_callbacks: Mutex<Vec<PrometheusExpositionFormatCallback>>,
    failures: Failures,
}

/// Takes a lock whatever happened to its last holder: every value behind these locks is a list
/// that stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl fmt::Debug for MetricsRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Counted before formatting: no lock is held while the formatter runs.
        let children = lock(&self.inner.children).len();
        let update_callbacks = lock(&self.inner.update_callbacks).len();
        let expfmt_callbacks = lock(&self.inner.expfmt_callbacks).len();
        f.debug_struct("MetricsRegistry")
            .field("children", &children)
            .field("update_callbacks", &update_callbacks)
            .field("expfmt_callbacks", &expfmt_callbacks)
            .finish_non_exhaustive()
    }
}

impl MetricsRegistry {
    /// A new, empty registry.
    pub fn new() -> Self {
        Self::default()
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
    pub fn add_update_callback(&self, callback: UpdateCallback) {
        lock(&self.inner.update_callbacks).push(callback);
    }

    /// Adds a callback whose text is appended verbatim to every combined scrape that includes this
    /// registry. A callback that errors or panics is skipped, logged and counted.
    pub fn add_expfmt_callback(&self, callback: PrometheusExpositionFormatCallback) {
        lock(&self.inner.expfmt_callbacks).push(callback);
    }

    /// Whether two handles share one registry.
    pub fn same_registry(&self, other: &MetricsRegistry) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn register(&self, collector: Box<dyn Collector>) -> prometheus::Result<()> {
        self.inner.registry.register(collector)
    }

    pub(crate) fn unregister(&self, collector: Box<dyn Collector>) -> prometheus::Result<()> {
        self.inner.registry.unregister(collector)
    }

    /// This registry and its descendants, depth-first, pre-order, children in the order they were
    /// linked; a registry reachable twice is visited once.
    fn walk(&self) -> Vec<MetricsRegistry> {
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
    /// 4. Runs every exposition-text callback and checks its text: every line blank, a comment or
    ///    a well-formed sample, and no family already on the page (natively or from an earlier
    ///    callback). Text that fails the check is dropped whole.
    /// 5. Sorts families by name, encodes them, and appends the callbacks' text.
    ///
    /// A failure in one part never costs the page: an update or text callback that errors or
    /// panics, and a family that conflicts with an earlier one, are skipped, logged through
    /// `tracing`, and counted in [`SCRAPE_FAILURES`] (`kind` = `family_conflict`,
    /// `update_callback` or `text_callback`), which appears on this registry's page from its
    /// first failure on.
    ///
    /// # Errors
    /// [`Error::ReentrantScrape`] when called from a callback of this same registry's scrape
    /// (the callback's failure is then counted by the outer scrape); [`Error::Encode`] only if the
    /// text encoder refuses every family it is given.
    pub fn prometheus_expfmt_combined(&self) -> Result<String, Error> {
        let _guard = ScrapeGuard::enter(self)?;
        let registries = self.walk();
        let failures = &self.inner.failures;

        for registry in &registries {
            let callbacks = lock(&registry.inner.update_callbacks).clone();
            for callback in callbacks {
                if let Err(message) = run_guarded(|| callback()) {
                    failures.record(Failure::UpdateCallback);
                    tracing::warn!(error = %message, "metrics update callback failed; skipped it");
                }
            }
        }

        let mut families = merge(&registries, failures);

        let mut texts = Vec::new();
        let mut taken: Option<TakenNames> = None;
        for registry in &registries {
            let callbacks = lock(&registry.inner.expfmt_callbacks).clone();
            for callback in callbacks {
                let checked = run_guarded(|| callback()).and_then(|text| {
                    let taken = taken.get_or_insert_with(|| {
                        let mut taken = TakenNames::from_families(&families);
                        taken.insert_family(SCRAPE_FAILURES, "counter");
                        taken
                    });
                    taken.accept(&text).map(|()| text)
                });
                match checked {
                    Ok(text) => texts.push(text),
                    Err(message) => {
                        failures.record(Failure::TextCallback);
                        tracing::warn!(error = %message, "exposition text callback failed or printed unusable text; skipped it");
                    }
                }
            }
        }

        if let Some(family) = failures.family() {
            if families.iter().any(|f| f.name() == family.name()) {
                tracing::warn!(
                    family = SCRAPE_FAILURES,
                    "a registered family uses the scrape failure counter's name; kept it"
                );
            } else {
                families.push(family);
            }
        }
        families.sort_unstable_by(|a, b| a.name().cmp(b.name()));

        let mut page = encode(&families)?;
        for text in texts.iter().filter(|t| !t.is_empty()) {
            page.push_str(text);
            if !text.ends_with('\n') {
                page.push('\n');
            }
        }
        Ok(page)
    }
}

thread_local! {
    /// The registries whose combined scrape is running on this thread.
    static SCRAPING: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Marks a registry's scrape as running on this thread, refusing a nested scrape of the same
/// registry (a callback scraping the page it is part of would recurse without end).
struct ScrapeGuard(usize);

impl ScrapeGuard {
    fn enter(registry: &MetricsRegistry) -> Result<Self, Error> {
        let id = Arc::as_ptr(&registry.inner) as usize;
        SCRAPING.with(|running| {
            let mut running = running.borrow_mut();
            if running.contains(&id) {
                return Err(Error::ReentrantScrape);
            }
            running.push(id);
            Ok(Self(id))
        })
    }
}

impl Drop for ScrapeGuard {
    fn drop(&mut self) {
        SCRAPING.with(|running| running.borrow_mut().retain(|&id| id != self.0));
    }
}

/// Runs a callback, turning an error or a panic into a message.
fn run_guarded<T>(callback: impl FnOnce() -> Result<T, BoxError>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(callback)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(payload) => Err(match payload.downcast_ref::<&str>() {
            Some(s) => format!("panicked: {s}"),
            None => match payload.downcast_ref::<String>() {
                Some(s) => format!("panicked: {s}"),
                None => "panicked".to_owned(),
            },
        }),
    }
}

/// Where a merged family came from, and which series it holds when it is seen more than once.
struct Seen {
    index: usize,
    series: Option<HashSet<String>>,
}

/// Gathers every registry and merges families by name (first help and type win, first series
/// wins). Series are unique within one registry, so only a family met in a second registry
/// pays for the duplicate check.
fn merge(registries: &[MetricsRegistry], failures: &Failures) -> Vec<MetricFamily> {
    // The first registry with families is the base: levels without metrics of their own (often
    // the root, namespace and component) cost one empty gather and no by-name map.
    let mut registries = registries.iter();
    let mut families = Vec::new();
    for registry in registries.by_ref() {
        families = registry.inner.registry.gather();
        if !families.is_empty() {
            break;
        }
    }
    let mut seen: Option<HashMap<String, Seen>> = None;
    for registry in registries {
        let gathered = registry.inner.registry.gather();
        if gathered.is_empty() {
            continue;
        }
        let seen = seen.get_or_insert_with(|| {
            families
                .iter()
                .enumerate()
                .map(|(index, f)| {
                    (
                        f.name().to_owned(),
                        Seen {
                            index,
                            series: None,
                        },
                    )
                })
                .collect()
        });
        for mut family in gathered {
            let Some(entry) = seen.get_mut(family.name()) else {
                let index = families.len();
                seen.insert(
                    family.name().to_owned(),
                    Seen {
                        index,
                        series: None,
                    },
                );
                families.push(family);
                continue;
            };
            let kept = &mut families[entry.index];
            if kept.help() != family.help() || kept.get_field_type() != family.get_field_type() {
                failures.record(Failure::FamilyConflict);
                tracing::warn!(
                    family = family.name(),
                    kept_type = ?kept.get_field_type(),
                    dropped_type = ?family.get_field_type(),
                    "two registries disagree on a family's help or type; kept the first, dropped the other's series"
                );
                continue;
            }
            let series = entry
                .series
                .get_or_insert_with(|| kept.get_metric().iter().map(series_key).collect());
            let name = family.name().to_owned();
            for metric in family.take_metric() {
                if series.insert(series_key(&metric)) {
                    kept.mut_metric().push(metric);
                } else {
                    tracing::warn!(family = %name, "a series is registered in two registries; kept the first");
                }
            }
        }
    }
    if let Some(seen) = seen {
        for entry in seen.values().filter(|e| e.series.is_some()) {
            families[entry.index]
                .mut_metric()
                .sort_by_cached_key(series_key);
        }
    }
    families
}

/// A series' identity within its family: its label pairs, which prometheus keeps sorted by name.
fn series_key(metric: &prometheus::proto::Metric) -> String {
    let mut key = String::new();
    for pair in metric.get_label() {
        key.push_str(pair.name());
        key.push('\u{0}');
        key.push_str(pair.value());
        key.push('\u{1}');
    }
    key
}

/// Encodes families, skipping (and logging) any the encoder refuses instead of losing the page.
fn encode(families: &[MetricFamily]) -> Result<String, Error> {
    let encoder = TextEncoder::new();
    let mut page = String::new();
    if encoder.encode_utf8(families, &mut page).is_ok() {
        return Ok(page);
    }
    page.clear();
    let mut last_error = None;
    let mut encoded_any = families.is_empty();
    for family in families {
        let mut one = String::new();
        match encoder.encode_utf8(std::slice::from_ref(family), &mut one) {
            Ok(()) => {
                page.push_str(&one);
                encoded_any = true;
            }
            Err(error) => {
                tracing::warn!(family = family.name(), %error, "could not encode a family; skipped it");
                last_error = Some(error);
            }
        }
    }
    match (encoded_any, last_error) {
        (false, Some(error)) => Err(Error::Encode(error)),
        _ => Ok(page),
    }
}

#[derive(Clone, Copy)]
enum Failure {
    FamilyConflict = 0,
    UpdateCallback = 1,
    TextCallback = 2,
}

/// The failures a registry's own combined scrapes met.
struct Failures {
    any: AtomicBool,
    counter: IntCounterVec,
    by_kind: [IntCounter; 3],
}

impl Default for Failures {
    fn default() -> Self {
        let counter = IntCounterVec::new(
            Opts::new(
                SCRAPE_FAILURES,
                "Failures met by this page's scrapes: parts skipped so that the rest could be served.",
            ),
            &["kind"],
        )
        .expect("the failure counter's name, help and label are valid constants");
        let by_kind = FAILURE_KINDS.map(|kind| counter.with_label_values(&[kind]));
        Self {
            any: AtomicBool::new(false),
            counter,
            by_kind,
        }
    }
}

impl Failures {
    fn record(&self, failure: Failure) {
        self.by_kind[failure as usize].inc();
        self.any.store(true, Ordering::Relaxed);
    }

    fn family(&self) -> Option<MetricFamily> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        self.counter.collect().into_iter().next()
    }
}
