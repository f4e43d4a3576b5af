//! Code generation. `derive` runs parse → validate → expand; everything after
//! validation assumes valid input.

use crate::ast::{Field, Input};
use crate::attr::BucketsValue;
use crate::errors::Errors;
use crate::kind::Shape;
use crate::{fallback, valid};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned;

/// The whole output of `#[derive(EngineGauges)]`: the impls, or every error
/// next to a fallback impl.
pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let input = Input::from_syn(node, &mut errors);
    valid::check(&input, &mut errors);
    match errors.finish() {
        Ok(()) => expand(&input),
        Err(error) => {
            let mut tokens = error.to_compile_error();
            tokens.extend(fallback::expand(&input));
            tokens
        }
    }
}

/// The impls for valid input.
pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input.krate();
    let ident = input.ident;
    let descriptors = input
        .fields
        .iter()
        .map(|field| descriptor(input, field, &krate));
    let vars: Vec<_> = (0..input.fields.len())
        .map(|index| format_ident!("__f{}", index))
        .collect();
    let lets = input
        .fields
        .iter()
        .zip(&vars)
        .enumerate()
        .map(|(index, (field, var))| {
            let index = Literal::usize_unsuffixed(index);
            let ty = field.ty;
            let call = match field.kind.map(|kind| kind.shape) {
                Some(Shape::PerRank | Shape::PerRankFamily(_)) => {
                    quote_spanned!(ty.span()=> per_rank(#index, __dp_ranks))
                }
                Some(Shape::Family(_)) => quote_spanned!(ty.span()=> family(#index)),
                Some(Shape::Plain) | None => quote_spanned!(ty.span()=> metric(#index)),
            };
            quote_spanned! {ty.span()=>
                let #var: #ty = __registrar.#call?;
            }
        });
    let members = input.fields.iter().map(|field| field.ident);
    // The store's fields leave with `self`; the `prometheus` ones are taken off the registry.
    let unregisters = input.fields.iter().enumerate().map(|(index, field)| {
        let member = field.ident;
        match field.kind.map(|kind| kind.shape) {
            Some(Shape::Plain) => {
                let index = Literal::usize_unsuffixed(index);
                quote! {
                    let __result = #krate::__private::unregister(
                        __metrics,
                        <Self as #krate::EngineGauges>::DESCRIPTORS[#index].name,
                        &self.#member,
                    );
                    if __first.is_ok() {
                        __first = __result;
                    }
                }
            }
            _ => TokenStream::new(),
        }
    });
    let update = input
        .attrs
        .snapshot
        .as_ref()
        .map(|snapshot| update(input, snapshot));
    let assertions = input
        .fields
        .iter()
        .map(|field| assertions(input, field))
        .collect::<TokenStream>();
    quote! {
        #assertions
        #[automatically_derived]
        impl #krate::EngineGauges for #ident {
            const DESCRIPTORS: &'static [#krate::metric::MetricDescriptor] = &[
                #(#descriptors),*
            ];

            fn register(
                __metrics: &#krate::EngineMetrics,
                __dp_ranks: &[::core::primitive::u32],
            ) -> ::core::result::Result<Self, #krate::Error> {
                let mut __registrar = #krate::__private::Registrar::new(
                    __metrics,
                    <Self as #krate::EngineGauges>::DESCRIPTORS,
                );
                #(#lets)*
                __registrar.commit();
                ::core::result::Result::Ok(Self {
                    #(#members: #vars),*
                })
            }

            fn unregister(
                self,
                __metrics: &#krate::EngineMetrics,
            ) -> ::core::result::Result<(), #krate::Error> {
                let mut __first = ::core::result::Result::Ok(());
                #(#unregisters)*
                ::core::mem::drop(self);
                __first
            }
        }
        #update
    }
}

