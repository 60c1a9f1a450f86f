//! Group `database`: PostgreSQL, Patroni, etcd, PgBouncer.

use crate::bundle::monitoring::alerts::{
    self, Alert, Case, Group, Severity, alert, fires_on, l, s, silent,
};
use crate::bundle::{Ctx, File};
use crate::deploy::Host;
use crate::deploy::facts::DATABASE;
use crate::deploy::failover::{PATRONI_LOOP_WAIT_S, PATRONI_MAX_LAG_BYTES, PATRONI_TTL_S};
use crate::plan::Role;
use crate::syntax::promql;

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/database.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/database.test.yml";

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group(ctx))
}

/// The group's alerts.
pub fn group(ctx: &Ctx) -> Group {
    Group {
        name: "database",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "PostgreSQL, Patroni, etcd, PgBouncer.",
        alerts: [
            postgres(),
            patroni_leader(),
            patroni_replicas(),
            vec![patroni_members(ctx)],
            etcd(ctx),
            vec![pgbouncer()],
        ]
        .concat(),
    }
}

/// PostgreSQL itself: up, cache hits, connections near max_connections.
fn postgres() -> Vec<Alert> {
    use Severity::{Critical, Warning};
    vec![
        alert(
            // Seed: up{job="postgres"} == 0 tests the exporter, not PostgreSQL.
            "PostgreSQLDown",
            "pg_up == 0 or patroni_postgres_running == 0",
            "1m",
            Critical,
            "PostgreSQL on {{ $labels.instance }} is down",
            "postgres_exporter cannot connect, or Patroni reports PostgreSQL not running, on {{ $labels.instance }} for 1 minute. patronictl list; journalctl -u patroni.",
            vec![fires_on(
                s(
                    r#"pg_up{job="postgres",instance="patroni3.internal"}"#,
                    "0x5",
                ),
                s(
                    r#"pg_up{job="postgres",instance="patroni1.internal"}"#,
                    "1x5",
                ),
                "5m",
                l(&[("job", "postgres"), ("instance", "patroni3.internal")]),
            )],
        ),
        alert(
            // Seed: blks_hit / (blks_hit + blks_read) on the raw counters gives the
            // ratio since the statistics reset, never today's; rates over a window,
            // summed over the database's series, give the current ratio.
            "LowCacheHitRatio",
            format!(
                "sum by (instance) (rate(pg_stat_database_blks_hit{{datname={db}}}[10m])) / (sum by (instance) (rate(pg_stat_database_blks_hit{{datname={db}}}[10m])) + sum by (instance) (rate(pg_stat_database_blks_read{{datname={db}}}[10m]))) < 0.95",
                db = promql::string(DATABASE)
            ),
            "10m",
            Warning,
            "PostgreSQL cache hit ratio on {{ $labels.instance }} is below 95%",
            format!(
                "Fewer than 95% of the {DATABASE} database's block reads on {{{{ $labels.instance }}}} came from shared buffers over 10 minutes: the working set no longer fits (shared_buffers, RAM)."
            ),
            vec![Case {
                series: vec![
                    s(
                        r#"pg_stat_database_blks_hit{job="postgres",instance="patroni1.internal",datname="synapse"}"#,
                        "0+800x25",
                    ),
                    s(
                        r#"pg_stat_database_blks_read{job="postgres",instance="patroni1.internal",datname="synapse"}"#,
                        "0+200x25",
                    ),
                    s(
                        r#"pg_stat_database_blks_hit{job="postgres",instance="patroni2.internal",datname="synapse"}"#,
                        "0+990x25",
                    ),
                    s(
                        r#"pg_stat_database_blks_read{job="postgres",instance="patroni2.internal",datname="synapse"}"#,
                        "0+10x25",
                    ),
                ],
                eval: "25m",
                fires: vec![l(&[("instance", "patroni1.internal")])],
            }],
        ),
    ]
}

