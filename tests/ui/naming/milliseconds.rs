use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Histogram;

#[derive(EngineGauges)]
struct Set {
    /// Time to first token.
    #[metric(buckets = [10.0, 100.0, 1000.0])]
    time_to_first_token_milliseconds: Histogram,
}

fn main() {}
