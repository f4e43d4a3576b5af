//! Compile-time checks of `#[derive(EngineGauges)]`: every mistake is an error on the offending
//! token (`ui/<topic>/<mistake>.rs`, with the expected compiler output beside it), and the cases
//! under `ui/pass/` compile and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("ui/pass/*.rs");
    t.compile_fail("ui/labels/*.rs");
    t.compile_fail("ui/names/*.rs");
    t.compile_fail("ui/attrs/*.rs");
    t.compile_fail("ui/fields/*.rs");
    t.compile_fail("ui/shape/*.rs");
    t.compile_fail("ui/snapshot/*.rs");
    t.compile_fail("ui/naming/*.rs");
    t.compile_fail("ui/counters/*.rs");
    t.compile_fail("ui/histograms/*.rs");
    t.compile_fail("ui/families/*.rs");
    t.compile_fail("ui/label_value/*.rs");
    t.compile_fail("ui/sealed/*.rs");
}
