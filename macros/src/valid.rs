//! Rules across attributes and fields: names, labels, help texts and which
//! attribute fits which kind of field.

use crate::ast::{Field, Input};
use crate::errors::Errors;
use crate::kind::{KINDS, PER_RANK};
use crate::reserved::{self, RANK_LABEL, Reserved};
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};

/// Name suffixes Prometheus gives to other metric types, and which.
const FOREIGN_SUFFIXES: &[(&str, &str)] = &[
    ("_total", "counters"),
    ("_count", "histograms and summaries"),
    ("_sum", "histograms and summaries"),
    ("_bucket", "histograms"),
];

/// Labels Prometheus itself gives a meaning, and which.
const PROMETHEUS_LABELS: &[(&str, &str)] = &[("quantile", "summary quantiles")];

pub(crate) fn check(input: &Input<'_>, errors: &mut Errors) {
    check_prefix(input, errors);
    let per_rank = input.first_per_rank().map(Field::field_name);
    let per_rank = per_rank.as_deref();

    // const_labels: one error per label at its key, then duplicates.
    let mut const_names: HashSet<String> = HashSet::new();
    for label in &input.attrs.const_labels {
        let name = label.name();
        let span = label.key.span();
        if !check_label(&name, span, &Place::Const, per_rank, errors) {
            continue;
        }
        if !const_names.insert(name.clone()) {
            errors.at(
                span,
                format!("duplicate const label `{name}`: remove one of them"),
            );
        }
    }

    let mut exported: HashMap<String, String> = HashMap::new();
    for field in &input.fields {
        check_help(input, field, errors);
        check_name(input, field, &mut exported, errors);
        check_attrs_fit_kind(input, field, errors);
        check_field_labels(field, &const_names, per_rank, errors);
    }
}

fn check_prefix(input: &Input<'_>, errors: &mut Errors) {
    if let Some(prefix) = &input.attrs.prefix {
        let value = prefix.value();
        if !value.is_empty() && !is_metric_name(&value) {
            errors.at(
                prefix.span(),
                format!(
                    "invalid prefix `{value}`: a prefix must be a valid metric name \
                     (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or `\"\"` for no prefix"
                ),
            );
        }
    }
}

fn check_help(input: &Input<'_>, field: &Field<'_>, errors: &mut Errors) {
    match &field.attrs.help {
        Some(help) if help.value().trim().is_empty() => errors.at(
            help.span(),
            format!(
                "empty help for metric `{}`: say what it measures",
                input.full_name(field)
            ),
        ),
        Some(_) => {}
        None if field.attrs.doc.is_none() && !field.attrs.has("help") => errors.at(
            field.ident.span(),
            format!(
                "metric `{}` has no help text: add a doc comment (`/// ...`) or \
                 `#[gauge(help = \"...\")]` to field `{}`",
                input.full_name(field),
                field.field_name()
            ),
        ),
        None => {}
    }
}

fn check_name(
    input: &Input<'_>,
    field: &Field<'_>,
    exported: &mut HashMap<String, String>,
    errors: &mut Errors,
) {
    let span = field.name_span();
    let fix = if field.attrs.name.is_some() {
        "change `name`"
    } else {
        "rename the field or set `#[gauge(name = \"...\")]`"
    };
    let short = field.short_name();
    if short.is_empty() {
        errors.at(
            span,
            "empty metric name: `name` sets the name after the prefix, e.g. `name = \"queue_depth\"`",
        );
        return;
    }
    let full = input.full_name(field);
    let prefix_ok = input.attrs.prefix.as_ref().is_none_or(|prefix| {
        let prefix = prefix.value();
        prefix.is_empty() || is_metric_name(&prefix)
    });
    // With an invalid prefix (already reported) judge the part after it alone.
    let valid = if prefix_ok {
        is_metric_name(&full)
    } else {
        short.chars().all(is_metric_char)
    };
    if !valid {
        errors.at(
            span,
            format!(
                "invalid metric name `{full}`: metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`; {fix}"
            ),
        );
        return;
    }
    if field.kind.is_some_and(|kind| kind.row.gauge)
        && let Some((suffix, owner)) = FOREIGN_SUFFIXES
            .iter()
            .find(|(suffix, _)| full.ends_with(suffix))
    {
        errors.at(
            span,
            format!(
                "gauge `{full}` ends in `{suffix}`, a suffix Prometheus reserves for {owner}, \
                     so queries and exporters would misread it; {fix}"
            ),
        );
    }
    match exported.get(&full) {
        Some(first) => errors.at(
            span,
            format!(
                "metric `{full}` is already exported by field `{first}`: two fields cannot \
                 export the same name; {fix}"
            ),
        ),
        None => {
            exported.insert(full, field.field_name());
        }
    }
}

