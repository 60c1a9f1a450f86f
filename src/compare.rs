//! Two plans side by side: what differs in their inputs, budgets, connection chain,
//! PostgreSQL parameters, findings, capacity (storage, object storage, calls, losing a
//! node) and generated files.
//!
//! Every figure is read from the two reports' JSON by its report path, so a delta shows
//! exactly what each plan's page shows. The capacity sections are compared generically
//! (every changed leaf under them), so they follow those sections as they grow. Files
//! are compared on bundles generated with the same placeholder secrets, the same date
//! and the same plan name: what differs is what the plans make differ.

use crate::bundle::{self, Date, File, Secrets};
use crate::plan::{Plan, RawPlan, Role, presets};
use crate::report::{Report, lookup};
use serde_json::Value as J;

pub use crate::report::figures::Direction;

/// How B compares with A on one figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Same,
    Better,
    Worse,
    /// Changed, with no better or worse (a count, a size, a text).
    Changed,
}

impl Verdict {
    pub fn key(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::Changed => "changed",
        }
    }
}

/// One figure in both plans.
#[derive(Clone, Debug, PartialEq)]
pub struct Delta {
    /// A stable key for the figure: its report path (`hosts[0].ram-needed-gib`), or a
    /// path aligned by role for lists (`failures[patroni].survives`).
    pub key: String,
    /// What it is, for people.
    pub label: String,
    pub a: J,
    pub b: J,
    /// b − a when both are numbers (rounded to 0.01).
    pub diff: Option<J>,
    pub verdict: Verdict,
}

/// A finding, by its code and key paths.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct FindingKey {
    pub severity: crate::Severity,
    pub code: String,
    pub paths: Vec<String>,
    pub message: String,
}

/// A generated file whose content differs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FileDelta {
    pub path: String,
    /// Lines only in A's version and only in B's (as multisets of lines).
    pub lines_removed: usize,
    pub lines_added: usize,
}

/// How the two bundles differ.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct FilesDelta {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<FileDelta>,
    pub unchanged: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Input fields whose values differ: (key path, A's text, B's text).
    pub inputs: Vec<(&'static str, String, String)>,
    /// Findings counts.
    pub summary: Vec<Delta>,
    /// Per deployed host role: count, RAM, vCPUs, RAM needed, free and used.
    pub budgets: Vec<Delta>,
    pub connections: Vec<Delta>,
    /// PostgreSQL parameters whose values differ (text, as in postgresql.conf).
    pub postgres: Vec<Delta>,
    /// Findings B has and A has not, and the reverse.
    pub findings_added: Vec<FindingKey>,
    pub findings_removed: Vec<FindingKey>,
    /// Changed figures under storage, object-storage, calls and failures.
    pub capacity: Vec<Delta>,
    pub files: FilesDelta,
}

impl Delta {
    fn to_json(&self) -> J {
        serde_json::json!({
            "key": self.key,
            "label": self.label,
            "a": self.a,
            "b": self.b,
            "diff": self.diff,
            "verdict": self.verdict.key(),
        })
    }
}

impl Comparison {
    /// What `synapse-planner compare --format json` prints: the same sections as the
    /// page's compare view, kebab-case keys, deltas as {key, label, a, b, diff, verdict}.
    pub fn to_json_value(&self) -> J {
        let list = |d: &[Delta]| J::Array(d.iter().map(Delta::to_json).collect());
        serde_json::json!({
            "inputs": self.inputs.iter().map(|(path, a, b)| serde_json::json!({
                "path": path, "a": a, "b": b,
            })).collect::<Vec<_>>(),
            "summary": list(&self.summary),
            "budgets": list(&self.budgets),
            "connections": list(&self.connections),
            "postgres": list(&self.postgres),
            "findings-added": self.findings_added,
            "findings-removed": self.findings_removed,
            "capacity": list(&self.capacity),
            "files": self.files,
        })
    }

