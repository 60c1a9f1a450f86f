//! Storage over time: every formula against a hand-computed case (the arithmetic is in
//! the comments), the findings, the bundle files the model reads its schedule from, and
//! properties over arbitrary valid plans.
//!
//! Constants used below (src/assumptions/storage.rs defaults, the lab's measurements in
//! docs/lab.md, 2026-12-08): 5,500 bytes kept per local event, 0.25 other events per
//! message, 9 members notified × 790 bytes of push actions for one day; federation small /
//! open: 1 / 1.5 remote rooms per registered user, at most 30 / 300, of 1,000 / 5,000
//! members, 0.1 messages and 0.02 state changes per member a day, 7,100 bytes per received
//! message, 7,200 + 3.2 × members bytes per state change, 16,200 bytes per member to join,
//! 650 bytes of received transactions for one day; WAL 13,700 bytes per event + 1,210 per
//! member notified + 32,000 per received event; 0.1 GiB empty database +
//! 64 KiB per registered user, thumbnails +10 %, remote media 0 / 0.2 / 1.0 of local,
//! 2 days of media on the Synapse host, 20 GiB base there, largest table 0.4,
//! compression 0.3 (data) and 0.5 (WAL), 0.2 of the files changed per backup, 2 bytes per
//! Prometheus sample, full at 85 %. A month is 365.25 / 12 = 30.4375 days; 1 GiB is
//! 1,073,741,824 bytes.
//!
//! `PROPTEST_CASES=2000 cargo test --test storage` runs the properties harder.

#[path = "support/bundles.rs"]
mod bundles;

#[path = "support/props.rs"]
mod props;
use props::config;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Value as Json, json};
use synapse_planner::plan::Plan;
use synapse_planner::report::{Report, lookup};
use synapse_planner::sizing::storage::{
    self, DiskId, PGBACKREST_DIFF_RETENTION, PGBACKREST_FULL_EVERY_DAYS, PGBACKREST_INCR_PER_DAY,
    PGDUMP_KEEP, PROMETHEUS_SCRAPE_INTERVAL_S, Storage,
};

fn plan(changes: &[(&str, &str)]) -> Plan {
    Plan::default()
        .with_texts(changes)
        .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
}

/// The report's `storage` section as JSON.
fn section(changes: &[(&str, &str)]) -> Json {
    let v = Report::new(&plan(changes)).to_json_value();
    lookup(&v, "storage").cloned().expect("storage section")
}

