//! Reliability: concurrent writers and scrapers, hostile values, bad input at run time, failing
//! parts, and properties of the name rules and the encoder.
//!
//! Every page is read back with a strict exposition-format parser (shared with the fuzz targets)
//! and, where `promtool` is on `PATH`, checked by `promtool check metrics`. The figures quoted in
//! `RELIABILITY.md` are printed with `eprintln!`: run with `-- --nocapture` to see them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use engine_gauges::error::MetricErrorKind;
use engine_gauges::names::{
    is_valid_label_name, is_valid_metric_name, sanitize_label_name, sanitize_metric_name,
};
use engine_gauges::prometheus::{
    Counter, Gauge, GaugeVec, Histogram, IntCounter, IntCounterVec, IntGauge, IntGaugeVec,
};
use engine_gauges::{
    ComponentSnapshot, EngineConfig, EngineMetrics, Error, MetricsRoot, create_metric, labels,
    names::COMPONENT_PREFIX, reference::ComponentGauges, reference::LifecycleGauges,
};
use engine_gauges_tests::expfmt::{self, Page};
use engine_gauges_tests::faults::{ON_PURPOSE, Progress, WATCHDOG, quiet_panics, with_watchdog};
use engine_gauges_tests::names_model;
use engine_gauges_tests::page::{failures, parse, promtool_check, scrape, shorten};
use proptest::prelude::*;

// ================================================================================ 1. load

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

