//! Structure never depends on strings (issue 8): a plan whose text holds anything an
//! attacker would put there either is refused at that field, or gives a bundle whose
//! files differ from the same plan with plain text only inside quoted values.
//!
//! * `hostile_text_is_refused_at_its_field_or_changes_only_quoted_values` (proptest):
//!   strings from a hostile alphabet (quotes of both kinds, `$()`, backticks, `{{ }}`,
//!   `{% %}`, `%`, `#`, `;`, `-->`, `/`, every Unicode line break and space, bidi and
//!   zero-width controls, YAML keywords) in every free-text field. Each file is compared
//!   with the plain plan's by its syntax: YAML and JSON as trees (same keys, same types,
//!   only string values may differ), line-based files line by line where only quoted
//!   regions and comments may differ (shell: `'…'`/`$'…'` only — a double-quoted region
//!   is code), Markdown with the name's escaped forms masked. Every script passes
//!   `bash -n`; no line holds a Unicode line break; plan.yaml reads back as the plan.
//! * `shell_injection_no_script_runs_an_injected_command`: every script of bundles with
//!   hostile names runs inside the sandbox, on a throw-away overlay of the root
//!   filesystem, with the commands that reach outside it stubbed; a canary command in
//!   the name must never run.

#[path = "support/bundles.rs"]
mod bundles;
#[path = "support/props.rs"]
mod props;
#[path = "support/sandbox.rs"]
mod sandbox;

use proptest::prelude::*;
use proptest::sample::select;
use sandbox::{Sandbox, output_text, tool};
use synapse_planner::bundle::File;
use synapse_planner::plan::{self, Plan, RawPlan, YamlStyle};
use synapse_planner::syntax::{markdown, shell};

/// Pieces of hostile text: every quote and expansion of the bundle's syntaxes, every
/// Unicode line break and space, bidi and zero-width controls, YAML's keywords and
/// indicators, and the injections issue 8 found.
const ATOMS: &[&str] = &[
    "'",
    "\"",
    "$(",
    ")",
    "`",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "%",
    "#",
    ";",
    "-->",
    "<!--",
    "/",
    "\\",
    "\n",
    "\r",
    "\r\n",
    "\u{0B}",
    "\u{0C}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    " ",
    "\t",
    "\u{A0}",
    "\u{2003}",
    "\u{3000}",
    "\u{202E}",
    "\u{2066}",
    "\u{200F}",
    "\u{200B}",
    "\u{FEFF}",
    "\u{0}",
    "x",
    "é",
    "名",
    "😀",
    "&",
    "<",
    ">",
    "|",
    "=",
    ":",
    ",",
    "[",
    "]",
    "@",
    "+",
    "-",
    "*",
    "!",
    "~",
    "?",
    "^",
    "$HOME",
    "${x}",
    "%h",
    "%%",
    "'; pwned 1; '",
    "\"; pwned 2; \"",
    "$(pwned 3)",
    "`pwned 4`",
    "/O=evil/CN=x",
    "+CN=y",
    "true",
    "null",
    "on",
    "No",
    "~",
    "1e3",
    "0x1F",
    "- ",
    ": ",
    " #",
    "---",
    "...",
    "[all:vars]",
    "ansible_ssh_common_args=-oProxyCommand=pwned",
    "{{ lookup('pipe', 'pwned 5') }}",
];

/// Valid but YAML-ish values for the strict fields: words a YAML reader types, numbers.
fn yamlish(field: &str) -> Vec<&'static str> {
    match field {
        "domain" => vec![
            "on.example",
            "true.no",
            "1.2e3",
            "null.null",
            "0x1f.example",
            "y.n",
        ],
        "network.internal-domain" => vec!["on", "true", "null", "no", "1e3", "y", "0x1f"],
        "network.interface" => vec!["on", "true", "null", "1e3", "0x1F", "y"],
        "ops.email" => vec!["on@true.no", "null@1.2e3", "1e3@y.n"],
        "ops.smtp-smarthost" => vec!["on:25", "true.no:587", "1.2e3:25", "null:2525"],
        "synapse.per-cache-factors" => vec![
            "true: 2",
            "on: 2\nOff: 3",
            "No: 2\nNULL: 3",
            "null: 2",
            "y: 2\nn: 3",
            "*stateGroupCache*: 2",
        ],
        _ => vec![],
    }
}

