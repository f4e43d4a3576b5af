//! Metric name rules: Prometheus's syntax, and the naming conventions that `promtool check
//! metrics` lints (Prometheus 2.42, `util/promlint`), plus two of our own.

use core::fmt;

/// The Prometheus type a metric is exported as, which decides the naming rules it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// A counter: its name ends in `_total`.
    Counter,
    /// A gauge.
    Gauge,
    /// A histogram: the page adds `_bucket`, `_sum` and `_count` to its name.
    Histogram,
}

impl MetricType {
    /// The type as the page's `# TYPE` line spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Counter => "counter",
            Self::Gauge => "gauge",
            Self::Histogram => "histogram",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a valid Prometheus metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub const fn is_valid_metric_name(name: &str) -> bool {
    is_valid_name(name.as_bytes(), true)
}

/// Whether `name` is a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub const fn is_valid_label_name(name: &str) -> bool {
    is_valid_name(name.as_bytes(), false)
}

const fn is_valid_name(bytes: &[u8], colon: bool) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = b.is_ascii_alphabetic()
            || b == b'_'
            || (colon && b == b':')
            || (i > 0 && b.is_ascii_digit());
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// promtool's camelCase test: a lowercase letter followed by an uppercase one.
pub(crate) fn has_camel_case(name: &str) -> bool {
    name.as_bytes()
        .windows(2)
        .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase())
}

/// Why a metric name breaks Prometheus's syntax or naming conventions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem<'a> {
    /// The name is empty.
    Empty,
    /// The name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    Invalid,
    /// The name contains `:`, which Prometheus keeps for recording rules.
    Colon,
    /// camelCase instead of `snake_case`.
    CamelCase,
    /// A counter whose name does not end in `_total`.
    CounterWithoutTotal,
    /// A name ending in a suffix that another type owns (`_total` for counters; `_count`, `_sum`
    /// and `_bucket` for the series a histogram adds).
    ForeignSuffix {
        /// The suffix, with its `_`.
        suffix: &'static str,
        /// Who owns it, for the message.
        owner: &'static str,
    },
    /// A type name (`counter`, `gauge`, `histogram`, `summary`) as a word of the name.
    TypeInName {
        /// The type named.
        type_name: &'static str,
    },
    /// A unit with a prefix, or one that is not a base unit (`milliseconds`, `kilobytes`,
    /// `minutes`).
    NonBaseUnit {
        /// The word of the name.
        unit: &'a str,
        /// The base unit to use instead.
        base: &'static str,
    },
    /// An abbreviated unit as a whole word (`ms`, `kb`, `s`).
    AbbreviatedUnit {
        /// The word of the name.
        abbreviation: &'a str,
        /// The base unit to use instead.
        base: &'static str,
    },
}

/// Checks the exported name of a metric of type `ty` (prefix included, before the `_bucket`,
/// `_sum` and `_count` a histogram adds).
///
/// Besides Prometheus's syntax, these are promtool's lints (each unit word of the name is
/// checked, where promtool stops at the first unit word its map yields, in an order that changes
/// from run to run):
/// counters end in `_total` and nothing else does; `_count`, `_sum` and `_bucket` are left to
/// histograms and summaries; no type name as a word; base units only, unabbreviated; `snake_case`;
/// no `:`. Two rules go further, on purpose: a histogram's own name may not end in `_count`,
/// `_sum`, `_bucket` or `_total` either (its series would read `x_count_count`), and neither may
/// a gauge's.
///
/// # Errors
/// The first rule `name` breaks, in the order of [`NameProblem`]'s variants.
pub fn check_metric_name(name: &str, ty: MetricType) -> Result<(), NameProblem<'_>> {
    if name.is_empty() {
        return Err(NameProblem::Empty);
    }
    if !is_valid_metric_name(name) {
        return Err(NameProblem::Invalid);
    }
    if name.contains(':') {
        return Err(NameProblem::Colon);
    }
    if has_camel_case(name) {
        return Err(NameProblem::CamelCase);
    }
    match ty {
        MetricType::Counter if !name.ends_with("_total") => {
            return Err(NameProblem::CounterWithoutTotal);
        }
        MetricType::Counter => {}
        MetricType::Gauge | MetricType::Histogram => {
            if let Some(&(suffix, owner)) = FOREIGN_SUFFIXES
                .iter()
                .find(|(suffix, _)| name.ends_with(suffix))
            {
                return Err(NameProblem::ForeignSuffix { suffix, owner });
            }
        }
    }
    if let Some(&type_name) = TYPE_NAMES.iter().find(|ty| has_word(name, ty)) {
        return Err(NameProblem::TypeInName { type_name });
    }
    for word in name.split('_') {
        if let Some(base) = non_base_unit(word) {
            return Err(NameProblem::NonBaseUnit { unit: word, base });
        }
    }
    for word in name.split('_').skip(1) {
        if let Some(&(_, base)) = ABBREVIATIONS
            .iter()
            .find(|(abbreviation, _)| word.eq_ignore_ascii_case(abbreviation))
        {
            return Err(NameProblem::AbbreviatedUnit {
                abbreviation: word,
                base,
            });
        }
    }
    Ok(())
}

