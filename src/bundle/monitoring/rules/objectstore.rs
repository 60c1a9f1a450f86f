//! Group `objectstore`: MinIO nodes, drives, erasure sets, capacity.

use crate::bundle::monitoring::alerts::{
    self, Case, Group, Severity, alert, fires_on, l, s, silent,
};
use crate::bundle::{Ctx, File, objectstore};
use crate::deploy::Host;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/objectstore.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/objectstore.test.yml";

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group(ctx))
}

/// The group's alerts; the erasure set's only with erasure coding.
pub fn group(ctx: &Ctx) -> Group {
    use Severity::{Critical, Warning};
    let mut storage = vec![
        alert(
            "MinioNodesOffline",
            r#"max(minio_cluster_nodes_offline_total{job="minio"}) > 0"#,
            "5m",
            Warning,
            "MinIO nodes are offline",
            "MinIO reports offline nodes for 5 minutes; erasure coding keeps media available while each set keeps its quorum. minio-health-check.sh on a MinIO node shows which.",
            vec![
                Case {
                    series: vec![
                        s(
                            r#"minio_cluster_nodes_offline_total{job="minio",instance="minio1.internal"}"#,
                            "1x10",
                        ),
                        s(
                            r#"minio_cluster_nodes_offline_total{job="minio",instance="minio3.internal"}"#,
                            "1x10",
                        ),
                    ],
                    eval: "10m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![s(
                        r#"minio_cluster_nodes_offline_total{job="minio",instance="minio1.internal"}"#,
                        "0x10",
                    )],
                    "10m",
                ),
            ],
        ),
        alert(
            "MinioDrivesOffline",
            r#"max(minio_cluster_drive_offline_total{job="minio"}) > 0"#,
            "5m",
            Warning,
            "MinIO drives are offline",
            "MinIO reports offline drives for 5 minutes: replace or remount them (XFS, /dataN) and MinIO heals them.",
            vec![
                Case {
                    series: vec![s(
                        r#"minio_cluster_drive_offline_total{job="minio",instance="minio1.internal"}"#,
                        "2x10",
                    )],
                    eval: "10m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![s(
                        r#"minio_cluster_drive_offline_total{job="minio",instance="minio1.internal"}"#,
                        "0x10",
                    )],
                    "10m",
                ),
            ],
        ),
        alert(
            "MinioCapacityLow",
            r#"min(minio_cluster_capacity_usable_free_bytes{job="minio"}) / max(minio_cluster_capacity_usable_total_bytes{job="minio"}) < 0.15"#,
            "30m",
            Warning,
            "MinIO has less than 15% usable capacity free",
            "The media store is over 85% full: add a server pool or drives, or shorten media retention.",
            vec![
                Case {
                    series: vec![
                        s(
                            r#"minio_cluster_capacity_usable_free_bytes{job="minio",instance="minio1.internal"}"#,
                            "10x40",
                        ),
                        s(
                            r#"minio_cluster_capacity_usable_total_bytes{job="minio",instance="minio1.internal"}"#,
                            "100x40",
                        ),
                    ],
                    eval: "40m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![
                        s(
                            r#"minio_cluster_capacity_usable_free_bytes{job="minio",instance="minio1.internal"}"#,
                            "60x40",
                        ),
                        s(
                            r#"minio_cluster_capacity_usable_total_bytes{job="minio",instance="minio1.internal"}"#,
                            "100x40",
                        ),
                    ],
                    "40m",
                ),
            ],
        ),
    ];
    if objectstore::erasure(objectstore::Layout::of(ctx.plan)).is_some() {
        storage.push(alert(
            // MinIO's own sample rule (docs/metrics/prometheus/alerts.md).
            "MinioErasureSetQuorumLost",
            r#"min by (pool, set) (minio_cluster_health_erasure_set_status{job="minio"}) < 1"#,
            "1m",
            Critical,
            "MinIO erasure set {{ $labels.set }} of pool {{ $labels.pool }} lost quorum",
            "More drives of erasure set {{ $labels.set }} (pool {{ $labels.pool }}) are out than its parity allows: its objects cannot be read or written. Bring nodes and drives back first.",
            vec![fires_on(
                s(r#"minio_cluster_health_erasure_set_status{job="minio",instance="minio1.internal",pool="0",set="1"}"#, "0x5"),
                s(r#"minio_cluster_health_erasure_set_status{job="minio",instance="minio1.internal",pool="0",set="0"}"#, "1x5"),
                "5m",
                l(&[("pool", "0"), ("set", "1")]),
            )],
        ));
    }
    Group {
        name: "objectstore",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "MinIO nodes, drives, erasure sets, capacity.",
        alerts: storage,
    }
}
