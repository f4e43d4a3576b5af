use engine_gauges::LabelValue;

#[derive(LabelValue)]
struct FinishReason {
    reason: String,
}

fn main() {}
