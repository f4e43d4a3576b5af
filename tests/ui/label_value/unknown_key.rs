use engine_gauges::LabelValue;

#[derive(LabelValue)]
enum FinishReason {
    Stop,
    #[label(name = "len")]
    Length,
}

fn main() {}
