//! Plan files: YAML in, YAML out (schema 2; schema 1 files are migrated, `super::migrate`).
//!
//! Reading walks the YAML tree against the schema rather than deserialising into a
//! struct, so a file with ten bad values yields ten problems (not serde's first one),
//! unknown keys become warnings, and whatever the file held reaches the form as text.

use super::fields::is_group;
use super::fields::{Kind, Value};
use super::validate::{Problem, Validation, validate};
use super::{Plan, RawPlan, SCHEMA_VERSION, field, fields};
use crate::syntax::yaml::{Doc, Map, Node};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::BTreeSet;

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

/// The largest plan file read: the browser's import limit and the CLI's. A real plan
/// file is under 10 KB (every key written out, 200 per-cache factors: about 12 KB).
pub const MAX_FILE_BYTES: usize = 1024 * 1024;

/// How deep collections may nest. A plan nests three levels
/// (`synapse.per-cache-factors.<cache>`); the rest is room for unknown keys.
pub const MAX_DEPTH: usize = 16;

/// Nodes (scalars, mappings, sequences) the reader builds, aliases expanded: far above a
/// plan's (≈ 200 keys and as many cache factors), far below what costs memory.
pub const MAX_NODES: usize = 50_000;

/// Bytes of scalar text the reader keeps, aliases expanded: twice the file limit, so
/// a file without aliases never reaches it and one string referenced 50,000 times
/// stops at 2 MiB instead of asking for gigabytes.
pub const MAX_TEXT_BYTES: usize = 2 * MAX_FILE_BYTES;

/// Problems listed for unknown or duplicated keys before the rest are counted in one.
const MAX_KEY_PROBLEMS: usize = 50;

/// A YAML tree that keeps every scalar as text: integers beyond 64 bits stay text and
/// validation names their key.
#[derive(Clone, Debug, PartialEq)]
enum Loose {
    Null,
    Bool(bool),
    Number(String),
    Text(String),
    /// A sequence: no plan key holds one, so its items are counted, not kept.
    Seq,
    /// Keys in file order; duplicates are found by `walk`.
    Map(Vec<(Loose, Loose)>),
    Tagged,
}

/// What building a tree costs, checked before each step.
#[derive(Default)]
struct Budget {
    nodes: usize,
    text: usize,
}

impl Budget {
    /// Charges `nodes` and `text` bytes, or says which limit they would cross.
    fn charge(&mut self, nodes: usize, text: usize) -> Result<(), String> {
        self.nodes = self.nodes.saturating_add(nodes);
        self.text = self.text.saturating_add(text);
        if self.nodes > MAX_NODES {
            return Err(format!(
                "it has more than {MAX_NODES} values (aliases counted each time they are used); a plan has a few hundred"
            ));
        }
        if self.text > MAX_TEXT_BYTES {
            return Err(format!(
                "its text is more than {} MiB (aliases counted each time they are used); a plan's is a few KB",
                MAX_TEXT_BYTES / (1024 * 1024)
            ));
        }
        Ok(())
    }
}

/// The cost of a subtree: (nodes, text bytes).
fn cost(v: &Loose) -> (usize, usize) {
    match v {
        Loose::Number(t) | Loose::Text(t) => (1, t.len()),
        Loose::Map(entries) => entries.iter().fold((1, 0), |(n, b), (k, v)| {
            let (kn, kb) = cost(k);
            let (vn, vb) = cost(v);
            (n + kn + vn, b + kb + vb)
        }),
        _ => (1, 0),
    }
}

/// A collection being read.
enum Frame {
    Seq {
        anchor: usize,
    },
    Map {
        anchor: usize,
        entries: Vec<(Loose, Loose)>,
        key: Option<Loose>,
    },
}

