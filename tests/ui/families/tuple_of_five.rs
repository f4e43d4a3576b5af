use engine_gauges::prometheus::IntCounter;
use engine_gauges::{EngineGauges, Family, LabelValue};

#[derive(LabelValue)]
enum A {
    One,
}

#[derive(LabelValue)]
enum B {
    One,
}

#[derive(EngineGauges)]
struct Set {
    /// Requests finished, by five labels.
    #[metric(labels("a", "b", "c", "d", "e"))]
    finished_total: Family<(A, B, A, B, A), IntCounter>,
}

fn main() {}
