//! Markdown (CommonMark): a value reads as the text it is.
//!
//! [`text`] backslash-escapes every ASCII punctuation character that Markdown or inline
//! HTML could read as markup (CommonMark 0.31 §2.4: any ASCII punctuation may be
//! backslash-escaped, and is then literal), so a plan name cannot become a link, an
//! image, emphasis, a heading, a table cell or an HTML tag. [`code`] writes a code span
//! whose fence is longer than any run of backticks inside it. Both stay on one line.

use super::one_line;

/// Characters escaped by [`text`].
const MARKUP: &str = "\\`*_{}[]()<>#+-.!|~&\"'$%=:;/@?^,";

/// `s` as literal inline text.
pub fn text(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in one_line(s).chars() {
        if MARKUP.contains(c) {
            o.push('\\');
        }
        o.push(c);
    }
    o
}

/// `s` as a code span: `` `s` ``, with a longer fence (and padding spaces) when `s`
/// holds backticks.
pub fn code(s: &str) -> String {
    let s = one_line(s);
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    if longest == 0 && !s.is_empty() {
        return format!("`{s}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {s} {fence}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_literal() {
        assert_eq!(text("seed-cluster"), "seed\\-cluster");
        assert_eq!(
            text("[x](javascript:y) <b>*z*</b> -->\n#"),
            "\\[x\\]\\(javascript\\:y\\) \\<b\\>\\*z\\*\\<\\/b\\> \\-\\-\\>\u{FFFD}\\#"
        );
        assert_eq!(text("Müller & Co"), "Müller \\& Co");
    }

    #[test]
    fn code_spans_hold_backticks() {
        assert_eq!(code("a.b"), "`a.b`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code(""), "`  `");
        assert_eq!(code("x\ny"), "`x\u{FFFD}y`");
    }
}
