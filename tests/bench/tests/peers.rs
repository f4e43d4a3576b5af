//! The pages of the other implementations of the scrape benchmark (`src/peers`), each read back
//! and compared with the combined scrape's at 1 and 8 ranks (and the floor's byte for byte).

#[path = "../src/peers/mod.rs"]
mod peers;

use engine_gauges_bench::page::{GPU_CACHE_USAGE, Hierarchy, TOTAL_BLOCKS};
use peers::floor::FloorPage;
use peers::measured::MeasuredPage;
use peers::prometheus_client::ClientPage;

/// The combined scrape's page at `ranks` ranks.
fn ours(ranks: u32) -> String {
    Hierarchy::new(ranks)
        .expect("the hierarchy registers")
        .render()
        .expect("combined scrape")
}

/// Asserts that `page` has the combined scrape's series, values, types and help texts.
fn assert_same_page(page: &str, ranks: u32) {
    let ours = ours(ranks);
    if let Err(e) = peers::check_page(page, &ours, ranks) {
        panic!("{e}:\n{page}\n--- the combined scrape:\n{ours}");
    }
}

/// The line of `family`'s series of rank 0 (or its only series).
fn line<'a>(page: &'a str, family: &str) -> &'a str {
    page.lines()
        .find(|l| l.starts_with(family) && (l.contains("dp_rank=\"0\"") || !l.contains("dp_rank")))
        .unwrap_or_else(|| panic!("no series of {family}:\n{page}"))
}

#[test]
fn measured_renders_the_same_series() {
    let mut out = b"stale".to_vec();
    for ranks in [1, 8] {
        let page = MeasuredPage::new(ranks);
        // Twice: the buffer is reused.
        for _ in 0..2 {
            page.render_into(&mut out).expect("renders");
            assert_same_page(std::str::from_utf8(&out).expect("UTF-8"), ranks);
        }
    }
    // What differs: a blank line between families, and the order of the labels is the same.
    let text = String::from_utf8(out).expect("UTF-8");
    assert!(text.contains("\n\n# HELP"));
    assert!(line(&text, TOTAL_BLOCKS).starts_with(&format!("{TOTAL_BLOCKS}{{dp_rank=\"0\",")));
}

#[test]
fn prometheus_client_renders_the_same_series() {
    let mut out = String::from("stale");
    for ranks in [1, 8] {
        let page = ClientPage::new(ranks);
        for _ in 0..2 {
            page.render_into(&mut out).expect("renders");
            assert_same_page(&out, ranks);
        }
    }
    // What differs: the registry's constant labels come first.
    assert!(line(&out, GPU_CACHE_USAGE).contains(",dp_rank=\"0\"} "));
    assert!(!out.contains("# EOF"));
}

#[test]
fn the_floor_renders_the_combined_scrape_byte_for_byte() {
    let mut out = String::from("stale");
    for ranks in [0, 1, 8, 64] {
        let page = FloorPage::new(ranks);
        let ours = ours(ranks);
        for _ in 0..2 {
            page.render_into(&mut out).expect("renders");
            assert_eq!(out, ours, "{ranks} ranks");
        }
        if ranks > 0 {
            assert_same_page(&out, ranks);
        }
    }
}
