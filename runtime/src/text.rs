//! Checks the exposition text that callbacks add to a page, so that one bad callback cannot make
//! a Prometheus server reject the whole page.
//!
//! A callback's text is accepted when every line is blank, a comment, or a well-formed sample, and
//! when none of its families is already on the page (natively or from an earlier callback).
//! Accepted text is appended verbatim.

use std::collections::HashSet;

use prometheus::proto::{MetricFamily, MetricType};

use crate::names::{is_valid_label_name, is_valid_metric_name};

/// The names a page already uses: each family's name and the sample names it renders.
#[derive(Default)]
pub(crate) struct TakenNames(HashSet<String>);

impl TakenNames {
    pub(crate) fn from_families(families: &[MetricFamily]) -> Self {
        let mut taken = Self::default();
        for family in families {
            let kind = match family.get_field_type() {
                MetricType::HISTOGRAM => "histogram",
                MetricType::SUMMARY => "summary",
                _ => "",
            };
            taken.insert_family(family.name(), kind);
        }
        taken
    }

    pub(crate) fn insert_family(&mut self, name: &str, kind: &str) {
        let suffixes: &[&str] = match kind {
            "histogram" => &["", "_bucket", "_sum", "_count"],
            "summary" => &["", "_sum", "_count"],
            _ => &[""],
        };
        for suffix in suffixes {
            self.0.insert(format!("{name}{suffix}"));
        }
    }

    /// Checks `text` against the names taken so far and, when it is accepted, takes its names.
    ///
    /// # Errors
    /// What is wrong with the text, naming the line.
    pub(crate) fn accept(&mut self, text: &str) -> Result<(), String> {
        let mut declared: Vec<(&str, &str)> = Vec::new();
        for (number, line) in text.lines().enumerate() {
            let at = |what: String| format!("line {}: {what}: {line:?}", number + 1);
            let (name, kind) = match parse_line(line).map_err(|e| at(e.to_owned()))? {
                Line::Blank => continue,
                Line::Type(name, kind) => (name, kind),
                Line::Help(name) | Line::Sample(name) => (name, ""),
            };
            if self.0.contains(name) {
                return Err(at(format!(
                    "`{name}` is already on the page; a callback must not repeat a family"
                )));
            }
            declared.push((name, kind));
        }
        for (name, kind) in declared {
            self.insert_family(name, kind);
        }
        Ok(())
    }
}

enum Line<'a> {
    Blank,
    Help(&'a str),
    Type(&'a str, &'a str),
    Sample(&'a str),
}

fn parse_line(line: &str) -> Result<Line<'_>, &'static str> {
    let trimmed = line.trim_start_matches([' ', '\t']);
    if trimmed.is_empty() {
        return Ok(Line::Blank);
    }
    if let Some(comment) = trimmed.strip_prefix('#') {
        let mut words = comment.split([' ', '\t']).filter(|w| !w.is_empty());
        return match (words.next(), words.next(), words.next()) {
            (Some("HELP"), Some(name), _) if is_valid_metric_name(name) => Ok(Line::Help(name)),
            (Some("HELP"), ..) => Err("a HELP line needs a valid metric name"),
            (Some("TYPE"), Some(name), Some(kind))
                if is_valid_metric_name(name)
                    && ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                    && words.next().is_none() =>
            {
                Ok(Line::Type(name, kind))
            }
            (Some("TYPE"), ..) => Err("a TYPE line needs a valid metric name and type"),
            _ => Ok(Line::Blank),
        };
    }
    let name_end = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(trimmed.len());
    let name = &trimmed[..name_end];
    if !is_valid_metric_name(name) {
        return Err("a sample must start with a valid metric name");
    }
    let mut rest = &trimmed[name_end..];
    if let Some(labels) = rest.strip_prefix('{') {
        rest = skip_labels(labels)?;
    }
    let mut fields = rest.split([' ', '\t']).filter(|f| !f.is_empty());
    if !rest.starts_with([' ', '\t']) {
        return Err("a sample needs a space before its value");
    }
    match (fields.next(), fields.next(), fields.next()) {
        (Some(value), timestamp, None)
            if parse_value(value) && timestamp.is_none_or(|t| t.parse::<i64>().is_ok()) =>
        {
            Ok(Line::Sample(name))
        }
        _ => Err("a sample needs a number, and at most an integer timestamp after it"),
    }
}

/// Skips `name="value",...}` and returns what follows the `}`.
fn skip_labels(mut rest: &str) -> Result<&str, &'static str> {
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix('}') {
            return Ok(after);
        }
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .ok_or("unterminated label set")?;
        if !is_valid_label_name(&rest[..end]) {
            return Err("invalid label name");
        }
        rest = rest[end..].trim_start_matches([' ', '\t']);
        rest = rest.strip_prefix("=").ok_or("a label name needs `=`")?;
        rest = rest.trim_start_matches([' ', '\t']);
        rest = rest.strip_prefix('"').ok_or("a label value needs quotes")?;
        let mut chars = rest.char_indices();
        let close = loop {
            match chars.next() {
                Some((_, '\\')) => {
                    chars.next().ok_or("unterminated label value")?;
                }
                Some((i, '"')) => break i,
                Some(_) => {}
                None => return Err("unterminated label value"),
            }
        };
        rest = rest[close + 1..].trim_start_matches([' ', '\t']);
        if let Some(after) = rest.strip_prefix(',') {
            rest = after;
        } else if !rest.starts_with('}') {
            return Err("labels are separated by `,`");
        }
    }
}

fn parse_value(value: &str) -> bool {
    value.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_text_is_accepted_and_its_names_taken() {
        let mut taken = TakenNames::default();
        let text = "# HELP foreign_total Things.\n# TYPE foreign_total counter\n\
                    foreign_total{a=\"x\\\"y\",b=\"\"} 3 1700000000000\n\nother NaN\nthird +Inf\n# a note\n";
        assert_eq!(taken.accept(text), Ok(()));
        assert!(
            taken.accept("foreign_total 4\n").is_err(),
            "a repeated family"
        );
        assert!(
            taken
                .accept("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n")
                .is_ok()
        );
        assert!(
            taken.accept("h_count 1\n").is_err(),
            "a histogram's own series"
        );
    }

    #[test]
    fn malformed_lines_are_refused_with_their_line_number() {
        for bad in [
            "broken{ 1",
            "broken{a=\"1\" 1",
            "broken{a=1} 1",
            "broken{a=\"1\"}1",
            "broken",
            "broken one",
            "broken 1 2 3",
            "broken 1 1.5",
            "9broken 1",
            "# TYPE x nonsense",
            "broken{a=\"unterminated} 1",
        ] {
            let error = TakenNames::default()
                .accept(&format!("ok 1\n{bad}\n"))
                .expect_err(bad);
            assert!(error.starts_with("line 2: "), "{bad}: {error}");
        }
    }
}