fn run_concurrent_load(progress: Arc<Progress>) -> String {
    let root = MetricsRoot::with_connection_id(0x5eed);
    let ns = root.namespace("dynamo").expect("namespace");
    let component = ns.component("backend").expect("component");
    let endpoint = component.endpoint("generate").expect("endpoint");
    let config = EngineConfig {
        model: "Qwen/Qwen3-0.6B".into(),
        served_model_name: Some("qwen3".into()),
        data_parallel_size: Some(WRITERS as u32 + 1),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint.clone(), &config);
    let gauges = ComponentGauges::new(&metrics, &config.dp_ranks().expect("dp ranks"))
        .expect("component gauges");
    let _lifecycle = LifecycleGauges::new(&metrics, 1.25).expect("lifecycle gauges");
    let own = (0..WRITERS)
        .map(|w| {
            create_metric(
                &endpoint,
                "writer_last_iteration",
                "The last iteration each writer finished.",
                &[("writer", &w.to_string())],
                None,
                None,
            )
            .expect("own gauge")
        })
        .collect();
    let target = Arc::new(LoadTarget {
        gauges,
        own,
        progress: create_metric(
            &component,
            "writer_progress",
            "Each writer's iteration, under a hostile label value.",
            &[],
            None,
            Some(&["writer"]),
        )
        .expect("progress"),
        progress_labels: (0..WRITERS)
            .map(|w| format!("w{w} \"quoted\" back\\slash\nnew line\ttab 日本"))
            .collect(),
        shared: create_metric(
            &endpoint,
            "shared_last_write",
            "The stamp of the last write, by any writer.",
            &[],
            None,
            None,
        )
        .expect("shared"),
        updates: create_metric(
            &endpoint,
            "updates_total",
            "Writer iterations.",
            &[],
            None,
            None,
        )
        .expect("updates"),
        float_updates: create_metric(
            &ns,
            "float_updates_total",
            "Writer iterations, counted in a float counter.",
            &[],
            None,
            None,
        )
        .expect("float updates"),
        per_writer: create_metric(
            &component,
            "writer_updates_total",
            "Writer iterations, by writer.",
            &[],
            None,
            Some(&["writer"]),
        )
        .expect("per writer"),
        inflight: create_metric(
            &endpoint,
            "inflight",
            "Writers between their inc and dec.",
            &[],
            None,
            None,
        )
        .expect("inflight"),
        latency: create_metric(
            &endpoint,
            "op_duration_seconds",
            "A histogram every writer observes into.",
            &[],
            Some(vec![0.1, 0.5, 1.0]),
            None,
        )
        .expect("latency"),
    });
    let callback_runs: IntCounter = create_metric(
        &endpoint,
        "update_callback_runs_total",
        "Runs of the endpoint's update callback.",
        &[],
        None,
        None,
    )
    .expect("callback runs");
    let runs = callback_runs.clone();
    endpoint.registry().add_update_callback(Arc::new(move || {
        runs.inc();
        Ok(())
    }));

    let stop = Arc::new(AtomicBool::new(false));
    let start = Arc::new(Barrier::new(WRITERS + SCRAPERS + 2));

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (target, stop, start, progress) = (
                Arc::clone(&target),
                Arc::clone(&stop),
                Arc::clone(&start),
                Arc::clone(&progress),
            );
            thread::spawn(move || {
                let label = w.to_string();
                start.wait();
                let mut i = 0;
                let mut slowest = Duration::ZERO;
                let mut slow = 0u64;
                while !stop.load(Ordering::Relaxed) && i < MAX_ITERATIONS {
                    i += 1;
                    let began = Instant::now();
                    writer_iteration(&target, w, i, &label);
                    let took = began.elapsed();
                    slowest = slowest.max(took);
                    slow += u64::from(took > Duration::from_millis(1));
                    if i % 1024 == 0 {
                        progress
                            .updates
                            .fetch_add(1024 * WRITES_PER_ITERATION, Ordering::Relaxed);
                    }
                }
                (i, slowest, slow)
            })
        })
        .collect();

    let scrapers: Vec<_> = (0..SCRAPERS)
        .map(|_| {
            let (registry, stop, start, progress) = (
                root.registry().clone(),
                Arc::clone(&stop),
                Arc::clone(&start),
                Arc::clone(&progress),
            );
            thread::spawn(move || {
                let mut report = ScraperReport::default();
                let mut last = HashMap::new();
                start.wait();
                while !stop.load(Ordering::Relaxed) {
                    let began = Instant::now();
                    let text = registry
                        .prometheus_expfmt_combined()
                        .unwrap_or_else(|error| panic!("a scrape under load failed: {error}"));
                    let took = began.elapsed();
                    let page = parse(&text);
                    check_page_under_load(&page, &mut last, &text);
                    report.scrapes += 1;
                    report.bytes += text.len() as u64;
                    report.max_latency = report.max_latency.max(took);
                    report.total_latency += took;
                    progress.scrapes.fetch_add(1, Ordering::Relaxed);
                }
                report
            })
        })
        .collect();

    // Levels (each with a gauge) appear under the namespace while it is being scraped.
    let churn = {
        let (ns, stop, start, progress) = (
            ns.clone(),
            Arc::clone(&stop),
            Arc::clone(&start),
            Arc::clone(&progress),
        );
        thread::spawn(move || {
            start.wait();
            let mut created = 0;
            while !stop.load(Ordering::Relaxed) && created < CHURN_LEVELS {
                let level = ns
                    .component(&format!("churn-{created}"))
                    .and_then(|c| c.endpoint("generate"))
                    .expect("churn level");
                let gauge: IntGauge = create_metric(
                    &level,
                    "churn_level",
                    "A gauge on a level created during the load.",
                    &[],
                    None,
                    None,
                )
                .expect("churn gauge");
                gauge.set(created as i64);
                created += 1;
                progress.levels.fetch_add(1, Ordering::Relaxed);
                thread::sleep(Duration::from_millis(10));
            }
            created
        })
    };

    start.wait();
    let began = Instant::now();
    thread::sleep(LOAD);
    stop.store(true, Ordering::Relaxed);
    let writer_results: Vec<(u64, Duration, u64)> = writers
        .into_iter()
        .map(|w| w.join().expect("a writer panicked"))
        .collect();
    let iterations: Vec<u64> = writer_results.iter().map(|r| r.0).collect();
    let slowest_iteration = writer_results.iter().map(|r| r.1).max().unwrap_or_default();
    let slow_iterations: u64 = writer_results.iter().map(|r| r.2).sum();
    let reports: Vec<ScraperReport> = scrapers
        .into_iter()
        .map(|s| s.join().expect("a scraper panicked"))
        .collect();
    let levels = churn.join().expect("the churn thread panicked");
    let seconds = began.elapsed().as_secs_f64();

    // After the writers stop: every owned series shows its final value, the shared ones show one
    // of the values written last, counters show every increment.
    let (text, page) = scrape(root.registry());
    let expect = |name: &str, label: &str, value: &str, want: f64| {
        let got = page.value_where(name, label, value);
        assert_eq!(got, Some(want), "{name}{{{label}={value:?}}}");
    };
    for (w, &i) in iterations.iter().enumerate() {
        assert!(i > 0, "writer {w} never ran");
        for rank in [w as u32, UNDECLARED + w as u32] {
            let rank = rank.to_string();
            expect("dynamo_component_total_blocks", "dp_rank", &rank, i as f64);
            expect(
                "dynamo_component_gpu_cache_usage_percent",
                "dp_rank",
                &rank,
                f64::from(usage_of(i)),
            );
            expect(
                "dynamo_component_kv_cache_hit_rate",
                "dp_rank",
                &rank,
                f64::from(hit_rate_of(i)),
            );
        }
        expect(
            "dynamo_component_writer_last_iteration",
            "writer",
            &w.to_string(),
            i as f64,
        );
        expect(
            "dynamo_component_writer_progress",
            "writer",
            &target.progress_labels[w],
            i as f64,
        );
        expect(
            "dynamo_component_writer_updates_total",
            "writer",
            &w.to_string(),
            i as f64,
        );
    }
    let last_stamps: Vec<f64> = iterations
        .iter()
        .enumerate()
        .map(|(w, &i)| stamp(w, i) as f64)
        .collect();
    let shared = page
        .samples("dynamo_component_shared_last_write")
        .next()
        .expect("shared gauge")
        .value;
    assert!(
        last_stamps.contains(&shared),
        "the shared gauge shows {shared}, not one of the last writes {last_stamps:?}"
    );
    let shared_rank = page
        .value_where(
            "dynamo_component_total_blocks",
            "dp_rank",
            &SHARED_RANK.to_string(),
        )
        .expect("shared rank");
    assert!(
        last_stamps.contains(&shared_rank),
        "the shared rank shows {shared_rank}, not one of the last writes {last_stamps:?}"
    );
    let total: u64 = iterations.iter().sum();
    let single = |name: &str| page.samples(name).next().map(|s| s.value);
    assert_eq!(single("dynamo_component_updates_total"), Some(total as f64));
    assert_eq!(
        single("dynamo_component_float_updates_total"),
        Some(total as f64)
    );
    assert_eq!(
        single("dynamo_component_op_duration_seconds_count"),
        Some(total as f64)
    );
    assert_eq!(single("dynamo_component_inflight"), Some(0.0));
    let scrapes: u64 = reports.iter().map(|r| r.scrapes).sum();
    assert!(
        reports.iter().all(|r| r.scrapes > 0),
        "a scraper never finished a scrape"
    );
    // Concurrent scrapes share renders: the update callback ran once per render, so at least
    // once (the final scrape's) and never more often than the scrapes.
    let runs = single("dynamo_component_update_callback_runs_total").unwrap_or_default();
    assert!(
        (1.0..=(scrapes + 1) as f64).contains(&runs),
        "the update callback ran {runs} times for {} scrapes",
        scrapes + 1
    );
    assert_eq!(
        page.samples("dynamo_component_churn_level").count() as u64,
        levels
    );
    assert!(
        failures(&page).is_empty(),
        "the load met scrape failures: {:?}",
        failures(&page)
    );
    promtool_check(&text);

    let max_latency = reports
        .iter()
        .map(|r| r.max_latency)
        .max()
        .unwrap_or_default();
    let mean_latency = reports.iter().map(|r| r.total_latency).sum::<Duration>() / scrapes as u32;
    let bytes: u64 = reports.iter().map(|r| r.bytes).sum();
    format!(
        "concurrent load: {WRITERS} writers + {SCRAPERS} scrapers + 1 level-creating thread for \
         {seconds:.2} s: {total} writer iterations = {writes} metric writes ({rate:.1} M writes/s), \
         {scrapes} scrapes ({scrape_rate:.0}/s, {mb:.1} MB parsed, mean {mean:.2?}, max \
         {max_latency:.2?}), {levels} levels created; slowest writer iteration \
         {slowest_iteration:.2?}, {slow_iterations} iterations over 1 ms; final page: {series} \
         samples; lost: 0 updates, 0 increments, 0 observations, 0 scrapes",
        writes = total * WRITES_PER_ITERATION,
        rate = (total * WRITES_PER_ITERATION) as f64 / seconds / 1e6,
        scrape_rate = scrapes as f64 / seconds,
        mb = bytes as f64 / 1e6,
        mean = mean_latency,
        series = page.sample_count(),
    )
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

