//! Findings: what is wrong or risky in a valid plan, why (with the source), and what
//! to change. Each has a stable `code` that tests, the UI and users can rely on.

use crate::Severity;
use crate::assumptions as a;
use crate::plan::{Plan, PoolMode, Role, WorkerKind};
use crate::sizing::{Connections, HostBudget};
use serde::Serialize;

mod capacity;
mod cpu;
pub mod playbook;
mod postgres;
mod services;
mod storage;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Finding {
    pub severity: Severity,
    pub code: &'static str,
    /// Key paths of the inputs involved; the first is the one to change.
    pub paths: Vec<String>,
    /// What is wrong, with the figures.
    pub message: String,
    /// Why it matters, with the source.
    pub why: String,
    /// What to change.
    pub fix: String,
}

/// The findings being collected; each check module pushes into it.
pub(crate) struct Out(Vec<Finding>);

impl Out {
    pub(crate) fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        paths: &[&str],
        message: String,
        why: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(Finding {
            severity,
            code,
            paths: paths.iter().map(|s| s.to_string()).collect(),
            message,
            why: why.into(),
            fix: fix.into(),
        });
    }
}

/// Thousands separators for counts in sentences.
pub(crate) use crate::format::group as n;

/// What the checks read besides the plan: the sections of the report.
pub struct Inputs<'a> {
    pub hosts: &'a [HostBudget],
    pub connections: &'a Connections,
    pub storage: &'a crate::sizing::storage::Storage,
    pub object_storage: &'a crate::sizing::objectstore::ObjectStorage,
    pub calls: &'a crate::sizing::calls::Calls,
    pub failures: &'a [crate::sizing::failures::Failure],
}

pub fn evaluate(plan: &Plan, i: &Inputs<'_>) -> Vec<Finding> {
    let mut out = Out(Vec::new());
    ram(plan, i.hosts, &mut out);
    connection_chain(plan, i.connections, &mut out);
    workers(plan, &mut out);
    availability(plan, &mut out);
    postgres::check(plan, &mut out);
    cpu::check(plan, &mut out);
    descriptors(plan, i.connections, i.calls, &mut out);
    storage::check(plan, i.storage, &mut out);
    capacity::check(plan, i.object_storage, i.calls, i.failures, &mut out);
    services::check(plan, i.object_storage, &mut out);
    let mut v = out.0;
    // Errors first; within a severity, the order the checks run (stable sort).
    v.sort_by_key(|f| f.severity);
    v
}

fn ram(plan: &Plan, hosts: &[HostBudget], out: &mut Out) {
    for b in hosts {
        if b.count == 0 {
            continue;
        }
        let role = b.role;
        let ram_path = format!("hosts.{}.ram-gib", role.key());
        // The first of the largest items (max_by_key would give the last of a tie).
        let biggest = b.items.iter().rev().max_by_key(|i| i.gib);
        let biggest = biggest
            .map(|i| format!("the largest item is {} at {} GiB", i.name, i.gib))
            .unwrap_or_default();
        let (extra_paths, lever): (Vec<&str>, String) = match role {
            Role::Synapse => (
                vec!["synapse.workers"],
                format!(
                    ", or run fewer workers (each process needs at least {} MiB, assumption synapse-process-base-mib)",
                    crate::format::number(plan.assume(&a::SYNAPSE_BASE_MIB))
                ),
            ),
            Role::Patroni => (
                vec!["pgbouncer.default-pool-size"],
                format!(
                    ", or lower pgbouncer.default-pool-size (each backend and parallel worker budgets {} × work_mem, 3 hash tables at hash_mem_multiplier {:.1}, plus {} MiB)",
                    crate::sizing::postgres::Memory::work_mems_per_process(),
                    a::fixed!(PG_HASH_MEM_MULTIPLIER),
                    plan.assume(&a::PG_BACKEND_OVERHEAD_MIB)
                ),
            ),
            Role::Minio => (vec!["minio.drive-tib"], String::new()),
            _ => (vec![], String::new()),
        };
        let mut paths = vec![ram_path.as_str()];
        paths.extend(extra_paths);
        let fits = |share: u64| match smallest_fitting_ram(plan, role, share) {
            Some(gib) => format!("at least {gib} GiB"),
            None => "more than one host can have".to_string(),
        };
        if b.ram_needed_gib.0 > b.ram_gib.saturating_mul(100) {
            out.push(
                Severity::Error,
                "ram-over-budget",
                &paths,
                format!(
                    "Each {} host needs {} GiB of RAM but has {} GiB ({} GiB short).",
                    role.label(),
                    b.ram_needed_gib,
                    b.ram_gib,
                    crate::sizing::Gib(b.ram_free_gib.0.unsigned_abs())
                ),
                format!("The items on the host add up to more than its memory; {biggest}. Under load the kernel's OOM killer ends a process."),
                format!("Raise {ram_path} to {}{lever}.", fits(100)),
            );
        } else if b.ram_used_percent > tight_percent(plan) && role != Role::Minio {
            // MinIO's figure is already its whole-node guidance, headroom included.
            out.push(
                Severity::Warning,
                "ram-tight",
                &paths,
                format!(
                    "Each {} host's budget uses {}% of its {} GiB ({} GiB free).",
                    role.label(),
                    b.ram_used_percent,
                    b.ram_gib,
                    b.ram_free_gib
                ),
                format!("Above 90% there is no room for page cache, load spikes or a rolling upgrade; {biggest}."),
                format!("Raise {ram_path} to {}{lever}.", fits(tight_percent(plan))),
            );
        }
    }
}

