//! The page as an HTTP answer, framework-neutral (feature `http`): [`metrics_response`] takes a
//! registry and a request's headers and gives a status, headers and body, for any server built on
//! the `http` crate's types. [`MetricsServer`](crate::http::MetricsServer) and the `axum` route are
//! built on it.

use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, VARY};
use http::{HeaderMap, Response, StatusCode};

use crate::error::ScrapeErrorKind;
use crate::scrape::render::{Page, start_or_join};
use crate::{Error, MetricsRegistry, scrape::render::ScrapeOptions};

/// The page's content type: Prometheus's text exposition format, version 0.0.4.
pub const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The header in which Prometheus sends its scrape timeout, in seconds.
pub const PROMETHEUS_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";

/// Answers a scrape of `registry`'s combined page.
///
/// | outcome | answer |
/// | --- | --- |
/// | the page | `200`, [`CONTENT_TYPE_TEXT`], gzip-compressed when `Accept-Encoding` allows it (`Content-Encoding: gzip`, `Vary: Accept-Encoding`) |
/// | not ready in time | `503`, one line naming the part still running |
/// | the scrape could not run | `500`, one line saying why |
///
/// The wait is bounded by `options`' timeout, and by the timeout Prometheus sends in
/// `X-Prometheus-Scrape-Timeout-Seconds` when that is shorter: an answer later than that is not
/// read. Concurrent calls for the same registry share one render and one copy of its bytes
/// (compressed once). Nothing happens until the returned future is first polled, so a request
/// whose client left before it was served starts no render.
///
/// Inside a tokio runtime it waits without blocking the runtime's threads, and the runtime must
/// have timers enabled (`enable_time`, which every hyper or axum server has) to bound the wait;
/// outside any tokio runtime it waits as [`metrics_response_blocking`] does. The render itself
/// runs on a thread of its own, never on the runtime's threads.
///
/// ```
/// use engine_gauges::http::{CONTENT_TYPE_TEXT, PROMETHEUS_TIMEOUT_HEADER, metrics_response};
/// use engine_gauges::prometheus::IntGauge;
/// use engine_gauges::scrape::ScrapeOptions;
/// use engine_gauges::{MetricsRoot, create_metric};
/// use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE};
/// use http::{HeaderMap, HeaderValue, StatusCode};
///
/// let root = MetricsRoot::with_connection_id(7);
/// let in_flight: IntGauge =
///     create_metric(&root, "inflight_requests", "Requests in flight.", &[], None, None)?;
/// in_flight.set(2);
///
/// // The headers of a scrape as Prometheus sends it: gzip accepted, a 5 s timeout.
/// let mut headers = HeaderMap::new();
/// headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
/// headers.insert(PROMETHEUS_TIMEOUT_HEADER, HeaderValue::from_static("5"));
///
/// // In a handler of your server:
/// // `metrics_response(&registry, request.headers(), &options).await`.
/// let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// let response = runtime.block_on(metrics_response(
///     root.registry(),
///     &headers,
///     &ScrapeOptions::default(),
/// ));
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.headers()[CONTENT_TYPE], CONTENT_TYPE_TEXT);
/// assert_eq!(response.headers()[CONTENT_ENCODING], "gzip");
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub async fn metrics_response(
    registry: &MetricsRegistry,
    request_headers: &HeaderMap,
    options: &ScrapeOptions,
) -> Response<Bytes> {
    if tokio::runtime::Handle::try_current().is_err() {
        return metrics_response_blocking(registry, request_headers, options);
    }
    let deadline = Instant::now() + wait_for(request_headers, options);
    let render = match start_or_join(registry, options) {
        Ok(render) => render,
        Err(error) => return error_response(&error),
    };
    let until = deadline.min(render.deadline());
    let page = match tokio::time::timeout_at(until.into(), render.wait()).await {
        Ok(Ok(page)) => page,
        Ok(Err(error)) => return error_response(&error),
        Err(_elapsed) => match render.outcome_at_deadline() {
            Ok(page) => page,
            Err(error) => return error_response(&error),
        },
    };
    if accepts_gzip(request_headers) {
        let shared = Arc::clone(page.inner());
        let compressed = tokio::task::spawn_blocking(move || gzip_of(&shared)).await;
        if let Ok(Some(body)) = compressed {
            return gzip_response(body);
        }
    }
    plain_response(&page)
}

/// [`metrics_response`] for any server, with no async runtime: the calling thread waits for the
/// page (at most the timeout of `options`, or Prometheus's shorter one), and gzip is done on it.
/// The answers are the same.
///
/// ```
/// use engine_gauges::http::{CONTENT_TYPE_TEXT, metrics_response_blocking};
/// use engine_gauges::prometheus::IntGauge;
/// use engine_gauges::scrape::ScrapeOptions;
/// use engine_gauges::{MetricsRoot, create_metric};
/// use http::header::CONTENT_TYPE;
/// use http::{Request, StatusCode};
///
/// let root = MetricsRoot::with_connection_id(7);
/// let in_flight: IntGauge =
///     create_metric(&root, "inflight_requests", "Requests in flight.", &[], None, None)?;
/// in_flight.set(2);
///
/// // A request that accepts no compression: the page comes as plain text.
/// let request = Request::get("/metrics").body(()).unwrap();
/// let response =
///     metrics_response_blocking(root.registry(), request.headers(), &ScrapeOptions::default());
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.headers()[CONTENT_TYPE], CONTENT_TYPE_TEXT);
/// let body = std::str::from_utf8(response.body()).unwrap();
/// assert!(body.contains("dynamo_component_inflight_requests{worker_id=\"7\"} 2\n"));
/// # Ok::<(), engine_gauges::Error>(())
/// ```
pub fn metrics_response_blocking(
    registry: &MetricsRegistry,
    request_headers: &HeaderMap,
    options: &ScrapeOptions,
) -> Response<Bytes> {
    let deadline = Instant::now() + wait_for(request_headers, options);
    let page =
        match start_or_join(registry, options).and_then(|render| render.wait_blocking(deadline)) {
            Ok(page) => page,
            Err(error) => return error_response(&error),
        };
    if accepts_gzip(request_headers)
        && let Some(body) = gzip_of(page.inner())
    {
        return gzip_response(body);
    }
    plain_response(&page)
}

