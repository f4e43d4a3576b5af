//! Scraping a registry and reading its page back: as text, parsed strictly by [`expfmt`], and
//! checked by `promtool` where it is installed.

use std::collections::BTreeMap;

use engine_gauges::MetricsRegistry;
use engine_gauges::scrape::SCRAPE_FAILURES;

use crate::expfmt::{self, Page};
use crate::{programs, promtool};

/// The registry's combined page; a failed scrape fails the test.
pub fn scrape_text(registry: &MetricsRegistry) -> String {
    registry
        .prometheus_expfmt_combined()
        .unwrap_or_else(|error| panic!("the scrape failed: {error}"))
}

/// Scrapes `registry` and parses the page strictly; a page that does not parse fails the test.
pub fn scrape(registry: &MetricsRegistry) -> (String, Page) {
    let text = scrape_text(registry);
    let page = parse(&text);
    (text, page)
}

/// Parses `text` strictly; a page that does not parse fails the test, showing the page.
pub fn parse(text: &str) -> Page {
    expfmt::parse(text).unwrap_or_else(|error| panic!("{error}\n--- page\n{}", shorten(text)))
}

/// `text` cut to its first 4,000 bytes, for a failure message.
pub fn shorten(text: &str) -> String {
    expfmt::shorten(text, 4000)
}

/// `promtool check metrics` on `page`, when promtool is on `PATH` ([`programs::promtool`] prints
/// why a test skips it, and fails instead when `ENGINE_GAUGES_REQUIRE_PROMETHEUS=1`).
pub fn promtool_check(page: &str) {
    if let Some(promtool) = programs::promtool() {
        promtool::check_metrics(&promtool, page).unwrap_or_else(|findings| {
            panic!("{}", shorten(&findings));
        });
    }
}

/// The values the scrape-failure counter shows on `page`, by kind (empty when the page has no
/// such counter, as before any failure).
pub fn failures(page: &Page) -> BTreeMap<String, f64> {
    page.samples(SCRAPE_FAILURES)
        .map(|s| (s.label("kind").unwrap_or_default().to_owned(), s.value))
        .collect()
}
