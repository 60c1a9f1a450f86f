//! Activity from users (issue 12, item 1): a plan that sets only its users is valid at any
//! scale, its daily-active and peak users and its calls are derived from them, a value
//! the author sets wins, peak ≤ daily active ≤ registered is checked at the field the
//! author set, and plan files and links of the first schema open to the plan they meant.
//! Every check is data: (input, expected) rows and one loop.

use synapse_planner::Severity;
use synapse_planner::plan::{self, Plan, RawPlan, YamlStyle, link};

/// The fields that are derived when a plan leaves them out.
const DERIVED: [&str; 4] = [
    "activity.daily-active-users",
    "users.peak-concurrent",
    "calls.concurrent-1to1",
    "calls.group-rooms",
];

/// (registered, daily active, peak, 1:1 calls, group rooms) with the default shares:
/// 50 % of registered active on a day, 50 % of those at peak, one 1:1 call per 100 and
/// one group room per 500 users at peak, rounded to the nearest.
const SCALES: [(u64, u64, u64, u64, u64); 5] = [
    (1, 1, 1, 0, 0),
    (2_000, 1_000, 500, 5, 1),
    (10_000, 5_000, 2_500, 25, 5),
    (100_000, 50_000, 25_000, 250, 50),
    (10_000_000, 5_000_000, 2_500_000, 25_000, 5_000),
];

fn derived_values(p: &Plan) -> (u64, u64, u64, u64) {
    (
        p.daily_active_users(),
        p.peak_concurrent_users(),
        p.concurrent_1to1_calls(),
        p.group_call_rooms(),
    )
}

/// A validation with no error and no problem at a derived field; its plan.
fn valid_without_activity_problems(v: plan::Validation, what: &str) -> Plan {
    let errors: Vec<String> = v.errors().map(|p| p.to_string()).collect();
    assert!(errors.is_empty(), "{what}: {errors:?}");
    for path in DERIVED {
        let at: Vec<String> = v.for_path(path).map(|p| p.to_string()).collect();
        assert!(at.is_empty(), "{what}: {at:?}");
    }
    v.plan.unwrap_or_else(|| panic!("{what}: no plan"))
}

#[test]
fn users_only_plans_are_valid_at_every_scale_and_activity_follows() {
    for (registered, dau, peak, calls, rooms) in SCALES {
        let want = (dau, peak, calls, rooms);
        // A schema-2 plan file that sets only its users.
        let file = format!("schema: 2\nusers:\n  registered: {registered}\n");
        let from_file = valid_without_activity_problems(plan::from_yaml(&file).validate(), &file);
        assert_eq!(derived_values(&from_file), want, "{file}");
        // The page: a person types only the user number into the default form.
        let mut raw = RawPlan::default();
        raw.set("users.registered", registered.to_string());
        let typed = valid_without_activity_problems(plan::validate(&raw), "form");
        assert_eq!(typed, from_file, "{registered} typed");
        // A link made from it opens to the same plan, activity still derived.
        let fragment = link::encode(&typed).expect("a link");
        let opened = link::decode(&fragment).expect("opens").validate();
        assert_eq!(opened.plan.as_ref(), Some(&typed), "{fragment}");
        // Both YAML styles read back to it (the full file writes null for a derived value).
        for style in [YamlStyle::Full, YamlStyle::Minimal] {
            let text = plan::to_yaml(&typed, style);
            assert_eq!(plan::from_yaml(&text).validate().plan, Some(typed.clone()));
        }
        // The same file of the first schema opens too (migrated: no error, and no
        // problem but a warning where schema 1's 5,000 and 2,500 do not fit).
        let old = format!("schema: 1\nusers:\n  registered: {registered}\n");
        let v = plan::from_yaml(&old).validate();
        assert!(v.errors().next().is_none(), "{old}: {:?}", v.problems);
        assert!(
            v.problems.iter().all(|p| p.severity == Severity::Warning),
            "{old}: {:?}",
            v.problems
        );
        // The report computes, whatever it finds about the hardware.
        let report = synapse_planner::report::Report::new(&typed);
        assert_eq!(report.plan.users_peak_concurrent, peak);
    }
}

/// (changes over the default plan, key path of the error or "" for valid, its message,
/// the (daily active, peak) when valid).
type AuthorCase = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
    (u64, u64),
);

