//! SQL (PostgreSQL): a value is a string literal or a quoted identifier.
//!
//! With `standard_conforming_strings` on (the default since PostgreSQL 9.1) a backslash
//! is literal inside `'…'` and only `'` needs doubling; an identifier is `"…"` with `"`
//! doubled (PostgreSQL docs, "Lexical Structure", 4.1.1 and 4.1.2.1). A NUL cannot be
//! stored in a PostgreSQL text value; it and every line break become U+FFFD so a value
//! stays on its line.

use super::{REPLACEMENT, is_invisible_or_break};

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || is_invisible_or_break(c) {
                REPLACEMENT
            } else {
                c
            }
        })
        .collect()
}

/// `'s'`.
pub fn literal(s: &str) -> String {
    format!("'{}'", clean(s).replace('\'', "''"))
}

/// `"s"`.
pub fn ident(s: &str) -> String {
    format!("\"{}\"", clean(s).replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_identifiers() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal("a\\b"), "'a\\b'");
        assert_eq!(literal("x\n'; DROP"), "'x\u{FFFD}''; DROP'");
        assert_eq!(ident("syn\"apse"), "\"syn\"\"apse\"");
    }
}