/// The tight-RAM threshold of this plan, in percent. The share of RAM a budget may use
/// is what is available to it, so the percentage rounds down.
fn tight_percent(plan: &Plan) -> u64 {
    crate::sizing::round_down_available(plan.assume(&a::TIGHT_RAM_SHARE) * 100.0)
}

/// Synapse's caches against cache autotuning: process types whose expected caches are
/// above max_cache_memory_usage (autotuning evicts them every 30 s), and a maximum the
/// host cannot give every process at once.
fn synapse_caches(plan: &Plan, out: &mut Out) {
    let s = crate::sizing::synapse_summary(plan);
    let max = s.cache_autotuning_max_gib;
    let at: Vec<String> = s
        .processes
        .iter()
        .filter(|p| p.at_bound)
        .map(|p| {
            format!(
                "{} ({} GiB for {} users each)",
                p.label,
                p.working_set_gib,
                n(p.users_each)
            )
        })
        .collect();
    if !at.is_empty() {
        out.push(
            Severity::Info,
            "cache-autotuning-cap",
            &["synapse.workers", "hosts.synapse.ram-gib"],
            format!(
                "Caches of {} would outgrow max_cache_memory_usage ({max} GiB): cache autotuning holds each such process at about {} GiB.",
                at.join(", "),
                s.process_bound_gib
            ),
            "Every 30 s Synapse compares the whole process's jemalloc-allocated memory (not the caches alone) with max_cache_memory_usage and, above it, evicts the least recently used entries until the process is below target_cache_memory_usage, never an entry younger than min_cache_ttl (element-hq/synapse synapse/util/caches/lrucache.py, _expire_old_entries). The playbook means autotuning to be the primary eviction (its defaults' comment); more evictions mean more database reads.",
            "Nothing to change if latency stays good. To keep more in cache, add workers of that type (each serves fewer users) or give the Synapse host more RAM (the maximum grows to min(RAM / 8, 2 GiB)).",
        );
    }
    let ram = plan.host(Role::Synapse).ram_gib;
    let others = crate::sizing::ram::synapse_services_gib(plan);
    if s.ram_bound_total_gib.plus(others).0 > ram.saturating_mul(100) {
        out.push(
            Severity::Info,
            "synapse-cache-bound-over-ram",
            &["hosts.synapse.ram-gib", "synapse.workers"],
            format!(
                "If every Synapse process filled its caches to the autotuning bound, the processes would need {} × {} GiB = {} GiB, plus {others} GiB for the host's other items, of {ram} GiB.",
                s.process_count, s.process_bound_gib, s.ram_bound_total_gib
            ),
            format!(
                "max_cache_memory_usage is one value for every process (the largest working set one process is expected to hold, at most the playbook's min(RAM / 8, 2 GiB), never below {} GiB, assumption synapse-cache-max-floor-gib): it bounds each process, not the host. The budget counts what each process type is expected to cache; only load that reaches every process at once would fill them all.",
                crate::format::number(plan.assume(&a::SYNAPSE_CACHE_MAX_FLOOR_GIB))
            ),
            "Nothing to change if the processes' resident memory stays near their budgets; to bound the host as well, lower assumptions.synapse-cache-max-cap-gib or give the Synapse host more RAM.",
        );
    }
}