/// Data-driven: the plan's changes, then (path inside `storage`, value) pairs.
fn check(changes: &[(&str, &str)], expect: &[(&str, Json)]) {
    let s = section(changes);
    for (path, want) in expect {
        assert_eq!(
            lookup(&s, path),
            Some(want),
            "storage.{path} for {changes:?}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Formulas, hand-computed
// ---------------------------------------------------------------------------------

#[test]
fn default_plan_rates() {
    check(
        &[],
        &[
            // 5,000 DAU × 30 messages × (1 + 0.25) = 187,500 events a day.
            ("rates.local-events-per-day", json!(187500)),
            // Small federation: min(10,000 × 1, 30) = 30 remote rooms of 1,000 members:
            // 3,000 messages and 600 state changes received a day; 191,100 stored.
            ("rates.remote-rooms", json!(30)),
            ("rates.received-events-per-day", json!(3600)),
            ("rates.stored-events-per-day", json!(191100)),
            // Join: 30 × 1,000 × 16,200 = 486,000,000 bytes = 0.4526 GiB.
            ("rates.db-join-gib", json!(0.45)),
            // Pools: (187,500 + 3,000) × 9 × 790 + 3,600 × 650 = 1,356,795,000 bytes
            // = 1.2636 GiB.
            ("rates.db-pools-gib", json!(1.26)),
            // 0.1 + 10,000 × 64 / 1,048,576 (0.6104) + 0.4526 + 1.2636 = 2.4266 GiB.
            ("rates.db-start-gib", json!(2.43)),
            // 187,500 × 5,500 + 3,000 × 7,100 + 600 × (7,200 + 3.2 × 1,000)
            // = 1,058,790,000 bytes = 0.98608 GiB a day.
            ("rates.db-gib-per-day", json!(0.99)),
            // 0.98608 × 30.4375 = 30.0137 GiB a month.
            ("rates.db-gib-per-month", json!(30.01)),
            // 187,500 × (13,700 + 9 × 1,210) + 3,000 × (24,590 + 32,000) + 600 × (13,700
            // + 32,000) = 4,807,815,000 bytes = 4.4776 GiB of WAL a day.
            ("rates.wal-gib-per-day", json!(4.48)),
            // 5,000 × 1 upload × 2 MiB × 1.1 / 1,024 = 10.742 GiB a day.
            ("rates.local-media-gib-per-day", json!(10.74)),
            // 10.742 × 0.2 = 2.1484.
            ("rates.remote-media-gib-per-day", json!(2.15)),
            // (10.742 + 2.148) × 30.4375 = 392.358.
            ("rates.media-gib-per-month", json!(392.36)),
            // The PGTune OLTP max_wal_size of the parameters, 8GB.
            ("rates.max-wal-size-gib", json!(8.0)),
            // 20 processes × 10,000 + 16 hosts × 2,500 = 240,000 series;
            // / 15 s × 86,400 × 2 bytes = 2,764,800,000 bytes = 2.5749 GiB a day.
            ("rates.prometheus-series", json!(240000)),
            ("rates.prometheus-gib-per-day", json!(2.57)),
            // 2 fulls kept + the next; 7 diffs; 23 incrementals a day × min(2 × 7, 7 + 1)
            // = 8 days = 184; WAL back 2 × 7 = 14 days.
            ("rates.full-backups-at-peak", json!(3)),
            ("rates.differential-backups-kept", json!(7)),
            ("rates.incremental-backups-kept", json!(184)),
            ("rates.wal-days-kept", json!(14)),
            ("full-percent", json!(85)),
            ("months", json!(36)),
        ],
    );
}

#[test]
fn federation_levels() {
    check(
        &[
            ("activity.federation", "none"),
            ("activity.daily-active-users", "1000"),
            ("activity.messages-per-user-day", "10"),
            ("activity.uploads-per-user-day", "0.5"),
            ("activity.upload-mib", "4"),
        ],
        &[
            // 1,000 × 10 × 1.25 = 12,500, no remote rooms: 12,500 stored.
            ("rates.local-events-per-day", json!(12500)),
            ("rates.remote-rooms", json!(0)),
            ("rates.stored-events-per-day", json!(12500)),
            // 12,500 × 5,500 = 68,750,000 bytes = 0.064 GiB.
            ("rates.db-gib-per-day", json!(0.06)),
            // 12,500 × (13,700 + 9 × 1,210) = 307,375,000 bytes = 0.2863 GiB of WAL.
            ("rates.wal-gib-per-day", json!(0.29)),
            // 1,000 × 0.5 × 4 MiB × 1.1 / 1,024 = 2.1484 GiB; no remote media.
            ("rates.local-media-gib-per-day", json!(2.15)),
            ("rates.remote-media-gib-per-day", json!(0.0)),
        ],
    );
    check(
        &[
            ("activity.federation", "open"),
            ("activity.daily-active-users", "100"),
            ("activity.messages-per-user-day", "20"),
        ],
        &[
            // 100 × 20 × 1.25 = 2,500 local; open: min(10,000 × 1.5, 300) = 300 rooms
            // of 5,000 members, 150,000 messages and 30,000 state changes a day.
            ("rates.local-events-per-day", json!(2500)),
            ("rates.remote-rooms", json!(300)),
            ("rates.stored-events-per-day", json!(182500)),
            // 150,000 × 7,100 + 30,000 × (7,200 + 16,000) = 1,761,000,000 bytes + 2,500
            // × 5,500 = 1.6529 GiB a day; joining: 300 × 5,000 × 16,200 = 22.63 GiB.
            ("rates.db-gib-per-day", json!(1.65)),
            ("rates.db-join-gib", json!(22.63)),
            // 100 × 1 × 2 MiB × 1.1 / 1,024 = 0.2148 GiB, and as much remote (× 1.0).
            ("rates.local-media-gib-per-day", json!(0.21)),
            ("rates.remote-media-gib-per-day", json!(0.21)),
        ],
    );
}

#[test]
fn default_plan_disks() {
    check(
        &[],
        &[
            // Patroni: database 2.4266 × (1 + 0.4 rewrite room) + 8 GiB pg_wal = 11.397.
            ("disks[0].id", json!("patroni")),
            ("disks[0].now-gib", json!(11.4)),
            // Month 36 = 1,095.75 days: 2.4266 + 0.98608 × 1,095.75 = 1,082.918 GiB;
            // × 1.4 + 8 = 1,524.09 GiB = 76.2 % of 2,000.
            ("disks[0].end-gib", json!(1524.09)),
            ("disks[0].end-percent", json!(76.2)),
            ("disks[0].items[0].end-gib", json!(1082.92)),
            ("disks[0].items[2].end-gib", json!(433.17)),
            // (1,524.09 − 11.4) / 36 = 42.02 a month; 1,524.09 / 0.85 → 1,794 GiB needed.
            ("disks[0].growth-gib-per-month", json!(42.02)),
            ("disks[0].needed-gib", json!(1794.0)),
            ("months-until-full.patroni", json!(null)),
            // MinIO: 16 drives × 1 TiB at EC:4 = 12 TiB = 12,288 GiB usable; 85 % =
            // 10,444.8 GiB; 12.8906 GiB a day reaches it after 810.3 days: month 27.
            ("disks[1].capacity-gib", json!(12288.0)),
            ("disks[1].growth-gib-per-month", json!(392.36)),
            ("disks[1].end-gib", json!(14124.9)),
            ("months-until-full.minio", json!(27)),
            ("disks[1].month-full", json!(27)),
            // Monitoring: 2.5749 GiB a day × 30 days = 77.25 GiB once the retention is full.
            ("disks[3].series-gib[0]", json!(0.0)),
            ("disks[3].end-gib", json!(77.25)),
            ("months-until-full.monitoring", json!(null)),
            // Synapse host: 20 + (10.742 + 2.148) × 2 days = 45.78 GiB, flat.
            ("disks[4].now-gib", json!(45.78)),
            ("disks[4].end-gib", json!(45.78)),
            ("disks[4].growth-gib-per-month", json!(0.0)),
            ("months-until-full.synapse", json!(null)),
        ],
    );
}

#[test]
fn backup_repository() {
    check(
        &[],
        &[
            // Month 36, database 1,082.918 GiB:
            // fulls 3 × 0.3 × 1,082.918 = 974.63
            ("disks[2].items[0].end-gib", json!(974.63)),
            // diffs 7 × 0.3 × 0.2 × 1,082.918 = 454.83
            ("disks[2].items[1].end-gib", json!(454.83)),
            // incrementals 184 × 0.3 × 0.2 × 1,082.918 = 11,955.42
            ("disks[2].items[2].end-gib", json!(11955.42)),
            // WAL 4.4776 × 0.5 × 14 days = 31.34
            ("disks[2].items[3].end-gib", json!(31.34)),
            // pg_dump 3 × 0.3 × 1,082.918 = 974.63
            ("disks[2].items[4].end-gib", json!(974.63)),
            // media mirror 10.742 × 1,095.75 = 11,770.75; churn 10.742 × 7 = 75.2
            ("disks[2].items[5].end-gib", json!(11770.75)),
            ("disks[2].items[6].end-gib", json!(75.2)),
            // Sum 26,236.79 GiB; 85 % of 8,000 = 6,800 is crossed in month 10.
            ("disks[2].end-gib", json!(26236.79)),
            ("months-until-full.backup", json!(10)),
        ],
    );
    check(
        &[
            ("retention.full-backups", "1"),
            ("retention.media-snapshots", "1"),
        ],
        &[
            // 1 + 1 fulls at the peak; 23 × min(7, 8) = 161 incrementals; WAL 7 days.
            ("rates.full-backups-at-peak", json!(2)),
            ("rates.incremental-backups-kept", json!(161)),
            ("rates.wal-days-kept", json!(7)),
            (
                "disks[2].items[0].name",
                json!("pgBackRest full backups (1 kept + the next)"),
            ),
            // 2 × 0.3 × 1,082.918 = 649.75
            ("disks[2].items[0].end-gib", json!(649.75)),
            // 10.742 × 1 snapshot = 10.74
            ("disks[2].items[6].end-gib", json!(10.74)),
        ],
    );
}

#[test]
fn retention_and_windows() {
    check(
        &[("retention.prometheus-days", "10")],
        &[
            // 2.5749 × min(30.4375, 10) = 25.75 from the first month on.
            ("disks[3].series-gib[1]", json!(25.75)),
            ("disks[3].end-gib", json!(25.75)),
        ],
    );
    check(
        &[("retention.local-media-days", "1")],
        &[
            // A 1-day lifetime beats the 2-day migration cadence for local media:
            // 20 + 10.742 × 1 + 2.148 × 2 = 35.04.
            ("disks[4].now-gib", json!(35.04)),
        ],
    );
    // 0 = forever: the migration still bounds the local store (45.78 as by default).
    check(
        &[
            ("retention.local-media-days", "0"),
            ("retention.remote-media-days", "0"),
        ],
        &[
            ("disks[4].now-gib", json!(45.78)),
            // …and MinIO is the same as with lifetimes: Synapse never deletes there.
            ("disks[1].end-gib", json!(14124.9)),
        ],
    );
}

#[test]
fn months_until_full_edges() {
    check(
        &[("hosts.synapse.disk-gib", "40")],
        // 45.78 GiB at go-live > 0.85 × 40 = 34: full at month 0.
        &[("months-until-full.synapse", json!(0))],
    );
    check(
        &[("hosts.synapse.disk-gib", "54")],
        // 45.78 ≤ 0.85 × 54 = 45.9: never (the needed-gib of the default, 45.78 / 0.85 → 54).
        &[("months-until-full.synapse", json!(null))],
    );
    check(
        &[("assumptions.disk-full-share", "1")],
        // Full means 100 %: MinIO reaches 12,288 GiB after 953.3 days, month 32.
        &[
            ("full-percent", json!(100)),
            ("months-until-full.minio", json!(32)),
        ],
    );
    check(
        &[("activity.months", "12")],
        // The span ends before MinIO fills; the series has months + 1 points.
        &[
            ("months-until-full.minio", json!(null)),
            ("disks[1].series-gib[12]", json!(4708.3)),
        ],
    );
}

#[test]
fn months_until_full_has_every_disk() {
    let s = section(&[]);
    let map = lookup(&s, "months-until-full")
        .and_then(Json::as_object)
        .expect("map");
    let keys: Vec<&str> = map.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["backup", "minio", "monitoring", "patroni", "synapse"]
    );
    for (i, id) in DiskId::ALL.iter().enumerate() {
        assert_eq!(
            lookup(&s, &format!("disks[{i}].month-full")),
            map.get(id.key()),
            "{}",
            id.key()
        );
    }
}

// ---------------------------------------------------------------------------------
// Explanations
// ---------------------------------------------------------------------------------

/// Every leaf of the section, as a path relative to it.
fn leaves(v: &Json, prefix: String, out: &mut Vec<String>) {
    match v {
        Json::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(x, p, out);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{prefix}[{i}]"), out);
            }
        }
        _ => out.push(prefix),
    }
}

