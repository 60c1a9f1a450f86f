//! No function in `src/` is longer than [`LIMIT`] lines unless ARCHITECTURE.md's "Longest
//! functions" table lists it with the reason (a pure data table, say). A long function
//! added without a reason fails here; so does a listed one that no longer exists or has
//! become short, so the table stays true.
//!
//! Functions are found on rustfmt's layout: a line `fn name` (after visibility and
//! `const`) at some indentation, ending at the first later line that is that indentation
//! followed by `}`.

use std::collections::BTreeMap;
use std::path::Path;

/// Lines, from the `fn` line to the closing brace.
const LIMIT: usize = 150;

/// (`src/...` path, function name) → length in lines, for every function of `dir`.
fn functions(dir: &Path, out: &mut BTreeMap<(String, String), usize>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("a readable src/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            functions(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            let rel = path
                .to_string_lossy()
                .split_once("src/")
                .map(|(_, r)| format!("src/{r}"))
                .unwrap_or_default();
            for (name, len) in lengths(&text) {
                let e = out.entry((rel.clone(), name)).or_default();
                *e = (*e).max(len);
            }
        }
    }
}

/// Every function of one file with its length.
fn lengths(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let rest = line.trim_start();
        let indent = &line[..line.len() - rest.len()];
        let mut words = rest.split_whitespace().peekable();
        while let Some(w) = words.peek() {
            if w.starts_with("pub") || *w == "const" || *w == "async" || *w == "unsafe" {
                words.next();
            } else {
                break;
            }
        }
        if words.next() != Some("fn") {
            continue;
        }
        let Some(name) = words.next().map(|n| {
            n.chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect::<String>()
        }) else {
            continue;
        };
        // A declaration without a body (a trait item) ends on its own line.
        if rest.ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        let end = lines[i..]
            .iter()
            .position(|l| *l == close || l.starts_with(&format!("{close} ")))
            .map_or(1, |n| n + 1);
        if rest.ends_with('}') {
            out.push((name, 1));
        } else {
            out.push((name, end));
        }
    }
    out
}

/// The table under ARCHITECTURE.md's "Longest functions" heading: (path, function).
fn listed(architecture: &str) -> Vec<(String, String)> {
    architecture
        .split("### Longest functions")
        .nth(1)
        .expect("ARCHITECTURE.md has a \"### Longest functions\" section")
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let path = cells.get(1)?.trim_matches('`');
            let name = cells.get(2)?.trim_matches('`');
            path.starts_with("src/")
                .then(|| (path.to_string(), name.to_string()))
        })
        .collect()
}

#[test]
fn no_function_is_longer_than_the_limit_without_a_listed_reason() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = BTreeMap::new();
    functions(&root.join("src"), &mut all);
    assert!(all.len() > 500, "found only {} functions", all.len());
    let architecture =
        std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let listed = listed(&architecture);
    let mut problems = Vec::new();
    for ((path, name), len) in &all {
        if *len > LIMIT && !listed.contains(&(path.clone(), name.clone())) {
            problems.push(format!(
                "{path} `{name}`: {len} lines, not in ARCHITECTURE.md's Longest functions"
            ));
        }
    }
    for (path, name) in &listed {
        match all.get(&(path.clone(), name.clone())) {
            None => problems.push(format!("listed {path} `{name}` does not exist")),
            Some(len) if *len <= LIMIT => problems.push(format!(
                "listed {path} `{name}` is {len} lines now: take it off the list"
            )),
            Some(_) => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lengths_are_measured_on_rustfmt_layout() {
    let text = "fn a() {\n    x();\n}\n\npub(crate) const fn b() -> u8 { 1 }\n\nimpl X {\n    pub fn c(\n        y: u8,\n    ) -> u8 {\n        y\n    }\n}\ntrait T {\n    fn d(&self);\n}\n";
    assert_eq!(
        lengths(text),
        vec![("a".into(), 3), ("b".into(), 1), ("c".into(), 5)]
    );
}
