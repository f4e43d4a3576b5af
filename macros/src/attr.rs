//! Parsing of `#[gauges(..)]` on the struct, `#[metric(..)]` (or `#[gauge(..)]`) on fields, and
//! doc comments.
//!
//! Parsing recovers after a bad key or value (it skips to the next `,`), so
//! every mistake in an attribute is reported in one compile.

use crate::errors::Errors;
use crate::key::{Attr, Key, known_key, skip_value, value, value_with};
use crate::symbol::{
    BUCKETS, CONST_LABELS, CRATE, DOC, FROM, GAUGE, GAUGES, HELP, LABELS, MAX_UNDECLARED_RANKS,
    METRIC, NAME, PREFIX, SNAPSHOT, Symbol, UNSEEDED,
};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Meta, Path, Token, Type};

/// Keys of `#[gauges(..)]`.
#[derive(Clone, Copy)]
enum ContainerKey {
    Snapshot,
    ConstLabels,
    Prefix,
    Crate,
}

impl Key for ContainerKey {
    const ALL: &'static [Self] = &[Self::Snapshot, Self::ConstLabels, Self::Prefix, Self::Crate];

    fn symbol(self) -> Symbol {
        match self {
            Self::Snapshot => SNAPSHOT,
            Self::ConstLabels => CONST_LABELS,
            Self::Prefix => PREFIX,
            Self::Crate => CRATE,
        }
    }

    fn form(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot = SnapshotType",
            Self::ConstLabels => "const_labels(key = \"value\", ..)",
            Self::Prefix => "prefix = \"...\"",
            Self::Crate => "crate = path::to::engine_gauges",
        }
    }
}

/// Keys of `#[metric(..)]`.
#[derive(Clone, Copy)]
enum FieldKey {
    Help,
    Name,
    Labels,
    Unseeded,
    From,
    MaxUndeclaredRanks,
    Buckets,
}

impl Key for FieldKey {
    const ALL: &'static [Self] = &[
        Self::Help,
        Self::Name,
        Self::Labels,
        Self::Unseeded,
        Self::From,
        Self::MaxUndeclaredRanks,
        Self::Buckets,
    ];

    fn symbol(self) -> Symbol {
        match self {
            Self::Help => HELP,
            Self::Name => NAME,
            Self::Labels => LABELS,
            Self::Unseeded => UNSEEDED,
            Self::From => FROM,
            Self::MaxUndeclaredRanks => MAX_UNDECLARED_RANKS,
            Self::Buckets => BUCKETS,
        }
    }

    fn form(self) -> &'static str {
        match self {
            Self::Help => "help = \"...\"",
            Self::Name => "name = \"...\"",
            Self::Labels => "labels(\"label\", ..)",
            Self::Unseeded => "unseeded",
            Self::From => "from = snapshot_field",
            Self::MaxUndeclaredRanks => "max_undeclared_ranks = 64",
            Self::Buckets => {
                "buckets = [0.1, 0.5, 1.0]` or `buckets = engine_gauges::buckets::REQUEST_LATENCY_SECONDS"
            }
        }
    }
}

/// `#[gauges(..)]`.
pub(crate) struct ContainerAttrs {
    pub(crate) snapshot: Option<Type>,
    pub(crate) const_labels: Vec<ConstLabel>,
    pub(crate) prefix: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// Every key given, well-formed or not.
    pub(crate) given: Vec<Symbol>,
}

/// One `key = "value"` of `const_labels(..)`.
pub(crate) struct ConstLabel {
    pub(crate) key: Ident,
    pub(crate) value: LitStr,
}

impl ConstLabel {
    /// The label name (`r#type` is `type`).
    pub(crate) fn name(&self) -> String {
        syn::ext::IdentExt::unraw(&self.key).to_string()
    }
}

/// `#[metric(..)]` and the doc comment of one field.
pub(crate) struct FieldAttrs {
    pub(crate) help: Option<LitStr>,
    pub(crate) name: Option<LitStr>,
    pub(crate) labels: Option<Labels>,
    /// The `unseeded` key.
    pub(crate) unseeded: Option<Ident>,
    pub(crate) from: Option<FromField>,
    pub(crate) buckets: Option<Buckets>,
    /// `max_undeclared_ranks = N`: the key and the literal.
    pub(crate) max_undeclared_ranks: Option<(Ident, syn::LitInt)>,
    /// Doc comment lines, trimmed, blank lines skipped, joined with one space;
    /// `None` when there is no such line.
    pub(crate) doc: Option<String>,
    /// Every key given, well-formed or not.
    pub(crate) given: Vec<Symbol>,
}

