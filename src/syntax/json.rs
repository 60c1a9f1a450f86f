//! JSON: serde_json, with the characters some readers take for line breaks escaped.
//!
//! serde_json escapes `"`, `\` and the C0 controls; JSON allows U+2028, U+2029 and U+0085
//! raw inside strings, but JavaScript before ES2019 and YAML 1.1 readers (JSON is YAML)
//! end a line there. Outside strings serde_json writes only ASCII, so replacing them
//! anywhere in its output changes nothing but those strings.

use serde::Serialize;

fn escape_breaks(s: String) -> String {
    if s.contains(['\u{2028}', '\u{2029}', '\u{85}']) {
        s.replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029")
            .replace('\u{85}', "\\u0085")
    } else {
        s
    }
}

/// `value` as indented JSON and a final newline. Our own trees always serialise; should
/// one not, the result is `null` rather than a panic.
pub fn pretty(value: &impl Serialize) -> String {
    let s = serde_json::to_string_pretty(value).unwrap_or_else(|_| "null".into());
    escape_breaks(s) + "\n"
}

/// `s` as a JSON string literal (also a valid Python string literal).
pub fn string(s: &str) -> String {
    escape_breaks(serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_have_no_raw_line_breaks() {
        assert_eq!(string("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(string("x\u{2028}y\u{85}"), r#""x\u2028y\u0085""#);
        assert_eq!(
            pretty(&serde_json::json!({"k": "\u{2029}"})),
            "{\n  \"k\": \"\\u2029\"\n}\n"
        );
    }
}