/// The least RAM (whole GiB) at which one host of `role` needs at most `percent` of it.
/// Needs grow with RAM for some roles (PostgreSQL's shared_buffers is RAM/4), so this
/// searches instead of adding the shortfall: doubling, then bisecting. Feasibility is
/// upward-closed because every need grows slower than RAM itself.
fn smallest_fitting_ram(plan: &Plan, role: Role, percent: u64) -> Option<u64> {
    let max = 24_576; // the schema's bound on hosts.<role>.ram-gib
    let fits = |ram: u64| {
        let mut p = plan.clone();
        p.hosts[role.index()].ram_gib = ram;
        crate::sizing::ram::budget(&p, role)
            .ram_needed_gib
            .0
            .saturating_mul(100)
            <= ram.saturating_mul(100) * percent
    };
    let mut lo = plan.host(role).ram_gib;
    if fits(lo) {
        return Some(lo);
    }
    let mut hi = lo.max(1);
    while !fits(hi) {
        if hi >= max {
            return None;
        }
        lo = hi;
        hi = (hi * 2).min(max);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) { hi = mid } else { lo = mid }
    }
    Some(hi)
}

fn connection_chain(plan: &Plan, c: &Connections, out: &mut Out) {
    let headroom = (c.synapse_pool_total / 10).max(10);
    if c.synapse_pool_total > c.pgbouncer_max_client_conn {
        out.push(
            Severity::Error,
            "pgbouncer-clients-short",
            &["pgbouncer.max-client-conn", "synapse.cp-max", "synapse.workers"],
            format!(
                "Synapse may open {} connections ({} processes × cp_max {}) but PgBouncer accepts {}.",
                n(c.synapse_pool_total),
                c.synapse_processes,
                c.cp_max,
                n(c.pgbouncer_max_client_conn)
            ),
            "PgBouncer refuses clients beyond max_client_conn; under load Synapse processes fail to get a database connection (PgBouncer docs, max_client_conn).",
            format!(
                "Set pgbouncer.max-client-conn to at least {} (pools plus 10% headroom), or lower synapse.cp-max.",
                n(c.synapse_pool_total + headroom)
            ),
        );
    } else if c.synapse_pool_total + headroom > c.pgbouncer_max_client_conn {
        out.push(
            Severity::Warning,
            "pgbouncer-clients-headroom",
            &["pgbouncer.max-client-conn"],
            format!(
                "PgBouncer accepts {} clients, only {} more than Synapse's pools ({}).",
                n(c.pgbouncer_max_client_conn),
                c.pgbouncer_max_client_conn - c.synapse_pool_total,
                n(c.synapse_pool_total)
            ),
            "Reconnects after a failover, the admin console and the exporter also take client slots.",
            format!("Set pgbouncer.max-client-conn to at least {}.", n(c.synapse_pool_total + headroom)),
        );
    }
    let available = c.postgres_available.max(0) as u64;
    if c.pgbouncer_server_connections as i64 > c.postgres_available {
        out.push(
            Severity::Error,
            "postgres-connections-short",
            &["postgres.max-connections", "pgbouncer.default-pool-size", "pgbouncer.reserve-pool-size"],
            format!(
                "PgBouncer may open {} server connections but PostgreSQL leaves {} for it (max_connections {} − {} reserved).",
                n(c.pgbouncer_server_connections),
                n(available),
                n(c.postgres_max_connections),
                c.postgres_reserved_total
            ),
            "Past max_connections PostgreSQL refuses new connections with \"sorry, too many clients already\"; the reserve keeps room for superusers, Patroni, the exporter, backups and admins (PostgreSQL docs, max_connections).",
            format!(
                "Raise postgres.max-connections to at least {}, or lower pgbouncer.default-pool-size / reserve-pool-size.",
                n(c.pgbouncer_server_connections + c.postgres_reserved_total)
            ),
        );
    } else if c.pgbouncer_server_connections * 10 > available * 9 {
        out.push(
            Severity::Warning,
            "postgres-connections-tight",
            &["postgres.max-connections"],
            format!(
                "PgBouncer's {} server connections use more than 90% of the {} PostgreSQL leaves for it.",
                n(c.pgbouncer_server_connections),
                n(available)
            ),
            "A second PgBouncer, a manual session or a migration would hit max_connections.",
            format!("Raise postgres.max-connections to {} or more.", n((c.pgbouncer_server_connections * 10).div_ceil(9) + c.postgres_reserved_total)),
        );
    }
    match plan.pgbouncer.pool_mode {
        PoolMode::Transaction => out.push(
            Severity::Warning,
            "pgbouncer-transaction-pooling",
            &["pgbouncer.pool-mode"],
            "PgBouncer in transaction mode does not keep the per-connection settings Synapse makes.".to_string(),
            "Synapse sets the isolation level and other SETs on each new connection (matrix-org/synapse#4473); in transaction mode the next transaction may run on another server connection, and server_reset_query is not run unless server_reset_query_always = 1. The seed requires transaction mode, so the bundle generates it.",
            "Keep transaction mode only after testing under load; session mode with default_pool_size ≥ Σ cp_max is the conservative choice.",
        ),
        PoolMode::Statement => out.push(
            Severity::Error,
            "pgbouncer-statement-mode",
            &["pgbouncer.pool-mode"],
            "PgBouncer in statement mode breaks Synapse.".to_string(),
            "Statement pooling forbids multi-statement transactions, and Synapse runs every write in one (PgBouncer docs, pool_mode).",
            "Set pgbouncer.pool-mode to transaction or session.",
        ),
        PoolMode::Session => {
            let per_instance = c.pgbouncer_server_connections / c.pgbouncer_instances.max(1);
            if c.synapse_pool_total > per_instance {
                out.push(
                    Severity::Error,
                    "pgbouncer-session-pool-short",
                    &["pgbouncer.default-pool-size", "pgbouncer.pool-mode"],
                    format!(
                        "In session mode each of Synapse's {} pooled connections holds a server connection, but PgBouncer opens at most {}.",
                        n(c.synapse_pool_total),
                        n(per_instance)
                    ),
                    "Synapse keeps its pool connections open; in session mode the clients beyond the pool wait forever (PgBouncer docs, pool_mode = session).",
                    format!(
                        "Set pgbouncer.default-pool-size to at least {} (minus reserve-pool-size), or use transaction mode.",
                        n(c.synapse_pool_total)
                    ),
                );
            }
        }
    }
    let nofile = a::fixed!(NOFILE_LIMIT) as u64;
    if c.pgbouncer_file_descriptors > nofile {
        out.push(
            Severity::Warning,
            "pgbouncer-file-descriptors",
            &["pgbouncer.max-client-conn"],
            format!("PgBouncer needs about {} file descriptors; the hosts' nofile limit is {}.", n(c.pgbouncer_file_descriptors), n(nofile)),
            "Each client and server connection is a socket (PgBouncer docs, max_client_conn); past the limit accept() fails.",
            "Lower pgbouncer.max-client-conn, or raise nofile for PgBouncer's service.",
        );
    }
}