#[test]
fn every_computed_figure_is_explained() {
    let p = Plan::default();
    let st = storage::storage(&p);
    let v = serde_json::to_value(&st).expect("json");
    let mut paths = Vec::new();
    leaves(&v, String::new(), &mut paths);
    let plain = |path: &str| {
        path == "months"
            || [
                ".id",
                ".label",
                ".hosts",
                ".capacity-path",
                ".capacity-formula",
                ".name",
                ".formula",
                ".source",
            ]
            .iter()
            .any(|s| path.ends_with(s))
    };
    for path in &paths {
        let e = storage::explain(&p, &st, path);
        if plain(path) {
            assert_eq!(e, None, "{path} is an input or a text");
        } else {
            let e = e.unwrap_or_else(|| panic!("no explanation for {path}"));
            assert!(
                e.len() > 20 && e.chars().any(|c| c.is_ascii_digit()),
                "{path}: {e}"
            );
        }
    }
    for (path, has) in [
        ("months-until-full.minio", "month 27"),
        ("months-until-full.patroni", "stays below through month 36"),
        ("rates.db-gib-per-day", "5,500 bytes"),
        ("rates.db-gib-per-day", "docs/lab.md"),
        ("rates.wal-gib-per-day", "1,210 bytes"),
        ("rates.stored-events-per-day", "191,100"),
        ("rates.remote-rooms", "at most 30"),
        ("rates.db-pools-gib", "event_push_actions"),
        ("disks[2].items[2].end-gib", "184 incrementals"),
        ("disks[1].capacity-gib", "EC:4"),
        ("full-percent", "85 %"),
    ] {
        let e = storage::explain(&p, &st, path).expect(path);
        assert!(e.contains(has), "{path}: {e}");
    }
    assert_eq!(storage::explain(&p, &st, "nope"), None);
    assert_eq!(storage::explain(&p, &st, "disks[9].now-gib"), None);
}

