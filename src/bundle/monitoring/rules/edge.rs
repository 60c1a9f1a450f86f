//! Group `edge`: HAProxy backends and the keepalived VIP.

use crate::bundle::monitoring::alerts::{self, Case, Group, Severity, alert, fires_on, l, s};
use crate::bundle::{Ctx, File};
use crate::deploy::Host;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/edge.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/edge.test.yml";

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group())
}

/// The group's alerts.
pub fn group() -> Group {
    use Severity::{Critical, Warning};
    Group {
        name: "edge",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "HAProxy backends and the keepalived VIP.",
        alerts: vec![
            alert(
                // Backends with servers but none usable. The PostgreSQL replicas backend
                // is excluded: with one Patroni node it is empty by design (assumption:
                // its name contains "replica").
                "HaproxyBackendDown",
                r#"(haproxy_backend_active_servers{job="haproxy",proxy!~"(?i).*replica.*"} + haproxy_backend_backup_servers{job="haproxy",proxy!~"(?i).*replica.*"}) == 0 and on (instance, proxy) (count by (instance, proxy) (haproxy_server_weight{job="haproxy"}) > 0)"#,
                "1m",
                Critical,
                "HAProxy backend {{ $labels.proxy }} on {{ $labels.instance }} has no server up",
                "Every server of backend {{ $labels.proxy }} fails its health check on {{ $labels.instance }}: the requests it carries fail.",
                vec![Case {
                    series: vec![
                        s(
                            r#"haproxy_backend_active_servers{job="haproxy",instance="haproxy1.internal",proxy="synapse"}"#,
                            "0x5",
                        ),
                        s(
                            r#"haproxy_backend_backup_servers{job="haproxy",instance="haproxy1.internal",proxy="synapse"}"#,
                            "0x5",
                        ),
                        s(
                            r#"haproxy_server_weight{job="haproxy",instance="haproxy1.internal",proxy="synapse",server="synapse"}"#,
                            "1x5",
                        ),
                        s(
                            r#"haproxy_backend_active_servers{job="haproxy",instance="haproxy1.internal",proxy="minio"}"#,
                            "4x5",
                        ),
                        s(
                            r#"haproxy_backend_backup_servers{job="haproxy",instance="haproxy1.internal",proxy="minio"}"#,
                            "0x5",
                        ),
                        s(
                            r#"haproxy_server_weight{job="haproxy",instance="haproxy1.internal",proxy="minio",server="minio1"}"#,
                            "1x5",
                        ),
                        s(
                            r#"haproxy_backend_active_servers{job="haproxy",instance="haproxy1.internal",proxy="stats"}"#,
                            "0x5",
                        ),
                        s(
                            r#"haproxy_backend_backup_servers{job="haproxy",instance="haproxy1.internal",proxy="stats"}"#,
                            "0x5",
                        ),
                    ],
                    eval: "5m",
                    fires: vec![l(&[
                        ("job", "haproxy"),
                        ("instance", "haproxy1.internal"),
                        ("proxy", "synapse"),
                    ])],
                }],
            ),
            alert(
                "VipDown",
                r#"up{job="haproxy-vip"} == 0"#,
                "1m",
                Critical,
                "Nothing answers on the VIP {{ $labels.instance }}",
                "HAProxy's stats port does not answer on the keepalived VIP for 1 minute: no HAProxy host holds the VIP, or HAProxy is down on the one that does. Every client request fails. Check keepalived on the HAProxy hosts.",
                vec![fires_on(
                    s(r#"up{job="haproxy-vip",instance="vip.internal"}"#, "0x5"),
                    s(r#"up{job="haproxy",instance="haproxy1.internal"}"#, "0x5"),
                    "5m",
                    l(&[("job", "haproxy-vip"), ("instance", "vip.internal")]),
                )],
            ),
            alert(
                "VipMoved",
                r#"changes(haproxy_process_start_time_seconds{job="haproxy-vip"}[10m]) > 0"#,
                "0m",
                Warning,
                "The VIP moved to another HAProxy (or HAProxy restarted on its holder)",
                "The HAProxy answering on the VIP changed in the last 10 minutes: keepalived failed over, or HAProxy restarted on the VIP holder. Find out why the former holder gave it up.",
                vec![fires_on(
                    s(
                        r#"haproxy_process_start_time_seconds{job="haproxy-vip",instance="vip.internal"}"#,
                        "1000x5 2000x5",
                    ),
                    s(
                        r#"haproxy_process_start_time_seconds{job="haproxy",instance="haproxy1.internal"}"#,
                        "1000x5 2000x5",
                    ),
                    "8m",
                    l(&[("job", "haproxy-vip"), ("instance", "vip.internal")]),
                )],
            ),
        ],
    }
}
