//! The naming rules of `engine-gauges-rules` against the real `promtool check metrics`.
//!
//! Each row of the tables below is a metric name (or a label name) with a type. The test renders
//! a minimal valid page for every row, lints all of them with one batched promtool run, attributes
//! promtool's findings (`<family> <message>`, one a line) to their families, and asserts that
//! promtool reports a problem for a row **iff** the rules crate refuses it, except for the rows
//! marked as stricter than promtool on purpose, where the rules refuse and promtool is silent.
//! Rows whose name promtool cannot even parse are run one page each: there, "reports a problem"
//! means the parse error.
//!
//! The tables also say which rule each refused row breaks: `the_table_says_which_rule_each_row_breaks`
//! checks that without promtool, and `unit_messages_name_the_base_unit` checks the messages of the
//! unit rules.
//!
//! Rows left out, commented in the tables: names with two different unit words, on which
//! promtool's unit lint is not deterministic (it walks a Go map and stops at the first
//! unit it meets, so `x_seconds_minutes` is linted on some runs and not on others).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::mem::discriminant;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

use MetricType::{Counter, Gauge, Histogram};
use engine_gauges_rules::{
    LabelProblem, MetricType, NameProblem, check_label_name, check_metric_name,
};
use engine_gauges_tests::{programs, promtool};

// ------------------------------------------------------------------------------- metric names

/// The rule of [`check_metric_name`] a row breaks, as the table expects it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Empty,
    Invalid,
    Colon,
    CamelCase,
    CounterWithoutTotal,
    ForeignSuffix,
    TypeInName,
    /// With the base unit promtool asks for, which the message must name.
    NonBaseUnit(&'static str),
    /// With the base unit(s) the message must name.
    AbbreviatedUnit(&'static [&'static str]),
}

impl Rule {
    /// Every rule, to check that the table covers each [`NameProblem`] variant.
    const ALL: &[Rule] = &[
        Rule::Empty,
        Rule::Invalid,
        Rule::Colon,
        Rule::CamelCase,
        Rule::CounterWithoutTotal,
        Rule::ForeignSuffix,
        Rule::TypeInName,
        Rule::NonBaseUnit(""),
        Rule::AbbreviatedUnit(&[]),
    ];

    /// Whether `problem` is this rule.
    fn is(self, problem: &NameProblem<'_>) -> bool {
        matches!(
            (self, problem),
            (Rule::Empty, NameProblem::Empty)
                | (Rule::Invalid, NameProblem::Invalid)
                | (Rule::Colon, NameProblem::Colon)
                | (Rule::CamelCase, NameProblem::CamelCase)
                | (Rule::CounterWithoutTotal, NameProblem::CounterWithoutTotal)
                | (Rule::ForeignSuffix, NameProblem::ForeignSuffix { .. })
                | (Rule::TypeInName, NameProblem::TypeInName { .. })
                | (Rule::NonBaseUnit(_), NameProblem::NonBaseUnit { .. })
                | (
                    Rule::AbbreviatedUnit(_),
                    NameProblem::AbbreviatedUnit { .. }
                )
        )
    }

    /// Whether promtool cannot parse a page with such a name at all.
    fn is_syntax(self) -> bool {
        matches!(self, Rule::Empty | Rule::Invalid)
    }

    /// The base units the message must name.
    fn bases(self) -> Vec<&'static str> {
        match self {
            Rule::NonBaseUnit(base) => vec![base],
            Rule::AbbreviatedUnit(bases) => bases.to_vec(),
            _ => Vec::new(),
        }
    }
}

/// What a row expects of promtool and the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Both accept it.
    Pass,
    /// promtool reports it and the rules refuse it, for breaking this rule.
    Lint(Rule),
    /// Stricter than promtool on purpose: the rules refuse it for breaking this rule, promtool
    /// is silent.
    Stricter(Rule),
}

impl Expect {
    fn rule(self) -> Option<Rule> {
        match self {
            Expect::Pass => None,
            Expect::Lint(rule) | Expect::Stricter(rule) => Some(rule),
        }
    }
}

#[derive(Clone, Debug)]
struct NameRow {
    name: String,
    ty: MetricType,
    expect: Expect,
}

const SECONDS: &[&str] = &["seconds"];
const BYTES: &[&str] = &["bytes"];

