//! The derive macro of `engine-gauges`.
//!
//! Use it through the `engine_gauges` crate, which re-exports
//! `#[derive(EngineGauges)]` next to the trait of the same name and documents
//! every attribute and check there.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(clippy::print_stdout, clippy::print_stderr)]
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

mod ast;
mod attr;
mod errors;
mod expand;
mod fallback;
mod key;
mod kind;
mod label;
mod symbol;
mod valid;

#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Derives `engine_gauges::EngineGauges` for a struct of metrics.
///
/// Documented on the re-export, `engine_gauges::EngineGauges`.
#[proc_macro_derive(EngineGauges, attributes(gauges, metric, gauge))]
pub fn derive_engine_gauges(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}

/// Derives `engine_gauges::LabelValue` for a fieldless enum.
///
/// Documented on the re-export, `engine_gauges::LabelValue`.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    label::derive(&input).into()
}