/// How long an answer is awaited: the configured timeout, or Prometheus's when it is shorter.
fn wait_for(request_headers: &HeaderMap, options: &ScrapeOptions) -> Duration {
    let wait = options.timeout();
    match prometheus_timeout(request_headers) {
        Some(asked) => wait.min(asked),
        None => wait,
    }
}

fn gzip_response(body: Arc<[u8]>) -> Response<Bytes> {
    let mut response = page_response(Bytes::from_owner(SharedBytes(body)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}

fn plain_response(page: &Page) -> Response<Bytes> {
    let mut response = page_response(text_bytes(page));
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The page's text as shared bytes (no copy).
fn text_bytes(page: &Page) -> Bytes {
    Bytes::from_owner(PageText(page.clone()))
}

struct PageText(Page);

impl AsRef<[u8]> for PageText {
    fn as_ref(&self) -> &[u8] {
        self.0.as_str().as_bytes()
    }
}

struct SharedBytes(Arc<[u8]>);

impl AsRef<[u8]> for SharedBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// The page gzip-compressed, made once per page. `None` only if compressing failed, which
/// writing to memory does not do.
fn gzip_of(page: &crate::scrape::render::PageInner) -> Option<Arc<[u8]>> {
    page.gzip
        .get_or_init(|| {
            let mut encoder = flate2::write::GzEncoder::new(
                Vec::with_capacity(page.text.len() / 4 + 64),
                flate2::Compression::fast(),
            );
            encoder.write_all(page.text.as_bytes()).ok()?;
            encoder.finish().ok().map(Arc::from)
        })
        .clone()
}

fn page_response(body: Bytes) -> Response<Bytes> {
    let length = HeaderValue::from(body.len());
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_TEXT));
    headers.insert(CONTENT_LENGTH, length);
    response
}

/// A failed scrape's answer: 503 for a timeout, 500 otherwise, with a one-line body.
fn error_response(error: &Error) -> Response<Bytes> {
    let status = match error {
        Error::Scrape(ScrapeErrorKind::Timeout { .. }) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    tracing::error!(%error, status = status.as_u16(), "metrics scrape failed");
    let line = error.to_string().replace(['\r', '\n'], " ");
    text_response(status, format!("metrics scrape failed: {line}\n"))
}

/// A plain-text answer.
pub(crate) fn text_response(status: StatusCode, body: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN));
    response
}

/// The timeout Prometheus says it waits, if the request carries a usable one.
fn prometheus_timeout(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(PROMETHEUS_TIMEOUT_HEADER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds > 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

/// Whether `Accept-Encoding` allows gzip: `gzip` (or `*`) listed without `q=0`.
pub(crate) fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(http::header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or_default().trim();
            let allowed = parts.all(|param| {
                let param = param.trim();
                match param
                    .strip_prefix("q=")
                    .or_else(|| param.strip_prefix("Q="))
                {
                    Some(q) => q.trim().parse::<f32>().is_ok_and(|q| q > 0.0),
                    None => true,
                }
            });
            allowed && (coding.eq_ignore_ascii_case("gzip") || coding == "*")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for &(name, value) in pairs {
            map.append(name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn gzip_is_chosen_by_accept_encoding() {
        for (value, gzip) in [
            ("gzip", true),
            ("identity, gzip", true),
            ("GZIP", true),
            ("gzip;q=0.5", true),
            ("*", true),
            ("deflate, br", false),
            ("gzip;q=0", false),
            ("gzip; q=0.0", false),
            ("", false),
        ] {
            assert_eq!(
                accepts_gzip(&headers(&[("accept-encoding", value)])),
                gzip,
                "{value:?}"
            );
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn prometheus_timeout_header_is_read_when_usable() {
        let read = |v| prometheus_timeout(&headers(&[(PROMETHEUS_TIMEOUT_HEADER, v)]));
        assert_eq!(read("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(read("0"), None);
        assert_eq!(read("-1"), None);
        assert_eq!(read("NaN"), None);
        assert_eq!(read("soon"), None);
    }

    #[test]
    fn a_timeout_is_a_503_and_other_failures_a_500_with_one_line() {
        let timeout = error_response(&Error::Scrape(ScrapeErrorKind::Timeout {
            timeout: Duration::from_secs(1),
            running: "update callback #1 of\nthe scraped registry".to_owned(),
        }));
        assert_eq!(timeout.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = String::from_utf8(timeout.body().to_vec()).expect("utf-8");
        assert_eq!(body.lines().count(), 1, "{body}");
        assert!(
            body.starts_with(
                "metrics scrape failed: the scrape did not finish within 1s: update callback #1 of the scraped registry is still running"
            ),
            "{body}"
        );
        let failed = error_response(&Error::Scrape(ScrapeErrorKind::Reentrant));
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(failed.headers()[CONTENT_TYPE], TEXT_PLAIN);
    }
}
