//! The crate's text encoder: metric families to exposition format 0.0.4.
//!
//! It writes what `prometheus::TextEncoder` writes for the four types that crate makes, byte for
//! byte, and also renders `untyped` families (which `TextEncoder` panics on) and histograms that
//! carry their own `+Inf` bucket (printed `+Inf`, as the format's documentation spells it). It
//! never fails: a family without series is skipped, since the format has no way to say it.

use std::fmt::Write as _;

use prometheus::proto::{LabelPair, Metric, MetricFamily, MetricType};

/// Renders `families` in the order given.
#[cfg(test)]
pub(crate) fn encode(families: &[MetricFamily]) -> String {
    let mut page = String::new();
    for family in families {
        encode_family(family, &mut page);
    }
    page
}

/// Appends one family; a family without series appends nothing.
pub(crate) fn encode_family(family: &MetricFamily, page: &mut String) {
    if family.get_metric().is_empty() || family.name().is_empty() {
        return;
    }
    let name = family.name();
    if !family.help().is_empty() {
        page.push_str("# HELP ");
        page.push_str(name);
        page.push(' ');
        escape_into(page, family.help(), false);
        page.push('\n');
    }
    let kind = family.get_field_type();
    page.push_str("# TYPE ");
    page.push_str(name);
    page.push(' ');
    page.push_str(type_name(kind));
    page.push('\n');
    for metric in family.get_metric() {
        match kind {
            MetricType::COUNTER => {
                sample(
                    page,
                    name,
                    "",
                    metric,
                    None,
                    metric.get_counter().get_value(),
                );
            }
            MetricType::GAUGE => {
                sample(page, name, "", metric, None, metric.get_gauge().get_value());
            }
            MetricType::UNTYPED => {
                // Deprecated in the prometheus crate, but still the only home of an untyped value.
                #[allow(deprecated)]
                let value = metric.get_untyped().get_value();
                sample(page, name, "", metric, None, value);
            }
            MetricType::HISTOGRAM => {
                let histogram = metric.get_histogram();
                let mut inf_seen = false;
                for bucket in histogram.get_bucket() {
                    let bound = bucket.upper_bound();
                    let le = if bound == f64::INFINITY {
                        inf_seen = true;
                        "+Inf".to_owned()
                    } else {
                        bound.to_string()
                    };
                    sample(
                        page,
                        name,
                        "_bucket",
                        metric,
                        Some(("le", &le)),
                        bucket.cumulative_count() as f64,
                    );
                }
                if !inf_seen {
                    sample(
                        page,
                        name,
                        "_bucket",
                        metric,
                        Some(("le", "+Inf")),
                        histogram.get_sample_count() as f64,
                    );
                }
                sample(page, name, "_sum", metric, None, histogram.get_sample_sum());
                let count = histogram.get_sample_count() as f64;
                sample(page, name, "_count", metric, None, count);
            }
            MetricType::SUMMARY => {
                let summary = metric.get_summary();
                for quantile in summary.get_quantile() {
                    let q = quantile.quantile().to_string();
                    sample(
                        page,
                        name,
                        "",
                        metric,
                        Some(("quantile", &q)),
                        quantile.value(),
                    );
                }
                sample(page, name, "_sum", metric, None, summary.sample_sum());
                let count = summary.sample_count() as f64;
                sample(page, name, "_count", metric, None, count);
            }
        }
    }
}

/// The type's name on a `# TYPE` line.
pub(crate) fn type_name(kind: MetricType) -> &'static str {
    match kind {
        MetricType::COUNTER => "counter",
        MetricType::GAUGE => "gauge",
        MetricType::SUMMARY => "summary",
        MetricType::UNTYPED => "untyped",
        MetricType::HISTOGRAM => "histogram",
    }
}

