//! A small, strict parser of the Prometheus text exposition format (version 0.0.4), used to read
//! pages back in the integration tests and the fuzz targets.
//!
//! It accepts what a Prometheus server accepts and refuses what the runtime should never print:
//! - every line ends with `\n` (so does the page, unless it is empty); blank lines are refused;
//! - `# HELP name text` and `# TYPE name type` come before the family's samples, once each; the
//!   help text un-escapes `\\` and `\n`, any other escape is an error;
//! - a sample is `name[{labels}] value [timestamp]`, tokens separated by spaces or tabs; label
//!   names match `[a-zA-Z_][a-zA-Z0-9_]*`, appear once per sample, and their values are quoted
//!   with `\\`, `\"` and `\n` as the only escapes (a raw line feed is impossible: it ends the
//!   line); a trailing comma before `}` is allowed, as Prometheus allows it;
//! - values are Go-style floats: decimal or exponent forms, `NaN`, and infinities spelt
//!   `+Inf`/`-Inf`/`Inf` or, case-insensitively, `inf`/`infinity` (what Go's `ParseFloat`, and so
//!   Prometheus and promtool, accept); `_`, `p`, `P` and hexadecimal are refused;
//! - a family's samples are contiguous and belong to it (`_bucket`/`_sum`/`_count` for
//!   histograms, with an `le` label on buckets; the bare name for counters, gauges and untyped);
//!   a sample that starts a new name without `# TYPE` is an untyped family;
//! - a series (sample name and label set) appears once in the page.

use std::collections::{BTreeSet, HashSet};

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The sample's name (`_bucket`, `_sum`, `_count` included for histograms).
    pub name: String,
    /// Its labels in page order, values un-escaped.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
    /// Its timestamp in milliseconds, if the line has one.
    pub timestamp: Option<i64>,
}

impl Sample {
    /// The value of label `name`, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the sample has exactly these labels, in any order.
    pub fn has_labels(&self, labels: &[(&str, &str)]) -> bool {
        self.labels.len() == labels.len() && labels.iter().all(|(n, v)| self.label(n) == Some(*v))
    }
}

/// One metric family: its `# HELP`, `# TYPE` and samples.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The family name.
    pub name: String,
    /// The help text, un-escaped.
    pub help: Option<String>,
    /// The `# TYPE` line's type, if the family has one.
    pub type_line: Option<String>,
    /// The samples, in page order.
    pub samples: Vec<Sample>,
}

impl Family {
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped` (also when no `# TYPE` was given).
    pub fn kind(&self) -> &str {
        self.type_line.as_deref().unwrap_or("untyped")
    }
}

/// A parsed page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The families, in page order.
    pub families: Vec<Family>,
    /// Comment lines other than `# HELP` and `# TYPE`, without the `#`.
    pub comments: Vec<String>,
}

impl Page {
    /// The family called `name`.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }

    /// Every sample called `name`, whichever family it belongs to.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.families
            .iter()
            .flat_map(|f| f.samples.iter())
            .filter(move |s| s.name == name)
    }

    /// The value of the sample called `name` with exactly `labels`.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.samples(name)
            .find(|s| s.has_labels(labels))
            .map(|s| s.value)
    }

    /// The value of the one sample called `name` whose label `label` is `value`.
    pub fn value_where(&self, name: &str, label: &str, value: &str) -> Option<f64> {
        let mut found = self.samples(name).filter(|s| s.label(label) == Some(value));
        let first = found.next()?;
        found.next().is_none().then_some(first.value)
    }

    /// How many samples the page has.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }
}

const TYPES: [&str; 5] = ["counter", "gauge", "histogram", "summary", "untyped"];

/// Parses a page, or says on which line and why it is not valid exposition text.
pub fn parse(text: &str) -> Result<Page, String> {
    let mut page = Page::default();
    if text.is_empty() {
        return Ok(page);
    }
    let Some(body) = text.strip_suffix('\n') else {
        return Err("the page does not end with a line feed".to_owned());
    };
    let mut series = HashSet::new();
    // Family names already closed (another family started after them).
    let mut closed: HashSet<String> = HashSet::new();
    for (index, line) in body.split('\n').enumerate() {
        let at = |why: String| format!("line {}: {why}: {}", index + 1, shorten(line, 200));
        if line.is_empty() {
            return Err(at("blank line".to_owned()));
        }
        if let Some(comment) = line.strip_prefix('#') {
            parse_comment(&mut page, &mut closed, comment).map_err(at)?;
            continue;
        }
        let sample = parse_sample(line).map_err(at)?;
        let key = (
            sample.name.clone(),
            sample
                .labels
                .iter()
                .cloned()
                .collect::<BTreeSet<(String, String)>>(),
        );
        if !series.insert(key) {
            return Err(at("a series appears twice".to_owned()));
        }
        place_sample(&mut page, &mut closed, sample).map_err(at)?;
    }
    Ok(page)
}

