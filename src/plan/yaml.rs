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

/// A YAML tree that keeps every scalar as text. serde_yaml's own `Value` refuses
/// integers beyond 64 bits (the whole file would fail with no key path); here they
/// stay text and validation names their key.
#[derive(Clone, Debug, PartialEq)]
enum Loose {
    Null,
    Bool(bool),
    Number(String),
    Text(String),
    Seq,
    /// Keys in file order; duplicates are found by `walk`.
    Map(Vec<(Loose, Loose)>),
    Tagged,
}

impl<'de> serde::Deserialize<'de> for Loose {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Loose, D::Error> {
        d.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> serde::de::Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Loose, E> {
        Ok(Loose::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Loose, E> {
        Ok(Loose::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::Number(v.to_string()))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Loose, E> {
        Ok(Loose::Number(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Loose, E> {
        Ok(Loose::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Loose, E> {
        // Rust prints 1000.0 as "1000" and 0.5 as "0.5": `1e3` in a file reads as 1000.
        Ok(Loose::Number(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Text(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Text(v))
    }
    fn visit_unit<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }
    fn visit_none<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }
    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Loose, D::Error> {
        serde::Deserialize::deserialize(d)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Loose::Seq)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Loose, Loose>()? {
            entries.push((k, v));
        }
        Ok(Loose::Map(entries))
    }
    fn visit_enum<A: serde::de::EnumAccess<'de>>(self, data: A) -> Result<Loose, A::Error> {
        use serde::de::VariantAccess;
        let (_, variant) = data.variant::<serde::de::IgnoredAny>()?;
        variant.newtype_variant::<serde::de::IgnoredAny>()?;
        Ok(Loose::Tagged)
    }
}

/// Reads a plan file. Never panics, whatever the text.
pub fn from_yaml(text: &str) -> FileRead {
    let mut raw = RawPlan::default();
    let mut problems = Vec::new();
    let doc: Loose = match serde_yaml::from_str(text) {
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
        Loose::Null => {
            problems.push(Problem::warning(
                "",
                "The plan file is empty: the default plan is used.",
            ));
        }
        Loose::Map(map) => {
            let schema = map
                .iter()
                .find(|(k, _)| *k == Loose::Text("schema".into()))
                .map(|(_, v)| v);
            check_schema(schema, &mut problems);
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

fn check_schema(value: Option<&Loose>, problems: &mut Vec<Problem>) {
    let Some(value) = value else {
        problems.push(Problem::warning(
            "schema",
            format!("The file has no `schema:` key; it is read as schema {SCHEMA_VERSION}."),
        ));
        return;
    };
    let number = match value {
        Loose::Number(t) | Loose::Text(t) => t.trim().parse::<u64>().ok(),
        _ => None,
    };
    match number {
        Some(SCHEMA_VERSION) => {}
        Some(n) if n > SCHEMA_VERSION => problems.push(Problem::error(
            "schema",
            format!("The file is schema {n}, written by a newer synapse-planner; this build reads schema {SCHEMA_VERSION}."),
        )),
        _ => problems.push(Problem::error(
            "schema",
            format!("`schema` must be {SCHEMA_VERSION}; the file has {}.", describe_value(value)),
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

fn walk(map: &[(Loose, Loose)], prefix: &str, raw: &mut RawPlan, problems: &mut Vec<Problem>) {
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in map {
        let at = if prefix.is_empty() {
            "the top level".to_string()
        } else {
            format!("`{prefix}`")
        };
        let key = match k {
            Loose::Text(t) => t.as_str(),
            other => {
                let shown = describe_value(other);
                problems.push(Problem::warning(
                    prefix,
                    format!("The key {shown} under {at} is not a plan key; it is ignored."),
                ));
                continue;
            }
        };
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        if seen.contains(&key) {
            // YAML forbids duplicate keys; for a plan key it is an error (which value
            // was meant?), for an ignored key a warning like the key itself.
            let message = format!("`{key}` appears twice under {at}; keep one.");
            let known =
                path == "schema" || is_group(&path) || fields().iter().any(|f| f.path == path);
            problems.push(if known {
                Problem::error(path.clone(), message)
            } else {
                Problem::warning(path.clone(), message)
            });
            continue;
        }
        seen.push(key);
        if path == "schema" {
            continue;
        }
        if let Some(f) = fields().iter().find(|f| f.path == path) {
            match (&f.kind, v) {
                (Kind::CacheFactors, Loose::Map(m)) => {
                    let lines: Vec<String> = m
                        .iter()
                        .map(|(name, factor)| {
                            format!("{}: {}", scalar_text(name).unwrap_or_default(), scalar_text(factor).unwrap_or_else(|| describe(factor)))
                        })
                        .collect();
                    raw.set(&path, lines.join("\n"));
                }
                (Kind::CacheFactors, Loose::Null) => {
                    raw.set(&path, "");
                }
                (Kind::CacheFactors, other) => problems.push(Problem::error(
                    path.clone(),
                    format!("`{path}` must be a mapping of cache name to factor (e.g. `get_users_in_room: 5.0`), not {}.", describe(other)),
                )),
                (_, Loose::Null) => problems.push(Problem::error(path.clone(), format!("{} has no value in the file.", f.label))),
                (_, v) => match scalar_text(v) {
                    Some(t) => {
                        raw.set(&path, t);
                    }
                    None => problems.push(Problem::error(path.clone(), format!("{} must be a single value, not {}.", f.label, describe(v)))),
                },
            }
        } else if is_group(&path) {
            match v {
                Loose::Map(m) => walk(m, &path, raw, problems),
                Loose::Null => {}
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

fn scalar_text(v: &Loose) -> Option<String> {
    match v {
        Loose::Text(s) | Loose::Number(s) => Some(s.clone()),
        Loose::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn describe(v: &Loose) -> String {
    match v {
        Loose::Null => "an empty value".into(),
        Loose::Bool(_) => "a true/false value".into(),
        Loose::Number(_) => "a number".into(),
        Loose::Text(_) => "a string".into(),
        Loose::Seq => "a list".into(),
        Loose::Map(_) => "a mapping".into(),
        Loose::Tagged => "a tagged value".into(),
    }
}

fn describe_value(v: &Loose) -> String {
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
            // A numeric choice (postgres.version) is written as the number people type.
            Value::Text(s) => match (&f.kind, s.parse::<u64>()) {
                (Kind::Choice(_), Ok(n)) => Yaml::Number(n.into()),
                _ => Yaml::String(s),
            },
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
        assert_eq!(
            problems("schema: 1\nname: a\nname: b\n"),
            ["error: name: `name` appears twice under the top level; keep one."]
        );
        assert_eq!(problems("schema: '1'\n"), Vec::<String>::new());
        assert_eq!(
            problems("schema: !x 1\n"),
            ["error: schema: `schema` must be 1; the file has a tagged value."]
        );
    }

    #[test]
    fn numbers_beyond_64_bits_are_blamed_on_their_key() {
        assert_eq!(
            problems(
                "schema: 1\nusers:\n  registered: 18446744073709551616\nsynapse:\n  cp-max: -99999999999999999999\n"
            ),
            [
                "error: users.registered: 18446744073709551616 is far too large: Registered users must be at most 100000000 users.",
                "error: synapse.cp-max: DB pool maximum (cp_max) cannot be negative: enter a whole number from 1 to 1000 connections.",
            ]
        );
        // 1e3 is the number 1000 in YAML.
        let v = from_yaml("schema: 1\nusers:\n  peak-concurrent: 1e3\n").validate();
        assert_eq!(v.plan.map(|p| p.users.peak_concurrent), Some(1000));
    }

    #[test]
    fn yaml_strings_for_numbers_are_read_like_form_text() {
        let v = from_yaml("schema: 1\nusers:\n  registered: '20000'\n").validate();
        assert_eq!(v.plan.map(|p| p.users.registered), Some(20000));
    }
}
