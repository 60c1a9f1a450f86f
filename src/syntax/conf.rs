//! Line-based configuration files: a value never ends its line, starts a comment, opens a
//! section or continues onto the next line.
//!
//! Every format here reads one setting per line and gives some characters a meaning: `#`
//! or `;` start a comment, `[` a section, `=` or whitespace separate a key from its value,
//! a trailing `\` continues the line, `%` is a systemd specifier or a cron line break, `$`
//! an HAProxy or systemd variable. [`Format::value`] writes a value so that none of them
//! can take effect:
//!
//! * a **word** (ASCII letters, digits and `. _ : @ / + -`: every address, host name,
//!   port, interface, e-mail address and number a plan produces) is written as it is;
//! * anything else is **quoted** where the format has quotes that turn every meaning
//!   off (HAProxy's and env files' single quotes, systemd's double quotes), with the
//!   characters the quotes cannot hold replaced by U+FFFD;
//! * in a format without such quotes every character outside the word set is replaced
//!   by U+FFFD.
//!
//! So a value is one token of the line whatever it holds. PgBouncer's auth file and
//! libpq's password file have their own quoting: [`userlist_field`], [`pgpass_field`].

use super::REPLACEMENT;

/// A line-based file format of the bundle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// haproxy.cfg (HAProxy 2.6 configuration.txt §2.2 "Quoting and escaping": inside
    /// single quotes nothing is special, no escape, no `$VAR`).
    Haproxy,
    /// keepalived.conf (keepalived.conf(5): whitespace-separated words, `#`/`!` comments).
    Keepalived,
    /// turnserver.conf (coturn's `read_config_file`: `name=value` lines, `#` comments).
    Coturn,
    /// pgbackrest.conf (pgBackRest's INI: `[stanza]` sections, `key=value`, `#` comments).
    PgBackRest,
    /// pgbouncer.ini (PgBouncer's INI: `[section]`, `key = value`, `;`/`#` comments;
    /// `[databases]` values are libpq `key=value` words).
    PgBouncer,
    /// systemd units and drop-ins (systemd.syntax(7): `#`/`;` comments, `\` continues a
    /// line, `%` starts a specifier; double quotes with C escapes).
    Systemd,
    /// Environment files read by systemd's `EnvironmentFile=` and by `sh` (`/etc/default/*`):
    /// single quotes are literal for both.
    EnvFile,
    /// sysctl.d(5), limits.conf(5), chrony.conf(5), redis.conf, /etc/hosts, rclone.conf:
    /// whitespace- or `=`-separated words, comment lines.
    Words,
    /// Ansible's INI inventory: `host key=value …` words, values read with shlex and then
    /// templated by Jinja, so only words.
    Inventory,
    /// crontab(5) lines: `%` in a command is a line break, so only words.
    Cron,
}

/// Characters a value may hold unquoted in every format.
pub fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '/' | '+' | '-')
}

/// Is `s` a non-empty word?
pub fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_word_char)
}

fn replace_unless(s: &str, keep: impl Fn(char) -> bool) -> String {
    s.chars()
        .map(|c| if keep(c) { c } else { REPLACEMENT })
        .collect()
}

impl Format {
    /// The format's comment syntax, for headers.
    pub fn comment(self) -> super::comment::Style {
        match self {
            Format::PgBouncer => super::comment::Style::Semicolon,
            _ => super::comment::Style::Hash,
        }
    }

    /// `s` as one value token of this format (see the module documentation).
    pub fn value(self, s: &str) -> String {
        if is_word(s) {
            return s.to_string();
        }
        let quotable = |c: char| !c.is_control() && !super::is_invisible_or_break(c);
        match self {
            Format::Haproxy | Format::EnvFile => {
                format!("'{}'", replace_unless(s, |c| quotable(c) && c != '\''))
            }
            Format::Systemd => {
                let mut o = String::from("\"");
                for c in s.chars() {
                    match c {
                        '%' => o.push_str("%%"),
                        '\\' => o.push_str("\\\\"),
                        '"' => o.push_str("\\\""),
                        // `$` is a variable in command lines and literal elsewhere:
                        // neither reading is safe for a value.
                        '$' => o.push(REPLACEMENT),
                        c if quotable(c) => o.push(c),
                        _ => o.push(REPLACEMENT),
                    }
                }
                o.push('"');
                o
            }
            Format::Keepalived
            | Format::Coturn
            | Format::PgBackRest
            | Format::PgBouncer
            | Format::Words
            | Format::Inventory
            | Format::Cron => {
                if s.is_empty() {
                    REPLACEMENT.to_string()
                } else {
                    replace_unless(s, is_word_char)
                }
            }
        }
    }
}

/// One field of PgBouncer's `auth_file` (`"user" "secret"`): double-quoted, a `"` inside
/// doubled (PgBouncer docs, "Authentication file format").
pub fn userlist_field(s: &str) -> String {
    let body = replace_unless(s, |c| !c.is_control() && !super::is_invisible_or_break(c));
    format!("\"{}\"", body.replace('"', "\"\""))
}

/// One field of a libpq password file (`host:port:db:user:password`): `:` and `\`
/// escaped with `\` (PostgreSQL docs, "The Password File").
pub fn pgpass_field(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            ':' => o.push_str("\\:"),
            '\\' => o.push_str("\\\\"),
            c if c.is_control() || super::is_invisible_or_break(c) => o.push(REPLACEMENT),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_stay_one_token() {
        let r = "\u{FFFD}";
        for (format, s, expect) in [
            (
                Format::Haproxy,
                "10.0.1.10:443",
                "10.0.1.10:443".to_string(),
            ),
            (Format::Haproxy, "a b#c$HOME", "'a b#c$HOME'".to_string()),
            (Format::Haproxy, "it's\n", format!("'it{r}s{r}'")),
            (
                Format::EnvFile,
                "ops%x@example.com",
                "'ops%x@example.com'".to_string(),
            ),
            (
                Format::Systemd,
                "50% \"q\" $X\\",
                format!("\"50%% \\\"q\\\" {r}X\\\\\""),
            ),
            (Format::PgBouncer, "x;y = z", format!("x{r}y{r}{r}{r}z")),
            (Format::Coturn, "", r.to_string()),
            (Format::Cron, "a%b", format!("a{r}b")),
            (Format::Words, "eth0", "eth0".to_string()),
            (Format::Inventory, "{{x}}", format!("{r}{r}x{r}{r}")),
            (Format::Keepalived, "a\u{2028}b", format!("a{r}b")),
        ] {
            assert_eq!(format.value(s), expect, "{format:?} {s:?}");
        }
    }

    #[test]
    fn auth_files() {
        assert_eq!(userlist_field("syn\"apse"), "\"syn\"\"apse\"");
        assert_eq!(pgpass_field("a:b\\c"), "a\\:b\\\\c");
        assert_eq!(pgpass_field("x\ny"), "x\u{FFFD}y");
    }
}
