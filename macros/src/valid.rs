//! Rules across attributes and fields: names, labels, help texts, buckets and which attribute
//! fits which kind of field. The rules themselves live in `engine-gauges-rules`, shared with the
//! runtime; this file says where each one points.

use crate::ast::{Field, Input};
use crate::attr::BucketsValue;
use crate::errors::Errors;
use crate::kind::{FAMILY, FieldKind, KINDS, PER_RANK};
use crate::symbol::{BUCKETS, HELP, LABELS, METRIC, SNAPSHOT};
use engine_gauges_rules::labels::DP_RANK;
use engine_gauges_rules::{
    BucketProblem, LabelProblem, MetricType, NameProblem, check_buckets, check_label_name,
    check_metric_name, is_valid_metric_name,
};
use proc_macro2::Span;
use std::collections::{HashMap, HashSet};

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
        check_buckets_of(field, errors);
        check_field_labels(field, &const_names, per_rank, errors);
    }
}

fn check_prefix(input: &Input<'_>, errors: &mut Errors) {
    if let Some(prefix) = &input.attrs.prefix {
        let value = prefix.value();
        if value.is_empty() {
            return;
        }
        if !is_valid_metric_name(&value) {
            errors.at(
                prefix.span(),
                format!(
                    "invalid prefix `{value}`: a prefix must be a valid metric name \
                     (`[a-zA-Z_:][a-zA-Z0-9_:]*`), or `\"\"` for no prefix"
                ),
            );
        } else if let Some(problem) = prefix_problem(&value) {
            errors.at(prefix.span(), format!("prefix `{value}`: {problem}"));
        }
    }
}