#[test]
fn a_value_the_author_sets_wins_and_errors_name_the_field_set() {
    let cases: &[AuthorCase] = &[
        (&[("users.registered", "2000")], "", "", (1_000, 500)),
        (
            &[
                ("users.registered", "2000"),
                ("activity.daily-active-users", "5000"),
            ],
            "activity.daily-active-users",
            "Daily active users (5000) cannot exceed registered users (2000).",
            (0, 0),
        ),
        (
            &[
                ("users.registered", "2000"),
                ("users.peak-concurrent", "3000"),
            ],
            "users.peak-concurrent",
            "Peak concurrent users (3000) cannot exceed registered users (2000).",
            (0, 0),
        ),
        (
            &[
                ("activity.daily-active-users", "1000"),
                ("users.peak-concurrent", "2000"),
            ],
            "users.peak-concurrent",
            "Peak concurrent users (2000) cannot exceed daily active users (1000): a user syncing at the busiest hour is active that day. Lower the peak, raise activity.daily-active-users, or leave one empty to derive it.",
            (0, 0),
        ),
        // A peak above the derived daily active users raises them (never an error about
        // a field the author left empty).
        (&[("users.peak-concurrent", "8000")], "", "", (8_000, 8_000)),
        (&[("activity.daily-active-users", "100")], "", "", (100, 50)),
        (
            &[("assumptions.daily-active-share", "0.2")],
            "",
            "",
            (2_000, 1_000),
        ),
        (
            &[("assumptions.peak-concurrent-share", "0.1")],
            "",
            "",
            (5_000, 500),
        ),
        // A share above 1 still derives at most the registered users.
        (
            &[("assumptions.daily-active-share", "3")],
            "",
            "",
            (10_000, 5_000),
        ),
    ];
    for (changes, path, message, want) in cases {
        let mut raw = RawPlan::default();
        for (k, v) in *changes {
            assert!(raw.set(k, *v), "{k}");
        }
        let v = plan::validate(&raw);
        let errors: Vec<(String, String)> = v
            .errors()
            .map(|p| (p.path.clone(), p.message.clone()))
            .collect();
        if path.is_empty() {
            assert!(errors.is_empty(), "{changes:?}: {errors:?}");
            let p = v.plan.expect("valid");
            assert_eq!(
                (p.daily_active_users(), p.peak_concurrent_users()),
                *want,
                "{changes:?}"
            );
        } else {
            assert_eq!(
                errors,
                [(path.to_string(), message.to_string())],
                "{changes:?}"
            );
        }
    }
}

#[test]
fn the_form_shows_how_a_derived_value_was_made() {
    let p = Plan::default()
        .with_text("users.registered", "2000")
        .expect("valid");
    for (path, want) in [
        (
            "activity.daily-active-users",
            Some("derived: 1,000 (50 % of registered users)"),
        ),
        (
            "users.peak-concurrent",
            Some("derived: 500 (50 % of daily active users)"),
        ),
        (
            "calls.concurrent-1to1",
            Some("derived: 5 (1 per 100 users at peak)"),
        ),
        (
            "calls.group-rooms",
            Some("derived: 1 (0.2 per 100 users at peak)"),
        ),
        ("users.registered", None),
    ] {
        assert_eq!(p.derivation(path).as_deref(), want, "{path}");
    }
    let set = p.with_text("users.peak-concurrent", "400").expect("valid");
    assert_eq!(set.derivation("users.peak-concurrent"), None);
}

/// What a schema-1 plan migrates to: (file, daily-active and peak as set in the plan
/// (None: derived), their values, 1:1 calls and group rooms as set, key paths of the
/// migration's warnings).
type Migration = (
    &'static str,
    (Option<u64>, Option<u64>),
    (u64, u64),
    (Option<u64>, Option<u64>),
    &'static [&'static str],
);

