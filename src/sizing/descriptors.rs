//! File descriptors: what each service process the plan drives needs at the peak,
//! against what Linux and systemd allow, and what the bundle's system files must raise.
//!
//! Three limits stand between a service and its descriptors (HAProxy 2.6 management
//! guide, §5 "File-descriptor limitations"):
//!
//! * the process's `RLIMIT_NOFILE`: systemd's `LimitNOFILE=` for a service
//!   (systemd.exec(5)), `DefaultLimitNOFILE=` otherwise (65,535 in this bundle, seed §1);
//!   a process started as root may raise its own (HAProxy does, to its computed need);
//! * `fs.nr_open`: the most any process may set its limit to; setrlimit() fails above it
//!   (and so does systemd starting a unit whose `LimitNOFILE=` is above it). The kernel's
//!   default is 1,048,576 (`sysctl_nr_open = 1024*1024`, fs/file.c) and Debian 12's
//!   systemd 252 leaves it there (built without its nr_open bump); the sysctl takes at most
//!   `sysctl_nr_open_max = min(INT_MAX, SIZE_MAX / sizeof(void *)) & -BITS_PER_LONG`
//!   = 2,147,483,584 (2^31 − 64) on 64-bit (fs/file.c);
//! * `fs.file-max`: descriptors open on the whole host. systemd 252 raises it to LONG_MAX
//!   at boot (NEWS for v240), but the bundle's 90-synapse-planner.conf sets the seed's
//!   2,097,152, so the bundle raises it again where the plan needs more.

use super::calls::Calls;
use super::connections::Connections;
use crate::assumptions as a;
use crate::plan::Role;
use serde::Serialize;

/// fs.nr_open's default: `sysctl_nr_open = 1024*1024` (Linux fs/file.c).
pub const NR_OPEN_DEFAULT: u64 = 1_048_576;
/// fs.nr_open's ceiling on 64-bit Linux: `sysctl_nr_open_max` (fs/file.c), INT_MAX rounded
/// down to a multiple of BITS_PER_LONG.
pub const NR_OPEN_MAX: u64 = 2_147_483_584;
/// The bundle's fs.file-max for every host (seed §1, hosts/all/etc/sysctl.d).
pub const FILE_MAX_DEFAULT: u64 = 2_097_152;
/// HAProxy's descriptors besides two per connection (assumption haproxy-own-fds, with
/// its source and the measurement).
pub const HAPROXY_OWN_FDS: u64 = a::fixed!(HAPROXY_OWN_FDS) as u64;
/// PostgreSQL's max_files_per_process default (assumption pg-files-per-process).
pub const PG_FILES_PER_PROCESS: u64 = a::fixed!(PG_FILES_PER_PROCESS) as u64;
/// PostgreSQL's processes besides backends and workers (assumption pg-aux-processes).
pub const PG_AUX_PROCESSES: u64 = a::fixed!(PG_AUX_PROCESSES) as u64;
/// LiveKit's own descriptors (assumption livekit-own-fds).
pub const LIVEKIT_OWN_FDS: u64 = a::fixed!(LIVEKIT_OWN_FDS) as u64;

/// One service's need on each host of a role.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Need {
    #[serde(serialize_with = "role_key")]
    pub role: Role,
    /// The systemd unit it runs as.
    pub service: &'static str,
    /// Descriptors one process of it needs (its RLIMIT_NOFILE must reach this).
    pub per_process: u64,
    /// Descriptors all its processes on the host may hold together (fs.file-max).
    pub per_host: u64,
    pub formula: String,
}

fn role_key<S: serde::Serializer>(r: &Role, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(r.key())
}

/// What the bundle sets on one role's hosts for its services' descriptors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLimits {
    /// The largest per-process need on the host.
    pub per_process: u64,
    /// fs.nr_open to set, when the largest need passes the kernel's default.
    pub nr_open: Option<u64>,
    /// fs.file-max to set, when twice the host's need passes the bundle's default.
    pub file_max: Option<u64>,
    /// The sum of the host's needs.
    pub per_host: u64,
}

/// The limit one process gets from the bundle: its need, never below the cluster's
/// default (DefaultLimitNOFILE, limits.d).
pub fn limit_nofile(need: u64) -> u64 {
    need.max(a::fixed!(NOFILE_LIMIT) as u64)
}

