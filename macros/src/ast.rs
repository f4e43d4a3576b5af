//! A model of the derive input that borrows the syn nodes, so every later
//! step can point at the user's tokens.

use crate::attr::{self, ContainerAttrs, FieldAttrs};
use crate::errors::Errors;
use crate::kind::{self, FieldKind};
use proc_macro2::{Group, Span, TokenStream, TokenTree};
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Generics, Ident, Type};

use engine_gauges_rules::DEFAULT_PREFIX;
use engine_gauges_rules::labels::DP_RANK;

pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: ContainerAttrs,
    /// The named fields; empty when the input is not a struct with named fields.
    pub(crate) fields: Vec<Field<'a>>,
    /// Generic parameters are an error, but the fallback impl carries them.
    pub(crate) generics: &'a Generics,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// `None` for an unsupported type (already reported).
    pub(crate) kind: Option<FieldKind<'a>>,
    pub(crate) attrs: FieldAttrs,
}

impl<'a> Input<'a> {
    /// Parses the input and its attributes, reporting every shape, attribute
    /// and field type error into `errors`.
    pub(crate) fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Self {
        let attrs = attr::container(&node.attrs, errors);
        if !node.generics.params.is_empty() {
            errors.spanned(
                &node.generics,
                format!(
                    "`EngineGauges` cannot be derived for `{}` because it has generic parameters: \
                     a gauge set is a concrete type; remove them",
                    node.ident
                ),
            );
        }
        let fields = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named
                    .named
                    .iter()
                    .filter_map(|field| Field::from_syn(field, errors))
                    .collect(),
                Fields::Unnamed(unnamed) => {
                    errors.spanned(
                        unnamed,
                        "`EngineGauges` cannot be derived for a tuple struct: each metric is \
                         named after its field; use a struct with named fields",
                    );
                    Vec::new()
                }
                Fields::Unit => {
                    errors.spanned(
                        &node.ident,
                        format!(
                            "`EngineGauges` cannot be derived for the unit struct `{}`: declare \
                             the gauges as named fields",
                            node.ident
                        ),
                    );
                    Vec::new()
                }
            },
            Data::Enum(data) => {
                errors.at(
                    data.enum_token.span,
                    "`EngineGauges` cannot be derived for an enum: use a struct with one named \
                     field per gauge",
                );
                Vec::new()
            }
            Data::Union(data) => {
                errors.at(
                    data.union_token.span,
                    "`EngineGauges` cannot be derived for a union: use a struct with one named \
                     field per gauge",
                );
                Vec::new()
            }
        };
        Input {
            ident: &node.ident,
            attrs,
            fields,
            generics: &node.generics,
        }
    }

    /// The path of the runtime crate.
    pub(crate) fn krate(&self) -> TokenStream {
        if let Some(path) = &self.attrs.krate {
            quote!(#path)
        } else {
            quote!(::engine_gauges)
        }
    }

    /// The path of the runtime crate with every token at `span`, so that an
    /// error about a call through it points at the user's token that caused
    /// the call, not at the derive.
    pub(crate) fn krate_at(&self, span: Span) -> TokenStream {
        respan(self.krate(), span)
    }

    /// The prefix of exported names; `""` means none.
    pub(crate) fn prefix(&self) -> String {
        self.attrs
            .prefix
            .as_ref()
            .map_or_else(|| DEFAULT_PREFIX.to_owned(), syn::LitStr::value)
    }

    /// The name a field is exported under: `{prefix}_{short name}`.
    pub(crate) fn full_name(&self, field: &Field<'_>) -> String {
        let prefix = self.prefix();
        let short = field.short_name();
        if prefix.is_empty() {
            short
        } else {
            format!("{prefix}_{short}")
        }
    }

    /// The first per-rank field, if any.
    pub(crate) fn first_per_rank(&self) -> Option<&Field<'a>> {
        self.fields.iter().find(|field| field.per_rank())
    }
}

impl<'a> Field<'a> {
    fn from_syn(field: &'a syn::Field, errors: &mut Errors) -> Option<Self> {
        // Named fields always have an ident.
        let ident = field.ident.as_ref()?;
        let attrs = attr::field(&field.attrs, errors);
        let kind = FieldKind::of(&field.ty);
        if kind.is_none() {
            errors.spanned(&field.ty, kind::unsupported(&field.ty));
        }
        Some(Field {
            ident,
            ty: &field.ty,
            kind,
            attrs,
        })
    }

    /// The field name without `r#`.
    pub(crate) fn field_name(&self) -> String {
        self.ident.unraw().to_string()
    }

    /// `name = "..."`, or the field name.
    pub(crate) fn short_name(&self) -> String {
        match &self.attrs.name {
            Some(name) => name.value(),
            None => self.field_name(),
        }
    }

    /// Where the name comes from: the `name` literal, or the field ident.
    pub(crate) fn name_span(&self) -> Span {
        match &self.attrs.name {
            Some(name) => name.span(),
            None => self.ident.span(),
        }
    }

    /// `help = "..."`, or the doc comment.
    pub(crate) fn help(&self) -> Option<String> {
        match &self.attrs.help {
            Some(help) => Some(help.value()),
            None => self.attrs.doc.clone(),
        }
    }

    pub(crate) fn per_rank(&self) -> bool {
        self.kind.is_some_and(FieldKind::per_rank)
    }

    /// Its variable labels: `dp_rank` first for a per-rank field, then `labels(..)`.
    pub(crate) fn variable_labels(&self) -> Vec<String> {
        let rank = self.per_rank().then(|| DP_RANK.to_owned());
        let own = self
            .attrs
            .labels
            .iter()
            .flat_map(|labels| &labels.names)
            .map(syn::LitStr::value);
        rank.into_iter().chain(own).collect()
    }
}

/// `tokens` with every token, nested ones included, at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let TokenTree::Group(group) = &token {
                let mut inner = Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                token = TokenTree::Group(inner);
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