/// Registering the same gauge set from many threads at once: exactly one wins.
#[test]
fn concurrent_registrations_of_one_gauge_set_let_exactly_one_win() {
    let progress = Arc::new(Progress::default());
    with_watchdog("concurrent registration", WATCHDOG, progress, || {
        let endpoint = MetricsRoot::with_connection_id(7)
            .namespace("dynamo")
            .and_then(|ns| ns.component("backend"))
            .and_then(|c| c.endpoint("generate"))
            .expect("endpoint");
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

// ======================================================================= 2. hostile values

// ======================================================================== 4. failing parts

/// A bridged registry's text, as a text callback returns it.
const BRIDGED: &str = "# HELP bridged_up Whether the bridged registry answered.\n# TYPE bridged_up gauge\nbridged_up 1\n";

/// Failing and panicking callbacks at several levels, scraped from two threads: each failure is
/// counted exactly once per scrape that met it, and everything else is served every time.
#[test]
fn failing_callbacks_under_concurrent_scrapes_are_counted_exactly() {
    quiet_panics();
    const SCRAPES_PER_THREAD: u64 = 100;
    let root = MetricsRoot::with_connection_id(0xf);
    let component = root
        .namespace("dynamo")
        .and_then(|ns| ns.component("backend"))
        .unwrap();
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

// ============================================================================= 5. properties

fn proptest_config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Strings rich in the characters the rules care about.
fn tricky_string(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<char>(),
            3 => prop::char::range('a', 'z'),
            1 => prop::char::range('0', '9'),
            2 => prop::sample::select(vec![
                '"', '\\', '\n', '\t', '\r', '_', ':', '-', '.', ' ', '{', '}', '=', ',', '#', 'é',
                '日', '\u{0}', '🦀',
            ]),
        ],
        0..max,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Label names: mostly notable ones, and some arbitrary strings.
fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "a", "_", "a1", "dp_rank", "model", "le", "quantile", "__x", "__name__", "worker_id",
            "dynamo_namespace", "dynamo_endpoint", "1a", "a-b", "", "é",
        ])
        .prop_map(str::to_owned),
        1 => tricky_string(8),
    ]
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        1 => prop::sample::select(vec![
            f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.0, f64::MAX, f64::MIN, 5e-324,
        ]),
    ]
}

