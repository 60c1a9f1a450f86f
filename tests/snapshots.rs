//! Snapshots of everything a plan turns into: the JSON and text reports, and the plan
//! written back as full and minimal YAML. One named plan per test; the snapshots live
//! in tests/snapshots/<plan>-<output>.snap and were each read by eye before acceptance.
//!
//! After a deliberate change: `INSTA_UPDATE=always cargo test --test snapshots`, then
//! review the diff of tests/snapshots/ before committing it.

use synapse_planner::plan::{self, Plan, YamlStyle};
use synapse_planner::report::Report;

/// Reads a plan file from tests/plans/ and insists it is clean: no error, no warning.
fn plan_file(file: &str) -> Plan {
    let path = format!("{}/tests/plans/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v = plan::from_yaml(&text).validate();
    assert_eq!(v.problems, vec![], "{path} should read without any problem");
    v.plan.unwrap_or_else(|| panic!("{path} is invalid"))
}

/// Snapshots every output of `plan` under `name`, and checks the facts a snapshot alone
/// would not: the JSON is the JSON value, the YAML reads back to the same plan.
fn check(name: &str, source: &str, plan: &Plan) {
    let report = Report::new(plan);
    let json = report.to_json();
    let parsed: serde_json::Value = serde_json::from_str(&json).expect("report JSON parses");
    assert_eq!(
        parsed,
        report.to_json_value(),
        "{name}: to_json ≠ to_json_value"
    );
    let full = plan::to_yaml(plan, YamlStyle::Full);
    let minimal = plan::to_yaml(plan, YamlStyle::Minimal);
    for (style, yaml) in [("full", &full), ("minimal", &minimal)] {
        let v = plan::from_yaml(yaml).validate();
        assert_eq!(
            v.plan.as_ref(),
            Some(plan),
            "{name}: {style} YAML reads back"
        );
    }

    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_description(source);
    settings.set_omit_expression(true);
    settings.bind(|| {
        insta::assert_snapshot!(format!("{name}-report-json"), json);
        insta::assert_snapshot!(format!("{name}-report-text"), report.to_text());
        insta::assert_snapshot!(format!("{name}-plan-full-yaml"), full);
        insta::assert_snapshot!(format!("{name}-plan-minimal-yaml"), minimal);
    });
}

/// The codes of a plan's findings, by severity: what each named plan is for.
fn check_codes(plan: &Plan, expect: &[(&str, &str)]) {
    let got: Vec<(String, &str)> = Report::new(plan)
        .findings
        .iter()
        .map(|f| (f.severity.to_string(), f.code))
        .collect();
    let want: Vec<(String, &str)> = expect.iter().map(|(s, c)| (s.to_string(), *c)).collect();
    assert_eq!(got, want, "findings of {}", plan.name);
}

#[test]
fn default_plan() {
    let p = Plan::default();
    check("default", "Plan::default()", &p);
    check_codes(
        &p,
        &[
            ("warning", "pgbouncer-transaction-pooling"),
            // The backup repository (hourly incrementals) and MinIO fill within the
            // 36 months planned; LiveKit keeps the seed's 50100-50200 range.
            ("warning", "storage-fills"),
            ("warning", "storage-fills"),
            ("warning", "livekit-port-range-small"),
            ("warning", "minio-unmaintained"),
            ("info", "cache-autotuning-cap"),
            ("info", "event-persisters-fixed"),
            ("info", "media-retention-keeps-minio"),
            ("info", "livekit-redis-single"),
            ("info", "etcd-disk-latency"),
        ],
    );
}

#[test]
fn plan_100k() {
    let p = plan_file("100k.yaml");
    check("100k", "tests/plans/100k.yaml", &p);
    check_codes(
        &p,
        &[
            // Disks, LiveKit nodes and ports are the 100,000-user preset's, sized for the
            // activity derived from its users (no storage or call finding).
            ("warning", "pgbouncer-transaction-pooling"),
            ("warning", "minio-unmaintained"),
            ("info", "cache-autotuning-cap"),
            ("info", "event-persisters-fixed"),
            // 256 GiB: above PGTune's 100 GB, where it warns its rules are not optimal.
            ("info", "postgres-pgtune-high-memory"),
            // 1,000 connections: PostgreSQL's backends may hold more than half of
            // fs.file-max's 2,097,152; the bundle raises it on the Patroni hosts.
            ("info", "file-descriptors-raised"),
            ("info", "media-retention-keeps-minio"),
            ("info", "livekit-redis-single"),
            ("info", "etcd-disk-latency"),
        ],
    );
}

#[test]
fn plan_minimal() {
    let p = plan_file("minimal.yaml");
    assert_eq!(p.worker_count(), 0);
    assert!(!p.synapse.redis);
    check("minimal", "tests/plans/minimal.yaml", &p);
    check_codes(
        &p,
        &[
            // A 16 GiB Patroni node fits (87%): the backends PgBouncer can open, not
            // max_connections, size work_mem's worst case. MinIO's 8 GiB node meets its
            // whole-node guidance exactly, which is not "tight".
            ("warning", "pgbouncer-transaction-pooling"),
            ("warning", "quorum-single-member"),
            ("warning", "haproxy-single"),
            // 2 vCPUs: the Patroni node needs ESS's 2 for PostgreSQL plus etcd, Patroni,
            // pgBackRest and the OS (5.25); MinIO's checklist asks 8 per node.
            ("warning", "cpu-short"),
            ("warning", "cpu-short"),
            ("warning", "minio-single-node"),
            ("warning", "minio-unmaintained"),
            // PGTune's work_mem would let the worst case outgrow 16 GiB.
            ("info", "postgres-work-mem-below-pgtune"),
            ("info", "media-retention-keeps-minio"),
            ("info", "calls-turn-off"),
            ("info", "calls-livekit-off"),
            ("info", "etcd-disk-latency"),
        ],
    );
}

#[test]
fn plan_odd_counts() {
    let p = plan_file("odd-counts.yaml");
    check("odd-counts", "tests/plans/odd-counts.yaml", &p);
    check_codes(
        &p,
        &[
            ("warning", "pgbouncer-transaction-pooling"),
            ("warning", "haproxy-single"),
            ("warning", "storage-fills"),
            ("warning", "livekit-port-range-small"),
            ("warning", "minio-unmaintained"),
            ("info", "cache-autotuning-cap"),
            ("info", "event-persisters-fixed"),
            ("info", "media-retention-keeps-minio"),
            ("info", "livekit-redis-single"),
            ("info", "etcd-disk-latency"),
        ],
    );
}

#[test]
fn plan_overcommitted() {
    let p = plan_file("overcommitted.yaml");
    check("overcommitted", "tests/plans/overcommitted.yaml", &p);
    check_codes(
        &p,
        &[
            ("error", "ram-over-budget"),
            ("error", "pgbouncer-clients-short"),
            ("error", "postgres-connections-short"),
            ("warning", "pgbouncer-transaction-pooling"),
            ("warning", "storage-fills"),
            ("warning", "storage-fills"),
            ("warning", "livekit-port-range-small"),
            ("warning", "minio-unmaintained"),
            ("info", "cache-autotuning-cap"),
            ("info", "synapse-cache-bound-over-ram"),
            ("info", "event-persisters-fixed"),
            // PGTune's work_mem would let 416 processes' hash tables outgrow 64 GiB.
            ("info", "postgres-work-mem-below-pgtune"),
            ("info", "media-retention-keeps-minio"),
            ("info", "livekit-redis-single"),
            ("info", "etcd-disk-latency"),
        ],
    );
}
