//! Parsing of `#[gauges(..)]` on the struct, `#[metric(..)]` (or `#[gauge(..)]`) on fields, and
//! doc comments.
//!
//! Parsing recovers after a bad key or value (it skips to the next `,`), so
//! every mistake in an attribute is reported in one compile.

use crate::errors::Errors;
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{Parse, Parser};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Ident, Lit, LitStr, Meta, Path, Token, Type};

pub(crate) const CONTAINER_ATTR: &str = "gauges";
/// The field attribute.
pub(crate) const FIELD_ATTR: &str = "metric";
/// The field attribute's older name, an exact synonym.
pub(crate) const FIELD_ATTR_SYNONYM: &str = "gauge";

/// A key an attribute takes: its name as written, and the form it takes (for messages).
trait Key: Copy + 'static {
    /// Every key, in the order messages list them.
    const ALL: &'static [Self];
    /// The key as written.
    fn name(self) -> &'static str;
    /// The key with an example value.
    fn form(self) -> &'static str;
}

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

    fn name(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::ConstLabels => "const_labels",
            Self::Prefix => "prefix",
            Self::Crate => "crate",
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

    fn name(self) -> &'static str {
        match self {
            Self::Help => "help",
            Self::Name => "name",
            Self::Labels => "labels",
            Self::Unseeded => "unseeded",
            Self::From => "from",
            Self::MaxUndeclaredRanks => "max_undeclared_ranks",
            Self::Buckets => "buckets",
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
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    pub(crate) snapshot: Option<Type>,
    pub(crate) const_labels: Vec<ConstLabel>,
    pub(crate) prefix: Option<LitStr>,
    pub(crate) krate: Option<Path>,
    /// Every key given, well-formed or not.
    pub(crate) keys: Vec<String>,
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
#[derive(Default)]
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
    pub(crate) keys: Vec<String>,
}

impl ContainerAttrs {
    /// `key` was given, even with a malformed value (already reported).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|given| given == key)
    }
}