/// The free-text fields and the hostile or tricky text for each.
fn case() -> impl Strategy<Value = (&'static str, String)> {
    const FIELDS: &[&str] = &[
        "name",
        "domain",
        "network.internal-domain",
        "network.interface",
        "network.subnet",
        "network.vip",
        "ops.email",
        "ops.smtp-smarthost",
        "synapse.per-cache-factors",
    ];
    let hostile = proptest::collection::vec(select(ATOMS), 1..10).prop_map(|v| v.concat());
    (
        select(FIELDS),
        hostile,
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(field, text, i, tricky)| {
            let options = yamlish(field);
            let text = if field == "synapse.per-cache-factors" && !tricky {
                format!("{text}: 2")
            } else if tricky && !options.is_empty() {
                i.get(&options).to_string()
            } else {
                text
            };
            (field, text)
        })
}

/// How a file is compared, from its path.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Family {
    Yaml,
    Json,
    Markdown,
    /// bash: `'…'` and `$'…'` are inert; `"…"` is code.
    Shell,
    /// HAProxy: `'…'` is inert; `"…"` expands `$VAR`.
    Haproxy,
    /// systemd units: `"…"` with C escapes is inert.
    Systemd,
    /// Environment files: `'…'` is inert.
    Env,
    Sql,
    Python,
    /// Everything else: only comment lines may differ.
    Lines,
}

fn family(path: &str) -> Family {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.ends_with(".yml") || name.ends_with(".yaml") {
        Family::Yaml
    } else if name.ends_with(".json") {
        Family::Json
    } else if name.ends_with(".md") {
        Family::Markdown
    } else if name.ends_with(".sh") {
        Family::Shell
    } else if name == "haproxy.cfg" {
        Family::Haproxy
    } else if name.ends_with(".service")
        || name.ends_with(".timer")
        || path.contains("/etc/systemd/")
    {
        Family::Systemd
    } else if path.contains("/etc/default/") || name.ends_with(".env") {
        Family::Env
    } else if name.ends_with(".sql") {
        Family::Sql
    } else if name.ends_with(".py") {
        Family::Python
    } else {
        Family::Lines
    }
}

/// A line as the parts that must be equal, with each quoted region or comment (whose
/// content may differ) as one marker.
fn structure(line: &str, fam: Family) -> String {
    const FREE: char = '\u{E000}';
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    let comment_markers: &[&str] = match fam {
        Family::Sql => &["--"],
        Family::Markdown | Family::Yaml | Family::Json => &[],
        Family::Lines | Family::Systemd => &["#", ";"],
        _ => &["#"],
    };
    if let Some(m) = comment_markers.iter().find(|m| trimmed.starts_with(**m)) {
        return format!("{indent}{m}{FREE}");
    }
    let mut out = String::new();
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let at_word_start = |i: usize| i == 0 || chars[i - 1].is_whitespace();
    while i < chars.len() {
        let c = chars[i];
        // A region from an opening quote to its closing one; `escapes`: `\` escapes the
        // next character; `doubled`: a doubled quote stays inside.
        let region = |open: usize, quote: char, escapes: bool, doubled: bool| -> usize {
            let mut j = open;
            while j < chars.len() {
                if escapes && chars[j] == '\\' {
                    j += 2;
                    continue;
                }
                if chars[j] == quote {
                    if doubled && chars.get(j + 1) == Some(&quote) {
                        j += 2;
                        continue;
                    }
                    return j + 1;
                }
                j += 1;
            }
            chars.len()
        };
        let next = match (fam, c) {
            (Family::Shell, '$') if chars.get(i + 1) == Some(&'\'') => {
                Some(region(i + 2, '\'', true, false))
            }
            (Family::Shell | Family::Haproxy | Family::Env, '\'') => {
                Some(region(i + 1, '\'', false, false))
            }
            (Family::Shell | Family::Haproxy | Family::Python, '#') if at_word_start(i) => {
                Some(chars.len())
            }
            (Family::Systemd, '"') => Some(region(i + 1, '"', true, false)),
            (Family::Sql, '\'') => Some(region(i + 1, '\'', false, true)),
            (Family::Sql, '"') => Some(region(i + 1, '"', false, true)),
            (Family::Sql, '-') if chars.get(i + 1) == Some(&'-') => Some(chars.len()),
            (Family::Python, '"' | '\'') => Some(region(i + 1, c, true, false)),
            (Family::Shell, '\\') => {
                out.push(c);
                if let Some(n) = chars.get(i + 1) {
                    out.push(*n);
                }
                i += 2;
                continue;
            }
            _ => None,
        };
        match next {
            Some(end) => {
                out.push(FREE);
                i = end;
            }
            None => {
                out.push(c);
                i += 1;
            }
        }
    }
    if fam == Family::Shell {
        concatenated(&out, FREE)
    } else {
        out
    }
}

