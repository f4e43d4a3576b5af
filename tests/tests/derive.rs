//! `#[derive(EngineGauges)]` and the reference gauge sets: registration, golden pages, updates.

use engine_gauges::error::MetricErrorKind;
use engine_gauges::prometheus::{Gauge, GaugeVec, IntGauge, IntGaugeVec};
use engine_gauges::{
    ComponentSnapshot, EngineConfig, EngineGauges, EngineMetrics, Error, MetricsRoot, PerRank,
    create_metric, labels, metric::MetricKind, reference::ComponentGauges,
    reference::LifecycleGauges, testing::TestHierarchy,
};
use engine_gauges_tests::fixture::{self, NamedLevel};
use engine_gauges_tests::page::scrape_text;

/// A worker's endpoint under root (connection id 0x2a) → `dynamo` → `backend` → `generate`.
fn engine(config: &EngineConfig) -> EngineMetrics {
    let endpoint = fixture::generate_endpoint(&MetricsRoot::with_connection_id(0x2a));
    EngineMetrics::with_engine_config(endpoint, config)
}

fn qwen() -> EngineConfig {
    EngineConfig {
        model: "/models/qwen".into(),
        served_model_name: Some("qwen3".into()),
        ..Default::default()
    }
}

const LABELS: &str = "dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",model=\"/models/qwen\",model_name=\"qwen3\",worker_id=\"2a\"";

#[test]
fn lifecycle_gauges_golden_page() {
    let metrics = engine(&qwen());
    let lifecycle = LifecycleGauges::new(&metrics, 12.5).unwrap();
    lifecycle.observe_drain_time(0.25);
    lifecycle.observe_cleanup_time(1.5);
    assert_eq!(lifecycle.model_load_time_seconds(), 12.5);
    let expected = format!(
        "# HELP dynamo_component_cleanup_time_seconds Time spent releasing engine resources during shutdown. Set by the framework once after engine.cleanup() returns.
# TYPE dynamo_component_cleanup_time_seconds gauge
dynamo_component_cleanup_time_seconds{{{LABELS}}} 1.5
# HELP dynamo_component_drain_time_seconds Time spent draining in-flight work before cleanup. Stays at 0 for engines without a drain hook.
# TYPE dynamo_component_drain_time_seconds gauge
dynamo_component_drain_time_seconds{{{LABELS}}} 0.25
# HELP dynamo_component_model_load_time_seconds Time engine.start() took to return. Set once at Worker setup.
# TYPE dynamo_component_model_load_time_seconds gauge
dynamo_component_model_load_time_seconds{{{LABELS}}} 12.5
"
    );
    assert_eq!(scrape_text(metrics.registry()), expected);
}

/// The reference's `lifecycle_gauges_register_and_observe`, against a positional hierarchy.
#[test]
fn lifecycle_gauges_register_and_observe() {
    let endpoint = NamedLevel::new("generate", &["drt", "dyn", "backend"]);
    let config = EngineConfig {
        model: "test-model".to_string(),
        ..Default::default()
    };
    let metrics = EngineMetrics::with_engine_config(endpoint, &config);
    assert_eq!(metrics.auto_label(labels::NAMESPACE), Some("dyn"));
    assert_eq!(metrics.auto_label(labels::COMPONENT), Some("backend"));
    assert_eq!(metrics.auto_label(labels::ENDPOINT), Some("generate"));

    let lifecycle = LifecycleGauges::new(&metrics, 0.0).expect("construct lifecycle gauges");
    lifecycle.observe_cleanup_time(1.5);
    lifecycle.observe_drain_time(0.25);
    let text = scrape_text(metrics.registry());
    let data_line = |gauge: &str| {
        text.lines()
            .find(|l| l.starts_with(gauge) && !l.starts_with('#'))
            .unwrap_or_else(|| panic!("{gauge} data row missing: {text}"))
    };
    assert!(data_line("dynamo_component_cleanup_time_seconds").ends_with(" 1.5"));
    assert!(data_line("dynamo_component_drain_time_seconds").ends_with(" 0.25"));
    assert_eq!(
        data_line("dynamo_component_model_load_time_seconds"),
        "dynamo_component_model_load_time_seconds{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dyn\",model=\"test-model\",model_name=\"test-model\"} 0"
    );
}

