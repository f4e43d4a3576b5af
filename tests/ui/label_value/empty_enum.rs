use engine_gauges::LabelValue;

#[derive(LabelValue)]
enum FinishReason {}

fn main() {}
