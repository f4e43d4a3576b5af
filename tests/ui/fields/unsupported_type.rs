use engine_gauges::EngineGauges;
use engine_gauges::prometheus::{Counter, Gauge};
use std::rc::Rc;

#[derive(EngineGauges)]
struct Set {
    /// Requests served.
    served: Counter,
    /// Queue depth.
    depth: u64,
    /// Cache usage.
    usage: Rc<Gauge>,
}

fn main() {}