// ---------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------

/// Every code src/findings/storage.rs emits.
const STORAGE_CODES: &[&str] = &[
    "storage-full-now",
    "storage-fills-soon",
    "storage-fills",
    "backup-retention-impossible",
    "remote-media-forever",
    "media-retention-keeps-minio",
];

fn findings(changes: &[(&str, &str)]) -> Vec<(String, &'static str, String, String)> {
    Report::new(&plan(changes))
        .findings
        .into_iter()
        .filter(|f| STORAGE_CODES.contains(&f.code))
        .map(|f| (f.severity.to_string(), f.code, f.message, f.fix))
        .collect()
}

fn has(changes: &[(&str, &str)], sev: &str, code: &str, text: &str) {
    let got = findings(changes);
    assert!(
        got.iter()
            .any(|(s, c, m, f)| s == sev && *c == code && (m.contains(text) || f.contains(text))),
        "no {sev} {code} mentioning {text:?} for {changes:?}: {got:#?}"
    );
}

#[test]
fn default_plan_storage_findings() {
    let got: Vec<(String, &str)> = findings(&[])
        .into_iter()
        .map(|(s, c, _, _)| (s, c))
        .collect();
    assert_eq!(
        got,
        [
            ("warning".to_string(), "storage-fills"),
            ("warning".to_string(), "storage-fills"),
            ("info".to_string(), "media-retention-keeps-minio"),
        ]
    );
    has(
        &[],
        "warning",
        "storage-fills",
        "The MinIO usable capacity reaches 85 % of its 12,288 GiB in month 27 of 36",
    );
    has(&[], "warning", "storage-fills", "at least 16.23 TiB usable");
    has(
        &[],
        "warning",
        "storage-fills",
        "Backup host disk reaches 85 %",
    );
    has(&[], "warning", "storage-fills", "repo1-block=y");
    has(
        &[],
        "info",
        "media-retention-keeps-minio",
        "local 90 days, remote 14 days",
    );
}

