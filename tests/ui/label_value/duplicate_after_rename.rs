use engine_gauges::LabelValue;

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    #[label(rename = "stop")]
    EndOfSequence,
}

fn main() {}