/// A plain scalar's type by YAML 1.2's core schema (the JSON-compatible one, §10.3):
/// `null`/`~`/empty, `true`/`false` in three cases, decimal, octal (`0o`) and hex (`0x`)
/// integers, and floats. Everything else, and every quoted scalar, is a string.
fn resolve_plain(s: &str) -> Loose {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Loose::Null,
        "true" | "True" | "TRUE" => return Loose::Bool(true),
        "false" | "False" | "FALSE" => return Loose::Bool(false),
        _ => {}
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        // Kept as written (without a `+`): validation reads it, whatever its size.
        return Loose::Number(s.trim_start_matches('+').to_string());
    }
    for (prefix, radix) in [("0o", 8), ("0x", 16)] {
        if let Some(digits) = s.strip_prefix(prefix)
            && !digits.is_empty()
            && digits.chars().all(|c| c.is_digit(radix))
        {
            return match u128::from_str_radix(digits, radix) {
                Ok(n) => Loose::Number(n.to_string()),
                Err(_) => Loose::Number(s.to_string()),
            };
        }
    }
    match unsigned {
        ".inf" | ".Inf" | ".INF" => return Loose::Number("inf".into()),
        ".nan" | ".NaN" | ".NAN" => return Loose::Number("NaN".into()),
        _ => {}
    }
    if is_float(unsigned) {
        // Rust prints 1000.0 as "1000" and 0.5 as "0.5": `1e3` in a file reads as 1000.
        if let Ok(x) = s.parse::<f64>() {
            return Loose::Number(x.to_string());
        }
    }
    Loose::Text(s.to_string())
}

/// YAML 1.2 core float without its sign: `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// A scalar with its style and tag as a loose value.
fn scalar(value: &str, style: ScalarStyle, tag: Option<&Tag>) -> Loose {
    match tag {
        None if style == ScalarStyle::Plain => resolve_plain(value),
        None => Loose::Text(value.to_string()),
        // `!` alone (non-specific) and the core schema's own tags keep their meaning.
        Some(t) if t.handle == "!" && t.suffix.is_empty() => Loose::Text(value.to_string()),
        Some(t) if t.is_yaml_core_schema() => match t.suffix.as_str() {
            "str" => Loose::Text(value.to_string()),
            "int" | "float" | "bool" | "null" => resolve_plain(value),
            _ => Loose::Tagged,
        },
        Some(_) => Loose::Tagged,
    }
}

/// Builds the loose tree of a one-document YAML text, within the limits above, checked
/// as each event arrives: nesting before a collection is opened, nodes and text before
/// a scalar or an alias's copy is kept. Errors are sentences for the file as a whole.
fn read_tree(text: &str) -> Result<Loose, String> {
    let mut parser = Parser::new_from_str(text);
    let mut budget = Budget::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: Vec<Option<Loose>> = Vec::new();
    let mut documents = 0usize;
    let mut root: Option<Loose> = None;
    let at = |span: &Span| {
        format!(
            " (line {}, column {})",
            span.start.line(),
            span.start.col() + 1
        )
    };
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| {
            let at = format!(
                " (line {}, column {})",
                e.marker().line(),
                e.marker().col() + 1
            );
            if e.info().contains("recursion limit") {
                // The scanner's own bound on flow nesting (it looks ahead of the events).
                format!(
                    "The plan file nests more than {MAX_DEPTH} levels deep{at}; a plan nests three"
                )
            } else {
                format!("The plan file is not valid YAML: {}{at}", e.info())
            }
        })?;
        // A finished node, and the anchor it is kept under (0 = none).
        let (node, anchor) = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {
                continue;
            }
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(format!(
                        "The plan file holds more than one YAML document{}: keep one plan per file",
                        at(&span)
                    ));
                }
                continue;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(format!(
                        "The plan file nests more than {MAX_DEPTH} levels deep{}; a plan nests three",
                        at(&span)
                    ));
                }
                budget
                    .charge(1, 0)
                    .map_err(|m| format!("The plan file is too large: {m}"))?;
                stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Seq { anchor }
                } else {
                    Frame::Map {
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    }
                });
                continue;
            }
            Event::SequenceEnd => {
                match stack.pop() {
                    Some(Frame::Seq { anchor }) => (Loose::Seq, anchor),
                    _ => return Err(
                        "The plan file is not valid YAML: a sequence ends that was never opened"
                            .into(),
                    ),
                }
            }
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    anchor, entries, ..
                }) => (Loose::Map(entries), anchor),
                _ => {
                    return Err(
                        "The plan file is not valid YAML: a mapping ends that was never opened"
                            .into(),
                    );
                }
            },
            Event::Scalar(value, style, anchor, tag) => {
                budget
                    .charge(1, value.len())
                    .map_err(|m| format!("The plan file is too large: {m}"))?;
                (scalar(&value, style, tag.as_deref()), anchor)
            }
            Event::Alias(id) => {
                let Some(Some(target)) = anchors.get(id) else {
                    return Err(format!(
                        "The plan file uses an alias before its anchor{}",
                        at(&span)
                    ));
                };
                let (n, b) = cost(target);
                budget
                    .charge(n, b)
                    .map_err(|m| format!("The plan file is too large: {m}"))?;
                (target.clone(), 0)
            }
        };
        if anchor > 0 {
            // Anchor ids are numbered from 1 in the order they appear.
            if anchors.len() <= anchor {
                anchors.resize(anchor + 1, None);
            }
            let (n, b) = cost(&node);
            budget
                .charge(n, b)
                .map_err(|m| format!("The plan file is too large: {m}"))?;
            anchors[anchor] = Some(node.clone());
        }
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { .. }) => {}
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
    Ok(root.unwrap_or(Loose::Null))
}

