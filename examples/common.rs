//! A simulated engine for the examples: it "loads" a model, then reports per-rank KV cache state
//! that moves over time and finishes requests, as a real engine's scheduler would. Also the
//! request metrics the worker declares beside the built-in gauge sets.

use std::time::Duration;

use engine_gauges::prometheus::{Histogram, IntCounter};
use engine_gauges::{ComponentSnapshot, EngineGauges, Family, LabelValue, PerRank};

/// Why a request finished: the `finish_reason` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, LabelValue)]
pub enum FinishReason {
    /// The model produced a stop token or stop string.
    Stop,
    /// The request reached its token limit.
    Length,
    /// The client went away or the request was cancelled.
    Abort,
}

/// The request-level metrics of an engine: counters by rank and finish reason, token counters,
/// and a latency histogram.
#[derive(Debug, EngineGauges)]
pub struct RequestMetrics {
    /// Requests finished, by data-parallel rank and by why they finished.
    #[metric(labels("finish_reason"))]
    pub requests_total: PerRank<Family<FinishReason, IntCounter>>,
    /// Prompt tokens processed (prefill).
    pub prompt_tokens_total: IntCounter,
    /// Tokens generated (decode).
    pub generation_tokens_total: IntCounter,
    /// Seconds from a request's arrival to its first output token.
    #[metric(buckets = engine_gauges::buckets::TIME_TO_FIRST_TOKEN_SECONDS)]
    pub time_to_first_token_seconds: Histogram,
}

impl RequestMetrics {
    /// Records one finished request.
    pub fn record(&self, request: &FinishedRequest) {
        self.requests_total
            .rank(request.dp_rank)
            .with(request.reason)
            .inc();
        self.prompt_tokens_total.inc_by(request.prompt_tokens);
        self.generation_tokens_total
            .inc_by(request.generation_tokens);
        self.time_to_first_token_seconds
            .observe(request.time_to_first_token_seconds);
    }
}

/// A request the simulated engine finished.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FinishedRequest {
    /// The rank that served it.
    pub dp_rank: u32,
    /// Why it finished.
    pub reason: FinishReason,
    /// Its prompt's length, in tokens.
    pub prompt_tokens: u64,
    /// How many tokens it generated.
    pub generation_tokens: u64,
    /// Seconds until its first output token.
    pub time_to_first_token_seconds: f64,
}

/// A fake engine with a KV cache per data-parallel rank.
#[derive(Debug)]
pub struct SimulatedEngine {
    total_blocks: u64,
    step: u64,
}

impl SimulatedEngine {
    /// Steps after which the prefix cache has seen enough requests to report a hit rate.
    pub const WARMUP_STEPS: u64 = 3;

    /// "Loads the model": takes `load_time`, then returns an engine with `total_blocks` KV cache
    /// blocks per rank.
    pub fn start(total_blocks: u64, load_time: Duration) -> Self {
        std::thread::sleep(load_time);
        Self {
            total_blocks,
            step: 0,
        }
    }

    /// Runs one scheduler step and returns each rank's state. Usage follows a slow wave, shifted
    /// per rank; the hit rate is `None` until the cache has warmed up.
    pub fn step(&mut self, ranks: &[u32]) -> Vec<ComponentSnapshot> {
        self.step += 1;
        let step = self.step;
        ranks
            .iter()
            .map(|&rank| {
                let phase = step as f64 / 8.0 + f64::from(rank);
                let usage = 0.5 + 0.4 * phase.sin();
                let used = (usage * self.total_blocks as f64) as u64;
                ComponentSnapshot {
                    kv_used_blocks: used,
                    kv_total_blocks: self.total_blocks,
                    gpu_cache_usage: usage as f32,
                    kv_cache_hit_rate: (step > Self::WARMUP_STEPS)
                        .then(|| (0.3 + 0.2 * (phase / 3.0).cos()) as f32),
                    dp_rank: rank,
                }
            })
            .collect()
    }

    /// The requests the last step finished: one or two per rank, with reasons, lengths and
    /// latencies that vary from step to step.
    pub fn finished_requests(&self, ranks: &[u32]) -> Vec<FinishedRequest> {
        let step = self.step;
        ranks
            .iter()
            .flat_map(|&rank| {
                let count = 1 + (step + u64::from(rank)) % 2;
                (0..count).map(move |i| {
                    let n = step * 7 + u64::from(rank) * 3 + i;
                    let reason = match n % 10 {
                        0..=6 => FinishReason::Stop,
                        7 | 8 => FinishReason::Length,
                        _ => FinishReason::Abort,
                    };
                    FinishedRequest {
                        dp_rank: rank,
                        reason,
                        prompt_tokens: 128 + (n * 37) % 900,
                        generation_tokens: 16 + (n * 53) % 400,
                        time_to_first_token_seconds: 0.02 + ((n * 13) % 50) as f64 / 100.0,
                    }
                })
            })
            .collect()
    }

    /// Steps run so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Waits for in-flight requests to finish.
    pub fn drain(&mut self) {
        std::thread::sleep(Duration::from_millis(40));
    }

    /// Releases the KV cache and the model.
    pub fn cleanup(self) {
        std::thread::sleep(Duration::from_millis(20));
    }
}