/// bash joins adjacent quoted regions and escaped characters into one word
/// (`'it'\''s'`, the single-quote writer's form of a `'`): a run of them with at least
/// one quoted region is one inert value, one marker. A run of escapes alone stays as it is.
fn concatenated(line: &str, free: char) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let mut quoted = false;
        loop {
            match chars.get(i) {
                Some(&c) if c == free => {
                    quoted = true;
                    i += 1;
                }
                Some('\\') if i + 1 < chars.len() => i += 2,
                _ => break,
            }
        }
        if i == start {
            out.push(chars[i]);
            i += 1;
        } else if quoted {
            out.push(free);
        } else {
            out.extend(&chars[start..i]);
        }
    }
    out
}

/// A YAML or JSON tree's shape: keys' and values' types and the nesting, string contents
/// left out.
fn shape(v: &serde_yaml::Value) -> String {
    use serde_yaml::Value as V;
    match v {
        V::Null => "~".into(),
        V::Bool(_) => "b".into(),
        V::Number(_) => "n".into(),
        V::String(_) => "s".into(),
        V::Sequence(items) => format!(
            "[{}]",
            items.iter().map(shape).collect::<Vec<_>>().join(",")
        ),
        V::Mapping(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{}:{}", shape(k), shape(v)))
                .collect::<Vec<_>>()
                .join(",")
        ),
        V::Tagged(t) => format!("{}({})", t.tag, if t.value.is_string() { "s" } else { "?" }),
    }
}

/// Runs `script` with the validators' Python (PyYAML, as Ansible has it), `input` as JSON
/// on its stdin; its stdout, or a panic with its stderr.
fn python(script: &str, input: &impl serde::Serialize) -> Vec<u8> {
    use std::io::Write;
    let python = sandbox::venv().join("bin/python");
    let mut child = std::process::Command::new(&python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e} (scripts/setup.sh validators)", python.display()));
    let json = serde_json::to_vec(input).expect("json");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&json)
        .expect("write");
    let out = child.wait_with_output().expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The same shapes as read by PyYAML (YAML 1.1, the reader of Ansible and Synapse), for
/// many texts in one Python process: `on`, `no`, `y`, `1_000`, `12:30`, dates … are typed
/// there where YAML 1.2 keeps strings. Ansible's `!unsafe` is a tag like any other.
fn pyyaml_shapes(texts: &[&str]) -> Vec<Result<String, String>> {
    const PY: &str = r#"
import json, sys, yaml
class L(yaml.SafeLoader):
    pass
def tagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return ("!" + suffix, loader.construct_scalar(node))
    return ("!" + suffix, None)
L.add_multi_constructor("!", tagged)
def shape(v):
    if isinstance(v, tuple):
        return "%s(%s)" % (v[0], "s" if isinstance(v[1], str) else "?")
    if v is None: return "~"
    if isinstance(v, bool): return "b"
    if isinstance(v, (int, float)): return "n"
    if isinstance(v, str): return "s"
    if isinstance(v, list): return "[" + ",".join(shape(x) for x in v) + "]"
    if isinstance(v, dict): return "{" + ",".join(shape(k) + ":" + shape(x) for k, x in v.items()) + "}"
    return type(v).__name__
out = []
for t in json.load(sys.stdin):
    try:
        out.append({"ok": shape(yaml.load(t, Loader=L))})
    except Exception as e:
        out.append({"err": str(e)})
print(json.dumps(out))
"#;
    let out = python(PY, &texts);
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out)
        .unwrap_or_else(|e| panic!("PyYAML: {e}: {}", String::from_utf8_lossy(&out)));
    v.into_iter()
        .map(|r| match (r.get("ok"), r.get("err")) {
            (Some(s), _) => Ok(s.as_str().unwrap_or_default().to_string()),
            (_, e) => Err(e.map(|e| e.to_string()).unwrap_or_default()),
        })
        .collect()
}

