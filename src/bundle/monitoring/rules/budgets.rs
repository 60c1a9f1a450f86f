//! Group `budgets`: the plan's budgets, watched (issue 5, item 7): PostgreSQL
//! connections against the usable count, Synapse RAM per process, MinIO drives offline
//! against parity, coturn allocations against total-quota, the call relays' bandwidth.
//!
//! Each threshold is a number of the report (or of the plan it is computed from),
//! written into the rule with a comment saying where it comes from; the unit tests put
//! series just below and just above it. tests/validate_monitoring.rs recomputes every
//! threshold from the report on its own and runs promtool on its own series against
//! the generated rules, so a rule whose threshold drifts from the report fails there.

use crate::bundle::monitoring::alerts::{
    self, Alert, Case, Group, Severity, alert, l, lbl, s, silent,
};
use crate::bundle::monitoring::coturn_allocations::{
    COTURN_ALLOCATIONS, COTURN_DROP_IN, COTURN_METRIC_SCRIPT, COTURN_METRIC_STALE_S,
    COTURN_METRIC_UNIT,
};
use crate::bundle::monitoring::scrape::{Target, scrape_jobs};
use crate::bundle::{Ctx, File, objectstore};
use crate::deploy::facts::{DATABASE, NODE_TEXTFILE_DIR, SCRAPE_INTERVAL_S};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::{promql, template};

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/budgets.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/budgets.test.yml";

/// PostgresSynapseConnectionsHigh: above this share (%) of the usable connections
/// (issue 5: "Postgres connections above 80 % of the computed usable count").
pub const CONNECTIONS_WARN_PERCENT: u64 = 80;
/// A coturn node's relay allocations: warning above this share (%) of its limit…
pub const TURN_WARN_PERCENT: u64 = 80;
/// …critical at or above this one.
pub const TURN_CRIT_PERCENT: u64 = 95;

pub const GIB: u64 = 1 << 30;

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group(ctx))
}

/// The group's alerts: PostgreSQL's only with Patroni hosts, MinIO's only with erasure
/// coding, coturn's only with coturn hosts.
pub fn group(ctx: &Ctx) -> Group {
    let b = budgets(ctx);
    Group {
        name: "budgets",
        rules: RULES,
        tests: TESTS,
        test_step: "1m",
        about: "The plan's budgets, watched: PostgreSQL connections against the usable count, Synapse RAM per process, MinIO drives offline against parity, coturn allocations against total-quota. Thresholds come from the report.",
        alerts: [
            postgres_connections(ctx, &b),
            postgres_max_connections(ctx, &b),
            synapse_ram(ctx, &b),
            minio_parity(ctx, &b),
            coturn_allocations(ctx, &b),
            coturn_allocations_unknown(ctx, &b),
            bandwidth(ctx),
        ]
        .concat(),
    }
}

/// `floor(n × percent / 100)`.
fn percent_floor(n: u64, percent: u64) -> u64 {
    n.saturating_mul(percent) / 100
}

/// `ceil(n × percent / 100)`.
fn percent_ceil(n: u64, percent: u64) -> u64 {
    n.saturating_mul(percent).div_ceil(100)
}

/// The thresholds of the budget alerts, each from the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// connections.postgres-available (at least 1).
    pub pg_usable: u64,
    /// PostgresSynapseConnectionsHigh fires above this: 80 % of `pg_usable`, floored.
    pub pg_warn: u64,
    /// connections.postgres-max-connections.
    pub pg_max_connections: u64,
    /// synapse.process-bound-gib in bytes: where cache autotuning holds a process.
    pub synapse_process_bytes: u64,
    /// object-storage.set-size and .parity; None without erasure coding.
    pub erasure: Option<(u64, u64)>,
    /// The allocations one coturn node can hold and what bounds it; None without coturn.
    pub turn: Option<TurnLimit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnLimit {
    pub limit: u64,
    /// What the limit is, for the annotations.
    pub what: String,
    /// Fires above this (80 %, floored)…
    pub warn: u64,
    /// …and critical at or above this (95 %, rounded up).
    pub crit: u64,
}

/// The budget thresholds of the plan.
pub fn budgets(ctx: &Ctx) -> Budgets {
    let c = &ctx.report.connections;
    let pg_usable = c.postgres_available.max(1) as u64;
    let os = &ctx.report.object_storage;
    let t = &ctx.report.calls.turn;
    let ports = crate::sizing::calls::coturn_relay_ports(ctx.plan);
    let (limit, what) = turn_limit(t.total_quota, t.max_allocations_per_node, ports);
    Budgets {
        pg_usable,
        pg_warn: percent_floor(pg_usable, CONNECTIONS_WARN_PERCENT),
        pg_max_connections: c.postgres_max_connections,
        synapse_process_bytes: gib_bytes(ctx.report.synapse.process_bound_gib),
        // Parity below the set size: anything else is a layout MinIO refuses (an error
        // finding), with no set to watch.
        erasure: (os.parity > 0 && os.parity < os.set_size).then_some((os.set_size, os.parity)),
        turn: (ctx.hosts(Role::Coturn).next().is_some() && limit > 0).then(|| TurnLimit {
            limit,
            what,
            warn: percent_floor(limit, TURN_WARN_PERCENT),
            crit: percent_ceil(limit, TURN_CRIT_PERCENT).max(1),
        }),
    }
}