#[test]
fn component_gauges_golden_page_and_updates() {
    let metrics = engine(&qwen());
    let gauges = ComponentGauges::new(&metrics, &[0, 1]).unwrap();
    let family = |name: &str, help: &str, rows: &[(u32, &str)]| {
        let mut s = format!(
            "# HELP dynamo_component_{name} {help}\n# TYPE dynamo_component_{name} gauge\n"
        );
        for (rank, value) in rows {
            s.push_str(&format!(
                "dynamo_component_{name}{{dp_rank=\"{rank}\",{LABELS}}} {value}\n"
            ));
        }
        s
    };
    const USAGE: &str = "GPU cache usage as a percentage (0.0-1.0).";
    const HIT: &str = "Prefix cache hit rate (0.0-1.0). Portable across engines.";
    const BLOCKS: &str = "Total number of KV cache blocks available on the worker.";

    // Seeded at 0, hit rate absent.
    assert_eq!(
        scrape_text(metrics.registry()),
        family("gpu_cache_usage_percent", USAGE, &[(0, "0"), (1, "0")])
            + &family("total_blocks", BLOCKS, &[(0, "0"), (1, "0")])
    );

    // `None` leaves the hit rate absent; u64::MAX saturates instead of wrapping to -1.
    gauges.update(&ComponentSnapshot {
        kv_used_blocks: 10,
        kv_total_blocks: u64::MAX,
        gpu_cache_usage: 0.5,
        kv_cache_hit_rate: None,
        dp_rank: 1,
    });
    assert_eq!(gauges.total_blocks.rank(1).get(), i64::MAX);
    // `Some(0.0)` writes; an undeclared rank works too.
    gauges.update(&ComponentSnapshot {
        kv_total_blocks: 100,
        gpu_cache_usage: 0.25,
        kv_cache_hit_rate: Some(0.0),
        dp_rank: 7,
        ..Default::default()
    });
    assert_eq!(
        scrape_text(metrics.registry()),
        family(
            "gpu_cache_usage_percent",
            USAGE,
            &[(0, "0"), (1, "0.5"), (7, "0.25")]
        ) + &family("kv_cache_hit_rate", HIT, &[(7, "0")])
            + &family(
                "total_blocks",
                BLOCKS,
                &[(0, "0"), (1, "9223372036854776000"), (7, "100")]
            )
    );
}

#[test]
fn unseeded_ranks_appear_with_their_first_touch() {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let gauges = ComponentGauges::new(&metrics, &[4, 6]).unwrap();
    assert!(!scrape_text(metrics.registry()).contains("kv_cache_hit_rate"));
    gauges.kv_cache_hit_rate.rank(6).set(0.5);
    let text = scrape_text(metrics.registry());
    assert!(
        text.contains("dynamo_component_kv_cache_hit_rate{dp_rank=\"6\"} 0.5\n"),
        "{text}"
    );
    assert!(!text.contains("kv_cache_hit_rate{dp_rank=\"4\"}"), "{text}");
    // Non-contiguous declared ranks: 4 and 6 are seeded, 5 (in between) is not.
    assert!(text.contains("dynamo_component_total_blocks{dp_rank=\"4\"} 0\n"));
    assert!(text.contains("dynamo_component_total_blocks{dp_rank=\"6\"} 0\n"));
    assert!(!text.contains("dynamo_component_total_blocks{dp_rank=\"5\"}"));
    assert_eq!(gauges.total_blocks.declared_ranks(), [4, 6]);
    // Rank 5 lies in the table: its first write creates and caches it.
    gauges.total_blocks.rank(5).set(3);
    gauges.total_blocks.set(5, 4);
    assert!(
        scrape_text(metrics.registry())
            .contains("dynamo_component_total_blocks{dp_rank=\"5\"} 4\n")
    );
}

#[derive(Debug, EngineGauges)]
#[gauges(snapshot = ComponentSnapshot, const_labels(engine = "mocker", tier = "gold"), prefix = "llm")]
struct Custom {
    /// Blocks in use.
    #[gauge(from = kv_used_blocks)]
    used_blocks: IntGauge,
    #[gauge(help = "Cache usage by rank.", from = gpu_cache_usage, name = "cache_usage")]
    usage: PerRank<Gauge>,
    /// Requests waiting,
    /// by adapter.
    #[gauge(labels("lora_adapter", "priority"))]
    waiting: IntGaugeVec,
    /// Temperature.
    #[gauge(labels("sensor"))]
    temperature: GaugeVec,
}