/// Users PgBouncer knows: the bundle's auth file's two (synapse, the stats user) and its
/// own admin console user `pgbouncer`.
const PGBOUNCER_USERS: u64 = 3;
/// The admin console's pool (PgBouncer's `pgbouncer` database, a forced user).
const PGBOUNCER_ADMIN_POOL: u64 = 2;

/// PgBouncer's own estimate of the descriptors it may need, which it logs at start
/// ("max expected fd use", src/main.c check_limits): max_client_conn + 10, plus for each
/// database its pool size × every user it knows (the admin database: its pool).
pub fn pgbouncer_own_estimate(plan: &crate::plan::Plan) -> u64 {
    plan.pgbouncer
        .max_client_conn
        .saturating_add(10)
        .saturating_add(
            plan.pgbouncer
                .default_pool_size
                .saturating_mul(PGBOUNCER_USERS),
        )
        .saturating_add(PGBOUNCER_ADMIN_POOL)
}

/// Every need the plan drives, by role (roles with no host left out).
pub fn needs(plan: &crate::plan::Plan, c: &Connections, calls: &Calls) -> Vec<Need> {
    let mut out = Vec::new();
    let has = |r: Role| plan.host(r).count > 0;
    if has(Role::Haproxy) {
        out.push(Need {
            role: Role::Haproxy,
            service: "haproxy.service",
            per_process: c.haproxy_file_descriptors,
            per_host: c.haproxy_file_descriptors,
            formula: format!(
                "2 × maxconn {} + {} of HAProxy's own = {} (HAProxy 2.6 src/haproxy.c compute_ideal_maxsock: two sockets per connection, plus listeners, checks, the stats socket and 3 per thread)",
                c.haproxy_maxconn, HAPROXY_OWN_FDS, c.haproxy_file_descriptors
            ),
        });
    }
    if has(Role::Synapse) {
        // PgBouncer's own estimate, or the report's, if larger.
        let own = pgbouncer_own_estimate(plan);
        let need = own.max(c.pgbouncer_file_descriptors);
        out.push(Need {
            role: Role::Synapse,
            service: "pgbouncer.service",
            per_process: need,
            per_host: need,
            formula: format!(
                "max(PgBouncer's own estimate max_client_conn {} + 10 + default_pool_size {} × 3 users + 2 = {own}, the report's {}) = {need} (PgBouncer src/main.c check_limits)",
                plan.pgbouncer.max_client_conn,
                plan.pgbouncer.default_pool_size,
                c.pgbouncer_file_descriptors
            ),
        });
    }
    if has(Role::Patroni) {
        let vcpus = plan.host(Role::Patroni).vcpus;
        let workers = if vcpus >= 4 { vcpus } else { 8 };
        let processes = plan
            .postgres
            .max_connections
            .saturating_add(super::postgres::AUTOVACUUM_MAX_WORKERS)
            .saturating_add(workers)
            .saturating_add(PG_AUX_PROCESSES);
        let per_host = processes.saturating_mul(PG_FILES_PER_PROCESS);
        out.push(Need {
            role: Role::Patroni,
            service: "patroni.service",
            per_process: PG_FILES_PER_PROCESS,
            per_host,
            formula: format!(
                "each PostgreSQL process keeps at most max_files_per_process {PG_FILES_PER_PROCESS} files open; (max_connections {} + autovacuum_max_workers {} + max_worker_processes {workers} + {PG_AUX_PROCESSES} others) × {PG_FILES_PER_PROCESS} = {per_host} on the host (PostgreSQL docs, max_files_per_process)",
                plan.postgres.max_connections,
                super::postgres::AUTOVACUUM_MAX_WORKERS,
            ),
        });
    }
    if has(Role::Coturn) {
        let t = &calls.turn;
        let per = a::fixed!(COTURN_FDS_PER_SESSION) as u64;
        let need = t.total_quota.saturating_mul(per);
        out.push(Need {
            role: Role::Coturn,
            service: "coturn.service",
            per_process: need,
            per_host: need,
            formula: format!(
                "total-quota {} × {per} descriptors per session = {need}, within the {} coturn runs with by construction (total-quota ≤ its sessions by descriptors; {})",
                t.total_quota,
                t.nofile,
                a::COTURN_FDS_PER_SESSION.source
            ),
        });
    }
    if has(Role::Livekit) {
        let l = &calls.livekit;
        let sockets = l.ports_needed_per_node.min(l.port_range);
        let need = sockets
            .saturating_add(l.participants_per_node)
            .saturating_add(LIVEKIT_OWN_FDS);
        out.push(Need {
            role: Role::Livekit,
            service: "livekit.service",
            per_process: need,
            per_host: need,
            formula: format!(
                "min(ports needed {}, the range's {}) UDP sockets + {} participants' signalling connections + {LIVEKIT_OWN_FDS} of its own = {need} ({})",
                l.ports_needed_per_node,
                l.port_range,
                l.participants_per_node,
                a::LIVEKIT_PORTS_PER_PARTICIPANT.source
            ),
        });
    }
    out
}