/// The allocations one coturn node can hold, and what sets it: coturn refuses an
/// allocation beyond `total-quota` with 486 (coturn 4.6.1 src/server/ns_turn_server.c,
/// inc_quota; 0 = no quota: examples/etc/turnserver.conf, "Total allocation quota.
/// default value is 0 (no quota)"); the report's calls.turn.max-allocations-per-node is
/// lower when the relay ports or file descriptors run out first (each allocation holds
/// one relay port); 0 there = not computed. With neither, the relay ports.
pub fn turn_limit(total_quota: u64, max_per_node: u64, ports: u64) -> (u64, String) {
    match (total_quota, max_per_node) {
        (q, m) if m > 0 && (q == 0 || m < q) => (
            m,
            format!(
                "calls.turn.max-allocations-per-node: the relay ports (coturn.min-port..coturn.max-port) or file descriptors run out {}",
                if q == 0 {
                    "(no total-quota)".to_string()
                } else {
                    format!("before total-quota {q}")
                }
            ),
        ),
        (q, _) if q > 0 => (
            q,
            "coturn's total-quota (calls.turn.total-quota)".to_string(),
        ),
        _ => (
            ports,
            format!("the {ports} relay ports coturn.min-port..coturn.max-port (no total-quota)"),
        ),
    }
}

/// A report GiB figure (hundredths) in bytes, rounded down.
fn gib_bytes(g: crate::sizing::Gib) -> u64 {
    (u128::from(g.0) * u128::from(GIB) / 100).min(u128::from(u64::MAX)) as u64
}

/// PostgreSQL connections to the synapse database against the usable count.
fn postgres_connections(ctx: &Ctx, b: &Budgets) -> Vec<Alert> {
    use Severity::{Critical, Warning};
    let inst = lbl("instance");
    let mut alerts = Vec::new();
    let c = &ctx.report.connections;
    let Some(pg) = ctx.topology.first(Role::Patroni) else {
        return alerts;
    };
    let reserved: Vec<String> = c
        .postgres_reserved
        .iter()
        .map(|r| format!("{} {}", r.name, r.count))
        .collect();
    let usable = format!(
        "postgres.max-connections {} − {} reserved ({})",
        c.postgres_max_connections,
        c.postgres_reserved_total,
        reserved.join(", ")
    );
    let pools = format!(
        "{} PgBouncer server connections = pgbouncer.default-pool-size {} + pgbouncer.reserve-pool-size {} per PgBouncer",
        c.pgbouncer_server_connections,
        ctx.plan.pgbouncer.default_pool_size,
        ctx.plan.pgbouncer.reserve_pool_size
    );
    let synapse_conns = format!(
        r#"sum by (instance) (pg_stat_activity_count{{job="postgres",datname={}}})"#,
        promql::string(DATABASE)
    );
    // pg_stat_activity_count (postgres_exporter 0.11) has one series per database and
    // state; the case splits the connections over two states so the sum counts.
    let conns = |n: u64, other: u64| -> Vec<(String, String)> {
        let series = |db: &str, state: &str, v: u64| {
            s(
                &format!(
                    r#"pg_stat_activity_count{{job="postgres",instance={},datname={},state="{state}"}}"#,
                    promql::string(&pg.fqdn),
                    promql::string(db)
                ),
                &format!("{v}x15"),
            )
        };
        vec![
            series(DATABASE, "active", n / 2),
            series(DATABASE, "idle", n - n / 2),
            // Other databases (Patroni's, the exporter's) do not count.
            series("postgres", "idle", other),
        ]
    };
    let on_pg = l(&[("instance", &pg.fqdn)]);
    alerts.push(
        alert(
            "PostgresSynapseConnectionsHigh",
            format!("{synapse_conns} > {}", b.pg_warn),
            "10m",
            Warning,
            format!(
                "{inst} has more than {} connections to the {DATABASE} database ({CONNECTIONS_WARN_PERCENT} % of the {} the plan leaves for it)",
                b.pg_warn, b.pg_usable
            ),
            format!(
                "Connections to the {DATABASE} database on {inst} (PgBouncer's server connections, and the weekly pg_dump on a standby) have exceeded {} for 10 minutes: {CONNECTIONS_WARN_PERCENT} % of the {} usable connections the plan computes ({usable}). Why: the plan sizes PgBouncer to stay below that ({pools}); more means the pools are bigger than planned, or clients connect to the {DATABASE} database around PgBouncer, and at {} the reserve of the admin, backup and monitoring connections is next. Change: see who holds them (SELECT usename, client_addr, state, count(*) FROM pg_stat_activity WHERE datname = '{DATABASE}' GROUP BY 1, 2, 3); if Synapse needs them, raise postgres.max-connections in the plan (Patroni applies it with a restart), or lower pgbouncer.default-pool-size and pgbouncer.reserve-pool-size.",
                b.pg_warn, b.pg_usable, b.pg_usable
            ),
            vec![
                Case {
                    series: conns(b.pg_warn + 1, 40),
                    eval: "15m",
                    fires: vec![on_pg.clone()],
                },
                silent(conns(b.pg_warn, 40), "15m"),
            ],
        )
        .because(format!(
            "Threshold {} = floor({CONNECTIONS_WARN_PERCENT} % × {}): report connections.postgres-available = {usable}.",
            b.pg_warn, b.pg_usable
        )),
    );
    alerts.push(
        alert(
            "PostgresSynapseConnectionsExhausted",
            format!("{synapse_conns} >= {}", b.pg_usable),
            "5m",
            Critical,
            format!(
                "{inst} has used up the {} connections the plan leaves for the {DATABASE} database",
                b.pg_usable
            ),
            format!(
                "Connections to the {DATABASE} database on {inst} have reached the {} usable connections of the plan ({usable}) for 5 minutes. Why: what is left is the reserve for the superuser, Patroni, postgres_exporter, pgBackRest and admin sessions; once it is taken, PostgreSQL refuses them (and Synapse's next connection too). Change: lower pgbouncer.default-pool-size and pgbouncer.reserve-pool-size ({pools}) or raise postgres.max-connections in the plan, and find who connects around PgBouncer.",
                b.pg_usable
            ),
            vec![
                Case {
                    series: conns(b.pg_usable, 3),
                    eval: "15m",
                    fires: vec![on_pg.clone()],
                },
                silent(conns(b.pg_usable - 1, 3), "15m"),
            ],
        )
        .because(format!(
            "Threshold {}: report connections.postgres-available = {usable}.",
            b.pg_usable
        )),
    );
    alerts
}

