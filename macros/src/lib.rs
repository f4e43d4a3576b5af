//! The derive for engine-gauges (in progress).
