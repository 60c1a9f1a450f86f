//! The alert model: an alert rule with its promtool unit-test cases, a group of them
//! (one `rules/<name>.yml`), and the writer of a group's rule file and test file. The
//! groups themselves are rules/*.rs, one module per file.

use super::path;
use crate::bundle::{Ctx, File, Scope};
use crate::deploy::Host;
use crate::plan::Role;
use crate::syntax::template;
use crate::syntax::yaml::{Doc, Map, Seq};

/// Where Prometheus reads rule files (prometheus.yml's `rule_files`); each group's
/// `rules/<name>.yml` and `rules/tests/<name>.test.yml` are under it.
pub const RULES_DIR: &str = "/etc/prometheus/rules";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Warning,
}

impl Severity {
    pub fn key(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// One unit-test case of an alert: input series (`series`, `values` in promtool's
/// expanding notation), the evaluation time, and the label sets of the alerts that
/// must fire then (besides `alertname` and `severity`); empty = must stay silent.
#[derive(Clone, Debug)]
pub struct Case {
    pub series: Vec<(String, String)>,
    pub eval: &'static str,
    pub fires: Vec<Vec<(&'static str, String)>>,
}

#[derive(Clone, Debug)]
pub struct Alert {
    pub name: &'static str,
    pub expr: String,
    pub for_: &'static str,
    pub severity: Severity,
    /// Go templates that may use `{{ $labels.<name> }}` only, so the tests can render
    /// them ([`render`]); a plan or topology value in them is written with
    /// [`template::literal`].
    pub summary: String,
    pub description: String,
    pub cases: Vec<Case>,
    /// Where the expression's threshold comes from (a comment above the rule in its
    /// file): set on every rule whose threshold the report computes.
    pub threshold: Option<String>,
}

impl Alert {
    /// The comment saying where the threshold comes from.
    pub fn because(mut self, note: impl Into<String>) -> Alert {
        self.threshold = Some(note.into());
        self
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    /// The group's name in Prometheus, and its files' stem: `rules/<name>.yml` and
    /// `rules/tests/<name>.test.yml` under [`RULES_DIR`] (the setup script runs the
    /// tests by name).
    pub name: &'static str,
    /// The rule file's path on the host (a constant of the group's module).
    pub rules: &'static str,
    /// The unit tests' path on the host.
    pub tests: &'static str,
    pub about: &'static str,
    pub alerts: Vec<Alert>,
    /// promtool's evaluation_interval in the group's unit tests (a duration): 1m, or
    /// coarser where the cases span many hours.
    pub test_step: &'static str,
}

pub fn s(series: &str, values: &str) -> (String, String) {
    (series.to_string(), values.to_string())
}

pub fn l(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// A case where `bad` fires with `labels` and `good` stays silent.
pub fn fires_on(
    bad: (String, String),
    good: (String, String),
    eval: &'static str,
    labels: Vec<(&'static str, String)>,
) -> Case {
    Case {
        series: vec![bad, good],
        eval,
        fires: vec![labels],
    }
}

pub fn silent(series: Vec<(String, String)>, eval: &'static str) -> Case {
    Case {
        series,
        eval,
        fires: Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
pub fn alert(
    name: &'static str,
    expr: impl Into<String>,
    for_: &'static str,
    severity: Severity,
    summary: impl Into<String>,
    description: impl Into<String>,
    cases: Vec<Case>,
) -> Alert {
    Alert {
        name,
        expr: expr.into(),
        for_,
        severity,
        summary: summary.into(),
        description: description.into(),
        cases,
        threshold: None,
    }
}

/// Renders an annotation as Prometheus does, for the expected annotations of the unit
/// tests: the rules' only actions are `{{ $labels.x }}`, the label's value, and the
/// action [`template::literal`] writes for a `{{` in a value, which prints `{{`. One
/// pass: what a label's value holds is printed, not read as template.
pub fn render(text: &str, labels: &[(&'static str, String)]) -> String {
    let open = template::literal("{{");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'actions: while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix(open.as_str()) {
            out.push_str("{{");
            rest = after;
            continue;
        }
        for (k, v) in labels {
            if let Some(after) = rest.strip_prefix(&format!("{{{{ $labels.{k} }}}}")) {
                out.push_str(v);
                rest = after;
                continue 'actions;
            }
        }
        out.push_str("{{");
        rest = &rest[2..];
    }
    out.push_str(rest);
    out
}

/// `{{ $labels.<name> }}`.
pub fn lbl(name: &str) -> String {
    format!("{{{{ $labels.{name} }}}}")
}

/// A group's rule file and its unit tests. `#[track_caller]`: the bundle index names
/// the module of the group (`rules/<name>.rs`) as the files' source.
#[track_caller]
pub fn files(ctx: &Ctx, h: &Host, g: &Group) -> Vec<File> {
    vec![rule_file(ctx, h, g), rule_test_file(ctx, h, g)]
}

/// `rules/<name>.yml`: the group's rules, each threshold's origin in a comment above it.
#[track_caller]
pub fn rule_file(ctx: &Ctx, h: &Host, g: &Group) -> File {
    let mut rules = Seq::new();
    for a in &g.alerts {
        if let Some(t) = &a.threshold {
            rules.comment(t);
        }
        rules.push(
            Map::new()
                .with("alert", a.name)
                .with("expr", &a.expr)
                .with("for", a.for_)
                .with("labels", Map::new().with("severity", a.severity.key()))
                .with(
                    "annotations",
                    Map::new()
                        .with("summary", &a.summary)
                        .with("description", &a.description),
                ),
        );
    }
    let root = Map::new().with(
        "groups",
        Seq::new().with(Map::new().with("name", g.name).with("rules", rules)),
    );
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "{}\nUnit tests: {} (promtool test rules).",
            g.about, g.tests
        ))
        .start();
    File::new(
        path(h, g.rules),
        Scope::Role(Role::Monitoring),
        format!("Alert rules: {}", g.about),
        doc.render(),
    )
    .for_host(h)
}

/// `rules/tests/<name>.test.yml`: every case of every alert, for `promtool test rules`.
#[track_caller]
fn rule_test_file(ctx: &Ctx, h: &Host, g: &Group) -> File {
    let mut tests = Seq::new();
    for a in &g.alerts {
        for (i, c) in a.cases.iter().enumerate() {
            let input: Seq = c
                .series
                .iter()
                .map(|(series, values)| Map::new().with("series", series).with("values", values))
                .collect();
            let expected: Seq = c
                .fires
                .iter()
                .map(|labels| {
                    let mut exp_labels = Map::new().with("severity", a.severity.key());
                    for (k, v) in labels {
                        exp_labels.insert(*k, v);
                    }
                    Map::new().with("exp_labels", exp_labels).with(
                        "exp_annotations",
                        Map::new()
                            .with("summary", render(&a.summary, labels))
                            .with("description", render(&a.description, labels)),
                    )
                })
                .collect();
            tests.push(
                Map::new()
                    .with("name", format!("{} case {}", a.name, i + 1))
                    .with("interval", "1m")
                    .with("input_series", input)
                    .with(
                        "alert_rule_test",
                        Seq::new().with(
                            Map::new()
                                .with("eval_time", c.eval)
                                .with("alertname", a.name)
                                .with("exp_alerts", expected),
                        ),
                    ),
            );
        }
    }
    let root = Map::new()
        .with("rule_files", Seq::new().with(g.rules))
        .with("evaluation_interval", g.test_step)
        .with("tests", tests);
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "promtool test rules {}\n\
             Each alert fires on a series that should fire it and stays silent on one that should not.",
            g.tests
        ))
        .start();
    File::new(
        path(h, g.tests),
        Scope::Role(Role::Monitoring),
        format!(
            "Unit tests of the {} alert rules (promtool test rules).",
            g.name
        ),
        doc.render(),
    )
    .for_host(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_labels() {
        assert_eq!(
            render(
                "{{ $labels.instance }} / {{ $labels.job }}",
                &l(&[("instance", "a"), ("job", "b")])
            ),
            "a / b"
        );
        // A value written with template::literal prints as itself; a label's value is
        // not read as template.
        let text = format!(
            "on {} of {{{{ $labels.instance }}}}",
            template::literal("x{{ .Value }}")
        );
        assert_eq!(
            render(&text, &l(&[("instance", "{{ \"{{\" }}")])),
            "on x{{ .Value }} of {{ \"{{\" }}"
        );
    }
}
