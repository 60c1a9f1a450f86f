//! Plan files: YAML in, YAML out (schema 1).
//!
//! Reading walks the YAML tree against the schema rather than deserialising into a
//! struct, so a file with ten bad values yields ten problems (not serde's first one),
//! unknown keys become warnings, and whatever the file held reaches the form as text.

use super::fields::{Kind, Value};
use super::validate::{Problem, Validation, validate};
use super::{Plan, RawPlan, SCHEMA_VERSION, fields};
use serde_yaml::{Mapping, Value as Yaml};

/// What reading a plan file gives: the raw plan (defaults where the file is silent) and
/// the file-level problems (syntax, shape, unknown keys, schema).
#[derive(Clone, Debug, PartialEq)]
pub struct FileRead {
    pub raw: RawPlan,
    pub problems: Vec<Problem>,
}

impl FileRead {
    /// File problems followed by validation's, and the plan when there is no error.
    pub fn validate(&self) -> Validation {
        let mut v = validate(&self.raw);
        let mut problems = self.problems.clone();
        problems.append(&mut v.problems);
        let has_error = problems
            .iter()
            .any(|p| p.severity == crate::Severity::Error);
        Validation {
            plan: if has_error { None } else { v.plan },
            problems,
        }
    }
}

/// Reads a plan file. Never panics, whatever the text.
pub fn from_yaml(text: &str) -> FileRead {
    let mut raw = RawPlan::default();
    let mut problems = Vec::new();
    let doc: Yaml = match serde_yaml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            problems.push(Problem::error(
                "",
                format!("The plan file is not valid YAML: {e}."),
            ));
            return FileRead { raw, problems };
        }
    };
    match doc {
        Yaml::Null => {
            problems.push(Problem::warning(
                "",
                "The plan file is empty: the default plan is used.",
            ));
        }
        Yaml::Mapping(map) => {
            check_schema(map.get("schema"), &mut problems);
            walk(&map, "", &mut raw, &mut problems);
        }
        other => problems.push(Problem::error(
            "",
            format!(
                "A plan file is a YAML mapping (keys such as `users:` and `hosts:`), not {}.",
                describe(&other)
            ),
        )),
    }
    FileRead { raw, problems }
}

fn check_schema(value: Option<&Yaml>, problems: &mut Vec<Problem>) {
    match value {
        None => problems.push(Problem::warning(
            "schema",
            format!("The file has no `schema:` key; it is read as schema {SCHEMA_VERSION}."),
        )),
        Some(Yaml::Number(n)) if n.as_u64() == Some(SCHEMA_VERSION) => {}
        Some(Yaml::Number(n)) if n.as_u64().is_some_and(|v| v > SCHEMA_VERSION) => {
            problems.push(Problem::error(
                "schema",
                format!(
                    "The file is schema {n}, written by a newer synapse-planner; this build reads schema {SCHEMA_VERSION}."
                ),
            ))
        }
        Some(other) => problems.push(Problem::error(
            "schema",
            format!("`schema` must be {SCHEMA_VERSION}; the file has {}.", describe_value(other)),
        )),
    }
}

/// Is `path` a proper prefix (a group) of some field's path?
fn is_group(path: &str) -> bool {
    fields().iter().any(|f| {
        f.path.len() > path.len()
            && f.path.starts_with(path)
            && f.path.as_bytes()[path.len()] == b'.'
    })
}

