//! Concurrency: writers and scrapers at once (with levels created while they run), gauge sets
//! registered from many threads at once, failing callbacks under concurrent scrapes, and a writer
//! that panics. Each scenario runs under a watchdog, so that a deadlock fails its test instead of
//! hanging it. The figures quoted in `RELIABILITY.md` are printed with `eprintln!`: run with
//! `-- --nocapture` to see them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use engine_gauges::error::MetricErrorKind;
use engine_gauges::prometheus::{
    Counter, Gauge, Histogram, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
};
use engine_gauges::{
    Component, ComponentSnapshot, CreateMetric, Endpoint, EngineConfig, EngineMetrics, Error,
    MetricsHierarchy, MetricsRegistry, MetricsRoot, Namespace, create_metric,
    reference::ComponentGauges, reference::LifecycleGauges,
};
use engine_gauges_tests::expfmt::Page;
use engine_gauges_tests::faults::{ON_PURPOSE, Progress, WATCHDOG, quiet_panics, with_watchdog};
use engine_gauges_tests::fixture;
use engine_gauges_tests::page::{failures, parse, promtool_check, scrape, shorten};

// --------------------------------------------------------------------------- writers and scrapers

/// Writer threads, each owning its series and all hammering shared ones.
const WRITERS: usize = 8;
/// Threads scraping the root's combined page without pause.
const SCRAPERS: usize = 2;
/// How long the writers and scrapers run.
const LOAD: Duration = Duration::from_secs(2);
/// A writer stops after this many iterations even if the time is not up.
const MAX_ITERATIONS: u64 = 50_000_000;
/// Metric writes per writer iteration (see `writer_iteration`).
const WRITES_PER_ITERATION: u64 = 16;
/// The declared rank every writer hammers (writer `w` owns declared rank `w`).
const SHARED_RANK: u32 = WRITERS as u32;
/// Writer `w` also owns the undeclared rank `UNDECLARED + w`.
const UNDECLARED: u32 = 1000;
/// Levels the churn thread creates under the namespace while the load runs.
const CHURN_LEVELS: u64 = 64;

/// Everything the writers write to.
struct LoadTarget {
    gauges: ComponentGauges,
    own: Vec<Gauge>,
    progress: IntGaugeVec,
    progress_labels: Vec<String>,
    shared: Gauge,
    updates: IntCounter,
    float_updates: Counter,
    per_writer: IntCounterVec,
    inflight: Gauge,
    latency: Histogram,
    /// Registered beside the gauge sets the writers write, and kept for the whole run.
    _lifecycle: LifecycleGauges,
}

/// The value writer `w` writes to the shared series in iteration `i`: exact in an `f64` and in an
/// `i64`, and unique to the writer and the iteration.
fn stamp(writer: usize, iteration: u64) -> u64 {
    ((writer as u64) << 40) | iteration
}

fn usage_of(iteration: u64) -> f32 {
    (iteration % 1000) as f32 / 1000.0
}

fn hit_rate_of(iteration: u64) -> f32 {
    (iteration % 100) as f32 / 100.0
}

/// One writer iteration: [`WRITES_PER_ITERATION`] metric writes.
fn writer_iteration(t: &LoadTarget, w: usize, i: u64, writer_label: &str) {
    for rank in [w as u32, UNDECLARED + w as u32] {
        // Three gauge writes each: total blocks, cache usage, hit rate.
        t.gauges.update(&ComponentSnapshot {
            kv_used_blocks: i,
            kv_total_blocks: i,
            gpu_cache_usage: usage_of(i),
            kv_cache_hit_rate: Some(hit_rate_of(i)),
            dp_rank: rank,
        });
    }
    t.own[w].set(i as f64);
    t.progress
        .with_label_values(&[t.progress_labels[w].as_str()])
        .set(i as i64);
    let s = stamp(w, i);
    t.shared.set(s as f64);
    t.gauges.total_blocks.rank(SHARED_RANK).set(s as i64);
    t.updates.inc();
    t.float_updates.inc();
    t.per_writer.with_label_values(&[writer_label]).inc();
    t.inflight.inc();
    t.latency.observe((i % 10) as f64 / 10.0);
    t.inflight.dec();
}

