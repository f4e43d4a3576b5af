//! Callback texts that a real Prometheus 2.42 or `promtool check metrics` refused when they were
//! appended to a page verbatim, and what the page makes of each now.

/// What becomes of one callback's text.
#[derive(Debug)]
pub enum Outcome {
    /// Re-rendered as this text (the families it holds, as the page prints them).
    Repaired(&'static str),
    /// Its family dropped (each text holds one family; others printed with it are kept) and
    /// counted as a `text_callback` failure.
    Dropped,
}

/// The texts that took a Prometheus target down and the five texts that passed
/// Prometheus but failed `promtool check metrics`.
pub fn bad_texts() -> Vec<(&'static str, &'static str, Outcome)> {
    use Outcome::{Dropped, Repaired};
    vec![
        (
            "lines ending in \\r\\n",
            "# HELP ext_crlf_total Lines with CR.\r\n# TYPE ext_crlf_total counter\r\next_crlf_total 3\r\n",
            Repaired(
                "# HELP ext_crlf_total Lines with CR.\n# TYPE ext_crlf_total counter\next_crlf_total 3\n",
            ),
        ),
        (
            "a label name twice",
            "ext_dup{a=\"1\",a=\"2\"} 1\n",
            Dropped,
        ),
        (
            "a __name__ label",
            "ext_named{__name__=\"other\"} 1\n",
            Dropped,
        ),
        ("1e999, out of Go's range", "ext_huge 1e999\n", Dropped),
        ("+nan", "ext_plus_nan +nan\n", Dropped),
        ("-NaN", "ext_minus_nan -NaN\n", Dropped),
        (
            "a timestamp with +",
            "ext_ts_plus 1 +1700000000000\n",
            Dropped,
        ),
        ("a negative timestamp", "ext_ts_minus 1 -5\n", Dropped),
        (
            "leading spaces",
            "  # HELP ext_lead_total Leading blanks.\n  # TYPE ext_lead_total counter\n  ext_lead_total 2\n",
            Repaired(
                "# HELP ext_lead_total Leading blanks.\n# TYPE ext_lead_total counter\next_lead_total 2\n",
            ),
        ),
        (
            "\\t in a label value",
            "# HELP ext_tabbed Tab escapes.\n# TYPE ext_tabbed gauge\next_tabbed{a=\"x\\ty\"} 1\n",
            Repaired(
                "# HELP ext_tabbed Tab escapes.\n# TYPE ext_tabbed gauge\next_tabbed{a=\"x\\\\ty\"} 1\n",
            ),
        ),
        (
            "\\t in help",
            "# HELP ext_tab_help A\\tB.\n# TYPE ext_tab_help gauge\next_tab_help 1\n",
            Repaired("# HELP ext_tab_help A\\\\tB.\n# TYPE ext_tab_help gauge\next_tab_help 1\n"),
        ),
        (
            "a TYPE line after its samples",
            "ext_late_total 1\n# TYPE ext_late_total counter\n",
            Dropped,
        ),
        (
            "two TYPE lines",
            "# HELP ext_twice Two TYPEs.\n# TYPE ext_twice gauge\n# TYPE ext_twice gauge\next_twice 1\n",
            Repaired("# HELP ext_twice Two TYPEs.\n# TYPE ext_twice gauge\next_twice 1\n"),
        ),
        (
            "two TYPE lines that disagree",
            "# TYPE ext_clash gauge\n# TYPE ext_clash counter\next_clash 1\n",
            Dropped,
        ),
        (
            "a trailing space after the value",
            "# HELP ext_trail Trailing blank.\n# TYPE ext_trail gauge\next_trail 4 \n",
            Repaired("# HELP ext_trail Trailing blank.\n# TYPE ext_trail gauge\next_trail 4\n"),
        ),
    ]
}
