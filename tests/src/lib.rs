//! Helpers shared by the integration tests.

pub mod bad_text;
pub mod expfmt;
pub mod faults;
pub mod fixture;
pub mod hostile;
pub mod http_client;
pub mod names_model;
pub mod page;
pub mod probe;
pub mod programs;
pub mod prometheus_server;
pub mod promtool;
pub mod serving;