#[test]
fn custom_set_golden_page() {
    let metrics = engine(&qwen());
    let custom = Custom::register(&metrics, &[3]).unwrap();
    custom.update(&ComponentSnapshot {
        kv_used_blocks: 17,
        gpu_cache_usage: 0.75,
        dp_rank: 3,
        ..Default::default()
    });
    custom.waiting.with_label_values(&["base", "high"]).set(2);
    custom.temperature.with_label_values(&["gpu0"]).set(61.5);
    let consts = "dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",engine=\"mocker\",model=\"/models/qwen\",model_name=\"qwen3\"";
    let expected = format!(
        "# HELP llm_cache_usage Cache usage by rank.
# TYPE llm_cache_usage gauge
llm_cache_usage{{dp_rank=\"3\",{consts},tier=\"gold\",worker_id=\"2a\"}} 0.75
# HELP llm_temperature Temperature.
# TYPE llm_temperature gauge
llm_temperature{{{consts},sensor=\"gpu0\",tier=\"gold\",worker_id=\"2a\"}} 61.5
# HELP llm_used_blocks Blocks in use.
# TYPE llm_used_blocks gauge
llm_used_blocks{{{consts},tier=\"gold\",worker_id=\"2a\"}} 17
# HELP llm_waiting Requests waiting, by adapter.
# TYPE llm_waiting gauge
llm_waiting{{dynamo_component=\"backend\",dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",engine=\"mocker\",lora_adapter=\"base\",model=\"/models/qwen\",model_name=\"qwen3\",priority=\"high\",tier=\"gold\",worker_id=\"2a\"}} 2
"
    );
    assert_eq!(scrape_text(metrics.registry()), expected);
}

#[test]
fn descriptors_describe_every_metric() {
    let d = Custom::DESCRIPTORS;
    assert_eq!(d.len(), 4);
    assert_eq!(d[0].name, "llm_used_blocks");
    assert_eq!(d[0].kind, MetricKind::IntGauge);
    assert_eq!(d[0].field, "used_blocks");
    assert_eq!(d[1].name, "llm_cache_usage");
    assert_eq!(d[1].short_name, "cache_usage");
    assert_eq!(d[1].prefix, "llm");
    assert_eq!(d[1].kind, MetricKind::GaugeVec);
    assert!(d[1].per_rank && d[1].seeded);
    assert_eq!(d[1].variable_labels, ["dp_rank"]);
    assert_eq!(d[2].help, "Requests waiting, by adapter.");
    assert_eq!(d[2].variable_labels, ["lora_adapter", "priority"]);
    assert_eq!(d[2].const_labels, [("engine", "mocker"), ("tier", "gold")]);
    assert_eq!(d[2].injected_labels, labels::RUNTIME_INJECTED);
    assert!(d[0].line > 0 && d[1].line > d[0].line, "{d:?}");
    let hit = &ComponentGauges::DESCRIPTORS[2];
    assert_eq!(hit.name, "dynamo_component_kv_cache_hit_rate");
    assert!(hit.per_rank && !hit.seeded);
}

#[test]
fn registering_twice_is_an_error_and_leaves_the_page_alone() {
    let metrics = engine(&qwen());
    let first = ComponentGauges::new(&metrics, &[0]).unwrap();
    first.total_blocks.rank(0).set(5);
    let before = scrape_text(metrics.registry());
    match ComponentGauges::new(&metrics, &[0, 1]) {
        Err(Error::Metric {
            metric,
            kind: MetricErrorKind::AlreadyRegistered,
        }) => {
            assert_eq!(metric, "dynamo_component_total_blocks")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(scrape_text(metrics.registry()), before);
}

#[test]
fn a_failed_registration_rolls_back_the_fields_before_it() {
    let metrics = engine(&qwen());
    // Something else already owns `..._kv_cache_hit_rate` with other labels: the third field
    // fails, so the first two must not stay registered.
    let squatter: Gauge = create_metric(
        metrics.hierarchy(),
        "kv_cache_hit_rate",
        "Prefix cache hit rate (0.0-1.0). Portable across engines.",
        &[],
        None,
        None,
    )
    .unwrap();
    squatter.set(1.0);
    let before = scrape_text(metrics.registry());
    let err = ComponentGauges::new(&metrics, &[0, 1]).unwrap_err();
    assert!(
        matches!(&err, Error::Metric { metric, kind: MetricErrorKind::AlreadyRegistered } if metric == "dynamo_component_kv_cache_hit_rate"),
        "{err:?}"
    );
    assert_eq!(
        scrape_text(metrics.registry()),
        before,
        "the fields before the failure stayed"
    );
    // The rollback freed the names: a set without the clash registers.
    LifecycleGauges::new(&metrics, 1.0).unwrap();
}

#[test]
fn a_rank_span_too_wide_is_refused_before_anything_registers() {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let err = ComponentGauges::new(&metrics, &[0, 1 << 20]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Metric {
                kind: MetricErrorKind::RankSpanTooLarge {
                    min: 0,
                    max: 1_048_576,
                    ..
                },
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(scrape_text(metrics.registry()), "");
    // Repeated ranks are fine.
    let g = ComponentGauges::new(&metrics, &[2, 2, 3]).unwrap();
    assert_eq!(g.total_blocks.declared_ranks(), [2, 3]);
}

#[test]
fn generated_sets_are_send_sync_and_debug() {
    fn send_sync<T: Send + Sync + EngineGauges>() {}
    send_sync::<ComponentGauges>();
    send_sync::<LifecycleGauges>();
    send_sync::<Custom>();

    // Shared with another thread, a set is written there and the write is on the page here.
    let metrics = engine(&qwen());
    let custom = std::sync::Arc::new(Custom::register(&metrics, &[0, 1]).unwrap());
    let writer = std::sync::Arc::clone(&custom);
    std::thread::spawn(move || writer.usage.set(1, 0.5))
        .join()
        .unwrap();
    assert!(
        scrape_text(metrics.registry()).contains("llm_cache_usage{dp_rank=\"1\","),
        "{}",
        scrape_text(metrics.registry())
    );

    // Debug shows every field by name, and a per-rank field's ranks.
    let debug = format!("{custom:?}");
    for field in ["used_blocks", "usage", "waiting", "temperature"] {
        assert!(
            debug.contains(&format!("{field}:")),
            "{field} missing from {debug}"
        );
    }
    let usage = format!("{:?}", custom.usage);
    assert!(usage.contains("PerRank"), "{usage}");
    let descriptor = format!("{:?}", Custom::DESCRIPTORS[0]);
    assert!(descriptor.contains("llm_used_blocks"), "{descriptor}");
}
