//! A strict parser of the text exposition format (0.0.4), for the text that callbacks bridge into
//! a page.
//!
//! The text is parsed into metric families, which the page then renders with the crate's own
//! encoder: whatever a callback prints, the page it lands on is well-formed. The rules follow
//! Prometheus 2.42's text parser (and `promtool`'s stricter one where the two differ), and what
//! either of them refuses is refused here, naming the line:
//!
//! | input | here |
//! | --- | --- |
//! | `\r\n` line ends, leading blanks, trailing blanks | accepted; the re-rendered page has none |
//! | a label name twice in one sample, a `__name__` label | refused |
//! | values as Go's `strconv.ParseFloat` reads them: `1e999` (out of range), `+nan`, `-NaN`, `0x1p3`, `1_0` | refused |
//! | `NaN`, `Inf`, `+Inf`, `-inf`, `infinity` (any case) | accepted |
//! | a timestamp with a sign, a fraction, or past `i64` | refused |
//! | escapes other than `\\`, `\"`, `\n` in label values (`\\`, `\n` in help) | kept as the two characters they are, as Prometheus reads them, and re-escaped |
//! | a `TYPE` line after its family's samples, two different `TYPE` or `HELP` lines for one name | refused |
//! | the same series twice | refused |
//! | a histogram or summary series without `_sum` and `_count`, a fractional count | refused |
//!
//! Samples of one family may be spread over the text; they are gathered into one family.
//!
//! What is refused costs the family it belongs to, not the text: as Go's `promhttp` does, a
//! problem drops its whole metric family (every line of it, before and after the bad one) and
//! the text's other families are kept. A line belongs to the family its sample name maps to (a
//! histogram's `_bucket`, `_sum` and `_count` samples and a summary's `_sum` and `_count` to the
//! histogram or summary), or to the family its `HELP` or `TYPE` line names; a refused `TYPE` line
//! of a histogram or summary also drops the families named like its samples, so that no part of
//! it is served as a family of its own. A refused line that names no family (no valid metric
//! name) is dropped alone. A line that is refused never changes how the other lines are read,
//! so each kept family is exactly what the text would give without the dropped lines.

use std::collections::{HashMap, HashSet};

use prometheus::proto::{
    Bucket, Counter, Gauge, Histogram, LabelPair, Metric, MetricFamily, MetricType, Quantile,
    Summary, Untyped,
};

use crate::names::{is_valid_label_name, is_valid_metric_name};

/// What [`parse`] makes of a text.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// The families with no problem, in the order their names first appear. Families declared by
    /// `HELP` or `TYPE` lines without any sample are left out.
    pub(crate) families: Vec<MetricFamily>,
    /// What is wrong, one message per problem, in the order found: naming the line
    /// (`line N: ...: "the line"`), or the family for a fault found once the text is read whole
    /// (a series' missing parts), and what was dropped for it.
    pub(crate) problems: Vec<String>,
}

/// Parses `text` into families, dropping each family that has a problem (see the module doc).
pub(crate) fn parse(text: &str) -> Parsed {
    let mut parser = Parser::default();
    for (index, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        parser.blame.clear();
        if let Err(what) = parser.line(line) {
            let dropped = parser.drop_blamed();
            parser
                .problems
                .push(format!("line {}: {what}: {line:?}; {dropped}", index + 1));
        }
    }
    parser.finish()
}

#[derive(Default)]
struct Parser {
    families: Vec<Draft>,
    by_name: HashMap<String, usize>,
    /// The families the line being read belongs to, set as soon as its name is read: a problem
    /// with the line drops them.
    blame: Vec<String>,
    /// The families dropped for a problem.
    dropped: HashSet<String>,
    problems: Vec<String>,
}

struct Draft {
    name: String,
    help: Option<String>,
    kind: Option<MetricType>,
    series: Vec<Series>,
    by_labels: HashMap<Vec<(String, String)>, usize>,
}