/// promtool's abbreviated units, with the base units the message must name.
const ABBREVIATIONS: &[(&str, &[&str])] = &[
    ("s", SECONDS),
    ("ms", SECONDS),
    ("us", SECONDS),
    ("ns", SECONDS),
    ("sec", SECONDS),
    ("b", BYTES),
    ("kb", BYTES),
    ("mb", BYTES),
    ("gb", BYTES),
    ("tb", BYTES),
    ("pb", BYTES),
    ("m", &["seconds", "meters"]),
    ("h", SECONDS),
    ("d", SECONDS),
];

/// promtool's unit prefixes (`mibi` is its spelling).
const UNIT_PREFIXES: &[&str] = &[
    "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
    "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
];

/// A row of the metric-name tables as written: the name, its type, what is expected.
type NameEntry = (&'static str, MetricType, Expect);

/// Names whose syntax or spelling breaks a rule: unparsable names, `:`, camelCase, counters
/// without `_total`, suffixes other types own, a type's name as a word.
fn spelling_names() -> &'static [NameEntry] {
    use Expect::{Lint, Pass, Stricter};
    use Rule::{CamelCase, Colon, CounterWithoutTotal, Empty, ForeignSuffix, Invalid, TypeInName};
    const NAMES: &[NameEntry] = &[
        // ---- Syntax: promtool cannot parse the page at all.
        ("", Gauge, Lint(Empty)),
        ("1x", Gauge, Lint(Invalid)),
        ("a-b", Gauge, Lint(Invalid)),
        ("a.b", Histogram, Lint(Invalid)),
        ("x y", Gauge, Lint(Invalid)),
        ("é", Gauge, Lint(Invalid)),
        ("9_total", Counter, Lint(Invalid)),
        // ---- `:`, kept for recording rules.
        ("job:rate", Gauge, Lint(Colon)),
        (":x", Gauge, Lint(Colon)),
        ("x:", Gauge, Lint(Colon)),
        ("job:requests:rate5m_total", Counter, Lint(Colon)),
        ("instance:latency_seconds", Histogram, Lint(Colon)),
        // ---- camelCase.
        ("queueDepth", Gauge, Lint(CamelCase)),
        ("httpRequests_total", Counter, Lint(CamelCase)),
        ("latencySeconds", Histogram, Lint(CamelCase)),
        ("dynamo_component_kvCache_bytes", Gauge, Lint(CamelCase)),
        ("x_aB", Gauge, Lint(CamelCase)),
        // ---- Counters end in `_total` (case-sensitive for both).
        ("requests", Counter, Lint(CounterWithoutTotal)),
        ("requests_count", Counter, Lint(CounterWithoutTotal)),
        ("requests_sum", Counter, Lint(CounterWithoutTotal)),
        ("requests_bucket", Counter, Lint(CounterWithoutTotal)),
        ("requests_TOTAL", Counter, Lint(CounterWithoutTotal)),
        ("requests_totals", Counter, Lint(CounterWithoutTotal)),
        ("total", Counter, Lint(CounterWithoutTotal)),
        // ---- Suffixes that other types own.
        ("errors_total", Gauge, Lint(ForeignSuffix)),
        ("queue_count", Gauge, Lint(ForeignSuffix)),
        ("queue_sum", Gauge, Lint(ForeignSuffix)),
        ("queue_bucket", Gauge, Lint(ForeignSuffix)),
        ("latency_seconds_total", Histogram, Lint(ForeignSuffix)),
        // Stricter than promtool on purpose: a histogram's own name may not end in `_count`,
        // `_sum` or `_bucket` (its series would read `x_count_count`); promtool allows it.
        ("wait_seconds_count", Histogram, Stricter(ForeignSuffix)),
        ("wait_seconds_sum", Histogram, Stricter(ForeignSuffix)),
        ("wait_seconds_bucket", Histogram, Stricter(ForeignSuffix)),
        // Suffixes are matched case-sensitively, as promtool does.
        ("wait_seconds_COUNT", Histogram, Pass),
        ("errors_TOTAL", Gauge, Pass),
        ("queue_COUNT", Gauge, Pass),
        ("queue_Sum", Gauge, Pass),
        ("latency_seconds_TOTAL", Histogram, Pass),
        // ---- A type's name as a word.
        ("requests_counter_total", Counter, Lint(TypeInName)),
        ("x_counter", Gauge, Lint(TypeInName)),
        ("queue_gauge", Gauge, Lint(TypeInName)),
        ("x_gauge_depth", Gauge, Lint(TypeInName)),
        ("x_Gauge", Gauge, Lint(TypeInName)),
        ("x_histogram_seconds", Histogram, Lint(TypeInName)),
        ("x_Histogram", Gauge, Lint(TypeInName)),
        ("x_summary", Gauge, Lint(TypeInName)),
        ("x_summary_seconds", Histogram, Lint(TypeInName)),
        ("x_gauge_histogram", Gauge, Lint(TypeInName)),
    ];
    NAMES
}