fn sample(
    page: &mut String,
    name: &str,
    suffix: &str,
    metric: &Metric,
    extra: Option<(&str, &str)>,
    value: f64,
) {
    page.push_str(name);
    page.push_str(suffix);
    labels(page, metric.get_label(), extra);
    page.push(' ');
    // Writing to a `String` cannot fail.
    let _ = write!(page, "{value}");
    let timestamp = metric.timestamp_ms();
    if timestamp != 0 {
        let _ = write!(page, " {timestamp}");
    }
    page.push('\n');
}

fn labels(page: &mut String, pairs: &[LabelPair], extra: Option<(&str, &str)>) {
    if pairs.is_empty() && extra.is_none() {
        return;
    }
    let mut separator = '{';
    let extra = extra.into_iter();
    for (name, value) in pairs.iter().map(|p| (p.name(), p.value())).chain(extra) {
        page.push(separator);
        page.push_str(name);
        page.push_str("=\"");
        escape_into(page, value, true);
        page.push('"');
        separator = ',';
    }
    page.push('}');
}

/// Escapes `\` and line feed (and `"` in label values), as the format requires.
pub(crate) fn escape_into(page: &mut String, text: &str, quote: bool) {
    // Most text needs no escape: copied whole.
    if !text
        .bytes()
        .any(|b| b == b'\\' || b == b'\n' || (quote && b == b'"'))
    {
        page.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\\' => page.push_str("\\\\"),
            '\n' => page.push_str("\\n"),
            '"' if quote => page.push_str("\\\""),
            c => page.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use prometheus::core::Collector;
    use prometheus::{CounterVec, Gauge, Histogram, HistogramOpts, IntGauge, Opts, TextEncoder};

    use super::*;

    #[test]
    fn matches_the_prometheus_text_encoder_on_its_types() {
        let counter = CounterVec::new(Opts::new("c_total", "with \\ and\nnewline"), &["a", "b"])
            .expect("counter");
        counter.with_label_values(&["x\"y\\z\nw", ""]).inc_by(1.5);
        counter.with_label_values(&["2", "3"]).inc();
        let gauge = Gauge::new("g", "G.").expect("gauge");
        gauge.set(f64::NEG_INFINITY);
        let int = IntGauge::new("i", "I.").expect("int gauge");
        int.set(i64::MAX);
        let histogram = Histogram::with_opts(HistogramOpts::new("h", "H.").buckets(vec![0.5, 1.0]))
            .expect("histogram");
        histogram.observe(0.7);
        let mut families = Vec::new();
        for collector in [&counter as &dyn Collector, &gauge, &int, &histogram] {
            families.extend(collector.collect());
        }
        let summary = {
            let mut family = MetricFamily::default();
            family.set_name("s".into());
            family.set_help("S.".into());
            family.set_field_type(MetricType::SUMMARY);
            let mut quantile = prometheus::proto::Quantile::default();
            quantile.set_quantile(0.5);
            quantile.set_value(2.0);
            let mut summary = prometheus::proto::Summary::default();
            summary.set_quantile(vec![quantile]);
            summary.set_sample_count(3);
            summary.set_sample_sum(6.5);
            let mut metric = Metric::default();
            metric.set_summary(summary);
            metric.set_timestamp_ms(17);
            family.set_metric(vec![metric]);
            family
        };
        families.push(summary);
        let expected = TextEncoder::new()
            .encode_to_string(&families)
            .expect("encode");
        assert_eq!(encode(&families), expected);
    }

    #[test]
    fn renders_untyped_families_and_skips_empty_ones() {
        let mut untyped = MetricFamily::default();
        untyped.set_name("u".into());
        untyped.set_field_type(MetricType::UNTYPED);
        let mut value = prometheus::proto::Untyped::default();
        #[allow(deprecated)]
        value.set_value(f64::NAN);
        let mut metric = Metric::default();
        #[allow(deprecated)]
        metric.set_untyped(value);
        untyped.set_metric(vec![metric]);
        let mut empty = MetricFamily::default();
        empty.set_name("empty".into());
        assert_eq!(encode(&[empty, untyped]), "# TYPE u untyped\nu NaN\n");
    }
}
