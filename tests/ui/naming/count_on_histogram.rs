use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

#[derive(EngineGauges)]
struct Set {
    /// Tokens per request.
    #[metric(buckets = [16.0, 256.0, 4096.0])]
    output_tokens_count: Histogram,
}

fn main() {}
