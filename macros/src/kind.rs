//! The metric kinds a field can have: one table row per `prometheus` type, and the shapes
//! (`PerRank<M>`, `Family<L, M>`, `PerRank<Family<L, M>>`) that wrap the series kinds.

use engine_gauges_rules::MetricType;
use syn::{GenericArgument, PathArguments, Type};

/// The wrapper that turns a series kind into a `dp_rank` family.
pub(crate) const PER_RANK: &str = "PerRank";
/// The wrapper that turns a series kind into a family over a typed label set.
pub(crate) const FAMILY: &str = "Family";

/// One supported `prometheus` type.
#[derive(Debug)]
pub(crate) struct KindRow {
    /// Last path segment of the type.
    pub(crate) type_name: &'static str,
    /// The Prometheus type it is exported as.
    pub(crate) ty: MetricType,
    /// A `*Vec`: string labels of its own, `labels(..)` required.
    pub(crate) vec: bool,
    /// For a series kind, the `MetricKind` of its `*Vec`, registered for `PerRank` and `Family`.
    pub(crate) vec_kind: Option<&'static str>,
}

impl KindRow {
    const fn series(type_name: &'static str, ty: MetricType, vec_kind: &'static str) -> Self {
        Self {
            type_name,
            ty,
            vec: false,
            vec_kind: Some(vec_kind),
        }
    }

    const fn vec(type_name: &'static str, ty: MetricType) -> Self {
        Self {
            type_name,
            ty,
            vec: true,
            vec_kind: None,
        }
    }
}

/// Every supported type. Adding a kind is adding a row.
pub(crate) const KINDS: &[KindRow] = &[
    KindRow::series("Gauge", MetricType::Gauge, "GaugeVec"),
    KindRow::series("IntGauge", MetricType::Gauge, "IntGaugeVec"),
    KindRow::series("Counter", MetricType::Counter, "CounterVec"),
    KindRow::series("IntCounter", MetricType::Counter, "IntCounterVec"),
    KindRow::series("Histogram", MetricType::Histogram, "HistogramVec"),
    KindRow::vec("GaugeVec", MetricType::Gauge),
    KindRow::vec("IntGaugeVec", MetricType::Gauge),
    KindRow::vec("CounterVec", MetricType::Counter),
    KindRow::vec("IntCounterVec", MetricType::Counter),
    KindRow::vec("HistogramVec", MetricType::Histogram),
];

/// How a field wraps its kind.
#[derive(Clone, Copy)]
pub(crate) enum Shape<'a> {
    /// A `prometheus` type as it is.
    Plain,
    /// `PerRank<M>`.
    PerRank,
    /// `Family<L, M>`, with `L`'s type.
    Family(&'a Type),
    /// `PerRank<Family<L, M>>`, with `L`'s type.
    PerRankFamily(&'a Type),
}

/// A recognised field type.
#[derive(Clone, Copy)]
pub(crate) struct FieldKind<'a> {
    pub(crate) row: &'static KindRow,
    pub(crate) shape: Shape<'a>,
}

impl<'a> FieldKind<'a> {
    /// Recognises a field type by the last segment of its path (and of its generic arguments).
    /// `None` for anything unsupported.
    pub(crate) fn of(ty: &'a Type) -> Option<Self> {
        let (name, args) = segment(ty)?;
        match (name.as_str(), args.as_slice()) {
            (PER_RANK, [inner]) => {
                let (inner_name, inner_args) = segment(inner)?;
                match (inner_name.as_str(), inner_args.as_slice()) {
                    (FAMILY, [labels, series]) => Some(Self {
                        row: series_row(series)?,
                        shape: Shape::PerRankFamily(labels),
                    }),
                    (_, []) => Some(Self {
                        row: series_row(inner)?,
                        shape: Shape::PerRank,
                    }),
                    _ => None,
                }
            }
            (FAMILY, [labels, series]) => Some(Self {
                row: series_row(series)?,
                shape: Shape::Family(labels),
            }),
            (_, []) => Some(Self {
                row: KINDS.iter().find(|row| row.type_name == name)?,
                shape: Shape::Plain,
            }),
            _ => None,
        }
    }

