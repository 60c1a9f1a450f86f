//! The named plans every bundle test runs on, and their bundles with fixed secrets.

#![allow(dead_code)]

use synapse_planner::bundle::{self, Date, File, Secrets};
use synapse_planner::plan::{self, Plan};

/// A fixed date: files must not depend on the clock.
pub fn date() -> Date {
    Date::parse("2026-11-26").expect("date")
}

/// Real-looking secrets from a fixed byte stream (a counter), so tests know them.
pub fn secrets() -> Secrets {
    let mut n: u8 = 7;
    Secrets::generate(move |buf: &mut [u8]| {
        for b in buf {
            n = n.wrapping_mul(31).wrapping_add(17);
            *b = n;
        }
    })
}

fn plan_file(name: &str) -> Plan {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/plans")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v = plan::from_yaml(&text).validate();
    v.plan
        .unwrap_or_else(|| panic!("{name} is invalid: {:?}", v.problems))
}

/// The plans the bundle is checked on: the default, a minimal cluster, a 100k-user one
/// and odd counts (5 Patroni, 8 MinIO, 1 HAProxy).
pub fn named_plans() -> Vec<(&'static str, Plan)> {
    vec![
        ("default", Plan::default()),
        ("minimal", plan_file("minimal.yaml")),
        ("100k", plan_file("100k.yaml")),
        ("odd-counts", plan_file("odd-counts.yaml")),
    ]
}

pub fn bundle(plan: &Plan) -> Vec<File> {
    bundle::files(plan, &date(), &secrets())
}

/// The file at `path`, or a panic naming the paths there are.
pub fn file<'a>(files: &'a [File], path: &str) -> &'a File {
    files.iter().find(|f| f.path == path).unwrap_or_else(|| {
        let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        panic!("no {path} in the bundle; it has {paths:#?}")
    })
}

/// The file at `path` under `hosts/<host>`.
pub fn host_file<'a>(files: &'a [File], host: &str, path: &str) -> &'a File {
    file(files, &format!("hosts/{host}{path}"))
}

/// Runs `check` for every named plan, the plans in parallel (each in its own sandbox).
pub fn for_each_plan(check: impl Fn(&str, &Plan) + Sync) {
    let plans = named_plans();
    std::thread::scope(|s| {
        let handles: Vec<_> = plans
            .iter()
            .map(|(name, plan)| {
                let check = &check;
                s.spawn(move || check(name, plan))
            })
            .collect();
        for h in handles {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e);
            }
        }
    });
}

/// Files whose path matches `pred`.
pub fn matching<'a>(
    files: &'a [File],
    pred: impl Fn(&str) -> bool + 'a,
) -> impl Iterator<Item = &'a File> + 'a {
    files.iter().filter(move |f| pred(&f.path))
}