/// What one role's hosts need set, from [`needs`].
pub fn host_limits(needs: &[Need], role: Role) -> HostLimits {
    let mine = needs.iter().filter(|n| n.role == role);
    let per_process = mine.clone().map(|n| n.per_process).max().unwrap_or(0);
    let per_host = mine.fold(0u64, |s, n| s.saturating_add(n.per_host));
    // Half of fs.file-max for the plan's services, half for everything else on the
    // host (the OS, exporters, Docker, logs): raised when that no longer fits the
    // bundle's default.
    let file_max = per_host.saturating_mul(2);
    HostLimits {
        per_process,
        nr_open: (per_process > NR_OPEN_DEFAULT).then_some(per_process.min(NR_OPEN_MAX)),
        file_max: (file_max > FILE_MAX_DEFAULT).then_some(file_max),
        per_host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;
    use crate::report::Report;

    fn limits(changes: &[(&str, &str)], role: Role) -> HostLimits {
        let p = Plan::default().with_texts(changes).expect("valid");
        let r = Report::new(&p);
        host_limits(&needs(&p, &r.connections, &r.calls), role)
    }

    #[test]
    fn numbers_past_tool_limits_nr_open_ceiling_is_int_max_less_64() {
        assert_eq!(NR_OPEN_MAX, (i32::MAX as u64) & !63);
        assert_eq!(NR_OPEN_MAX, (1 << 31) - 64);
    }

    /// (peak users, HAProxy's per-process need, fs.nr_open, fs.file-max): from about
    /// 175,000 peak users (× 3 connections) HAProxy needs more than 1,048,576.
    #[test]
    fn numbers_past_tool_limits_haproxy_descriptors_raise_nr_open_from_175k_users() {
        for (peak, need, nr_open, file_max) in [
            ("2500", 17_000, None, None),
            ("174000", 1_045_000, None, None),
            ("175000", 1_051_000, Some(1_051_000), Some(2_102_000)),
            (
                "100000000",
                600_001_000,
                Some(600_001_000),
                Some(1_200_002_000),
            ),
        ] {
            let l = limits(
                &[
                    ("users.registered", "100000000"),
                    ("users.peak-concurrent", peak),
                ],
                Role::Haproxy,
            );
            assert_eq!(
                (l.per_process, l.nr_open, l.file_max),
                (need, nr_open, file_max),
                "{peak}"
            );
        }
    }

    #[test]
    fn numbers_past_tool_limits_postgres_connections_raise_file_max() {
        // 500 connections (16 vCPUs): (500 + 4 + 16 + 20) × 1,000 = 540,000 on the host.
        let l = limits(&[], Role::Patroni);
        assert_eq!((l.per_host, l.file_max, l.nr_open), (540_000, None, None));
        let l = limits(&[("postgres.max-connections", "10000")], Role::Patroni);
        assert_eq!(
            (l.per_host, l.file_max, l.nr_open),
            (10_040_000, Some(20_080_000), None)
        );
    }

    /// PgBouncer and coturn stay under the kernel's default at every value the schema
    /// allows: no fs.nr_open to raise for them.
    #[test]
    fn numbers_past_tool_limits_pgbouncer_and_coturn_fit_the_default_nr_open() {
        let l = limits(
            &[
                ("pgbouncer.max-client-conn", "1000000"),
                ("pgbouncer.default-pool-size", "10000"),
                ("pgbouncer.reserve-pool-size", "10000"),
            ],
            Role::Synapse,
        );
        assert_eq!(l.per_process, 1_030_012);
        assert_eq!(l.nr_open, None);
        let l = limits(
            &[("coturn.min-port", "5350"), ("coturn.max-port", "65535")],
            Role::Coturn,
        );
        assert!(l.per_process <= limit_nofile(0), "{l:?}");
    }
}