/// Patroni's leader: none, or more than one.
fn patroni_leader() -> Vec<Alert> {
    use Severity::Critical;
    vec![
        alert(
            "PostgresConnectionsNearMax",
            "sum by (instance) (pg_stat_activity_count) > 0.95 * max by (instance) (pg_settings_max_connections - pg_settings_superuser_reserved_connections)",
            "5m",
            Critical,
            "PostgreSQL on {{ $labels.instance }} is close to max_connections",
            "More than 95% of the connections non-superusers may open on {{ $labels.instance }} are in use: new connections will be refused.",
            vec![Case {
                series: vec![
                    s(
                        r#"pg_stat_activity_count{job="postgres",instance="patroni1.internal",datname="synapse",state="idle"}"#,
                        "98x10",
                    ),
                    s(
                        r#"pg_settings_max_connections{job="postgres",instance="patroni1.internal"}"#,
                        "103x10",
                    ),
                    s(
                        r#"pg_settings_superuser_reserved_connections{job="postgres",instance="patroni1.internal"}"#,
                        "3x10",
                    ),
                    s(
                        r#"pg_stat_activity_count{job="postgres",instance="patroni2.internal",datname="synapse",state="idle"}"#,
                        "20x10",
                    ),
                    s(
                        r#"pg_settings_max_connections{job="postgres",instance="patroni2.internal"}"#,
                        "103x10",
                    ),
                    s(
                        r#"pg_settings_superuser_reserved_connections{job="postgres",instance="patroni2.internal"}"#,
                        "3x10",
                    ),
                ],
                eval: "10m",
                fires: vec![l(&[("instance", "patroni1.internal")])],
            }],
        ),
        alert(
            "PatroniNoLeader",
            "sum by (scope) (patroni_primary) == 0 or max by (scope) (patroni_cluster_unlocked) == 1",
            "1m",
            Critical,
            "Patroni cluster {{ $labels.scope }} has no leader",
            "No Patroni node of {{ $labels.scope }} is primary (or the leader lock is free) for 1 minute: writes fail. patronictl list; check etcd.",
            vec![Case {
                series: vec![
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-a"}"#,
                        "0x5",
                    ),
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-a"}"#,
                        "0x5",
                    ),
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-b"}"#,
                        "1x5",
                    ),
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-b"}"#,
                        "0x5",
                    ),
                ],
                eval: "5m",
                fires: vec![l(&[("scope", "pg-a")])],
            }],
        ),
        alert(
            "PatroniMultiplePrimaries",
            "sum by (scope) (patroni_primary) > 1",
            "1m",
            Critical,
            "Patroni cluster {{ $labels.scope }} has more than one primary",
            "Several nodes of {{ $labels.scope }} report themselves primary for 1 minute: split brain. HAProxy sends writes to whichever answers /primary first. Stop the stale one.",
            vec![Case {
                series: vec![
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-a"}"#,
                        "1x5",
                    ),
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-a"}"#,
                        "1x5",
                    ),
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-b"}"#,
                        "1x5",
                    ),
                    s(
                        r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-b"}"#,
                        "0x5",
                    ),
                ],
                eval: "5m",
                fires: vec![l(&[("scope", "pg-a")])],
            }],
        ),
    ]
}

