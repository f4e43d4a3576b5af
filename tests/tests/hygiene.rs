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

/// Every public type a worker holds can be shared across threads and printed: checked when this
/// file compiles, so a type that loses `Send`, `Sync` or `Debug` fails the build of the tests.
const _: () = {
    use engine_gauges::error::{LevelErrorKind, MetricErrorKind, ScrapeErrorKind, ServerErrorKind};
    use engine_gauges::http::{MetricsServer, ServerOptions};
    use engine_gauges::metric::{HistogramTimer, MetricDescriptor, MetricKind, Series};
    use engine_gauges::prometheus::{Gauge, IntCounter};
    use engine_gauges::scrape::{Page, ScrapeOptions};
    use engine_gauges::{
        BridgeLabels, Component, Endpoint, EngineConfig, Error, Family, LabelValue, LevelGuard,
        MetricsRegistry, MetricsRoot, Namespace, PerRank,
    };

    #[derive(LabelValue, Debug)]
    enum Outcome {
        Ok,
    }

    const fn check<T: Send + Sync + std::fmt::Debug + ?Sized>() {}
    check::<MetricsRegistry>();
    check::<MetricsRoot>();
    check::<Namespace>();
    check::<Component>();
    check::<Endpoint>();
    check::<LevelGuard>();
    check::<EngineMetrics>();
    check::<EngineConfig>();
    check::<ComponentSnapshot>();
    check::<BridgeLabels>();
    check::<PerRank<Gauge>>();
    check::<Family<Outcome, IntCounter>>();
    check::<Series<'static, Gauge>>();
    check::<HistogramTimer<'static>>();
    check::<MetricDescriptor>();
    check::<MetricKind>();
    check::<Page>();
    check::<ScrapeOptions>();
    check::<MetricsServer>();
    check::<ServerOptions>();
    check::<Error>();
    check::<MetricErrorKind>();
    check::<LevelErrorKind>();
    check::<ScrapeErrorKind>();
    check::<ServerErrorKind>();
    check::<TestHierarchy>();
};
