//! Every error of one derive, collected so they are all reported at once, in
//! source order.

use proc_macro2::Span;
use quote::ToTokens;
use std::fmt::Display;

#[derive(Debug, Default)]
pub(crate) struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.errors.extend(error);
    }

    /// An error covering the tokens of `node`.
    pub(crate) fn spanned(&mut self, node: impl ToTokens, message: impl Display) {
        self.push(syn::Error::new_spanned(node, message));
    }

    /// An error at one token.
    pub(crate) fn at(&mut self, span: Span, message: impl Display) {
        self.push(syn::Error::new(span, message));
    }

    /// Every error, ordered by where it starts in the source (errors at one
    /// place keep the order they were found in).
    pub(crate) fn finish(mut self) -> Result<(), syn::Error> {
        self.errors.sort_by_key(|error| position(error.span()));
        let mut errors = self.errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        combined.extend(errors);
        Err(combined)
    }
}

/// Line and column where `span` starts; `None` (no reordering) where the
/// compiler cannot tell.
#[cfg(not(test))]
fn position(span: Span) -> Option<(usize, usize)> {
    if !proc_macro::is_available() {
        return None;
    }
    let start = span.unwrap().start();
    Some((start.line(), start.column()))
}

/// Outside a compiler the test build's `span-locations` gives positions.
#[cfg(test)]
fn position(span: Span) -> Option<(usize, usize)> {
    let start = span.start();
    Some((start.line, start.column))
}
