//! The naming rules written out a second time, independently of the runtime, as the oracle of the
//! property tests and the fuzz targets.
//!
//! - Metric names: each character outside `[a-zA-Z0-9_:]` becomes one `_`; then, if the first
//!   character is not a letter or `_`, a `_` is put in front. Empty input, or input with no
//!   character of the set, is refused.
//! - Hierarchy level names (which become label values): each character outside `[a-zA-Z0-9_]`
//!   becomes one `_`; then leading `__` pairs are removed; then, if the first character is a
//!   digit, a `_` is put in front. Empty input, input with no character of the set, and input with
//!   nothing left after the `__` pairs are removed, are refused.

fn is_metric_char(c: char) -> bool {
    matches!(c, 'a'..='z' | 'A'..='Z' | '0'..='9' | '_' | ':')
}

fn is_label_char(c: char) -> bool {
    matches!(c, 'a'..='z' | 'A'..='Z' | '0'..='9' | '_')
}

/// What `sanitize_metric_name` should give: `None` when it should refuse.
pub fn metric_name(input: &str) -> Option<String> {
    if !input.chars().any(is_metric_char) {
        return None;
    }
    let mut out = String::with_capacity(input.len() + 1);
    for c in input.chars() {
        out.push(if is_metric_char(c) { c } else { '_' });
    }
    match out.as_bytes()[0] {
        b'a'..=b'z' | b'A'..=b'Z' | b'_' => Some(out),
        _ => Some(format!("_{out}")),
    }
}

/// What `sanitize_label_name` (and so a hierarchy level's label value) should give: `None` when
/// it should refuse.
pub fn level_label_value(input: &str) -> Option<String> {
    if !input.chars().any(is_label_char) {
        return None;
    }
    let mapped: Vec<char> = input
        .chars()
        .map(|c| if is_label_char(c) { c } else { '_' })
        .collect();
    let mut start = 0;
    while mapped.len() >= start + 2 && mapped[start] == '_' && mapped[start + 1] == '_' {
        start += 2;
    }
    let rest: String = mapped[start..].iter().collect();
    match rest.chars().next() {
        None => None,
        Some('0'..='9') => Some(format!("_{rest}")),
        Some(_) => Some(rest),
    }
}
