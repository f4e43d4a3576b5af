//! Histogram bucket rules.

use core::fmt;

/// What is wrong with a list of bucket bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketProblem {
    /// No bound at all.
    Empty,
    /// The bound at `index` is NaN or infinite.
    NotFinite {
        /// Its position in the list.
        index: usize,
    },
    /// The bound at `index` is not greater than the one before it.
    NotIncreasing {
        /// Its position in the list.
        index: usize,
    },
}

impl BucketProblem {
    /// The rule broken and what to do, as a `&'static str` a `const` block can panic with.
    pub const fn message(self) -> &'static str {
        match self {
            Self::Empty => {
                "histogram buckets are empty: give at least one upper bound, or a preset from \
                 `engine_gauges::buckets`"
            }
            Self::NotFinite { .. } => {
                "histogram bucket bounds must be finite: drop NaN and infinities (the `+Inf` \
                 bucket is added for you)"
            }
            Self::NotIncreasing { .. } => {
                "histogram bucket bounds must be strictly increasing: sort them and drop repeats"
            }
        }
    }
}

impl fmt::Display for BucketProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str(self.message()),
            Self::NotFinite { index } | Self::NotIncreasing { index } => {
                write!(f, "{} (bound #{index}, counting from 0)", self.message())
            }
        }
    }
}

/// Checks histogram bucket bounds: at least one, each finite, strictly increasing. A `const fn`,
/// so that generated code can check a `const` or `static` list at compile time.
///
/// # Errors
/// The first problem found, with the position of the offending bound.
pub const fn check_buckets(bounds: &[f64]) -> Result<(), BucketProblem> {
    if bounds.is_empty() {
        return Err(BucketProblem::Empty);
    }
    let mut index = 0;
    while index < bounds.len() {
        let bound = bounds[index];
        if !bound.is_finite() {
            return Err(BucketProblem::NotFinite { index });
        }
        // `!(a < b)` and not `a >= b`, so that a NaN before it (already refused) cannot pass.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if index > 0 && !(bounds[index - 1] < bound) {
            return Err(BucketProblem::NotIncreasing { index });
        }
        index += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        assert_eq!(check_buckets(&[]), Err(BucketProblem::Empty));
        assert_eq!(
            check_buckets(&[0.1, f64::NAN]),
            Err(BucketProblem::NotFinite { index: 1 })
        );
        assert_eq!(
            check_buckets(&[f64::INFINITY]),
            Err(BucketProblem::NotFinite { index: 0 })
        );
        assert_eq!(
            check_buckets(&[0.1, 0.5, 0.5]),
            Err(BucketProblem::NotIncreasing { index: 2 })
        );
        assert_eq!(
            check_buckets(&[1.0, 0.5]),
            Err(BucketProblem::NotIncreasing { index: 1 })
        );
        assert_eq!(check_buckets(&[-1.0, 0.0, 1e-9, 2.5]), Ok(()));
        assert_eq!(check_buckets(&[7.0]), Ok(()));
    }

    #[test]
    fn the_check_runs_at_compile_time() {
        const OK: Result<(), BucketProblem> = check_buckets(&[0.5, 1.0]);
        const BAD: Result<(), BucketProblem> = check_buckets(&[1.0, 1.0]);
        assert_eq!(OK, Ok(()));
        assert_eq!(BAD, Err(BucketProblem::NotIncreasing { index: 1 }));
    }
}