fn workers(plan: &Plan, out: &mut Out) {
    // The playbook's hard failures over worker counts (single-instance types, generic
    // workers mixed with specialised ones): error findings, in playbook.rs.
    playbook::check(plan, out);
    if plan.worker_count() > 0 && !plan.synapse.redis {
        out.push(
            Severity::Error,
            "workers-without-redis",
            &["synapse.redis"],
            format!("{} workers are planned without Redis (Valkey).", plan.worker_count()),
            "Synapse workers replicate over Redis; without it they cannot start (Synapse docs, workers.md: Redis is required).",
            "Turn synapse.redis on.",
        );
    }
    if plan.worker_count() == 0 && plan.users.registered > 2500 {
        out.push(
            Severity::Warning,
            "workers-none",
            &["synapse.workers"],
            format!("{} registered users on Synapse's main process alone.", n(plan.users.registered)),
            "Element's ESS sizing gives a single process the 1–500 and 501–2,500 user bands; beyond that Synapse is run with workers (ems-docs, ESS Sizing).",
            "Add workers: start from the playbook's \"specialized-workers\" preset.",
        );
    }
    let sync_capable = if plan.workers(WorkerKind::Sync) > 0 {
        plan.workers(WorkerKind::Sync)
    } else if plan.workers(WorkerKind::Generic) > 0 {
        plan.workers(WorkerKind::Generic)
    } else {
        1
    };
    // What the sync processes serve is available capacity and the workers wanted a need:
    // the fractional assumption multiplies and divides unrounded, and only the worker
    // count is rounded, up.
    let per = plan.assume(&a::SYNC_USERS_PER_WORKER);
    let peak = plan.peak_concurrent_users() as f64;
    if peak > sync_capable as f64 * per {
        let want = crate::sizing::round_up_needed(peak / per.max(f64::MIN_POSITIVE));
        out.push(
            Severity::Warning,
            "sync-workers-low",
            &["synapse.workers.sync", "users.peak-concurrent"],
            format!(
                "{} peak users sync through {sync_capable} process(es).",
                n(plan.peak_concurrent_users())
            ),
            format!(
                "Assumption: one sync worker serves about {} concurrent users ({}).",
                crate::format::number(per),
                a::SYNC_USERS_PER_WORKER.source
            ),
            format!("Plan about {want} sync workers and watch the sync p95 latency."),
        );
    }
    synapse_caches(plan, out);
    if plan.workers(WorkerKind::StreamWriterEvents) > 0 {
        out.push(
            Severity::Info,
            "event-persisters-fixed",
            &["synapse.workers.stream-writer-events"],
            format!("{} event persister(s).", plan.workers(WorkerKind::StreamWriterEvents)),
            "Changing the number of event persisters later means restarting every worker at once (seed §3; Synapse docs, workers.md, stream_writers).",
            "Choose the final count before go-live.",
        );
    }
}