impl ContainerAttrs {
    /// `key` was given, even with a malformed value (already reported).
    pub(crate) fn has(&self, key: Symbol) -> bool {
        self.given.contains(&key)
    }
}

impl FieldAttrs {
    /// `key` was given, even with a malformed value (already reported).
    pub(crate) fn has(&self, key: Symbol) -> bool {
        self.given.contains(&key)
    }
}

/// `labels("a", ..)`.
pub(crate) struct Labels {
    pub(crate) key: Ident,
    pub(crate) names: Vec<LitStr>,
}

/// `buckets = [..]` or `buckets = PATH`.
pub(crate) struct Buckets {
    pub(crate) key: Ident,
    pub(crate) value: BucketsValue,
}

pub(crate) enum BucketsValue {
    /// `[0.1, 1.0]`: each bound's value (`None` where it is not a number, already reported) and
    /// its tokens, and the brackets.
    Literal {
        bounds: Vec<(Option<f64>, TokenStream)>,
        brackets: Span,
    },
    /// A path to a `const` or `static` `[f64; N]` or `&[f64]`.
    Path(Path),
}

/// `from = field`.
pub(crate) struct FromField {
    pub(crate) key: Ident,
    pub(crate) field: Ident,
}

/// The keys of every `#[gauges(..)]` of a struct, as they are parsed.
struct ContainerKeys {
    snapshot: Attr<Type>,
    const_labels: Attr<Vec<ConstLabel>>,
    prefix: Attr<LitStr>,
    krate: Attr<Path>,
}

impl ContainerKeys {
    fn new() -> Self {
        ContainerKeys {
            snapshot: Attr::none(SNAPSHOT),
            const_labels: Attr::none(CONST_LABELS),
            prefix: Attr::none(PREFIX),
            krate: Attr::none(CRATE),
        }
    }

    fn finish(self) -> ContainerAttrs {
        let ContainerKeys {
            snapshot,
            const_labels,
            prefix,
            krate,
        } = self;
        let given = [
            snapshot.given(),
            const_labels.given(),
            prefix.given(),
            krate.given(),
        ];
        ContainerAttrs {
            snapshot: snapshot.get(),
            const_labels: const_labels.get().unwrap_or_default(),
            prefix: prefix.get(),
            krate: krate.get(),
            given: given.into_iter().flatten().collect(),
        }
    }
}

/// The keys of every `#[metric(..)]` of a field, as they are parsed.
struct FieldKeys {
    help: Attr<LitStr>,
    name: Attr<LitStr>,
    labels: Attr<Vec<LitStr>>,
    unseeded: Attr<()>,
    from: Attr<Ident>,
    max_undeclared_ranks: Attr<syn::LitInt>,
    buckets: Attr<BucketsValue>,
}

impl FieldKeys {
    fn new() -> Self {
        FieldKeys {
            help: Attr::none(HELP),
            name: Attr::none(NAME),
            labels: Attr::none(LABELS),
            unseeded: Attr::none(UNSEEDED),
            from: Attr::none(FROM),
            max_undeclared_ranks: Attr::none(MAX_UNDECLARED_RANKS),
            buckets: Attr::none(BUCKETS),
        }
    }

    fn finish(self, doc: Option<String>) -> FieldAttrs {
        let FieldKeys {
            help,
            name,
            labels,
            unseeded,
            from,
            max_undeclared_ranks,
            buckets,
        } = self;
        let given = [
            help.given(),
            name.given(),
            labels.given(),
            unseeded.given(),
            from.given(),
            max_undeclared_ranks.given(),
            buckets.given(),
        ];
        FieldAttrs {
            help: help.get(),
            name: name.get(),
            labels: labels
                .get_with_key()
                .map(|(key, names)| Labels { key, names }),
            unseeded: unseeded.get_with_key().map(|(key, ())| key),
            from: from
                .get_with_key()
                .map(|(key, field)| FromField { key, field }),
            buckets: buckets
                .get_with_key()
                .map(|(key, value)| Buckets { key, value }),
            max_undeclared_ranks: max_undeclared_ranks.get_with_key(),
            doc,
            given: given.into_iter().flatten().collect(),
        }
    }
}

