use engine_gauges::LabelValue;

#[derive(LabelValue)]
#[label(rename_all = "snake_case")]
enum FinishReason {
    Stop,
    Length,
}

fn main() {}
