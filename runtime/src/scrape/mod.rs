//! The combined scrape's options and page ([`ScrapeOptions`], [`Page`]), the callbacks it runs
//! ([`UpdateCallback`], [`PrometheusExpositionFormatCallback`]), and the names of the metrics the
//! library adds about itself ([`SCRAPE_FAILURES`], [`DROPPED_WRITES`]).
//!
//! A scrape walks the registries, runs their parts, merges and checks the families, encodes the
//! page, and counts what failed.

pub(crate) mod encode;
pub(crate) mod foreign;
pub(crate) mod parse;
pub(crate) mod render;

pub use crate::hierarchy::registry::{
    BoxError, PrometheusExpositionFormatCallback, SCRAPE_FAILURES, UpdateCallback,
};
pub use crate::metric::bound::DROPPED_WRITES;
pub use crate::scrape::render::{Page, ScrapeOptions};

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prometheus::core::Collector;
use prometheus::proto::MetricFamily;
use prometheus::{IntCounter, IntCounterVec, Opts};

use crate::hierarchy::registry::{Acquired, MetricsRegistry, Part, lock};
use crate::metric::store::Native;
use crate::scrape::foreign::TakenNames;
use crate::scrape::render::{Render, hold_part};

/// What one render needs to know besides the registry.
pub(crate) struct Context<'a> {
    /// Where the render reports the part it is running.
    pub(crate) render: &'a Render,
    /// When the render's answer is no longer awaited.
    pub(crate) deadline: Instant,
    /// A part running for longer than this is stuck, and skipped.
    pub(crate) stuck_after: Duration,
    /// A part held by the thread that asked for this render (a callback scraping a page it is
    /// part of): skipped at once instead of waited for.
    pub(crate) held: Option<usize>,
}

/// The render ran past its deadline; nobody waits for its page any more.
pub(crate) struct Late;

