//! What is emitted next to the errors: an impl with the same surface, so that
//! one mistake in a gauge set does not cascade into "trait not implemented"
//! or "no method `update`" errors wherever the set is used.

use crate::ast::Input;
use proc_macro2::TokenStream;
use quote::quote;

pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input.krate();
    let ident = input.ident;
    let update = input.attrs.snapshot.as_ref().map(|snapshot| {
        quote! {
            #[automatically_derived]
            impl #ident {
                #[doc(hidden)]
                pub fn update(&self, _: &#snapshot) {}
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #krate::EngineGauges for #ident {
            const DESCRIPTORS: &'static [#krate::MetricDescriptor] = &[];

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
