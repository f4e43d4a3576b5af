//! A Markdown catalog of every metric the built-in gauge sets export, from their descriptors.
//!
//! `cargo run --example catalog`.

use engine_gauges::{ComponentGauges, EngineGauges, LifecycleGauges, MetricDescriptor, labels};

fn row(d: &MetricDescriptor) -> String {
    let mut labels: Vec<String> = d.variable_labels.iter().map(|l| format!("`{l}`")).collect();
    labels.extend(d.const_labels.iter().map(|(k, v)| format!("`{k}={v}`")));
    let labels = if labels.is_empty() {
        "-".to_owned()
    } else {
        labels.join(", ")
    };
    format!(
        "| `{}` | {} | {} | {} |",
        d.name,
        d.kind.prometheus_type(),
        labels,
        d.help.replace('|', "\\|")
    )
}

fn main() {
    println!("| metric | type | labels | help |");
    println!("| --- | --- | --- | --- |");
    for d in LifecycleGauges::DESCRIPTORS
        .iter()
        .chain(ComponentGauges::DESCRIPTORS)
    {
        println!("{}", row(d));
    }
    println!();
    println!(
        "Every metric also carries, where the hierarchy and the engine provide them: {}.",
        labels::RUNTIME_INJECTED
            .iter()
            .map(|l| format!("`{l}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