pub(crate) fn container(attrs: &[Attribute], errors: &mut Errors) -> ContainerAttrs {
    let mut keys = ContainerKeys::new();
    for attr in attrs {
        if let Some(name) = field_attr(attr) {
            errors.spanned(
                attr.path(),
                format!("`#[{name}(..)]` belongs on fields; the struct takes `#[{GAUGES}(..)]`"),
            );
            continue;
        }
        if attr.path() != GAUGES {
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let Some((key, which)) = known_key::<ContainerKey>(&meta, GAUGES, errors)? else {
                return Ok(());
            };
            let form = which.form();
            match which {
                ContainerKey::Snapshot => keys.snapshot.set(&key, errors, |errors| {
                    value::<Type>(&meta, &key, form, "a type", errors)
                }),
                ContainerKey::ConstLabels => keys.const_labels.set(&key, errors, |errors| {
                    const_labels(&meta, &key, errors).map(Some)
                }),
                ContainerKey::Prefix => keys.prefix.set(&key, errors, |errors| {
                    value::<LitStr>(&meta, &key, form, "a string literal", errors)
                }),
                ContainerKey::Crate => keys.krate.set(&key, errors, |errors| {
                    value_with(
                        &meta,
                        &key,
                        form,
                        "a path to the engine_gauges crate",
                        Path::parse_mod_style,
                        errors,
                    )
                }),
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    keys.finish()
}

pub(crate) fn field(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut keys = FieldKeys::new();
    for attr in attrs {
        if attr.path() == GAUGES {
            errors.spanned(
                attr.path(),
                format!("`#[{GAUGES}(..)]` belongs on the struct; fields take `#[{METRIC}(..)]`"),
            );
            continue;
        }
        let Some(name) = field_attr(attr) else {
            continue;
        };
        let result = attr.parse_nested_meta(|meta| {
            let Some((key, which)) = known_key::<FieldKey>(&meta, name, errors)? else {
                return Ok(());
            };
            let form = which.form();
            match which {
                FieldKey::Help => keys.help.set(&key, errors, |errors| {
                    value::<LitStr>(&meta, &key, form, "a string literal", errors)
                }),
                FieldKey::Name => keys.name.set(&key, errors, |errors| {
                    value::<LitStr>(&meta, &key, form, "a string literal", errors)
                }),
                FieldKey::Labels => keys
                    .labels
                    .set(&key, errors, |errors| labels(&meta, &key, errors)),
                FieldKey::Unseeded => keys.unseeded.set(&key, errors, |errors| {
                    if meta.input.is_empty() || meta.input.peek(Token![,]) {
                        Ok(Some(()))
                    } else {
                        errors.spanned(&key, "`unseeded` takes no value: write `unseeded`");
                        skip_value(&meta)?;
                        Ok(None)
                    }
                }),
                FieldKey::From => keys.from.set(&key, errors, |errors| {
                    value::<Ident>(&meta, &key, form, "a snapshot field name", errors)
                }),
                FieldKey::MaxUndeclaredRanks => {
                    keys.max_undeclared_ranks.set(&key, errors, |errors| {
                        value::<syn::LitInt>(&meta, &key, form, "a whole number", errors)
                    })
                }
                FieldKey::Buckets => keys
                    .buckets
                    .set(&key, errors, |errors| buckets(&meta, &key, errors)),
            }
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    keys.finish(doc(attrs))
}

/// The field attribute as `attr` names it, `metric` or its synonym `gauge`; `None` for any other
/// attribute.
fn field_attr(attr: &Attribute) -> Option<Symbol> {
    [METRIC, GAUGE]
        .into_iter()
        .find(|name| attr.path() == *name)
}

/// `= [0.1, ..]` or `= PATH`; a bad or missing value is reported and skipped.
fn buckets(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    errors: &mut Errors,
) -> syn::Result<Option<BucketsValue>> {
    let message = format!(
        "`buckets` expects a list of upper bounds or a path to a `const` or `static`, as in `{}`",
        FieldKey::Buckets.form()
    );
    if !meta.input.peek(Token![=]) {
        errors.spanned(key, message);
        skip_value(meta)?;
        return Ok(None);
    }
    let tokens = skip_value(meta)?;
    let mut iter = tokens.clone().into_iter();
    if let (Some(TokenTree::Group(group)), None) = (iter.next(), iter.next())
        && group.delimiter() == Delimiter::Bracket
    {
        let bounds = split_commas(group.stream())
            .into_iter()
            .map(|element| {
                // A bound that is not a number is reported with the other bucket rules, which
                // know whether the field is a histogram at all.
                (number(&element), element)
            })
            .collect();
        return Ok(Some(BucketsValue::Literal {
            bounds,
            brackets: group.span(),
        }));
    }
    match Path::parse_mod_style.parse2(tokens.clone()) {
        Ok(path) if !tokens.is_empty() => Ok(Some(BucketsValue::Path(path))),
        _ => {
            if tokens.is_empty() {
                errors.spanned(key, message);
            } else {
                errors.spanned(tokens, message);
            }
            Ok(None)
        }
    }
}

/// A number literal, possibly negative.
fn number(tokens: &TokenStream) -> Option<f64> {
    let parser = |input: syn::parse::ParseStream<'_>| {
        let negative: Option<Token![-]> = input.parse()?;
        let value = match input.parse::<Lit>()? {
            Lit::Float(float) => float.base10_parse::<f64>().ok(),
            Lit::Int(int) => int.base10_digits().parse::<f64>().ok(),
            _ => None,
        };
        Ok(value.map(|value| if negative.is_some() { -value } else { value }))
    };
    parser.parse2(tokens.clone()).ok().flatten()
}

/// The comma-separated parts of a token stream (a trailing comma gives no empty part).
fn split_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut parts = Vec::new();
    let mut current = TokenStream::new();
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => {
                parts.push(std::mem::take(&mut current));
            }
            _ => current.extend([token]),
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

/// The help text a doc comment gives: each line trimmed, blank lines
/// skipped, lines joined with one space.
pub(crate) fn doc(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        let Meta::NameValue(meta) = &attr.meta else {
            continue;
        };
        if meta.path != DOC {
            continue;
        }
        if let Expr::Lit(ExprLit {
            lit: Lit::Str(text),
            ..
        }) = &meta.value
        {
            let text = text.value();
            lines.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|line| !line.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    if lines.is_empty() {
        None
    } else {
        Some(lines.join(" "))
    }
}

/// `labels("a", ..)`: the names, or `None` after reporting a bad form.
fn labels(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    errors: &mut Errors,
) -> syn::Result<Option<Vec<LitStr>>> {
    if !meta.input.peek(syn::token::Paren) {
        errors.spanned(
            key,
            format!(
                "`labels` expects a parenthesized list of string literals, as in `{}`",
                FieldKey::Labels.form()
            ),
        );
        skip_value(meta)?;
        return Ok(None);
    }
    let content;
    syn::parenthesized!(content in meta.input);
    match Punctuated::<LitStr, Token![,]>::parse_terminated(&content) {
        Ok(names) => Ok(Some(names.into_iter().collect())),
        Err(error) => {
            errors.at(
                error.span(),
                "`labels(..)` takes label names as string literals, as in `labels(\"lora_adapter\")`",
            );
            let _rest: TokenStream = content.parse()?;
            Ok(None)
        }
    }
}

/// `const_labels(key = "value", ..)`.
fn const_labels(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    errors: &mut Errors,
) -> syn::Result<Vec<ConstLabel>> {
    let mut out = Vec::new();
    if !meta.input.peek(syn::token::Paren) {
        errors.spanned(
            key,
            format!(
                "`const_labels` expects a parenthesized list, as in `{}`",
                ContainerKey::ConstLabels.form()
            ),
        );
        skip_value(meta)?;
        return Ok(out);
    }
    let message = "`const_labels(..)` takes `label = \"value\"` pairs, as in `const_labels(engine = \"vllm\")`";
    let result = meta.parse_nested_meta(|label| {
        let Some(key) = label.path.get_ident().cloned() else {
            errors.spanned(&label.path, message);
            skip_value(&label)?;
            return Ok(());
        };
        let tokens = if label.input.peek(Token![=]) {
            skip_value(&label)?
        } else {
            skip_value(&label)?;
            TokenStream::new()
        };
        if tokens.is_empty() {
            errors.spanned(&key, message);
            return Ok(());
        }
        match syn::parse2::<LitStr>(tokens.clone()) {
            Ok(value) => out.push(ConstLabel { key, value }),
            Err(_) => errors.spanned(tokens, message),
        }
        Ok(())
    });
    if let Err(error) = result {
        errors.push(error);
    }
    Ok(out)
}
