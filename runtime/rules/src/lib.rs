//! The rules of `engine-gauges`, in one place: which metric and label names are valid, which
//! label names are reserved, the naming conventions `promtool check metrics` lints, and which
//! histogram buckets are usable.
//!
//! `#[derive(EngineGauges)]` applies these rules at compile time, pointing at the offending token;
//! `create_metric` applies the same rules at run time. The crate has no dependencies and no
//! `std`, so the derive can use it as well as the runtime, and the bucket check is a `const fn`
//! that generated code evaluates in a `const` block.
//!
//! Every check returns the first rule a name breaks, as a value whose `Display` says what the rule
//! is and what to do instead; callers add which metric or label it is about.

#![no_std]
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(missing_docs)]
// Pedantic lints hold the library's code; unit tests are exempt.
#![cfg_attr(not(test), warn(clippy::pedantic))]
// Allowed pedantic lints, each for a reason that holds across the crate:
// - `must_use_candidate`: getters and constructors are used for their value by construction;
//   marking every one adds noise without catching a real mistake.
// - `cast_precision_loss`: Prometheus values are `f64`; integer counters and gauges are rendered
//   through `f64` on purpose, as prometheus's own encoder does.
// - `module_name_repetitions`: names such as `MetricsRegistry` read well where users import them.
#![allow(
    clippy::must_use_candidate,
    clippy::cast_precision_loss,
    clippy::module_name_repetitions
)]

mod buckets;
pub mod labels;
mod names;

pub use buckets::{BucketProblem, check_buckets};
pub use labels::{LabelProblem, Reserved, check_label_name, reserved};
pub use names::{
    MetricType, NameProblem, check_metric_name, is_valid_label_name, is_valid_metric_name,
};

/// The prefix of every exported name when a set declares none: `dynamo_component`.
pub const DEFAULT_PREFIX: &str = "dynamo_component";