fn availability(plan: &Plan, out: &mut Out) {
    let members = plan.host(Role::Patroni).count;
    if members == 1 {
        out.push(
            Severity::Warning,
            "quorum-single-member",
            &["hosts.patroni.count"],
            "One Patroni node: there is no standby to fail over to.".to_string(),
            "Patroni promotes a replica when the primary fails; with one node a failure stops the database (Patroni docs).",
            "Use 3 Patroni nodes (etcd on the same hosts).",
        );
    } else if members.is_multiple_of(2) {
        let tolerated = (members - 1) / 2;
        out.push(
            Severity::Warning,
            "quorum-even-members",
            &["hosts.patroni.count"],
            format!(
                "{members} Patroni/etcd members tolerate {tolerated} failure(s), the same as {}.",
                members - 1
            ),
            format!(
                "etcd needs a majority ({} of {members}) to elect a leader; an even member adds a vote to lose, not a failure tolerated (etcd FAQ, \"Why an odd number of cluster members?\").",
                members / 2 + 1
            ),
            format!("Use {} or {} Patroni nodes.", members - 1, members + 1),
        );
    }
    if plan.host(Role::Haproxy).count == 1 {
        out.push(
            Severity::Warning,
            "haproxy-single",
            &["hosts.haproxy.count"],
            "One HAProxy node: the keepalived VIP has nowhere to move.".to_string(),
            "Every client and Synapse's database path go through HAProxy; its host is a single point of failure.",
            "Use 2 HAProxy nodes sharing the VIP.",
        );
    }
}

