//! X.509 distinguished names as OpenSSL's `-subj` reads them: `/type=value/type=value`.
//!
//! In `-subj`, `/` separates attributes and `+` joins a multi-valued one; a backslash
//! makes the next character literal (openssl-req(1), `-subj`). [`value`] escapes `\`,
//! `/`, `+` and `=` so a value stays one attribute value, replaces control and format
//! characters (OpenSSL would store them in the certificate) and keeps at most `max`
//! characters: X.509 bounds most attributes (RFC 5280 Appendix A: `ub-common-name` and
//! `ub-organization-name` are 64), and OpenSSL refuses a longer one ("string too long").
//! The script must pass `-utf8` so OpenSSL reads the value as UTF-8.

use super::{REPLACEMENT, is_invisible_or_break};

/// RFC 5280's upper bound for commonName and organizationName.
pub const UB_NAME: usize = 64;

/// `s` as one `-subj` attribute value of at most `max` characters.
pub fn value(s: &str, max: usize) -> String {
    let mut o = String::new();
    for c in s.chars().take(max) {
        match c {
            '\\' | '/' | '+' | '=' => {
                o.push('\\');
                o.push(c);
            }
            c if c.is_control() || is_invisible_or_break(c) => o.push(REPLACEMENT),
            c => o.push(c),
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_stay_one_value() {
        assert_eq!(value("a/O=x+CN=y\\", 64), "a\\/O\\=x\\+CN\\=y\\\\");
        assert_eq!(value(&"é".repeat(80), UB_NAME).chars().count(), 64);
        assert_eq!(value("x\ny", 64), "x\u{FFFD}y");
    }
}