fn check_attrs_fit_kind(input: &Input<'_>, field: &Field<'_>, errors: &mut Errors) {
    let name = field.field_name();
    if let Some(from) = &field.attrs.from
        && input.attrs.snapshot.is_none()
        && !input.attrs.has("snapshot")
    {
        errors.at(
            from.key.span(),
            format!(
                "`from = {}` needs a snapshot to read from: add \
                     `#[gauges(snapshot = YourSnapshot)]` to the struct, or remove `from`",
                from.field
            ),
        );
    }
    // The rest depends on a recognised type.
    let Some(kind) = field.kind else {
        return;
    };
    let ty = kind.type_name();
    let with_labels = KINDS
        .iter()
        .filter(|row| row.labels)
        .map(|row| format!("`{}`", row.type_name))
        .collect::<Vec<_>>()
        .join(" and ");
    match &field.attrs.labels {
        Some(labels) if !kind.takes_labels() => {
            let why = if kind.per_rank {
                format!(" (the variable label of a `{PER_RANK}` field is `{RANK_LABEL}`)")
            } else {
                String::new()
            };
            errors.at(
                labels.key.span(),
                format!(
                    "`{ty}` takes no `labels(..)`{why}: only {with_labels} have variable \
                     labels; remove `labels` from field `{name}`"
                ),
            );
        }
        Some(labels) if labels.names.is_empty() => errors.at(
            labels.key.span(),
            format!(
                "`labels()` of field `{name}` is empty: `{ty}` needs at least one variable \
                 label, as in `labels(\"lora_adapter\")`"
            ),
        ),
        None if kind.row.labels && !field.attrs.has("labels") => errors.spanned(
            field.ty,
            format!(
                "`{ty}` needs variable labels: add `#[gauge(labels(\"label\", ..))]` to field \
                 `{name}`"
            ),
        ),
        _ => {}
    }
    if let Some(key) = &field.attrs.unseeded
        && !kind.per_rank
    {
        errors.at(
            key.span(),
            format!(
                "`unseeded` only applies to `{PER_RANK}<..>` fields (it leaves each rank's \
                     series absent until first written); field `{name}` is a `{ty}`: remove \
                     `unseeded`"
            ),
        );
    }
    if let Some(from) = &field.attrs.from
        && !kind.row.from
    {
        errors.at(
            from.key.span(),
            format!(
                "`from` cannot write field `{name}`: a snapshot field is one value, but \
                     `{ty}` has a series per label value; remove `from` and set it in code"
            ),
        );
    }
}

fn check_field_labels(
    field: &Field<'_>,
    const_names: &HashSet<String>,
    per_rank: Option<&str>,
    errors: &mut Errors,
) {
    let Some(labels) = &field.attrs.labels else {
        return;
    };
    // Labels the field's kind rejects (already reported) are not judged one by one.
    if field.kind.is_some_and(|kind| !kind.takes_labels()) {
        return;
    }
    let name = field.field_name();
    let place = Place::Field(&name);
    let mut seen = Vec::new();
    for label in &labels.names {
        let value = label.value();
        if !check_label(&value, label.span(), &place, per_rank, errors) {
            continue;
        }
        if seen.contains(&value) {
            errors.at(
                label.span(),
                format!("duplicate label `{value}` in {place}: remove one of them"),
            );
        } else if const_names.contains(&value) {
            errors.at(
                label.span(),
                format!(
                    "label `{value}` in {place} is also a const label of this set \
                     (`const_labels(..)`): remove one of them"
                ),
            );
        }
        seen.push(value);
    }
}

/// Where a label is declared, for messages.
enum Place<'a> {
    Const,
    Field(&'a str),
}

impl std::fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Const => f.write_str("`const_labels(..)`"),
            Place::Field(field) => write!(f, "`labels(..)` of field `{field}`"),
        }
    }
}

/// Reports what is wrong with one declared label name; `true` when nothing is.
fn check_label(
    name: &str,
    span: Span,
    place: &Place<'_>,
    per_rank: Option<&str>,
    errors: &mut Errors,
) -> bool {
    let message = if name.is_empty() {
        format!("empty label name in {place}: give the label a name")
    } else if !is_label_name(name) {
        format!(
            "invalid label name `{name}` in {place}: label names match \
             `[a-zA-Z_][a-zA-Z0-9_]*`; rename it"
        )
    } else if name.starts_with("__") {
        format!(
            "label `{name}` in {place} starts with `__`, which Prometheus reserves for its own \
             labels; rename it"
        )
    } else if let Some(why) = reserved::reserved(name) {
        let (who, all) = match why {
            Reserved::Hierarchy => (
                "injected on every metric by the runtime hierarchy",
                reserved::HIERARCHY_LABELS,
            ),
            Reserved::AutoLabel => (
                "added to every metric by `EngineMetrics` as an engine auto-label",
                reserved::AUTO_LABELS,
            ),
        };
        let all = all
            .iter()
            .map(|name| format!("`{name}`"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("label `{name}` is reserved: it is {who} ({all}); remove it from {place}")
    } else if let Some((_, meaning)) = PROMETHEUS_LABELS.iter().find(|(label, _)| *label == name) {
        format!("label `{name}` in {place} is reserved by Prometheus for {meaning}; rename it")
    } else if let (RANK_LABEL, Some(first)) = (name, per_rank) {
        format!(
            "label `{RANK_LABEL}` in {place} clashes with the per-rank fields of this set (such as \
             `{first}`), whose variable label it is; rename it"
        )
    } else {
        return true;
    };
    errors.at(span, message);
    false
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub(crate) fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(is_metric_char)
}

fn is_metric_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub(crate) fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