const SCHEMA_1: &[Migration] = &[
    // Schema 1's default plan is schema 2's: every value equals its derivation.
    (
        "schema: 1\n",
        (None, None),
        (5_000, 2_500),
        (None, None),
        &[],
    ),
    // The case: 5,000 daily active users (and 2,500 at peak) of 2,000 registered
    // was refused; it now opens, derived, with a warning for each. The calls keep their
    // meaning (25 and 5), which the derivation would not give.
    (
        "schema: 1\nusers:\n  registered: 2000\n",
        (None, None),
        (1_000, 500),
        (Some(25), Some(5)),
        &["activity.daily-active-users", "users.peak-concurrent"],
    ),
    // 5,000 fits 100,000 users: kept (the derivation would say 50,000).
    (
        "schema: 1\nusers:\n  registered: 100000\n",
        (Some(5_000), None),
        (5_000, 2_500),
        (None, None),
        &[],
    ),
    // 5,000 daily active against 25,000 at peak does not fit: derived, at least the peak.
    (
        "schema: 1\nusers:\n  registered: 100000\n  peak-concurrent: 25000\n",
        (None, Some(25_000)),
        (50_000, 25_000),
        (Some(25), Some(5)),
        &["activity.daily-active-users"],
    ),
    // 5,000 of 4,000 does not fit, nor 2,500 at peak against the 2,000 derived.
    (
        "schema: 1\nusers:\n  registered: 4000\n",
        (None, None),
        (2_000, 1_000),
        (Some(25), Some(5)),
        &["activity.daily-active-users", "users.peak-concurrent"],
    ),
    // Everything set: nothing to migrate.
    (
        "schema: 1\nusers:\n  registered: 200\n  peak-concurrent: 50\nactivity:\n  daily-active-users: 100\ncalls:\n  concurrent-1to1: 0\n  group-rooms: 0\n",
        (Some(100), Some(50)),
        (100, 50),
        (Some(0), Some(0)),
        &[],
    ),
];

#[test]
fn schema_1_files_and_format_1_links_open_to_the_plan_they_meant() {
    for (file, set, values, calls, warned) in SCHEMA_1 {
        let v = plan::from_yaml(file).validate();
        assert!(v.errors().next().is_none(), "{file}: {:?}", v.problems);
        let warnings: Vec<&str> = v
            .problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
            .map(|p| p.path.as_str())
            .collect();
        assert_eq!(warnings, *warned, "{file}: {:?}", v.problems);
        let p = v.plan.expect("valid");
        assert_eq!(
            (p.activity.daily_active_users, p.users.peak_concurrent),
            *set,
            "{file}"
        );
        assert_eq!(
            (p.daily_active_users(), p.peak_concurrent_users()),
            *values,
            "{file}"
        );
        assert_eq!(
            (p.calls.concurrent_1to1, p.calls.group_rooms),
            *calls,
            "{file}"
        );
        // Written back, it is a schema-2 file of the same plan, with no warning.
        let again = plan::from_yaml(&plan::to_yaml(&p, YamlStyle::Minimal)).validate();
        assert_eq!(again.problems, vec![], "{file}");
        assert_eq!(again.plan, Some(p.clone()), "{file}");
    }
    // The warning says what schema 1 meant and what the value became.
    let v = plan::from_yaml("schema: 1\nusers:\n  registered: 2000\n").validate();
    assert_eq!(
        v.for_path("activity.daily-active-users")
            .map(|p| p.message.as_str())
            .collect::<Vec<_>>(),
        [
            "This schema-1 plan leaves out daily active users, which meant 5,000 there: more than its 2,000 registered users. It is now derived from users: 1,000 (50 % of registered users, at least the peak). Set activity.daily-active-users to choose another."
        ]
    );
}

/// A format-1 link (the first release's encoding) of `payload`.
fn format_1_link(payload: &str) -> String {
    use base64::Engine;
    use std::io::Write;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(payload.as_bytes()).expect("deflate");
    let bytes = z.finish().expect("deflate");
    format!(
        "1.1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[test]
fn format_1_links_migrate_like_schema_1_files() {
    // Code 2 is users.registered, 3 users.peak-concurrent (FORMAT_1_KEYS).
    for (payload, file) in [
        ("", "schema: 1\n"),
        ("2=2000", "schema: 1\nusers:\n  registered: 2000\n"),
        ("2=100000", "schema: 1\nusers:\n  registered: 100000\n"),
        (
            "2=100000;3=25000",
            "schema: 1\nusers:\n  registered: 100000\n  peak-concurrent: 25000\n",
        ),
    ] {
        let opened = link::decode(&format_1_link(payload)).expect("opens");
        let from_link = opened.validate();
        let from_file = plan::from_yaml(file).validate();
        assert_eq!(from_link.plan, from_file.plan, "{payload}");
        let paths = |v: &plan::Validation| -> Vec<String> {
            v.problems.iter().map(|p| p.path.clone()).collect()
        };
        assert_eq!(paths(&from_link), paths(&from_file), "{payload}");
    }
    // This build writes format 2, where a missing field is derived.
    let p = Plan::default()
        .with_text("users.registered", "100000")
        .expect("valid");
    let fragment = link::encode(&p).expect("a link");
    assert!(fragment.starts_with("2."), "{fragment}");
    let back = link::decode(&fragment).expect("opens").validate().plan;
    assert_eq!(back.map(|p| p.daily_active_users()), Some(50_000));
}