/// Renders `root`'s combined page (see
/// [`MetricsRegistry::prometheus_expfmt_combined`] for the steps).
// The page's steps, read top to bottom in the order they run.
#[allow(clippy::too_many_lines)]
pub(crate) fn render_page(root: &MetricsRegistry, cx: &Context<'_>) -> Result<String, Late> {
    let registries = root.walk();
    let failures = &root.inner.failures;
    let places: Vec<String> = registries
        .iter()
        .enumerate()
        .map(|(i, registry)| place(registry, i))
        .collect();

    for (registry, place) in registries.iter().zip(&places) {
        let callbacks = lock(&registry.inner.update_callbacks).clone();
        for (i, part) in callbacks.iter().enumerate() {
            let what = format!("update callback #{} of {place}", i + 1);
            if let Some(Err(message)) = run_part(part, &what, cx, failures, |callback| callback())?
            {
                failures.record(Failure::UpdateCallback);
                tracing::warn!(part = %what, error = %message, "metrics update callback failed; skipped it");
            }
        }
    }

    cx.render.set_running("gathering the registries".to_owned());
    let mut gathered: Vec<Vec<MetricFamily>> = registries
        .iter()
        .map(|registry| registry.inner.registry.gather())
        .collect();
    // The store's families render straight to text, unless another family of the page has the
    // same name: those are merged as prometheus's are, in the order of the walk.
    let natives: Vec<Vec<Arc<dyn Native>>> =
        registries.iter().map(MetricsRegistry::natives).collect();
    let mut named: HashMap<&str, usize> = HashMap::new();
    for name in gathered
        .iter()
        .flatten()
        .map(MetricFamily::name)
        .chain(natives.iter().flatten().map(|native| native.name()))
    {
        *named.entry(name).or_default() += 1;
    }
    let mut direct: Vec<Arc<dyn Native>> = Vec::new();
    let mut merged_natives: Vec<Vec<MetricFamily>> = vec![Vec::new(); registries.len()];
    for (index, natives) in natives.iter().enumerate() {
        for native in natives {
            if named.get(native.name()).copied().unwrap_or_default() > 1 {
                if native.on_page() {
                    merged_natives[index].push(native.to_family());
                }
            } else {
                direct.push(Arc::clone(native));
            }
        }
    }
    drop(named);
    for (gathered, extra) in gathered.iter_mut().zip(merged_natives) {
        gathered.extend(extra);
    }
    let mut families = merge(gathered, failures);
    let mut taken = TakenNames::from_families(&families);
    taken.insert_name(SCRAPE_FAILURES);
    for native in &direct {
        taken.insert_name(native.name());
    }

    for (registry, place) in registries.iter().zip(&places) {
        let bridges = lock(&registry.inner.bridges).clone();
        for (i, part) in bridges.iter().enumerate() {
            let what = format!("bridged collector #{} of {place}", i + 1);
            let gathered = run_part(part, &what, cx, failures, |bridge| {
                let mut refused = Vec::new();
                let families = bridge.gather(&mut refused);
                Ok((families, refused))
            })?;
            let (from_bridge, refused) = match gathered {
                Some(Ok(gathered)) => gathered,
                Some(Err(message)) => (Vec::new(), vec![message]),
                None => continue,
            };
            for message in refused {
                failures.record(Failure::Collector);
                tracing::warn!(part = %what, error = %message, "dropped a bridged family");
            }
            for family in from_bridge {
                match taken.accept(std::slice::from_ref(&family)) {
                    Ok(()) => families.push(family),
                    Err(message) => {
                        failures.record(Failure::Collector);
                        tracing::warn!(part = %what, error = %message, "dropped a bridged family");
                    }
                }
            }
        }
    }

    for (registry, place) in registries.iter().zip(&places) {
        let callbacks = lock(&registry.inner.expfmt_callbacks).clone();
        for (i, part) in callbacks.iter().enumerate() {
            let what = format!("text callback #{} of {place}", i + 1);
            let parsed = run_part(part, &what, cx, failures, |callback| {
                let text = callback()?;
                Ok(parse::parse(&text))
            })?;
            let parsed = match parsed {
                Some(Ok(parsed)) => parsed,
                Some(Err(message)) => {
                    failures.record(Failure::TextCallback);
                    tracing::warn!(part = %what, error = %message, "exposition text callback failed; dropped its text");
                    continue;
                }
                None => continue,
            };
            // One failure per callback, however many of its families or lines were dropped.
            let mut failed = !parsed.problems.is_empty();
            for problem in &parsed.problems {
                tracing::warn!(part = %what, error = %problem, "exposition text callback printed unusable text; dropped what it belongs to and kept the rest");
            }
            for family in parsed.families {
                match taken.accept(std::slice::from_ref(&family)) {
                    Ok(()) => families.push(family),
                    Err(message) => {
                        failed = true;
                        tracing::warn!(part = %what, error = %message, "dropped a family of an exposition text callback");
                    }
                }
            }
            if failed {
                failures.record(Failure::TextCallback);
            }
        }
    }

    cx.render.set_running("encoding the page".to_owned());
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
    families.sort_by(|a, b| a.name().cmp(b.name()));
    direct.sort_by(|a, b| a.name().cmp(b.name()));
    let mut page = String::with_capacity(root.last_page_len());
    let mut natives = direct.iter().peekable();
    for family in &families {
        while let Some(native) = natives.next_if(|native| native.name() < family.name()) {
            native.render(&mut page);
        }
        encode::encode_family(family, &mut page);
    }
    for native in natives {
        native.render(&mut page);
    }
    root.set_last_page_len(page.len());
    Ok(page)
}

/// How messages name the `index`th registry of a walk.
fn place(registry: &MetricsRegistry, index: usize) -> String {
    match (registry.label(), index) {
        (Some(label), _) => label.to_owned(),
        (None, 0) => "the scraped registry".to_owned(),
        (None, i) => format!("registry #{i} below the scraped one (depth-first)"),
    }
}