/// Patroni's replicas: lag beyond failover, maintenance mode, pending restarts.
fn patroni_replicas() -> Vec<Alert> {
    use Severity::Warning;
    // Patroni's maximum_lag_on_failover in words (a whole number of MiB).
    let lag = format!("{} MiB", PATRONI_MAX_LAG_BYTES / 1_048_576);
    vec![
        alert(
            "PatroniReplicationLag",
            format!(
                "max by (scope) (patroni_xlog_location) - on (scope) group_right () (patroni_xlog_received_location and on (instance) patroni_replica == 1) > {PATRONI_MAX_LAG_BYTES}"
            ),
            "5m",
            Warning,
            format!("Replica {{{{ $labels.instance }}}} lags more than {lag} behind the primary"),
            format!(
                "{{{{ $labels.instance }}}} has received WAL more than {lag} behind the primary of {{{{ $labels.scope }}}} for 5 minutes: beyond Patroni's maximum_lag_on_failover it is no failover candidate."
            ),
            vec![Case {
                series: vec![
                    s(
                        r#"patroni_xlog_location{job="patroni",instance="patroni1.internal",scope="pg"}"#,
                        "900000000x10",
                    ),
                    s(
                        r#"patroni_xlog_location{job="patroni",instance="patroni2.internal",scope="pg"}"#,
                        "0x10",
                    ),
                    s(
                        r#"patroni_xlog_location{job="patroni",instance="patroni3.internal",scope="pg"}"#,
                        "0x10",
                    ),
                    s(
                        r#"patroni_xlog_received_location{job="patroni",instance="patroni1.internal",scope="pg"}"#,
                        "0x10",
                    ),
                    s(
                        r#"patroni_xlog_received_location{job="patroni",instance="patroni2.internal",scope="pg"}"#,
                        "800000000x10",
                    ),
                    s(
                        r#"patroni_xlog_received_location{job="patroni",instance="patroni3.internal",scope="pg"}"#,
                        "899990000x10",
                    ),
                    s(
                        r#"patroni_replica{job="patroni",instance="patroni1.internal",scope="pg"}"#,
                        "0x10",
                    ),
                    s(
                        r#"patroni_replica{job="patroni",instance="patroni2.internal",scope="pg"}"#,
                        "1x10",
                    ),
                    s(
                        r#"patroni_replica{job="patroni",instance="patroni3.internal",scope="pg"}"#,
                        "1x10",
                    ),
                ],
                eval: "10m",
                fires: vec![l(&[
                    ("job", "patroni"),
                    ("instance", "patroni2.internal"),
                    ("scope", "pg"),
                ])],
            }],
        ),
        alert(
            "PatroniPaused",
            "max by (scope) (patroni_is_paused) == 1",
            "1h",
            Warning,
            "Patroni cluster {{ $labels.scope }} has been paused for an hour",
            "Maintenance mode (patronictl pause) has been on for over an hour: no automatic failover happens. patronictl resume when done.",
            vec![fires_on(
                s(
                    r#"patroni_is_paused{job="patroni",instance="patroni1.internal",scope="pg-a"}"#,
                    "1x70",
                ),
                s(
                    r#"patroni_is_paused{job="patroni",instance="patroni1.internal",scope="pg-b"}"#,
                    "0x70",
                ),
                "70m",
                l(&[("scope", "pg-a")]),
            )],
        ),
        alert(
            "PatroniPendingRestart",
            "patroni_pending_restart == 1",
            "1h",
            Warning,
            "PostgreSQL on {{ $labels.instance }} waits for a restart",
            "A changed parameter on {{ $labels.instance }} only takes effect after a restart (patronictl restart, one node at a time).",
            vec![fires_on(
                s(
                    r#"patroni_pending_restart{job="patroni",instance="patroni2.internal",scope="pg"}"#,
                    "1x70",
                ),
                s(
                    r#"patroni_pending_restart{job="patroni",instance="patroni1.internal",scope="pg"}"#,
                    "0x70",
                ),
                "70m",
                l(&[
                    ("job", "patroni"),
                    ("instance", "patroni2.internal"),
                    ("scope", "pg"),
                ]),
            )],
        ),
    ]
}

