//! Mounting the page in an `axum` router (feature `axum`).
//!
//! ```
//! use engine_gauges::{MetricsRoot, scrape::ScrapeOptions};
//! use axum::{Router, routing::get};
//!
//! let root = MetricsRoot::with_connection_id(7);
//! let app: Router = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .route(
//!         "/metrics",
//!         engine_gauges::axum::metrics_route(root.registry().clone(), ScrapeOptions::default()),
//!     );
//! # drop(app);
//! ```

use axum::body::Body;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{MethodRouter, get};

use crate::{MetricsRegistry, http::response::metrics_response, scrape::render::ScrapeOptions};

/// A `GET` (and so `HEAD`) route answering with `registry`'s combined page, as
/// [`metrics_response`] does: shared renders, the scrape timeout (`503` past it), gzip when
/// accepted.
pub fn metrics_route<S>(registry: MetricsRegistry, options: ScrapeOptions) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    get(move |headers: HeaderMap| async move {
        let response: Response<Body> = metrics_response(&registry, &headers, &options)
            .await
            .map(Body::from);
        response
    })
}
