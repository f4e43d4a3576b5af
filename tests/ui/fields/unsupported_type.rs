use engine_gauges::EngineGauges;
use engine_gauges::prometheus::Gauge;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    served: AtomicU64,
    /// Queue depth.
    depth: u64,
    /// Cache usage.
    usage: Rc<Gauge>,
}

fn main() {}