/// Names with units: units that are not base units, abbreviated units.
fn unit_names() -> &'static [NameEntry] {
    use Expect::{Lint, Pass};
    use Rule::{AbbreviatedUnit, NonBaseUnit};
    const NAMES: &[NameEntry] = &[
        // ---- Units that are not base units.
        ("uptime_minutes", Gauge, Lint(NonBaseUnit("seconds"))),
        ("uptime_hours", Gauge, Lint(NonBaseUnit("seconds"))),
        ("uptime_days", Gauge, Lint(NonBaseUnit("seconds"))),
        ("temp_fahrenheit", Gauge, Lint(NonBaseUnit("celsius"))),
        ("span_inches", Gauge, Lint(NonBaseUnit("meters"))),
        ("span_yards", Gauge, Lint(NonBaseUnit("meters"))),
        ("span_miles", Gauge, Lint(NonBaseUnit("meters"))),
        ("link_bits", Gauge, Lint(NonBaseUnit("bytes"))),
        ("energy_calories", Gauge, Lint(NonBaseUnit("joules"))),
        ("mass_pounds", Gauge, Lint(NonBaseUnit("grams"))),
        ("mass_ounces", Gauge, Lint(NonBaseUnit("grams"))),
        ("milliseconds", Gauge, Lint(NonBaseUnit("seconds"))),
        ("kilobytes_free", Gauge, Lint(NonBaseUnit("bytes"))),
        (
            "request_latency_milliseconds",
            Histogram,
            Lint(NonBaseUnit("seconds")),
        ),
        (
            "busy_microseconds_total",
            Counter,
            Lint(NonBaseUnit("seconds")),
        ),
        ("step_nanoseconds", Histogram, Lint(NonBaseUnit("seconds"))),
        ("span_millimetres", Gauge, Lint(NonBaseUnit("metres"))),
        ("span_kilometers", Gauge, Lint(NonBaseUnit("meters"))),
        ("mass_kilograms", Gauge, Lint(NonBaseUnit("grams"))),
        ("energy_kilojoules", Gauge, Lint(NonBaseUnit("joules"))),
        ("current_milliamperes", Gauge, Lint(NonBaseUnit("amperes"))),
        ("temp_kilokelvin", Gauge, Lint(NonBaseUnit("kelvin"))),
        ("temp_millicelsius", Gauge, Lint(NonBaseUnit("celsius"))),
        ("link_gigabits", Gauge, Lint(NonBaseUnit("bytes"))),
        ("uptime_kilominutes", Gauge, Lint(NonBaseUnit("seconds"))),
        // The same unit twice is deterministic for promtool: both words lead to `bytes`.
        ("cache_bytes_kilobytes", Gauge, Lint(NonBaseUnit("bytes"))),
        ("uptime_weeks", Gauge, Lint(NonBaseUnit("seconds"))),
        ("supply_millivolts", Gauge, Lint(NonBaseUnit("volts"))),
        ("supply_volts", Gauge, Pass),
        ("temp_kelvins", Gauge, Lint(NonBaseUnit("kelvin"))),
        ("temp_millikelvins", Gauge, Lint(NonBaseUnit("kelvin"))),
        ("temp_rankine", Gauge, Lint(NonBaseUnit("celsius"))),
        ("light_millicandela", Gauge, Pass),
        ("amount_kilomoles", Gauge, Pass),
        // Left out: two different unit words make promtool's unit lint nondeterministic (it
        // stops at whichever unit its map yields first); the rules always refuse it.
        // ("x_seconds_minutes", Gauge, Lint(NonBaseUnit("seconds"))),
        // ("x_minutes_seconds", Gauge, Lint(NonBaseUnit("seconds"))),
        // ---- Abbreviated units, beyond the generated rows below.
        ("latency_MS", Gauge, Lint(AbbreviatedUnit(SECONDS))),
        ("cache_Kb_free", Gauge, Lint(AbbreviatedUnit(BYTES))),
        ("cache_kb_", Gauge, Lint(AbbreviatedUnit(BYTES))),
    ];
    NAMES
}