/// The `DescriptorParts { .. }.build()` of one field.
fn descriptor(input: &Input<'_>, field: &Field<'_>, krate: &TokenStream) -> TokenStream {
    let prefix = input.prefix();
    let short_name = field.short_name();
    let name = input.full_name(field);
    // Validation proved the kind and the help are there.
    let kind = field.kind.map_or_else(
        || format_ident!("Gauge"),
        |kind| format_ident!("{}", kind.metric_kind()),
    );
    let per_rank = field.per_rank();
    let seeded = field.attrs.unseeded.is_none();
    let help = field.help().unwrap_or_default();
    let variable_labels = field.variable_labels();
    // One use of the label set (so a type that is not one is reported once), checked against the
    // declared names at `labels` (a path, such as an alias to a tuple, is counted here).
    let label_values = if let (Some(set), Some(labels)) = (
        field.kind.and_then(super::kind::FieldKind::label_set),
        &field.attrs.labels,
    ) {
        let declared = labels.names.len();
        let values = quote_spanned!(set.span()=>
            #krate::__private::label_values::<#set>(#declared)
        );
        let fail = quote_spanned!(labels.key.span()=> ::core::panic!("{}", __message));
        quote!(match #values {
            ::core::result::Result::Ok(__values) => __values,
            ::core::result::Result::Err(__message) => #fail,
        })
    } else {
        quote!(&[])
    };
    let max_undeclared_ranks = if let Some((_, value)) = &field.attrs.max_undeclared_ranks {
        let value = value.base10_parse::<u32>().unwrap_or_default();
        quote!(#value)
    } else {
        quote!(#krate::limits::DEFAULT_MAX_UNDECLARED_RANKS)
    };
    let buckets = match field.attrs.buckets.as_ref().map(|buckets| &buckets.value) {
        Some(BucketsValue::Literal { bounds, .. }) => {
            let bounds = bounds.iter().map(|(value, _)| {
                let value = value.unwrap_or_default();
                let literal = Literal::f64_suffixed(value);
                quote!(#literal)
            });
            quote!(&[#(#bounds),*])
        }
        Some(BucketsValue::Path(path)) => quote_spanned!(path.span()=> &#path),
        None => quote!(&[]),
    };
    let const_labels = input.attrs.const_labels.iter().map(|label| {
        let key = label.name();
        let value = label.value.value();
        quote!((#key, #value))
    });
    let field_name = field.field_name();
    let line = quote_spanned!(field.ident.span()=> ::core::line!());
    quote! {
        #krate::__private::DescriptorParts {
            prefix: #prefix,
            short_name: #short_name,
            name: #name,
            kind: #krate::__private::MetricKind::#kind,
            per_rank: #per_rank,
            seeded: #seeded,
            help: #help,
            variable_labels: &[#(#variable_labels),*],
            label_values: #label_values,
            buckets: #buckets,
            max_undeclared_ranks: #max_undeclared_ranks,
            const_labels: &[#(#const_labels),*],
            field: #field_name,
            line: #line,
        }
        .build()
    }
}

/// The compile-time check of bucket bounds named by a path, as a `const` assertion at the path.
fn assertions(input: &Input<'_>, field: &Field<'_>) -> TokenStream {
    let Some(BucketsValue::Path(path)) = field.attrs.buckets.as_ref().map(|b| &b.value) else {
        return TokenStream::new();
    };
    let krate = input.krate_at(path.span());
    quote_spanned! {path.span()=>
        const _: () = match #krate::__private::rules::check_buckets(&#path) {
            ::core::result::Result::Ok(()) => (),
            ::core::result::Result::Err(__problem) => ::core::panic!("{}", __problem.message()),
        };
    }
}

/// `impl T { pub fn update(&self, snapshot: &S) }`.
fn update(input: &Input<'_>, snapshot: &syn::Type) -> TokenStream {
    let ident = input.ident;
    let mut docs = Vec::new();
    let mut needs_rank = false;
    let writes: Vec<TokenStream> = input
        .fields
        .iter()
        .filter_map(|field| {
            let from = &field.attrs.from.as_ref()?.field;
            let member = field.ident;
            // Everything at `from`, so a missing field or a value without a
            // conversion is reported there and nowhere else.
            let krate = input.krate_at(from.span());
            if field.per_rank() {
                needs_rank = true;
                docs.push(format!(
                    " - `{}` ← `snapshot.{from}`, at rank `snapshot.dp_rank`",
                    field.field_name()
                ));
                Some(quote_spanned! {from.span()=>
                    #krate::__private::write_rank(&self.#member, __rank, snapshot.#from);
                })
            } else {
                docs.push(format!(" - `{}` ← `snapshot.{from}`", field.field_name()));
                Some(quote_spanned! {from.span()=>
                    #krate::__private::write(&self.#member, snapshot.#from);
                })
            }
        })
        .collect();
    // At the snapshot type: its `dp_rank` is missing or not a `u32`.
    let rank = needs_rank.then(|| {
        let krate = input.krate_at(snapshot.span());
        quote_spanned! {snapshot.span()=>
            let __rank: ::core::primitive::u32 = #krate::__private::DpRank::dp_rank(snapshot.dp_rank);
        }
    });
    let summary = if writes.is_empty() {
        " No field of this set is declared with `#[metric(from = ..)]`: this writes nothing."
    } else {
        " Writes the snapshot's values into the gauges declared with `#[metric(from = ..)]`:"
    };
    let unused = writes.is_empty().then(|| quote!(let _ = snapshot;));
    quote! {
        #[automatically_derived]
        impl #ident {
            #[doc = #summary]
            #[doc = ""]
            #(#[doc = #docs])*
            #[doc = ""]
            #[doc = " A `None` value writes nothing."]
            #[inline]
            pub fn update(&self, snapshot: &#snapshot) {
                #unused
                #rank
                #(#writes)*
            }
        }
    }
}