fn walk(map: &Mapping, prefix: &str, raw: &mut RawPlan, problems: &mut Vec<Problem>) {
    for (k, v) in map {
        let Some(key) = k.as_str() else {
            let shown = describe_value(k);
            let at = if prefix.is_empty() {
                "the top level".to_string()
            } else {
                format!("`{prefix}`")
            };
            problems.push(Problem::warning(
                prefix,
                format!("The key {shown} under {at} is not a plan key; it is ignored."),
            ));
            continue;
        };
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        if path == "schema" {
            continue;
        }
        if let Some(f) = fields().iter().find(|f| f.path == path) {
            match (&f.kind, v) {
                (Kind::CacheFactors, Yaml::Mapping(m)) => {
                    let mut lines = Vec::new();
                    for (name, factor) in m {
                        lines.push(format!("{}: {}", scalar_text(name).unwrap_or_default(), scalar_text(factor).unwrap_or_else(|| describe(factor))));
                    }
                    raw.set(&path, lines.join("\n"));
                }
                (Kind::CacheFactors, Yaml::Null) => {
                    raw.set(&path, "");
                }
                (Kind::CacheFactors, other) => problems.push(Problem::error(
                    path.clone(),
                    format!("`{path}` must be a mapping of cache name to factor (e.g. `get_users_in_room: 5.0`), not {}.", describe(other)),
                )),
                (_, Yaml::Null) => problems.push(Problem::error(path.clone(), format!("{} has no value in the file.", f.label))),
                (_, v) => match scalar_text(v) {
                    Some(t) => {
                        raw.set(&path, t);
                    }
                    None => problems.push(Problem::error(
                        path.clone(),
                        format!("{} must be a single value, not {}.", f.label, describe(v)),
                    )),
                },
            }
        } else if is_group(&path) {
            match v {
                Yaml::Mapping(m) => walk(m, &path, raw, problems),
                Yaml::Null => {}
                other => problems.push(Problem::error(
                    path.clone(),
                    format!(
                        "`{path}` is a group of settings and must be a mapping, not {}.",
                        describe(other)
                    ),
                )),
            }
        } else {
            problems.push(Problem::warning(
                path.clone(),
                format!("Unknown key `{path}` is ignored."),
            ));
        }
    }
}

fn scalar_text(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn describe(v: &Yaml) -> String {
    match v {
        Yaml::Null => "an empty value".into(),
        Yaml::Bool(_) => "a true/false value".into(),
        Yaml::Number(_) => "a number".into(),
        Yaml::String(_) => "a string".into(),
        Yaml::Sequence(_) => "a list".into(),
        Yaml::Mapping(_) => "a mapping".into(),
        Yaml::Tagged(_) => "a tagged value".into(),
    }
}

fn describe_value(v: &Yaml) -> String {
    match scalar_text(v) {
        Some(t) => format!("“{t}”"),
        None => describe(v),
    }
}

/// How much of the plan to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YamlStyle {
    /// Every key: a complete, commented-by-schema example.
    Full,
    /// Only values that differ from the defaults (cargo's schema rule).
    Minimal,
}

/// Writes a plan file. Keys come in schema order; nothing depends on hash order.
pub fn to_yaml(plan: &Plan, style: YamlStyle) -> String {
    let defaults = Plan::default();
    let mut root = Mapping::new();
    root.insert("schema".into(), Yaml::Number(SCHEMA_VERSION.into()));
    for f in fields() {
        let value = f.get(plan);
        if style == YamlStyle::Minimal && value == f.get(&defaults) {
            continue;
        }
        let yaml = match value {
            Value::Int(n) => Yaml::Number(n.into()),
            Value::Float(x) => Yaml::Number(x.into()),
            Value::Text(s) => Yaml::String(s),
            Value::Bool(b) => Yaml::Bool(b),
            Value::Factors(m) => {
                let mut fm = Mapping::new();
                for (k, x) in m {
                    fm.insert(Yaml::String(k), Yaml::Number(x.into()));
                }
                Yaml::Mapping(fm)
            }
        };
        insert_path(&mut root, &f.path, yaml);
    }
    // Serialising a Value tree of strings, numbers and mappings cannot fail; fall back to
    // the one line we know rather than panic.
    serde_yaml::to_string(&Yaml::Mapping(root))
        .unwrap_or_else(|_| format!("schema: {SCHEMA_VERSION}\n"))
}