/// What the naming conventions say of a prefix, on its own (the suffix rules are the name's).
fn prefix_problem(prefix: &str) -> Option<NameProblem<'_>> {
    match check_metric_name(prefix, MetricType::Gauge) {
        Ok(()) | Err(NameProblem::ForeignSuffix { .. }) => None,
        Err(problem) => Some(problem),
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
        None if field.attrs.doc.is_none() && !field.attrs.has(HELP) => errors.at(
            field.ident.span(),
            format!(
                "metric `{}` has no help text: add a doc comment (`/// ...`) or \
                 `#[{METRIC}(help = \"...\")]` to field `{}`",
                input.full_name(field),
                field.field_name()
            ),
        ),
        Some(_) | None => {}
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
        "rename the field or set `#[metric(name = \"...\")]`"
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
        prefix.is_empty() || (is_valid_metric_name(&prefix) && prefix_problem(&prefix).is_none())
    });
    // With an invalid prefix (already reported) judge the part after it alone.
    let valid = if prefix_ok {
        is_valid_metric_name(&full)
    } else {
        short
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
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
    // With a prefix that breaks a rule (already reported at the prefix), the name after it is
    // judged alone, so the prefix's mistake is not reported again at every field.
    let judged = if prefix_ok {
        full.as_str()
    } else {
        short.as_str()
    };
    if let Some(kind) = field.kind
        && let Err(problem) = check_metric_name(judged, kind.row.ty)
    {
        errors.at(span, format!("{} `{full}`: {problem}", kind.row.ty));
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
        && !input.attrs.has(SNAPSHOT)
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
    let a = article(&ty);
    check_labels_fit(field, kind, &ty, errors);
    if let Some(key) = &field.attrs.unseeded
        && !kind.seedable()
    {
        errors.at(
            key.span(),
            format!(
                "`unseeded` only applies to `{PER_RANK}<..>` and `{FAMILY}<..>` fields (it leaves \
                 their series absent until first written); field `{name}` is {a} `{ty}`: remove \
                 `unseeded`"
            ),
        );
    }
    if let Some(from) = &field.attrs.from
        && !kind.takes_from()
    {
        let why = if kind.histogram() {
            format!(
                "a histogram records observations, not a value to copy: remove `from` and call \
                 `observe` on field `{name}`"
            )
        } else {
            format!(
                "a snapshot field is one value, but `{ty}` has a series per label value; remove \
                 `from` and write field `{name}` in code"
            )
        };
        errors.at(
            from.key.span(),
            format!("`from` cannot write field `{name}`: {why}"),
        );
    }
    if let Some((key, value)) = &field.attrs.max_undeclared_ranks {
        if !kind.per_rank() {
            errors.at(
                key.span(),
                format!(
                    "`max_undeclared_ranks` only applies to `{PER_RANK}<..>` fields (it bounds the \
                     ranks written beyond the declared ones); field `{name}` is {a} `{ty}`: remove \
                     `max_undeclared_ranks`"
                ),
            );
        } else if value.base10_parse::<u32>().is_err() {
            errors.at(
                value.span(),
                format!(
                    "`max_undeclared_ranks` is a number of ranks from 0 to {}: `{value}` is not one",
                    u32::MAX
                ),
            );
        }
    }
    match &field.attrs.buckets {
        Some(buckets) if !kind.histogram() => errors.at(
            buckets.key.span(),
            format!(
                "`buckets` only applies to histograms; field `{name}` is {a} `{ty}`: remove \
                 `buckets`"
            ),
        ),
        None if kind.histogram() && !field.attrs.has(BUCKETS) => errors.spanned(
            field.ty,
            format!(
                "histogram `{}` needs bucket bounds: add `#[{METRIC}(buckets = [..])]`, or a \
                 preset such as `buckets = engine_gauges::buckets::REQUEST_LATENCY_SECONDS` \
                 (LLM latencies span milliseconds to minutes; no default fits them)",
                input.full_name(field)
            ),
        ),
        _ => {}
    }
}

/// `labels(..)` against the field's kind: required and non-empty for a `*Vec`, one name per
/// label for a typed family, refused otherwise.
fn check_labels_fit(field: &Field<'_>, kind: FieldKind<'_>, ty: &str, errors: &mut Errors) {
    let name = field.field_name();
    let a = article(ty);
    if let (Some(set), Some(count)) = (kind.label_set(), kind.written_arity())
        && !(2..=4).contains(&count)
    {
        errors.spanned(
            set,
            format!(
                "the label set of field `{name}` is a tuple of {count}: a label set is one \
                 `#[derive(LabelValue)]` enum, or a tuple of two to four of them"
            ),
        );
        return;
    }
    let typed = kind.written_arity();
    match (&field.attrs.labels, typed) {
        (Some(labels), _) if !kind.needs_labels() => {
            let why = if kind.per_rank() {
                format!(" (the variable label of a `{PER_RANK}` field is `{DP_RANK}`)")
            } else {
                String::new()
            };
            let with_labels = KINDS
                .iter()
                .filter(|row| row.vec)
                .map(|row| format!("`{}`", row.type_name))
                .collect::<Vec<_>>()
                .join(", ");
            errors.at(
                labels.key.span(),
                format!(
                    "`{ty}` takes no `labels(..)`{why}: only {with_labels} and `{FAMILY}<L, M>` \
                     have labels of their own; remove `labels` from field `{name}`"
                ),
            );
        }
        (Some(labels), Some(count)) if labels.names.len() != count => errors.at(
            labels.key.span(),
            format!(
                "field `{name}` is {a} `{ty}`, whose label set has {count} label{s}, but \
                 `labels(..)` names {given}: give one name per label, in the order of the set",
                s = if count == 1 { "" } else { "s" },
                given = labels.names.len(),
            ),
        ),
        (Some(labels), _) if labels.names.is_empty() => errors.at(
            labels.key.span(),
            format!(
                "`labels()` of field `{name}` is empty: `{ty}` needs at least one variable \
                 label, as in `labels(\"lora_adapter\")`"
            ),
        ),
        (None, _) if kind.needs_labels() && !field.attrs.has(LABELS) => {
            let what = if kind.label_set().is_some() {
                format!(
                    "one label name per label of its set, as in \
                     `#[{METRIC}(labels(\"finish_reason\"))]`,"
                )
            } else {
                format!("variable labels: add `#[{METRIC}(labels(\"label\", ..))]`")
            };
            errors.spanned(field.ty, format!("`{ty}` needs {what} on field `{name}`"));
        }
        _ => {}
    }
}

/// Literal bucket bounds, checked here; a path is checked by a generated `const` assertion.
fn check_buckets_of(field: &Field<'_>, errors: &mut Errors) {
    let Some(buckets) = &field.attrs.buckets else {
        return;
    };
    if field.kind.is_some_and(|kind| !kind.histogram()) {
        return;
    }
    let BucketsValue::Literal { bounds, brackets } = &buckets.value else {
        return;
    };
    let mut values = Vec::with_capacity(bounds.len());
    for (value, tokens) in bounds {
        match value {
            Some(value) => values.push(*value),
            None => errors.spanned(
                tokens,
                "`buckets = [..]` takes number literals; for bounds computed or kept elsewhere, \
                 name a `const` or `static`: `buckets = MY_BUCKETS`",
            ),
        }
    }
    if values.len() < bounds.len() {
        return;
    }
    match check_buckets(&values) {
        Ok(()) => {}
        Err(
            problem @ (BucketProblem::NotFinite { index } | BucketProblem::NotIncreasing { index }),
        ) => {
            if let Some((_, tokens)) = bounds.get(index) {
                errors.spanned(tokens, problem.message());
            }
        }
        Err(problem) => errors.at(*brackets, problem.message()),
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
    if field.kind.is_some_and(|kind| !kind.needs_labels()) {
        return;
    }
    let name = field.field_name();
    let place = Place::Field(&name);
    let own_rank = field.per_rank();
    let mut seen = Vec::new();
    for label in &labels.names {
        let value = label.value();
        if own_rank && value == DP_RANK {
            errors.at(
                label.span(),
                format!(
                    "label `{DP_RANK}` in {place} repeats the label `PerRank` gives every series \
                     of this field; remove it"
                ),
            );
            continue;
        }
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
    let message = match check_label_name(name) {
        Err(LabelProblem::Empty) => format!("empty label name in {place}: give the label a name"),
        Err(problem @ (LabelProblem::HierarchyInjected | LabelProblem::EngineAuto)) => {
            format!("label `{name}` is reserved: {problem} from {place}")
        }
        Err(problem) => format!("label `{name}` in {place}: {problem}"),
        Ok(()) => match (name, per_rank) {
            (DP_RANK, Some(first)) => format!(
                "label `{DP_RANK}` in {place} clashes with the per-rank fields of this set (such \
                 as `{first}`), whose variable label it is; rename it"
            ),
            _ => return true,
        },
    };
    errors.at(span, message);
    false
}

/// "an" before a type whose name starts with a vowel (`an IntGauge`), else "a".
fn article(ty: &str) -> &'static str {
    match ty.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => "an",
        _ => "a",
    }
}
