//! Prometheus gauges for LLM engine workers, declared once and checked at compile time.
//!
//! A worker lives in a hierarchy (root → namespace → component → endpoint) and every metric it
//! exports carries that position as labels (`dynamo_namespace`, `dynamo_component`,
//! `dynamo_endpoint`, `worker_id`), plus the engine's `model` and `model_name`. This crate builds
//! the hierarchy ([`MetricsRoot`] and its levels), creates metrics with those labels injected
//! ([`create_metric`]), renders a level and everything below it as one page
//! ([`MetricsRegistry::prometheus_expfmt_combined`]), and hands engines an [`EngineMetrics`]
//! handle carrying their auto-labels. Foreign `prometheus` collectors and registries, and
//! exposition text, can be bridged into the page ([`EngineMetrics::add_foreign_registry`]) and
//! cannot break it. With the `http` feature the page is served (`MetricsServer`) or mounted in
//! a server you run (`metrics_response`; `axum::metrics_route` with the `axum` feature), with
//! bounded scrapes, connections and memory.
//!
//! ```
//! use engine_gauges::{EngineConfig, EngineMetrics, MetricsRoot, create_metric};
//! use engine_gauges::prometheus::Gauge;
//!
//! let endpoint = MetricsRoot::with_connection_id(0x1f)
//!     .namespace("dynamo")?
//!     .component("backend")?
//!     .endpoint("generate")?;
//! let config = EngineConfig { model: "Qwen/Qwen3-0.6B".into(), ..Default::default() };
//! let metrics = EngineMetrics::with_engine_config(endpoint.clone(), &config);
//!
//! let load: Gauge = create_metric(
//!     &endpoint,
//!     "model_load_time_seconds",
//!     "Time engine.start() took to return.",
//!     &metrics.engine_const_labels(),
//!     None,
//!     None,
//! )?;
//! load.set(2.5);
//!
//! let page = endpoint.registry().prometheus_expfmt_combined()?;
//! assert!(page.ends_with(
//!     "dynamo_component_model_load_time_seconds{dynamo_component=\"backend\",\
//!      dynamo_endpoint=\"generate\",dynamo_namespace=\"dynamo\",model=\"Qwen/Qwen3-0.6B\",\
//!      model_name=\"Qwen/Qwen3-0.6B\",worker_id=\"1f\"} 2.5\n"
//! ));
//! # Ok::<(), engine_gauges::Error>(())
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(clippy::print_stdout, clippy::print_stderr)]
#![warn(missing_docs)]
// Pedantic lints hold the library's code; unit tests (exact float assertions among them) are
// exempt.
#![cfg_attr(not(test), warn(clippy::pedantic))]
// Allowed pedantic lints, each for a reason that holds across the crate:
// - `must_use_candidate`: getters and constructors are used for their value by construction;
//   marking every one adds noise without catching a real mistake.
// - `cast_precision_loss`: Prometheus values are `f64`; integer counters and gauges are rendered
//   through `f64` on purpose, as prometheus's own encoder does.
// - `module_name_repetitions`: names such as `MetricsRegistry` read well where users import them.
// - `cast_possible_truncation`, `cast_sign_loss`, `cast_possible_wrap`: the store keeps every
//   value as `u64` bits (an `i64` in two's complement) and numbers rows with `u32`s bounded by
//   `MAX_TABLE_SERIES`; its casts reinterpret bits or are bounded where the table is built.
#![allow(
    clippy::must_use_candidate,
    clippy::cast_precision_loss,
    clippy::module_name_repetitions,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_possible_wrap
)]

// The derive's generated code names this crate `::engine_gauges`, inside it too.
extern crate self as engine_gauges;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod buckets;
mod engine;
pub mod error;
mod hierarchy;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
pub mod labels;
pub mod metric;
pub mod names;
pub mod reference;
pub mod scrape;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use prometheus;

pub use engine::{BridgeLabels, ComponentSnapshot, EngineConfig, EngineMetrics};
#[doc(inline)]
pub use error::Error;
pub use hierarchy::MetricsHierarchy;
pub use hierarchy::levels::{Component, Endpoint, LevelGuard, MetricsRoot, Namespace};
pub use hierarchy::registry::MetricsRegistry;
pub use metric::create::{CreateMetric, create_metric, create_metric_with_prefix};
pub use metric::family::{Family, LabelValue};
pub use metric::gauges::EngineGauges;
pub use metric::per_rank::PerRank;

/// Limits that bound memory and threads, whatever the input.
pub mod limits {
    pub use crate::metric::bound::DEFAULT_MAX_UNDECLARED_RANKS;
    pub use crate::metric::per_rank::{MAX_RANK_SPAN, MAX_TABLE_SERIES};
    pub use crate::scrape::render::MAX_RENDER_THREADS;
}

#[doc = include_str!("derive.md")]
pub use engine_gauges_macros::EngineGauges;

/// Derives [`LabelValue`](trait@LabelValue) for a fieldless enum: each variant is one label value.
///
/// - A variant's value is its name in `snake_case` (`TimedOut` → `timed_out`);
///   `#[label(rename = "...")]` on the variant sets it instead.
/// - Values must be non-empty and unique: an empty or repeated value is a compile error on the
///   variant (or on its `rename`).
/// - Only the trait is implemented: derive `Clone`, `Copy` or `Debug` yourself if you want them.
/// - `#[label(crate = path)]` on the enum names this crate when it is re-exported under another
///   path.
///
/// ```
/// use engine_gauges::LabelValue;
///
/// #[derive(LabelValue)]
/// enum Stage {
///     Unregister,
///     RouterGrace,
///     #[label(rename = "kv")]
///     KvTransfer,
/// }
///
/// assert_eq!(Stage::VALUES, ["unregister", "router_grace", "kv"]);
/// ```
pub use engine_gauges_macros::LabelValue;

/// The README's examples, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