fn insert_path(root: &mut Mapping, path: &str, value: Yaml) {
    let mut parts = path.split('.').peekable();
    let mut node = root;
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            node.insert(Yaml::String(part.to_string()), value);
            return;
        }
        let entry = node
            .entry(Yaml::String(part.to_string()))
            .or_insert_with(|| Yaml::Mapping(Mapping::new()));
        if !entry.is_mapping() {
            *entry = Yaml::Mapping(Mapping::new());
        }
        let Yaml::Mapping(next) = entry else { return };
        node = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        from_yaml(text)
            .validate()
            .problems
            .iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn round_trips_default_both_styles() {
        let p = Plan::default();
        for style in [YamlStyle::Full, YamlStyle::Minimal] {
            let text = to_yaml(&p, style);
            let v = from_yaml(&text).validate();
            assert_eq!(v.problems, vec![], "{text}");
            assert_eq!(v.plan.as_ref(), Some(&p));
        }
        assert_eq!(to_yaml(&p, YamlStyle::Minimal), "schema: 1\n");
    }

    #[test]
    fn minimal_output_is_nested_kebab_case() {
        let p = Plan::default()
            .with_text("synapse.workers.sync", "6")
            .unwrap();
        let p = p
            .with_text("synapse.per-cache-factors", "get_users_in_room: 5")
            .unwrap();
        let p = p.with_text("hosts.patroni.ram-gib", "128").unwrap();
        assert_eq!(
            to_yaml(&p, YamlStyle::Minimal),
            "schema: 1\nsynapse:\n  per-cache-factors:\n    get_users_in_room: 5.0\n  workers:\n    sync: 6\nhosts:\n  patroni:\n    ram-gib: 128\n"
        );
    }

    #[test]
    fn file_problems_all_at_once() {
        let text = "schema: 1\nusers:\n  registered: lots\n  peak-concurent: 5\nsynapse:\n  workers: [1, 2]\n  cp-max: -4\nhosts:\n  haproxy:\n    count: 0\nextra: true\n";
        assert_eq!(
            problems(text),
            [
                "warning: users.peak-concurent: Unknown key `users.peak-concurent` is ignored.",
                "error: synapse.workers: `synapse.workers` is a group of settings and must be a mapping, not a list.",
                "warning: extra: Unknown key `extra` is ignored.",
                "error: users.registered: “lots” is not a whole number: enter a whole number from 1 to 100000000 users.",
                "error: synapse.cp-max: DB pool maximum (cp_max) cannot be negative: enter a whole number from 1 to 1000 connections.",
                "error: hosts.haproxy.count: HAProxy + keepalived hosts must be at least 1 hosts; 0 is too few.",
            ]
        );
    }

    #[test]
    fn file_level_problems() {
        assert_eq!(
            problems(""),
            ["warning: plan: The plan file is empty: the default plan is used."]
        );
        assert_eq!(
            problems("- a\n- b\n"),
            [
                "error: plan: A plan file is a YAML mapping (keys such as `users:` and `hosts:`), not a list."
            ]
        );
        assert_eq!(
            problems("schema: 2\n"),
            [
                "error: schema: The file is schema 2, written by a newer synapse-planner; this build reads schema 1."
            ]
        );
        assert_eq!(
            problems("name: x\n"),
            ["warning: schema: The file has no `schema:` key; it is read as schema 1."]
        );
        let bad = problems("users: [\n");
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].starts_with("error: plan: The plan file is not valid YAML: "),
            "{bad:?}"
        );
        let dup = problems("schema: 1\nname: a\nname: b\n");
        assert!(dup[0].contains("duplicate"), "{dup:?}");
    }

    #[test]
    fn yaml_strings_for_numbers_are_read_like_form_text() {
        let v = from_yaml("schema: 1\nusers:\n  registered: '20000'\n").validate();
        assert_eq!(v.plan.map(|p| p.users.registered), Some(20000));
    }
}
