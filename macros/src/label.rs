//! `#[derive(LabelValue)]`: a fieldless enum whose variants are the values of one label.
//! Parse and check the enum, then write the impl, or every error next to a fallback impl.

use crate::errors::Errors;
use crate::key::{Attr, skip_value};
use crate::symbol::{CRATE, LABEL, RENAME, Symbol};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseBuffer;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, Path, Token, Variant};

/// One variant's entry: its ident, its label value and where that value comes from.
struct Entry<'a> {
    ident: &'a Ident,
    value: String,
    /// The `rename` literal, when the value comes from one.
    rename: Option<LitStr>,
}

impl Entry<'_> {
    /// Where an error about this value points: the `rename` literal, or the variant.
    fn span(&self) -> Span {
        self.rename
            .as_ref()
            .map_or_else(|| self.ident.span(), LitStr::span)
    }
}

pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let krate = container(node, &mut errors);
    let krate = krate.map_or_else(|| quote!(::engine_gauges), |path| quote!(#path));
    let values = values(node, &mut errors);
    check(&values, &mut errors);
    let ident = &node.ident;
    let (impl_generics, ty_generics, where_clause) = node.generics.split_for_impl();
    match errors.finish() {
        Ok(()) => {
            let names = values.iter().map(|value| &value.value);
            let arms = values.iter().enumerate().map(|(index, value)| {
                let variant = value.ident;
                quote!(Self::#variant => #index)
            });
            quote! {
                #[automatically_derived]
                impl #krate::LabelValue for #ident {
                    const VALUES: &'static [&'static ::core::primitive::str] = &[#(#names),*];

                    #[inline]
                    fn index(&self) -> ::core::primitive::usize {
                        match self {
                            #(#arms,)*
                        }
                    }
                }
            }
        }
        Err(error) => {
            let mut tokens = error.to_compile_error();
            // The same surface, so that one mistake does not cascade wherever the enum is used.
            tokens.extend(quote! {
                #[automatically_derived]
                impl #impl_generics #krate::LabelValue for #ident #ty_generics #where_clause {
                    const VALUES: &'static [&'static ::core::primitive::str] = &[];

                    fn index(&self) -> ::core::primitive::usize {
                        0
                    }
                }
            });
            tokens
        }
    }
}

