// The sealed traits' methods take a token only the crate can make: a generic bound does not
// open them to callers outside it.
use engine_gauges::metric::{RankMetric, SetGauge};
use engine_gauges::prometheus::{Gauge, Opts};
use engine_gauges::{CreateMetric, PerRank};

fn rank_of<M: RankMetric>(per_rank: &PerRank<M>) {
    let _ = M::rank(per_rank, 0);
}

fn set_of<M: SetGauge>(per_rank: &PerRank<M>, value: M::Value) {
    M::set(&per_rank.rank(0), value);
}

fn build_of<T: CreateMetric>() {
    let _ = T::build(Opts::new("x", "X."), Vec::new(), &[]);
}

// And the token cannot be named, let alone made.
fn a_token() {
    let _ = engine_gauges::metric::sealed::Token;
}

fn main() {
    a_token();
    let _ = rank_of::<Gauge>;
    let _ = set_of::<Gauge>;
    let _ = build_of::<Gauge>;
}