/// `text` cut to its first `max` bytes (at a character boundary), saying how long it was, for an
/// error message.
pub fn shorten(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// Opens (or continues) the family `name` for a `# HELP` or `# TYPE` line.
fn open_family<'a>(
    page: &'a mut Page,
    closed: &mut HashSet<String>,
    name: &str,
) -> Result<&'a mut Family, String> {
    let current = page.families.last().map(|f| f.name.as_str());
    if current != Some(name) {
        if closed.contains(name) || page.families.iter().any(|f| f.name == name) {
            return Err(format!("family `{name}` is not contiguous"));
        }
        if let Some(last) = page.families.last() {
            closed.insert(last.name.clone());
        }
        page.families.push(Family {
            name: name.to_owned(),
            help: None,
            type_line: None,
            samples: Vec::new(),
        });
    }
    page.families
        .last_mut()
        .ok_or_else(|| "no family".to_owned())
}

fn parse_comment(
    page: &mut Page,
    closed: &mut HashSet<String>,
    comment: &str,
) -> Result<(), String> {
    let mut words = comment.splitn(4, ' ');
    let (blank, keyword) = (words.next(), words.next());
    let is_help = blank == Some("") && keyword == Some("HELP");
    let is_type = blank == Some("") && keyword == Some("TYPE");
    if !is_help && !is_type {
        page.comments.push(comment.to_owned());
        return Ok(());
    }
    let name = words.next().unwrap_or_default();
    if !valid_metric_name(name) {
        return Err(format!("bad family name `{name}`"));
    }
    let rest = words.next();
    let family = open_family(page, closed, name)?;
    if !family.samples.is_empty() {
        return Err(format!("# HELP or # TYPE after the samples of `{name}`"));
    }
    if is_help {
        if family.help.is_some() {
            return Err(format!("second # HELP for `{name}`"));
        }
        family.help = Some(unescape_help(rest.unwrap_or_default())?);
    } else {
        let kind = rest.unwrap_or_default();
        if !TYPES.contains(&kind) {
            return Err(format!("unknown type `{kind}`"));
        }
        if family.type_line.is_some() {
            return Err(format!("second # TYPE for `{name}`"));
        }
        family.type_line = Some(kind.to_owned());
    }
    Ok(())
}

/// The family a sample called `sample` belongs to, given the family's name and type.
fn belongs(family: &Family, sample: &str) -> bool {
    let suffix = sample.strip_prefix(family.name.as_str());
    match family.kind() {
        "histogram" => matches!(suffix, Some("_bucket" | "_sum" | "_count")),
        "summary" => matches!(suffix, Some("" | "_sum" | "_count")),
        _ => suffix == Some(""),
    }
}

fn place_sample(
    page: &mut Page,
    closed: &mut HashSet<String>,
    sample: Sample,
) -> Result<(), String> {
    let fits = page
        .families
        .last()
        .is_some_and(|f| belongs(f, &sample.name));
    if !fits {
        if let Some(family) = page.families.last()
            && family.name == sample.name
        {
            return Err(format!(
                "sample `{}` does not fit the {} family `{}`",
                sample.name,
                family.kind(),
                family.name
            ));
        }
        // A new name without `# TYPE`: an untyped family of its own.
        open_family(page, closed, &sample.name)?;
    }
    let family = page
        .families
        .last_mut()
        .ok_or_else(|| "no family".to_owned())?;
    if family.kind() == "histogram"
        && sample.name.ends_with("_bucket")
        && sample.label("le").and_then(parse_value).is_none()
    {
        return Err("a histogram bucket without a valid `le` label".to_owned());
    }
    family.samples.push(sample);
    Ok(())
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' ', '\t'])
        .ok_or_else(|| "a sample without a value".to_owned())?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("bad metric name `{name}`"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = parse_labels(after, &mut labels)?;
    }
    let rest = rest
        .strip_prefix([' ', '\t'])
        .ok_or_else(|| "no blank before the value".to_owned())?
        .trim_start_matches([' ', '\t']);
    let mut tokens = rest.split([' ', '\t']).filter(|t| !t.is_empty());
    let value_text = tokens.next().ok_or_else(|| "no value".to_owned())?;
    let value = parse_value(value_text).ok_or_else(|| format!("bad value `{value_text}`"))?;
    let timestamp = match tokens.next() {
        None => None,
        Some(t) => Some(
            t.parse::<i64>()
                .map_err(|_| format!("bad timestamp `{t}`"))?,
        ),
    };
    if let Some(extra) = tokens.next() {
        return Err(format!("unexpected `{extra}` after the value"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
        timestamp,
    })
}