#[test]
fn each_storage_rule_fires() {
    has(
        &[("hosts.synapse.disk-gib", "40")],
        "error",
        "storage-full-now",
        "holds 45.78 GiB at go-live",
    );
    // 8,000 → 1,000 GiB: the backup disk crosses 850 GiB in month 1 (863.66 GiB).
    has(
        &[("hosts.backup.disk-gib", "1000")],
        "error",
        "storage-fills-soon",
        "in month 1 of 36",
    );
    // 3 fulls of 324.88 GiB (0.3 × 1,082.918) = 974.63 > 0.85 × 500 = 425: 1 fits at
    // the peak, so not even one full and the next.
    has(
        &[("hosts.backup.disk-gib", "500")],
        "error",
        "backup-retention-impossible",
        "needs 3 fulls of 324.88 GiB",
    );
    // With 2,000 GiB: 1,700 / 324.88 = 5 fulls fit at the peak → keep at most 4.
    has(
        &[
            ("hosts.backup.disk-gib", "2000"),
            ("retention.full-backups", "8"),
        ],
        "error",
        "backup-retention-impossible",
        "Keep at most 4 full backups",
    );
    has(
        &[
            ("activity.federation", "open"),
            ("retention.remote-media-days", "0"),
        ],
        "warning",
        "remote-media-forever",
        "cached forever",
    );
    // 500 GiB × 0.85 = 425 GiB / 2.5749 GiB a day = 165 days of Prometheus fit.
    has(
        &[("retention.prometheus-days", "400")],
        "warning",
        "storage-fills",
        "lower retention.prometheus-days to 165 or less",
    );
    // Lifetimes 0: no retention note, and no warning without open federation.
    let none = findings(&[
        ("retention.local-media-days", "0"),
        ("retention.remote-media-days", "0"),
    ]);
    assert!(
        !none
            .iter()
            .any(|(_, c, _, _)| *c == "media-retention-keeps-minio" || *c == "remote-media-forever"),
        "{none:#?}"
    );
}

#[test]
fn suggested_capacity_clears_the_finding() {
    for (changes, path) in [
        (
            vec![("hosts.backup.disk-gib", "1000")],
            "hosts.backup.disk-gib",
        ),
        (
            vec![("hosts.synapse.disk-gib", "40")],
            "hosts.synapse.disk-gib",
        ),
        (
            vec![("retention.prometheus-days", "400")],
            "hosts.monitoring.disk-gib",
        ),
    ] {
        let p = plan(&changes);
        let st = storage::storage(&p);
        let d = st
            .disks
            .iter()
            .find(|d| d.capacity_path == path)
            .expect("disk");
        assert!(d.month_full.is_some(), "{changes:?}");
        let fixed = p.with_text(path, &d.needed_gib.to_string()).expect("valid");
        let again = storage::storage(&fixed);
        let d2 = again
            .disks
            .iter()
            .find(|d| d.capacity_path == path)
            .unwrap();
        assert_eq!(
            d2.month_full, None,
            "{changes:?} with {path} = {}",
            d.needed_gib
        );
        let less = p
            .with_text(path, &(d.needed_gib - 1.0).to_string())
            .expect("valid");
        let d3 = storage::storage(&less)
            .disks
            .into_iter()
            .find(|d| d.capacity_path == path)
            .unwrap();
        assert!(
            d3.month_full.is_some(),
            "{changes:?}: {} is not the least",
            d.needed_gib
        );
    }
}

// ---------------------------------------------------------------------------------
// The bundle agrees with the schedule the model assumes
// ---------------------------------------------------------------------------------

#[test]
fn bundle_schedule_matches_the_model() {
    for (name, p) in bundles::named_plans() {
        let files = bundles::bundle(&p);
        let conf = &bundles::file(&files, "hosts/backup/etc/pgbackrest.conf").contents;
        assert!(
            conf.contains(&format!(
                "\nrepo1-retention-full={}\n",
                p.retention.full_backups
            )),
            "{name}"
        );
        assert!(
            conf.contains(&format!(
                "\nrepo1-retention-diff={PGBACKREST_DIFF_RETENTION}\n"
            )),
            "{name}"
        );
        let cron =
            &bundles::file(&files, "hosts/backup/etc/cron.d/synapse-planner-backup").contents;
        // Hours × days each backup type runs in a week.
        let runs = |kind: &str| -> u64 {
            cron.lines()
                .filter(|l| l.ends_with(&format!("pgbackrest-backup.sh {kind}")))
                .map(|l| {
                    let f: Vec<&str> = l.split_whitespace().collect();
                    count_field(f[1], 24) * count_field(f[4], 7)
                })
                .sum()
        };
        assert_eq!(runs("full"), 7 / PGBACKREST_FULL_EVERY_DAYS, "{name}");
        assert_eq!(runs("incr"), 7 * PGBACKREST_INCR_PER_DAY, "{name}");
        assert_eq!(runs("diff") + runs("full"), 7, "{name}");
        let dump =
            &bundles::file(&files, "hosts/backup/usr/local/sbin/pg-dump-synapse.sh").contents;
        assert!(
            dump.contains(&format!("keep=\"${{PGDUMP_KEEP:-{PGDUMP_KEEP}}}\"")),
            "{name}"
        );
        let media = &bundles::file(&files, "hosts/backup/usr/local/sbin/backup-media.sh").contents;
        assert!(
            media.contains(&format!(
                "keep=\"${{MEDIA_SNAPSHOTS:-{}}}\"",
                p.retention.media_snapshots
            )),
            "{name}"
        );
        let prom =
            &bundles::file(&files, "hosts/monitoring/etc/prometheus/prometheus.yml").contents;
        // The YAML emitter quotes the duration ('15s'), as a YAML 1.1 reader could
        // otherwise take a bare word for another type.
        assert!(
            prom.contains(&format!(
                "scrape_interval: '{PROMETHEUS_SCRAPE_INTERVAL_S}s'"
            )),
            "{name}"
        );
        let vars = files
            .iter()
            .find(|f| f.path.ends_with("/vars.yml"))
            .expect("vars.yml");
        // The local store is emptied daily: the figure behind synapse-local-media-days.
        assert!(
            vars.contents.contains(
                "matrix_synapse_ext_synapse_s3_storage_provider_update_db_day_count: 0\n"
            ),
            "{name}"
        );
        for (var, days) in [
            (
                "matrix_synapse_media_retention_local_media_lifetime",
                p.retention.local_media_days,
            ),
            (
                "matrix_synapse_media_retention_remote_media_lifetime",
                p.retention.remote_media_days,
            ),
        ] {
            let want = if days == 0 {
                format!("{var}: null\n")
            } else {
                format!("{var}: '{days}d'\n")
            };
            assert!(vars.contents.contains(&want), "{name}: {want}");
        }
        let pg = Report::new(&p);
        let max_wal = pg
            .postgres
            .parameters
            .iter()
            .find(|x| x.name == "max_wal_size")
            .map(|x| x.value.clone());
        assert_eq!(
            max_wal
                .as_deref()
                .map(|v| v.trim_end_matches("GB").parse::<f64>().ok()),
            Some(Some(pg.storage.rates.max_wal_size_gib)),
            "{name}"
        );
    }
}