/// What a scraper saw.
#[derive(Debug, Default)]
struct ScraperReport {
    scrapes: u64,
    bytes: u64,
    max_latency: Duration,
    total_latency: Duration,
}

/// Checks one page seen during the load: the invariants that hold at any instant.
fn check_page_under_load(page: &Page, last: &mut HashMap<String, f64>, text: &str) {
    let fail = |why: String| -> ! { panic!("{why}\n--- page\n{}", shorten(text)) };
    // Monotonic series: every writer's owned series only go up, and so do the counters.
    let mut monotonic: Vec<(String, f64)> = Vec::new();
    for w in 0..WRITERS {
        let rank = w.to_string();
        let undeclared = (UNDECLARED + w as u32).to_string();
        let declared = page
            .value_where("dynamo_component_total_blocks", "dp_rank", &rank)
            .unwrap_or_else(|| fail(format!("declared rank {rank} is missing")));
        monotonic.push((format!("total_blocks/{rank}"), declared));
        if let Some(v) = page.value_where("dynamo_component_total_blocks", "dp_rank", &undeclared) {
            monotonic.push((format!("total_blocks/{undeclared}"), v));
        } else if last.contains_key(&format!("total_blocks/{undeclared}")) {
            fail(format!("undeclared rank {undeclared} vanished"));
        }
        let own = page
            .value_where("dynamo_component_writer_last_iteration", "writer", &rank)
            .unwrap_or_else(|| fail(format!("writer {w}'s own gauge is missing")));
        monotonic.push((format!("own/{w}"), own));
    }
    for counter in [
        "dynamo_component_updates_total",
        "dynamo_component_float_updates_total",
        "dynamo_component_op_duration_seconds_count",
    ] {
        let v = page
            .samples(counter)
            .next()
            .unwrap_or_else(|| fail(format!("{counter} is missing")))
            .value;
        monotonic.push((counter.to_owned(), v));
    }
    for (key, value) in monotonic {
        let previous = last.insert(key.clone(), value).unwrap_or(f64::MIN);
        if value < previous {
            fail(format!("{key} went back from {previous} to {value}"));
        }
    }
    // At most one increment in flight per writer, and never a fraction.
    let inflight = page
        .samples("dynamo_component_inflight")
        .next()
        .map_or(f64::NAN, |s| s.value);
    if !(0.0..=WRITERS as f64).contains(&inflight) || inflight.fract() != 0.0 {
        fail(format!("inflight is {inflight}"));
    }
    // A histogram snapshot is consistent: `_count` equals the `+Inf` bucket, buckets grow.
    let buckets: Vec<f64> = page
        .samples("dynamo_component_op_duration_seconds_bucket")
        .map(|s| s.value)
        .collect();
    let count = page
        .samples("dynamo_component_op_duration_seconds_count")
        .next()
        .map_or(f64::NAN, |s| s.value);
    if buckets.windows(2).any(|b| b[0] > b[1]) || buckets.last() != Some(&count) {
        fail(format!(
            "inconsistent histogram: {buckets:?}, count {count}"
        ));
    }
}

