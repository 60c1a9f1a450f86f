//! One typed YAML emitter for every YAML file the project writes.
//!
//! A generator builds a tree of [`Node`]s (maps, sequences, typed scalars, comments) and
//! [`Doc::render`] writes it in block style with two-space indentation. The emitter, not
//! the generator, decides how a string is written:
//!
//! * **plain** only when it starts with a letter, `_` or `/`, holds nothing but ASCII
//!   letters, digits and `_ . / - @ +`, and is not one of the words a YAML 1.1 reader
//!   (PyYAML, Ansible, Synapse's loader) or a 1.2 reader (Go's yaml.v3, serde_yaml)
//!   reads as a boolean or null (`y n yes no on off true false null`, any case). Such
//!   a string cannot be a number, a date, a tag, an anchor, an alias, a key marker or a
//!   comment in either version;
//! * otherwise **single-quoted** (`'` doubled) when every character is printable and none
//!   is a line break of either version;
//! * otherwise **double-quoted** with escapes (`\n`, `\L`, `\P`, `\N`, `\xHH`, `\uHHHH`).
//!
//! Keys follow the same rule. Numbers are written from Rust numbers (a float always
//! with a `.`), booleans as `true`/`false`. Multi-line text the generator authors
//! (embedded YAML, scripts) can be a literal block (`|`); it falls back to a
//! double-quoted scalar when its content could not survive a block. For Ansible
//! ([`Dialect::Ansible`]), a string or block holding Jinja syntax (`{{`, `{%`, `{#`) is tagged
//! `!unsafe` so Ansible never evaluates it; [`Node::Template`] is the one way to write a
//! Jinja expression on purpose (a generator's own `"{{ vault_… }}"`).
//!
//! Comments are [`comment`](super::comment) lines: one line each, never a value.

use super::{REPLACEMENT, is_invisible_or_break};
use std::fmt::Write;

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    /// Always written with a decimal point (or `.inf`/`.nan`), so it reads as a float.
    Float(f64),
    /// A string: quoted as needed, never read back as anything else.
    Str(String),
    /// A Jinja template the generator wrote on purpose (`{{ vault_x }}`): quoted, and
    /// left for Ansible to evaluate. Outside [`Dialect::Ansible`] it is a plain string.
    Template(String),
    /// Multi-line text as a literal block scalar (`|`).
    Block(String),
    Seq(Seq),
    Map(Map),
}

/// A line before an entry or an item: blank, or a comment.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    Blank,
    Comment(String),
}

/// A mapping, in insertion order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map {
    entries: Vec<Entry>,
    /// Lines waiting for the next entry (or, at the end, closing the map).
    pending: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Node,
    pub before: Vec<Line>,
    /// A comment on the same line, after a scalar value (or after `key:` for a
    /// collection).
    pub trailing: Option<String>,
}

/// A sequence.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Seq {
    items: Vec<Item>,
    pending: Vec<Line>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub value: Node,
    pub before: Vec<Line>,
}

/// Which reader the document is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Plain,
    /// Read by Ansible, which evaluates Jinja in every string value.
    Ansible,
}

/// A whole file: header comments, an optional `---`, and the root node.
#[derive(Clone, Debug, PartialEq)]
pub struct Doc {
    /// Comment lines at the top (the provenance header, what the file is for).
    pub header: Vec<Line>,
    /// Write `---` after the header.
    pub start: bool,
    pub root: Node,
    pub dialect: Dialect,
}