/// One series (one label set) of a family, as its lines come in.
#[derive(Default)]
struct Series {
    labels: Vec<(String, String)>,
    timestamp: i64,
    value: Option<f64>,
    buckets: Vec<(f64, f64)>,
    quantiles: Vec<(f64, f64)>,
    sum: Option<f64>,
    count: Option<f64>,
}

/// Which part of a histogram or summary series a sample line is.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Value,
    Bucket,
    Quantile,
    Sum,
    Count,
}

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let line = line.trim_matches([' ', '\t']);
        if line.is_empty() {
            return Ok(());
        }
        if let Some(comment) = line.strip_prefix('#') {
            return self.comment(comment.trim_start_matches([' ', '\t']));
        }
        self.sample(line)
    }

    fn comment(&mut self, comment: &str) -> Result<(), String> {
        let (keyword, rest) = split_word(comment);
        match keyword {
            "HELP" => {
                let (name, help) = split_word(rest);
                if !is_valid_metric_name(name) {
                    return Err(format!(
                        "a HELP line needs a valid metric name, not {name:?}"
                    ));
                }
                self.blame.push(name.to_owned());
                let help = unescape(help, false);
                let draft = self.draft(name);
                match &draft.help {
                    Some(earlier) if *earlier != help => Err(format!(
                        "a second HELP line for `{name}` with another text; give each family one HELP line"
                    )),
                    _ => {
                        draft.help = Some(help);
                        Ok(())
                    }
                }
            }
            "TYPE" => {
                let (name, rest) = split_word(rest);
                let (kind, extra) = split_word(rest);
                if !is_valid_metric_name(name) {
                    return Err(format!(
                        "a TYPE line needs a valid metric name, not {name:?}"
                    ));
                }
                self.blame.push(name.to_owned());
                if matches!(kind, "histogram" | "summary") {
                    // Refused, the line would leave the samples of a histogram or summary to be
                    // read as families of their own.
                    self.blame
                        .extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")));
                }
                let kind = match kind {
                    "counter" => MetricType::COUNTER,
                    "gauge" => MetricType::GAUGE,
                    "histogram" => MetricType::HISTOGRAM,
                    "summary" => MetricType::SUMMARY,
                    "untyped" => MetricType::UNTYPED,
                    other => {
                        return Err(format!(
                            "unknown metric type {other:?}; use counter, gauge, histogram, summary or untyped"
                        ));
                    }
                };
                if !extra.is_empty() {
                    return Err("a TYPE line has a name and a type, nothing after".to_owned());
                }
                let with_samples = |name: &str| {
                    self.by_name
                        .get(name)
                        .is_some_and(|&i| !self.families[i].series.is_empty())
                };
                let mut own = vec![name.to_owned()];
                if matches!(kind, MetricType::HISTOGRAM | MetricType::SUMMARY) {
                    own.extend(["_bucket", "_sum", "_count"].map(|s| format!("{name}{s}")));
                }
                if own.iter().any(|n| with_samples(n)) {
                    return Err(format!(
                        "the TYPE line of `{name}` comes after its samples; put it before the family's first sample"
                    ));
                }
                let draft = self.draft(name);
                match draft.kind {
                    Some(earlier) if earlier != kind => Err(format!(
                        "a second TYPE line for `{name}` with another type; give each family one TYPE line"
                    )),
                    _ => {
                        draft.kind = Some(kind);
                        Ok(())
                    }
                }
            }
            // Any other comment is a comment.
            _ => Ok(()),
        }
    }

    fn draft(&mut self, name: &str) -> &mut Draft {
        let index = *self.by_name.entry(name.to_owned()).or_insert_with(|| {
            self.families.push(Draft {
                name: name.to_owned(),
                help: None,
                kind: None,
                series: Vec::new(),
                by_labels: HashMap::new(),
            });
            self.families.len() - 1
        });
        &mut self.families[index]
    }

    /// The family a sample name belongs to, and the sample's role in it.
    fn family_of(&self, name: &str) -> (String, Role) {
        let typed = |base: &str, kinds: &[MetricType]| {
            self.by_name
                .get(base)
                .and_then(|&i| self.families[i].kind)
                .is_some_and(|kind| kinds.contains(&kind))
        };
        let both = [MetricType::HISTOGRAM, MetricType::SUMMARY];
        for (suffix, role, kinds) in [
            ("_bucket", Role::Bucket, &[MetricType::HISTOGRAM][..]),
            ("_sum", Role::Sum, &both[..]),
            ("_count", Role::Count, &both[..]),
        ] {
            if let Some(base) = name.strip_suffix(suffix)
                && typed(base, kinds)
            {
                return (base.to_owned(), role);
            }
        }
        if typed(name, &[MetricType::SUMMARY]) {
            return (name.to_owned(), Role::Quantile);
        }
        (name.to_owned(), Role::Value)
    }

    // One pass over the line, in the grammar's order: name, labels, value, timestamp.
    #[allow(clippy::too_many_lines)]
    fn sample(&mut self, line: &str) -> Result<(), String> {
        let name_end = line
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(line.len());
        let name = &line[..name_end];
        if !is_valid_metric_name(name) {
            return Err("a sample must start with a valid metric name".to_owned());
        }
        self.blame.push(self.family_of(name).0);
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(inside) = rest.strip_prefix('{') {
            rest = parse_labels(inside, &mut labels)?;
        }
        if !rest.starts_with([' ', '\t']) {
            return Err("a sample needs a blank between its name (or labels) and its value".into());
        }
        let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
        let (Some(value), timestamp, None) = (fields.next(), fields.next(), fields.next()) else {
            return Err("a sample has a value and at most a timestamp after it".to_owned());
        };
        let value = parse_go_float(value).ok_or_else(|| {
            format!("{value:?} is not a number as Prometheus reads it (Go's ParseFloat: decimal, NaN, ±Inf; in range)")
        })?;
        let timestamp = match timestamp {
            None => 0,
            Some(t) if t.bytes().all(|b| b.is_ascii_digit()) => t
                .parse::<i64>()
                .map_err(|_| format!("timestamp {t:?} is past the largest one (i64)"))?,
            Some(t) => {
                return Err(format!(
                    "timestamp {t:?} is not milliseconds as digits only (no sign, no fraction)"
                ));
            }
        };
        for (i, (label, _)) in labels.iter().enumerate() {
            if label == "__name__" {
                return Err(
                    "the label `__name__` is the metric name; remove it from the label set".into(),
                );
            }
            if labels[..i].iter().any(|(l, _)| l == label) {
                return Err(format!(
                    "label `{label}` is given twice in one sample; give each label once"
                ));
            }
        }

        let (family, role) = self.family_of(name);
        if role == Role::Value
            && self
                .by_name
                .get(&family)
                .and_then(|&i| self.families[i].kind)
                == Some(MetricType::HISTOGRAM)
        {
            return Err(format!(
                "`{name}` is a histogram: its samples are `{name}_bucket`, `{name}_sum` and `{name}_count`"
            ));
        }
        let mut take = |key: &str| -> Result<Option<f64>, String> {
            match labels.iter().position(|(l, _)| l == key) {
                Some(at) => {
                    let (_, text) = labels.remove(at);
                    parse_go_float(&text)
                        .map(Some)
                        .ok_or_else(|| format!("label `{key}` must be a number, not {text:?}"))
                }
                None => Ok(None),
            }
        };
        let bound = match role {
            Role::Bucket => Some(take("le")?.ok_or("a histogram bucket needs an `le` label")?),
            Role::Quantile => {
                Some(take("quantile")?.ok_or("a summary's sample needs a `quantile` label")?)
            }
            _ => None,
        };
        labels.sort();
        let draft = self.draft(&family);
        let index = if let Some(&index) = draft.by_labels.get(&labels) {
            index
        } else {
            draft.series.push(Series {
                labels: labels.clone(),
                timestamp,
                ..Series::default()
            });
            draft.by_labels.insert(labels, draft.series.len() - 1);
            draft.series.len() - 1
        };
        let series = &mut draft.series[index];
        let twice = || format!("this series of `{family}` is given twice; give each series once");
        match (role, bound) {
            (Role::Value, _) if series.value.is_none() => series.value = Some(value),
            // Bounds repeat only as the same literal, so exact comparison is the test.
            #[allow(clippy::float_cmp)]
            (Role::Bucket, Some(le)) if series.buckets.iter().all(|(b, _)| *b != le) => {
                series.buckets.push((le, value));
            }
            #[allow(clippy::float_cmp)]
            (Role::Quantile, Some(q)) if series.quantiles.iter().all(|(b, _)| *b != q) => {
                series.quantiles.push((q, value));
            }
            (Role::Sum, _) if series.sum.is_none() => series.sum = Some(value),
            (Role::Count, _) if series.count.is_none() => series.count = Some(value),
            _ => return Err(twice()),
        }
        Ok(())
    }

    /// Drops the families blamed for the line just refused; says what was dropped.
    fn drop_blamed(&mut self) -> String {
        let Some(first) = self.blame.first() else {
            return "dropped the line".to_owned();
        };
        let said = format!("dropped family `{first}`");
        self.dropped.extend(self.blame.drain(..));
        said
    }

    fn finish(mut self) -> Parsed {
        let mut families = Vec::new();
        'families: for draft in std::mem::take(&mut self.families) {
            if draft.series.is_empty() || self.dropped.contains(&draft.name) {
                continue;
            }
            let kind = draft.kind.unwrap_or(MetricType::UNTYPED);
            let mut family = MetricFamily::default();
            family.set_name(draft.name.clone());
            family.set_help(draft.help.unwrap_or_default());
            family.set_field_type(kind);
            let mut metrics = Vec::with_capacity(draft.series.len());
            for series in draft.series {
                match build_metric(&draft.name, kind, series) {
                    Ok(metric) => metrics.push(metric),
                    Err(what) => {
                        self.problems
                            .push(format!("{what}; dropped family `{}`", draft.name));
                        continue 'families;
                    }
                }
            }
            family.set_metric(metrics);
            families.push(family);
        }
        Parsed {
            families,
            problems: self.problems,
        }
    }
}

