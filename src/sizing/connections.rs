//! The database connection chain: Synapse's pools → PgBouncer's clients → PgBouncer's
//! server connections → what PostgreSQL leaves for them (DESIGN.md §3).

use crate::assumptions::{self as a, Assumption};
use crate::plan::{Plan, Role};
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Reserved {
    pub name: &'static str,
    pub count: u64,
    pub source: &'static str,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Connections {
    pub synapse_processes: u64,
    pub cp_max: u64,
    /// Σ cp_max over every Synapse process: what Synapse may open to PgBouncer.
    pub synapse_pool_total: u64,
    pub pgbouncer_pool_mode: crate::plan::PoolMode,
    pub pgbouncer_max_client_conn: u64,
    /// One PgBouncer per Synapse host (client-side pooling, DESIGN.md §2).
    pub pgbouncer_instances: u64,
    /// Database/user pairs PgBouncer pools for: Synapse's database as its user.
    pub pgbouncer_pools: u64,
    /// instances × pools × (default_pool_size + reserve_pool_size).
    pub pgbouncer_server_connections: u64,
    /// File descriptors one PgBouncer needs: clients + servers + a few of its own.
    pub pgbouncer_file_descriptors: u64,
    pub postgres_max_connections: u64,
    pub postgres_reserved: Vec<Reserved>,
    pub postgres_reserved_total: u64,
    /// max_connections − reserved: what PgBouncer may use. Negative when the reserve
    /// alone exceeds max_connections.
    pub postgres_available: i64,
    /// HAProxy's global maxconn for the plan's peak.
    pub haproxy_maxconn: u64,
    /// File descriptors HAProxy needs for it: 2 × maxconn + its own
    /// ([`super::descriptors::HAPROXY_OWN_FDS`]).
    pub haproxy_file_descriptors: u64,
}

fn reserved(plan: &Plan, a: Assumption) -> Reserved {
    Reserved {
        name: a.label,
        // Connections a tool needs: a fractional override rounds up.
        count: super::round_up_needed(plan.assume(&a)),
        source: a.source,
    }
}

/// Front-end connections at the plan's peak: ⌈peak concurrent users × connections per
/// user⌉. The assumption may be fractional (1.9 connections per user): it multiplies
/// first and the product is rounded once, up, because it is a need.
pub fn haproxy_connections_needed(plan: &Plan) -> u64 {
    super::round_up_needed(
        plan.peak_concurrent_users() as f64 * plan.assume(&a::HAPROXY_CONNS_PER_USER),
    )
}

/// HAProxy's `maxconn`: the connections needed at the peak, at least 2,000, rounded up
/// to the next thousand.
pub fn haproxy_maxconn(plan: &Plan) -> u64 {
    let want = haproxy_connections_needed(plan).max(2000);
    want.div_ceil(1000).saturating_mul(1000)
}

pub fn connections(plan: &Plan) -> Connections {
    let processes = plan.synapse_process_count();
    let cp_max = plan.synapse.cp_max;
    let instances = plan.host(Role::Synapse).count;
    let pools = 1;
    let server = instances.saturating_mul(pools).saturating_mul(
        plan.pgbouncer
            .default_pool_size
            .saturating_add(plan.pgbouncer.reserve_pool_size),
    );
    let reserved = vec![
        reserved(plan, a::PG_SUPERUSER_RESERVED),
        reserved(plan, a::PG_PATRONI_CONNS),
        reserved(plan, a::PG_EXPORTER_CONNS),
        reserved(plan, a::PG_BACKUP_CONNS),
        reserved(plan, a::PG_ADMIN_CONNS),
    ];
    let reserved_total: u64 = reserved.iter().map(|r| r.count).sum();
    Connections {
        synapse_processes: processes,
        cp_max,
        synapse_pool_total: processes.saturating_mul(cp_max),
        pgbouncer_pool_mode: plan.pgbouncer.pool_mode,
        pgbouncer_max_client_conn: plan.pgbouncer.max_client_conn,
        pgbouncer_instances: instances,
        pgbouncer_pools: pools,
        pgbouncer_server_connections: server,
        // Per instance: its clients, its server connections, and ~10 for the listen
        // sockets, admin console and log.
        pgbouncer_file_descriptors: plan
            .pgbouncer
            .max_client_conn
            .saturating_add(server / instances.max(1))
            .saturating_add(10),
        postgres_max_connections: plan.postgres.max_connections,
        postgres_reserved: reserved,
        postgres_reserved_total: reserved_total,
        postgres_available: plan.postgres.max_connections as i64 - reserved_total as i64,
        haproxy_maxconn: haproxy_maxconn(plan),
        haproxy_file_descriptors: haproxy_maxconn(plan)
            .saturating_mul(2)
            .saturating_add(super::descriptors::HAPROXY_OWN_FDS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_chain() {
        let c = connections(&Plan::default());
        assert_eq!(c.synapse_pool_total, 200, "20 processes × cp_max 10");
        assert_eq!(c.pgbouncer_max_client_conn, 1000);
        assert_eq!(c.pgbouncer_server_connections, 60, "1 × (50 + 10)");
        assert_eq!(c.postgres_reserved_total, 15);
        assert_eq!(c.postgres_available, 485);
        assert_eq!(c.pgbouncer_file_descriptors, 1070);
        assert_eq!(c.haproxy_maxconn, 8000, "2,500 × 3 = 7,500 → 8,000");
        assert_eq!(c.haproxy_file_descriptors, 17_000, "2 × 8,000 + 1,000");
    }

    #[test]
    fn numbers_past_tool_limits_haproxy_connections_per_user_multiplies_before_rounding() {
        let check = |peak: &str, per_user: &str, needed: u64, maxconn: u64| {
            let p = Plan::default()
                .with_texts(&[
                    ("users.registered", "100000000"),
                    ("users.peak-concurrent", peak),
                    ("assumptions.haproxy-connections-per-user", per_user),
                ])
                .expect("valid");
            assert_eq!(
                haproxy_connections_needed(&p),
                needed,
                "{peak} × {per_user}"
            );
            assert_eq!(haproxy_maxconn(&p), maxconn, "{peak} × {per_user}");
        };
        // The case: 1.9 was truncated to 1 (maxconn 100,000).
        check("100000", "1.9", 190_000, 190_000);
        check("100001", "1.9", 190_002, 191_000);
        check("3", "0.5", 2, 2000);
        check("1000", "2.0001", 2001, 3000);
        check("1", "0.1", 1, 2000);
        check("0", "3", 0, 2000);
    }

    #[test]
    fn numbers_past_tool_limits_reserved_connections_round_up() {
        let p = Plan::default()
            .with_text("assumptions.pg-admin-connections", "4.2")
            .expect("valid");
        let c = connections(&p);
        let admin = c
            .postgres_reserved
            .iter()
            .find(|r| r.name == a::PG_ADMIN_CONNS.label)
            .expect("admin reserve");
        assert_eq!(admin.count, 5);
        assert_eq!(c.postgres_reserved_total, 15);
    }

    #[test]
    fn haproxy_maxconn_floor() {
        let p = Plan::default()
            .with_text("users.peak-concurrent", "10")
            .unwrap();
        assert_eq!(haproxy_maxconn(&p), 2000);
    }
}
