//! The metric kinds a field can have: one table row per kind.

use syn::{GenericArgument, PathArguments, Type};

/// The wrapper that turns a scalar metric into a `dp_rank` family.
pub(crate) const PER_RANK: &str = "PerRank";

/// One supported metric type.
#[derive(Debug)]
pub(crate) struct KindRow {
    /// Last path segment of the field type (or of `PerRank<..>`'s argument).
    pub(crate) type_name: &'static str,
    /// `MetricKind` variant registered for a plain field of this type.
    pub(crate) kind: &'static str,
    /// `MetricKind` variant registered when wrapped in `PerRank<..>`;
    /// `None` when `PerRank` does not take this type.
    pub(crate) per_rank_kind: Option<&'static str>,
    /// `labels(..)` is required (and must be non-empty); otherwise it is rejected.
    pub(crate) labels: bool,
    /// Exported as a Prometheus gauge: the name must not end in a suffix that
    /// Prometheus gives to counters, histograms and summaries.
    pub(crate) gauge: bool,
    /// `from = field` may write it from the snapshot.
    pub(crate) from: bool,
}

/// Every supported type. Adding a kind is adding a row.
pub(crate) const KINDS: &[KindRow] = &[
    KindRow {
        type_name: "Gauge",
        kind: "Gauge",
        per_rank_kind: Some("GaugeVec"),
        labels: false,
        gauge: true,
        from: true,
    },
    KindRow {
        type_name: "IntGauge",
        kind: "IntGauge",
        per_rank_kind: Some("IntGaugeVec"),
        labels: false,
        gauge: true,
        from: true,
    },
    KindRow {
        type_name: "GaugeVec",
        kind: "GaugeVec",
        per_rank_kind: None,
        labels: true,
        gauge: true,
        from: false,
    },
    KindRow {
        type_name: "IntGaugeVec",
        kind: "IntGaugeVec",
        per_rank_kind: None,
        labels: true,
        gauge: true,
        from: false,
    },
];

/// A recognised field type.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldKind {
    pub(crate) row: &'static KindRow,
    pub(crate) per_rank: bool,
}

impl FieldKind {
    /// Recognises a field type by the last segment of its path (and of
    /// `PerRank`'s argument). `None` for anything unsupported.
    pub(crate) fn of(ty: &Type) -> Option<Self> {
        let (name, arg) = last_segment(ty)?;
        if name == PER_RANK {
            let (inner, inner_arg) = last_segment(arg?)?;
            if inner_arg.is_some() {
                return None;
            }
            let row = KINDS.iter().find(|row| row.type_name == inner)?;
            row.per_rank_kind?;
            Some(FieldKind {
                row,
                per_rank: true,
            })
        } else if arg.is_some() {
            None
        } else {
            let row = KINDS.iter().find(|row| row.type_name == name)?;
            Some(FieldKind {
                row,
                per_rank: false,
            })
        }
    }

    /// The `MetricKind` variant that gets registered.
    pub(crate) fn metric_kind(self) -> &'static str {
        match (self.per_rank, self.row.per_rank_kind) {
            (true, Some(kind)) => kind,
            _ => self.row.kind,
        }
    }

    /// `labels(..)` fits this kind: it has variable labels of its own (a
    /// per-rank field's only variable label is `dp_rank`).
    pub(crate) fn takes_labels(self) -> bool {
        self.row.labels && !self.per_rank
    }

    /// The type as users write it, e.g. `PerRank<IntGauge>`.
    pub(crate) fn type_name(self) -> String {
        if self.per_rank {
            format!("{PER_RANK}<{}>", self.row.type_name)
        } else {
            self.row.type_name.to_owned()
        }
    }
}

/// `ty` is a `PerRank<..>`, supported or not.
pub(crate) fn is_per_rank(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|(name, _)| name == PER_RANK)
}

/// Why `ty` is not a supported field type, for the error at `ty`.
pub(crate) fn unsupported(ty: &Type) -> String {
    let shown = display_type(ty);
    // `PerRank` of a kind with labels of its own gets its own advice.
    if let Some((outer, Some(arg))) = last_segment(ty)
        && outer == PER_RANK
        && let Some((inner, None)) = last_segment(arg)
        && let Some(row) = KINDS
            .iter()
            .find(|row| row.type_name == inner && row.per_rank_kind.is_none())
    {
        let takes = or_list(
            KINDS
                .iter()
                .filter(|row| row.per_rank_kind.is_some())
                .map(|row| format!("`{}`", row.type_name))
                .collect(),
        );
        return format!(
            "unsupported field type `{shown}`: `{PER_RANK}` takes {takes} (one series per \
             `dp_rank`); for a family with labels of its own use `{inner}` with \
             `#[gauge(labels(\"label\", ..))]`",
            inner = row.type_name
        );
    }
    format!(
        "unsupported field type `{shown}`: engine gauges are {}",
        supported_list()
    )
}

/// "Gauge, IntGauge, ..., PerRank<Gauge> or PerRank<IntGauge>", from the table.
pub(crate) fn supported_list() -> String {
    let plain = KINDS.iter().map(|row| row.type_name.to_owned());
    let ranked = KINDS
        .iter()
        .filter(|row| row.per_rank_kind.is_some())
        .map(|row| format!("{PER_RANK}<{}>", row.type_name));
    or_list(plain.chain(ranked).collect())
}

/// "a, b or c".
fn or_list(names: Vec<String>) -> String {
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The last segment's name of a plain path type, and its single generic type
/// argument if it has exactly one (`Some(None)`-like cases are unsupported).
fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let path = match ty {
        Type::Path(path) if path.qself.is_none() => &path.path,
        Type::Group(group) => return last_segment(&group.elem),
        Type::Paren(paren) => return last_segment(&paren.elem),
        _ => return None,
    };
    let segment = path.segments.last()?;
    let arg = match &segment.arguments {
        PathArguments::None => None,
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
            Some(GenericArgument::Type(ty)) => Some(ty),
            _ => return Some((String::new(), None)),
        },
        _ => return Some((String::new(), None)),
    };
    Some((segment.ident.to_string(), arg))
}

/// A type as users write it: `PerRank<Gauge>` rather than `PerRank < Gauge >`.
pub(crate) fn display_type(ty: &Type) -> String {
    let raw = quote::ToTokens::to_token_stream(ty).to_string();
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        if c == ' ' {
            let next = chars.peek().copied().unwrap_or(' ');
            if "<:&([".contains(prev) || "<>:,;)]".contains(next) {
                continue;
            }
        }
        out.push(c);
        prev = c;
    }
    out
}