impl fmt::Display for NameProblem<'_> {
    /// What the rule is and what to do instead, without the metric's name: callers say which.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("a metric needs a name"),
            Self::Invalid => f.write_str(
                "metric names must match `[a-zA-Z_:][a-zA-Z0-9_:]*`; use letters, digits and `_`",
            ),
            Self::Colon => f.write_str(
                "metric names should not contain `:`, which Prometheus keeps for recording rules \
                 (promtool lints it); use `_`",
            ),
            Self::CamelCase => f.write_str(
                "metric names are snake_case, not camelCase (promtool lints it); write it in \
                 snake_case",
            ),
            Self::CounterWithoutTotal => f.write_str(
                "counter names end in `_total` (promtool lints it); add `_total` to the name",
            ),
            Self::ForeignSuffix { suffix, owner } => write!(
                f,
                "it ends in `{suffix}`, a suffix Prometheus gives to {owner}, so queries would \
                 misread it; drop `{suffix}` from the name"
            ),
            Self::TypeInName { type_name } => write!(
                f,
                "metric names should not include their type `{type_name}` (promtool lints it); \
                 remove the word `{type_name}`"
            ),
            Self::NonBaseUnit { unit, base } => write!(
                f,
                "`{unit}` is not a base unit (promtool lints it); use `_{base}` instead of \
                 `_{unit}` and convert the value"
            ),
            Self::AbbreviatedUnit { abbreviation, base } => write!(
                f,
                "`{abbreviation}` is an abbreviated unit (promtool lints it); use `_{base}` \
                 instead of `_{abbreviation}`"
            ),
        }
    }
}

/// Suffixes a gauge's or histogram's own name may not end in, and who owns them.
const FOREIGN_SUFFIXES: &[(&str, &str)] = &[
    ("_total", "counters"),
    ("_count", "the count series of histograms and summaries"),
    ("_sum", "the sum series of histograms and summaries"),
    ("_bucket", "the bucket series of histograms"),
];

/// Type names promtool refuses as a word of a name.
const TYPE_NAMES: &[&str] = &["counter", "gauge", "histogram", "summary"];

/// Units promtool recognises, with their base unit (the list of the `promlint` that
/// Prometheus 2.42's promtool is built with).
const UNITS: &[(&str, &str)] = &[
    ("amperes", "amperes"),
    ("bytes", "bytes"),
    ("celsius", "celsius"),
    ("grams", "grams"),
    ("joules", "joules"),
    ("kelvin", "kelvin"),
    ("meters", "meters"),
    ("metres", "metres"),
    ("seconds", "seconds"),
    ("volts", "volts"),
    ("minutes", "seconds"),
    ("hours", "seconds"),
    ("days", "seconds"),
    ("weeks", "seconds"),
    ("kelvins", "kelvin"),
    ("fahrenheit", "celsius"),
    ("rankine", "celsius"),
    ("inches", "meters"),
    ("yards", "meters"),
    ("miles", "meters"),
    ("bits", "bytes"),
    ("calories", "joules"),
    ("pounds", "grams"),
    ("ounces", "grams"),
];

/// Unit prefixes promtool recognises (`mibi` is its spelling).
const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// Abbreviated units promtool refuses as a whole word, with the base unit to use.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("s", "seconds"),
    ("ms", "seconds"),
    ("us", "seconds"),
    ("ns", "seconds"),
    ("sec", "seconds"),
    ("b", "bytes"),
    ("kb", "bytes"),
    ("mb", "bytes"),
    ("gb", "bytes"),
    ("tb", "bytes"),
    ("pb", "bytes"),
    ("m", "seconds` (for minutes) or `_meters"),
    ("h", "seconds"),
    ("d", "seconds"),
];

/// The base unit to use instead of `word`, when `word` is a known unit (with or without a prefix)
/// that is not a base unit.
fn non_base_unit(word: &str) -> Option<&'static str> {
    for &(unit, base) in UNITS {
        let Some(prefix) = word.strip_suffix(unit) else {
            continue;
        };
        if prefix.is_empty() {
            return (unit != base).then_some(base);
        }
        if UNIT_PREFIXES.contains(&prefix) {
            return Some(base);
        }
    }
    None
}