fn build_metric(name: &str, kind: MetricType, series: Series) -> Result<Metric, String> {
    let mut metric = Metric::default();
    metric.set_label(
        series
            .labels
            .into_iter()
            .map(|(label, value)| {
                let mut pair = LabelPair::default();
                pair.set_name(label);
                pair.set_value(value);
                pair
            })
            .collect(),
    );
    metric.set_timestamp_ms(series.timestamp);
    let value = series.value.unwrap_or_default();
    match kind {
        MetricType::COUNTER => {
            let mut counter = Counter::default();
            counter.set_value(value);
            metric.set_counter(counter);
        }
        MetricType::GAUGE => {
            let mut gauge = Gauge::default();
            gauge.set_value(value);
            metric.set_gauge(gauge);
        }
        // Deprecated in the prometheus crate, but still the only home of an untyped value.
        #[allow(deprecated)]
        MetricType::UNTYPED => {
            let mut untyped = Untyped::default();
            untyped.set_value(value);
            metric.set_untyped(untyped);
        }
        MetricType::HISTOGRAM | MetricType::SUMMARY => {
            let what = if kind == MetricType::HISTOGRAM {
                "histogram"
            } else {
                "summary"
            };
            let (Some(sum), Some(count)) = (series.sum, series.count) else {
                return Err(format!(
                    "a {what} series of `{name}` lacks its `_sum` or `_count` line; print both"
                ));
            };
            let count = whole(count).ok_or_else(|| {
                format!("the `_count` of {what} `{name}` must be a whole number, not {count}")
            })?;
            if kind == MetricType::HISTOGRAM {
                let mut buckets = series.buckets;
                buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut histogram = Histogram::default();
                histogram.set_sample_sum(sum);
                histogram.set_sample_count(count);
                let mut out = Vec::with_capacity(buckets.len());
                for (le, cumulative) in buckets {
                    let cumulative = whole(cumulative).ok_or_else(|| {
                        format!(
                            "bucket le=\"{le}\" of histogram `{name}` must count a whole number, not {cumulative}"
                        )
                    })?;
                    let mut bucket = Bucket::default();
                    bucket.set_upper_bound(le);
                    bucket.set_cumulative_count(cumulative);
                    out.push(bucket);
                }
                histogram.set_bucket(out);
                metric.set_histogram(histogram);
            } else {
                let mut quantiles = series.quantiles;
                quantiles.sort_by(|a, b| a.0.total_cmp(&b.0));
                let mut summary = Summary::default();
                summary.set_sample_sum(sum);
                summary.set_sample_count(count);
                summary.set_quantile(
                    quantiles
                        .into_iter()
                        .map(|(q, v)| {
                            let mut quantile = Quantile::default();
                            quantile.set_quantile(q);
                            quantile.set_value(v);
                            quantile
                        })
                        .collect(),
                );
                metric.set_summary(summary);
            }
        }
    }
    Ok(metric)
}

