//! The derive macro of `engine-gauges`.
//!
//! Use it through the `engine_gauges` crate, which re-exports
//! `#[derive(EngineGauges)]` next to the trait of the same name and documents
//! every attribute and check there.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(clippy::print_stdout, clippy::print_stderr)]

mod ast;
mod attr;
mod errors;
mod expand;
mod fallback;
mod kind;
mod label;
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
