//! The layering ARCHITECTURE.md's code map states is the layering the code has: each
//! module of `src/` names (as `crate::<module>`, outside its `mod tests`) only the crate
//! modules its row's last column lists. A new import across layers fails here until the
//! table says why it is allowed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The crate's top-level modules: the files and folders of `src/` (less main and lib).
fn modules(src: &Path) -> BTreeSet<String> {
    std::fs::read_dir(src)
        .expect("src/")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let m = name.strip_suffix(".rs").unwrap_or(&name).to_string();
            (m != "main" && m != "lib").then_some(m)
        })
        .collect()
}

/// Module → the crate modules it may name, from ARCHITECTURE.md's code map (rows whose
/// first cell names `src/...`; several rows of one module add up).
fn allowed(architecture: &str, modules: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in architecture.lines().filter(|l| l.starts_with("| `src/")) {
        let cells: Vec<&str> = line.split('|').collect();
        let (first, last) = (cells[1], cells[cells.len() - 2]);
        // Crate modules come before a `;` (external crates after it); a word is a module
        // only when the crate has one by that name.
        let names: BTreeSet<String> = last
            .split(';')
            .next()
            .unwrap_or_default()
            .split(',')
            .filter_map(|w| {
                let word: String = w
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                modules.contains(&word).then_some(word)
            })
            .collect();
        for path in first.split('`').skip(1).step_by(2) {
            if let Some(rest) = path.strip_prefix("src/") {
                let module = rest
                    .split(['/', '.'])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                if module != "main" && module != "lib" {
                    out.entry(module).or_default().extend(names.iter().cloned());
                }
            }
        }
    }
    out
}

/// The crate modules a source text names: `crate::x`, `crate::{x, y::z}`; comments and
/// the trailing `mod tests` are left out, and `crate::Severity` is the `severity` module.
fn named(text: &str) -> BTreeSet<String> {
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let code: String = code
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group, at depth 0.
            let mut depth = 0;
            let mut word = String::new();
            let mut at_start = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_start = true,
                    c if depth == 0 && at_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        word.push(c)
                    }
                    _ => {
                        if !word.is_empty() {
                            out.insert(std::mem::take(&mut word));
                        }
                        if !c.is_whitespace() {
                            at_start = false;
                        }
                    }
                }
            }
            if !word.is_empty() {
                out.insert(word);
            }
        } else {
            let word: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            out.insert(word);
        }
    }
    out.into_iter()
        .map(|w| {
            if w == "Severity" {
                "severity".to_string()
            } else {
                w
            }
        })
        .collect()
}

/// Every `.rs` file under `dir`.
fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("dir").filter_map(|e| e.ok()) {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// What each module names, and where.
fn dependencies(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut all = Vec::new();
    files(src, &mut all);
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for path in all {
        let rel = path.strip_prefix(src).expect("under src");
        let module = rel
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_string()
            })
            .unwrap_or_default();
        if module == "main" || module == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        for dep in named(&text) {
            if dep != module {
                out.entry(module.clone())
                    .or_default()
                    .entry(dep)
                    .or_insert_with(|| path.display().to_string());
            }
        }
    }
    out
}

/// The violations of `allowed` by `deps`.
fn violations(
    deps: &BTreeMap<String, BTreeMap<String, String>>,
    allowed: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut bad = Vec::new();
    for (module, names) in deps {
        let ok = allowed.get(module);
        for (dep, at) in names {
            if !ok.is_some_and(|ok| ok.contains(dep)) {
                bad.push(format!(
                    "{module} names crate::{dep} ({at}), which ARCHITECTURE.md's row for src/{module} does not allow"
                ));
            }
        }
    }
    bad
}

#[test]
fn imports_follow_the_layers_architecture_states() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mods = modules(&src);
    let arch = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let allowed = allowed(&arch, &mods);
    for m in &mods {
        assert!(
            allowed.contains_key(m),
            "src/{m} has no row in ARCHITECTURE.md's code map"
        );
    }
    let bad = violations(&dependencies(&src), &allowed);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// The check itself: a forbidden import is caught, grouped imports and comments are read
/// right, tests do not count.
#[test]
fn layering_check_catches_a_forbidden_import() {
    let text = "use crate::{plan::{Plan, Role}, sizing};\n// crate::ui\nfn f() { crate::report::x(); crate::Severity::Error; }\n#[cfg(test)]\nmod tests { use crate::cli; }\n";
    assert_eq!(
        named(text),
        ["plan", "report", "severity", "sizing"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let mods: BTreeSet<String> = ["plan", "sizing", "report", "severity", "ui"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let arch = "| `src/sizing/` | x | plan, severity; serde |\n| `src/plan/` | x | — |\n";
    let allowed = allowed(arch, &mods);
    let deps: BTreeMap<String, BTreeMap<String, String>> = [(
        "sizing".to_string(),
        named(text)
            .into_iter()
            .filter(|d| d != "sizing")
            .map(|d| (d, "f.rs".to_string()))
            .collect(),
    )]
    .into_iter()
    .collect();
    assert_eq!(
        violations(&deps, &allowed),
        [
            "sizing names crate::report (f.rs), which ARCHITECTURE.md's row for src/sizing does not allow"
        ]
    );
}