/// `value` as a count: a whole number from 0 to 2^64.
fn whole(value: f64) -> Option<u64> {
    // 2^64 as f64 is exact; anything below it converts without loss of the integer part.
    (value >= 0.0 && value.fract() == 0.0 && value < 18_446_744_073_709_551_616.0)
        .then_some(value as u64)
}

/// The first blank-separated word of `text` and the rest after it, leading blanks dropped from
/// both.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim_start_matches([' ', '\t']);
    match text.find([' ', '\t']) {
        Some(end) => (&text[..end], text[end..].trim_start_matches([' ', '\t'])),
        None => (text, ""),
    }
}

/// Reads `name="value",...}` into `labels`; returns what follows the `}`.
fn parse_labels<'a>(
    mut rest: &'a str,
    labels: &mut Vec<(String, String)>,
) -> Result<&'a str, String> {
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or("unterminated label set")?;
        let label = &rest[..end];
        if !is_valid_label_name(label) {
            return Err(format!(
                "invalid label name {label:?}; label names match [a-zA-Z_][a-zA-Z0-9_]*"
            ));
        }
        rest = rest[end..].trim_start_matches([' ', '\t']);
        rest = rest
            .strip_prefix('=')
            .ok_or_else(|| format!("label `{label}` needs `=` after its name"))?;
        rest = rest.trim_start_matches([' ', '\t']);
        rest = rest
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of label `{label}` needs double quotes"))?;
        let mut close = None;
        let mut escaped = false;
        for (i, c) in rest.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let close = close.ok_or_else(|| format!("the value of label `{label}` is unterminated"))?;
        labels.push((label.to_owned(), unescape(&rest[..close], true)));
        rest = rest[close + 1..].trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels are separated by `,`".to_owned());
        }
    }
}

