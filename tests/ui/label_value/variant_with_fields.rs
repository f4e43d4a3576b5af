use engine_gauges::LabelValue;

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    Error(String),
}

fn main() {}