fn same_value(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

/// Whether `create_metric` should accept `label` as a caller's label on a gauge.
fn label_allowed(label: &str) -> bool {
    expfmt::valid_label_name(label)
        && !label.starts_with("__")
        && !labels::HIERARCHY_INJECTED.contains(&label)
        && label != "quantile"
        && label != "le"
        // promtool's camelCase rule: a lowercase letter followed by an uppercase one.
        && !label
            .as_bytes()
            .windows(2)
            .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
}

proptest! {
    #![proptest_config(proptest_config())]

    /// Sanitizing a metric name follows the rule exactly, and its output always validates.
    #[test]
    fn metric_name_sanitizing_follows_the_rule(name in tricky_string(24)) {
        let got = sanitize_metric_name(&name);
        let want = names_model::metric_name(&name);
        prop_assert_eq!(got.as_ref().ok(), want.as_ref());
        match got {
            Ok(clean) => {
                prop_assert!(is_valid_metric_name(&clean));
                let again = sanitize_metric_name(&clean);
                prop_assert_eq!(again.as_deref(), Ok(clean.as_str()));
                if is_valid_metric_name(&name) && !name.starts_with(':') {
                    prop_assert_eq!(&clean, &name);
                }
            }
            Err(reason) => prop_assert!(!reason.is_empty()),
        }
    }

    /// Sanitizing a level name follows the rule exactly, its output always validates and never
    /// starts with the reserved `__`.
    #[test]
    fn level_name_sanitizing_follows_the_rule(name in tricky_string(24)) {
        let got = sanitize_label_name(&name);
        let want = names_model::level_label_value(&name);
        prop_assert_eq!(got.as_ref().ok(), want.as_ref());
        if let Ok(clean) = got {
            prop_assert!(is_valid_label_name(&clean));
            prop_assert!(!clean.starts_with("__"));
            let again = sanitize_label_name(&clean);
            prop_assert_eq!(again.as_deref(), Ok(clean.as_str()));
        }
    }

    /// A level whose name is accepted can carry metrics; its labels follow the rule.
    #[test]
    fn accepted_levels_label_their_metrics_by_the_rule(
        outer in tricky_string(12),
        inner in tricky_string(12),
        component in tricky_string(12),
        endpoint in tricky_string(12),
    ) {
        let root = MetricsRoot::with_connection_id(0x77);
        let Ok(ns) = root.namespace(&outer) else {
            prop_assert!(names_model::level_label_value(&outer).is_none());
            return Ok(());
        };
        let ns = match ns.namespace(&inner) {
            Ok(nested) => nested,
            Err(_) => {
                prop_assert!(names_model::level_label_value(&inner).is_none());
                ns
            }
        };
        let levels = ns.component(&component).and_then(|c| c.endpoint(&endpoint).map(|e| (c, e)));
        let Ok((_, level)) = levels else {
            prop_assert!(
                names_model::level_label_value(&component).is_none()
                    || names_model::level_label_value(&endpoint).is_none()
            );
            return Ok(());
        };
        let g: Gauge = create_metric(&level, "g", "A gauge.", &[], None, None)
            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
        g.set(1.0);
        let (_, page) = scrape(root.registry());
        let sample = page.samples("dynamo_component_g").next().expect("the gauge");
        let want = [
            (labels::NAMESPACE, names_model::level_label_value(ns.path())),
            (labels::COMPONENT, names_model::level_label_value(&component)),
            (labels::ENDPOINT, names_model::level_label_value(&endpoint)),
        ];
        for (label, value) in &want {
            prop_assert_eq!(sample.label(label), value.as_deref(), "{}", label);
        }
        prop_assert_eq!(sample.label(labels::WORKER_ID), Some("77"));
    }

    /// Any label values and any value go through the encoder and come back exactly.
    #[test]
    fn any_label_value_round_trips(
        first in tricky_string(40),
        second in any::<String>(),
        help in tricky_string(40),
        value in any_value(),
    ) {
        let root = MetricsRoot::new();
        let help = format!("h{help}");
        let vec: GaugeVec =
            create_metric(&root, "round_trip", &help, &[("constant", &first)], None, Some(&["first", "second"]))
                .unwrap();
        vec.with_label_values(&[first.as_str(), second.as_str()]).set(value);
        let (_, page) = scrape(root.registry());
        let family = page.family("dynamo_component_round_trip").expect("the family");
        prop_assert_eq!(family.help.as_deref(), Some(help.as_str()));
        prop_assert_eq!(family.samples.len(), 1);
        let sample = &family.samples[0];
        prop_assert_eq!(sample.label("first"), Some(first.as_str()));
        prop_assert_eq!(sample.label("constant"), Some(first.as_str()));
        prop_assert_eq!(sample.label("second"), Some(second.as_str()));
        prop_assert!(same_value(sample.value, value), "{} != {}", sample.value, value);
    }

    /// `create_metric` never panics: it accepts exactly the inputs the rules allow (and then the
    /// page shows the metric), and otherwise leaves the page as it was.
    #[test]
    fn create_metric_accepts_exactly_what_the_rules_allow(
        name in tricky_string(12),
        help in tricky_string(6),
        key in label_name(),
        const_value in tricky_string(12),
        variable in label_name(),
    ) {
        let root = MetricsRoot::with_connection_id(3);
        let seed: Gauge = create_metric(&root, "seed", "Seed.", &[], None, None).unwrap();
        seed.set(1.0);
        let (before, _) = scrape(root.registry());
        let result = create_metric::<GaugeVec, _>(
            &root, &name, &help, &[(key.as_str(), const_value.as_str())], None, Some(&[variable.as_str()]),
        );
        // The naming conventions are the rules crate's, checked against promtool in `lint.rs`.
        let conventional = names_model::metric_name(&name).is_some_and(|short| {
            engine_gauges_rules::check_metric_name(
                &format!("{COMPONENT_PREFIX}_{short}"),
                engine_gauges_rules::MetricType::Gauge,
            )
            .is_ok()
        });
        let allowed = conventional
            && !help.trim().is_empty()
            && label_allowed(&key)
            && label_allowed(&variable)
            && key != variable
            && names_model::metric_name(&name).as_deref() != Some("seed");
        prop_assert_eq!(result.is_ok(), allowed, "{:?}", result);
        match result {
            Ok(vec) => {
                vec.with_label_values(&["v"]).set(2.0);
                let (_, page) = scrape(root.registry());
                let full = format!("{COMPONENT_PREFIX}_{}", names_model::metric_name(&name).unwrap());
                let sample = page.samples(&full).next().expect("the new metric");
                prop_assert_eq!(sample.label(&key), Some(const_value.as_str()));
                prop_assert_eq!(sample.label(&variable), Some("v"));
                prop_assert_eq!(sample.label("worker_id"), Some("3"));
            }
            Err(_) => {
                let (after, _) = scrape(root.registry());
                prop_assert_eq!(before, after);
            }
        }
    }
}
