//! A simulated engine for the examples: it "loads" a model, then reports per-rank KV cache state
//! that moves over time, as a real engine's scheduler would.

use std::time::Duration;

use engine_gauges::ComponentSnapshot;

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
