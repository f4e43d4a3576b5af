//! A model of the derive input that borrows the syn nodes, so every later
//! step can point at the user's tokens.

use crate::attr::{self, ContainerAttrs, FieldAttrs};
use crate::errors::Errors;
use crate::kind::{self, FieldKind};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

/// The prefix of exported names when `#[gauges(prefix = "...")]` is absent.
pub(crate) const DEFAULT_PREFIX: &str = "dynamo_component";

pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: ContainerAttrs,
    /// The named fields; empty when the input is not a struct with named fields.
    pub(crate) fields: Vec<Field<'a>>,
    /// The input has generic parameters: no impl can be written for it.
    pub(crate) generic: bool,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    /// `None` for an unsupported type (already reported).
    pub(crate) kind: Option<FieldKind>,
    pub(crate) attrs: FieldAttrs,
}

impl<'a> Input<'a> {
    /// Parses the input and its attributes, reporting every shape, attribute
    /// and field type error into `errors`.
    pub(crate) fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Self {
        let attrs = attr::container(&node.attrs, errors);
        let generic = !node.generics.params.is_empty();
        if generic {
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
                errors.spanned(
                    data.enum_token,
                    "`EngineGauges` cannot be derived for an enum: use a struct with one named \
                     field per gauge",
                );
                Vec::new()
            }
            Data::Union(data) => {
                errors.spanned(
                    data.union_token,
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
            generic,
        }
    }

    /// The path of the runtime crate.
    pub(crate) fn krate(&self) -> TokenStream {
        match &self.attrs.krate {
            Some(path) => quote!(#path),
            None => quote!(::engine_gauges),
        }
    }

    /// The prefix of exported names; `""` means none.
    pub(crate) fn prefix(&self) -> String {
        self.attrs
            .prefix
            .as_ref()
            .map_or_else(|| DEFAULT_PREFIX.to_owned(), |prefix| prefix.value())
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
            errors.spanned(
                &field.ty,
                format!(
                    "unsupported field type `{}`: engine gauges are {}",
                    kind::display_type(&field.ty),
                    kind::supported_list()
                ),
            );
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
        self.kind.is_some_and(|kind| kind.per_rank)
    }

    /// Its variable labels: `dp_rank` for a per-rank field, else `labels(..)`.
    pub(crate) fn variable_labels(&self) -> Vec<String> {
        if self.per_rank() {
            vec![crate::reserved::RANK_LABEL.to_owned()]
        } else {
            self.attrs
                .labels
                .iter()
                .flat_map(|labels| &labels.names)
                .map(syn::LitStr::value)
                .collect()
        }
    }
}
