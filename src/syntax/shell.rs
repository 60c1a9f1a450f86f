//! Bash: a value is one word that bash never expands.
//!
//! [`quote`] writes a value single-quoted: inside `'…'` bash expands nothing (`$`,
//! backticks, `\`, `!` and globs are literal), and a `'` is written as `'\''` (close,
//! escaped quote, reopen). A value holding a line break or another control character is
//! written as ANSI-C quoting `$'…'` with escapes instead, so it stays on one line
//! (bash(1), QUOTING).
//!
//! The rule for generators: a plan value appears in a script only as a word from
//! [`quote`] — usually once, in an assignment at the top (`server='chat.example.com'`),
//! then used as `"$server"`. Never inside double quotes, an unquoted here-document, an
//! `eval` or a `bash -c` string, where bash would read it as code.

use std::fmt::Write;

/// `s` as one single-quoted bash word.
pub fn quote(s: &str) -> String {
    if s.chars().any(|c| c.is_control() || super::is_line_break(c)) {
        return ansi_c(s);
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// `name='value'`: a shell assignment of a quoted value. `name` is the generator's own
/// identifier.
pub fn assign(name: &str, value: &str) -> String {
    format!("{name}={}", quote(value))
}

/// `$'…'` with every control and line break escaped.
fn ansi_c(s: &str) -> String {
    let mut o = String::from("$'");
    for c in s.chars() {
        match c {
            '\\' => o.push_str(r"\\"),
            '\'' => o.push_str(r"\'"),
            '\n' => o.push_str(r"\n"),
            '\r' => o.push_str(r"\r"),
            '\t' => o.push_str(r"\t"),
            // bash ends the word's value at a NUL (`$'a\x00b'` is `a`): show it instead.
            '\0' => o.push(super::REPLACEMENT),
            c if (c as u32) < 0x80 && c.is_control() => {
                let _ = write!(o, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || super::is_line_break(c) => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('\'');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_single_quoted() {
        for (s, expect) in [
            ("chat.example.com", "'chat.example.com'"),
            ("", "''"),
            ("x$(touch pwned)`id`", "'x$(touch pwned)`id`'"),
            ("it's", r"'it'\''s'"),
            ("a\nb", r"$'a\nb'"),
            ("q'\\", r"'q'\''\'"),
            ("c\u{1}d\u{85}e\u{2028}", r"$'c\x01d\u0085e\u2028'"),
            ("nul\0", "$'nul\u{FFFD}'"),
        ] {
            assert_eq!(quote(s), expect, "{s:?}");
        }
        assert_eq!(assign("server", "a b"), "server='a b'");
    }
}
