//! A `MetricsServer` in a process of its own, for the exporter's hostile-client tests: they need
//! its memory, its threads and its file-descriptor limit apart from the test's.
//!
//! It prints `serving http://ADDR/metrics` on standard error once it listens, and exits when its
//! standard input closes (so a test that drops it, or dies, ends it too).
//!
//! Flags (all optional): `--series N` and `--label-bytes B` (the page's size: N gauge series,
//! each with a label value of B bytes), `--slow-update-ms MS` (an update callback that sleeps),
//! `--hang-update` (an update callback that never returns), `--hang-updates N` (N more such
//! callbacks), `--timeout-ms`, `--max-connections`,
//! `--header-read-timeout-ms`, `--write-timeout-ms` (the server's options).

use std::io::Read;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use engine_gauges::prometheus::{GaugeVec, IntCounter};
use engine_gauges::{
    MetricsRoot, create_metric, http::MetricsServer, http::ServerOptions, scrape::ScrapeOptions,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("probe: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut series = 10usize;
    let mut label_bytes = 8usize;
    let mut slow_update = None;
    let mut hang = false;
    let mut more_hung = 0u64;
    let mut options = ServerOptions::new();
    while let Some(flag) = args.next() {
        let mut value = || -> Result<u64, Box<dyn std::error::Error>> {
            Ok(args
                .next()
                .ok_or(format!("{flag} needs a value"))?
                .parse()?)
        };
        match flag.as_str() {
            "--series" => series = usize::try_from(value()?)?,
            "--label-bytes" => label_bytes = usize::try_from(value()?)?,
            "--slow-update-ms" => slow_update = Some(Duration::from_millis(value()?)),
            "--hang-update" => hang = true,
            "--hang-updates" => more_hung = value()?,
            "--timeout-ms" => {
                options = options.with_scrape(
                    ScrapeOptions::new().with_timeout(Duration::from_millis(value()?)),
                );
            }
            "--max-connections" => {
                options = options.with_max_connections(usize::try_from(value()?)?)
            }
            "--header-read-timeout-ms" => {
                options = options.with_header_read_timeout(Duration::from_millis(value()?));
            }
            "--write-timeout-ms" => {
                options = options.with_write_timeout(Duration::from_millis(value()?));
            }
            other => return Err(format!("unknown flag {other}").into()),
        }
    }

    let root = MetricsRoot::with_connection_id(0x42);
    let endpoint = root
        .namespace("probe")?
        .component("backend")?
        .endpoint("generate")?;
    let gauge: GaugeVec = create_metric(
        &endpoint,
        "padding",
        "Series that give the page its size.",
        &[],
        None,
        Some(&["series", "text"]),
    )?;
    let text = "x".repeat(label_bytes);
    for i in 0..series {
        gauge
            .with_label_values(&[&i.to_string(), &text])
            .set(i as f64);
    }
    let runs: IntCounter = create_metric(
        &endpoint,
        "update_runs_total",
        "Times the update callback started.",
        &[],
        None,
        None,
    )?;
    let registry = root.registry().clone();
    {
        let runs = runs.clone();
        registry.add_update_callback(Arc::new(move || {
            runs.inc();
            if let Some(pause) = slow_update {
                std::thread::sleep(pause);
            }
            if hang {
                loop {
                    std::thread::park();
                }
            }
            Ok(())
        }));
    }

    for _ in 0..more_hung {
        registry.add_update_callback(Arc::new(|| {
            loop {
                std::thread::park();
            }
        }));
    }

    let server =
        MetricsServer::start_with(SocketAddr::from(([127, 0, 0, 1], 0)), registry, options)?;
    eprintln!("serving {}", server.url());
    // Until the test closes our standard input.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    Ok(())
}