/// Parses `name="value",...}` and returns what follows the `}`.
fn parse_labels<'a>(
    mut rest: &'a str,
    labels: &mut Vec<(String, String)>,
) -> Result<&'a str, String> {
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let eq = rest
            .find('=')
            .ok_or_else(|| "a label without `=`".to_owned())?;
        let name = &rest[..eq];
        if !valid_label_name(name) {
            return Err(format!("bad label name `{name}`"));
        }
        if labels.iter().any(|(n, _)| n == name) {
            return Err(format!("label `{name}` appears twice"));
        }
        let quoted = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or_else(|| format!("the value of `{name}` is not quoted"))?;
        let (value, after) = unescape_label_value(quoted)?;
        labels.push((name.to_owned(), value));
        rest = match after.strip_prefix(',') {
            Some(next) => next,
            None if after.starts_with('}') => after,
            None => return Err(format!("`,` or `}}` expected after the value of `{name}`")),
        };
    }
}

/// Un-escapes a quoted label value (after its opening quote); returns it and what follows the
/// closing quote.
fn unescape_label_value(text: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &text[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, other)) => {
                    return Err(format!("invalid escape `\\{other}` in a label value"));
                }
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("an unterminated label value".to_owned())
}

fn unescape_help(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some(other) => return Err(format!("invalid escape `\\{other}` in a help text")),
            None => return Err("a help text ending in `\\`".to_owned()),
        }
    }
    Ok(out)
}

/// Parses a value as Go's `strconv.ParseFloat` does, less the forms Prometheus refuses.
pub fn parse_value(text: &str) -> Option<f64> {
    if text.is_empty() || text.contains(['_', 'p', 'P', 'x', 'X']) {
        return None;
    }
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if lower == "inf" || lower == "infinity" {
        return Some(if text.starts_with('-') {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    if lower == "nan" {
        // Go accepts "NaN" in any case but no sign.
        return (unsigned.len() == text.len()).then_some(f64::NAN);
    }
    // Digits, one dot, an exponent: the decimal forms Go and Rust agree on.
    let decimal = unsigned
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'));
    if !decimal || !unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    text.parse().ok()
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn valid_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_value};

    /// The value rule agrees with Go's `ParseFloat` on the forms that matter, and pages that
    /// break the format are refused.
    #[test]
    fn the_parsers_value_rule_matches_go() {
        for (text, want) in [
            ("inf", f64::INFINITY),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("-Inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
            ("1e3", 1000.0),
            (".5", 0.5),
            ("-0", -0.0),
        ] {
            assert_eq!(
                parse_value(text).map(f64::to_bits),
                Some(want.to_bits()),
                "{text}"
            );
        }
        assert!(parse_value("NaN").unwrap().is_nan());
        assert!(parse_value("nan").unwrap().is_nan());
        for bad in ["", "1_000", "0x1p3", "+NaN", "one", "1 2", "--1", "in"] {
            assert_eq!(parse_value(bad), None, "{bad}");
        }
        for bad in [
            "a{b=\"c\\t\"} 1\n",
            "a{b=\"c} 1\n",
            "a{b=\"c\",b=\"d\"} 1\n",
            "a 1\na 2\n",
            "a 1\nb 1\na{x=\"1\"} 1\n",
            "# TYPE a histogram\na 1\n",
            "# TYPE a gauge\n# TYPE a gauge\na 1\n",
            "a 1",
            "a 1\n\n",
            "1a 1\n",
            "a{1b=\"x\"} 1\n",
            "a{b=c} 1\n",
            "# TYPE a histogram\na_bucket 1\n",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}