impl FieldAttrs {
    /// `key` was given, even with a malformed value (already reported).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|given| given == key)
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

/// The keys of one attribute set already seen, to report duplicates.
#[derive(Default)]
struct Seen(Vec<String>);

impl Seen {
    /// `false` (and an error at `key`) when `key` was already given.
    fn first(&mut self, key: &Ident, errors: &mut Errors) -> bool {
        let name = key.to_string();
        if self.0.contains(&name) {
            errors.spanned(key, format!("duplicate `{name}`: remove one of them"));
            false
        } else {
            self.0.push(name);
            true
        }
    }
}

pub(crate) fn container(attrs: &[Attribute], errors: &mut Errors) -> ContainerAttrs {
    let mut out = ContainerAttrs::default();
    let mut seen = Seen::default();
    for attr in attrs {
        if is_field_attr(attr) {
            errors.spanned(
                attr.path(),
                format!(
                    "`#[{}(..)]` belongs on fields; the struct takes `#[gauges(..)]`",
                    attr_name(attr)
                ),
            );
            continue;
        }
        if !attr.path().is_ident(CONTAINER_ATTR) {
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let Some((key, which)) = known_key::<ContainerKey>(&meta, CONTAINER_ATTR, errors)?
            else {
                return Ok(());
            };
            let first = seen.first(&key, errors);
            let form = which.form();
            match which {
                ContainerKey::Snapshot => {
                    let value = value::<Type>(&meta, &key, form, "a type", errors)?;
                    if first {
                        out.snapshot = value;
                    }
                }
                ContainerKey::ConstLabels => {
                    let labels = const_labels(&meta, &key, errors)?;
                    if first {
                        out.const_labels = labels;
                    }
                }
                ContainerKey::Prefix => {
                    let value = value::<LitStr>(&meta, &key, form, "a string literal", errors)?;
                    if first {
                        out.prefix = value;
                    }
                }
                ContainerKey::Crate => {
                    let value = value_with(
                        &meta,
                        &key,
                        form,
                        "a path to the engine_gauges crate",
                        Path::parse_mod_style,
                        errors,
                    )?;
                    if first {
                        out.krate = value;
                    }
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out.keys = seen.0;
    out
}

pub(crate) fn field(attrs: &[Attribute], errors: &mut Errors) -> FieldAttrs {
    let mut out = FieldAttrs {
        doc: doc(attrs),
        ..FieldAttrs::default()
    };
    let mut seen = Seen::default();
    for attr in attrs {
        if attr.path().is_ident(CONTAINER_ATTR) {
            errors.spanned(
                attr.path(),
                "`#[gauges(..)]` belongs on the struct; fields take `#[metric(..)]`",
            );
            continue;
        }
        if !is_field_attr(attr) {
            continue;
        }
        let name = attr_name(attr);
        let result = attr.parse_nested_meta(|meta| {
            let Some((key, which)) = known_key::<FieldKey>(&meta, &name, errors)? else {
                return Ok(());
            };
            let first = seen.first(&key, errors);
            let form = which.form();
            match which {
                FieldKey::Help => {
                    let value = value::<LitStr>(&meta, &key, form, "a string literal", errors)?;
                    if first {
                        out.help = value;
                    }
                }
                FieldKey::Name => {
                    let value = value::<LitStr>(&meta, &key, form, "a string literal", errors)?;
                    if first {
                        out.name = value;
                    }
                }
                FieldKey::Labels => {
                    let names = labels(&meta, &key, errors)?;
                    if first {
                        out.labels = names.map(|names| Labels { key, names });
                    }
                }
                FieldKey::Unseeded => {
                    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                        errors.spanned(&key, "`unseeded` takes no value: write `unseeded`");
                        skip_value(&meta)?;
                    } else if first {
                        out.unseeded = Some(key);
                    }
                }
                FieldKey::MaxUndeclaredRanks => {
                    let value = value::<syn::LitInt>(&meta, &key, form, "a whole number", errors)?;
                    if first {
                        out.max_undeclared_ranks = value.map(|value| (key, value));
                    }
                }
                FieldKey::Buckets => {
                    let value = buckets(&meta, &key, errors)?;
                    if first {
                        out.buckets = value.map(|value| Buckets { key, value });
                    }
                }
                FieldKey::From => {
                    let field = value::<Ident>(&meta, &key, form, "a snapshot field name", errors)?;
                    if first {
                        out.from = field.map(|field| FromField { key, field });
                    }
                }
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error);
        }
    }
    out.keys = seen.0;
    out
}

/// `#[metric(..)]` or its synonym `#[gauge(..)]`.
fn is_field_attr(attr: &Attribute) -> bool {
    attr.path().is_ident(FIELD_ATTR) || attr.path().is_ident(FIELD_ATTR_SYNONYM)
}

/// The field attribute's name as written.
fn attr_name(attr: &Attribute) -> String {
    attr.path()
        .get_ident()
        .map_or_else(|| FIELD_ATTR.to_owned(), ToString::to_string)
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
        if !meta.path.is_ident("doc") {
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

/// The key of `meta` if it is one of `keys`; otherwise an error naming it and
/// listing the valid keys, and its value is skipped.
fn known_key<K: Key>(
    meta: &ParseNestedMeta<'_>,
    attr: &str,
    errors: &mut Errors,
) -> syn::Result<Option<(Ident, K)>> {
    let key = match meta.path.get_ident() {
        Some(key) => {
            if let Some(which) = K::ALL.iter().find(|which| key == which.name()) {
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
        .map(|key| format!("`{}`", key.name()))
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
fn value<T: Parse>(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    form: &str,
    what: &str,
    errors: &mut Errors,
) -> syn::Result<Option<T>> {
    value_with(meta, key, form, what, T::parse, errors)
}

fn value_with<P: Parser>(
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

/// Consumes everything up to the next top-level `,` (after an optional `=`)
/// and returns it, without the `=`.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<TokenStream> {
    let mut tokens = TokenStream::new();
    if meta.input.peek(Token![=]) {
        meta.input.parse::<Token![=]>()?;
    }
    while !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        tokens.extend([meta.input.parse::<TokenTree>()?]);
    }
    Ok(tokens)
}