    /// A plain-text summary: only what differs, A → B.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let show = |v: &J| match v {
            J::String(s) => s.clone(),
            J::Null => "—".to_string(),
            other => other.to_string(),
        };
        let _ = writeln!(o, "INPUTS THAT DIFFER ({})", self.inputs.len());
        let one_line = |t: &str| t.trim_end().replace('\n', "; ");
        for (path, a, b) in &self.inputs {
            let (a, b) = (one_line(a), one_line(b));
            let _ = writeln!(o, "  {path:<44} {a} → {b}");
        }
        for (title, deltas) in [
            ("FINDINGS", &self.summary),
            ("RAM BUDGETS", &self.budgets),
            ("CONNECTION CHAIN", &self.connections),
            ("POSTGRESQL PARAMETERS", &self.postgres),
            (
                "CAPACITY (storage, object storage, calls, losing a node)",
                &self.capacity,
            ),
        ] {
            // The month-by-month series are the chart's; their end points are listed.
            let changed: Vec<&Delta> = deltas
                .iter()
                .filter(|d| d.verdict != Verdict::Same && !d.key.contains(".series-"))
                .collect();
            let _ = writeln!(o, "\n{title}: {} changed", changed.len());
            for d in changed {
                let diff = match d.diff.as_ref().and_then(J::as_f64) {
                    Some(x) => {
                        let sign = if x < 0.0 { "−" } else { "+" };
                        format!(" ({sign}{})", crate::format::two_decimals(x.abs()))
                    }
                    None => String::new(),
                };
                let _ = writeln!(
                    o,
                    "  {:<60} {} → {}{diff}  [{}]",
                    d.key,
                    show(&d.a),
                    show(&d.b),
                    d.verdict.key()
                );
            }
        }
        let _ = writeln!(o, "\nFINDINGS ONLY IN B: {}", self.findings_added.len());
        for f in &self.findings_added {
            let _ = writeln!(o, "  [{}] {} ({})", f.severity, f.message, f.code);
        }
        let _ = writeln!(o, "FINDINGS ONLY IN A: {}", self.findings_removed.len());
        for f in &self.findings_removed {
            let _ = writeln!(o, "  [{}] {} ({})", f.severity, f.message, f.code);
        }
        let f = &self.files;
        let _ = writeln!(
            o,
            "\nFILES: {} only in B, {} only in A, {} changed, {} the same",
            f.added.len(),
            f.removed.len(),
            f.changed.len(),
            f.unchanged
        );
        for p in &f.added {
            let _ = writeln!(o, "  + {p}");
        }
        for p in &f.removed {
            let _ = writeln!(o, "  - {p}");
        }
        for c in &f.changed {
            let _ = writeln!(
                o,
                "  ~ {} (−{} +{} lines)",
                c.path, c.lines_removed, c.lines_added
            );
        }
        o
    }
}

/// The date and secrets both bundles are generated with: only the plans differ.
const FIXED_DATE: &str = "2000-01-01";

/// The plan name both bundles are generated with: the name heads every file, and a
/// different name would mark every file as changed (the inputs list shows it).
const COMPARED_NAME: &str = "compared-plan";

/// A plan's bundle for comparison: placeholder secrets, a fixed date and a fixed name.
pub fn bundle_for_compare(plan: &Plan) -> Vec<File> {
    let mut p = plan.clone();
    p.name = COMPARED_NAME.to_string();
    let date = Date::parse(FIXED_DATE).expect("a valid literal date");
    bundle::files(&p, &date, &Secrets::placeholders())
}

/// Everything that differs between plan A and plan B.
pub fn compare(a: &Plan, b: &Plan) -> Comparison {
    let ja = Report::new(a).to_json_value();
    let jb = Report::new(b).to_json_value();
    let fa = bundle_for_compare(a);
    let fb = bundle_for_compare(b);
    compare_with(a, &ja, &fa, b, &jb, &fb)
}

/// [`compare`] from the reports' JSON and the bundles already made (the page keeps
/// both: A's report is on show, B's is computed once when B is chosen).
pub fn compare_with(a: &Plan, ja: &J, fa: &[File], b: &Plan, jb: &J, fb: &[File]) -> Comparison {
    let mut cmp = compare_reports(a, ja, b, jb);
    cmp.files = compare_files(fa, fb);
    cmp
}

