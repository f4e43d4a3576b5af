//! Benchmarks of engine-gauges: see the `benches/` targets.