/// max_connections as PostgreSQL runs it against the plan's.
fn postgres_max_connections(ctx: &Ctx, b: &Budgets) -> Vec<Alert> {
    use Severity::Warning;
    let inst = lbl("instance");
    let mut alerts = Vec::new();
    let Some(pg) = ctx.topology.first(Role::Patroni) else {
        return alerts;
    };
    let on_pg = l(&[("instance", &pg.fqdn)]);
    let max = |v: u64| {
        s(
            &format!(
                r#"pg_settings_max_connections{{job="postgres",instance={},server="127.0.0.1:{}"}}"#,
                promql::string(&pg.fqdn),
                ports::POSTGRES
            ),
            &format!("{v}x40"),
        )
    };
    alerts.push(
        alert(
            "PostgresMaxConnectionsNotAsPlanned",
            format!(
                r#"max by (instance) (pg_settings_max_connections{{job="postgres"}}) != {}"#,
                b.pg_max_connections
            ),
            "30m",
            Warning,
            format!(
                "PostgreSQL on {inst} runs with a max_connections other than the plan's {}",
                b.pg_max_connections
            ),
            format!(
                "postgres_exporter has read a max_connections other than {} on {inst} for 30 minutes; the plan's postgres.max-connections is {}, and the connection alerts here are computed from it (usable {}, warning above {}). Why: Patroni's configuration (patronictl show-config) was changed without the plan, or a change waits for a restart (patronictl list: Pending restart). Change: set postgres.max-connections in the plan to what the cluster should run, regenerate the bundle and apply it (patronictl edit-config, then patronictl restart, one node at a time), and install the regenerated rules.",
                b.pg_max_connections, b.pg_max_connections, b.pg_usable, b.pg_warn
            ),
            vec![
                Case {
                    series: vec![max(b.pg_max_connections + 100)],
                    eval: "40m",
                    fires: vec![on_pg.clone()],
                },
                silent(vec![max(b.pg_max_connections)], "40m"),
            ],
        )
        .because(format!(
            "Threshold {}: report connections.postgres-max-connections (the plan's postgres.max-connections).",
            b.pg_max_connections
        )),
    );
    alerts
}