/// How many values a cron field covers (`*`, `1`, `1-6`, `0,2-23`).
fn count_field(field: &str, all: u64) -> u64 {
    if field == "*" {
        return all;
    }
    field
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

#[test]
fn media_lifetimes_follow_the_plan() {
    for (local, remote) in [("0", "0"), ("30", "0"), ("0", "7"), ("365", "90")] {
        let p = plan(&[
            ("retention.local-media-days", local),
            ("retention.remote-media-days", remote),
        ]);
        let files = bundles::bundle(&p);
        let vars = &files
            .iter()
            .find(|f| f.path.ends_with("/vars.yml"))
            .expect("vars.yml")
            .contents;
        let doc: serde_yaml::Value = serde_yaml::from_str(vars).expect("YAML");
        for (var, days) in [
            ("matrix_synapse_media_retention_local_media_lifetime", local),
            (
                "matrix_synapse_media_retention_remote_media_lifetime",
                remote,
            ),
        ] {
            let v = &doc[var];
            if days == "0" {
                assert!(v.is_null(), "{var} = {v:?}");
            } else {
                assert_eq!(v.as_str(), Some(format!("{days}d").as_str()), "{var}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------
// Extreme plans
// ---------------------------------------------------------------------------------

fn all_finite(v: &Json) -> bool {
    match v {
        Json::Number(n) => n.as_f64().is_some_and(f64::is_finite),
        Json::Array(a) => a.iter().all(all_finite),
        Json::Object(m) => m.values().all(all_finite),
        _ => true,
    }
}

fn assert_sane(st: &Storage, what: &str) {
    let v = serde_json::to_value(st).expect("json");
    assert!(all_finite(&v), "{what}: {v}");
    assert_eq!(st.disks.len(), 5, "{what}");
    for d in &st.disks {
        assert_eq!(d.series_gib.len() as u64, st.months + 1, "{what}");
        assert_eq!(d.series_percent.len() as u64, st.months + 1, "{what}");
        assert!(d.series_gib.iter().all(|g| *g >= 0.0), "{what}");
        // 0 only for a MinIO layout MinIO refuses (the object storage findings say why).
        assert!(d.capacity_gib > 0.0 || d.id.key() == "minio", "{what}");
    }
}

#[test]
fn extreme_plans() {
    for (what, changes) in [
        (
            "1 user",
            vec![
                ("users.peak-concurrent", "1"),
                ("activity.daily-active-users", "1"),
                ("users.registered", "1"),
            ],
        ),
        (
            "1,000,000 users",
            vec![
                ("users.registered", "1000000"),
                ("users.peak-concurrent", "250000"),
                ("activity.daily-active-users", "500000"),
            ],
        ),
        ("64 MinIO nodes", vec![("hosts.minio.count", "64")]),
        (
            "largest everything",
            vec![
                ("users.registered", "100000000"),
                ("activity.daily-active-users", "100000000"),
                ("activity.messages-per-user-day", "100000"),
                ("activity.uploads-per-user-day", "10000"),
                ("activity.upload-mib", "100000"),
                ("activity.federation", "open"),
                ("activity.months", "120"),
                ("retention.full-backups", "52"),
                ("retention.media-snapshots", "365"),
                ("retention.prometheus-days", "3650"),
                ("hosts.backup.disk-gib", "1"),
                ("assumptions.db-bytes-per-event", "5500000"),
                ("assumptions.wal-bytes-per-event", "13700000"),
                ("assumptions.fed-rooms-max-open", "300000"),
                ("assumptions.fed-room-members-open", "5000000"),
            ],
        ),
        (
            "nothing happens",
            vec![
                ("activity.daily-active-users", "0"),
                ("activity.messages-per-user-day", "0"),
                ("activity.uploads-per-user-day", "0"),
                ("retention.local-media-days", "0"),
                ("retention.remote-media-days", "0"),
                ("assumptions.backup-compression-ratio", "0"),
                ("assumptions.disk-full-share", "0"),
                ("hosts.patroni.disk-gib", "1"),
            ],
        ),
    ] {
        let p = plan(&changes);
        let r = Report::new(&p);
        assert_sane(&r.storage, what);
        assert!(all_finite(&r.to_json_value()), "{what}");
        let chart = synapse_planner::charts::storage::storage_chart(&r, 720);
        assert!(chart.contains("<polyline"), "{what}");
        for f in &r.findings {
            assert!(
                !f.message.contains("NaN") && !f.message.contains("inf"),
                "{what}: {}",
                f.message
            );
        }
    }
    // 1 user: nothing fills but the Synapse host's fixed base never fits 1 GiB.
    let one = storage::storage(&plan(&[
        ("users.peak-concurrent", "1"),
        ("activity.daily-active-users", "1"),
        ("users.registered", "1"),
    ]));
    assert_eq!(
        one.months_until_full
            .values()
            .filter(|m| m.is_some())
            .count(),
        0,
        "{:?}",
        one.months_until_full
    );
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

/// Arbitrary valid activity, retention and disks, as plan text.
fn plans() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    (
        (
            0u64..=100_000_000,
            0.0f64..=100_000.0,
            0.0f64..=10_000.0,
            0.0f64..=100_000.0,
            select(vec!["none", "small", "open"]),
            1u64..=120,
        ),
        (
            0u64..=36_500,
            0u64..=36_500,
            1u64..=52,
            1u64..=365,
            1u64..=3650,
        ),
        (
            1u64..=10_000_000,
            1u64..=10_000_000,
            1u64..=10_000_000,
            1u64..=10_000_000,
            1u64..=64,
            1u64..=64,
            0.01f64..=1024.0,
        ),
    )
        .prop_map(
            |(
                (dau, msgs, up, mib, fed, months),
                (l, r, fulls, snaps, prom),
                (pg, bk, mon, syn, nodes, drives, tib),
            )| {
                vec![
                    // Daily active users never exceed the accounts (validation).
                    ("users.registered", "100000000".to_string()),
                    ("activity.daily-active-users", dau.to_string()),
                    ("activity.messages-per-user-day", msgs.to_string()),
                    ("activity.uploads-per-user-day", up.to_string()),
                    ("activity.upload-mib", mib.to_string()),
                    ("activity.federation", fed.to_string()),
                    ("activity.months", months.to_string()),
                    ("retention.local-media-days", l.to_string()),
                    ("retention.remote-media-days", r.to_string()),
                    ("retention.full-backups", fulls.to_string()),
                    ("retention.media-snapshots", snaps.to_string()),
                    ("retention.prometheus-days", prom.to_string()),
                    ("hosts.patroni.disk-gib", pg.to_string()),
                    ("hosts.backup.disk-gib", bk.to_string()),
                    ("hosts.monitoring.disk-gib", mon.to_string()),
                    ("hosts.synapse.disk-gib", syn.to_string()),
                    ("hosts.minio.count", nodes.to_string()),
                    ("minio.drives-per-node", drives.to_string()),
                    ("minio.drive-tib", tib.to_string()),
                ]
            },
        )
}

fn build(changes: &[(&'static str, String)]) -> Plan {
    let mut p = Plan::default();
    for (k, v) in changes {
        p = p
            .with_text(k, v)
            .unwrap_or_else(|e| panic!("{k}={v}: {e:?}"));
    }
    p
}

fn with(changes: &[(&'static str, String)], path: &'static str, text: String) -> Plan {
    let mut c = changes.to_vec();
    c.retain(|(k, _)| *k != path);
    c.push((path, text));
    build(&c)
}

/// None = never, later than any month.
fn later_or_same(a: Option<u64>, b: Option<u64>) -> bool {
    match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(x), Some(y)) => y >= x,
    }
}

fn text_of(changes: &[(&'static str, String)], path: &str) -> String {
    changes
        .iter()
        .find(|(k, _)| *k == path)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn more_activity_never_fills_later(changes in plans(), extra in 1u64..=1_000_000, factor in 1.0f64..=10.0) {
        let base = storage::storage(&build(&changes));
        let dau: u64 = text_of(&changes, "activity.daily-active-users").parse().unwrap();
        let msgs: f64 = text_of(&changes, "activity.messages-per-user-day").parse().unwrap();
        for more in [
            with(&changes, "activity.daily-active-users", dau.saturating_add(extra).min(100_000_000).to_string()),
            with(&changes, "activity.messages-per-user-day", (msgs * factor).min(100_000.0).to_string()),
        ] {
            let s = storage::storage(&more);
            for (a, b) in base.disks.iter().zip(&s.disks) {
                prop_assert!(b.end_gib >= a.end_gib, "{}: {} < {}", a.id, b.end_gib, a.end_gib);
                prop_assert!(later_or_same(b.month_full, a.month_full), "{} fills later with more activity: {:?} vs {:?}", a.id, b.month_full, a.month_full);
            }
        }
    }

    #[test]
    fn longer_retention_never_shrinks_a_disk(changes in plans(), more in 1u64..=1000) {
        let base = storage::storage(&build(&changes));
        let longer = |path: &'static str, max: u64, forever_is_zero: bool| {
            let now: u64 = text_of(&changes, path).parse().unwrap();
            let next = if forever_is_zero && now == 0 { 0 } else { now.saturating_add(more).min(max) };
            with(&changes, path, next.to_string())
        };
        for (path, p) in [
            ("retention.local-media-days", longer("retention.local-media-days", 36_500, true)),
            ("retention.remote-media-days", longer("retention.remote-media-days", 36_500, true)),
            ("retention.local-media-days", with(&changes, "retention.local-media-days", "0".into())),
            ("retention.remote-media-days", with(&changes, "retention.remote-media-days", "0".into())),
            ("retention.full-backups", longer("retention.full-backups", 52, false)),
            ("retention.media-snapshots", longer("retention.media-snapshots", 365, false)),
            ("retention.prometheus-days", longer("retention.prometheus-days", 3650, false)),
        ] {
            let s = storage::storage(&p);
            for (a, b) in base.disks.iter().zip(&s.disks) {
                for (m, (x, y)) in a.series_gib.iter().zip(&b.series_gib).enumerate() {
                    prop_assert!(y >= x, "{path}: {} month {m}: {y} < {x}", a.id);
                }
            }
        }
    }

    #[test]
    fn bigger_disk_never_fills_sooner(changes in plans(), factor in 1u64..=100) {
        let base = storage::storage(&build(&changes));
        let bigger = |path: &'static str| -> Plan {
            let now: f64 = text_of(&changes, path).parse().unwrap();
            let next = if path == "minio.drive-tib" {
                (now * factor as f64).min(1024.0).to_string()
            } else {
                ((now as u64).saturating_mul(factor)).min(10_000_000).to_string()
            };
            with(&changes, path, next)
        };
        for id in DiskId::ALL {
            let s = storage::storage(&bigger(id.capacity_path()));
            let (a, b) = (&base.disks[id.index()], &s.disks[id.index()]);
            prop_assert!(b.capacity_gib >= a.capacity_gib, "{}", a.id);
            prop_assert!(later_or_same(a.month_full, b.month_full), "{} fills sooner with a bigger disk: {:?} vs {:?}", a.id, b.month_full, a.month_full);
        }
    }

    #[test]
    fn series_grow_when_media_are_kept_forever(changes in plans()) {
        let mut c = changes.clone();
        c.retain(|(k, _)| !k.ends_with("-media-days"));
        c.push(("retention.local-media-days", "0".into()));
        c.push(("retention.remote-media-days", "0".into()));
        let s = storage::storage(&build(&c));
        for d in &s.disks {
            for w in d.series_gib.windows(2) {
                prop_assert!(w[1] >= w[0], "{}: {:?}", d.id, d.series_gib);
            }
            for w in d.series_percent.windows(2) {
                prop_assert!(w[1] >= w[0], "{}: {:?}", d.id, d.series_percent);
            }
        }
    }

    #[test]
    fn arbitrary_plans_are_finite(
        changes in plans(),
        bytes in 0.0f64..=5_500_000.0,
        wal in 0.0f64..=13_700_000.0,
        members in 0.0f64..=1_000_000.0,
        share in 0.0f64..=1000.0,
        registered in 1u64..=100_000_000,
    ) {
        let mut c = changes.clone();
        let dau: u64 = text_of(&c, "activity.daily-active-users").parse().unwrap();
        c.retain(|(k, _)| *k != "users.registered" && *k != "activity.daily-active-users");
        c.insert(0, ("users.registered", registered.max(dau).to_string()));
        c.push(("activity.daily-active-users", dau.to_string()));
        c.push(("assumptions.db-bytes-per-event", bytes.to_string()));
        c.push(("assumptions.wal-bytes-per-event", wal.to_string()));
        c.push(("assumptions.fed-room-members-small", members.to_string()));
        c.push(("assumptions.fed-room-members-open", members.to_string()));
        c.push(("assumptions.disk-full-share", share.to_string()));
        c.push(("assumptions.backup-changed-share", share.to_string()));
        let p = build(&c);
        let st = storage::storage(&p);
        assert_sane(&st, &format!("{c:?}"));
        for path in ["months-until-full.backup", "disks[1].end-gib", "rates.wal-gib-per-day", "disks[2].items[2].now-gib"] {
            let e = storage::explain(&p, &st, path);
            prop_assert!(e.as_deref().is_some_and(|e| !e.contains("NaN") && !e.contains("inf")), "{path}: {e:?}");
        }
    }
}
