//! Frozen share links: links made by earlier versions must keep opening to the same
//! plan. tests/links/format-1.tsv holds links written by the first release (format 1,
//! rules 1, schema 1); tests/links/format-1/<name>.yaml holds, frozen too, the plan each
//! must open to ("default" is schema 1's default plan). The named plans in tests/plans/
//! may evolve; these copies never do. A change that breaks one of them breaks links
//! people have already sent.

use synapse_planner::plan::{self, Plan, link};

#[test]
fn frozen_links_open_to_their_plans() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let table = std::fs::read_to_string(dir.join("links/format-1.tsv")).expect("fixtures");
    let mut n = 0;
    for line in table
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (name, fragment) = line.split_once('\t').expect("name<TAB>link");
        let want = if name == "default" {
            Plan::default()
        } else {
            let text =
                std::fs::read_to_string(dir.join("links/format-1").join(format!("{name}.yaml")))
                    .expect("plan file");
            plan::from_yaml(&text)
                .validate()
                .plan
                .unwrap_or_else(|| panic!("{name}.yaml is invalid"))
        };
        let opened = link::decode(fragment).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = opened.validate();
        assert!(v.errors().next().is_none(), "{name}: {:?}", v.problems);
        assert_eq!(v.plan, Some(want), "{name}");
        // Made with rules 1: the plan is the same, and a note says the figures may
        // differ under today's rules and why.
        assert_eq!(opened.rules, 1, "{name}");
        let note = opened
            .note
            .as_deref()
            .unwrap_or_else(|| panic!("{name}: no note"));
        assert!(
            note.starts_with("This link was made with rules version 1; this build uses ")
                && note.contains(link::RULE_CHANGES[1].1),
            "{name}: {note}"
        );
        n += 1;
    }
    assert!(n >= 5, "only {n} frozen links");
}
