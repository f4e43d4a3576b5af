use engine_gauges::EngineGauges;
use engine_gauges::prometheus::{Gauge, GaugeVec};

#[derive(EngineGauges)]
#[gauges(const_labels(r#type = "decode"))]
struct Set {
    /// Steps run.
    r#loop: Gauge,
    /// Queue depth, by kind.
    #[gauge(labels("kind"))]
    r#type: GaugeVec,
}

fn main() {
    let names: Vec<&str> = Set::DESCRIPTORS.iter().map(|d| d.name).collect();
    assert_eq!(names, ["dynamo_component_loop", "dynamo_component_type"]);
    assert_eq!(Set::DESCRIPTORS[0].const_labels, [("type", "decode")]);
}
