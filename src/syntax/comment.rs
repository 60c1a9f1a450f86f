//! Comments: text that stays a comment, whatever it holds.
//!
//! A line comment ends at the end of its line, so its text must not hold a line break of
//! any reader (YAML 1.1 and JavaScript count U+0085, U+2028 and U+2029 too); an HTML
//! comment (Markdown's header) ends at `-->`, so its text must not hold `<`, `>` or `--`
//! in any form that closes it. Both writers keep any text inside: line breaks, other
//! control and format characters become U+FFFD; in HTML comments `&`, `<` and `>` are
//! written as character references.

use super::one_line;

/// The comment syntaxes of the bundle's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `# …`: YAML, shell, HAProxy, keepalived, coturn, systemd, sysctl, cron, env files,
    /// pgBackRest, Redis, chrony …
    Hash,
    /// `; …`: PgBouncer and other INI files that prefer it.
    Semicolon,
    /// `-- …`: SQL.
    DoubleDash,
    /// `<!-- … -->`: Markdown.
    Html,
}

impl Style {
    /// `text` as comment lines of this style, one per `\n` in `text` (an empty line is
    /// the bare marker), each ending in `\n`. HTML comments are one line.
    pub fn lines(self, text: &str) -> String {
        let marker = match self {
            Style::Hash => "#",
            Style::Semicolon => ";",
            Style::DoubleDash => "--",
            Style::Html => return html(text),
        };
        text.split('\n')
            .map(|l| line(marker, l))
            .collect::<String>()
    }
}

/// One comment line: `marker text\n`, or the bare marker for empty text.
fn line(marker: &str, text: &str) -> String {
    if text.is_empty() {
        format!("{marker}\n")
    } else {
        format!("{marker} {}\n", one_line(text))
    }
}

/// `# text\n`: one YAML or shell comment line.
pub fn hash_line(text: &str) -> String {
    line("#", text)
}

/// `<!-- text -->\n` on one line; `\n` in `text` becomes a space.
pub fn html(text: &str) -> String {
    let flat = text.replace('\n', " ");
    let mut o = String::from("<!-- ");
    for c in one_line(&flat).chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            c => o.push(c),
        }
    }
    o.push_str(" -->\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_stay_comments() {
        for (style, text, expect) in [
            (Style::Hash, "a\n\nb", "# a\n#\n# b\n"),
            (
                Style::Hash,
                "x\u{2028}y: 1\u{85}z",
                "# x\u{FFFD}y: 1\u{FFFD}z\n",
            ),
            (Style::Semicolon, "p\rq", "; p\u{FFFD}q\n"),
            (Style::DoubleDash, "drop table", "-- drop table\n"),
            (
                Style::Html,
                "plan \"x -->\" <script>&",
                "<!-- plan \"x --&gt;\" &lt;script&gt;&amp; -->\n",
            ),
            (Style::Html, "a\nb", "<!-- a b -->\n"),
        ] {
            assert_eq!(style.lines(text), expect, "{style:?} {text:?}");
        }
    }
}
