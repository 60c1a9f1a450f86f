//! Frozen share links: links made by earlier versions must keep opening to the same
//! plan. tests/links/format-1.tsv holds links written by the first release (format 1,
//! rules 1, schema 1); tests/links/format-1/<name>.yaml holds, frozen too, the plan each
//! must open to ("default" is schema 1's default plan). The named plans in tests/plans/
//! may evolve; these copies never do. A change that breaks one of them breaks links
//! people have already sent. Format 1 links are read with plan schema 1's defaults and
//! migrated like a schema-1 file; format 2's frozen links (`FORMAT_2`, below) with
//! schema 2's.

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

/// Frozen links of format 2 (rules 2, plan schema 2: activity derived from users where a
/// plan leaves it out), written by the build that introduced it, and the schema-2 plan
/// file each must open to. Never regenerate: a format 2 link must keep opening to these.
const FORMAT_2: &[(&str, &str, &str)] = &[
    ("default", "2.2.AwA", "schema: 2\n"),
    (
        "users-2000",
        "2.2.M7I1MjAwAAA",
        "schema: 2\nusers:\n  registered: 2000\n",
    ),
    (
        "users-100k-peak-set",
        "2.2.M7I1NAABa2NbIzBtYWxrDgA",
        "schema: 2\nusers:\n  registered: 100000\n  peak-concurrent: 20000\ncalls:\n  group-rooms: 7\n",
    ),
    (
        "pinned-and-shares",
        "2.2.M7I1NQACazNLW0MjEMPQ1NLWQM_Y2tDMAEgbGAEA",
        "schema: 2\nusers:\n  registered: 50000\nactivity:\n  daily-active-users: 12000\nassumptions:\n  peak-concurrent-share: 0.3\n  calls-1to1-per-peak-user: 0.02\n",
    ),
];

#[test]
fn frozen_format_2_links_open_to_their_plans() {
    for (name, fragment, file) in FORMAT_2 {
        let want = plan::from_yaml(file).validate();
        assert_eq!(want.problems, vec![], "{name}");
        let opened = link::decode(fragment).unwrap_or_else(|e| panic!("{name}: {e}"));
        let v = opened.validate();
        assert_eq!(v.problems, vec![], "{name}");
        assert_eq!(v.plan, want.plan, "{name}");
        // Made with rules 2: a note only once the rules have moved on.
        assert_eq!(opened.rules, 2, "{name}");
        assert_eq!(opened.note.is_some(), link::RULES_VERSION > 2, "{name}");
    }
    // The activity those links carry is derived where they leave it out.
    let users = link::decode(FORMAT_2[1].1).expect("opens").validate().plan;
    assert_eq!(
        users.map(|p| (p.daily_active_users(), p.peak_concurrent_users())),
        Some((1_000, 500))
    );
}