/// The YAML files of two bundles read by PyYAML (one Python process for all): each pair
/// must give the same tree shape.
fn compare_pyyaml(pairs: &[(&File, &File)]) -> Result<(), String> {
    let yaml: Vec<&(&File, &File)> = pairs
        .iter()
        .filter(|(h, _)| family(&h.path) == Family::Yaml)
        .collect();
    let texts: Vec<&str> = yaml
        .iter()
        .flat_map(|(h, p)| [h.contents.as_str(), p.contents.as_str()])
        .collect();
    let shapes = pyyaml_shapes(&texts);
    for (i, (h, _)) in yaml.iter().enumerate() {
        let (a, b) = (&shapes[2 * i], &shapes[2 * i + 1]);
        if a.is_err() || a != b {
            return Err(format!(
                "{}: PyYAML reads another tree:\n{a:?}\n{b:?}",
                h.path
            ));
        }
    }
    Ok(())
}

/// The lines that are comments, by position.
fn comment_lines(text: &str) -> Vec<bool> {
    text.lines()
        .map(|l| l.trim_start().starts_with('#'))
        .collect()
}

/// Compares one file of the hostile plan's bundle (`h`) with the plain plan's (`p`).
/// `lines`: compare line by line too (the plain plan differs only in the name, so every
/// line outside quoted values and comments is the same); otherwise (another field, whose
/// plain comparison is the default plan) the trees, line counts and line breaks.
fn compare(h: &File, p: &File, encodings: &[(String, String)], lines: bool) -> Result<(), String> {
    let fam = family(&h.path);
    let breaks = ['\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{2028}', '\u{2029}'];
    if let Some(c) = h.contents.chars().find(|c| breaks.contains(c)) {
        return Err(format!("{}: holds the line break {:?}", h.path, c));
    }
    let (hl, pl): (Vec<&str>, Vec<&str>) =
        (h.contents.lines().collect(), p.contents.lines().collect());
    if hl.len() != pl.len() {
        return Err(format!(
            "{}: {} lines, the plain plan's has {}",
            h.path,
            hl.len(),
            pl.len()
        ));
    }
    match fam {
        Family::Yaml | Family::Json => {
            if comment_lines(&h.contents) != comment_lines(&p.contents) {
                return Err(format!("{}: comment lines moved", h.path));
            }
            let parse = |f: &File| -> Result<serde_yaml::Value, String> {
                serde_yaml::from_str(&f.contents)
                    .map_err(|e| format!("{}: not one YAML document: {e}", f.path))
            };
            let (th, tp) = (parse(h)?, parse(p)?);
            if shape(&th) != shape(&tp) {
                return Err(format!(
                    "{}: the tree changed shape:\n{}\n{}",
                    h.path,
                    shape(&th),
                    shape(&tp)
                ));
            }
        }
        _ if lines => {
            for (i, (a, b)) in hl.iter().zip(&pl).enumerate() {
                let same = if fam == Family::Markdown {
                    let comment = |l: &str| l.starts_with("<!--") && l.ends_with("-->");
                    (comment(a) && comment(b)) || aligned(a, b, encodings)
                } else {
                    structure(a, fam) == structure(b, fam)
                };
                if !same {
                    return Err(format!(
                        "{} line {}: differs outside quoted values:\n  {a:?}\n  {b:?}",
                        h.path,
                        i + 1
                    ));
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every form in which a name may appear in Markdown, for the hostile and the plain name.
fn markdown_encodings(hostile: &str, plain: &str) -> Vec<(String, String)> {
    let forms: [fn(&str) -> String; 3] = [markdown::text, markdown::code, shell::quote];
    forms.iter().map(|f| (f(hostile), f(plain))).collect()
}

/// Is `h` the line `p` with some encodings of the plain name replaced by the same
/// encodings of the hostile one (and nothing else changed)?
fn aligned(h: &str, p: &str, encodings: &[(String, String)]) -> bool {
    if h == p {
        return true;
    }
    encodings.iter().any(|(eh, ep)| {
        !eh.is_empty()
            && h.match_indices(eh.as_str()).any(|(i, _)| {
                let before = &h[..i];
                p.strip_prefix(before)
                    .and_then(|rest| rest.strip_prefix(ep.as_str()))
                    .is_some_and(|rest| aligned(&h[i + eh.len()..], rest, encodings))
            })
    })
}

/// `bash -n` on every script of a bundle, in one bash process per script.
fn bash_syntax(files: &[File]) -> Result<(), String> {
    for f in files
        .iter()
        .filter(|f| family(&f.path) == Family::Shell || f.mode == 0o755)
    {
        let out = std::process::Command::new("bash")
            .args(["-n", "/dev/stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                let mut stdin = child.stdin.take().expect("stdin");
                stdin.write_all(f.contents.as_bytes())?;
                drop(stdin);
                child.wait_with_output()
            })
            .map_err(|e| format!("bash: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{}: bash -n: {}",
                f.path,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    Ok(())
}

/// The same plan with plain text in `field`: a value of the field's kind that no reader
/// can mistake (and, for the cache factors, as many entries with the same factors).
fn plain_of(plan: &Plan, field: &str) -> Plan {
    let text = match field {
        "name" => "PlainName7".to_string(),
        "domain" => "plain.example".into(),
        "network.internal-domain" => "plainsuffix".into(),
        "network.interface" => "plain0".into(),
        "ops.email" => "plain@plain.example".into(),
        "ops.smtp-smarthost" => "plain.example:25".into(),
        "synapse.per-cache-factors" => plan
            .synapse
            .per_cache_factors
            .values()
            .enumerate()
            .map(|(i, f)| format!("plain_cache_{i}: {f}"))
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("no plain value for {other}"),
    };
    plan.with_text(field, &text)
        .unwrap_or_else(|e| panic!("{field} = {text:?}: {e:?}"))
}

fn check(field: &str, text: &str) -> Result<(), TestCaseError> {
    let mut raw = RawPlan::default();
    raw.set(field, text);
    let v = plan::validate(&raw);
    let Some(hostile) = v.plan else {
        // Refused: every error is at the field that holds the text.
        for p in v.errors() {
            prop_assert_eq!(&p.path, field, "{:?} refused elsewhere: {}", text, p);
        }
        prop_assert!(v.errors().count() > 0);
        return Ok(());
    };
    let plain = plain_of(&hostile, field);
    let (hb, pb) = (bundles::bundle(&hostile), bundles::bundle(&plain));
    // The same files in the same order and modes; their paths too, unless the field
    // names them (the server name is a directory of the inventory).
    prop_assert_eq!(hb.len(), pb.len(), "{:?}: another number of files", text);
    for (h, p) in hb.iter().zip(&pb) {
        prop_assert_eq!(h.mode, p.mode, "{}", h.path);
        if field == "name" {
            prop_assert_eq!(&h.path, &p.path);
        }
    }
    let encodings = markdown_encodings(&hostile.name, &plain.name);
    for (h, p) in hb.iter().zip(&pb) {
        compare(h, p, &encodings, field == "name")
            .map_err(|e| TestCaseError::fail(format!("{field} = {text:?}: {e}")))?;
    }
    let pairs: Vec<(&File, &File)> = hb.iter().zip(&pb).collect();
    compare_pyyaml(&pairs).map_err(|e| TestCaseError::fail(format!("{field} = {text:?}: {e}")))?;
    bash_syntax(&hb).map_err(|e| TestCaseError::fail(format!("{field} = {text:?}: {e}")))?;
    // The bundle's plan.yaml is the plan.
    let plan_yaml = bundles::file(&hb, "plan.yaml");
    prop_assert_eq!(
        plan::from_yaml(&plan_yaml.contents).validate().plan,
        Some(hostile.clone())
    );
    prop_assert_eq!(
        plan::from_yaml(&plan::to_yaml(&hostile, YamlStyle::Full))
            .validate()
            .plan,
        Some(hostile)
    );
    Ok(())
}

proptest! {
    #![proptest_config(props::config(64))]

    #[test]
    fn hostile_text_is_refused_at_its_field_or_changes_only_quoted_values((field, text) in case()) {
        check(field, &text)?;
    }
}

/// Inputs the property test once shrank to, kept so they run on every run.
#[test]
fn hostile_text_found_by_the_property_test() {
    let cases: &[(&str, &str)] = &[
        // A quote in a name inside a single-quoted shell word: the writer closes the
        // word, escapes the quote and reopens it ('\''), one word for bash.
        ("name", "'; pwned 1; '"),
    ];
    for (field, text) in cases {
        if let Err(e) = check(field, text) {
            panic!("{field} = {text:?}: {e}");
        }
    }
}

/// The comparison itself catches what it must: a value spliced into code.
#[test]
fn hostile_comparison_catches_a_splice() {
    let file = |path: &str, contents: &str| File {
        path: path.into(),
        scope: synapse_planner::bundle::Scope::Control,
        host: None,
        mode: 0o755,
        about: String::new(),
        contents: contents.into(),
        source: "tests/hostile.rs",
    };
    let no: &[(String, String)] = &[];
    for (path, hostile, plain, ok) in [
        ("a.sh", "x='a b'\n", "x='plain'\n", true),
        ("a.sh", "x=\"$(pwned)\"\n", "x=\"plain\"\n", false),
        ("a.sh", "# plan \"$(x)\"\n", "# plan \"plain\"\n", true),
        ("a.sh", "x=a;b\n", "x=plain\n", false),
        ("a.yml", "k: 'on'\n", "k: x\n", true),
        ("a.yml", "k: on\n", "k: x\n", false),
        ("a.yml", "k: x\nj: 1\n", "k: x\n", false),
        ("a.yml", "# a\nk: 1\n", "k: 1\n# a\n", false),
        ("haproxy.cfg", "  bind 'a#b'\n", "  bind 'x'\n", true),
        ("haproxy.cfg", "  bind \"$x\"\n", "  bind \"y\"\n", false),
        ("x/etc/default/y", "A='1 2'\n", "A='x'\n", true),
        ("x.conf", "a = b # c\n", "a = b\n", false),
        ("x.conf", "k=\u{2028}\n", "k=x\n", false),
    ] {
        let (h, p) = (file(path, hostile), file(path, plain));
        let r = compare(&h, &p, no, true).and_then(|()| compare_pyyaml(&[(&h, &p)]));
        assert_eq!(r.is_ok(), ok, "{path}: {hostile:?} vs {plain:?}: {r:?}");
    }
}

// ---------------------------------------------------------------------------------
// Scripts run in the sandbox

/// Commands that would reach past the throw-away filesystem (the host's services,
/// kernel-wide settings, disks, the network, other machines) or wait for them: each is a
/// stub that logs its arguments and succeeds.
const STUBS: &[&str] = &[
    "systemctl",
    "service",
    "journalctl",
    "apt-get",
    "apt",
    "dpkg",
    "dpkg-reconfigure",
    "sysctl",
    "swapoff",
    "swapon",
    "mount",
    "umount",
    "modprobe",
    "hostname",
    "hostnamectl",
    "timedatectl",
    "reboot",
    "shutdown",
    "ssh",
    "scp",
    "rsync",
    "ssh-keyscan",
    "curl",
    "wget",
    "sleep",
    "chronyc",
    "certbot",
    "patronictl",
    "patroni",
    "etcdctl",
    "psql",
    "pg_isready",
    "pg_dump",
    "pg_restore",
    "pgbackrest",
    "mc",
    "minio",
    "docker",
    "ansible",
    "ansible-playbook",
    "ip",
    "iptables",
    "nft",
    "ufw",
    "mkfs",
    "mkfs.xfs",
    "mkfs.ext4",
    "wipefs",
    "parted",
    "sgdisk",
    "blkid",
    "blockdev",
    "tune2fs",
    "keepalived",
    "haproxy",
    "pgbouncer",
    "postgres",
    "pg_ctl",
    "pg_ctlcluster",
    "pg_createcluster",
    "runuser",
    "su",
    "sudo",
    "crontab",
    "redis-server",
    "redis-cli",
    "turnserver",
    "livekit-server",
    "nc",
    "rclone",
    "update-ca-certificates",
    "useradd",
    "groupadd",
    "usermod",
    "chown",
    "setfacl",
    "restorecon",
    "promtool",
    "amtool",
    "grafana-server",
    "ping",
    "dig",
    "host",
    "getent",
    "watch",
    "timeout",
];

/// Plan names that would run `pwned` if spliced anywhere a shell, Ansible, OpenSSL or a
/// template reads code.
const HOSTILE_NAMES: &[&str] = &[
    "x$(pwned 1)`pwned 2`",
    "a'; pwned 3; 'b\"; pwned 4; \"c",
    "{{ lookup('pipe', 'pwned 5') }} {% raw %}%h%%$HOME${x}\\",
    "/O=evil+CN=x; pwned 6 # -->[all:vars]",
];

#[test]
fn shell_injection_no_script_runs_an_injected_command() {
    tool("unshare");
    for name in HOSTILE_NAMES {
        let plan = Plan::default()
            .with_text("name", name)
            .unwrap_or_else(|e| panic!("{name:?} refused: {e:?}"));
        let files = bundles::bundle(&plan);
        bash_syntax(&files).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        let sb = Sandbox::new("hostile-scripts");
        let mut scripts = Vec::new();
        for f in &files {
            sb.write(&format!("bundle/{}", f.path), &f.contents);
            if family(&f.path) == Family::Shell || f.mode == 0o755 {
                scripts.push(f.path.clone());
            }
        }
        let stubs: String = STUBS
            .iter()
            .map(|s| format!("printf '#!/bin/sh\\necho \"{s} $*\" >> /stub.log\\nexit 0\\n' > $R/stubs/{s}\nchmod 755 $R/stubs/{s}\n"))
            .collect();
        let runs: String = scripts
            .iter()
            .map(|s| {
                format!(
                    "echo \"== {s}\"\nchroot $R /bin/bash -c 'cd /bundle && PATH=/stubs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /usr/bin/timeout 60 bash \"$1\" </dev/null >/dev/null 2>&1; echo \"exit=$?\"' _ {q}\n",
                    q = shell::quote(s)
                )
            })
            .collect();
        let d = sb.dir().display().to_string();
        let script = format!(
            r#"set -e
R={d}/ov/root
mkdir -p {d}/ov
mount -t tmpfs tmpfs {d}/ov
mkdir -p {d}/ov/upper {d}/ov/work $R {d}/canary
mount -t overlay overlay -o lowerdir=/,upperdir={d}/ov/upper,workdir={d}/ov/work $R
mount -t proc proc $R/proc
mount --bind $R/proc/sys $R/proc/sys
mount -o remount,ro,bind $R/proc/sys
mount -t tmpfs tmpfs $R/dev
for n in null zero random urandom tty; do touch $R/dev/$n; mount --bind /dev/$n $R/dev/$n; done
mount -t tmpfs tmpfs $R/tmp
mount -t tmpfs tmpfs $R/run
mount -t tmpfs tmpfs $R/sys
mkdir -p $R/bundle $R/stubs $R/canary
cp -a {d}/bundle/. $R/bundle/
mount --bind {d}/canary $R/canary
{stubs}printf '#!/bin/sh\necho "$*" >> /canary/pwned\nexit 0\n' > $R/stubs/pwned
chmod 755 $R/stubs/pwned
set +e
{runs}echo "== done"
ls -A $R/tmp | grep -i pwn && echo "tmp-canary=yes"
cat {d}/canary/pwned 2>/dev/null && echo "canary=yes"
true
"#
        );
        let out = sb.run(&format!("unshare --uts bash -c {}", shell::quote(&script)));
        let text = output_text(&out);
        assert!(
            text.contains("== done"),
            "{name:?}: the harness did not finish:\n{text}"
        );
        assert!(
            !text.contains("canary=yes"),
            "{name:?}: an injected command ran:\n{text}"
        );
        assert!(
            !text.contains("tmp-canary=yes"),
            "{name:?}: an injected file appeared:\n{text}"
        );
        // Every script started (bash found and read it).
        let started = text.matches("exit=").count();
        assert_eq!(started, scripts.len(), "{name:?}:\n{text}");
        assert!(scripts.len() >= 20, "{} scripts", scripts.len());
        eprintln!(
            "{name:?}: {} scripts ran, no injected command",
            scripts.len()
        );
    }
}

// ---------------------------------------------------------------------------------
// Regression tests, one per class of issue 8

const LINE_BREAKS: &[char] = &[
    '\n', '\u{0B}', '\u{0C}', '\r', '\u{85}', '\u{2028}', '\u{2029}',
];

#[test]
fn unicode_line_breaks_in_a_name_are_refused_at_the_field() {
    for &c in LINE_BREAKS.iter().chain(&[
        '\u{202E}', '\u{2066}', '\u{200B}', '\u{FEFF}', '\t', '\u{A0}',
    ]) {
        let name = format!("a{c}b: 1");
        let mut raw = RawPlan::default();
        raw.set("name", &name);
        let v = plan::validate(&raw);
        let errors: Vec<String> = v
            .errors()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        assert_eq!(errors.len(), 1, "{c:?}: {errors:?}");
        assert!(
            errors[0].starts_with("name: Plan name contains ")
                && errors[0].contains(&format!("U+{:04X}", c as u32)),
            "{c:?}: {errors:?}"
        );
    }
}

/// Defense in depth: even a plan that skipped validation (a name with every line break,
/// `-->` and bidi controls) cannot add a line to any file, because the writers escape or
/// replace what the syntax cannot hold.
#[test]
fn unicode_line_breaks_never_reach_an_output_line() {
    let name: String = LINE_BREAKS
        .iter()
        .map(|c| format!("x{c}k: v"))
        .collect::<String>()
        + " --> \u{202E}[all:vars]";
    let hostile = Plan {
        name,
        ..Plan::default()
    };
    let plain = Plan {
        name: "PlainName7".into(),
        ..Plan::default()
    };
    let (hb, pb) = (bundles::bundle(&hostile), bundles::bundle(&plain));
    let encodings = markdown_encodings(&hostile.name, &plain.name);
    for (h, p) in hb.iter().zip(&pb) {
        assert_eq!(h.path, p.path);
        compare(h, p, &encodings, true).unwrap_or_else(|e| panic!("{e}"));
    }
    let pairs: Vec<(&File, &File)> = hb.iter().zip(&pb).collect();
    compare_pyyaml(&pairs).unwrap_or_else(|e| panic!("{e}"));
    for f in &hb {
        assert!(
            !f.contents.contains(&LINE_BREAKS[1..]),
            "{} holds a line break",
            f.path
        );
    }
    let readme = bundles::file(&hb, "README.md");
    assert!(
        readme
            .contents
            .lines()
            .next()
            .unwrap_or_default()
            .ends_with(" -->"),
        "{}",
        readme.contents
    );
    assert_eq!(
        readme.contents.matches("-->").count(),
        1,
        "the header comment closes once"
    );
}

/// Cache names that YAML 1.1 readers (Ansible, Synapse's loader) take for booleans or
/// null are written quoted: the homeserver config and plan.yaml read them back as the
/// same strings, and none collides with another.
#[test]
fn unquoted_yaml_keys_read_back_as_the_cache_names() {
    let names = [
        "true",
        "null",
        "on",
        "No",
        "NULL",
        "y",
        "Off",
        "yes",
        "get_users_in_room",
    ];
    let lines: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{n}: {}.5", i + 1))
        .collect();
    let p = Plan::default()
        .with_text("synapse.per-cache-factors", &lines.join("\n"))
        .expect("valid cache names");
    let files = bundles::bundle(&p);
    let vars = bundles::file(
        &files,
        &format!("ansible/inventory/host_vars/{}/vars.yml", p.domain),
    );
    let plan_yaml = bundles::file(&files, "plan.yaml");
    const PY: &str = r#"
import json, sys, yaml
class L(yaml.SafeLoader):
    pass
L.add_multi_constructor("!", lambda loader, suffix, node: loader.construct_scalar(node))
vars_text, plan_text = json.load(sys.stdin)
ext = yaml.load(yaml.load(vars_text, Loader=L)["matrix_synapse_configuration_extension_yaml"], Loader=L)
plan = yaml.load(plan_text, Loader=L)
print(json.dumps([
    [[type(k).__name__, k, v] for k, v in ext["caches"]["per_cache_factors"].items()],
    [[type(k).__name__, k, v] for k, v in plan["synapse"]["per-cache-factors"].items()],
]))
"#;
    let out = python(PY, &[&vars.contents, &plan_yaml.contents]);
    let read: Vec<Vec<(String, String, f64)>> = serde_json::from_slice(&out).expect("json");
    for (what, entries) in ["homeserver extension", "plan.yaml"].iter().zip(&read) {
        let mut got: Vec<(String, f64)> = entries
            .iter()
            .map(|(ty, k, v)| {
                assert_eq!(ty, "str", "{what}: {k} read as {ty}");
                (k.clone(), *v)
            })
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        let mut want: Vec<(String, f64)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), i as f64 + 1.5))
            .collect();
        want.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(got, want, "{what}");
    }
    assert_eq!(
        plan::from_yaml(&plan_yaml.contents).validate().plan,
        Some(p)
    );
}
