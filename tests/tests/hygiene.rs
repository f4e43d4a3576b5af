//! The public surface's hygiene: the generated code resolves every name itself (it works next to
//! user items that shadow the prelude, and in a module without the prelude), and the public
//! types are `Send`, `Sync` and `Debug`.

#![allow(dead_code, non_camel_case_types, unused_imports)]

mod shadowed {
    // Items that shadow the prelude and primitive-looking names the generated code must not use.
    pub(crate) struct Result;
    pub(crate) struct Ok;
    pub(crate) struct Err;
    pub(crate) struct Option;
    pub(crate) struct Some;
    pub(crate) struct None;
    pub(crate) struct Vec;
    pub(crate) struct String;
    pub(crate) struct Box;
    pub(crate) struct u32;
    pub(crate) mod core {}
    pub(crate) mod std {}

    use engine_gauges::prometheus::{Gauge, IntGaugeVec};
    use engine_gauges::{ComponentSnapshot, EngineGauges, PerRank};

    #[derive(EngineGauges)]
    #[gauges(snapshot = ComponentSnapshot)]
    pub(crate) struct Shadowed {
        /// Usage.
        #[gauge(from = gpu_cache_usage)]
        pub(crate) usage: PerRank<Gauge>,
        /// Hit rate.
        #[gauge(from = kv_cache_hit_rate)]
        pub(crate) hit: Gauge,
        /// Waiting.
        #[gauge(labels("adapter"))]
        pub(crate) waiting: IntGaugeVec,
    }
}

#[no_implicit_prelude]
mod no_prelude {
    use ::engine_gauges::prometheus::{Gauge, IntGauge};
    use ::engine_gauges::{ComponentSnapshot, EngineGauges, PerRank};

    #[derive(EngineGauges)]
    #[gauges(snapshot = ComponentSnapshot, const_labels(kind = "bare"))]
    pub(crate) struct Bare {
        /// Blocks.
        #[gauge(from = kv_total_blocks)]
        pub(crate) blocks: PerRank<IntGauge>,
        #[gauge(help = "Usage.", from = gpu_cache_usage)]
        pub(crate) usage: Gauge,
    }
}

use engine_gauges::{ComponentSnapshot, EngineGauges, EngineMetrics, testing::TestHierarchy};

#[test]
fn sets_next_to_shadowed_prelude_names_work() {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = shadowed::Shadowed::register(&metrics, &[0]).unwrap();
    set.update(&ComponentSnapshot {
        gpu_cache_usage: 0.5,
        kv_cache_hit_rate: Some(0.25),
        ..Default::default()
    });
    assert_eq!(set.usage.rank(0).get(), 0.5);
    assert_eq!(set.hit.get(), 0.25);
}

#[test]
fn sets_without_the_prelude_work() {
    let metrics = EngineMetrics::from_hierarchy(TestHierarchy::new());
    let set = no_prelude::Bare::register(&metrics, &[1]).unwrap();
    set.update(&ComponentSnapshot {
        kv_total_blocks: 8,
        gpu_cache_usage: 0.75,
        dp_rank: 1,
        ..Default::default()
    });
    assert_eq!(set.blocks.rank(1).get(), 8);
    let page = metrics.registry().prometheus_expfmt_combined().unwrap();
    assert!(
        page.contains("dynamo_component_usage{kind=\"bare\"} 0.75\n"),
        "{page}"
    );
}

#[test]
fn public_types_are_send_sync_and_debug() {
    fn check<T: Send + Sync + std::fmt::Debug>() {}
    check::<engine_gauges::MetricsRegistry>();
    check::<engine_gauges::MetricsRoot>();
    check::<engine_gauges::Namespace>();
    check::<engine_gauges::Component>();
    check::<engine_gauges::Endpoint>();
    check::<EngineMetrics>();
    check::<engine_gauges::EngineConfig>();
    check::<ComponentSnapshot>();
    check::<engine_gauges::Error>();
    check::<TestHierarchy>();
    check::<engine_gauges::metric::MetricKind>();
}