/// Names that break no rule: the reference names, and names that only look like a unit, a
/// prefix or a rule's suffix.
fn passing_names() -> &'static [NameEntry] {
    use Expect::Pass;
    const NAMES: &[NameEntry] = &[
        // ---- Names that must pass: the reference names first.
        ("dynamo_component_total_blocks", Gauge, Pass),
        ("dynamo_component_gpu_cache_usage_percent", Gauge, Pass),
        ("dynamo_component_kv_cache_hit_rate", Gauge, Pass),
        ("dynamo_component_model_load_time_seconds", Gauge, Pass),
        ("dynamo_component_shutdown_stage_seconds", Gauge, Pass),
        ("dynamo_component_requests_total", Counter, Pass),
        (
            "dynamo_component_time_to_first_token_seconds",
            Histogram,
            Pass,
        ),
        ("engine_gauges_scrape_failures_total", Counter, Pass),
        ("x_seconds_total", Counter, Pass),
        ("kv_cache_bytes", Gauge, Pass),
        ("request_duration_seconds", Histogram, Pass),
        // Words that only look like units or abbreviations.
        ("thermometers", Gauge, Pass),
        ("room_thermometers", Gauge, Pass),
        ("ms", Gauge, Pass),
        ("ms_spent", Gauge, Pass),
        ("s", Gauge, Pass),
        ("m", Histogram, Pass),
        ("x_msec", Gauge, Pass),
        ("x_secs", Gauge, Pass),
        ("link_mbps", Gauge, Pass),
        ("clock_hz", Gauge, Pass),
        ("latency_Milliseconds", Gauge, Pass),
        // Prefixes promtool does not know (it spells `mebi` as `mibi`).
        ("cache_mebibytes", Gauge, Pass),
        ("disk_exabytes", Gauge, Pass),
        ("step_femtoseconds", Gauge, Pass),
        // Base units.
        ("x_bytes", Gauge, Pass),
        ("x_meters", Gauge, Pass),
        ("x_metres", Gauge, Pass),
        ("x_grams", Gauge, Pass),
        ("x_joules", Gauge, Pass),
        ("x_amperes", Gauge, Pass),
        ("x_celsius", Gauge, Pass),
        ("x_kelvin", Gauge, Pass),
        ("x_volts", Gauge, Pass),
        ("x_candela", Gauge, Pass),
        ("x_moles", Gauge, Pass),
        ("x_ratio", Gauge, Pass),
        // Spellings and suffixes that are close to a rule but do not break it.
        ("_x", Gauge, Pass),
        ("X_Y", Gauge, Pass),
        ("ABC", Gauge, Pass),
        ("HTTP_requests_total", Counter, Pass),
        ("x_totals", Gauge, Pass),
        ("count", Gauge, Pass),
        ("x_counts", Gauge, Pass),
        ("x_buckets", Histogram, Pass),
        ("x_summed", Gauge, Pass),
        ("x_total_bytes", Gauge, Pass),
        ("queue_count_total", Counter, Pass),
        ("queue_bucket_total", Counter, Pass),
        ("gauge_x", Gauge, Pass),
        ("x_gauges", Gauge, Pass),
        ("x_untyped", Gauge, Pass),
        ("x_countertop", Gauge, Pass),
    ];
    NAMES
}

/// Every metric-name row: the tables above, and rows made for each unit prefix and each
/// abbreviation promtool knows.
fn name_rows() -> Vec<NameRow> {
    use Expect::Lint;
    use Rule::{AbbreviatedUnit, NonBaseUnit};
    let mut rows: Vec<NameRow> = [spelling_names(), unit_names(), passing_names()]
        .concat()
        .into_iter()
        .map(|(name, ty, expect)| NameRow {
            name: name.to_owned(),
            ty,
            expect,
        })
        .collect();
    // Every prefix promtool knows, on `bytes`.
    for prefix in UNIT_PREFIXES {
        rows.push(NameRow {
            name: format!("disk_{prefix}bytes"),
            ty: Gauge,
            expect: Lint(NonBaseUnit("bytes")),
        });
    }
    // Every abbreviation promtool knows, as a middle word and as the last word.
    for &(abbreviation, bases) in ABBREVIATIONS {
        let expect = Lint(AbbreviatedUnit(bases));
        for (name, ty) in [
            (format!("lint_{abbreviation}_used"), Gauge),
            (format!("lint_{abbreviation}_total"), Counter),
            (format!("lint_{abbreviation}"), Histogram),
            (format!("lint_abbr_{abbreviation}"), Gauge),
        ] {
            rows.push(NameRow { name, ty, expect });
        }
    }
    rows
}

// -------------------------------------------------------------------------------- label names

