//! Metric and label name rules: validation and sanitizing.
//!
//! Sanitizing is applied to metric names and to the hierarchy's level names (which become label
//! values); a caller's label names are only validated, never rewritten.

pub use crate::metric::create::COMPONENT_PREFIX;

/// Why a name cannot be sanitized.
pub(crate) const EMPTY: &str = "it is empty";
/// Why a name cannot be sanitized.
pub(crate) const NOTHING_VALID: &str = "it has no valid character";

pub use engine_gauges_rules::{is_valid_label_name, is_valid_metric_name};

/// Makes `name` a valid metric name: every character outside `[a-zA-Z0-9_:]` becomes `_`, and a
/// name that starts with anything but a letter or `_` gets a leading `_`
/// (`test.name` → `test_name`, `123test` → `_123test`).
///
/// # Errors
/// The reason, when `name` is empty or has no valid character at all.
pub fn sanitize_metric_name(name: &str) -> Result<String, &'static str> {
    sanitize(
        name,
        |c| c.is_ascii_alphanumeric() || c == '_' || c == ':',
        false,
    )
}

/// Makes `name` a valid label name (used for the hierarchy's label values): every character
/// outside `[a-zA-Z0-9_]` becomes `_`, leading `__` pairs are stripped, and a name that then
/// starts with a digit gets a leading `_` (`my-ns` → `my_ns`, `@@123` → `_123`,
/// `__test` → `test`).
///
/// # Errors
/// The reason, when `name` is empty, has no valid character at all, or nothing is left.
pub fn sanitize_label_name(name: &str) -> Result<String, &'static str> {
    sanitize(name, |c| c.is_ascii_alphanumeric() || c == '_', true)
}

fn sanitize(
    name: &str,
    valid: fn(char) -> bool,
    strip_dunder: bool,
) -> Result<String, &'static str> {
    if name.is_empty() {
        return Err(EMPTY);
    }
    if !name.chars().any(valid) {
        return Err(NOTHING_VALID);
    }
    let replaced: String = name
        .chars()
        .map(|c| if valid(c) { c } else { '_' })
        .collect();
    let body = if strip_dunder {
        replaced.trim_start_matches("__")
    } else {
        &replaced
    };
    match body.chars().next() {
        None => Err(NOTHING_VALID),
        Some(c) if c.is_ascii_alphabetic() || c == '_' => Ok(body.to_owned()),
        Some(_) => Ok(format!("_{body}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_sanitize_as_the_reference_does() {
        let table = [
            ("test_name", "test_name"),
            ("test.name", "test_name"),
            ("123test", "_123test"),
            ("test-name:sub", "test_name:sub"),
            (":x", "_:x"),
            ("a b\tc", "a_b_c"),
        ];
        for (input, want) in table {
            assert_eq!(sanitize_metric_name(input).as_deref(), Ok(want), "{input}");
            assert!(is_valid_metric_name(want));
        }
        assert_eq!(sanitize_metric_name(""), Err(EMPTY));
        assert_eq!(sanitize_metric_name("..."), Err(NOTHING_VALID));
        assert_eq!(sanitize_metric_name("日本"), Err(NOTHING_VALID));
    }

    #[test]
    fn label_names_sanitize_as_the_reference_does() {
        let table = [
            ("my-ns", "my_ns"),
            ("@@123", "_123"),
            ("__test", "test"),
            ("a.b", "a_b"),
            ("backend", "backend"),
            ("7", "_7"),
            ("a:b", "a_b"),
        ];
        for (input, want) in table {
            assert_eq!(sanitize_label_name(input).as_deref(), Ok(want), "{input}");
            assert!(is_valid_label_name(want));
        }
        assert_eq!(sanitize_label_name(""), Err(EMPTY));
        assert_eq!(sanitize_label_name("日本"), Err(NOTHING_VALID));
        assert_eq!(sanitize_label_name("____"), Err(NOTHING_VALID));
    }
}
