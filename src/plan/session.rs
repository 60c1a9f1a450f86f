//! Which plan a page opens with: the link's, the saved one, or the default; and the
//! messages that say which and why. Pure, so the rules are tested natively; the UI only
//! reads `location.hash` and storage and passes them in.

use super::link::{self, LinkError};
use super::{RawPlan, Validation};
use crate::Severity;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Link,
    Saved,
    Default,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Start {
    pub raw: RawPlan,
    pub source: Source,
    /// Shown at the top of the page: (severity, sentence).
    pub messages: Vec<(Severity, String)>,
}

/// Decides the first plan. `fragment` is `location.hash` (may be empty); `saved` the
/// plan this browser saved last, if any.
pub fn start(fragment: &str, saved: Option<RawPlan>) -> Start {
    let fragment = fragment.trim_start_matches('#').trim();
    let fallback = |messages: Vec<(Severity, String)>| match saved.clone() {
        Some(raw) => Start {
            raw,
            source: Source::Saved,
            messages,
        },
        None => Start {
            raw: RawPlan::default(),
            source: Source::Default,
            messages,
        },
    };
    if fragment.is_empty() {
        return fallback(Vec::new());
    }
    match link::decode(fragment) {
        Ok(opened) => {
            let mut messages = Vec::new();
            if let Some(note) = opened.note.clone() {
                messages.push((Severity::Info, note));
            }
            let v: Validation = opened.validate();
            let file_level: Vec<String> = opened
                .file
                .problems
                .iter()
                .map(|p| {
                    if p.path.is_empty() {
                        p.message.clone()
                    } else {
                        format!("{}: {}", p.path, p.message)
                    }
                })
                .collect();
            if v.plan.is_none() {
                messages.push((
                    Severity::Warning,
                    "The link's plan has errors: they are shown at their fields, and the figures are the default plan's until they are fixed.".to_string(),
                ));
            }
            for m in file_level {
                messages.push((Severity::Warning, format!("In the link: {m}")));
            }
            Start {
                raw: opened.file.raw,
                source: Source::Link,
                messages,
            }
        }
        Err(e) => {
            let instead = if saved.is_some() {
                "your last saved plan"
            } else {
                "the default plan"
            };
            let m = match e {
                LinkError::Empty => return fallback(Vec::new()),
                e => format!("This link could not be opened: {e}. Showing {instead} instead."),
            };
            fallback(vec![(Severity::Error, m)])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    #[test]
    fn link_wins_then_saved_then_default() {
        let p = Plan::default()
            .with_text("synapse.workers.sync", "9")
            .unwrap();
        let saved = RawPlan::from_plan(
            &Plan::default()
                .with_text("hosts.haproxy.count", "3")
                .unwrap(),
        );
        let s = start(
            &format!("#{}", link::encode(&p).unwrap()),
            Some(saved.clone()),
        );
        assert_eq!(
            (s.source, s.raw, s.messages),
            (Source::Link, RawPlan::from_plan(&p), vec![])
        );
        let s = start("", Some(saved.clone()));
        assert_eq!((s.source, s.raw), (Source::Saved, saved.clone()));
        let s = start("", None);
        assert_eq!((s.source, s.raw), (Source::Default, RawPlan::default()));
    }

    #[test]
    fn a_bad_link_falls_back_with_a_message() {
        let saved = RawPlan::from_plan(
            &Plan::default()
                .with_text("hosts.haproxy.count", "3")
                .unwrap(),
        );
        for bad in ["#garbage", "#1.1.AAAA", "#1.1.<img src=x>", "#99.1.x"] {
            let s = start(bad, Some(saved.clone()));
            assert_eq!(s.source, Source::Saved, "{bad}");
            assert_eq!(s.raw, saved);
            assert_eq!(s.messages.len(), 1);
            assert_eq!(s.messages[0].0, Severity::Error);
            assert!(
                s.messages[0]
                    .1
                    .starts_with("This link could not be opened: "),
                "{:?}",
                s.messages
            );
            assert!(
                s.messages[0]
                    .1
                    .ends_with("Showing your last saved plan instead.")
            );
        }
        let s = start("#garbage", None);
        assert!(
            s.messages[0]
                .1
                .ends_with("Showing the default plan instead.")
        );
    }

    /// What a schema-1 build saved for a plan: every field's text, activity absolute.
    fn saved_by_schema_1(changes: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = RawPlan::default()
            .iter()
            // Schema 1 had no activity assumptions.
            .filter(|(k, _)| {
                !crate::assumptions::ACTIVITY
                    .iter()
                    .any(|a| *k == format!("assumptions.{}", a.id))
            })
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in pairs.iter_mut() {
            for (path, text) in [
                ("activity.daily-active-users", "5000"),
                ("users.peak-concurrent", "2500"),
                ("calls.concurrent-1to1", "25"),
                ("calls.group-rooms", "5"),
            ]
            .iter()
            .chain(changes)
            {
                if k == path {
                    *v = text.to_string();
                }
            }
        }
        pairs
    }

    #[test]
    fn a_plan_saved_by_a_schema_1_build_is_migrated() {
        // (changes, daily active and peak as read back).
        for (changes, dau, peak) in [
            // The default plan saved: derived, and typing 2,000 users leaves no error.
            (&[][..], "", ""),
            // 100,000 users with schema 1's 5,000 daily active: that meaning is kept.
            (&[("users.registered", "100000")][..], "5000", ""),
            // Values a person typed stay.
            (
                &[
                    ("activity.daily-active-users", "700"),
                    ("users.peak-concurrent", "300"),
                ][..],
                "700",
                "300",
            ),
        ] {
            let pairs = saved_by_schema_1(changes);
            let raw = RawPlan::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            assert_eq!(raw.get("activity.daily-active-users"), dau, "{changes:?}");
            assert_eq!(raw.get("users.peak-concurrent"), peak, "{changes:?}");
        }
        let mut raw = RawPlan::from_pairs(
            saved_by_schema_1(&[])
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        raw.set("users.registered", "2000");
        let v = crate::plan::validate(&raw);
        assert_eq!(v.problems, vec![]);
        // This build's own save reads back as it was.
        let mine = RawPlan::default();
        assert_eq!(RawPlan::from_pairs(mine.iter()), mine);
    }

    #[test]
    fn saved_text_is_kept_even_when_invalid() {
        let raw = RawPlan::from_pairs([("synapse.cache-factor", "abc"), ("not.a.key", "x")]);
        assert_eq!(raw.get("synapse.cache-factor"), "abc");
        assert_eq!(raw.get("users.registered"), "10000");
        let s = start("", Some(raw.clone()));
        assert_eq!(s.raw, raw);
    }
}
