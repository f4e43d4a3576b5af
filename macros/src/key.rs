//! What every attribute of the two derives shares: [`Attr`], one key's occurrences; the [`Key`]
//! trait of a typed key set; and the readers of a key's value, which report a bad value at its
//! tokens and skip to the next `,` so that parsing goes on.

use crate::errors::Errors;
use crate::symbol::Symbol;
use proc_macro2::{TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, Parser};
use syn::{Ident, Token};

/// One key of an attribute set, across every attribute of one item: whether it was given, the
/// key where it was first given, and the value given there.
pub(crate) struct Attr<T> {
    name: Symbol,
    /// The key of the first occurrence, also when its value was malformed.
    key: Option<Ident>,
    /// The value of the first occurrence; `None` when it was malformed (already reported).
    value: Option<T>,
}

impl<T> Attr<T> {
    /// The key `name`, not given yet.
    pub(crate) fn none(name: Symbol) -> Self {
        Attr {
            name,
            key: None,
            value: None,
        }
    }

    /// One occurrence of the key, at `key`, whose value `value` reads (reporting and returning
    /// `None` for a malformed one). The first occurrence is kept, even with a malformed value. A
    /// later one is reported as a duplicate at its key, before anything its value gets reported
    /// for; its value is still read, then dropped.
    pub(crate) fn set(
        &mut self,
        key: &Ident,
        errors: &mut Errors,
        value: impl FnOnce(&mut Errors) -> syn::Result<Option<T>>,
    ) -> syn::Result<()> {
        debug_assert!(*key == self.name, "`{key}` set as `{}`", self.name);
        if self.key.is_some() {
            errors.spanned(
                key,
                format!("duplicate `{}`: remove one of them", self.name),
            );
            value(errors)?;
        } else {
            self.key = Some(key.clone());
            self.value = value(errors)?;
        }
        Ok(())
    }

    /// The key was given, even with a malformed value.
    pub(crate) fn is_set(&self) -> bool {
        self.key.is_some()
    }

    /// The key's name if it was given, even with a malformed value.
    pub(crate) fn given(&self) -> Option<Symbol> {
        self.is_set().then_some(self.name)
    }

    /// The value of the first occurrence, if it was well-formed.
    pub(crate) fn get(self) -> Option<T> {
        self.value
    }

    /// The value of the first occurrence, if it was well-formed, with its key.
    pub(crate) fn get_with_key(self) -> Option<(Ident, T)> {
        self.key.zip(self.value)
    }
}

/// A key an attribute takes: its name, and the form it takes (for messages).
pub(crate) trait Key: Copy + 'static {
    /// Every key, in the order messages list them.
    const ALL: &'static [Self];
    /// The key as written.
    fn symbol(self) -> Symbol;
    /// The key with an example value.
    fn form(self) -> &'static str;
}

/// The key of `meta` if it is one of `K`; otherwise an error naming it and
/// listing the valid keys, and its value is skipped.
pub(crate) fn known_key<K: Key>(
    meta: &ParseNestedMeta<'_>,
    attr: Symbol,
    errors: &mut Errors,
) -> syn::Result<Option<(Ident, K)>> {
    let key = match meta.path.get_ident() {
        Some(key) => {
            if let Some(which) = K::ALL.iter().find(|which| *key == which.symbol()) {
                return Ok(Some((key.clone(), *which)));
            }
            key.to_string()
        }
        None => quote::ToTokens::to_token_stream(&meta.path)
            .to_string()
            .replace(' ', ""),
    };
    let valid = K::ALL
        .iter()
        .map(|key| format!("`{}`", key.symbol()))
        .collect::<Vec<_>>()
        .join(", ");
    errors.spanned(
        &meta.path,
        format!("unknown key `{key}` in `#[{attr}(..)]`: valid keys are {valid}"),
    );
    skip_value(meta)?;
    Ok(None)
}

/// `= value`, parsed as `T`; a bad or missing value is reported (at the value,
/// or at the key when there is none) and skipped.
pub(crate) fn value<T: Parse>(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    form: &str,
    what: &str,
    errors: &mut Errors,
) -> syn::Result<Option<T>> {
    value_with(meta, key, form, what, T::parse, errors)
}

pub(crate) fn value_with<P: Parser>(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    form: &str,
    what: &str,
    parser: P,
    errors: &mut Errors,
) -> syn::Result<Option<P::Output>> {
    let message = format!("`{key}` expects {what}, as in `{form}`");
    if !meta.input.peek(Token![=]) {
        errors.spanned(key, message);
        skip_value(meta)?;
        return Ok(None);
    }
    let tokens = skip_value(meta)?;
    if tokens.is_empty() {
        errors.spanned(key, message);
        return Ok(None);
    }
    if let Ok(value) = parser.parse2(tokens.clone()) {
        Ok(Some(value))
    } else {
        errors.spanned(tokens, message);
        Ok(None)
    }
}

/// Consumes everything up to the next top-level `,` (after an optional `=`)
/// and returns it, without the `=`.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?;
    }
    while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        tokens.extend([meta.input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}