    /// The `MetricKind` variant that gets registered.
    pub(crate) fn metric_kind(self) -> &'static str {
        match (self.shape, self.row.vec_kind) {
            (Shape::Plain, _) | (_, None) => self.row.type_name,
            (_, Some(vec_kind)) => vec_kind,
        }
    }

    pub(crate) fn per_rank(self) -> bool {
        matches!(self.shape, Shape::PerRank | Shape::PerRankFamily(_))
    }

    /// The typed label set of a `Family`, if it is one.
    pub(crate) fn label_set(self) -> Option<&'a Type> {
        match self.shape {
            Shape::Family(labels) | Shape::PerRankFamily(labels) => Some(labels),
            Shape::Plain | Shape::PerRank => None,
        }
    }

    /// How many labels the label set has, when the tokens say: a tuple written out has its
    /// length, a path (an enum, or an alias to a tuple) is checked by a `const` assertion instead.
    pub(crate) fn written_arity(self) -> Option<usize> {
        match self.label_set().map(ungroup) {
            Some(Type::Tuple(tuple)) => Some(tuple.elems.len()),
            _ => None,
        }
    }

    /// `labels(..)` is required: a `*Vec` or a typed family.
    pub(crate) fn needs_labels(self) -> bool {
        self.row.vec || self.label_set().is_some()
    }

    /// `unseeded` applies: a family whose series are created ahead of time.
    pub(crate) fn seedable(self) -> bool {
        !matches!(self.shape, Shape::Plain)
    }

    /// `from = field` can write it: one gauge or counter series (per rank or not).
    pub(crate) fn takes_from(self) -> bool {
        !self.row.vec
            && self.row.ty != MetricType::Histogram
            && matches!(self.shape, Shape::Plain | Shape::PerRank)
    }

    pub(crate) fn histogram(self) -> bool {
        self.row.ty == MetricType::Histogram
    }

    /// The type as users write it, e.g. `PerRank<IntGauge>` or `Family<L, Counter>`.
    pub(crate) fn type_name(self) -> String {
        let series = self.row.type_name;
        match self.shape {
            Shape::Plain => series.to_owned(),
            Shape::PerRank => format!("{PER_RANK}<{series}>"),
            Shape::Family(labels) => format!("{FAMILY}<{}, {series}>", display_type(labels)),
            Shape::PerRankFamily(labels) => {
                format!("{PER_RANK}<{FAMILY}<{}, {series}>>", display_type(labels))
            }
        }
    }
}

/// The series row `ty` names, if it is a series kind.
fn series_row(ty: &Type) -> Option<&'static KindRow> {
    let (name, args) = segment(ty)?;
    if !args.is_empty() {
        return None;
    }
    KINDS
        .iter()
        .find(|row| row.type_name == name && row.vec_kind.is_some())
}

/// Why `ty` is not a supported field type, for the one error at `ty`.
pub(crate) fn unsupported(ty: &Type) -> String {
    let shown = display_type(ty);
    let series = or_list(&series_names());
    match segment(ty) {
        Some((name, _)) if name == PER_RANK => format!(
            "unsupported field type `{shown}`: `{PER_RANK}` takes {series} (one series per \
             `dp_rank`), or `{FAMILY}<L, M>` of one of them; for string labels of its own use a \
             `*Vec` type with `#[metric(labels(\"label\", ..))]`"
        ),
        Some((name, _)) if name == FAMILY => format!(
            "unsupported field type `{shown}`: `{FAMILY}<L, M>` takes a `#[derive(LabelValue)]` \
             enum (or a tuple of up to four) as `L`, and {series} as `M`"
        ),
        _ => format!(
            "unsupported field type `{shown}`: engine metrics are {}",
            supported_list()
        ),
    }
}

fn series_names() -> Vec<String> {
    KINDS
        .iter()
        .filter(|row| row.vec_kind.is_some())
        .map(|row| format!("`{}`", row.type_name))
        .collect()
}

/// Every supported field type, from the table.
pub(crate) fn supported_list() -> String {
    let plain = KINDS.iter().map(|row| format!("`{}`", row.type_name));
    let wrapped = [
        format!("`{PER_RANK}<M>`"),
        format!("`{FAMILY}<L, M>`"),
        format!("`{PER_RANK}<{FAMILY}<L, M>>`"),
    ];
    let series = KINDS
        .iter()
        .filter(|row| row.vec_kind.is_some())
        .map(|row| row.type_name)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "{} (with `M` one of {series})",
        or_list(&plain.chain(wrapped).collect::<Vec<_>>())
    )
}

/// "a, b or c".
fn or_list(names: &[String]) -> String {
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

fn ungroup(ty: &Type) -> &Type {
    match ty {
        Type::Group(group) => ungroup(&group.elem),
        Type::Paren(paren) => ungroup(&paren.elem),
        _ => ty,
    }
}

/// The last segment's name of a plain path type, and its generic type arguments (a segment with
/// any other kind of argument gives an empty name, which matches no kind).
fn segment(ty: &Type) -> Option<(String, Vec<&Type>)> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    let args = match &segment.arguments {
        PathArguments::None => Vec::new(),
        PathArguments::AngleBracketed(args) => {
            let mut types = Vec::new();
            for arg in &args.args {
                match arg {
                    GenericArgument::Type(ty) => types.push(ty),
                    _ => return Some((String::new(), Vec::new())),
                }
            }
            types
        }
        PathArguments::Parenthesized(_) => return Some((String::new(), Vec::new())),
    };
    Some((segment.ident.to_string(), args))
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
