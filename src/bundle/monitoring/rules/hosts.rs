//! Group `hosts`: scrape targets, hosts (node_exporter), clocks, disks, memory, Prometheus itself.

use crate::bundle::monitoring::alerts::{
    self, Alert, Case, Group, Severity, alert, fires_on, l, s,
};
use crate::bundle::monitoring::blackbox::{JOB_TURN, PROBE_JOBS};
use crate::bundle::{Ctx, File};
use crate::deploy::Host;

use super::disks::NOT_DISKS;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/hosts.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/hosts.test.yml";

/// Seed §1: clocks must agree within 100 ms (Patroni, etcd).
pub const CLOCK_SKEW_S: f64 = 0.1;

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group())
}

/// The group's alerts.
pub fn group() -> Group {
    Group {
        name: "hosts",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "Scrape targets, hosts (node_exporter), clocks, disks, memory, Prometheus itself.",
        alerts: [reachability(), resources()].concat(),
    }
}

/// Targets and hosts that do not answer, and clocks that disagree.
fn reachability() -> Vec<Alert> {
    use Severity::{Critical, Warning};
    vec![
        alert(
            "TargetDown",
            // Probe jobs left out: their `up` is the local blackbox exporter's (job
            // blackbox says when it is down), the probed service's state is
            // probe_success (rules of the calls and tls groups).
            format!(r#"up{{job!~"{}"}} == 0"#, PROBE_JOBS.join("|")),
            "5m",
            Warning,
            "{{ $labels.job }} on {{ $labels.instance }} is not answering",
            "Prometheus cannot scrape job {{ $labels.job }} on {{ $labels.instance }} for 5 minutes: the service or its exporter is down, or a firewall blocks the port.",
            vec![Case {
                series: vec![
                    s(r#"up{job="postgres",instance="patroni2.internal"}"#, "0x10"),
                    s(r#"up{job="postgres",instance="patroni1.internal"}"#, "1x10"),
                    s(
                        &format!(
                            r#"up{{job="{JOB_TURN}",instance="coturn1.internal",target="10.0.1.109:3478"}}"#
                        ),
                        "0x10",
                    ),
                ],
                eval: "10m",
                fires: vec![l(&[("job", "postgres"), ("instance", "patroni2.internal")])],
            }],
        ),
        alert(
            "HostDown",
            r#"up{job="node"} == 0"#,
            "2m",
            Critical,
            "Host {{ $labels.instance }} is down",
            "node_exporter on {{ $labels.instance }} has not answered for 2 minutes: the host is down or unreachable. Its other alerts are inhibited.",
            vec![fires_on(
                s(r#"up{job="node",instance="minio2.internal"}"#, "0x5"),
                s(r#"up{job="node",instance="minio1.internal"}"#, "1x5"),
                "5m",
                l(&[("job", "node"), ("instance", "minio2.internal")]),
            )],
        ),
        alert(
            "ClockSkew",
            format!("abs(node_timex_offset_seconds) > {CLOCK_SKEW_S}"),
            "5m",
            Critical,
            "Clock of {{ $labels.instance }} is off by more than 100 ms",
            "The kernel's time offset on {{ $labels.instance }} exceeds 100 ms (seed §1: Patroni and etcd need < 100 ms between nodes). Check chronyc tracking and the time source (the monitoring host).",
            vec![fires_on(
                s(
                    r#"node_timex_offset_seconds{job="node",instance="patroni1.internal"}"#,
                    "-0.25x10",
                ),
                s(
                    r#"node_timex_offset_seconds{job="node",instance="patroni2.internal"}"#,
                    "0.002x10",
                ),
                "10m",
                l(&[("job", "node"), ("instance", "patroni1.internal")]),
            )],
        ),
        alert(
            "ClockNotSynchronised",
            "min_over_time(node_timex_sync_status[5m]) == 0",
            "10m",
            Warning,
            "Clock of {{ $labels.instance }} is not synchronised",
            "The kernel reports {{ $labels.instance }}'s clock unsynchronised for 15 minutes: chrony has no usable source.",
            vec![fires_on(
                s(
                    r#"node_timex_sync_status{job="node",instance="backup.internal"}"#,
                    "0x30",
                ),
                s(
                    r#"node_timex_sync_status{job="node",instance="synapse.internal"}"#,
                    "1x30",
                ),
                "30m",
                l(&[("job", "node"), ("instance", "backup.internal")]),
            )],
        ),
    ]
}

/// Disks, memory, and Prometheus' own rule evaluation.
fn resources() -> Vec<Alert> {
    use Severity::{Critical, Warning};
    vec![
        alert(
            "DiskSpaceLow",
            format!(
                r#"node_filesystem_avail_bytes{{fstype!~"{NOT_DISKS}"}} / node_filesystem_size_bytes < 0.15 and node_filesystem_readonly == 0"#
            ),
            "10m",
            Warning,
            "{{ $labels.mountpoint }} on {{ $labels.instance }} has less than 15% free",
            "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} is more than 85% full.",
            vec![disk_case("0.10", "0.50")],
        ),
        alert(
            "DiskSpaceCritical",
            format!(
                r#"node_filesystem_avail_bytes{{fstype!~"{NOT_DISKS}"}} / node_filesystem_size_bytes < 0.05 and node_filesystem_readonly == 0"#
            ),
            "5m",
            Critical,
            "{{ $labels.mountpoint }} on {{ $labels.instance }} has less than 5% free",
            "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} is more than 95% full: PostgreSQL, MinIO or Prometheus stop writing when it fills.",
            vec![disk_case("0.02", "0.50")],
        ),
        alert(
            "MemoryLow",
            "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.05",
            "10m",
            Warning,
            "{{ $labels.instance }} has less than 5% memory available",
            "MemAvailable on {{ $labels.instance }} is under 5% of RAM: the next allocation may wake the OOM killer. Compare with the plan's RAM budget for the role.",
            vec![Case {
                series: vec![
                    s(
                        r#"node_memory_MemAvailable_bytes{job="node",instance="synapse.internal"}"#,
                        "2x15",
                    ),
                    s(
                        r#"node_memory_MemTotal_bytes{job="node",instance="synapse.internal"}"#,
                        "100x15",
                    ),
                    s(
                        r#"node_memory_MemAvailable_bytes{job="node",instance="backup.internal"}"#,
                        "50x15",
                    ),
                    s(
                        r#"node_memory_MemTotal_bytes{job="node",instance="backup.internal"}"#,
                        "100x15",
                    ),
                ],
                eval: "15m",
                fires: vec![l(&[("job", "node"), ("instance", "synapse.internal")])],
            }],
        ),
        alert(
            "OomKill",
            "increase(node_vmstat_oom_kill[30m]) > 0",
            "0m",
            Warning,
            "The OOM killer ran on {{ $labels.instance }}",
            "The kernel killed a process for lack of memory on {{ $labels.instance }} in the last 30 minutes (dmesg says which).",
            vec![fires_on(
                s(
                    r#"node_vmstat_oom_kill{job="node",instance="synapse.internal"}"#,
                    "0x10 1x10",
                ),
                s(
                    r#"node_vmstat_oom_kill{job="node",instance="patroni1.internal"}"#,
                    "0x20",
                ),
                "20m",
                l(&[("job", "node"), ("instance", "synapse.internal")]),
            )],
        ),
        alert(
            "PrometheusRuleFailures",
            "increase(prometheus_rule_evaluation_failures_total[10m]) > 0",
            "0m",
            Warning,
            "Prometheus fails to evaluate rules in group {{ $labels.rule_group }}",
            "Rules of {{ $labels.rule_group }} failed to evaluate in the last 10 minutes: alerts of that group may be silent. See the Prometheus log.",
            vec![fires_on(
                s(
                    r#"prometheus_rule_evaluation_failures_total{job="prometheus",instance="monitoring.internal",rule_group="/etc/prometheus/rules/a.yml;a"}"#,
                    "0x5 3x10",
                ),
                s(
                    r#"prometheus_rule_evaluation_failures_total{job="prometheus",instance="monitoring.internal",rule_group="/etc/prometheus/rules/b.yml;b"}"#,
                    "0x15",
                ),
                "10m",
                l(&[
                    ("job", "prometheus"),
                    ("instance", "monitoring.internal"),
                    ("rule_group", "/etc/prometheus/rules/a.yml;a"),
                ]),
            )],
        ),
    ]
}

fn disk_case(bad: &str, good: &str) -> Case {
    let fs = |inst: &str, avail: &str| {
        vec![
            s(
                &format!(
                    r#"node_filesystem_avail_bytes{{job="node",instance="{inst}",device="/dev/sdb1",fstype="xfs",mountpoint="/data1"}}"#
                ),
                &format!("{avail}x15"),
            ),
            s(
                &format!(
                    r#"node_filesystem_size_bytes{{job="node",instance="{inst}",device="/dev/sdb1",fstype="xfs",mountpoint="/data1"}}"#
                ),
                "1x15",
            ),
            s(
                &format!(
                    r#"node_filesystem_readonly{{job="node",instance="{inst}",device="/dev/sdb1",fstype="xfs",mountpoint="/data1"}}"#
                ),
                "0x15",
            ),
        ]
    };
    let mut series = fs("minio1.internal", bad);
    series.extend(fs("minio2.internal", good));
    Case {
        series,
        eval: "15m",
        fires: vec![l(&[
            ("job", "node"),
            ("instance", "minio1.internal"),
            ("device", "/dev/sdb1"),
            ("fstype", "xfs"),
            ("mountpoint", "/data1"),
        ])],
    }
}
