//! PromQL: a value is a string literal, or an alternation of literals in a regex matcher.
//!
//! PromQL's double-quoted strings take Go's escapes (prometheus/promql/parser/lex.go,
//! `lexEscape`: `\"`, `\\`, `\n`, `\t`, `\uXXXX` …); a JSON string literal uses only
//! those, so [`string`] reads back as its text. A regex matcher's (`=~`, `!~`) value is
//! an RE2 expression anchored at both ends; [`any_of`] escapes each value's
//! metacharacters as Go's `regexp.QuoteMeta` does (`\.+*?()|[]{}^$`), so the matcher
//! matches exactly those values and nothing a `.` or `|` inside one would add.

/// `s` as a PromQL string literal, quotes included.
pub fn string(s: &str) -> String {
    super::json::string(s)
}

/// A regex matcher's value matching exactly one of `values`, quotes included.
pub fn any_of<S: AsRef<str>>(values: &[S]) -> String {
    let alternatives: Vec<String> = values.iter().map(|v| quote_meta(v.as_ref())).collect();
    string(&alternatives.join("|"))
}

/// RE2's literal form of `s` (Go `regexp.QuoteMeta`).
fn quote_meta(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_alternations() {
        assert_eq!(string("patroni1.internal"), "\"patroni1.internal\"");
        assert_eq!(string("a\"} or vector(1) #"), r#""a\"} or vector(1) #""#);
        assert_eq!(
            any_of(&["patroni1.internal", "a|b", "/var/lib"]),
            r#""patroni1\\.internal|a\\|b|/var/lib""#
        );
    }
}