/// `_word_` inside `name`, or `_word` at its end, ignoring ASCII case.
fn has_word(name: &str, word: &str) -> bool {
    name.split('_')
        .skip(1)
        .any(|part| part.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricType::{Counter, Gauge, Histogram};

    #[test]
    fn every_rule_has_a_name_that_breaks_it() {
        let table = [
            ("", Gauge, NameProblem::Empty),
            ("1x", Gauge, NameProblem::Invalid),
            ("a-b", Gauge, NameProblem::Invalid),
            ("job:rate", Gauge, NameProblem::Colon),
            ("queueDepth", Gauge, NameProblem::CamelCase),
            ("requests", Counter, NameProblem::CounterWithoutTotal),
            ("requests_count", Counter, NameProblem::CounterWithoutTotal),
            (
                "requests_total",
                Gauge,
                NameProblem::ForeignSuffix {
                    suffix: "_total",
                    owner: "counters",
                },
            ),
            (
                "latency_seconds_count",
                Histogram,
                NameProblem::ForeignSuffix {
                    suffix: "_count",
                    owner: "the count series of histograms and summaries",
                },
            ),
            (
                "x_sum",
                Gauge,
                NameProblem::ForeignSuffix {
                    suffix: "_sum",
                    owner: "the sum series of histograms and summaries",
                },
            ),
            (
                "x_bucket",
                Histogram,
                NameProblem::ForeignSuffix {
                    suffix: "_bucket",
                    owner: "the bucket series of histograms",
                },
            ),
            (
                "requests_counter_total",
                Counter,
                NameProblem::TypeInName {
                    type_name: "counter",
                },
            ),
            (
                "queue_gauge",
                Gauge,
                NameProblem::TypeInName { type_name: "gauge" },
            ),
            (
                "x_histogram_seconds",
                Histogram,
                NameProblem::TypeInName {
                    type_name: "histogram",
                },
            ),
            (
                "x_summary",
                Gauge,
                NameProblem::TypeInName {
                    type_name: "summary",
                },
            ),
            (
                "latency_milliseconds",
                Histogram,
                NameProblem::NonBaseUnit {
                    unit: "milliseconds",
                    base: "seconds",
                },
            ),
            (
                "cache_kilobytes",
                Gauge,
                NameProblem::NonBaseUnit {
                    unit: "kilobytes",
                    base: "bytes",
                },
            ),
            (
                "uptime_minutes",
                Gauge,
                NameProblem::NonBaseUnit {
                    unit: "minutes",
                    base: "seconds",
                },
            ),
            (
                "latency_ms",
                Histogram,
                NameProblem::AbbreviatedUnit {
                    abbreviation: "ms",
                    base: "seconds",
                },
            ),
            (
                "cache_kb_used",
                Gauge,
                NameProblem::AbbreviatedUnit {
                    abbreviation: "kb",
                    base: "bytes",
                },
            ),
        ];
        for (name, ty, problem) in table {
            assert_eq!(
                check_metric_name(name, ty),
                Err(problem),
                "{name} as a {ty}"
            );
        }
    }

    #[test]
    fn the_reference_names_and_everyday_names_pass() {
        let table = [
            ("dynamo_component_total_blocks", Gauge),
            ("dynamo_component_gpu_cache_usage_percent", Gauge),
            ("dynamo_component_kv_cache_hit_rate", Gauge),
            ("dynamo_component_model_load_time_seconds", Gauge),
            ("dynamo_component_shutdown_stage_seconds", Gauge),
            ("dynamo_component_requests_total", Counter),
            ("dynamo_component_time_to_first_token_seconds", Histogram),
            ("engine_gauges_scrape_failures_total", Counter),
            ("thermometers", Gauge),
            ("kv_cache_bytes", Gauge),
            ("_x", Gauge),
            ("X_Y", Gauge),
            ("ms", Gauge),
        ];
        for (name, ty) in table {
            assert_eq!(check_metric_name(name, ty), Ok(()), "{name} as a {ty}");
        }
    }

    #[test]
    fn validity_tables() {
        for ok in ["a", "_a", "a1", "A_b"] {
            assert!(is_valid_label_name(ok), "{ok}");
            assert!(is_valid_metric_name(ok), "{ok}");
        }
        for bad in ["", "1a", "a-b", "a b", "é"] {
            assert!(!is_valid_label_name(bad), "{bad}");
            assert!(!is_valid_metric_name(bad), "{bad}");
        }
        assert!(is_valid_metric_name("a:b"));
        assert!(!is_valid_label_name("a:b"));
    }
}