/// What a label row expects of promtool and the rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LabelExpect {
    /// Both accept it.
    Pass,
    /// promtool reports it and the rules refuse it with this problem.
    Lint(LabelProblem),
    /// A rule of ours alone: the rules refuse it with this problem, promtool is silent.
    OursAlone(LabelProblem),
    /// The rules refuse it with this problem; no page can put it to promtool as a label of its
    /// own.
    Unrenderable(LabelProblem),
}

#[derive(Clone, Copy, Debug)]
struct LabelRow {
    label: &'static str,
    ty: MetricType,
    expect: LabelExpect,
}

fn label_rows() -> Vec<LabelRow> {
    use LabelExpect::{Lint, OursAlone, Pass, Unrenderable};
    use LabelProblem as P;
    let table: &[(&str, MetricType, LabelExpect)] = &[
        // ---- promtool reports them too.
        ("loraAdapter", Gauge, Lint(P::CamelCase)),
        ("loraAdapter", Counter, Lint(P::CamelCase)),
        ("loraAdapter", Histogram, Lint(P::CamelCase)),
        ("finishReason", Gauge, Lint(P::CamelCase)),
        ("aB", Counter, Lint(P::CamelCase)),
        ("le", Gauge, Lint(P::Le)),
        ("le", Counter, Lint(P::Le)),
        ("quantile", Gauge, Lint(P::Quantile)),
        ("quantile", Counter, Lint(P::Quantile)),
        ("quantile", Histogram, Lint(P::Quantile)),
        // ---- Syntax: promtool cannot parse the page at all.
        ("", Gauge, Lint(P::Empty)),
        ("1a", Gauge, Lint(P::Invalid)),
        ("a-b", Counter, Lint(P::Invalid)),
        ("a:b", Gauge, Lint(P::Invalid)),
        ("é", Histogram, Lint(P::Invalid)),
        // ---- Ours alone: promtool has no such lint.
        // Prometheus's data model reserves `__` for its own labels; promtool does not lint it.
        ("__x", Gauge, OursAlone(P::DoubleUnderscore)),
        ("dynamo_namespace", Gauge, OursAlone(P::HierarchyInjected)),
        ("dynamo_component", Counter, OursAlone(P::HierarchyInjected)),
        (
            "dynamo_endpoint",
            Histogram,
            OursAlone(P::HierarchyInjected),
        ),
        ("worker_id", Gauge, OursAlone(P::HierarchyInjected)),
        ("model", Gauge, OursAlone(P::EngineAuto)),
        ("model_name", Histogram, OursAlone(P::EngineAuto)),
        // On a histogram `le` is the bucket label itself: a page cannot carry a second one.
        ("le", Histogram, Unrenderable(P::Le)),
        // ---- Names that must pass.
        ("dp_rank", Gauge, Pass),
        ("dp_rank", Counter, Pass),
        ("dp_rank", Histogram, Pass),
        ("finish_reason", Counter, Pass),
        ("lora_adapter", Histogram, Pass),
        ("_x", Gauge, Pass),
        ("Stage", Gauge, Pass),
        ("a1", Gauge, Pass),
        ("HTTP", Gauge, Pass),
        ("LE", Gauge, Pass),
        ("Quantile", Counter, Pass),
        ("le_bound", Gauge, Pass),
        ("quantiles", Histogram, Pass),
        ("model_id", Gauge, Pass),
        ("namespace", Gauge, Pass),
        ("component", Gauge, Pass),
        ("worker", Gauge, Pass),
    ];
    table
        .iter()
        .map(|&(label, ty, expect)| LabelRow { label, ty, expect })
        .collect()
}

/// The family a label row is put on: a name that breaks no rule, unique to the row.
fn label_family_name(index: usize, ty: MetricType) -> String {
    match ty {
        Counter => format!("lint_label_{index}_total"),
        Gauge | Histogram => format!("lint_label_{index}"),
    }
}

// ------------------------------------------------------------------------------------- pages

/// One metric family of a page.
#[derive(Clone, Debug)]
struct Family {
    name: String,
    ty: MetricType,
    label: Option<&'static str>,
}

impl Family {
    /// A minimal valid exposition of the family, HELP line included.
    fn render(&self) -> String {
        let Family { name, ty, label } = self;
        let mut page = format!("# HELP {name} Help for {name}.\n# TYPE {name} {ty}\n");
        let label = label.map(|label| format!("{label}=\"v\""));
        let braces = |extra: Option<&str>| {
            let parts: Vec<&str> = label.as_deref().into_iter().chain(extra).collect();
            if parts.is_empty() {
                String::new()
            } else {
                format!("{{{}}}", parts.join(","))
            }
        };
        match ty {
            Counter | Gauge => page.push_str(&format!("{name}{} 1\n", braces(None))),
            Histogram => {
                let _ = writeln!(page, "{name}_bucket{} 1", braces(Some("le=\"+Inf\"")));
                let _ = writeln!(page, "{name}_sum{} 1", braces(None));
                let _ = writeln!(page, "{name}_count{} 1", braces(None));
            }
        }
        page
    }