/// The resident memory of each Synapse process against its RAM budget.
fn synapse_ram(ctx: &Ctx, b: &Budgets) -> Vec<Alert> {
    use Severity::Warning;
    let inst = lbl("instance");
    let mut alerts = Vec::new();
    let synapse_targets: Vec<Target> = scrape_jobs(ctx)
        .into_iter()
        .filter(|j| j.name == "synapse")
        .flat_map(|j| j.targets)
        .collect();
    let mut synapse_jobs: Vec<String> = Vec::new();
    for t in &synapse_targets {
        for (k, v) in &t.labels {
            if *k == "job" && !synapse_jobs.contains(v) {
                synapse_jobs.push(v.clone());
            }
        }
    }
    if let (Some(main), Some(s_host)) = (synapse_targets.first(), ctx.topology.first(Role::Synapse))
    {
        let syn = &ctx.report.synapse;
        let base = ctx.plan.assume(&crate::assumptions::SYNAPSE_BASE_MIB);
        let heuristic = format!(
            "synapse.process-bound-gib {} GiB = assumptions.synapse-process-base-mib {base} MiB + synapse.cache-autotuning-max-gib {} GiB",
            syn.process_bound_gib, syn.cache_autotuning_max_gib
        );
        // The process the case fires on: the last worker (or the main process alone).
        let target = synapse_targets.last().unwrap_or(main);
        let rss = |t: &Target, v: u64| {
            let labels: Vec<String> = t
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={}", promql::string(v)))
                .collect();
            s(
                &format!("process_resident_memory_bytes{{{}}}", labels.join(",")),
                &format!("{v}x40"),
            )
        };
        let other = s(
            &format!(
                r#"process_resident_memory_bytes{{job="prometheus",instance={}}}"#,
                promql::string(
                    ctx.topology
                        .first(Role::Monitoring)
                        .map_or("monitoring", |h| h.fqdn.as_str())
                )
            ),
            &format!("{}x40", b.synapse_process_bytes.saturating_mul(10)),
        );
        let fired: Vec<(&'static str, String)> = target.labels.clone();
        alerts.push(
            alert(
                "SynapseProcessOverRamBudget",
                format!(
                    r#"process_resident_memory_bytes{{job=~{},instance={}}} > {}"#,
                    promql::any_of(&synapse_jobs),
                    promql::string(&s_host.fqdn),
                    b.synapse_process_bytes
                ),
                "30m",
                Warning,
                format!(
                    "Synapse {} (index {}) on {inst} uses more than the {} GiB cache autotuning holds a process at",
                    lbl("job"),
                    lbl("index"),
                    syn.process_bound_gib
                ),
                format!(
                    "The resident memory of Synapse process {} (index {}) on {inst} has been above {} GiB for 30 minutes ({heuristic}; the base is an assumption measured in the lab). Why: every 30 s Synapse compares the whole process's jemalloc-allocated memory with caches.cache_autotuning.max_cache_memory_usage and evicts cache entries above it, so a process past the base plus that maximum has grown where autotuning cannot act: entries younger than min_cache_ttl, a large room's state being worked on, big syncs, jemalloc not preloaded, or a leak. The Synapse host's budget ({} GiB for {} processes of hosts.synapse.ram-gib = {} GiB) holds only while the processes stay near their expected size. Change: check that jemalloc is loaded (the jemalloc_stats_app_memory_bytes metric); if the process stays there, plan a larger base (assumptions.synapse-process-base-mib, then hosts.synapse.ram-gib if the host budget no longer fits); restart the process if it keeps growing.",
                    lbl("job"),
                    lbl("index"),
                    syn.process_bound_gib,
                    syn.ram_total_gib,
                    syn.process_count,
                    ctx.plan.host(Role::Synapse).ram_gib
                ),
                vec![
                    Case {
                        series: vec![
                            rss(target, b.synapse_process_bytes.saturating_add(1)),
                            other.clone(),
                        ],
                        eval: "40m",
                        fires: vec![fired],
                    },
                    silent(vec![rss(target, b.synapse_process_bytes), other], "40m"),
                ],
            )
            .because(format!(
                "Threshold {} bytes = {} GiB × 2^30: report {heuristic} (src/sizing/mod.rs synapse_summary; Synapse's autotuning acts on the whole process's jemalloc-allocated memory, synapse/util/caches/lrucache.py _expire_old_entries). Jobs: the main process and every worker type of prometheus.yml's synapse job.",
                b.synapse_process_bytes, syn.process_bound_gib
            )),
        );
    }
    alerts
}

/// MinIO drives offline against the erasure set's parity.
fn minio_parity(ctx: &Ctx, b: &Budgets) -> Vec<Alert> {
    use Severity::Critical;

    let mut alerts = Vec::new();
    let Some((set_size, parity)) = b.erasure else {
        return alerts;
    };
    let os = &ctx.report.object_storage;
    let minio: Vec<&Host> = ctx.hosts(Role::Minio).collect();
    let online = |h: &Host, set: u64, v: u64| {
        s(
            &format!(
                r#"minio_cluster_health_erasure_set_online_drives{{job="{}",instance={},pool="0",set="{set}"}}"#,
                objectstore::PROMETHEUS_JOB,
                promql::string(&h.fqdn)
            ),
            &format!("{v}x10"),
        )
    };
    let at_parity = set_size - parity;
    let mut firing = Vec::new();
    let mut quiet = Vec::new();
    for (i, h) in minio.iter().enumerate() {
        // Every node reports the cluster: set 0 at parity in every view, set 1
        // one drive short of it.
        firing.push(online(h, 0, at_parity));
        firing.push(online(h, 1, at_parity + 1));
        // One node's partial view (a node cut off sees its peers' drives offline)
        // is outvoted by the best one.
        quiet.push(online(h, 0, if i == 0 { at_parity } else { at_parity + 1 }));
    }
    if minio.len() < 2 {
        quiet = minio.iter().map(|h| online(h, 0, at_parity + 1)).collect();
    }
    let writes = if os.write_quorum <= at_parity {
        format!(
            "writes still succeed (write quorum {} of {set_size})",
            os.write_quorum
        )
    } else {
        format!(
            "writes already fail (write quorum {} of {set_size}: parity is half the set)",
            os.write_quorum
        )
    };
    alerts.push(
        alert(
            "MinioErasureSetAtParity",
            format!(
                r#"{set_size} - max by (pool, set) (minio_cluster_health_erasure_set_online_drives{{job="{}"}}) >= {parity}"#,
                objectstore::PROMETHEUS_JOB
            ),
            "5m",
            Critical,
            format!(
                "MinIO erasure set {} of pool {} has {parity} or more of its {set_size} drives offline (its parity)",
                lbl("set"),
                lbl("pool")
            ),
            format!(
                "At least {parity} drives of MinIO erasure set {} (pool {}) have been offline for 5 minutes, as many as its parity: object-storage.parity EC:{parity} of a {set_size}-drive set. Why: each object of the set is stored as {} data and {parity} parity shards; with {parity} drives gone it is still readable (read quorum {}) and {writes}, but one more failure makes the set's objects unreadable. Change: bring the nodes and drives back first (minio-health-check.sh on a MinIO node, mc admin info), MinIO heals them; if drives fail this often, plan more parity (minio.parity) or more drives per set (hosts.minio.count, minio.drives-per-node).",
                lbl("set"),
                lbl("pool"),
                set_size - parity,
                os.read_quorum,
            ),
            vec![
                Case {
                    series: firing,
                    eval: "10m",
                    fires: vec![l(&[("pool", "0"), ("set", "0")])],
                },
                silent(quiet, "10m"),
            ],
        )
        .because(format!(
            "Threshold: offline = {set_size} − online ≥ {parity}, with {set_size} = report object-storage.set-size and {parity} = object-storage.parity (read quorum {}, write quorum {}). Online drives per set (pool, set) as MinIO counts them (cmd/erasure-server-pool.go Health: healing drives count as online), the best view among the nodes.",
            os.read_quorum, os.write_quorum
        )),
    );
    alerts
}

/// coturn's relay allocations against the limit of one node.
fn coturn_allocations(ctx: &Ctx, b: &Budgets) -> Vec<Alert> {
    use Severity::{Critical, Warning};
    let inst = lbl("instance");
    let mut alerts = Vec::new();
    let Some(t) = &b.turn else {
        return alerts;
    };
    let coturn: Vec<&Host> = ctx.hosts(Role::Coturn).collect();
    let first = coturn[0];
    let why = format!(
        "Why: coturn refuses allocations beyond total-quota (486 Allocation Quota Reached) and has none to give once its {} relay ports (coturn.min-port {}..coturn.max-port {}) are taken: clients that need a relay (behind NAT, firewalls) then cannot call; Synapse hands clients every coturn host of the plan ({}), so the others take the load only while they have room.",
        crate::sizing::calls::coturn_relay_ports(ctx.plan),
        ctx.plan.coturn.min_port,
        ctx.plan.coturn.max_port,
        coturn.len()
    );
    let fix = "Change: add coturn hosts (hosts.coturn.count), or plan the calls again (calls.concurrent-1to1, calls.relayed-share), which sets total-quota; widen coturn.min-port..coturn.max-port if the ports run out first.";
    alerts.push(
        alert(
            "CoturnAllocationsHigh",
            format!(r#"{COTURN_ALLOCATIONS}{{job="node"}} > {}"#, t.warn),
            "5m",
            Warning,
            format!(
                "coturn on {inst} holds more than {} relay allocations ({TURN_WARN_PERCENT} % of {})",
                t.warn, t.limit
            ),
            format!(
                "coturn on {inst} has held more than {} relay allocations for 5 minutes: {TURN_WARN_PERCENT} % of the {} one node can hold, {}. {why} {fix}",
                t.warn, t.limit, t.what
            ),
            vec![
                Case {
                    series: vec![allocations(first, t.warn + 1)],
                    eval: "10m",
                    fires: vec![on(first)],
                },
                silent(vec![allocations(first, t.warn)], "10m"),
            ],
        )
        .because(format!(
            "Threshold {} = floor({TURN_WARN_PERCENT} % × {}): {} = {}.",
            t.warn, t.limit, t.limit, t.what
        )),
    );
    alerts.push(
        alert(
            "CoturnAllocationsAtQuota",
            format!(r#"{COTURN_ALLOCATIONS}{{job="node"}} >= {}"#, t.crit),
            "2m",
            Critical,
            format!(
                "coturn on {inst} holds {} or more relay allocations ({TURN_CRIT_PERCENT} % of {})",
                t.crit, t.limit
            ),
            format!(
                "coturn on {inst} has held {} or more relay allocations for 2 minutes: {TURN_CRIT_PERCENT} % of the {} one node can hold, {}; new relayed calls there are about to fail. {why} {fix}",
                t.crit, t.limit, t.what
            ),
            vec![
                Case {
                    series: vec![allocations(first, t.crit)],
                    eval: "10m",
                    fires: vec![on(first)],
                },
                silent(vec![allocations(first, t.crit - 1)], "10m"),
            ],
        )
        .because(format!(
            "Threshold {} = ceil({TURN_CRIT_PERCENT} % × {}): {} = {}.",
            t.crit, t.limit, t.limit, t.what
        )),
    );
    alerts
}

/// coturn hosts whose allocations metric is missing or stale.
fn coturn_allocations_unknown(ctx: &Ctx, b: &Budgets) -> Vec<Alert> {
    use Severity::Warning;
    let inst = lbl("instance");
    let mut alerts = Vec::new();
    if b.turn.is_none() {
        return alerts;
    }
    let coturn: Vec<&Host> = ctx.hosts(Role::Coturn).collect();
    let first = coturn[0];
    // The metric is the script's: a host without a fresh one is blind.
    let file = format!("{NODE_TEXTFILE_DIR}/{COTURN_ALLOCATIONS}.prom");
    let mtime = |h: &Host, v: &str| {
        s(
            &format!(
                r#"node_textfile_mtime_seconds{{job="node",instance={},file="{file}"}}"#,
                promql::string(&h.fqdn)
            ),
            v,
        )
    };
    let mut absent_case = Vec::new();
    let mut stale_case = Vec::new();
    for (i, h) in coturn.iter().enumerate() {
        // Every host answers; the last one has no allocations file (absent).
        absent_case.push(s(
            &format!(r#"up{{job="node",instance={}}}"#, promql::string(&h.fqdn)),
            "1x20",
        ));
        // Evaluated at 20m: "0+60x20" is a file rewritten every minute.
        if i + 1 < coturn.len() {
            absent_case.push(allocations(h, 3));
            absent_case.push(mtime(h, "0+60x20"));
        }
        stale_case.push(allocations(h, 3));
        stale_case.push(mtime(h, if i == 0 { "0x20" } else { "0+60x20" }));
    }
    let last = coturn[coturn.len() - 1];
    alerts.push(alert(
        "CoturnAllocationsUnknown",
        format!(
            r#"{} or time() - node_textfile_mtime_seconds{{job="node",file=~".*/{COTURN_ALLOCATIONS}[.]prom"}} > {COTURN_METRIC_STALE_S}"#,
            coturn
                .iter()
                .map(|h| format!(
                    r#"absent({COTURN_ALLOCATIONS}{{job="node",instance={}}})"#,
                    promql::string(&h.fqdn)
                ))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
        "10m",
        Warning,
        format!("coturn's relay allocations on {inst} are unknown"),
        format!(
            "node_exporter on {inst} has had no fresh {COTURN_ALLOCATIONS} for 10 minutes ({file}, rewritten every {SCRAPE_INTERVAL_S} s by {COTURN_METRIC_UNIT}.timer; older than {COTURN_METRIC_STALE_S} s or missing): CoturnAllocationsHigh and CoturnAllocationsAtQuota are blind there. Why: the timer is not running (it starts with coturn through {COTURN_DROP_IN}) or {COTURN_METRIC_SCRIPT} fails. Change: on {inst}, systemctl status {COTURN_METRIC_UNIT}.timer {COTURN_METRIC_UNIT}.service; journalctl -u {COTURN_METRIC_UNIT}.service; systemctl enable --now {COTURN_METRIC_UNIT}.timer."
        ),
        vec![
            Case {
                series: absent_case,
                eval: "20m",
                fires: vec![on(last)],
            },
            Case {
                series: stale_case.clone(),
                eval: "20m",
                fires: vec![l(&[
                    ("job", "node"),
                    ("instance", &first.fqdn),
                    ("file", &file),
                ])],
            },
            silent(
                stale_case
                    .into_iter()
                    .map(|(series, v)| {
                        if series.starts_with("node_textfile") {
                            (series, "0+60x20".to_string())
                        } else {
                            (series, v)
                        }
                    })
                    .collect(),
                "20m",
            ),
        ],
    )
    .because(format!(
        "A file older than {COTURN_METRIC_STALE_S} s: {} runs of the timer (every {SCRAPE_INTERVAL_S} s) missed; one absent() per coturn host of the plan.",
        COTURN_METRIC_STALE_S / SCRAPE_INTERVAL_S
    )));
    alerts
}

/// The call relays' bandwidth against the plan's NIC assumption.
fn bandwidth(ctx: &Ctx) -> Vec<Alert> {
    use Severity::Warning;
    let inst = lbl("instance");
    let mut alerts = Vec::new();
    // --- call relays: network bandwidth against the plan's NIC assumption ----------
    // The calls view sizes coturn and LiveKit by bandwidth as well as by ports, and at
    // the default bitrates bandwidth runs out first (calls.turn.max-allocations-by-
    // bandwidth-per-node is far below the relay ports): this watches what the node
    // actually sends on the plan's interface.
    let iface = ctx.plan.network.interface.clone();
    for (role, name, nic, nic_key, what, count_key) in [
        (
            Role::Coturn,
            "CoturnBandwidthHigh",
            ctx.report.calls.turn.nic_mbps,
            "assumptions.turn-nic-mbps",
            "relayed 1:1 calls",
            "hosts.coturn.count",
        ),
        (
            Role::Livekit,
            "LivekitBandwidthHigh",
            ctx.report.calls.livekit.nic_mbps,
            "assumptions.livekit-nic-mbps",
            "group calls",
            "hosts.livekit.count",
        ),
    ] {
        let hosts: Vec<&Host> = ctx.hosts(role).collect();
        let Some(first) = hosts.first() else {
            continue;
        };
        // bits/s: floor(80 % × NIC Mbit/s × 10^6).
        let nic_bps = (nic.max(0.0) * 1e6).min(1e15) as u64;
        let threshold = percent_floor(nic_bps, TURN_WARN_PERCENT).max(1);
        let instances: Vec<&str> = hosts.iter().map(|h| h.fqdn.as_str()).collect();
        let tx = |instance: &str, device: &str, per_min: u64| {
            s(
                &format!(
                    r#"node_network_transmit_bytes_total{{job="node",instance={},device={}}}"#,
                    promql::string(instance),
                    promql::string(device)
                ),
                &format!("0+{per_min}x30"),
            )
        };
        // Bytes a minute for 1.2 × and 0.93 × the threshold (bits/s × 60 / 8 = × 7.5).
        let (over, under) = (threshold.saturating_mul(9), threshold.saturating_mul(7));
        let mut quiet = vec![
            tx(&first.fqdn, &iface, under),
            // Loopback and hosts of other roles are not this rule's.
            tx(&first.fqdn, "lo", over),
        ];
        if let Some(o) = ctx.topology.hosts.iter().find(|o| o.role != role) {
            quiet.push(tx(&o.fqdn, &iface, over));
        }
        alerts.push(
            alert(
                name,
                format!(
                    r#"rate(node_network_transmit_bytes_total{{job="node",instance=~{},device={}}}[5m]) * 8 > {threshold}"#,
                    promql::any_of(&instances),
                    promql::string(&iface)
                ),
                "10m",
                Warning,
                format!(
                    "{inst} sends more than {TURN_WARN_PERCENT} % of its {} Mbit/s on {}",
                    nic,
                    template::literal(&iface)
                ),
                format!(
                    "{inst} has sent more than {threshold} bit/s on {} for 10 minutes: {TURN_WARN_PERCENT} % of the {nic} Mbit/s the plan assumes for one node ({nic_key}). Why: {what} on this node are about to lose packets; the plan's calls view counts on that bandwidth (it limits the calls one node carries before its ports do). Change: add hosts ({count_key}), plan faster NICs ({nic_key}), or plan the calls again (the calls.* keys); check that clients spread over every node of the role.",
                    template::literal(&iface)
                ),
                vec![
                    Case {
                        series: vec![tx(&first.fqdn, &iface, over)],
                        eval: "20m",
                        fires: vec![l(&[
                            ("job", "node"),
                            ("instance", &first.fqdn),
                            ("device", &iface),
                        ])],
                    },
                    silent(quiet, "20m"),
                ],
            )
            .because(format!(
                "Threshold {threshold} bit/s = floor({TURN_WARN_PERCENT} % × {nic} Mbit/s × 10^6), {nic} = {nic_key}."
            )),
        );
    }
    alerts
}

/// A coturn host's allocations metric in the unit tests.
fn allocations(h: &Host, v: u64) -> (String, String) {
    s(
        &format!(
            r#"{COTURN_ALLOCATIONS}{{job="node",instance={}}}"#,
            promql::string(&h.fqdn)
        ),
        &format!("{v}x10"),
    )
}

/// The labels of a coturn host's alert.
fn on(h: &Host) -> Vec<(&'static str, String)> {
    l(&[("job", "node"), ("instance", &h.fqdn)])
}

#[cfg(test)]
mod tests {
    use super::super::disks;
    use super::*;
    use crate::bundle::monitoring::plans::{minimal, plan_with};
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    fn names(alerts: &[Alert]) -> Vec<&'static str> {
        alerts.iter().map(|a| a.name).collect()
    }

    #[test]
    fn percent_rounding() {
        for (n, pct, floor, ceil) in [
            (485, 80, 388, 388),
            (1200, 80, 960, 960),
            (1200, 95, 1140, 1140),
            (16384, 80, 13107, 13108),
            (16384, 95, 15564, 15565),
            (1, 80, 0, 1),
            (1, 95, 0, 1),
            (0, 80, 0, 0),
            (u64::MAX, 95, u64::MAX / 100, u64::MAX.div_ceil(100)),
        ] {
            assert_eq!(
                (percent_floor(n, pct), percent_ceil(n, pct)),
                (floor, ceil),
                "{n} × {pct} %"
            );
        }
    }

    #[test]
    fn gib_in_bytes() {
        use crate::sizing::Gib;
        for (g, bytes) in [
            (Gib(650), 6_979_321_856),
            (Gib(100), 1_073_741_824),
            (Gib(167), 1_793_148_846),
            (Gib(0), 0),
            (Gib(u64::MAX), u64::MAX),
        ] {
            assert_eq!(gib_bytes(g), bytes, "{g:?}");
        }
    }

    #[test]
    fn turn_limits() {
        // (total-quota, max-allocations-per-node, relay ports) → limit, what it names.
        for (q, m, ports, limit, names) in [
            (1200, 0, 16384, 1200, "total-quota"),
            (1200, 5000, 16384, 1200, "total-quota"),
            (1200, 800, 16384, 800, "max-allocations-per-node"),
            (0, 800, 16384, 800, "(no total-quota)"),
            (0, 0, 101, 101, "101 relay ports"),
            (0, 0, 0, 0, "0 relay ports"),
        ] {
            let (l, what) = turn_limit(q, m, ports);
            assert_eq!(l, limit, "{q} {m} {ports}");
            assert!(what.contains(names), "{q} {m} {ports}: {what}");
        }
    }

    /// The budget thresholds of the seed's cluster, from its report.
    #[test]
    fn budget_thresholds_come_from_the_report() {
        with_ctx(&Plan::default(), |ctx| {
            let b = budgets(ctx);
            // connections.postgres-available 485 (500 − 15): 80 % = 388.
            assert_eq!(
                (b.pg_usable, b.pg_warn, b.pg_max_connections),
                (485, 388, 500)
            );
            // synapse.process-bound-gib 2.16 (0.16 base + 2 max) × 2^30 bytes.
            assert_eq!(b.synapse_process_bytes, 2_319_282_339);
            // 4 nodes × 4 drives: one set of 16, EC:4.
            assert_eq!(b.erasure, Some((16, 4)));
            let t = b.turn.unwrap();
            let (limit, _) = turn_limit(
                ctx.report.calls.turn.total_quota,
                ctx.report.calls.turn.max_allocations_per_node,
                16_384,
            );
            assert_eq!(t.limit, limit);
            assert_eq!(
                (t.warn, t.crit),
                (limit * 80 / 100, (limit * 95).div_ceil(100))
            );
            let g = group(ctx);
            let expr = |n: &str| g.alerts.iter().find(|a| a.name == n).unwrap().expr.clone();
            assert_eq!(
                expr("PostgresSynapseConnectionsHigh"),
                r#"sum by (instance) (pg_stat_activity_count{job="postgres",datname="synapse"}) > 388"#
            );
            assert_eq!(
                expr("PostgresMaxConnectionsNotAsPlanned"),
                r#"max by (instance) (pg_settings_max_connections{job="postgres"}) != 500"#
            );
            assert_eq!(
                expr("SynapseProcessOverRamBudget"),
                r#"process_resident_memory_bytes{job=~"master|room_worker|sync_worker|client_reader|federation_reader|stream_writer|federation_sender|pusher|user_dir|media_repository|background",instance="synapse.internal"} > 2319282339"#
            );
            assert_eq!(
                expr("MinioErasureSetAtParity"),
                r#"16 - max by (pool, set) (minio_cluster_health_erasure_set_online_drives{job="minio"}) >= 4"#
            );
            assert_eq!(
                expr("CoturnAllocationsHigh"),
                format!(
                    r#"synapse_planner_coturn_relay_allocations{{job="node"}} > {}"#,
                    t.warn
                )
            );
            let disks = disks::group(ctx);
            let disk = |n: &str| {
                disks
                    .alerts
                    .iter()
                    .find(|a| a.name == n)
                    .unwrap()
                    .expr
                    .clone()
            };
            assert_eq!(
                disk("PostgresDiskFillsWithin30Days"),
                r#"predict_linear(node_filesystem_avail_bytes{job="node",instance=~"patroni1\\.internal|patroni2\\.internal|patroni3\\.internal",mountpoint=~"/|/var|/var/lib|/var/lib/postgresql|/var/lib/postgresql/15|/var/lib/postgresql/15/main|/var/lib/etcd",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"}[6h], 30 * 86400) < 0"#
            );
            assert_eq!(
                disk("MinioDriveFillsWithin30Days"),
                r#"predict_linear(node_filesystem_avail_bytes{job="node",instance=~"minio1\\.internal|minio2\\.internal|minio3\\.internal|minio4\\.internal",mountpoint=~"/data1|/data2|/data3|/data4",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"}[6h], 30 * 86400) < 0"#
            );
        });
    }

    /// The thresholds follow the plan's keys.
    #[test]
    fn budget_thresholds_follow_the_plan() {
        // (plan changes, pg usable, pg warn, bytes per Synapse process)
        for (changes, usable, warn, bytes) in [
            (
                vec![("postgres.max-connections", "200")],
                185,
                148,
                2_319_282_339,
            ),
            // 8 GiB: max_cache_memory_usage 8 GiB / 8 = 1 GiB, bound 1.16 GiB.
            (
                vec![("hosts.synapse.ram-gib", "8")],
                485,
                388,
                1_245_540_515,
            ),
            (
                vec![("assumptions.synapse-process-base-mib", "300")],
                485,
                388,
                2_458_868_776,
            ),
        ] {
            let plan = plan_with(&changes);
            with_ctx(&plan, |ctx| {
                let b = budgets(ctx);
                assert_eq!(
                    (b.pg_usable, b.pg_warn, b.synapse_process_bytes),
                    (usable, warn, bytes),
                    "{changes:?}"
                );
                assert_eq!(
                    b.pg_usable as i64,
                    ctx.report.connections.postgres_available
                );
            });
        }
    }

    /// Which budget alerts a plan gets: MinIO's only with erasure coding, coturn's only
    /// with coturn hosts, a disk alert per deployed role that holds data.
    #[test]
    fn budget_alerts_per_plan() {
        let all = [
            "PostgresSynapseConnectionsHigh",
            "PostgresSynapseConnectionsExhausted",
            "PostgresMaxConnectionsNotAsPlanned",
            "SynapseProcessOverRamBudget",
            "MinioErasureSetAtParity",
            "CoturnAllocationsHigh",
            "CoturnAllocationsAtQuota",
            "CoturnAllocationsUnknown",
            "CoturnBandwidthHigh",
            "LivekitBandwidthHigh",
        ];
        let disks = [
            "SynapseDiskFillsWithin30Days",
            "PostgresDiskFillsWithin30Days",
            "MinioDriveFillsWithin30Days",
            "PrometheusDiskFillsWithin30Days",
            "BackupDiskFillsWithin30Days",
        ];
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(names(&group(ctx).alerts), all);
            assert_eq!(names(&disks::group(ctx).alerts), disks);
        });
        with_ctx(&minimal(), |ctx| {
            // One MinIO drive: no erasure coding; no coturn.
            assert_eq!(names(&group(ctx).alerts), all[..4]);
            assert_eq!(names(&disks::group(ctx).alerts), disks);
        });
        // One node with four drives: erasure coded across them.
        let single = plan_with(&[("hosts.minio.count", "1"), ("minio.drives-per-node", "4")]);
        with_ctx(&single, |ctx| {
            assert!(names(&group(ctx).alerts).contains(&"MinioErasureSetAtParity"));
            assert_eq!(budgets(ctx).erasure, Some((4, 2)));
        });
    }
}
