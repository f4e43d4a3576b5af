//! The page of [`engine_gauges_bench::page`] rendered by other implementations, one module each:
//!
//! - [`measured`]: the `measured` crate, its vectors keyed by a label set that holds the rank and
//!   the six hierarchy labels, rendered by its text encoder;
//! - [`prometheus_client`]: the `prometheus-client` crate, a registry carrying the six labels
//!   as its constant labels and a `Family` per per-rank gauge, rendered by its Prometheus text
//!   encoder;
//! - [`floor`]: plain atomics and a hand-written loop that formats the very bytes of the
//!   prometheus page, the least a scrape of this page can cost.
//!
//! Each sets the page up at a given number of ranks, writing every series the values of
//! [`engine_gauges_bench::page::rank_values`], and renders it into a buffer the caller keeps
//! across scrapes. [`check_page`] reads a page back with [`engine_gauges_bench::page::samples`]
//! and compares it with the combined scrape's; the scrape benchmark checks every page with it
//! before timing, and `tests/peers.rs` at 1 and 8 ranks.
//!
//! `measured` and `prometheus-client` are dev-dependencies, which the library cannot use, so these
//! modules are not part of it: the targets that need them (`benches/scrape.rs`, `benches/alloc.rs`,
//! `tests/peers.rs`) include this folder with `#[path]`.

pub(crate) mod floor;
pub(crate) mod measured;
pub(crate) mod prometheus_client;

/// Compares `page` with the combined scrape's page `ours` at `ranks` ranks: the same series with
/// the same values, the same types and the same help texts. Series order, label order, float
/// spelling and blank lines may differ.
///
/// # Errors
/// What differs, or why a page does not read back.
pub(crate) fn check_page(page: &str, ours: &str, ranks: u32) -> Result<(), String> {
    use engine_gauges_bench::page::{samples, series};

    let want = samples(ours).map_err(|e| format!("the combined scrape: {e}"))?;
    let got = samples(page)?;
    if got.series.len() != series(ranks) {
        return Err(format!(
            "{} series at {ranks} ranks, not {}",
            got.series.len(),
            series(ranks)
        ));
    }
    for (what, differs) in [
        ("series or values", got.series != want.series),
        ("types", got.types != want.types),
        ("help texts", got.help != want.help),
    ] {
        if differs {
            return Err(format!("the {what} differ at {ranks} ranks"));
        }
    }
    Ok(())
}