/// `create_metric` without const labels or buckets; a refusal fails the test.
fn plain_metric<T: CreateMetric>(
    level: &impl MetricsHierarchy,
    name: &str,
    help: &str,
    label_names: Option<&[&str]>,
) -> T {
    create_metric(level, name, help, &[], None, label_names)
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

impl LoadTarget {
    /// Registers what the writers write to: a worker's gauge sets at the endpoint, and plain
    /// metrics at the endpoint, the component and the namespace.
    fn register(ns: &Namespace, component: &Component, endpoint: &Endpoint) -> Self {
        let config = EngineConfig {
            model: "Qwen/Qwen3-0.6B".into(),
            served_model_name: Some("qwen3".into()),
            data_parallel_size: Some(WRITERS as u32 + 1),
            ..Default::default()
        };
        let metrics = EngineMetrics::with_engine_config(endpoint.clone(), &config);
        let gauges = ComponentGauges::new(&metrics, &config.dp_ranks().expect("dp ranks"))
            .expect("component gauges");
        let own = (0..WRITERS)
            .map(|w| {
                create_metric(
                    endpoint,
                    "writer_last_iteration",
                    "The last iteration each writer finished.",
                    &[("writer", &w.to_string())],
                    None,
                    None,
                )
                .expect("own gauge")
            })
            .collect();
        let latency = create_metric(
            endpoint,
            "op_duration_seconds",
            "A histogram every writer observes into.",
            &[],
            Some(vec![0.1, 0.5, 1.0]),
            None,
        )
        .expect("latency");
        let by_writer = Some(&["writer"][..]);
        Self {
            _lifecycle: LifecycleGauges::new(&metrics, 1.25).expect("lifecycle gauges"),
            gauges,
            own,
            progress: plain_metric(
                component,
                "writer_progress",
                "Each writer's iteration, under a hostile label value.",
                by_writer,
            ),
            progress_labels: (0..WRITERS)
                .map(|w| format!("w{w} \"quoted\" back\\slash\nnew line\ttab 日本"))
                .collect(),
            shared: plain_metric(
                endpoint,
                "shared_last_write",
                "The stamp of the last write, by any writer.",
                None,
            ),
            updates: plain_metric(endpoint, "updates_total", "Writer iterations.", None),
            float_updates: plain_metric(
                ns,
                "float_updates_total",
                "Writer iterations, counted in a float counter.",
                None,
            ),
            per_writer: plain_metric(
                component,
                "writer_updates_total",
                "Writer iterations, by writer.",
                by_writer,
            ),
            inflight: plain_metric(
                endpoint,
                "inflight",
                "Writers between their inc and dec.",
                None,
            ),
            latency,
        }
    }
}

/// The tree the load runs on: root (connection id 0x5eed) → `dynamo` → `backend` → `generate`,
/// with the writers' metrics, and an update callback at the endpoint that counts its runs.
struct Load {
    root: MetricsRoot,
    ns: Namespace,
    target: Arc<LoadTarget>,
}

impl Load {
    fn set_up() -> Self {
        let root = MetricsRoot::with_connection_id(0x5eed);
        let ns = root.namespace("dynamo").expect("namespace");
        let component = ns.component("backend").expect("component");
        let endpoint = component.endpoint("generate").expect("endpoint");
        let target = Arc::new(LoadTarget::register(&ns, &component, &endpoint));
        let runs: IntCounter = plain_metric(
            &endpoint,
            "update_callback_runs_total",
            "Runs of the endpoint's update callback.",
            None,
        );
        endpoint.registry().add_update_callback(Arc::new(move || {
            runs.inc();
            Ok(())
        }));
        Self { root, ns, target }
    }

    /// After the writers stop: every owned series shows its writer's final value, the shared ones
    /// show one of the values written last, counters show every increment, every level created
    /// is there, and no scrape met a failure.
    fn check_final_page(&self, page: &Page, outcome: &Outcome) {
        for (w, writer) in outcome.writers.iter().enumerate() {
            assert!(writer.iterations > 0, "writer {w} never ran");
            self.check_owned_series(page, w, writer.iterations);
        }
        let last_stamps: Vec<f64> = outcome
            .writers
            .iter()
            .enumerate()
            .map(|(w, writer)| stamp(w, writer.iterations) as f64)
            .collect();
        for (name, value) in [
            (
                "shared gauge",
                single(page, "dynamo_component_shared_last_write"),
            ),
            (
                "shared rank",
                page.value_where(
                    "dynamo_component_total_blocks",
                    "dp_rank",
                    &SHARED_RANK.to_string(),
                ),
            ),
        ] {
            let value = value.unwrap_or_else(|| panic!("the {name} is missing"));
            assert!(
                last_stamps.contains(&value),
                "the {name} shows {value}, not one of the last writes {last_stamps:?}"
            );
        }
        assert!(
            outcome.scrapers.iter().all(|s| s.scrapes > 0),
            "a scraper never finished a scrape"
        );
        let total = outcome.iterations() as f64;
        for counter in [
            "dynamo_component_updates_total",
            "dynamo_component_float_updates_total",
            "dynamo_component_op_duration_seconds_count",
        ] {
            assert_eq!(single(page, counter), Some(total), "{counter}");
        }
        assert_eq!(single(page, "dynamo_component_inflight"), Some(0.0));
        // Concurrent scrapes share renders: the update callback ran once per render, so at least
        // once (the final scrape's) and never more often than the scrapes.
        let scrapes = outcome.scrapes() + 1;
        let runs = single(page, "dynamo_component_update_callback_runs_total").unwrap_or_default();
        assert!(
            (1.0..=scrapes as f64).contains(&runs),
            "the update callback ran {runs} times for {scrapes} scrapes"
        );
        assert_eq!(
            page.samples("dynamo_component_churn_level").count() as u64,
            outcome.levels
        );
        assert!(
            failures(page).is_empty(),
            "the load met scrape failures: {:?}",
            failures(page)
        );
    }

    /// Writer `w`'s own series, after its last iteration `i`.
    fn check_owned_series(&self, page: &Page, w: usize, i: u64) {
        let expect = |name: &str, label: &str, value: &str, want: f64| {
            let got = page.value_where(name, label, value);
            assert_eq!(got, Some(want), "{name}{{{label}={value:?}}}");
        };
        for rank in [w as u32, UNDECLARED + w as u32] {
            let rank = rank.to_string();
            expect("dynamo_component_total_blocks", "dp_rank", &rank, i as f64);
            let usage = f64::from(usage_of(i));
            expect(
                "dynamo_component_gpu_cache_usage_percent",
                "dp_rank",
                &rank,
                usage,
            );
            let hit_rate = f64::from(hit_rate_of(i));
            expect(
                "dynamo_component_kv_cache_hit_rate",
                "dp_rank",
                &rank,
                hit_rate,
            );
        }
        let writer = w.to_string();
        expect(
            "dynamo_component_writer_last_iteration",
            "writer",
            &writer,
            i as f64,
        );
        let hostile = &self.target.progress_labels[w];
        expect(
            "dynamo_component_writer_progress",
            "writer",
            hostile,
            i as f64,
        );
        expect(
            "dynamo_component_writer_updates_total",
            "writer",
            &writer,
            i as f64,
        );
    }
}

/// The value of the first sample called `name`.
fn single(page: &Page, name: &str) -> Option<f64> {
    page.samples(name).next().map(|s| s.value)
}

/// What a writer did.
#[derive(Debug)]
struct WriterReport {
    iterations: u64,
    slowest: Duration,
    /// Iterations that took over 1 ms.
    slow: u64,
}

/// What the threads of a run did, and for how long.
#[derive(Debug)]
struct Outcome {
    writers: Vec<WriterReport>,
    scrapers: Vec<ScraperReport>,
    levels: u64,
    seconds: f64,
}

impl Outcome {
    fn iterations(&self) -> u64 {
        self.writers.iter().map(|w| w.iterations).sum()
    }

    fn scrapes(&self) -> u64 {
        self.scrapers.iter().map(|s| s.scrapes).sum()
    }

    /// The figures `RELIABILITY.md` quotes.
    fn figures(&self, page: &Page) -> String {
        let (total, scrapes, seconds) = (self.iterations(), self.scrapes(), self.seconds);
        let slowest_iteration = self.writers.iter().map(|w| w.slowest).max();
        let slow_iterations: u64 = self.writers.iter().map(|w| w.slow).sum();
        let max_latency = self.scrapers.iter().map(|s| s.max_latency).max();
        let total_latency: Duration = self.scrapers.iter().map(|s| s.total_latency).sum();
        let bytes: u64 = self.scrapers.iter().map(|s| s.bytes).sum();
        format!(
            "concurrent load: {WRITERS} writers + {SCRAPERS} scrapers + 1 level-creating thread \
             for {seconds:.2} s: {total} writer iterations = {writes} metric writes ({rate:.1} M \
             writes/s), {scrapes} scrapes ({scrape_rate:.0}/s, {mb:.1} MB parsed, mean \
             {mean:.2?}, max {max:.2?}), {levels} levels created; slowest writer iteration \
             {slowest:.2?}, {slow_iterations} iterations over 1 ms; final page: {series} \
             samples; lost: 0 updates, 0 increments, 0 observations, 0 scrapes",
            writes = total * WRITES_PER_ITERATION,
            rate = (total * WRITES_PER_ITERATION) as f64 / seconds / 1e6,
            scrape_rate = scrapes as f64 / seconds,
            mb = bytes as f64 / 1e6,
            mean = total_latency / scrapes.max(1) as u32,
            max = max_latency.unwrap_or_default(),
            levels = self.levels,
            slowest = slowest_iteration.unwrap_or_default(),
            series = page.sample_count(),
        )
    }
}

/// The threads of one run: they start together at a barrier and stop at a flag.
struct Run {
    stop: Arc<AtomicBool>,
    start: Arc<Barrier>,
    progress: Arc<Progress>,
}

impl Run {
    fn new(progress: Arc<Progress>) -> Self {
        Self {
            stop: Arc::new(AtomicBool::new(false)),
            // The writers, the scrapers, the level-creating thread and this one.
            start: Arc::new(Barrier::new(WRITERS + SCRAPERS + 2)),
            progress,
        }
    }

    fn start_writers(&self, target: &Arc<LoadTarget>) -> Vec<JoinHandle<WriterReport>> {
        (0..WRITERS)
            .map(|w| {
                let (target, stop, start, progress) = self.share(target);
                thread::spawn(move || {
                    start.wait();
                    write_until_stopped(&target, w, &stop, &progress)
                })
            })
            .collect()
    }

    fn start_scrapers(&self, registry: &MetricsRegistry) -> Vec<JoinHandle<ScraperReport>> {
        (0..SCRAPERS)
            .map(|_| {
                let (registry, stop, start, progress) = self.share(registry);
                thread::spawn(move || {
                    start.wait();
                    scrape_until_stopped(&registry, &stop, &progress)
                })
            })
            .collect()
    }

    /// A thread that creates levels (each with a gauge) under `ns` while it is being scraped.
    fn start_level_churn(&self, ns: &Namespace) -> JoinHandle<u64> {
        let (ns, stop, start, progress) = self.share(ns);
        thread::spawn(move || {
            start.wait();
            create_levels_until_stopped(&ns, &stop, &progress)
        })
    }

    /// Starts the threads, lets them run for [`LOAD`], stops them and collects their reports.
    fn finish(
        self,
        writers: Vec<JoinHandle<WriterReport>>,
        scrapers: Vec<JoinHandle<ScraperReport>>,
        churn: JoinHandle<u64>,
    ) -> Outcome {
        self.start.wait();
        let began = Instant::now();
        thread::sleep(LOAD);
        self.stop.store(true, Ordering::Relaxed);
        Outcome {
            writers: writers.into_iter().map(|t| joined(t, "a writer")).collect(),
            scrapers: scrapers
                .into_iter()
                .map(|t| joined(t, "a scraper"))
                .collect(),
            levels: joined(churn, "the level-creating thread"),
            seconds: began.elapsed().as_secs_f64(),
        }
    }

    /// A clone of `what` and of the run's shared state, for one thread.
    fn share<T: Clone>(&self, what: &T) -> (T, Arc<AtomicBool>, Arc<Barrier>, Arc<Progress>) {
        (
            what.clone(),
            Arc::clone(&self.stop),
            Arc::clone(&self.start),
            Arc::clone(&self.progress),
        )
    }
}

/// What `thread` returned; its panic fails the test.
fn joined<T>(thread: JoinHandle<T>, what: &str) -> T {
    thread.join().unwrap_or_else(|_| panic!("{what} panicked"))
}

/// Writer `w`'s loop: iterations until the run stops (or [`MAX_ITERATIONS`]).
fn write_until_stopped(
    target: &LoadTarget,
    w: usize,
    stop: &AtomicBool,
    progress: &Progress,
) -> WriterReport {
    let label = w.to_string();
    let mut report = WriterReport {
        iterations: 0,
        slowest: Duration::ZERO,
        slow: 0,
    };
    while !stop.load(Ordering::Relaxed) && report.iterations < MAX_ITERATIONS {
        report.iterations += 1;
        let began = Instant::now();
        writer_iteration(target, w, report.iterations, &label);
        let took = began.elapsed();
        report.slowest = report.slowest.max(took);
        report.slow += u64::from(took > Duration::from_millis(1));
        if report.iterations.is_multiple_of(1024) {
            progress
                .updates
                .fetch_add(1024 * WRITES_PER_ITERATION, Ordering::Relaxed);
        }
    }
    report
}

/// A scraper's loop: scrapes of the root's page until the run stops, each checked.
fn scrape_until_stopped(
    registry: &MetricsRegistry,
    stop: &AtomicBool,
    progress: &Progress,
) -> ScraperReport {
    let mut report = ScraperReport::default();
    let mut last = HashMap::new();
    while !stop.load(Ordering::Relaxed) {
        let began = Instant::now();
        let text = registry
            .prometheus_expfmt_combined()
            .unwrap_or_else(|error| panic!("a scrape under load failed: {error}"));
        let took = began.elapsed();
        check_page_under_load(&parse(&text), &mut last, &text);
        report.scrapes += 1;
        report.bytes += text.len() as u64;
        report.max_latency = report.max_latency.max(took);
        report.total_latency += took;
        progress.scrapes.fetch_add(1, Ordering::Relaxed);
    }
    report
}

/// The level-creating thread's loop: a component and endpoint with a gauge every 10 ms, at most
/// [`CHURN_LEVELS`]; returns how many it created.
fn create_levels_until_stopped(ns: &Namespace, stop: &AtomicBool, progress: &Progress) -> u64 {
    let mut created = 0;
    while !stop.load(Ordering::Relaxed) && created < CHURN_LEVELS {
        let level = ns
            .component(&format!("churn-{created}"))
            .and_then(|c| c.endpoint("generate"))
            .expect("churn level");
        let gauge: IntGauge = plain_metric(
            &level,
            "churn_level",
            "A gauge on a level created during the load.",
            None,
        );
        gauge.set(created as i64);
        created += 1;
        progress.levels.fetch_add(1, Ordering::Relaxed);
        thread::sleep(Duration::from_millis(10));
    }
    created
}

/// Writers, scrapers and a level-creating thread at once; returns the figures of the run.
fn run_concurrent_load(progress: Arc<Progress>) -> String {
    let load = Load::set_up();
    let run = Run::new(progress);
    let writers = run.start_writers(&load.target);
    let scrapers = run.start_scrapers(load.root.registry());
    let churn = run.start_level_churn(&load.ns);
    let outcome = run.finish(writers, scrapers, churn);
    let (text, page) = scrape(load.root.registry());
    load.check_final_page(&page, &outcome);
    promtool_check(&text);
    outcome.figures(&page)
}

#[test]
fn concurrent_writers_and_scrapers_lose_nothing() {
    let progress = Arc::new(Progress::default());
    let watched = Arc::clone(&progress);
    let figures = with_watchdog("concurrent load", WATCHDOG, progress, move || {
        run_concurrent_load(watched)
    });
    eprintln!("{figures}");
}

// ---------------------------------------------------------------------------------- registrations

/// Registering the same gauge set from many threads at once: exactly one wins.
#[test]
fn concurrent_registrations_of_one_gauge_set_let_exactly_one_win() {
    let progress = Arc::new(Progress::default());
    with_watchdog("concurrent registration", WATCHDOG, progress, || {
        let endpoint = fixture::generate_endpoint(&MetricsRoot::with_connection_id(7));
        let metrics = Arc::new(EngineMetrics::with_engine_config(
            endpoint,
            &EngineConfig {
                model: "m".into(),
                ..Default::default()
            },
        ));
        let start = Arc::new(Barrier::new(WRITERS));
        let threads: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (metrics, start) = (Arc::clone(&metrics), Arc::clone(&start));
                thread::spawn(move || {
                    start.wait();
                    ComponentGauges::new(&metrics, &[0, 1])
                        .inspect(|g| g.total_blocks.rank(1).set(42))
                })
            })
            .collect();
        let outcomes: Vec<_> = threads
            .into_iter()
            .map(|t| t.join().expect("a registering thread panicked"))
            .collect();
        let winners = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(winners, 1, "{outcomes:?}");
        for outcome in &outcomes {
            if let Err(error) = outcome {
                assert!(
                    matches!(
                        error,
                        Error::Metric {
                            kind: MetricErrorKind::AlreadyRegistered,
                            ..
                        } | Error::Metric {
                            kind: MetricErrorKind::Registration { .. },
                            ..
                        }
                    ),
                    "{error:?}"
                );
            }
        }
        let (_, page) = scrape(metrics.registry());
        assert_eq!(
            page.samples("dynamo_component_total_blocks").count(),
            2,
            "{page:?}"
        );
        assert_eq!(
            page.value_where("dynamo_component_total_blocks", "dp_rank", "1"),
            Some(42.0)
        );
        assert_eq!(page.families.len(), 2, "{page:?}");
    });
}