    /// Whether the two cannot share a page: same name, or one's series could be read as the
    /// other's (a histogram `x` and a family `x_count`).
    fn clashes_with(&self, other: &Family) -> bool {
        let series_of = |histogram: &Family, family: &Family| {
            histogram.ty == Histogram
                && ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|suffix| family.name == format!("{}{suffix}", histogram.name))
        };
        self.name == other.name || series_of(self, other) || series_of(other, self)
    }
}

/// What `promtool check metrics` printed, on both streams.
struct Run {
    status: Option<i32>,
    output: String,
}

fn run_promtool(promtool: &Path, page: &str) -> Run {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("could not run {}: {error}", promtool.display()));
    let mut stdin = child
        .stdin
        .take()
        .expect("promtool's standard input is piped");
    let input = page.to_owned();
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child.wait_with_output().expect("waiting for promtool");
    writer
        .join()
        .expect("the thread writing to promtool")
        .expect("writing the page to promtool");
    Run {
        status: output.status.code(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Lints `families` with as few promtool runs as their names allow (one, unless two of them
/// clash) and returns each family's findings, in order.
///
/// # Panics
/// When promtool cannot parse a page, or prints a line it does not attribute to a family.
fn lint_batched(promtool: &Path, families: &[Family]) -> Vec<Vec<String>> {
    let mut pages: Vec<Vec<usize>> = Vec::new();
    for (index, family) in families.iter().enumerate() {
        let page = pages
            .iter_mut()
            .find(|page| page.iter().all(|&i| !families[i].clashes_with(family)));
        match page {
            Some(page) => page.push(index),
            None => pages.push(vec![index]),
        }
    }
    let mut findings = vec![Vec::new(); families.len()];
    for page in pages {
        let text: String = page.iter().map(|&i| families[i].render()).collect();
        let by_name: BTreeMap<&str, usize> = page
            .iter()
            .map(|&i| (families[i].name.as_str(), i))
            .collect();
        let run = run_promtool(promtool, &text);
        let mut any = false;
        for line in run.output.lines().filter(|line| !line.trim().is_empty()) {
            let attributed = line
                .split_once(' ')
                .and_then(|(name, message)| Some((*by_name.get(name)?, message)));
            let Some((index, message)) = attributed else {
                panic!(
                    "promtool printed a line that names no family of the page: {line:?}\n\
                     --- promtool's output ({:?})\n{}\n--- page\n{text}",
                    run.status, run.output
                );
            };
            findings[index].push(message.to_owned());
            any = true;
        }
        // 0: nothing found; 3: lint findings. Anything else (1: the page did not parse) means
        // the page is broken, not the names.
        let expected_status = if any { 3 } else { 0 };
        assert_eq!(
            run.status,
            Some(expected_status),
            "unexpected promtool exit status\n--- promtool's output\n{}\n--- page\n{text}",
            run.output
        );
    }
    findings
}

/// Whether `message` names the unit `_{base}` as a whole word (so `_kelvins` does not count as
/// naming `_kelvin`).
fn names_base_unit(message: &str, base: &str) -> bool {
    let needle = format!("_{base}");
    message.match_indices(&needle).any(|(at, _)| {
        !message[at + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// promtool's output for one row, for a failure message.
fn describe(findings: &[String]) -> String {
    if findings.is_empty() {
        "(nothing)".to_owned()
    } else {
        findings.join(" | ")
    }
}

// -------------------------------------------------------------------------------------- tests

#[test]
fn promtool_and_the_rules_agree_on_metric_names() {
    let Some(promtool) = programs::promtool() else {
        return;
    };
    let rows = name_rows();
    let (syntax, parsed): (Vec<&NameRow>, Vec<&NameRow>) = rows
        .iter()
        .partition(|row| row.expect.rule().is_some_and(Rule::is_syntax));
    let families: Vec<Family> = parsed
        .iter()
        .map(|row| Family {
            name: row.name.clone(),
            ty: row.ty,
            label: None,
        })
        .collect();
    let findings = lint_batched(&promtool, &families);

    let mut outcomes: Vec<(&NameRow, bool, String)> = parsed
        .iter()
        .zip(&findings)
        .map(|(&row, found)| (row, !found.is_empty(), describe(found)))
        .collect();
    for &row in &syntax {
        let family = Family {
            name: row.name.clone(),
            ty: row.ty,
            label: None,
        };
        let result = promtool::check_metrics(&promtool, &family.render());
        outcomes.push((row, result.is_err(), result.err().unwrap_or_default()));
    }

    let mut failures = Vec::new();
    for (row, reported, output) in &outcomes {
        let NameRow { name, ty, expect } = row;
        let verdict = check_metric_name(name, *ty);
        let rules = match &verdict {
            Ok(()) => "accept it".to_owned(),
            Err(problem) => format!("refuse it ({problem:?}: {problem})"),
        };
        let promtool_says = if *reported { "reports it" } else { "is silent" };
        let wrong = match expect {
            Expect::Pass | Expect::Lint(_) => {
                verdict.is_err() != *reported || *reported != matches!(expect, Expect::Lint(_))
            }
            Expect::Stricter(_) => verdict.is_ok() || *reported,
        };
        if wrong {
            let marker = if matches!(expect, Expect::Stricter(_)) {
                " [stricter than promtool on purpose: the rules must refuse it, promtool must be \
                 silent]"
            } else {
                ""
            };
            failures.push(format!(
                "{name:?} as a {ty}: promtool {promtool_says}, the rules {rules}; the table \
                 expects {expect:?}{marker}\n  promtool: {output}"
            ));
        }
    }
    // Where promtool names the base unit to use, the rules' message names the same one.
    for (row, found) in parsed.iter().zip(&findings) {
        for message in found {
            let Some(rest) = message.strip_prefix("use base unit \"") else {
                continue;
            };
            let promtool_base = rest.split('"').next().unwrap_or_default();
            let message_of_rules = check_metric_name(&row.name, row.ty)
                .err()
                .map(|problem| problem.to_string())
                .unwrap_or_default();
            let table_base = match row.expect {
                Expect::Lint(Rule::NonBaseUnit(base)) => Some(base),
                _ => None,
            };
            if table_base != Some(promtool_base)
                || !names_base_unit(&message_of_rules, promtool_base)
            {
                failures.push(format!(
                    "{:?} as a {}: promtool asks for base unit `{promtool_base}`; the table \
                     expects {:?} and the rules say {message_of_rules:?}\n  promtool: {}",
                    row.name,
                    row.ty,
                    row.expect,
                    describe(found)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} metric-name rows: promtool and the rules disagree, or the table is wrong:\n\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n\n")
    );
}

#[test]
fn promtool_and_the_rules_agree_on_label_names() {
    let Some(promtool) = programs::promtool() else {
        return;
    };
    let rows = label_rows();
    let family_of = |(index, row): (usize, &LabelRow)| Family {
        name: label_family_name(index, row.ty),
        ty: row.ty,
        label: Some(row.label),
    };
    let is_syntax = |row: &LabelRow| {
        matches!(
            row.expect,
            LabelExpect::Lint(LabelProblem::Empty | LabelProblem::Invalid)
        )
    };
    let renderable: Vec<(usize, &LabelRow)> = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| !is_syntax(row) && !matches!(row.expect, LabelExpect::Unrenderable(_)))
        .collect();
    let families: Vec<Family> = renderable.iter().copied().map(family_of).collect();
    let findings = lint_batched(&promtool, &families);

    let mut outcomes: Vec<(&LabelRow, bool, String)> = renderable
        .iter()
        .zip(&findings)
        .map(|(&(_, row), found)| (row, !found.is_empty(), describe(found)))
        .collect();
    for (index, row) in rows.iter().enumerate().filter(|(_, row)| is_syntax(row)) {
        let result = promtool::check_metrics(&promtool, &family_of((index, row)).render());
        outcomes.push((row, result.is_err(), result.err().unwrap_or_default()));
    }

    let mut failures = Vec::new();
    for (row, reported, output) in &outcomes {
        let LabelRow { label, ty, expect } = row;
        let verdict = check_label_name(label);
        let rules = match verdict {
            Ok(()) => "accept it".to_owned(),
            Err(problem) => format!("refuse it ({problem:?}: {problem})"),
        };
        let promtool_says = if *reported { "reports it" } else { "is silent" };
        let wrong = match expect {
            LabelExpect::Pass | LabelExpect::Lint(_) => {
                verdict.is_err() != *reported || *reported != matches!(expect, LabelExpect::Lint(_))
            }
            LabelExpect::OursAlone(_) => verdict.is_ok() || *reported,
            LabelExpect::Unrenderable(_) => unreachable!("not run through promtool"),
        };
        if wrong {
            failures.push(format!(
                "label {label:?} on a {ty}: promtool {promtool_says}, the rules {rules}; the \
                 table expects {expect:?}\n  promtool: {output}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} label rows: promtool and the rules disagree, or the table is wrong:\n\n{}",
        failures.len(),
        outcomes.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_table_says_which_rule_each_row_breaks() {
    let rows = name_rows();
    let mut failures = Vec::new();
    for NameRow { name, ty, expect } in &rows {
        let verdict = check_metric_name(name, *ty);
        let ok = match (expect.rule(), &verdict) {
            (None, Ok(())) => true,
            (Some(rule), Err(problem)) => rule.is(problem),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{name:?} as a {ty}: the table expects {expect:?}, the rules say {verdict:?}"
            ));
        }
    }
    for rule in Rule::ALL {
        let covered = rows.iter().any(|row| {
            row.expect
                .rule()
                .is_some_and(|r| discriminant(&r) == discriminant(rule))
        });
        if !covered {
            failures.push(format!("no metric-name row breaks {rule:?}"));
        }
    }
    let mut names = BTreeMap::new();
    for row in &rows {
        if let Some(first) = names.insert((row.name.as_str(), row.ty.as_str()), row.expect) {
            failures.push(format!(
                "{:?} as a {} is in the table twice ({first:?} and {:?})",
                row.name, row.ty, row.expect
            ));
        }
    }

    let labels = label_rows();
    for LabelRow { label, ty, expect } in &labels {
        let verdict = check_label_name(label);
        let expected = match expect {
            LabelExpect::Pass => Ok(()),
            LabelExpect::Lint(problem)
            | LabelExpect::OursAlone(problem)
            | LabelExpect::Unrenderable(problem) => Err(*problem),
        };
        if verdict != expected {
            failures.push(format!(
                "label {label:?} on a {ty}: the table expects {expect:?}, the rules say \
                 {verdict:?}"
            ));
        }
    }
    for problem in [
        LabelProblem::Empty,
        LabelProblem::Invalid,
        LabelProblem::DoubleUnderscore,
        LabelProblem::HierarchyInjected,
        LabelProblem::EngineAuto,
        LabelProblem::Le,
        LabelProblem::Quantile,
        LabelProblem::CamelCase,
    ] {
        if !labels.iter().any(|row| {
            matches!(
                row.expect,
                LabelExpect::Lint(p) | LabelExpect::OursAlone(p) | LabelExpect::Unrenderable(p)
                    if p == problem
            )
        }) {
            failures.push(format!("no label row breaks {problem:?}"));
        }
    }
    // Every family a label row is put on passes the metric-name rules, so that whatever promtool
    // reports about it is about the label.
    for (index, row) in labels.iter().enumerate() {
        let name = label_family_name(index, row.ty);
        if let Err(problem) = check_metric_name(&name, row.ty) {
            failures.push(format!(
                "label row family {name:?} as a {}: {problem}",
                row.ty
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems in the tables:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn unit_messages_name_the_base_unit() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for NameRow { name, ty, expect } in name_rows() {
        let Some(rule @ (Rule::NonBaseUnit(_) | Rule::AbbreviatedUnit(_))) = expect.rule() else {
            continue;
        };
        let message = match check_metric_name(&name, ty) {
            Ok(()) => {
                failures.push(format!("{name:?} as a {ty}: the rules accept it"));
                continue;
            }
            Err(problem) => problem.to_string(),
        };
        let word = match check_metric_name(&name, ty) {
            Err(NameProblem::NonBaseUnit { unit, .. }) => unit,
            Err(NameProblem::AbbreviatedUnit { abbreviation, .. }) => abbreviation,
            other => {
                failures.push(format!(
                    "{name:?} as a {ty}: expected {rule:?}, the rules say {other:?}"
                ));
                continue;
            }
        };
        for base in rule.bases() {
            if !names_base_unit(&message, base) {
                failures.push(format!(
                    "{name:?} as a {ty}: the message does not name the base unit `_{base}`: \
                     {message:?}"
                ));
            }
        }
        if !message.contains(&format!("`{word}`")) {
            failures.push(format!(
                "{name:?} as a {ty}: the message does not name the offending word `{word}`: \
                 {message:?}"
            ));
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "{} unit messages are wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 60, "only {checked} unit rows were checked");
}
