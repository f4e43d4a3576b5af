use engine_gauges::EngineGauges;
use engine_gauges::prometheus::IntGaugeVec;

#[derive(EngineGauges)]
#[gauges(const_labels(model = "qwen"))]
struct Set {
    /// Requests waiting, by model.
    #[gauge(labels("model_name"))]
    waiting: IntGaugeVec,
}

fn main() {}