impl From<&str> for Node {
    fn from(s: &str) -> Node {
        Node::Str(s.to_string())
    }
}
impl From<String> for Node {
    fn from(s: String) -> Node {
        Node::Str(s)
    }
}
impl From<&String> for Node {
    fn from(s: &String) -> Node {
        Node::Str(s.clone())
    }
}
impl From<bool> for Node {
    fn from(b: bool) -> Node {
        Node::Bool(b)
    }
}
impl From<u64> for Node {
    fn from(n: u64) -> Node {
        Node::UInt(n)
    }
}
impl From<u32> for Node {
    fn from(n: u32) -> Node {
        Node::UInt(n.into())
    }
}
impl From<u16> for Node {
    fn from(n: u16) -> Node {
        Node::UInt(n.into())
    }
}
impl From<usize> for Node {
    fn from(n: usize) -> Node {
        Node::UInt(n as u64)
    }
}
impl From<i64> for Node {
    fn from(n: i64) -> Node {
        Node::Int(n)
    }
}
impl From<i32> for Node {
    fn from(n: i32) -> Node {
        Node::Int(n.into())
    }
}
impl From<f64> for Node {
    fn from(x: f64) -> Node {
        Node::Float(x)
    }
}
impl From<Map> for Node {
    fn from(m: Map) -> Node {
        Node::Map(m)
    }
}
impl From<Seq> for Node {
    fn from(s: Seq) -> Node {
        Node::Seq(s)
    }
}
impl<T: Into<Node>> From<Option<T>> for Node {
    fn from(v: Option<T>) -> Node {
        v.map_or(Node::Null, Into::into)
    }
}
impl<T: Into<Node>> From<Vec<T>> for Node {
    fn from(v: Vec<T>) -> Node {
        Node::Seq(v.into_iter().collect())
    }
}

impl<T: Into<Node>> FromIterator<T> for Seq {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Seq {
        let mut s = Seq::new();
        for v in iter {
            s.push(v);
        }
        s
    }
}

/// Comment text as lines: a generator's multi-line comment is split at `\n`.
fn comment_lines(text: &str) -> impl Iterator<Item = Line> + '_ {
    text.split('\n').map(|l| Line::Comment(l.to_string()))
}

impl Map {
    pub fn new() -> Map {
        Map::default()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Appends `key: value` and returns the entry (to add a trailing comment).
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<Node>) -> &mut Entry {
        let before = std::mem::take(&mut self.pending);
        self.entries.push(Entry {
            key: key.into(),
            value: value.into(),
            before,
            trailing: None,
        });
        let last = self.entries.len() - 1;
        &mut self.entries[last]
    }

    /// `insert`, chained: `Map::new().with("a", 1u64).with("b", "x")`.
    pub fn with(mut self, key: impl Into<String>, value: impl Into<Node>) -> Map {
        self.insert(key, value);
        self
    }

    /// `insert` with a trailing comment, chained.
    pub fn with_note(
        mut self,
        key: impl Into<String>,
        value: impl Into<Node>,
        note: impl Into<String>,
    ) -> Map {
        self.insert(key, value).note(note);
        self
    }

    /// A comment (one line per `\n`) before the next entry.
    pub fn comment(&mut self, text: impl AsRef<str>) -> &mut Map {
        self.pending.extend(comment_lines(text.as_ref()));
        self
    }

    /// `comment`, chained.
    pub fn commented(mut self, text: impl AsRef<str>) -> Map {
        self.comment(text);
        self
    }

    /// A blank line before the next entry.
    pub fn blank(&mut self) -> &mut Map {
        self.pending.push(Line::Blank);
        self
    }

    /// `blank`, chained.
    pub fn spaced(mut self) -> Map {
        self.blank();
        self
    }

    /// The value at `key`, if any (for tests and for generators that adjust a tree).
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }
}

impl Entry {
    /// A comment after the value on the same line.
    pub fn note(&mut self, text: impl Into<String>) -> &mut Entry {
        self.trailing = Some(text.into());
        self
    }
}

impl Seq {
    pub fn new() -> Seq {
        Seq::default()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    pub fn push(&mut self, value: impl Into<Node>) -> &mut Seq {
        let before = std::mem::take(&mut self.pending);
        self.items.push(Item {
            value: value.into(),
            before,
        });
        self
    }

    /// `push`, chained.
    pub fn with(mut self, value: impl Into<Node>) -> Seq {
        self.push(value);
        self
    }

    /// A comment (one line per `\n`) before the next item.
    pub fn comment(&mut self, text: impl AsRef<str>) -> &mut Seq {
        self.pending.extend(comment_lines(text.as_ref()));
        self
    }

    /// A blank line before the next item.
    pub fn blank(&mut self) -> &mut Seq {
        self.pending.push(Line::Blank);
        self
    }
}

impl Doc {
    /// A document with `root` and no header.
    pub fn new(root: impl Into<Node>) -> Doc {
        Doc {
            header: Vec::new(),
            start: false,
            root: root.into(),
            dialect: Dialect::Plain,
        }
    }

