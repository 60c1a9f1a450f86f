//! Writers: the only way a value reaches a generated file.
//!
//! Every output syntax the bundle writes has one writer here, and generators put a value
//! into a file only through the writer of that file's syntax. A generator authors the
//! *structure* of a file (keys, sections, commands, comments as constants); the plan
//! supplies *values*, and a value can never change the structure: it cannot end a line,
//! open a comment or a section, close a quote, run a command or be read back as another
//! type. That holds for any string, not only for the ones validation lets through
//! (`docs/plan-text.md` says what each plan field may hold and why), and
//! `tests/hostile.rs` checks it on whole bundles.
//!
//! | module | syntax | a value becomes |
//! |---|---|---|
//! | [`yaml`] | every YAML file (Prometheus, Alertmanager, Patroni, LiveKit, Grafana, the playbook's vars, plan files) | a typed node: plain only when every YAML 1.1 and 1.2 reader reads it back as that same string, otherwise single- or double-quoted; `!unsafe` for Ansible when it holds template syntax |
//! | [`shell`] | bash scripts | one single-quoted word (`$'…'` when it holds a control character) |
//! | [`conf`] | line-based files (INI, HAProxy, keepalived, coturn, pgBackRest, PgBouncer, systemd, env files, sysctl, cron, pgpass …) | itself when it is a plain word, quoted where the format can quote, and never a line break or one of the format's comment, section, separator or continuation characters |
//! | [`comment`] | comments of every syntax, Markdown's HTML comment | one comment line that cannot end early |
//! | [`markdown`] | README, checklist, runbook | literal text (ASCII punctuation backslash-escaped) or a code span |
//! | [`sql`] | SQL scripts | a string literal or a quoted identifier |
//! | [`json`] | JSON files | serde_json, with U+2028/U+2029/U+0085 escaped |
//! | [`promql`] | PromQL expressions in rules and promtool tests | a string literal, or an exact alternation in a regex matcher |
//! | [`template`] | Go templates (Prometheus annotations, Alertmanager) | literal text |
//! | [`dn`] | OpenSSL `-subj` distinguished names | an escaped attribute value |
//!
//! Writers are total: they never panic and always produce a value of their syntax. A
//! character a syntax cannot hold at all is replaced by U+FFFD (the Unicode replacement
//! character) rather than written; validation keeps plan values free of such characters,
//! so in a bundle this happens only if a generator passes text it should not.

pub mod comment;
pub mod conf;
pub mod dn;
pub mod json;
pub mod markdown;
pub mod promql;
pub mod shell;
pub mod sql;
pub mod template;
pub mod yaml;

/// The character written in place of one a syntax cannot hold.
pub const REPLACEMENT: char = '\u{FFFD}';

/// A line break for some reader: LF, VT, FF, CR (U+000A–000D), NEL (U+0085), LINE
/// SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029). YAML 1.1 (PyYAML, Ansible) and
/// JavaScript treat the last three as line breaks too (YAML 1.1 spec §5.4; Unicode
/// UAX #14 class BK).
pub fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\u{0B}' | '\u{0C}' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// A character that must never reach an output line from a plan value unescaped: a line
/// break, any other C0/C1 control (general category Cc), or a format character (Cf:
/// bidirectional overrides and isolates, zero-width characters, the byte-order mark).
/// Bidirectional controls make a text display differently from what it is (CVE-2021-42574,
/// "Trojan Source"); zero-width ones hide characters.
pub fn is_invisible_or_break(c: char) -> bool {
    is_line_break(c) || c.is_control() || is_format(c)
}

/// Unicode general category Cf (format), from the Unicode Character Database 15.1
/// (`extracted/DerivedGeneralCategory.txt`).
pub fn is_format(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x0600..=0x0605
            | 0x061C
            | 0x06DD
            | 0x070F
            | 0x0890..=0x0891
            | 0x08E2
            | 0x180E
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x2064
            | 0x2066..=0x206F
            | 0xFEFF
            | 0xFFF9..=0xFFFB
            | 0x110BD
            | 0x110CD
            | 0x13430..=0x1343F
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0001
            | 0xE0020..=0xE007F
    )
}

/// Private use (Co) and noncharacters: nothing a person can read or type on purpose.
pub fn is_private_or_nonchar(c: char) -> bool {
    let n = c as u32;
    matches!(n, 0xE000..=0xF8FF | 0xF0000..=0x10FFFF | 0xFDD0..=0xFDEF) || (n & 0xFFFE) == 0xFFFE
}

/// `s` with every line break, control and format character replaced by U+FFFD: text that
/// stays on one line and shows what it is.
pub fn one_line(s: &str) -> std::borrow::Cow<'_, str> {
    if s.chars().any(is_invisible_or_break) {
        s.chars()
            .map(|c| {
                if is_invisible_or_break(c) {
                    REPLACEMENT
                } else {
                    c
                }
            })
            .collect::<String>()
            .into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_are_every_unicode_one() {
        for c in [
            '\n', '\u{0B}', '\u{0C}', '\r', '\u{85}', '\u{2028}', '\u{2029}',
        ] {
            assert!(is_line_break(c), "{c:?}");
            assert!(is_invisible_or_break(c), "{c:?}");
        }
        for c in [' ', 'a', '\u{A0}', '\u{2027}', '\u{202F}'] {
            assert!(!is_line_break(c), "{c:?}");
        }
    }

    #[test]
    fn format_characters_include_bidi_controls_and_zero_width() {
        for c in [
            '\u{200B}',
            '\u{200D}',
            '\u{200E}',
            '\u{202A}',
            '\u{202E}',
            '\u{2066}',
            '\u{2069}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{E0041}',
        ] {
            assert!(is_format(c), "{c:?}");
        }
        for c in ['a', 'é', '—', '€', '😀', '\u{2028}'] {
            assert!(!is_format(c), "{c:?}");
        }
    }

    #[test]
    fn one_line_replaces_only_what_it_must() {
        assert_eq!(one_line("plain — text é"), "plain — text é");
        assert_eq!(
            one_line("a\nb\u{2028}c\u{202E}d\u{0}e"),
            "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e"
        );
    }

    #[test]
    fn private_use_and_nonchars() {
        for c in [
            '\u{E000}',
            '\u{FDD0}',
            '\u{FFFE}',
            '\u{FFFF}',
            '\u{1FFFF}',
            '\u{10FFFD}',
        ] {
            assert!(is_private_or_nonchar(c), "{c:?}");
        }
        for c in ['a', '\u{FFFD}', '\u{1F600}'] {
            assert!(!is_private_or_nonchar(c), "{c:?}");
        }
    }
}
