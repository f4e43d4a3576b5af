//! Families that come from outside the crate's own registries: the text of exposition-format
//! callbacks (parsed by [`crate::scrape::parse`]) and bridged `prometheus` collectors and registries.
//!
//! Before such a family reaches a page it is checked ([`check_family`]), given the labels its
//! bridge injects ([`inject`]), and checked against the names the page already uses
//! ([`TakenNames`]), so that whatever the outside code produces, the page stays valid.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use prometheus::core::Collector;
use prometheus::proto::{LabelPair, MetricFamily, MetricType};

use crate::names::{is_valid_label_name, is_valid_metric_name};

/// Where a bridged family comes from.
#[derive(Clone)]
pub(crate) enum Source {
    Collector(Arc<dyn Collector>),
    Registry(prometheus::Registry),
}

/// A bridged collector or registry, and the labels injected into its families.
#[derive(Clone)]
pub(crate) struct Bridge {
    pub(crate) source: Source,
    pub(crate) labels: Arc<[(String, String)]>,
}

impl fmt::Debug for Bridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Collector(_) => "collector",
            Source::Registry(_) => "registry",
        };
        f.debug_struct("Bridge")
            .field("source", &source)
            .field("labels", &self.labels)
            .finish()
    }
}

impl Bridge {
    /// The bridged families, with the labels injected. A family that fails its checks is left
    /// out and reported in `refused` (one message each, naming the family).
    pub(crate) fn gather(&self, refused: &mut Vec<String>) -> Vec<MetricFamily> {
        let families = match &self.source {
            Source::Collector(collector) => collector.collect(),
            Source::Registry(registry) => registry.gather(),
        };
        let mut out = Vec::with_capacity(families.len());
        for mut family in families {
            if family.get_metric().is_empty() {
                continue;
            }
            match inject(&mut family, &self.labels).and_then(|()| check_family(&family)) {
                Ok(()) => out.push(family),
                Err(message) => refused.push(message),
            }
        }
        out
    }
}

/// Adds `labels` to every series of `family`, keeping each series' labels sorted by name.
///
/// # Errors
/// When a series already has one of the labels (naming the family and the label).
pub(crate) fn inject(family: &mut MetricFamily, labels: &[(String, String)]) -> Result<(), String> {
    if labels.is_empty() {
        return Ok(());
    }
    let name = family.name().to_owned();
    for metric in family.mut_metric() {
        let mut pairs = metric.take_label();
        for (label, value) in labels {
            if pairs.iter().any(|p| p.name() == label) {
                return Err(format!(
                    "family `{name}` already has the label `{label}` that its bridge injects; \
                     remove it from the bridged metric or bridge it without injected labels"
                ));
            }
            let mut pair = LabelPair::default();
            pair.set_name(label.clone());
            pair.set_value(value.clone());
            pairs.push(pair);
        }
        pairs.sort_by(|a, b| a.name().cmp(b.name()));
        metric.set_label(pairs);
    }
    Ok(())
}

/// Checks what the text format cannot carry or Prometheus refuses: the family's name, its label
/// names (valid, not `__name__`, each once per series, no `le` on a histogram nor `quantile` on a
/// summary), and series given twice.
///
/// # Errors
/// What is wrong, naming the family (and the label).
pub(crate) fn check_family(family: &MetricFamily) -> Result<(), String> {
    let name = family.name();
    if !is_valid_metric_name(name) {
        return Err(format!(
            "family name {name:?} is not a valid metric name; use [a-zA-Z_:][a-zA-Z0-9_:]*"
        ));
    }
    let reserved = match family.get_field_type() {
        MetricType::HISTOGRAM => Some("le"),
        MetricType::SUMMARY => Some("quantile"),
        _ => None,
    };
    let mut series = HashSet::new();
    for metric in family.get_metric() {
        let labels = metric.get_label();
        for (i, pair) in labels.iter().enumerate() {
            let label = pair.name();
            if !is_valid_label_name(label) || label == "__name__" || Some(label) == reserved {
                return Err(format!(
                    "family `{name}` has the label name {label:?}, which the page cannot carry; rename it"
                ));
            }
            if labels[..i].iter().any(|p| p.name() == label) {
                return Err(format!(
                    "family `{name}` has a series with the label `{label}` twice; give each label once"
                ));
            }
        }
        let mut key: Vec<(&str, &str)> = labels.iter().map(|p| (p.name(), p.value())).collect();
        key.sort_unstable();
        if !series.insert(key) {
            return Err(format!(
                "family `{name}` has the same series twice; give each label set once"
            ));
        }
    }
    Ok(())
}

/// The names a page already uses: each family's name and the sample names it renders.
#[derive(Default)]
pub(crate) struct TakenNames(HashSet<String>);

impl TakenNames {
    pub(crate) fn from_families(families: &[MetricFamily]) -> Self {
        let mut taken = Self::default();
        for family in families {
            taken.insert(family);
        }
        taken
    }

