//! A Markdown catalog of every metric the built-in gauge sets export, from their descriptors.
//!
//! `cargo run --example catalog`.

use engine_gauges::{
    EngineGauges, labels, metric::MetricDescriptor, reference::ComponentGauges,
    reference::LifecycleGauges,
};
use engine_gauges_examples::RequestMetrics;

fn row(d: &MetricDescriptor) -> String {
    // A typed family's labels are the last of its variable labels, each with its fixed values.
    let typed_from = d.variable_labels.len() - d.label_values.len();
    let mut labels: Vec<String> = d
        .variable_labels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            match i
                .checked_sub(typed_from)
                .and_then(|j| d.label_values.get(j))
            {
                Some(values) => format!("`{l}` ∈ {{{}}}", values.join(", ")),
                None => format!("`{l}`"),
            }
        })
        .collect();
    labels.extend(d.const_labels.iter().map(|(k, v)| format!("`{k}={v}`")));
    let labels = if labels.is_empty() {
        "-".to_owned()
    } else {
        labels.join(", ")
    };
    let buckets = if d.buckets.is_empty() {
        "-".to_owned()
    } else {
        let bounds: Vec<String> = d.buckets.iter().map(f64::to_string).collect();
        format!("{}, +Inf", bounds.join(", "))
    };
    format!(
        "| `{}` | {} | `{}` | {} | {} | {} |",
        d.name,
        d.kind.prometheus_type(),
        d.kind,
        labels,
        buckets,
        d.help.replace('|', "\\|")
    )
}

fn main() {
    println!("| metric | type | registered as | labels | buckets | help |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for d in LifecycleGauges::DESCRIPTORS
        .iter()
        .chain(ComponentGauges::DESCRIPTORS)
        .chain(RequestMetrics::DESCRIPTORS)
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
