use engine_gauges::LabelValue;

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    #[label(rename = "")]
    Length,
}

fn main() {}