/// Reads a plan file. Never panics, whatever the text, and stays within the limits
/// above ([`MAX_FILE_BYTES`], [`MAX_DEPTH`], [`MAX_NODES`], [`MAX_TEXT_BYTES`]): time
/// and memory grow linearly with the input and stop at a fixed budget.
pub fn from_yaml(text: &str) -> FileRead {
    let mut raw = RawPlan::default();
    let mut problems = Vec::new();
    if text.len() > MAX_FILE_BYTES {
        problems.push(Problem::error(
            "",
            format!(
                "The plan file is larger than {MAX_FILE_BYTES} bytes (1 MiB), the most a plan file may be; a real one is a few KB."
            ),
        ));
        return FileRead { raw, problems };
    }
    // A UTF-8 byte-order mark, as some editors write, is not part of the text.
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let doc = match read_tree(text) {
        Ok(doc) => doc,
        Err(message) => {
            problems.push(Problem::error("", format!("{message}.")));
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
            let version = check_schema(schema, &mut problems);
            let mut key_problems = 0usize;
            walk(&map, "", &mut raw, &mut problems, &mut key_problems);
            if version == 1 {
                super::migrate::schema_1(&mut raw, &mut problems);
            }
            if key_problems > MAX_KEY_PROBLEMS {
                problems.push(Problem::warning(
                    "",
                    format!(
                        "… and {} more unknown or repeated keys.",
                        key_problems - MAX_KEY_PROBLEMS
                    ),
                ));
            }
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

/// The file's schema version as read (1 or this build's); problems for a missing,
/// newer or malformed one. A file without `schema:` is read as this build's.
fn check_schema(value: Option<&Loose>, problems: &mut Vec<Problem>) -> u64 {
    let Some(value) = value else {
        problems.push(Problem::warning(
            "schema",
            format!("The file has no `schema:` key; it is read as schema {SCHEMA_VERSION}."),
        ));
        return SCHEMA_VERSION;
    };
    let number = match value {
        Loose::Number(t) | Loose::Text(t) => t.trim().parse::<u64>().ok(),
        _ => None,
    };
    match number {
        Some(n @ 1..=SCHEMA_VERSION) => return n,
        Some(n) if n > SCHEMA_VERSION => problems.push(Problem::error(
            "schema",
            format!("The file is schema {n}, written by a newer synapse-planner; this build reads schemas 1 to {SCHEMA_VERSION}."),
        )),
        _ => problems.push(Problem::error(
            "schema",
            format!("`schema` must be 1 or {SCHEMA_VERSION}; the file has {}.", describe_value(value)),
        )),
    }
    SCHEMA_VERSION
}

/// A key or value for a message: at most 80 characters, on one line.
fn shown(text: &str) -> String {
    let one = crate::syntax::one_line(text);
    if one.chars().count() > 80 {
        format!("{}…", one.chars().take(80).collect::<String>())
    } else {
        one.into_owned()
    }
}

/// Records a problem about a key (unknown, repeated, not a string), counting them so a
/// file of a million bad keys gives fifty messages and a count, not a million.
fn key_problem(problems: &mut Vec<Problem>, count: &mut usize, p: Problem) {
    *count += 1;
    if *count <= MAX_KEY_PROBLEMS {
        problems.push(p);
    } else if p.severity == crate::Severity::Error
        && !problems
            .iter()
            .any(|q| q.severity == crate::Severity::Error)
    {
        // Never drop the only error: the file must still be refused.
        problems.push(p);
    }
}

fn walk(
    map: &[(Loose, Loose)],
    prefix: &str,
    raw: &mut RawPlan,
    problems: &mut Vec<Problem>,
    key_problems: &mut usize,
) {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
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
                key_problem(
                    problems,
                    key_problems,
                    Problem::warning(
                        prefix,
                        format!("The key {shown} under {at} is not a plan key; it is ignored."),
                    ),
                );
                continue;
            }
        };
        let path = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        if !seen.insert(key) {
            // YAML forbids duplicate keys; for a plan key it is an error (which value
            // was meant?), for an ignored key a warning like the key itself.
            let message = format!("`{}` appears twice under {at}; keep one.", shown(key));
            let known = path == "schema" || is_group(&path) || field(&path).is_some();
            key_problem(
                problems,
                key_problems,
                if known {
                    Problem::error(path.clone(), message)
                } else {
                    Problem::warning(shown(&path), message)
                },
            );
            continue;
        }
        if path == "schema" {
            continue;
        }
        if let Some(f) = field(&path) {
            match (&f.kind, v) {
                (Kind::CacheFactors, Loose::Map(m)) => match factor_lines(m) {
                    Ok(text) => {
                        raw.set(&path, text);
                    }
                    Err(message) => problems.push(Problem::error(path.clone(), message)),
                },
                (Kind::CacheFactors, Loose::Null) => {
                    raw.set(&path, "");
                }
                (Kind::CacheFactors, other) => problems.push(Problem::error(
                    path.clone(),
                    format!("`{path}` must be a mapping of cache name to factor (e.g. `get_users_in_room: 5.0`), not {}.", describe(other)),
                )),
                // A derivable field written as null (`~`) is left to its derivation.
                (_, Loose::Null) if f.derivable() => {
                    raw.set(&path, "");
                }
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
                Loose::Map(m) => walk(m, &path, raw, problems, key_problems),
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
            key_problem(
                problems,
                key_problems,
                Problem::warning(
                    shown(&path),
                    format!("Unknown key `{}` is ignored.", shown(&path)),
                ),
            );
        }
    }
}

/// A per-cache-factors mapping as the form's `name: factor` lines. A name or factor that
/// would change the lines (a line break, or a `:` in a name) is refused here, before it
/// could become two entries.
fn factor_lines(m: &[(Loose, Loose)]) -> Result<String, String> {
    let mut lines = Vec::with_capacity(m.len());
    for (name, factor) in m {
        let name = scalar_text(name).unwrap_or_default();
        let factor = scalar_text(factor).unwrap_or_else(|| describe(factor));
        if name.contains(':') || name.chars().any(crate::syntax::is_line_break) {
            return Err(format!(
                "“{}” is not a Synapse cache name (letters, digits, _ and *; e.g. get_users_in_room).",
                shown(&name)
            ));
        }
        if factor.chars().any(crate::syntax::is_line_break) {
            return Err(format!(
                "The factor of {} is not a number: “{}”.",
                shown(&name),
                shown(&factor)
            ));
        }
        lines.push(format!("{name}: {factor}"));
    }
    Ok(lines.join("\n"))
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
    let mut root = Map::new();
    root.insert("schema", SCHEMA_VERSION);
    let mut leaves: Vec<(&str, Node)> = Vec::new();
    for f in fields() {
        let value = f.get(plan);
        if style == YamlStyle::Minimal && value == f.get(&defaults) {
            continue;
        }
        let node = match value {
            Value::Int(n) => Node::UInt(n),
            Value::Float(x) => Node::Float(x),
            // A numeric choice (postgres.version) is written as the number people type.
            Value::Text(s) => match (&f.kind, s.parse::<u64>()) {
                (Kind::Choice(_), Ok(n)) => Node::UInt(n),
                _ => Node::Str(s),
            },
            Value::Bool(b) => Node::Bool(b),
            // Written as null in a full file: the key is there, its value derived.
            Value::Derived => Node::Null,
            Value::Factors(m) => {
                let mut fm = Map::new();
                for (k, x) in m {
                    fm.insert(k, x);
                }
                Node::Map(fm)
            }
        };
        leaves.push((f.path.as_str(), node));
    }
    nest(&mut root, "", &leaves);
    Doc::new(root).render()
}

/// Adds `leaves` (key paths below `prefix`, in schema order) to `map`, each group once,
/// where its first key appears.
fn nest(map: &mut Map, prefix: &str, leaves: &[(&str, Node)]) {
    let mut done: Vec<&str> = Vec::new();
    for (path, node) in leaves {
        let rest = &path[prefix.len()..];
        match rest.split_once('.') {
            None => {
                map.insert(rest, node.clone());
            }
            Some((group, _)) if !done.contains(&group) => {
                done.push(group);
                let inner = format!("{prefix}{group}.");
                let below: Vec<(&str, Node)> = leaves
                    .iter()
                    .filter(|(p, _)| p.starts_with(&inner))
                    .map(|(p, n)| (*p, n.clone()))
                    .collect();
                let mut child = Map::new();
                nest(&mut child, &inner, &below);
                map.insert(group, child);
            }
            Some(_) => {}
        }
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
        assert_eq!(to_yaml(&p, YamlStyle::Minimal), "schema: 2\n");
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
            "schema: 2\nsynapse:\n  per-cache-factors:\n    get_users_in_room: 5.0\n  workers:\n    sync: 6\nhosts:\n  patroni:\n    ram-gib: 128\n"
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
            problems("schema: 3\n"),
            [
                "error: schema: The file is schema 3, written by a newer synapse-planner; this build reads schemas 1 to 2."
            ]
        );
        assert_eq!(problems("schema: 1\n"), Vec::<String>::new());
        assert_eq!(problems("schema: 2\n"), Vec::<String>::new());
        assert_eq!(
            problems("name: x\n"),
            ["warning: schema: The file has no `schema:` key; it is read as schema 2."]
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
            ["error: schema: `schema` must be 1 or 2; the file has a tagged value."]
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
        assert_eq!(v.plan.map(|p| p.peak_concurrent_users()), Some(1000));
    }

    #[test]
    fn yaml_strings_for_numbers_are_read_like_form_text() {
        let v = from_yaml("schema: 1\nusers:\n  registered: '20000'\n").validate();
        assert_eq!(v.plan.map(|p| p.users.registered), Some(20000));
    }

    /// The messages of a file problem, for the reader's limit tests.
    fn file_errors(text: &str) -> Vec<String> {
        from_yaml(text)
            .problems
            .iter()
            .filter(|p| p.severity == crate::Severity::Error)
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn reader_alias_expansion_is_counted_in_bytes() {
        // One 500 KB string referenced 50,000 times: 1 MB of file, 25 GB expanded.
        let text = format!(
            "schema: 1\nname: &a \"{}\"\nx: [{}]\n",
            "x".repeat(500_000),
            vec!["*a"; 50_000].join(",")
        );
        assert!(text.len() <= MAX_FILE_BYTES);
        assert_eq!(
            file_errors(&text),
            [
                "error: plan: The plan file is too large: its text is more than 2 MiB (aliases counted each time they are used); a plan's is a few KB."
            ]
        );
        // Small aliases are fine.
        let v = from_yaml("schema: 1\nusers:\n  registered: &n 20000\n  peak-concurrent: *n\n")
            .validate();
        assert_eq!(v.plan.map(|p| p.peak_concurrent_users()), Some(20_000));
    }

    #[test]
    fn reader_many_keys_are_capped_not_quadratic() {
        let many: String = (0..40_000).map(|i| format!("k{i}: 1\n")).collect();
        assert_eq!(
            file_errors(&many),
            [
                "error: plan: The plan file is too large: it has more than 50000 values (aliases counted each time they are used); a plan has a few hundred."
            ]
        );
        // Below the node limit: 20,000 unknown keys give 50 messages and a count.
        let some: String = (0..20_000).map(|i| format!("k{i}: 1\n")).collect();
        let read = from_yaml(&format!("schema: 1\n{some}"));
        assert_eq!(read.problems.len(), 51, "{:?}", &read.problems[..3]);
        assert_eq!(
            read.problems[50].message,
            "… and 19950 more unknown or repeated keys."
        );
        // 20,000 copies of one plan key: still refused, with few messages.
        let dup: String = (0..20_000).map(|_| "name: x\n".to_string()).collect();
        let read = from_yaml(&format!("schema: 1\n{dup}"));
        assert!(read.problems.len() <= 51);
        assert!(read.validate().plan.is_none());
    }

    #[test]
    fn reader_nesting_is_checked_while_scanning() {
        for text in [
            "[".repeat(100_000),
            "{a: ".repeat(100_000),
            "- ".repeat(100_000) + "x\n",
        ] {
            let errors = file_errors(&text);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(
                errors[0].starts_with(
                    "error: plan: The plan file nests more than 16 levels deep (line 1, column "
                ),
                "{errors:?}"
            );
        }
        // Plans nest three levels; sixteen (the root mapping and fifteen more) are allowed.
        let deep = (0..15).fold("1".to_string(), |inner, _| format!("{{a: {inner}}}"));
        assert!(file_errors(&format!("schema: 1\nx: {deep}\n")).is_empty());
    }

    #[test]
    fn reader_accepts_a_byte_order_mark() {
        let v = from_yaml("\u{FEFF}schema: 1\nusers:\n  registered: 20000\n").validate();
        assert_eq!(v.problems, vec![]);
        assert_eq!(v.plan.map(|p| p.users.registered), Some(20_000));
        // Two documents are still one too many.
        assert_eq!(
            file_errors("schema: 1\n---\nschema: 1\n"),
            [
                "error: plan: The plan file holds more than one YAML document (line 2, column 1): keep one plan per file."
            ]
        );
    }

    #[test]
    fn reader_size_limit_comes_first() {
        let text = format!("schema: 1\n#{}\n", "x".repeat(MAX_FILE_BYTES));
        assert_eq!(
            file_errors(&text),
            [
                "error: plan: The plan file is larger than 1048576 bytes (1 MiB), the most a plan file may be; a real one is a few KB."
            ]
        );
    }

    #[test]
    fn reader_cache_names_cannot_split_into_two_lines() {
        let v = from_yaml("schema: 1\nsynapse:\n  per-cache-factors:\n    \"a: 1\\nb\": 2\n")
            .validate();
        assert!(v.plan.is_none());
        assert_eq!(v.problems[0].path, "synapse.per-cache-factors");
        // YAML-ish names written back quoted read back as the same names.
        let p = Plan::default()
            .with_text(
                "synapse.per-cache-factors",
                "true: 2\nNo: 3\nnull: 4\non: 5\nNULL: 6",
            )
            .unwrap();
        let text = to_yaml(&p, YamlStyle::Minimal);
        assert_eq!(from_yaml(&text).validate().plan, Some(p), "{text}");
    }
}