// ---------------------------------------------------------------------------------- failing parts

/// A bridged registry's text, as a text callback returns it.
const BRIDGED: &str = "# HELP bridged_up Whether the bridged registry answered.\n# TYPE bridged_up gauge\nbridged_up 1\n";

/// Failing and panicking callbacks at several levels, scraped from two threads: each failure is
/// counted exactly once per scrape that met it, and everything else is served every time.
#[test]
fn failing_callbacks_under_concurrent_scrapes_are_counted_exactly() {
    quiet_panics();
    const SCRAPES_PER_THREAD: u64 = 100;
    let root = MetricsRoot::with_connection_id(0xf);
    let component = fixture::backend_component(&root);
    let endpoint = component.endpoint("generate").unwrap();
    let gauge: Gauge = create_metric(&endpoint, "alive", "Still served.", &[], None, None).unwrap();
    gauge.set(1.0);
    let ok_runs = Arc::new(AtomicU64::new(0));
    for registry in [component.registry(), endpoint.registry()] {
        let runs = Arc::clone(&ok_runs);
        registry.add_update_callback(Arc::new(move || {
            runs.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }));
        registry.add_update_callback(Arc::new(|| Err("the engine did not answer".into())));
        registry.add_update_callback(Arc::new(|| panic!("{ON_PURPOSE} update, &str payload")));
        registry.add_update_callback(Arc::new(|| {
            std::panic::panic_any(format!("{ON_PURPOSE} update, String payload"))
        }));
        registry.add_expfmt_callback(Arc::new(|| Err("the bridge is down".into())));
        registry.add_expfmt_callback(Arc::new(|| panic!("{ON_PURPOSE} text")));
    }
    endpoint
        .registry()
        .add_expfmt_callback(Arc::new(|| Ok(BRIDGED.to_owned())));

    let progress = Arc::new(Progress::default());
    let registry = root.registry().clone();
    let watched = Arc::clone(&progress);
    let scrapes = with_watchdog("failing callbacks", WATCHDOG, progress, move || {
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let (registry, progress) = (registry.clone(), Arc::clone(&watched));
                thread::spawn(move || {
                    for _ in 0..SCRAPES_PER_THREAD {
                        let (text, page) = scrape(&registry);
                        assert_eq!(
                            page.value(
                                "dynamo_component_alive",
                                &[
                                    ("dynamo_component", "backend"),
                                    ("dynamo_endpoint", "generate"),
                                    ("dynamo_namespace", "dynamo"),
                                    ("worker_id", "f"),
                                ]
                            ),
                            Some(1.0),
                            "{text}"
                        );
                        assert!(text.starts_with(BRIDGED), "{text}");
                        progress.scrapes.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("a scraper panicked");
        }
        2 * SCRAPES_PER_THREAD
    });
    let (text, page) = scrape(root.registry());
    let total = scrapes + 1;
    // Concurrent scrapes share renders, so the parts ran once per render: the two good callbacks
    // count the renders, at most one per scrape.
    let good_runs = ok_runs.load(Ordering::Relaxed);
    assert_eq!(good_runs % 2, 0, "the two good callbacks ran apart");
    let renders = good_runs / 2;
    assert!(
        (1..=total).contains(&renders),
        "{renders} renders for {total} scrapes"
    );
    // Two registries, each with three failing update callbacks and two failing text callbacks.
    let counted = failures(&page);
    assert_eq!(
        counted["update_callback"],
        (2 * 3 * renders) as f64,
        "{text}"
    );
    assert_eq!(counted["text_callback"], (2 * 2 * renders) as f64, "{text}");
    assert_eq!(counted["family_conflict"], 0.0, "{text}");
    // A level's own page counts only its own scrapes.
    let (_, endpoint_page) = scrape(endpoint.registry());
    assert_eq!(failures(&endpoint_page)["update_callback"], 3.0);
    promtool_check(&text);
    eprintln!(
        "failing callbacks: {total} scrapes of a page with 6 failing update callbacks (errors, \
         &str and String panics) and 4 failing text callbacks: {} update and {} text failures \
         counted, good callbacks ran {} times, every page complete",
        counted["update_callback"], counted["text_callback"], good_runs
    );
}

/// A writer thread that panics (holding no lock) costs only its own later writes.
#[test]
fn a_writer_that_panics_holding_no_lock_costs_nothing_else() {
    quiet_panics();
    let progress = Arc::new(Progress::default());
    with_watchdog("panicking writer", WATCHDOG, progress, || {
        let metrics = Arc::new(EngineMetrics::from_hierarchy(
            MetricsRoot::new().namespace("dynamo").unwrap(),
        ));
        let gauges = Arc::new(ComponentGauges::new(&metrics, &[0, 1, 2, 3]).unwrap());
        let writers: Vec<_> = (0..4u32)
            .map(|w| {
                let gauges = Arc::clone(&gauges);
                thread::spawn(move || {
                    for i in 1..=10_000u64 {
                        gauges.update(&ComponentSnapshot {
                            kv_total_blocks: i,
                            dp_rank: w,
                            ..Default::default()
                        });
                        // Rank 50 is undeclared: its child is looked up by label.
                        gauges.total_blocks.rank(50).set(i as i64);
                        if w == 3 && i == 5_000 {
                            panic!("{ON_PURPOSE} writer {w} at iteration {i}");
                        }
                    }
                })
            })
            .collect();
        let outcomes: Vec<_> = writers.into_iter().map(|t| t.join()).collect();
        assert!(outcomes[..3].iter().all(Result::is_ok));
        assert!(outcomes[3].is_err(), "the writer did not panic");
        let (text, page) = scrape(metrics.registry());
        for (rank, want) in [
            ("0", 10_000.0),
            ("1", 10_000.0),
            ("2", 10_000.0),
            ("3", 5_000.0),
        ] {
            assert_eq!(
                page.value_where("dynamo_component_total_blocks", "dp_rank", rank),
                Some(want),
                "{text}"
            );
        }
        // The panicking writer's rank still takes writes.
        gauges.total_blocks.rank(3).set(7);
        gauges.total_blocks.rank(50).set(8);
        let (_, page) = scrape(metrics.registry());
        assert_eq!(
            page.value_where("dynamo_component_total_blocks", "dp_rank", "3"),
            Some(7.0)
        );
        assert_eq!(
            page.value_where("dynamo_component_total_blocks", "dp_rank", "50"),
            Some(8.0)
        );
    });
}