/// `#[label(crate = path)]` on the enum; the shape of the input.
fn container(node: &DeriveInput, errors: &mut Errors) -> Option<Path> {
    if !node.generics.params.is_empty() {
        errors.spanned(
            &node.generics,
            format!(
                "`LabelValue` cannot be derived for `{}` because it has generic parameters: a \
                 label's values are fixed; remove them",
                node.ident
            ),
        );
    }
    let mut krate = Attr::none(CRATE);
    for attr in node.attrs.iter().filter(|attr| attr.path() == LABEL) {
        let result = attr.parse_nested_meta(|meta| {
            match label_key(&meta) {
                Some((key, LabelKey::Crate)) => krate.set(&key, errors, |errors| {
                    let path = meta
                        .value()
                        .and_then(|value| value.call(Path::parse_mod_style));
                    recover(&meta, path, errors)
                })?,
                Some((_, LabelKey::Rename)) => {
                    errors.push(meta.error(
                        "`rename` goes on a variant, as in `#[label(rename = \"...\")]`; the enum \
                         takes only `crate = path`",
                    ));
                    skip_value(&meta)?;
                }
                None => {
                    errors.push(meta.error(format!(
                        "unknown key `{}` in `#[label(..)]` on the enum: the only key is `crate`",
                        meta.path.to_token_stream().to_string().replace(' ', "")
                    )));
                    skip_value(&meta)?;
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    krate.get()
}

/// Every variant's value, reporting variants with fields and bad attributes.
fn values<'a>(node: &'a DeriveInput, errors: &mut Errors) -> Vec<Entry<'a>> {
    let data = match &node.data {
        Data::Enum(data) => data,
        Data::Struct(data) => {
            errors.at(
                data.struct_token.span,
                "`LabelValue` is derived for a fieldless enum, each variant one value of the \
                 label; a struct has no fixed set of values",
            );
            return Vec::new();
        }
        Data::Union(data) => {
            errors.at(
                data.union_token.span,
                "`LabelValue` is derived for a fieldless enum, each variant one value of the \
                 label; a union has no fixed set of values",
            );
            return Vec::new();
        }
    };
    if data.variants.is_empty() {
        errors.at(
            node.ident.span(),
            format!(
                "enum `{}` has no variants: a label needs at least one value; add a variant",
                node.ident
            ),
        );
    }
    data.variants
        .iter()
        .map(|variant| {
            if !matches!(variant.fields, Fields::Unit) {
                errors.spanned(
                    &variant.fields,
                    format!(
                        "variant `{}` has fields: each variant of a `LabelValue` enum is one \
                         label value, without data; remove the fields",
                        variant.ident
                    ),
                );
            }
            let rename = rename(variant, errors);
            let value = rename.as_ref().map_or_else(
                || snake_case(&variant.ident.unraw().to_string()),
                LitStr::value,
            );
            Entry {
                ident: &variant.ident,
                value,
                rename,
            }
        })
        .collect()
}

/// `#[label(rename = "...")]` on a variant.
fn rename(variant: &Variant, errors: &mut Errors) -> Option<LitStr> {
    let mut rename = Attr::none(RENAME);
    for attr in variant.attrs.iter().filter(|attr| attr.path() == LABEL) {
        let result = attr.parse_nested_meta(|meta| {
            match label_key(&meta) {
                Some((key, LabelKey::Rename)) => rename.set(&key, errors, |errors| {
                    if !meta.input.peek(Token![=]) {
                        errors.push(
                            meta.error("`rename` expects a string, as in `rename = \"stop\"`"),
                        );
                        skip_value(&meta)?;
                        return Ok(None);
                    }
                    let value: syn::Result<LitStr> = meta.value().and_then(ParseBuffer::parse);
                    recover(&meta, value, errors)
                })?,
                Some((_, LabelKey::Crate)) | None => {
                    errors.push(meta.error(format!(
                        "unknown key `{}` in `#[label(..)]` on a variant: the only key is `rename`",
                        meta.path.to_token_stream().to_string().replace(' ', "")
                    )));
                    skip_value(&meta)?;
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    rename.get()
}

/// Keys of `#[label(..)]`: `crate` on the enum, `rename` on a variant.
#[derive(Clone, Copy)]
enum LabelKey {
    Crate,
    Rename,
}

impl LabelKey {
    const ALL: [Self; 2] = [Self::Crate, Self::Rename];

    fn symbol(self) -> Symbol {
        match self {
            Self::Crate => CRATE,
            Self::Rename => RENAME,
        }
    }
}

/// The key of `meta` if it is one `#[label(..)]` takes, on the enum or on a variant.
fn label_key(meta: &ParseNestedMeta<'_>) -> Option<(Ident, LabelKey)> {
    let key = meta.path.get_ident()?;
    let which = LabelKey::ALL
        .into_iter()
        .find(|which| *key == which.symbol())?;
    Some((key.clone(), which))
}

/// The value `parsed`, or `None` after reporting why it is not one and skipping the rest of it,
/// so the attribute's next key is still read.
fn recover<T>(
    meta: &ParseNestedMeta<'_>,
    parsed: syn::Result<T>,
    errors: &mut Errors,
) -> syn::Result<Option<T>> {
    match parsed {
        Ok(value) => Ok(Some(value)),
        Err(error) => {
            errors.push(error);
            skip_value(meta)?;
            Ok(None)
        }
    }
}

/// Values must be non-empty and unique.
fn check(values: &[Entry<'_>], errors: &mut Errors) {
    for (index, value) in values.iter().enumerate() {
        if value.value.is_empty() {
            errors.at(
                value.span(),
                format!(
                    "variant `{}` has an empty label value: Prometheus drops a label whose value \
                     is empty; give it a name",
                    value.ident
                ),
            );
        } else if let Some(first) = values[..index]
            .iter()
            .find(|earlier| earlier.value == value.value)
        {
            errors.at(
                value.span(),
                format!(
                    "variant `{}` has the label value `{}`, as variant `{}` has: each value names \
                     one variant; rename one of them with `#[label(rename = \"...\")]`",
                    value.ident, value.value, first.ident
                ),
            );
        }
    }
}

/// `TimedOut` → `timed_out`, `HTTPError` → `http_error`, `V2Beta` → `v2_beta`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (index, &c) in chars.iter().enumerate() {
        if c.is_uppercase() {
            let prev = index.checked_sub(1).map(|i| chars[i]);
            let next = chars.get(index + 1);
            let after_word = prev.is_some_and(|p| p.is_lowercase() || p.is_ascii_digit());
            let before_word =
                prev.is_some_and(char::is_uppercase) && next.is_some_and(|n| n.is_lowercase());
            if after_word || before_word {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
