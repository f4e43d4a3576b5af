//! The HTTP exporter under hostile conditions: hung and slow callbacks, clients that give up,
//! never read, or hold sockets idle, a low file-descriptor limit. Each test states the figure it
//! checks; `RELIABILITY.md` records them before and after.
//!
//! The server runs in a process of its own (the `probe` binary, `tests/src/bin/probe.rs`), so its
//! memory, threads and file-descriptor limit are its own and are measured from outside.
//! `ENGINE_GAUGES_PROBE` may name another build of it (for example one of an older version, to
//! measure the figures before a change). The exporter's functional tests, with the server in the
//! test's own process, are in `http.rs`; keeping these apart also keeps their timings free of
//! those tests' load.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use engine_gauges_tests::http_client::{HttpResponse, http_get};
use engine_gauges_tests::probe::Probe;

fn probe_path() -> String {
    std::env::var("ENGINE_GAUGES_PROBE").unwrap_or_else(|_| env!("CARGO_BIN_EXE_probe").to_owned())
}

fn start(args: &[&str]) -> Probe {
    Probe::start(&probe_path(), args, None)
}

fn scrape(addr: SocketAddr, timeout: Duration) -> (Duration, std::io::Result<HttpResponse>) {
    let started = Instant::now();
    let response = http_get(addr, "/metrics", &[], timeout);
    (started.elapsed(), response)
}

