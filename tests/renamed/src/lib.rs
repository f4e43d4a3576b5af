//! A crate that re-exports the runtime under another name, as a facade crate would, and declares
//! a gauge set through it.

pub use gauges as metrics;

use metrics::prometheus::{Gauge, IntGauge};
use metrics::{ComponentSnapshot, EngineGauges, PerRank};

/// Gauges declared through the re-export.
#[derive(Debug, EngineGauges)]
#[gauges(crate = crate::metrics, snapshot = ComponentSnapshot)]
pub struct Renamed {
    /// Blocks by rank.
    #[gauge(from = kv_total_blocks)]
    pub blocks: PerRank<IntGauge>,
    /// A plain gauge.
    pub plain: Gauge,
}
