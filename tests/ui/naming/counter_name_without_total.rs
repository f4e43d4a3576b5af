use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Counter;

#[derive(EngineGauges)]
struct Set {
    /// Tokens generated.
    #[metric(name = "generated_tokens")]
    generated_tokens_total: Counter,
}

fn main() {}