/// Runs one part, unless it is held by the thread that asked for the render or stuck in an
/// earlier render (both counted as failures). `None` means it was skipped.
fn run_part<T, R>(
    part: &Arc<Part<T>>,
    what: &str,
    cx: &Context<'_>,
    failures: &Failures,
    job: impl FnOnce(&T) -> Result<R, BoxError>,
) -> Result<Option<Result<R, String>>, Late> {
    if cx.held == Some(part.id()) {
        failures.record(Failure::Timeout);
        tracing::warn!(part = %what, "skipped a part that is itself scraping this page");
        return Ok(None);
    }
    // Nobody waits for a render past its deadline: it stops running parts.
    if Instant::now() >= cx.deadline {
        return Err(Late);
    }
    cx.render.set_running(what.to_owned());
    match part.acquire(cx.deadline, cx.stuck_after) {
        Acquired::Run(_guard) => {
            let _held = hold_part(part.id());
            Ok(Some(run_guarded(|| job(&part.job))))
        }
        Acquired::Stuck(running) => {
            failures.record(Failure::Timeout);
            tracing::warn!(part = %what, ?running, "a part still running from an earlier scrape is past the timeout; skipped it");
            Ok(None)
        }
        Acquired::Late => Err(Late),
    }
}

/// Runs user code, turning an error or a panic into a message.
fn run_guarded<T>(callback: impl FnOnce() -> Result<T, BoxError>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(callback)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(error.to_string()),
        Err(payload) => Err(panic_message(payload.as_ref())),
    }
}

/// The message a panic carried.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match payload.downcast_ref::<&str>() {
        Some(s) => format!("panicked: {s}"),
        None => match payload.downcast_ref::<String>() {
            Some(s) => format!("panicked: {s}"),
            None => "panicked".to_owned(),
        },
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
fn merge(gathered: Vec<Vec<MetricFamily>>, failures: &Failures) -> Vec<MetricFamily> {
    // The first registry with families is the base: levels without metrics of their own (often
    // the root, namespace and component) cost one empty gather and no by-name map.
    let mut registries = gathered.into_iter();
    let mut families = Vec::new();
    for gathered in registries.by_ref() {
        families = gathered;
        if !families.is_empty() {
            break;
        }
    }
    let mut seen: Option<HashMap<String, Seen>> = None;
    for gathered in registries {
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

/// The kinds of scrape failure counted in [`SCRAPE_FAILURES`], by its `kind` label.
const FAILURE_KINDS: [&str; 5] = [
    "collector",
    "family_conflict",
    "text_callback",
    "timeout",
    "update_callback",
];

#[derive(Clone, Copy)]
pub(crate) enum Failure {
    Collector = 0,
    FamilyConflict = 1,
    TextCallback = 2,
    Timeout = 3,
    UpdateCallback = 4,
}

/// The failures a registry's own combined scrapes met.
pub(crate) struct Failures {
    any: AtomicBool,
    counter: IntCounterVec,
    by_kind: [IntCounter; 5],
}

impl Default for Failures {
    fn default() -> Self {
        #[allow(clippy::expect_used)]
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
    pub(crate) fn record(&self, failure: Failure) {
        self.by_kind[failure as usize].inc();
        self.any.store(true, Ordering::Relaxed);
    }

    fn family(&self) -> Option<MetricFamily> {
        if !self.any.load(Ordering::Relaxed) {
            return None;
        }
        let mut family = self.counter.collect().into_iter().next()?;
        family.mut_metric().sort_by(|a, b| {
            a.get_label()
                .first()
                .map(prometheus::proto::LabelPair::value)
                .cmp(
                    &b.get_label()
                        .first()
                        .map(prometheus::proto::LabelPair::value),
                )
        });
        Some(family)
    }
}
