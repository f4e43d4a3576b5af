//! Histogram bucket presets for LLM serving latencies, in seconds.
//!
//! Use one with `#[metric(buckets = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS)]`, or give
//! your own bounds: `#[metric(buckets = [0.01, 0.1, 1.0])]`. A histogram without buckets does not
//! compile: LLM latencies span milliseconds to minutes, and no single default fits them.
//!
//! The presets are vLLM's, the engine whose metric names the others (`SGLang`, and the reference
//! system's engine metrics) follow. The reference system's backend declares no histogram of its
//! own; its runtime's request-duration histogram keeps prometheus's defaults, [`DEFAULT`], which
//! stop at 10 s, short of a long generation.

/// The buckets `create_metric` gives a histogram when it is passed `None`: Prometheus's client
/// defaults, 5 ms to 10 s.
pub const DEFAULT: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Token-level latency: the time between two output tokens (inter-token latency, time per output
/// token), 10 ms to 80 s.
///
/// These are vLLM's bounds for `vllm:inter_token_latency_seconds` and
/// `vllm:time_per_output_token_seconds` (`vllm/v1/metrics/loggers.py`).
pub const TOKEN_LATENCY_SECONDS: &[f64] = &[
    0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
    40.0, 80.0,
];

/// Time to first token: prefill and queueing, 1 ms to about 43 minutes.
///
/// These are vLLM's bounds for `vllm:time_to_first_token_seconds`
/// (`vllm/v1/metrics/loggers.py`).
pub const TIME_TO_FIRST_TOKEN_SECONDS: &[f64] = &[
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];

/// Request-level latency: end to end, queue, prefill, decode or inference time of a whole
/// request, 0.3 s to about 2 hours.
///
/// These are vLLM's `request_latency_buckets`, used for `vllm:e2e_request_latency_seconds`,
/// `vllm:request_queue_time_seconds` and the other per-request phase histograms
/// (`vllm/v1/metrics/loggers.py`).
pub const REQUEST_LATENCY_SECONDS: &[f64] = &[
    0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
    480.0, 960.0, 1920.0, 7680.0,
];

#[cfg(test)]
mod tests {
    use engine_gauges_rules::check_buckets;

    #[test]
    fn every_preset_is_valid() {
        for preset in [
            super::DEFAULT,
            super::TOKEN_LATENCY_SECONDS,
            super::TIME_TO_FIRST_TOKEN_SECONDS,
            super::REQUEST_LATENCY_SECONDS,
        ] {
            assert_eq!(check_buckets(preset), Ok(()), "{preset:?}");
        }
    }
}