/// Each service's file descriptors against fs.nr_open's ceiling (an error: nothing
/// can raise it), and what the bundle raises (information).
fn descriptors(plan: &Plan, c: &Connections, calls: &crate::sizing::calls::Calls, out: &mut Out) {
    use crate::sizing::descriptors::{self as d, FILE_MAX_DEFAULT, NR_OPEN_DEFAULT, NR_OPEN_MAX};
    let needs = d::needs(plan, c, calls);
    for role in Role::ALL {
        let Some(need) = needs
            .iter()
            .filter(|n| n.role == role)
            .max_by_key(|n| n.per_process)
        else {
            continue;
        };
        let (paths, lever): (&[&str], &str) = match role {
            Role::Haproxy => (
                &[
                    "users.peak-concurrent",
                    "assumptions.haproxy-connections-per-user",
                ],
                "lower the connections per user (HTTP/2 clients use one) or the peak the VIP's one active HAProxy serves; HAProxy nodes share the VIP one at a time, so more of them do not split the load",
            ),
            Role::Livekit => (
                &[
                    "hosts.livekit.count",
                    "calls.group-rooms",
                    "calls.participants-per-room",
                ],
                "add LiveKit nodes so fewer participants share one",
            ),
            Role::Synapse => (
                &["pgbouncer.max-client-conn"],
                "lower pgbouncer.max-client-conn",
            ),
            Role::Patroni => (
                &["postgres.max-connections"],
                "lower postgres.max-connections",
            ),
            Role::Coturn => (
                &["coturn.min-port", "coturn.max-port"],
                "narrow the relay port range",
            ),
            // No other role has a need (sizing::descriptors::needs).
            _ => continue,
        };
        let limits = d::host_limits(&needs, role);
        let service = need.service;
        if need.per_process > NR_OPEN_MAX {
            out.push(
                Severity::Error,
                "file-descriptors-beyond-kernel",
                paths,
                format!(
                    "{service} on the {} hosts needs {} file descriptors in one process; Linux allows at most {} (fs.nr_open's ceiling).",
                    role.label(),
                    n(need.per_process),
                    n(NR_OPEN_MAX)
                ),
                format!(
                    "No process can hold more descriptors than fs.nr_open, and the kernel accepts fs.nr_open up to sysctl_nr_open_max = INT_MAX rounded down to a multiple of 64 (Linux fs/file.c); systemd refuses to start a unit whose LimitNOFILE is above it, and HAProxy with strict-limits (its default) refuses to start short of its need. Need: {}.",
                    need.formula
                ),
                format!("Bring it under {}: {lever}.", n(NR_OPEN_MAX)),
            );
        } else if limits.nr_open.is_some() || limits.file_max.is_some() {
            let mut raised = Vec::new();
            if let Some(v) = limits.nr_open {
                raised.push(format!(
                    "fs.nr_open to {} (the kernel's default is {}) and {service}'s open-file limit to it",
                    n(v),
                    n(NR_OPEN_DEFAULT)
                ));
            }
            if let Some(v) = limits.file_max {
                raised.push(format!(
                    "fs.file-max to {} (twice the {} its services may hold together; the bundle's default is {})",
                    n(v),
                    n(limits.per_host),
                    n(FILE_MAX_DEFAULT)
                ));
            }
            out.push(
                Severity::Info,
                "file-descriptors-raised",
                paths,
                if limits.nr_open.is_some() {
                    format!(
                        "{service} needs {} file descriptors in one process on the {} hosts: the bundle raises {}.",
                        n(need.per_process),
                        role.label(),
                        raised.join(", and ")
                    )
                } else {
                    format!(
                        "The services on the {} hosts may hold {} file descriptors together: the bundle raises {}.",
                        role.label(),
                        n(limits.per_host),
                        raised.join(", and ")
                    )
                },
                format!(
                    "Past fs.nr_open no process may raise its limit, and past fs.file-max accept() fails with ENFILE (HAProxy 2.6 management guide §5; Linux fs/file.c). Need: {}.",
                    need.formula
                ),
                "Nothing to change: the system files of those hosts (/etc/sysctl.d/93-file-descriptors.conf, the service's systemd drop-in) carry the limits.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Report;

    fn codes(changes: &[(&str, &str)]) -> Vec<(String, &'static str)> {
        let p = Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"));
        Report::new(&p)
            .findings
            .iter()
            .map(|f| (f.severity.to_string(), f.code))
            .collect()
    }

    fn check(changes: &[(&str, &str)], expect: &[(&str, &str)]) {
        let got = codes(changes);
        let want: Vec<(String, &str)> = expect.iter().map(|(s, c)| (s.to_string(), *c)).collect();
        assert_eq!(got, want, "for {changes:?}");
    }

    #[test]
    fn default_plan_findings() {
        check(
            &[],
            &[
                ("warning", "pgbouncer-transaction-pooling"),
                // The backup repository (hourly incrementals) and MinIO fill
                // within the 36 months planned.
                ("warning", "storage-fills"),
                ("warning", "storage-fills"),
                // The seed's 50100-50200 LiveKit range.
                ("warning", "livekit-port-range-small"),
                // The pinned MinIO release (findings::services).
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
    fn each_rule_fires() {
        check(
            &[("hosts.synapse.ram-gib", "6")],
            &[
                ("error", "ram-over-budget"),
                ("warning", "pgbouncer-transaction-pooling"),
                ("warning", "storage-fills"),
                ("warning", "storage-fills"),
                ("warning", "livekit-port-range-small"),
                // The pinned MinIO release (findings::services).
                ("warning", "minio-unmaintained"),
                ("info", "cache-autotuning-cap"),
                ("info", "synapse-cache-bound-over-ram"),
                ("info", "event-persisters-fixed"),
                ("info", "media-retention-keeps-minio"),
                ("info", "livekit-redis-single"),
                ("info", "etcd-disk-latency"),
            ],
        );
        let has = |changes: &[(&str, &str)], code: &str, sev: &str| {
            let got = codes(changes);
            assert!(
                got.iter().any(|(s, c)| *c == code && s == sev),
                "{code} ({sev}) not in {got:?} for {changes:?}"
            );
        };
        // 15 GiB: max_cache_memory_usage 1.87 GiB; 10.68 GiB of Synapse processes and
        // 3.07 GiB of other items need 13.75 GiB, 92 %.
        has(&[("hosts.synapse.ram-gib", "15")], "ram-tight", "warning");
        has(
            &[("pgbouncer.max-client-conn", "150")],
            "pgbouncer-clients-short",
            "error",
        );
        has(
            &[("pgbouncer.max-client-conn", "210")],
            "pgbouncer-clients-headroom",
            "warning",
        );
        has(
            &[("postgres.max-connections", "70")],
            "postgres-connections-short",
            "error",
        );
        has(
            &[("postgres.max-connections", "80")],
            "postgres-connections-tight",
            "warning",
        );
        has(
            &[("pgbouncer.pool-mode", "statement")],
            "pgbouncer-statement-mode",
            "error",
        );
        has(
            &[("pgbouncer.pool-mode", "session")],
            "pgbouncer-session-pool-short",
            "error",
        );
        has(
            &[("synapse.workers.background", "2")],
            "worker-single-instance",
            "error",
        );
        has(
            &[("synapse.workers.stream-writer-receipts", "2")],
            "worker-single-instance",
            "error",
        );
        has(
            &[("synapse.workers.generic", "2")],
            "workers-generic-mixed",
            "error",
        );
        has(
            &[("synapse.redis", "false")],
            "workers-without-redis",
            "error",
        );
        has(
            &[("hosts.patroni.count", "4")],
            "quorum-even-members",
            "warning",
        );
        has(
            &[("hosts.patroni.count", "2")],
            "quorum-even-members",
            "warning",
        );
        has(
            &[("hosts.patroni.count", "1")],
            "quorum-single-member",
            "warning",
        );
        has(&[("hosts.haproxy.count", "1")], "haproxy-single", "warning");
        has(
            &[("hosts.synapse.vcpus", "8")],
            "synapse-cpu-oversubscribed",
            "warning",
        );
        has(
            &[("postgres.max-connections", "5000")],
            "postgres-work-mem-floor",
            "warning",
        );
        has(
            &[("pgbouncer.max-client-conn", "70000")],
            "pgbouncer-file-descriptors",
            "warning",
        );
        has(
            &[("users.peak-concurrent", "8000")],
            "sync-workers-low",
            "warning",
        );
        has(
            &[
                ("users.registered", "1000000"),
                ("users.peak-concurrent", "175000"),
            ],
            "file-descriptors-raised",
            "info",
        );
        has(
            &[
                ("users.registered", "100000000"),
                ("users.peak-concurrent", "100000000"),
                ("assumptions.haproxy-connections-per-user", "11"),
            ],
            "file-descriptors-beyond-kernel",
            "error",
        );
        has(
            &[("hosts.patroni.ram-gib", "21846")],
            "postgres-effective-cache-size-capped",
            "info",
        );
        has(
            &[("hosts.coturn.count", "0"), ("calls.relayed-share", "0")],
            "calls-turn-off",
            "info",
        );
        has(
            &[("hosts.livekit.count", "0"), ("calls.group-rooms", "0")],
            "calls-livekit-off",
            "info",
        );
    }

    #[test]
    fn numbers_past_tool_limits_sync_users_per_worker_divides_before_rounding() {
        // (peak users, users per sync worker, finding's "Plan about N sync workers").
        let check = |peak: &str, per: &str, expect: Option<&str>| {
            let p = Plan::default()
                .with_texts(&[
                    ("users.registered", "1000000"),
                    ("users.peak-concurrent", peak),
                    ("synapse.workers.sync", "1"),
                    ("assumptions.sync-users-per-worker", per),
                ])
                .expect("valid");
            let r = Report::new(&p);
            let fix = r
                .findings
                .iter()
                .find(|f| f.code == "sync-workers-low")
                .map(|f| f.fix.clone());
            assert_eq!(
                fix,
                expect.map(|n| format!(
                    "Plan about {n} sync workers and watch the sync p95 latency."
                )),
                "{peak} / {per}"
            );
        };
        // 1.5 was truncated to 1: 2 users looked like 2 workers' worth, not 2 / 1.5.
        check("2", "1.5", Some("2"));
        check("3", "1.5", Some("2"));
        check("1", "1.5", None);
        check("2001", "2000.5", Some("2"));
        check("2000", "2000.5", None);
    }

    #[test]
    fn no_workers_without_redis_is_fine_but_warns_at_scale() {
        let mut changes: Vec<(String, String)> = WorkerKind::ALL
            .iter()
            .map(|k| (format!("synapse.workers.{}", k.key()), "0".to_string()))
            .collect();
        changes.push(("synapse.redis".into(), "false".into()));
        let refs: Vec<(&str, &str)> = changes
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let got = codes(&refs);
        assert!(!got.iter().any(|(_, c)| *c == "workers-without-redis"));
        assert!(got.iter().any(|(_, c)| *c == "workers-none"));
    }

    /// The Synapse cache findings fire exactly when their condition holds: a process type
    /// whose expected caches are above max_cache_memory_usage; every process at its
    /// autotuning bound not fitting the host.
    #[test]
    fn synapse_cache_findings() {
        // (plan changes, cache-autotuning-cap, synapse-cache-bound-over-ram)
        type Row<'a> = (&'a [(&'a str, &'a str)], bool, bool);
        let rows: &[Row] = &[
            // 834 users per sync worker × 2.8 MiB = 2.28 GiB > 2 GiB.
            (&[], true, false),
            // 100 per sync worker (0.27 GiB), 300 on the room worker (0.53 GiB).
            (&[("users.peak-concurrent", "300")], false, false),
            // 20 processes at 0.16 + 1 (8 GiB / 8) + 3.07 GiB > 8 GiB.
            (&[("hosts.synapse.ram-gib", "8")], true, true),
            // 20 × (0.16 + 2) + 3.07 = 46.27 GiB: fits 48, not 46.
            (&[("hosts.synapse.ram-gib", "48")], true, false),
            (&[("hosts.synapse.ram-gib", "46")], true, true),
        ];
        for (changes, cap, over) in rows {
            let got = codes(changes);
            for (code, want) in [
                ("cache-autotuning-cap", cap),
                ("synapse-cache-bound-over-ram", over),
            ] {
                assert_eq!(
                    got.iter().any(|(_, c)| *c == code),
                    *want,
                    "{code} for {changes:?}: {got:?}"
                );
            }
        }
    }

    /// The RAM a fix suggests is enough: applying it clears the finding.
    #[test]
    fn suggested_ram_is_enough() {
        for changes in [
            vec![
                ("hosts.patroni.ram-gib", "12"),
                ("hosts.patroni.vcpus", "2"),
            ],
            vec![("hosts.patroni.ram-gib", "10")],
            vec![
                ("hosts.patroni.ram-gib", "8"),
                ("pgbouncer.default-pool-size", "400"),
            ],
            vec![("hosts.synapse.ram-gib", "6")],
            vec![("hosts.synapse.ram-gib", "15")],
            vec![("hosts.monitoring.ram-gib", "3")],
            vec![("hosts.minio.ram-gib", "4"), ("minio.drive-tib", "8")],
        ] {
            let mut p = Plan::default();
            for (path, text) in &changes {
                p = p.with_text(path, text).unwrap();
            }
            let r = Report::new(&p);
            let f = r
                .findings
                .iter()
                .find(|f| f.code == "ram-over-budget" || f.code == "ram-tight")
                .unwrap_or_else(|| panic!("no RAM finding for {changes:?}"));
            let gib = f
                .fix
                .split("at least ")
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .to_string();
            let fixed = p.with_text(&f.paths[0], &gib).unwrap();
            let again = Report::new(&fixed);
            assert!(
                !again
                    .findings
                    .iter()
                    .any(|g| g.code == f.code && g.paths[0] == f.paths[0]),
                "{changes:?}: {} did not clear {}",
                f.fix,
                f.code
            );
            let less = p
                .with_text(&f.paths[0], &(gib.parse::<u64>().unwrap() - 1).to_string())
                .unwrap();
            assert!(
                Report::new(&less)
                    .findings
                    .iter()
                    .any(|g| g.code == f.code || g.code == "ram-over-budget"),
                "{changes:?}: {} is not the least",
                f.fix
            );
        }
    }

    #[test]
    fn messages_carry_figures() {
        let p = Plan::default()
            .with_text("postgres.max-connections", "70")
            .unwrap();
        let r = Report::new(&p);
        let f = r
            .findings
            .iter()
            .find(|f| f.code == "postgres-connections-short")
            .unwrap();
        assert_eq!(
            f.message,
            "PgBouncer may open 60 server connections but PostgreSQL leaves 55 for it (max_connections 70 − 15 reserved)."
        );
        assert_eq!(
            f.fix,
            "Raise postgres.max-connections to at least 75, or lower pgbouncer.default-pool-size / reserve-pool-size."
        );
        assert_eq!(f.paths[0], "postgres.max-connections");
    }
}