    fn sample_names(family: &MetricFamily) -> impl Iterator<Item = String> + '_ {
        let suffixes: &[&str] = match family.get_field_type() {
            MetricType::HISTOGRAM => &["", "_bucket", "_sum", "_count"],
            MetricType::SUMMARY => &["", "_sum", "_count"],
            _ => &[""],
        };
        suffixes
            .iter()
            .map(move |suffix| format!("{}{suffix}", family.name()))
    }

    pub(crate) fn insert(&mut self, family: &MetricFamily) {
        self.0.extend(Self::sample_names(family));
    }

    pub(crate) fn insert_name(&mut self, name: &str) {
        self.0.insert(name.to_owned());
    }

    /// Checks that none of `families` uses a name taken so far, nor one another's names; when
    /// none does, takes their names.
    ///
    /// # Errors
    /// The first name already used, and by which family.
    pub(crate) fn accept(&mut self, families: &[MetricFamily]) -> Result<(), String> {
        let mut added = HashSet::new();
        for family in families {
            for name in Self::sample_names(family) {
                if self.0.contains(&name) || !added.insert(name.clone()) {
                    return Err(format!(
                        "`{name}` (of family `{}`) is already on the page; \
                         a bridged family must not repeat one the page has",
                        family.name()
                    ));
                }
            }
        }
        self.0.extend(added);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use prometheus::core::Collector;
    use prometheus::{Histogram, HistogramOpts, IntCounterVec, Opts};

    use super::*;
    use crate::scrape::parse::parse;

    #[test]
    fn taken_names_cover_a_histograms_samples() {
        let histogram = Histogram::with_opts(HistogramOpts::new("h", "H.")).expect("histogram");
        let mut taken = TakenNames::from_families(&histogram.collect());
        let parsed = |text: &str| {
            let parsed = parse(text);
            assert_eq!(parsed.problems, Vec::<String>::new(), "{text:?}");
            parsed.families
        };
        for text in ["h_count 1\n", "h 1\n", "h_bucket 1\n", "h_sum 1\n"] {
            let families = parsed(text);
            let error = taken.accept(&families).expect_err(text);
            assert!(error.contains("already on the page"), "{error}");
        }
        let fine = parsed("h_total 1\n");
        assert_eq!(taken.accept(&fine), Ok(()));
        assert!(taken.accept(&fine).is_err(), "taken once accepted");
        // Within one text: a histogram and a family named like one of its samples.
        let clash = parsed("# TYPE g summary\ng_sum 1\ng_count 1\n# TYPE g_sum gauge\n");
        assert_eq!(clash.len(), 1, "g_sum's samples belong to the summary g");
    }

    #[test]
    fn injection_refuses_a_label_the_series_has() {
        let counter = IntCounterVec::new(Opts::new("c_total", "C."), &["model"]).expect("vec");
        counter.with_label_values(&["m"]).inc();
        let mut family = counter.collect().remove(0);
        let error = inject(&mut family, &[("model".into(), "x".into())]).expect_err("clash");
        assert!(
            error.contains("`c_total`") && error.contains("`model`"),
            "{error}"
        );
        let mut family = counter.collect().remove(0);
        inject(
            &mut family,
            &[("worker_id".into(), "1f".into()), ("a".into(), "b".into())],
        )
        .expect("no clash");
        let names: Vec<_> = family.get_metric()[0]
            .get_label()
            .iter()
            .map(|p| p.name().to_owned())
            .collect();
        assert_eq!(names, ["a", "model", "worker_id"]);
    }

    #[test]
    fn checks_refuse_what_the_page_cannot_carry() {
        let counter = IntCounterVec::new(Opts::new("c_total", "C."), &["a"]).expect("vec");
        counter.with_label_values(&["1"]).inc();
        let base = counter.collect().remove(0);
        assert_eq!(check_family(&base), Ok(()));
        let with = |edit: &dyn Fn(&mut MetricFamily)| {
            let mut family = base.clone();
            edit(&mut family);
            check_family(&family).expect_err("refused")
        };
        assert!(with(&|f| f.set_name("9bad".into())).contains("not a valid metric name"));
        assert!(
            with(&|f| f.mut_metric()[0].mut_label()[0].set_name("__name__".into()))
                .contains("\"__name__\"")
        );
        assert!(
            with(&|f| {
                let again = f.get_metric()[0].clone();
                f.mut_metric().push(again);
            })
            .contains("same series twice")
        );
        assert!(
            with(&|f| {
                let pair = f.get_metric()[0].get_label()[0].clone();
                let mut pairs = f.get_metric()[0].get_label().to_vec();
                pairs.push(pair);
                f.mut_metric()[0].set_label(pairs);
            })
            .contains("label `a` twice")
        );
        assert!(
            with(&|f| {
                f.set_field_type(MetricType::HISTOGRAM);
                f.mut_metric()[0].mut_label()[0].set_name("le".into());
            })
            .contains("\"le\"")
        );
    }
}
