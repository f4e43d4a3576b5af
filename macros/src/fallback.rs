//! What is emitted next to the errors: an impl with the same surface, so that
//! one mistake in a gauge set does not cascade into "trait not implemented"
//! or "no method `update`" errors wherever the set is used.

use crate::ast::Input;
use proc_macro2::TokenStream;
use quote::quote;

/// The fallback impls for `input`. `PerRank<R>` and `Family<L, M>` put no bounds on their
/// parameters, so a struct holding an unsupported one is still well-formed and the derive's error
/// is the only one.
pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input.krate();
    let ident = input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // The trait's supertraits `Send + Sync + 'static` are stated as a where
    // clause instead of being checked here, so an unsupported field type
    // (already reported) is not reported again through them. The binder keeps
    // the clause legal for a type without generic parameters.
    let predicates = where_clause
        .into_iter()
        .flat_map(|clause| &clause.predicates);
    let bounded_where = quote! {
        where
            #(#predicates,)*
            for<'__gauges> #ident #ty_generics: ::core::marker::Send
                + ::core::marker::Sync
                + 'static
    };
    let update = input.attrs.snapshot.as_ref().map(|snapshot| {
        quote! {
            #[automatically_derived]
            impl #impl_generics #ident #ty_generics #where_clause {
                #[doc(hidden)]
                pub fn update(&self, _: &#snapshot) {}
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::EngineGauges for #ident #ty_generics #bounded_where {
            const DESCRIPTORS: &'static [#krate::metric::MetricDescriptor] = &[];

            fn register(
                _: &#krate::EngineMetrics,
                _: &[::core::primitive::u32],
            ) -> ::core::result::Result<Self, #krate::Error> {
                ::core::unreachable!("`#[derive(EngineGauges)]` failed; see the errors it reported")
            }
        }
        #update
    }
}