/// Everything but the files, from the two reports' JSON.
pub fn compare_reports(a: &Plan, ja: &J, b: &Plan, jb: &J) -> Comparison {
    let inputs = presets::changes(&RawPlan::from_plan(a), &RawPlan::from_plan(b));
    let at = |key: &str, label: String| delta(key, label, ja, jb);

    let summary = [
        ("errors", "Errors"),
        ("warnings", "Warnings"),
        ("infos", "Notes"),
    ]
    .iter()
    .map(|(k, l)| at(&format!("summary.{k}"), l.to_string()))
    .collect();

    let mut budgets = Vec::new();
    for (i, role) in Role::ALL.iter().enumerate() {
        if a.host(*role).count == 0 && b.host(*role).count == 0 {
            continue;
        }
        for (k, l) in [
            ("count", "hosts"),
            ("ram-gib", "RAM per host"),
            ("vcpus", "vCPUs per host"),
            ("ram-needed-gib", "RAM needed"),
            ("ram-free-gib", "RAM free"),
            ("ram-used-percent", "RAM used"),
        ] {
            budgets.push(at(
                &format!("hosts[{i}].{k}"),
                format!("{}: {l}", role.label()),
            ));
        }
    }

    let connections = [
        ("synapse-processes", "Synapse processes"),
        ("synapse-pool-total", "Synapse pools (Σ cp_max)"),
        ("pgbouncer-max-client-conn", "PgBouncer max_client_conn"),
        (
            "pgbouncer-server-connections",
            "PgBouncer server connections",
        ),
        ("pgbouncer-file-descriptors", "PgBouncer file descriptors"),
        ("postgres-max-connections", "PostgreSQL max_connections"),
        ("postgres-reserved-total", "PostgreSQL reserved"),
        ("postgres-available", "PostgreSQL available"),
        ("haproxy-maxconn", "HAProxy maxconn"),
    ]
    .iter()
    .map(|(k, l)| at(&format!("connections.{k}"), l.to_string()))
    .collect();

    let mut names: Vec<String> = Vec::new();
    for j in [ja, jb] {
        if let Some(J::Object(m)) = lookup(j, "postgres.parameters") {
            for k in m.keys() {
                if !names.contains(k) {
                    names.push(k.clone());
                }
            }
        }
    }
    let postgres = names
        .iter()
        .map(|n| at(&format!("postgres.parameters.{n}"), n.clone()))
        .filter(|d| d.verdict != Verdict::Same)
        .collect();

    let (fa, fb) = (finding_keys(ja), finding_keys(jb));
    let findings_added = fb.iter().filter(|f| !has(&fa, f)).cloned().collect();
    let findings_removed = fa.iter().filter(|f| !has(&fb, f)).cloned().collect();

    let mut capacity = Vec::new();
    for section in ["storage", "object-storage", "calls", "failures"] {
        let mut la = Vec::new();
        let mut lb = Vec::new();
        if let Some(v) = ja.get(section) {
            leaves(v, section.to_string(), &mut la);
        }
        if let Some(v) = jb.get(section) {
            leaves(v, section.to_string(), &mut lb);
        }
        let mut keys: Vec<&String> = la.iter().map(|(k, _)| k).collect();
        for (k, _) in &lb {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        for k in keys {
            let va = la.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
            let vb = lb.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
            let one_sided = va.is_none() || vb.is_none();
            let mut d = delta_values(k, k.clone(), va.unwrap_or(J::Null), vb.unwrap_or(J::Null));
            // A figure one plan does not have (a role it does not deploy) is neither
            // better nor worse.
            if one_sided && d.verdict != Verdict::Same {
                d.verdict = Verdict::Changed;
            }
            if d.verdict != Verdict::Same {
                capacity.push(d);
            }
        }
    }

    Comparison {
        inputs,
        summary,
        budgets,
        connections,
        postgres,
        findings_added,
        findings_removed,
        capacity,
        files: FilesDelta::default(),
    }
}

fn has(list: &[FindingKey], f: &FindingKey) -> bool {
    list.iter()
        .any(|x| x.code == f.code && x.paths == f.paths && x.severity == f.severity)
}

fn finding_keys(j: &J) -> Vec<FindingKey> {
    let Some(J::Array(list)) = j.get("findings") else {
        return Vec::new();
    };
    list.iter()
        .map(|f| FindingKey {
            severity: match f.get("severity").and_then(J::as_str) {
                Some("error") => crate::Severity::Error,
                Some("warning") => crate::Severity::Warning,
                _ => crate::Severity::Info,
            },
            code: f
                .get("code")
                .and_then(J::as_str)
                .unwrap_or_default()
                .to_string(),
            paths: f
                .get("paths")
                .and_then(J::as_array)
                .map(|p| {
                    p.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default(),
            message: f
                .get("message")
                .and_then(J::as_str)
                .unwrap_or_default()
                .to_string(),
        })
        .collect()
}

/// Every leaf under `v` with its key, less the prose about figures (the figure table's
/// `prose`: a why, a formula; the figures themselves are compared). A list whose items the figure table names by a
/// field (`report::figures::LISTS`: failures by role, disks by id) is aligned by it when
/// every item has a distinct one, so a role both plans deploy is compared with itself
/// even when other roles come or go; other lists by position.
fn leaves(v: &J, key: String, out: &mut Vec<(String, J)>) {
    match v {
        J::Object(m) => {
            for (k, x) in m {
                let at = format!("{key}.{k}");
                if crate::report::figures::find(&at).is_some_and(|f| f.prose) {
                    continue;
                }
                leaves(x, at, out);
            }
        }
        J::Array(list) if !list.is_empty() => {
            let ids = crate::report::figures::list(&key)
                .flatten()
                .and_then(|field| {
                    let ids: Vec<&str> = list
                        .iter()
                        .filter_map(|x| x.get(field).and_then(J::as_str))
                        .collect();
                    let mut unique = ids.clone();
                    unique.sort_unstable();
                    unique.dedup();
                    (ids.len() == list.len() && unique.len() == ids.len()).then_some((field, ids))
                });
            for (i, x) in list.iter().enumerate() {
                match (&ids, x) {
                    (Some((field, ids)), J::Object(m)) => {
                        // The id is the key now, not a figure.
                        let mut rest = m.clone();
                        rest.remove(*field);
                        leaves(&J::Object(rest), format!("{key}[{}]", ids[i]), out);
                    }
                    _ => leaves(x, format!("{key}[{i}]"), out),
                }
            }
        }
        other => out.push((key, other.clone())),
    }
}

fn delta(key: &str, label: String, ja: &J, jb: &J) -> Delta {
    let va = lookup(ja, key).cloned().unwrap_or(J::Null);
    let vb = lookup(jb, key).cloned().unwrap_or(J::Null);
    delta_values(key, label, va, vb)
}

fn delta_values(key: &str, label: String, a: J, b: J) -> Delta {
    let diff = match (&a, &b) {
        (J::Number(x), J::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(J::from(y.saturating_sub(x))),
            _ => {
                let d = y.as_f64().unwrap_or(0.0) - x.as_f64().unwrap_or(0.0);
                serde_json::Number::from_f64((d * 100.0).round() / 100.0).map(J::Number)
            }
        },
        _ => None,
    };
    let verdict = verdict(direction(key), &a, &b);
    Delta {
        key: key.to_string(),
        label,
        a,
        b,
        diff,
        verdict,
    }
}

/// Which way is better for the figure at `key`, as the figure table declares it
/// (`report::figures`): headroom, capacity, tolerance and time left higher; use and
/// findings lower; the rest (sizes, counts, settings) neither.
pub fn direction(key: &str) -> Direction {
    crate::report::figures::direction(key)
}

/// A number, or for comparisons: true > false, and null (e.g. "never fills" for months
/// until full) above every number.
fn rank(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        J::Null => Some(f64::INFINITY),
        _ => None,
    }
}

fn verdict(dir: Direction, a: &J, b: &J) -> Verdict {
    if a == b {
        return Verdict::Same;
    }
    let (Some(x), Some(y)) = (rank(a), rank(b)) else {
        return Verdict::Changed;
    };
    match dir {
        Direction::HigherIsBetter if y > x => Verdict::Better,
        Direction::HigherIsBetter if y < x => Verdict::Worse,
        Direction::LowerIsBetter if y < x => Verdict::Better,
        Direction::LowerIsBetter if y > x => Verdict::Worse,
        _ => Verdict::Changed,
    }
}

/// Files by path: B's new ones, A's gone ones, and those whose text differs.
pub fn compare_files(fa: &[File], fb: &[File]) -> FilesDelta {
    let mut out = FilesDelta::default();
    for f in fa {
        match fb.iter().find(|g| g.path == f.path) {
            None => out.removed.push(f.path.clone()),
            Some(g) if g.contents == f.contents && g.mode == f.mode => out.unchanged += 1,
            Some(g) => {
                let (removed, added) = line_changes(&f.contents, &g.contents);
                out.changed.push(FileDelta {
                    path: f.path.clone(),
                    lines_removed: removed,
                    lines_added: added,
                });
            }
        }
    }
    for g in fb {
        if !fa.iter().any(|f| f.path == g.path) {
            out.added.push(g.path.clone());
        }
    }
    out
}

/// Lines only in `a` and only in `b`, counted as multisets (a moved line counts as
/// neither; the count stays linear in the file sizes).
fn line_changes(a: &str, b: &str) -> (usize, usize) {
    let mut count: std::collections::BTreeMap<&str, i64> = std::collections::BTreeMap::new();
    for l in a.lines() {
        *count.entry(l).or_default() += 1;
    }
    for l in b.lines() {
        *count.entry(l).or_default() -= 1;
    }
    count.values().fold((0, 0), |(r, ad), &n| {
        if n > 0 {
            (r + n as usize, ad)
        } else {
            (r, ad + n.unsigned_abs() as usize)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    fn find<'a>(list: &'a [Delta], key: &str) -> &'a Delta {
        list.iter().find(|d| d.key == key).unwrap_or_else(|| {
            panic!(
                "no {key} in {:?}",
                list.iter().map(|d| &d.key).collect::<Vec<_>>()
            )
        })
    }

    /// (key, a, b, diff, verdict) of one delta.
    fn check(d: &Delta, expect: (J, J, Option<J>, Verdict)) {
        assert_eq!(
            (d.a.clone(), d.b.clone(), d.diff.clone(), d.verdict),
            expect,
            "{}",
            d.key
        );
    }

    #[test]
    fn the_same_plan_has_no_differences() {
        let c = compare(&Plan::default(), &Plan::default());
        assert_eq!(c.inputs, vec![]);
        assert!(c.budgets.iter().all(|d| d.verdict == Verdict::Same));
        assert!(c.connections.iter().all(|d| d.verdict == Verdict::Same));
        assert_eq!(c.postgres, vec![]);
        assert_eq!((c.findings_added.len(), c.findings_removed.len()), (0, 0));
        assert_eq!(c.capacity, vec![]);
        assert_eq!(c.files.added, Vec::<String>::new());
        assert_eq!(c.files.removed, Vec::<String>::new());
        assert_eq!(c.files.changed, vec![]);
        assert!(c.files.unchanged > 30);
    }

    #[test]
    fn less_synapse_ram_is_worse_headroom() {
        let a = Plan::default();
        let b = plan(&[("hosts.synapse.ram-gib", "6")]);
        let c = compare(&a, &b);
        assert_eq!(
            c.inputs,
            vec![("hosts.synapse.ram-gib", "160".to_string(), "6".to_string())]
        );
        check(
            find(&c.budgets, "hosts[0].ram-free-gib"),
            (
                json!(145.73),
                json!(-3.27),
                Some(json!(-149.0)),
                Verdict::Worse,
            ),
        );
        check(
            find(&c.budgets, "hosts[0].ram-used-percent"),
            (json!(9), json!(155), Some(json!(146)), Verdict::Worse),
        );
        // A smaller host lowers the cache autotuning maximum (min(RAM / 8, 2 GiB) = 0.75
        // GiB), so the sync and room workers' caches shrink with it.
        check(
            find(&c.budgets, "hosts[0].ram-needed-gib"),
            (
                json!(14.27),
                json!(9.27),
                Some(json!(-5.0)),
                Verdict::Changed,
            ),
        );
        assert!(
            c.findings_added.iter().any(|f| f.code == "ram-over-budget"
                && f.paths.first().map(String::as_str) == Some("hosts.synapse.ram-gib")),
            "{:?}",
            c.findings_added
        );
        check(
            find(&c.summary, "summary.errors"),
            (json!(0), json!(1), Some(json!(1)), Verdict::Worse),
        );
        // The RAM of the Synapse host reaches no new file, only values (the cache
        // autotuning maximum) and sizing notes.
        assert_eq!(c.files.added, Vec::<String>::new());
    }

    #[test]
    fn more_patroni_nodes_add_files_and_change_parameters() {
        let a = Plan::default();
        let b = plan(&[
            ("hosts.patroni.count", "5"),
            ("hosts.patroni.ram-gib", "128"),
            ("postgres.max-connections", "800"),
        ]);
        let c = compare(&a, &b);
        assert!(
            c.files
                .added
                .iter()
                .any(|p| p.starts_with("hosts/patroni5/")),
            "{:?}",
            c.files.added
        );
        assert_eq!(c.files.removed, Vec::<String>::new());
        assert!(c.files.changed.iter().any(|f| f.path.contains("patroni1/")));
        check(
            find(&c.postgres, "postgres.parameters.shared_buffers"),
            (json!("16GB"), json!("32GB"), None, Verdict::Changed),
        );
        check(
            find(&c.connections, "connections.postgres-available"),
            (json!(485), json!(785), Some(json!(300)), Verdict::Better),
        );
        // Five members instead of three: the even-members warning does not appear.
        assert!(
            !c.findings_added
                .iter()
                .any(|f| f.code == "quorum-even-members")
        );
    }

    #[test]
    fn fewer_minio_nodes_removes_their_files() {
        let a = Plan::default();
        let b = plan(&[("hosts.minio.count", "2")]);
        let c = compare(&a, &b);
        assert!(
            c.files
                .removed
                .iter()
                .any(|p| p.starts_with("hosts/minio4/"))
        );
        assert!(
            !c.files
                .removed
                .iter()
                .any(|p| p.starts_with("hosts/minio2/"))
        );
        // Object storage changed: some capacity figure moved.
        assert!(
            c.capacity
                .iter()
                .any(|d| d.key.starts_with("object-storage.")),
            "{:?}",
            c.capacity
        );
        assert!(c.budgets.iter().any(|d| d.key == "hosts[2].count"));
    }

    #[test]
    fn a_different_name_does_not_mark_every_file() {
        let a = Plan::default();
        let b = plan(&[("name", "other-name")]);
        let c = compare(&a, &b);
        assert_eq!(
            c.inputs,
            vec![("name", "seed-cluster".to_string(), "other-name".to_string())]
        );
        assert_eq!(c.files.changed, vec![]);
    }

    #[test]
    fn directions_and_verdicts() {
        for (key, dir) in [
            ("hosts[0].ram-free-gib", Direction::HigherIsBetter),
            ("hosts[0].ram-used-percent", Direction::LowerIsBetter),
            ("hosts[0].ram-needed-gib", Direction::Neutral),
            ("object-storage.usable-tib", Direction::HigherIsBetter),
            (
                "object-storage.node-failures-tolerated",
                Direction::HigherIsBetter,
            ),
            ("object-storage.set-size", Direction::Neutral),
            (
                "storage.months-until-full.patroni",
                Direction::HigherIsBetter,
            ),
            ("failures[patroni].survives", Direction::HigherIsBetter),
            ("summary.errors", Direction::LowerIsBetter),
            ("postgres.parameters.work_mem", Direction::Neutral),
        ] {
            assert_eq!(direction(key), dir, "{key}");
        }
        let v = |d, a: J, b: J| verdict(d, &a, &b);
        use Direction::*;
        assert_eq!(v(HigherIsBetter, json!(true), json!(false)), Verdict::Worse);
        // Null months-until-full: never fills within the span, better than any month.
        assert_eq!(v(HigherIsBetter, json!(12), J::Null), Verdict::Better);
        assert_eq!(v(HigherIsBetter, J::Null, json!(30)), Verdict::Worse);
        assert_eq!(v(LowerIsBetter, json!(3), json!(1)), Verdict::Better);
        assert_eq!(v(Neutral, json!(3), json!(1)), Verdict::Changed);
        assert_eq!(v(Neutral, json!("a"), json!("a")), Verdict::Same);
        assert_eq!(v(HigherIsBetter, json!("a"), json!("b")), Verdict::Changed);
    }

    #[test]
    fn lists_align_by_role() {
        let a = json!({"failures": [{"role": "patroni", "survives": true}, {"role": "minio", "survives": true}]});
        let b = json!({"failures": [{"role": "minio", "survives": false}]});
        let mut la = Vec::new();
        leaves(&a["failures"], "failures".into(), &mut la);
        let mut lb = Vec::new();
        leaves(&b["failures"], "failures".into(), &mut lb);
        assert_eq!(
            la,
            vec![
                ("failures[patroni].survives".to_string(), json!(true)),
                ("failures[minio].survives".to_string(), json!(true)),
            ]
        );
        assert_eq!(
            lb,
            vec![("failures[minio].survives".to_string(), json!(false))]
        );
        let c = compare_reports(&Plan::default(), &a, &Plan::default(), &b);
        let keys: Vec<(&str, Verdict)> = c
            .capacity
            .iter()
            .map(|d| (d.key.as_str(), d.verdict))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("failures[patroni].survives", Verdict::Changed),
                ("failures[minio].survives", Verdict::Worse),
            ]
        );
    }

    #[test]
    fn line_changes_count_multisets() {
        assert_eq!(line_changes("a\nb\nc", "a\nb\nc"), (0, 0));
        assert_eq!(line_changes("a\nb\nc", "a\nx\nc\nd"), (1, 2));
        assert_eq!(line_changes("a\na", "a"), (1, 0));
        assert_eq!(line_changes("", "z"), (0, 1));
        assert!(Date::parse(FIXED_DATE).is_some());
    }

    #[test]
    fn extreme_plans_compare_without_panic() {
        let d = Plan::default();
        let big = plan(&[
            ("users.registered", "1000000"),
            ("users.peak-concurrent", "250000"),
            ("activity.daily-active-users", "500000"),
            ("hosts.minio.count", "64"),
        ]);
        let tiny = plan(&[
            ("users.peak-concurrent", "1"),
            ("activity.daily-active-users", "1"),
            ("users.registered", "1"),
            ("hosts.coturn.count", "0"),
            ("hosts.livekit.count", "0"),
        ]);
        for (a, b) in [(&d, &big), (&big, &tiny), (&tiny, &d)] {
            let c = compare(a, b);
            for dl in c.budgets.iter().chain(&c.capacity).chain(&c.connections) {
                if let Some(J::Number(n)) = &dl.diff {
                    assert!(n.as_f64().is_some_and(f64::is_finite), "{}", dl.key);
                }
            }
        }
        let c = compare(&d, &tiny);
        // Roles B drops still show, with A's figures against B's zero.
        check(
            find(&c.budgets, "hosts[4].count"),
            (json!(2), json!(0), Some(json!(-2)), Verdict::Changed),
        );
    }
}
