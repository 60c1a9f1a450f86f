//! The figure table (`report::figures`) against the reports of the named plans, the
//! page's figure paths, the comparison and the explanations: every path any of them
//! uses is declared, and every declared path is in a report.

#[path = "support/bundles.rs"]
mod bundles;

use serde_json::Value as J;
use synapse_planner::compare;
use synapse_planner::explain;
use synapse_planner::plan::Plan;
use synapse_planner::report::{Report, Unit, figures, lookup};

/// Every leaf of a JSON tree with its path; every list with its path.
fn walk(v: &J, path: String, leaves: &mut Vec<String>, lists: &mut Vec<String>) {
    match v {
        J::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(x, p, leaves, lists);
            }
        }
        J::Array(a) => {
            lists.push(path.clone());
            for (i, x) in a.iter().enumerate() {
                walk(x, format!("{path}[{i}]"), leaves, lists);
            }
        }
        _ => leaves.push(path),
    }
}

fn plans() -> Vec<(&'static str, Plan)> {
    bundles::named_plans()
}

#[test]
fn every_figure_of_the_named_plans_is_declared_and_every_declared_one_is_there() {
    let mut seen = std::collections::BTreeSet::new();
    for (name, plan) in plans() {
        let json = Report::new(&plan).to_json_value();
        let (mut leaves, mut lists) = (Vec::new(), Vec::new());
        walk(&json, String::new(), &mut leaves, &mut lists);
        for path in leaves {
            let f = figures::find(&path)
                .unwrap_or_else(|| panic!("{name}: {path} is not in report::figures"));
            seen.insert(f.path);
            // A declared unit fits the value: texts and flags are plain, numbers are not
            // (a `*` row covers values of every kind).
            let value = lookup(&json, &path).unwrap_or(&J::Null);
            if !f.path.ends_with('*') {
                match value {
                    J::String(_) | J::Bool(_) => {
                        assert_eq!(f.unit, Unit::Plain, "{name}: {path} = {value}")
                    }
                    J::Number(_) => assert_ne!(f.unit, Unit::Plain, "{name}: {path} = {value}"),
                    _ => {}
                }
            }
        }
        for path in lists {
            assert!(
                figures::list(&path).is_some(),
                "{name}: the list {path} is not in report::figures::LISTS"
            );
        }
    }
    for f in figures::FIGURES {
        assert!(
            seen.contains(f.path),
            "{} is declared but in no named plan's report",
            f.path
        );
    }
}

/// What `compare` keys its deltas by (lists aligned by their items' names) is declared.
#[test]
fn every_compared_path_is_declared() {
    let d = Plan::default();
    for (name, plan) in plans() {
        for (a, b) in [(&d, &plan), (&plan, &d)] {
            let c = compare::compare_reports(
                a,
                &Report::new(a).to_json_value(),
                b,
                &Report::new(b).to_json_value(),
            );
            for delta in c
                .summary
                .iter()
                .chain(&c.budgets)
                .chain(&c.connections)
                .chain(&c.postgres)
                .chain(&c.capacity)
            {
                assert!(
                    figures::find(&delta.key).is_some(),
                    "{name}: compare's {} is not declared",
                    delta.key
                );
            }
        }
    }
}

/// Every path the explanations answer for is a declared figure of the report.
#[test]
fn every_explained_path_is_declared() {
    for (name, plan) in plans() {
        let report = Report::new(&plan);
        let json = report.to_json_value();
        let (mut leaves, mut lists) = (Vec::new(), Vec::new());
        walk(&json, String::new(), &mut leaves, &mut lists);
        for path in leaves {
            if explain::explain(&plan, &report, &path).is_some() {
                assert!(figures::find(&path).is_some(), "{name}: {path}");
            }
        }
    }
}