/// A Patroni member that stopped answering: the one database rule a lost node raises in
/// time. When the node dies with its exporter, PostgreSQLDown has no series to fire on,
/// and a failover (at most ttl + loop_wait) ends before PatroniNoLeader's minute; the
/// lab's alert drill showed that only HostDown (2 min) and TargetDown (5 min) fired.
fn patroni_members(ctx: &Ctx) -> Alert {
    use Severity::Warning;
    let members = ctx.plan.host(Role::Patroni).count.max(1);
    alert(
        "PatroniMemberDown",
        format!(r#"(count(up{{job="patroni"}} == 1) or vector(0)) < {members}"#),
        "1m",
        Warning,
        format!("Fewer than {members} Patroni members answer"),
        format!(
            "A Patroni member has not answered its REST API for a minute: its node is down or Patroni stopped there. If it led, a replica has taken over (at most ttl + loop_wait = {} s after the loss); until it is back the cluster has one failover candidate fewer.",
            PATRONI_TTL_S + PATRONI_LOOP_WAIT_S
        ),
        vec![
            Case {
                series: up_series("patroni", members, members - 1),
                eval: "5m",
                fires: vec![Vec::new()],
            },
            silent(up_series("patroni", members, members), "5m"),
        ],
    )
}

/// etcd, Patroni's DCS on the Patroni hosts: leader, quorum, elections.
fn etcd(ctx: &Ctx) -> Vec<Alert> {
    use Severity::{Critical, Warning};
    let patroni = ctx.plan.host(Role::Patroni).count.max(1);
    let quorum = patroni / 2 + 1;
    vec![
        alert(
            "EtcdNoLeader",
            "etcd_server_has_leader == 0",
            "1m",
            Critical,
            "etcd member {{ $labels.instance }} has no leader",
            "etcd on {{ $labels.instance }} sees no leader for 1 minute: Patroni cannot renew its leader lock and demotes the primary when its TTL ends.",
            vec![fires_on(
                s(
                    r#"etcd_server_has_leader{job="etcd",instance="patroni1.internal"}"#,
                    "0x5",
                ),
                s(
                    r#"etcd_server_has_leader{job="etcd",instance="patroni2.internal"}"#,
                    "1x5",
                ),
                "5m",
                l(&[("job", "etcd"), ("instance", "patroni1.internal")]),
            )],
        ),
        alert(
            "EtcdQuorumLost",
            format!(r#"(count(up{{job="etcd"}} == 1) or vector(0)) < {quorum}"#),
            "1m",
            Critical,
            format!("Fewer than {quorum} of {patroni} etcd members answer: quorum lost"),
            format!(
                "etcd needs {quorum} of its {patroni} members for a quorum; fewer answer. Patroni cannot hold its leader lock: PostgreSQL goes read-only (or fails over in failsafe mode only)."
            ),
            vec![
                Case {
                    series: up_series("etcd", patroni, quorum - 1),
                    eval: "5m",
                    fires: vec![Vec::new()],
                },
                silent(up_series("etcd", patroni, quorum), "5m"),
            ],
        ),
        alert(
            "EtcdFrequentLeaderChanges",
            "increase(etcd_server_leader_changes_seen_total[1h]) > 3",
            "0m",
            Warning,
            "etcd on {{ $labels.instance }} saw more than 3 leader changes in an hour",
            "Frequent etcd elections mean slow disks (fsync) or a flaky network between the Patroni hosts; each may cost a Patroni leader-lock renewal.",
            vec![fires_on(
                s(
                    r#"etcd_server_leader_changes_seen_total{job="etcd",instance="patroni1.internal"}"#,
                    "0+1x60",
                ),
                s(
                    r#"etcd_server_leader_changes_seen_total{job="etcd",instance="patroni2.internal"}"#,
                    "1x60",
                ),
                "60m",
                l(&[("job", "etcd"), ("instance", "patroni1.internal")]),
            )],
        ),
    ]
}

/// PgBouncer's pool: clients waiting for a server connection.
fn pgbouncer() -> Alert {
    use Severity::Warning;
    alert(
        "PgBouncerWaitingClients",
        "sum by (instance, database) (pgbouncer_waiting_clients) > 0",
        "5m",
        Warning,
        "Clients wait for a PgBouncer server connection on {{ $labels.instance }}",
        "Synapse's connections to {{ $labels.database }} have waited for a server connection for 5 minutes: the pool (default_pool_size + reserve_pool_size) is exhausted. Compare with the plan's connection chain.",
        vec![fires_on(
            s(
                r#"pgbouncer_waiting_clients{job="pgbouncer",instance="synapse.internal",database="synapse",user="synapse"}"#,
                "4x10",
            ),
            s(
                r#"pgbouncer_waiting_clients{job="pgbouncer",instance="synapse.internal",database="pgbouncer",user="pgbouncer"}"#,
                "0x10",
            ),
            "10m",
            l(&[("instance", "synapse.internal"), ("database", "synapse")]),
        )],
    )
}

/// `up` of JOB on the Patroni hosts: the first UP of MEMBERS answer.
fn up_series(job: &str, members: u64, up: u64) -> Vec<(String, String)> {
    (1..=members)
        .map(|i| {
            s(
                &format!(r#"up{{job="{job}",instance="patroni{i}.internal"}}"#),
                if i <= up { "1x5" } else { "0x5" },
            )
        })
        .collect()
}
