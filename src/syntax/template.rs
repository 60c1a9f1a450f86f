//! Go templates (Prometheus alert annotations, Alertmanager notification texts): a value
//! is literal text.
//!
//! In text/template everything outside `{{ … }}` is copied as it is, so the only way a
//! value can become template code is by holding `{{`. [`literal`] writes each `{{` as
//! the action `{{ "{{" }}`, which prints `{{` (Go text/template, "Text and spaces" and
//! string constants in "Arguments").

/// `s` as template text that prints `s`.
pub fn literal(s: &str) -> String {
    s.replace("{{", "{{ \"{{\" }}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_printed_not_run() {
        assert_eq!(literal("cluster x"), "cluster x");
        assert_eq!(
            literal("{{ template \"x\" }}"),
            "{{ \"{{\" }} template \"x\" }}"
        );
    }
}