/// A figure path the page writes, as the source has it: a literal (`"calls.turn.nodes"`),
/// a `format!` template (`"hosts[{i}].{k}"`), or a field a path closure completes
/// (`q("usable-tib")`).
fn ui_paths() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("src/ui")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        for call in [
            "metric(c, ",
            "metric_bare(c, ",
            "metric_number(&c.0, ",
            "metric_number(c, ",
            "q(",
            "p(",
            "m(",
            "kpi(c, ",
        ] {
            for (i, _) in text.match_indices(call) {
                // Not the end of a longer name (`loss_metric(`, `kpi(` inside `xkpi(`).
                let before = text[..i].chars().next_back().unwrap_or(' ');
                if before.is_ascii_alphanumeric() || before == '_' {
                    continue;
                }
                let mut rest = &text[i + call.len()..];
                if call == "kpi(c, " {
                    // kpi(c, "label", "path", …): the second literal.
                    let Some(end) = rest.strip_prefix('"').and_then(|r| r.find('"')) else {
                        continue;
                    };
                    rest = rest[end + 2..].trim_start_matches([',', ' ']);
                }
                let rest = rest
                    .strip_prefix("format!(")
                    .or_else(|| rest.strip_prefix("&format!("))
                    .unwrap_or(rest);
                let Some(lit) = rest.strip_prefix('"') else {
                    continue;
                };
                let Some(end) = lit.find('"') else { continue };
                let lit = &lit[..end];
                if !lit.is_empty()
                    && lit
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.[]{}".contains(c))
                {
                    out.push((name.clone(), lit.to_string()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `hosts[{i}].{k}` → `hosts[0].*`: a template's holes as a position, or as any key.
fn as_path(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str(if out.ends_with('[') { "0" } else { "*" });
        rest = &rest[close.min(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// The sections a page path starts with; anything else is a field a closure completes.
const SECTIONS: &[&str] = &[
    "schema",
    "plan.",
    "synapse.",
    "hosts[",
    "connections.",
    "postgres.",
    "storage.",
    "object-storage.",
    "calls.",
    "failures[",
    "findings[",
    "summary.",
    "assumptions",
];

#[test]
fn every_page_path_is_declared() {
    let paths = ui_paths();
    assert!(
        paths.len() > 100,
        "only {} paths found in src/ui",
        paths.len()
    );
    for (file, template) in &paths {
        let path = as_path(template);
        if SECTIONS.iter().any(|s| path.starts_with(s)) {
            let ok = if let Some(prefix) = path.strip_suffix(".*") {
                figures::FIGURES
                    .iter()
                    .any(|f| f.path.starts_with(&format!("{}.", figures::shape(prefix))))
            } else {
                figures::find(&path).is_some()
            };
            assert!(ok, "src/ui/{file}: {template} is not in report::figures");
        } else {
            let field = figures::shape(&path);
            let declared = |f: &figures::Figure| match field.strip_suffix(".*") {
                Some(list) => f.path.contains(&format!(".{list}.")),
                None => {
                    f.path.ends_with(&format!(".{field}"))
                        || f.path.ends_with(&format!("].{field}"))
                }
            };
            assert!(
                figures::FIGURES.iter().any(declared),
                "src/ui/{file}: the field {template} is in no figure of report::figures"
            );
        }
    }
}

/// The page's figure paths as they were when the table was made: the browser tests
/// compare every `data-metric` figure with the CLI by these strings, so a change here
/// is a change of the page's contract (update the list with the browser tests).
#[test]
fn the_page_paths_are_unchanged() {
    let want = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/page-figure-paths.txt"),
    )
    .expect("tests/data/page-figure-paths.txt");
    let got: String = ui_paths()
        .iter()
        .map(|(file, p)| format!("{file} {p}\n"))
        .collect();
    if std::env::var_os("UPDATE_PAGE_PATHS").is_some() {
        let _ = std::fs::write(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data/page-figure-paths.txt"),
            &got,
        );
        return;
    }
    assert_eq!(
        got, want,
        "the page's figure paths changed (UPDATE_PAGE_PATHS=1 rewrites the list)"
    );
}

/// A path the page reads resolves in the default report (the lists' first items).
#[test]
fn fixed_page_paths_resolve_in_the_default_report() {
    let json = Report::new(&Plan::default()).to_json_value();
    for (file, template) in ui_paths() {
        if template.contains('{') || !SECTIONS.iter().any(|s| template.starts_with(s)) {
            continue;
        }
        assert!(
            lookup(&json, &template).is_some(),
            "src/ui/{file}: {template} is not in the default report"
        );
    }
}
