//! The names of the derive's attributes and of their keys, one constant each, compared with
//! idents and paths through `==`.

use std::fmt::{self, Display};
use syn::{Ident, Path};

/// The name of an attribute or of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(&'static str);

/// The struct attribute.
pub(crate) const GAUGES: Symbol = Symbol("gauges");
/// The field attribute.
pub(crate) const METRIC: Symbol = Symbol("metric");
/// The field attribute's older name, an exact synonym.
pub(crate) const GAUGE: Symbol = Symbol("gauge");
/// The attribute of `#[derive(LabelValue)]`, on the enum and on variants.
pub(crate) const LABEL: Symbol = Symbol("label");
/// Doc comments, as `#[doc = "..."]`.
pub(crate) const DOC: Symbol = Symbol("doc");

// Keys of `#[gauges(..)]`.
pub(crate) const SNAPSHOT: Symbol = Symbol("snapshot");
pub(crate) const CONST_LABELS: Symbol = Symbol("const_labels");
pub(crate) const PREFIX: Symbol = Symbol("prefix");
/// Also a key of `#[label(..)]` on the enum.
pub(crate) const CRATE: Symbol = Symbol("crate");

// Keys of `#[metric(..)]`.
pub(crate) const HELP: Symbol = Symbol("help");
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const LABELS: Symbol = Symbol("labels");
pub(crate) const UNSEEDED: Symbol = Symbol("unseeded");
pub(crate) const FROM: Symbol = Symbol("from");
pub(crate) const MAX_UNDECLARED_RANKS: Symbol = Symbol("max_undeclared_ranks");
pub(crate) const BUCKETS: Symbol = Symbol("buckets");

// Keys of `#[label(..)]` on a variant.
pub(crate) const RENAME: Symbol = Symbol("rename");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