    /// Comment lines at the top (one per `\n`); an empty line is a bare `#`.
    pub fn header(mut self, text: impl AsRef<str>) -> Doc {
        let text = text.as_ref();
        let text = text.strip_suffix('\n').unwrap_or(text);
        self.header.extend(comment_lines(text));
        self
    }

    /// Writes `---` after the header.
    pub fn start(mut self) -> Doc {
        self.start = true;
        self
    }

    pub fn ansible(mut self) -> Doc {
        self.dialect = Dialect::Ansible;
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        lines(&mut out, 0, &self.header);
        if self.start {
            out.push_str("---\n");
        }
        let w = Writer {
            dialect: self.dialect,
        };
        match &self.root {
            Node::Map(m) if !m.is_empty() || !m.pending.is_empty() => w.map(&mut out, 0, m),
            Node::Seq(s) if !s.is_empty() || !s.pending.is_empty() => w.seq(&mut out, 0, s),
            // A root scalar is never a block: its lines would sit at column 0, where
            // `---` or `...` would end the document.
            Node::Block(text) => {
                out.push_str(&w.scalar(&Node::Str(text.clone())).unwrap_or_default());
                out.push('\n');
            }
            other => {
                out.push_str(&w.scalar(other).unwrap_or_default());
                out.push('\n');
            }
        }
        out
    }
}

/// Comment and blank lines at `indent`.
fn lines(out: &mut String, indent: usize, lines: &[Line]) {
    for l in lines {
        match l {
            Line::Blank => out.push('\n'),
            Line::Comment(c) => {
                pad(out, indent);
                out.push_str(&super::comment::hash_line(c));
            }
        }
    }
}

fn pad(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

struct Writer {
    dialect: Dialect,
}

impl Writer {
    /// The one-line form of a scalar or an empty collection; `None` for a block or a
    /// non-empty collection.
    fn scalar(&self, node: &Node) -> Option<String> {
        Some(match node {
            Node::Null => "null".to_string(),
            Node::Bool(b) => b.to_string(),
            Node::Int(n) => n.to_string(),
            Node::UInt(n) => n.to_string(),
            Node::Float(x) => float(*x),
            Node::Str(s) => {
                if self.dialect == Dialect::Ansible && has_jinja(s) {
                    format!("!unsafe {}", quoted(s))
                } else {
                    string(s)
                }
            }
            Node::Template(s) => match self.dialect {
                Dialect::Ansible => quoted(s),
                Dialect::Plain => string(s),
            },
            Node::Map(m) if m.is_empty() => "{}".to_string(),
            Node::Seq(s) if s.is_empty() => "[]".to_string(),
            Node::Block(text) if !block_ok(text) => self.scalar(&Node::Str(text.clone()))?,
            Node::Block(_) | Node::Map(_) | Node::Seq(_) => return None,
        })
    }

    /// `!unsafe ` before a block Ansible would otherwise evaluate.
    fn unsafe_tag(&self, out: &mut String, text: &str) {
        if self.dialect == Dialect::Ansible && has_jinja(text) {
            out.push_str("!unsafe ");
        }
    }

    fn key(&self, k: &str) -> String {
        if self.dialect == Dialect::Ansible && has_jinja(k) {
            // Ansible does not evaluate keys, but a key is no place for template syntax:
            // keep it visible and inert.
            return string(&k.replace('{', &REPLACEMENT.to_string()));
        }
        string(k)
    }

    fn map(&self, out: &mut String, indent: usize, m: &Map) {
        for e in &m.entries {
            lines(out, indent, &e.before);
            pad(out, indent);
            self.entry_body(out, indent, e);
        }
        lines(out, indent, &m.pending);
    }

    /// `key: …` from the key on (the caller wrote the indentation or `- `).
    fn entry_body(&self, out: &mut String, indent: usize, e: &Entry) {
        out.push_str(&self.key(&e.key));
        out.push(':');
        let note = |out: &mut String| {
            if let Some(t) = &e.trailing {
                out.push_str("  ");
                out.push_str(&super::comment::hash_line(t));
            } else {
                out.push('\n');
            }
        };
        if let Some(v) = self.scalar(&e.value) {
            out.push(' ');
            out.push_str(&v);
            note(out);
            return;
        }
        match &e.value {
            Node::Map(m) => {
                note(out);
                self.map(out, indent + 2, m);
            }
            Node::Seq(s) => {
                note(out);
                self.seq(out, indent + 2, s);
            }
            Node::Block(text) => {
                out.push(' ');
                self.unsafe_tag(out, text);
                block(out, indent + 2, text, &e.trailing);
            }
            _ => note(out),
        }
    }

    fn seq(&self, out: &mut String, indent: usize, s: &Seq) {
        for item in &s.items {
            lines(out, indent, &item.before);
            if let Some(v) = self.scalar(&item.value) {
                pad(out, indent);
                out.push_str("- ");
                out.push_str(&v);
                out.push('\n');
                continue;
            }
            match &item.value {
                Node::Map(m) => {
                    // The first entry's comments go above the dash; the entry itself
                    // follows it on the same line.
                    let mut first = true;
                    for e in &m.entries {
                        lines(out, indent + if first { 0 } else { 2 }, &e.before);
                        if first {
                            pad(out, indent);
                            out.push_str("- ");
                            first = false;
                        } else {
                            pad(out, indent + 2);
                        }
                        self.entry_body(out, indent + 2, e);
                    }
                    lines(out, indent + 2, &m.pending);
                }
                Node::Seq(inner) => {
                    pad(out, indent);
                    out.push_str("-\n");
                    self.seq(out, indent + 2, inner);
                }
                Node::Block(text) => {
                    pad(out, indent);
                    out.push_str("- ");
                    self.unsafe_tag(out, text);
                    block(out, indent + 2, text, &None);
                }
                _ => {}
            }
        }
        lines(out, indent, &s.pending);
    }
}

/// A literal block: `|` with its chomping indicator, then each line at `indent`.
fn block(out: &mut String, indent: usize, text: &str, note: &Option<String>) {
    let body = text.trim_end_matches('\n');
    let trailing_newlines = text.len() - body.len();
    out.push('|');
    match trailing_newlines {
        0 => out.push('-'),
        1 => {}
        _ => out.push('+'),
    }
    if let Some(t) = note {
        out.push_str("  ");
        out.push_str(&super::comment::hash_line(t));
    } else {
        out.push('\n');
    }
    for line in body.split('\n') {
        if !line.is_empty() {
            pad(out, indent);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing_newlines {
        out.push('\n');
    }
}

/// Can `text` be a literal block and read back the same? Not when it is empty or only
/// line breaks, when its first line starts with a space (the reader would take it as
/// indentation), when a line ends in spaces (some readers and editors drop them), or
/// when it holds anything but printable characters, tabs and `\n`.
fn block_ok(text: &str) -> bool {
    let body = text.trim_end_matches('\n');
    !body.is_empty()
        && !body.starts_with([' ', '\t'])
        && !body.split('\n').any(|l| l.ends_with([' ', '\t']))
        && body.chars().all(|c| c == '\n' || c == '\t' || visible(c))
}

/// YAML's printable set (1.2 §5.1 c-printable) without the byte-order mark.
fn printable(c: char) -> bool {
    matches!(c as u32,
        0x20..=0x7E | 0x85 | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        && c != '\u{FEFF}'
}

/// Printable and shown as itself: not a control, line break or format character.
fn visible(c: char) -> bool {
    printable(c) && !is_invisible_or_break(c)
}

/// Words some YAML reader resolves to a boolean or null when plain: YAML 1.1's bool
/// and null types (yaml.org/type/bool.html, null.html) and YAML 1.2's core schema.
const RESERVED_WORDS: &[&str] = &["y", "n", "yes", "no", "on", "off", "true", "false", "null"];

/// May `s` be written plain? See the module documentation.
pub fn plain_ok(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_' || first == '/')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '@' | '+'))
        && !RESERVED_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

/// A string as YAML: plain, single- or double-quoted.
pub fn string(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// A string always quoted: single when possible, else double with escapes.
pub fn quoted(s: &str) -> String {
    if s.chars().all(visible) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        double_quoted(s)
    }
}

fn double_quoted(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            '\0' => o.push_str("\\0"),
            '\u{85}' => o.push_str("\\N"),
            '\u{2028}' => o.push_str("\\L"),
            '\u{2029}' => o.push_str("\\P"),
            c if (c as u32) < 0x100 && !visible(c) => {
                let _ = write!(o, "\\x{:02X}", c as u32);
            }
            c if (c as u32) < 0x10000 && !visible(c) => {
                let _ = write!(o, "\\u{:04X}", c as u32);
            }
            c if !visible(c) => {
                let _ = write!(o, "\\U{:08X}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A float that reads back as a float: Rust's shortest exact form, with `.0` when it
/// has no point; `.inf`, `-.inf`, `.nan` for the rest.
pub fn float(x: f64) -> String {
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let s = format!("{x}");
    if s.contains(['.', 'e', 'E']) {
        s
    } else {
        format!("{s}.0")
    }
}

/// Does `s` hold Jinja's block, variable or comment start (Ansible's defaults)?
fn has_jinja(s: &str) -> bool {
    s.contains("{{") || s.contains("{%") || s.contains("{#")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(node: impl Into<Node>, expect: &str) {
        assert_eq!(Doc::new(Map::new().with("k", node)).render(), expect);
    }

    #[test]
    fn strings_plain_only_when_every_reader_agrees() {
        for (s, out) in [
            ("synapse", "synapse"),
            (
                "/etc/prometheus/rules/*.yml",
                "'/etc/prometheus/rules/*.yml'",
            ),
            ("/_synapse/metrics", "/_synapse/metrics"),
            ("true", "'true'"),
            ("On", "'On'"),
            ("NULL", "'NULL'"),
            ("No", "'No'"),
            ("y", "'y'"),
            ("1.2e3", "'1.2e3'"),
            ("10.0.1.27:9200", "'10.0.1.27:9200'"),
            ("0x1F", "'0x1F'"),
            ("2001-12-14", "'2001-12-14'"),
            ("", "''"),
            ("~", "'~'"),
            ("a: b", "'a: b'"),
            ("x #y", "'x #y'"),
            ("it's", "'it''s'"),
            ("a\nb", "\"a\\nb\""),
            ("a\u{2028}b\u{85}c\u{2029}", "\"a\\Lb\\Nc\\P\""),
            ("bidi\u{202E}", "\"bidi\\u202E\""),
            ("\u{FEFF}bom", "\"\\uFEFFbom\""),
            ("nul\0", "\"nul\\0\""),
            ("back\\slash\"", "'back\\slash\"'"),
            ("tab\there", "\"tab\\there\""),
            ("é", "'é'"),
            (
                "alertmanager@chat.example.com",
                "alertmanager@chat.example.com",
            ),
            ("*stateGroupCache*", "'*stateGroupCache*'"),
            ("{{ x }}", "'{{ x }}'"),
        ] {
            check(s, &format!("k: {out}\n"));
        }
    }

    #[test]
    fn keys_are_quoted_like_values() {
        let m = Map::new()
            .with("on", 1u64)
            .with("true", 2u64)
            .with("get_users_in_room", 3u64)
            .with("a\nb", 4u64);
        assert_eq!(
            Doc::new(m).render(),
            "'on': 1\n'true': 2\nget_users_in_room: 3\n\"a\\nb\": 4\n"
        );
    }

    #[test]
    fn numbers_and_other_scalars() {
        check(1.0, "k: 1.0\n");
        check(0.17, "k: 0.17\n");
        check(1e20, "k: 100000000000000000000.0\n");
        check(f64::NAN, "k: .nan\n");
        check(f64::NEG_INFINITY, "k: -.inf\n");
        check(6432u64, "k: 6432\n");
        check(-3i64, "k: -3\n");
        check(true, "k: true\n");
        check(Node::Null, "k: null\n");
        check(Map::new(), "k: {}\n");
        check(Seq::new(), "k: []\n");
    }

    #[test]
    fn nesting_comments_and_notes() {
        let mut root = Map::new();
        root.comment("top\ntwo lines");
        root.insert("scope", "synapse");
        root.blank();
        let mut params = Map::new();
        params.insert("max_connections", 500u64).note("why");
        params.insert("shared_buffers", "16GB");
        root.insert("parameters", params);
        let mut hosts = Seq::new();
        hosts.push("10.0.1.28:2379");
        hosts.comment("second");
        hosts.push("b");
        root.insert("hosts", hosts);
        let mut rules = Seq::new();
        rules.push(
            Map::new()
                .commented("about a")
                .with("alert", "A")
                .commented("inner")
                .with("labels", Map::new().with("severity", "page")),
        );
        root.insert("rules", rules);
        root.insert("nested", Seq::new().with(Seq::new().with(1u64).with(2u64)));
        let doc = Doc::new(root).header("Generated.\n").start();
        assert_eq!(
            doc.render(),
            "# Generated.\n---\n# top\n# two lines\nscope: synapse\n\nparameters:\n  max_connections: 500  # why\n  shared_buffers: '16GB'\nhosts:\n  - '10.0.1.28:2379'\n  # second\n  - b\nrules:\n  # about a\n  - alert: A\n    # inner\n    labels:\n      severity: page\nnested:\n  -\n    - 1\n    - 2\n"
        );
    }

    #[test]
    fn blocks_keep_their_text_or_fall_back_to_quotes() {
        check("", "k: ''\n");
        check(Node::Block("a\nb\n".into()), "k: |\n  a\n  b\n");
        check(Node::Block("a\n\nb".into()), "k: |-\n  a\n\n  b\n");
        check(Node::Block("a\n\n\n".into()), "k: |+\n  a\n\n\n");
        check(Node::Block(" lead\n".into()), "k: \" lead\\n\"\n");
        check(Node::Block("x\u{2028}y\n".into()), "k: \"x\\Ly\\n\"\n");
        check(Node::Block("\n".into()), "k: \"\\n\"\n");
        let s = Seq::new().with(Node::Block("a\nb\n".into()));
        check(s, "k:\n  - |\n    a\n    b\n");
    }

    #[test]
    fn ansible_never_evaluates_a_value() {
        let m = Map::new()
            .with("a", "{{ lookup('pipe', 'id') }}")
            .with("b", Node::Template("{{ vault_x }}".into()))
            .with("c", "plain")
            .with("{{ k }}", 1u64)
            .with("d", Node::Block("x: '{{ 6 * 7 }}'\n".into()))
            .with("e", Node::Block("plain\n".into()));
        assert_eq!(
            Doc::new(m).ansible().render(),
            "a: !unsafe '{{ lookup(''pipe'', ''id'') }}'\nb: '{{ vault_x }}'\nc: plain\n'\u{FFFD}\u{FFFD} k }}': 1\nd: !unsafe |\n  x: '{{ 6 * 7 }}'\ne: |\n  plain\n"
        );
    }

    #[test]
    fn header_lines_cannot_escape_the_comment() {
        let d = Doc::new(Map::new().with("a", 1u64)).header("name \u{2028}b: 2\nnext");
        assert_eq!(d.render(), "# name \u{FFFD}b: 2\n# next\na: 1\n");
    }
}