/// The value of the probe's `update_runs_total` on a page.
fn update_runs(page: &str) -> f64 {
    page.lines()
        .find(|l| l.starts_with("dynamo_component_update_runs_total"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no update_runs_total on the page:\n{page}"))
}

/// one update callback hangs forever. The first scrape gets a 503 naming it, at the
/// timeout; every later scrape gets the rest of the page within about a second, with the stuck
/// part counted; the process's threads stay bounded.
#[test]
fn a_hung_update_callback_costs_one_scrape_not_all() {
    let probe = start(&["--hang-update", "--timeout-ms", "1000"]);
    let (took, first) = scrape(probe.addr(), Duration::from_secs(5));
    let first = first.expect("the first scrape is answered");
    assert_eq!(first.status, 503, "{}", first.text());
    assert_eq!(first.text().lines().count(), 1, "{}", first.text());
    assert!(
        first
            .text()
            .contains("update callback #1 of the root is still running"),
        "{}",
        first.text()
    );
    assert!(took < Duration::from_millis(2500), "the 503 took {took:?}");
    let threads_before = probe.threads();
    let mut slowest = Duration::ZERO;
    let mut ok = 0;
    const LATER: usize = 20;
    for _ in 0..LATER {
        let (took, response) = scrape(probe.addr(), Duration::from_secs(5));
        let response = response.expect("a later scrape is answered");
        slowest = slowest.max(took);
        if response.status == 200 {
            ok += 1;
            let page = response.text();
            assert!(page.contains("dynamo_component_padding{"), "{page}");
            assert!(
                page.contains("engine_gauges_scrape_failures_total{kind=\"timeout\"} "),
                "{page}"
            );
        }
    }
    let threads_after = probe.threads();
    eprintln!(
        "hung update callback: first scrape {} in {took:?}; later scrapes {ok}/{LATER} answered 200, \
         slowest {slowest:?}; threads {threads_before:?} -> {threads_after:?}",
        first.status
    );
    assert_eq!(ok, LATER, "every later scrape is a 200");
    assert!(
        slowest < Duration::from_millis(1500),
        "slowest later scrape {slowest:?}"
    );
    if let (Some(before), Some(after)) = (threads_before, threads_after) {
        assert!(after <= before + 2, "threads grew from {before} to {after}");
    }
}

/// with a 1 s update callback, 100 clients that give up after 0.5 s do not pile up
/// renders: the next real scrape answers in about one render's time.
#[test]
fn abandoned_requests_do_not_pile_up_renders() {
    let probe = start(&["--slow-update-ms", "1000", "--timeout-ms", "10000"]);
    let addr = probe.addr();
    let clients: Vec<_> = (0..100)
        .map(|_| {
            thread::spawn(move || {
                let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                else {
                    return;
                };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let _ = write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n");
                let mut buf = [0u8; 1024];
                // Gives up after 0.5 s (the read times out), and closes.
                let _ = stream.read(&mut buf);
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client");
    }
    let (took, response) = scrape(addr, Duration::from_secs(30));
    let response = response.expect("the next scrape is answered");
    assert_eq!(response.status, 200);
    let runs = update_runs(&response.text());
    eprintln!(
        "abandoned requests: after 100 clients gave up at 0.5 s, the next scrape took {took:?}; \
         renders so far: {runs}"
    );
    assert!(
        took < Duration::from_millis(2500),
        "the next scrape took {took:?}"
    );
    assert!(
        runs <= 3.0,
        "{runs} renders for 100 abandoned requests and one scrape"
    );
}

/// A request whose client has already gone starts no render.
///
/// "Already gone" means the server receives the request and the client's FIN together: the
/// socket is corked, so the request waits in the client's kernel and `shutdown` sends it in one
/// segment with the FIN. A client whose FIN arrives after the server has begun the request is
/// not what this test is about (no server can see a FIN before it arrives).
#[test]
fn a_request_whose_client_left_starts_no_render() {
    let probe = start(&["--slow-update-ms", "200"]);
    let addr = probe.addr();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(addr).expect("connect");
        socket2::SockRef::from(&stream)
            .set_tcp_cork(true)
            .expect("cork the socket");
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("write");
        stream.shutdown(Shutdown::Both).expect("close");
    }
    thread::sleep(Duration::from_millis(300));
    let (_, response) = scrape(addr, Duration::from_secs(10));
    let response = response.expect("answered");
    assert_eq!(response.status, 200);
    assert_eq!(
        update_runs(&response.text()),
        1.0,
        "only the real scrape rendered:\n{}",
        response.text()
    );
}

/// on a 3.4 MB page, 300 clients that send a request and never read the answer.
/// Memory stays within a small multiple of the page.
#[test]
fn clients_that_never_read_do_not_grow_memory() {
    // 20,000 series of about 170 bytes: a page of about 3.4 MB.
    let probe = start(&[
        "--series",
        "20000",
        "--label-bytes",
        "20",
        "--write-timeout-ms",
        "3000",
        // Above the 300 clients: this test is about memory, not the connection cap.
        "--max-connections",
        "400",
    ]);
    let addr = probe.addr();
    let (_, page) = scrape(addr, Duration::from_secs(30));
    let page_len = page.expect("a first scrape").body.len();
    assert!(page_len > 3_000_000, "the page is {page_len} bytes");
    // The peak so far covers one render: what the 300 clients add is measured from there.
    let base_kib = probe.peak_rss_kib().expect("/proc tells the memory");
    let mut sockets = Vec::new();
    for _ in 0..300 {
        let mut stream =
            TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
        write!(stream, "GET /metrics HTTP/1.1\r\nHost: {addr}\r\n\r\n").expect("write");
        sockets.push(stream);
    }
    // Let the server render and start writing to all of them.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut peak_kib = probe.peak_rss_kib().unwrap_or(0);
    while Instant::now() < deadline {
        thread::sleep(Duration::from_millis(250));
        peak_kib = probe.peak_rss_kib().unwrap_or(peak_kib);
        if probe.open_files().is_some_and(|open| open < 20) {
            break; // the write timeout closed them
        }
    }
    let grown_mb = peak_kib.saturating_sub(base_kib) as f64 / 1024.0;
    let page_mb = page_len as f64 / 1_000_000.0;
    eprintln!(
        "non-reading clients: 300 clients on a {page_mb:.1} MB page: process {:.0} MB -> peak {:.0} MB \
         (+{grown_mb:.0} MB, {:.1} pages)",
        base_kib as f64 / 1024.0,
        peak_kib as f64 / 1024.0,
        grown_mb / page_mb
    );
    assert!(
        grown_mb < 4.0 * page_mb,
        "memory grew by {grown_mb:.0} MB for a {page_mb:.1} MB page"
    );
    // The write timeout closed the connections nobody read.
    let open = probe.open_files().unwrap_or(0);
    assert!(open < 50, "{open} files still open after the write timeout");
    drop(sockets);
}

/// under `ulimit -n 1024`, 1,100 idle sockets held open; a scrape every 1.25 s from
/// the moment they open, each with a 5 s timeout: at least 90% answered 200.
///
/// Not all: a scrape that connects in the same milliseconds as the flood may be closed to make
/// room before its request arrives, since until then it looks like any other idle socket. The
/// cadence gives each run 11 scrapes, so that one such scrape does not fail the run.
#[test]
fn idle_sockets_under_a_low_file_limit_do_not_stop_scrapes() {
    idle_sockets_case(1024, 1100, &[], 11);
}

/// File-descriptor exhaustion itself: a connection cap above the limit, so `accept` fails with
/// EMFILE; the accept loop backs off, makes room and recovers.
#[test]
fn the_accept_loop_recovers_from_file_descriptor_exhaustion() {
    idle_sockets_case(64, 200, &["--max-connections", "1000"], 10);
}

/// The time between two scrapes of [`idle_sockets_case`].
const SCRAPE_EVERY: Duration = Duration::from_millis(1250);

fn idle_sockets_case(limit: u32, sockets: usize, args: &[&str], scrapes: usize) {
    let probe = Probe::start(&probe_path(), args, Some(limit));
    let addr = probe.addr();
    let opener = thread::spawn(move || {
        let mut held = Vec::new();
        for _ in 0..sockets {
            if let Ok(stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                held.push(stream);
            }
        }
        held
    });
    let started = Instant::now();
    let mut answered = 0;
    let mut outcomes = Vec::new();
    for i in 0..scrapes {
        let at = SCRAPE_EVERY * i as u32;
        thread::sleep(at.saturating_sub(started.elapsed()));
        let (took, response) = scrape(addr, Duration::from_secs(5));
        match response {
            Ok(r) if r.status == 200 => {
                answered += 1;
                outcomes.push(format!("200 in {took:.1?}"));
            }
            Ok(r) => outcomes.push(format!("{} in {took:.1?}", r.status)),
            Err(error) => outcomes.push(format!("failed after {took:.1?}: {error}")),
        }
    }
    let held = opener.join().expect("opener");
    eprintln!(
        "idle sockets: ulimit -n {limit}, {} of {sockets} idle sockets opened; scrapes every \
         {SCRAPE_EVERY:?}: \
         {answered}/{scrapes} answered 200 ({})",
        held.len(),
        outcomes.join(", ")
    );
    assert!(
        answered * 10 >= scrapes * 9,
        "{answered}/{scrapes} scrapes answered: {outcomes:?}"
    );
    drop(held);
}

/// However many callbacks hang, the render threads stay bounded: each stuck callback holds one,
/// and past `MAX_RENDER_THREADS` a scrape is refused (`500`, saying why) instead of starting more.
#[test]
fn render_threads_stay_bounded_however_many_callbacks_hang() {
    let limit = engine_gauges::limits::MAX_RENDER_THREADS;
    let hung = (limit + 8).to_string();
    let probe = start(&["--hang-updates", &hung, "--timeout-ms", "100"]);
    let mut statuses = Vec::new();
    let mut refusal = None;
    // Each scrape meets one more hung callback (the earlier ones are skipped as stuck), so the
    // limit is reached after about `limit` scrapes.
    for _ in 0..limit + 8 {
        let (_, response) = scrape(probe.addr(), Duration::from_secs(5));
        let response = response.expect("answered");
        if response.status == 500 && refusal.is_none() {
            refusal = Some(response.text());
        }
        statuses.push(response.status);
    }
    let threads = probe.threads().unwrap_or(0);
    eprintln!(
        "hung callbacks: {hung} hung update callbacks, {} scrapes: statuses {statuses:?}; {threads} threads",
        statuses.len()
    );
    let refusal = refusal.unwrap_or_else(|| panic!("never refused: {statuses:?}"));
    assert!(
        refusal.contains(&format!("{limit} renders are still running")),
        "{refusal}"
    );
    // The render threads, the server's thread, the main thread and a few of tokio's.
    assert!(threads as usize <= limit + 6, "{threads} threads");
    assert!(
        statuses.iter().all(|&s| s == 503 || s == 500),
        "{statuses:?}"
    );
}