/// Undoes the format's escapes: `\\` and `\n`, and `\"` in label values. Any other backslash is
/// kept as it is, as Prometheus keeps it.
fn unescape(text: &str, quote: bool) -> String {
    if !text.contains('\\') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.clone().next() {
            Some('\\') => {
                out.push('\\');
                chars.next();
            }
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            Some('"') if quote => {
                out.push('"');
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    out
}

/// A number as Prometheus reads a sample value: Go's `strconv.ParseFloat(s, 64)`, with `p`, `P`
/// and `_` refused (Prometheus keeps to Go's pre-1.13 float syntax). That is: an optional sign and
/// a decimal with an optional exponent; `inf` or `infinity` in any case, with an optional sign;
/// `nan` in any case, without a sign. A decimal out of `f64`'s range is an error, not an infinity.
pub(crate) fn parse_go_float(text: &str) -> Option<f64> {
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let negative = text.starts_with('-');
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if text.eq_ignore_ascii_case("nan") {
        return Some(f64::NAN);
    }
    // The decimal grammar: digits, at most one point, at least one digit, then `e`/`E`, an
    // optional sign and at least one digit.
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], Some(&unsigned[at + 1..])),
        None => (unsigned, None),
    };
    let mut points = 0;
    let mut digits = 0;
    for b in mantissa.bytes() {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => points += 1,
            _ => return None,
        }
    }
    if digits == 0 || points > 1 {
        return None;
    }
    if let Some(exponent) = exponent {
        let exponent = exponent.strip_prefix(['+', '-']).unwrap_or(exponent);
        if exponent.is_empty() || !exponent.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrape::encode::encode;

    /// The page `text` renders to, or its problems.
    fn render(text: &str) -> Result<String, Vec<String>> {
        let parsed = parse(text);
        if parsed.problems.is_empty() {
            Ok(encode(&parsed.families))
        } else {
            Err(parsed.problems)
        }
    }

    fn names(parsed: &Parsed) -> Vec<&str> {
        parsed.families.iter().map(MetricFamily::name).collect()
    }

    #[test]
    fn go_floats() {
        for (text, value) in [
            ("1", 1.0),
            ("-1.5", -1.5),
            ("+2", 2.0),
            (".5", 0.5),
            ("5.", 5.0),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("1e-999", 0.0),
            ("Inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("INFINITY", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            assert_eq!(parse_go_float(text), Some(value), "{text}");
        }
        assert!(parse_go_float("NaN").is_some_and(f64::is_nan));
        assert!(parse_go_float("nan").is_some_and(f64::is_nan));
        for bad in [
            "1e999", "-1e999", "+nan", "-NaN", "0x10", "0x1p3", "1_000", "1p3", "", ".", "e5",
            "1e", "1e+", "1.2.3", "--1", "+-1", "in", "infinit", "1f", " 1",
        ] {
            assert_eq!(parse_go_float(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_whole_text_re_renders_in_order_with_families_gathered() {
        let text = "# HELP a_total Things, with \\\\ and \\n and \\t.\r\n# TYPE a_total counter\r\n\
                    a_total{x=\"1\"} 3\r\n  b 1 \n# just a note\na_total{x=\"2\",} 4 1700000000000\t\n\n";
        assert_eq!(
            render(text).as_deref(),
            Ok(
                "# HELP a_total Things, with \\\\ and \\n and \\\\t.\n# TYPE a_total counter\n\
                a_total{x=\"1\"} 3\na_total{x=\"2\"} 4 1700000000000\n# TYPE b untyped\nb 1\n"
            )
        );
    }

    #[test]
    fn histograms_and_summaries_are_rebuilt() {
        let text = "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\",a=\"x\"} 2\n\
                    h_bucket{a=\"x\",le=\"+Inf\"} 3\nh_sum{a=\"x\"} 4.5\nh_count{a=\"x\"} 3\n\
                    # HELP s S.\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 2\n";
        assert_eq!(
            render(text).as_deref(),
            Ok(
                "# HELP h H.\n# TYPE h histogram\nh_bucket{a=\"x\",le=\"1\"} 2\n\
                h_bucket{a=\"x\",le=\"+Inf\"} 3\nh_sum{a=\"x\"} 4.5\nh_count{a=\"x\"} 3\n\
                # HELP s S.\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 2\n"
            )
        );
    }

    #[test]
    fn label_values_keep_unknown_escapes_as_prometheus_reads_them() {
        assert_eq!(
            render("x{a=\"tab\\there \\\"q\\\" \\\\ \\n\"} 1\n").as_deref(),
            Ok("# TYPE x untyped\nx{a=\"tab\\\\there \\\"q\\\" \\\\ \\n\"} 1\n")
        );
        // A real tab is a character like any other.
        assert_eq!(
            render("x{a=\"a\tb\"} 1\n").as_deref(),
            Ok("# TYPE x untyped\nx{a=\"a\tb\"} 1\n")
        );
    }

    #[test]
    fn refusals_name_the_line_and_the_fault_and_drop_only_its_family() {
        for (text, line, fault, kept) in [
            (
                "ok 1\nx{a=\"1\",a=\"2\"} 1\n",
                2,
                "label `a` is given twice",
                &["ok"][..],
            ),
            ("x{__name__=\"y\"} 1\n", 1, "`__name__`", &[]),
            ("x 1e999\nok 1\n", 1, "not a number", &["ok"]),
            ("x +nan\n", 1, "not a number", &[]),
            ("x -NaN\n", 1, "not a number", &[]),
            ("x 1 +1700000000000\n", 1, "digits only", &[]),
            ("x 1 -5\n", 1, "digits only", &[]),
            ("x 1 1.5\n", 1, "digits only", &[]),
            ("x 1 99999999999999999999\n", 1, "past the largest", &[]),
            (
                "x_total 1\nok 1\n# TYPE x_total counter\n",
                3,
                "after its samples",
                &["ok"],
            ),
            // The samples read before the TYPE line go with it.
            (
                "h_count 1\n# TYPE h histogram\n",
                2,
                "after its samples",
                &[],
            ),
            (
                "# TYPE x gauge\n# TYPE x counter\nx 1\nok 1\n",
                2,
                "second TYPE",
                &["ok"],
            ),
            ("# HELP x a\n# HELP x b\nx 1\n", 2, "second HELP", &[]),
            ("x 1\nok 1\nx 2\n", 3, "given twice", &["ok"]),
            ("# TYPE x nonsense\nx 1\n", 1, "unknown metric type", &[]),
            ("# TYPE x gauge extra\nx 1\n", 1, "nothing after", &[]),
            ("# HELP 9x a\nok 1\n", 1, "valid metric name", &["ok"]),
            ("x{ 1\n", 1, "unterminated label set", &[]),
            ("x{1=\"a\"} 1\n", 1, "invalid label name", &[]),
            ("x{a=1} 1\n", 1, "double quotes", &[]),
            ("x{a=\"1\"}1\n", 1, "needs a blank", &[]),
            ("x{a=\"1} 1\n", 1, "unterminated", &[]),
            ("x{a=\"1\" b=\"2\"} 1\n", 1, "separated by", &[]),
            ("x\n", 1, "needs a blank", &[]),
            ("x 1 2 3\n", 1, "at most a timestamp", &[]),
            ("ok 1\n9x 1\n", 2, "valid metric name", &["ok"]),
            ("# TYPE h histogram\nh_bucket 1\n", 2, "needs an `le`", &[]),
            (
                "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n",
                2,
                "must be a number",
                &[],
            ),
            ("# TYPE s summary\ns 1\n", 2, "needs a `quantile`", &[]),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\nok 1\n",
                0,
                "lacks its `_sum`",
                &["ok"],
            ),
            (
                "# TYPE h histogram\nh_sum 1\nh_count 1.5\n",
                0,
                "whole number",
                &[],
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} -1\nh_sum 1\nh_count 1\n",
                0,
                "whole number",
                &[],
            ),
            ("# TYPE h histogram\nh 1\n", 2, "is a histogram", &[]),
        ] {
            let parsed = parse(text);
            let [error] = &parsed.problems[..] else {
                panic!("{text:?}: one problem expected: {:?}", parsed.problems);
            };
            // Faults found once the text is read whole (a series' missing parts) have no line.
            if line > 0 {
                assert!(
                    error.starts_with(&format!("line {line}: ")),
                    "{text:?}: {error}"
                );
            } else {
                assert!(!error.starts_with("line "), "{text:?}: {error}");
            }
            assert!(error.contains(fault), "{text:?}: {error}");
            assert_eq!(names(&parsed), kept, "{text:?}");
        }
    }

    #[test]
    fn a_bad_value_costs_its_family_only() {
        let parsed = parse("good 1\nx 1e999\nalso_good 2\n");
        assert_eq!(
            encode(&parsed.families),
            "# TYPE good untyped\ngood 1\n# TYPE also_good untyped\nalso_good 2\n"
        );
        let [problem] = &parsed.problems[..] else {
            panic!("{:?}", parsed.problems);
        };
        assert!(
            problem.starts_with("line 2: \"1e999\" is not a number")
                && problem.ends_with(": \"x 1e999\"; dropped family `x`"),
            "{problem}"
        );
    }

    #[test]
    fn a_bad_line_drops_its_whole_family_before_and_after_it() {
        let text = "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n\
                    h_bucket{le=\"2\"} x\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n\
                    # HELP g G.\n# TYPE g gauge\ng 5\n\
                    # HELP s S.\n# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 2\ns_count 2\n\
                    s{quantile=\"0.9\",quantile=\"1\"} 1\n";
        let parsed = parse(text);
        assert_eq!(
            encode(&parsed.families),
            "# HELP g G.\n# TYPE g gauge\ng 5\n"
        );
        assert_eq!(parsed.problems.len(), 2, "{:?}", parsed.problems);
        assert!(
            parsed.problems[0].starts_with("line 4: ")
                && parsed.problems[0].ends_with("dropped family `h`"),
            "{:?}",
            parsed.problems
        );
        assert!(
            parsed.problems[1].starts_with("line 16: ")
                && parsed.problems[1].ends_with("dropped family `s`"),
            "{:?}",
            parsed.problems
        );
    }

    #[test]
    fn a_refused_histogram_type_line_leaves_no_part_of_it() {
        // Without its TYPE line the samples would read as three untyped families.
        let text = "# TYPE h histogram extra\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n\
                    # TYPE g gauge\ng 1\n";
        let parsed = parse(text);
        assert_eq!(names(&parsed), ["g"], "{:?}", parsed.problems);
        assert_eq!(parsed.problems.len(), 1, "{:?}", parsed.problems);
    }

    #[test]
    fn lines_that_name_no_family_are_dropped_alone() {
        let parsed = parse("%%%\n# HELP a A.\n%%%\na 1\n{x=\"1\"} 2\n# TYPE 9b gauge\nb 2\n%%%");
        assert_eq!(
            encode(&parsed.families),
            "# HELP a A.\n# TYPE a untyped\na 1\n# TYPE b untyped\nb 2\n"
        );
        let lines: Vec<_> = parsed
            .problems
            .iter()
            .map(|p| {
                assert!(p.ends_with("; dropped the line"), "{p}");
                p.split(':').next().unwrap_or_default()
            })
            .collect();
        assert_eq!(lines, ["line 1", "line 3", "line 5", "line 6", "line 8"]);
    }

    #[test]
    fn kept_families_do_not_depend_on_the_dropped_lines() {
        // Each text, and the same text with the dropped families' lines and the garbage left
        // out: the kept families render alike, and the second text has no problem.
        for (text, clean) in [
            (
                "a 1\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1.5\nb 2\n",
                "a 1\nb 2\n",
            ),
            (
                "# TYPE s summary\ns_sum 1\n# TYPE s_sum gauge\ns_count 1\ns 7\nt 1\n",
                "t 1\n",
            ),
            (
                "h_sum 1\n# TYPE h histogram\nh_count 1\nh_bucket{le=\"+Inf\"} 1\nc_total 1\n",
                "c_total 1\n",
            ),
            (
                "# TYPE x gauge\n# HELP x X.\nx 1\n# TYPE x counter\nx_total 1\n%%%\nx_sum 2\n",
                "x_total 1\nx_sum 2\n",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n\
                 h_sum 1\nh_count 1\nh_total 3\n",
                "h_total 3\n",
            ),
        ] {
            let parsed = parse(text);
            assert!(!parsed.problems.is_empty(), "{text:?}");
            assert_eq!(
                Ok(encode(&parsed.families)),
                render(clean),
                "{text:?}: {:?}",
                parsed.problems
            );
        }
    }
}
