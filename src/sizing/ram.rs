//! RAM budget per host role: every item that lives on a host of that role, its size
//! and the formula behind it, against the host's RAM. A role's budget is that of its
//! busiest host (e.g. the LiveKit node that also runs LiveKit's Redis).

use super::{Gib, connections, postgres};
use crate::assumptions::{self as a, Assumption};
use crate::plan::{Plan, Role};
use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Synapse main process and workers.
    Synapse,
    /// PostgreSQL memory (shared buffers, per-query and maintenance memory).
    Database,
    /// Every other service on the host.
    Service,
    /// Operating system reserve.
    System,
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Synapse,
        Category::Database,
        Category::Service,
        Category::System,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Category::Synapse => "Synapse processes",
            Category::Database => "PostgreSQL memory",
            Category::Service => "Other services",
            Category::System => "OS reserve",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Item {
    pub name: String,
    pub category: Category,
    /// How many of it run on the host (processes of a worker type, say).
    pub count: u64,
    pub each_gib: Gib,
    /// `count × each`.
    pub gib: Gib,
    pub formula: String,
    pub source: String,
}

/// A signed hundredths-of-GiB figure (headroom can be negative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SignedGib(pub i64);

impl Serialize for SignedGib {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64 / 100.0)
    }
}

impl std::fmt::Display for SignedGib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.0 < 0 { "−" } else { "" };
        write!(f, "{sign}{}", Gib(self.0.unsigned_abs()))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct HostBudget {
    pub role: Role,
    pub label: &'static str,
    pub count: u64,
    pub ram_gib: u64,
    pub vcpus: u64,
    /// Σ items: what one host of this role needs.
    pub ram_needed_gib: Gib,
    /// `ram_gib − ram_needed_gib`; negative when over budget.
    pub ram_free_gib: SignedGib,
    /// `ram_needed / ram`, in whole percent.
    pub ram_used_percent: u64,
    pub items: Vec<Item>,
}

struct Items<'a> {
    plan: &'a Plan,
    items: Vec<Item>,
}

impl Items<'_> {
    fn add(
        &mut self,
        name: impl Into<String>,
        category: Category,
        count: u64,
        each: Gib,
        formula: impl Into<String>,
        source: impl Into<String>,
    ) {
        if count == 0 {
            return;
        }
        self.items.push(Item {
            name: name.into(),
            category,
            count,
            each_gib: each,
            gib: each.times(count),
            formula: formula.into(),
            source: source.into(),
        });
    }

    /// An item whose size is an assumption, stated as such.
    fn assumed(&mut self, category: Category, a: Assumption) {
        let value = self.plan.assume(&a);
        self.add(
            a.label,
            category,
            1,
            Gib::from_gib(value),
            format!("{value} {}", a.unit),
            a.source,
        );
    }
}

pub fn budgets(plan: &Plan) -> Vec<HostBudget> {
    Role::ALL.iter().map(|&r| budget(plan, r)).collect()
}

pub fn budget(plan: &Plan, role: Role) -> HostBudget {
    let host = plan.host(role);
    let mut items = Items {
        plan,
        items: Vec::new(),
    };
    if host.count > 0 {
        match role {
            Role::Synapse => synapse_items(plan, &mut items),
            Role::Patroni => patroni_items(plan, &mut items),
            Role::Minio => minio_items(plan, &mut items),
            Role::Haproxy => haproxy_items(plan, &mut items),
            Role::Coturn => items.assumed(Category::Service, a::COTURN_GIB),
            Role::Livekit => {
                items.assumed(Category::Service, a::LIVEKIT_GIB);
                items.assumed(Category::Service, a::LIVEKIT_REDIS_GIB);
            }
            Role::Monitoring => monitoring_items(plan, &mut items),
            Role::Backup => {
                items.assumed(Category::Service, a::PGBACKREST_REPO_GIB);
                items.assumed(Category::Service, a::RSYNC_GIB);
            }
        }
        // MinIO's guidance is the whole node's RAM; every other role adds the OS.
        if role != Role::Minio {
            items.assumed(Category::System, a::OS_RESERVE_GIB);
        }
    }
    let items = items.items;
    let needed = items.iter().fold(Gib(0), |acc, i| acc.plus(i.gib));
    let ram = Gib(host.ram_gib.saturating_mul(100));
    HostBudget {
        role,
        label: role.label(),
        count: host.count,
        ram_gib: host.ram_gib,
        vcpus: host.vcpus,
        ram_needed_gib: needed,
        ram_free_gib: SignedGib(ram.0 as i64 - needed.0 as i64),
        // Rounded to the nearest percent.
        ram_used_percent: (needed.0.saturating_mul(100) + ram.0 / 2)
            .checked_div(ram.0)
            .unwrap_or(0),
        items,
    }
}

fn synapse_items(plan: &Plan, items: &mut Items) {
    let source = format!(
        "{}; {}",
        a::SYNAPSE_BASE_MIB.source,
        "caches from the lab's sync and room workers (assumptions synapse-sync-mib-per-user, synapse-room-mib-per-user), bounded by cache autotuning (element-hq/synapse synapse/util/caches/lrucache.py _expire_old_entries)"
    );
    for p in super::processes(plan) {
        let base_mib = plan.assume(&a::SYNAPSE_BASE_MIB);
        items.add(
            p.label,
            Category::Synapse,
            p.count,
            p.base_gib,
            format!("{} MiB each", crate::format::number(base_mib)),
            a::SYNAPSE_BASE_MIB.source,
        );
        if p.caches_gib > Gib(0) {
            items.add(
                format!("{}: caches", p.label),
                Category::Synapse,
                1,
                p.caches_gib,
                p.caches_formula,
                source.clone(),
            );
        }
    }
    synapse_services(plan, items);
}

/// Everything on the Synapse host but the Synapse processes: Valkey, the reverse-proxy
/// companion, the web clients, PgBouncer (the OS reserve is added by [`budget`]).
fn synapse_services(plan: &Plan, items: &mut Items) {
    if plan.synapse.redis {
        items.assumed(Category::Service, a::VALKEY_GIB);
    }
    items.assumed(Category::Service, a::REVERSE_PROXY_COMPANION_GIB);
    items.assumed(Category::Service, a::WEB_CLIENTS_GIB);
    let c = connections::connections(plan);
    let conns = plan
        .pgbouncer
        .max_client_conn
        .saturating_add(c.pgbouncer_server_connections);
    let mib = plan.assume(&a::PGBOUNCER_BASE_MIB)
        + conns as f64 * plan.assume(&a::PGBOUNCER_PER_CONN_KIB) / 1024.0;
    items.add(
        "PgBouncer",
        Category::Service,
        1,
        Gib::from_mib(mib),
        format!(
            "{} MiB + ({conns} client and server connections) × {} KiB",
            plan.assume(&a::PGBOUNCER_BASE_MIB),
            plan.assume(&a::PGBOUNCER_PER_CONN_KIB)
        ),
        a::PGBOUNCER_PER_CONN_KIB.source,
    );
}

/// What the Synapse host holds besides the Synapse processes, OS reserve included: what
/// cache autotuning's maximum must leave room for.
pub fn synapse_services_gib(plan: &Plan) -> Gib {
    let mut items = Items {
        plan,
        items: Vec::new(),
    };
    synapse_services(plan, &mut items);
    items.assumed(Category::System, a::OS_RESERVE_GIB);
    items.items.iter().fold(Gib(0), |acc, i| acc.plus(i.gib))
}

fn patroni_items(plan: &Plan, items: &mut Items) {
    let mem = postgres::memory(plan);
    let c = connections::connections(plan);
    // Backends that can exist: Synapse reaches PostgreSQL only through PgBouncer, so at
    // most its server connections plus the reserved direct ones, and never more than
    // max_connections.
    let backends = c
        .pgbouncer_server_connections
        .saturating_add(c.postgres_reserved_total)
        .min(plan.postgres.max_connections);
    let backends_why = format!(
        "{backends} backends = min(max_connections {}, PgBouncer's {} server connections + {} reserved)",
        plan.postgres.max_connections, c.pgbouncer_server_connections, c.postgres_reserved_total
    );
    items.add(
        "shared_buffers",
        Category::Database,
        1,
        Gib::from_kb(mem.shared_buffers_kb),
        format!("RAM / 4 = {}", postgres::format_kb(mem.shared_buffers_kb)),
        "PGTune (le0pard/pgtune configurationSlice.js)",
    );
    items.add(
        "work_mem, worst case",
        Category::Database,
        1,
        Gib::from_kb(mem.work_mem_kb.saturating_mul(backends)),
        format!("{backends_why} × work_mem {} (one sort or hash each at once)", postgres::format_kb(mem.work_mem_kb)),
        "PostgreSQL docs, work_mem; PGTune sizes work_mem so max_connections × 3 of them fit in RAM − shared_buffers",
    );
    items.add(
        "Per-connection overhead",
        Category::Database,
        1,
        Gib::from_mib(backends as f64 * plan.assume(&a::PG_BACKEND_OVERHEAD_MIB)),
        format!(
            "{backends} backends × {} MiB",
            plan.assume(&a::PG_BACKEND_OVERHEAD_MIB)
        ),
        a::PG_BACKEND_OVERHEAD_MIB.source,
    );
    items.add(
        "Autovacuum workers",
        Category::Database,
        mem.autovacuum_max_workers,
        Gib::from_kb(mem.autovacuum_work_mem_kb),
        format!(
            "autovacuum_max_workers {} × autovacuum_work_mem {}",
            mem.autovacuum_max_workers,
            postgres::format_kb(mem.autovacuum_work_mem_kb)
        ),
        "PostgreSQL docs, autovacuum_work_mem; seed §4 autovacuum block",
    );
    items.add(
        "One manual maintenance operation",
        Category::Database,
        1,
        Gib::from_kb(mem.maintenance_work_mem_kb),
        format!(
            "maintenance_work_mem {} (CREATE INDEX, VACUUM by hand)",
            postgres::format_kb(mem.maintenance_work_mem_kb)
        ),
        "PostgreSQL docs, maintenance_work_mem",
    );
    items.assumed(Category::Service, a::ETCD_GIB);
    items.assumed(Category::Service, a::PATRONI_GIB);
    items.add(
        "postgres_exporter",
        Category::Service,
        1,
        Gib::from_gib(plan.assume(&a::EXPORTER_GIB)),
        "0.1 GiB",
        a::EXPORTER_GIB.source,
    );
    items.assumed(Category::Service, a::PGBACKREST_GIB);
}

fn minio_items(plan: &Plan, items: &mut Items) {
    let tib = plan.minio.drives_per_node as f64 * plan.minio.drive_tib;
    let gib = a::minio_ram_guidance_gib(tib);
    items.add(
        "MinIO server (whole-node guidance)",
        Category::Service,
        1,
        Gib::from_gib(gib),
        format!(
            "{} drives × {} TiB = {} TiB per node → {gib} GiB (≤1 TiB 8, ≤10 TiB 16, ≤100 TiB 32, more 64)",
            plan.minio.drives_per_node, plan.minio.drive_tib, tib
        ),
        "MinIO hardware checklist, memory per node by storage (DESIGN.md §3)",
    );
}

fn haproxy_items(plan: &Plan, items: &mut Items) {
    let maxconn = connections::haproxy_maxconn(plan);
    items.add(
        "HAProxy",
        Category::Service,
        1,
        Gib::from_mib(maxconn as f64 * plan.assume(&a::HAPROXY_PER_CONN_KIB) / 1024.0),
        format!(
            "maxconn {maxconn} × {} KiB",
            plan.assume(&a::HAPROXY_PER_CONN_KIB)
        ),
        a::HAPROXY_PER_CONN_KIB.source,
    );
    items.assumed(Category::Service, a::KEEPALIVED_GIB);
}

/// Active Prometheus series the plan produces: Synapse processes × 10,000 + hosts ×
/// 2,500 (both assumptions). The bundle sizes Prometheus' retention from it too. A need:
/// fractional assumptions multiply first, the sum is rounded once, up.
pub fn prometheus_series(plan: &Plan) -> u64 {
    let hosts: u64 = Role::ALL.iter().map(|&r| plan.host(r).count).sum();
    super::round_up_needed(
        plan.synapse_process_count() as f64 * plan.assume(&a::PROM_SERIES_PER_SYNAPSE_PROCESS)
            + hosts as f64 * plan.assume(&a::PROM_SERIES_PER_HOST),
    )
}

fn monitoring_items(plan: &Plan, items: &mut Items) {
    let hosts: u64 = Role::ALL.iter().map(|&r| plan.host(r).count).sum();
    let series = prometheus_series(plan) as f64;
    let gib = plan.assume(&a::PROM_BASE_GIB)
        + series * plan.assume(&a::PROM_KIB_PER_SERIES) / (1024.0 * 1024.0);
    items.add(
        "Prometheus",
        Category::Service,
        1,
        Gib::from_gib(gib),
        format!(
            "{} GiB + ({} Synapse processes × {} + {hosts} hosts × {} = {} series) × {} KiB",
            plan.assume(&a::PROM_BASE_GIB),
            plan.synapse_process_count(),
            crate::format::number(plan.assume(&a::PROM_SERIES_PER_SYNAPSE_PROCESS)),
            crate::format::number(plan.assume(&a::PROM_SERIES_PER_HOST)),
            crate::format::group(series as u64),
            plan.assume(&a::PROM_KIB_PER_SERIES)
        ),
        a::PROM_SERIES_PER_SYNAPSE_PROCESS.source,
    );
    items.assumed(Category::Service, a::GRAFANA_GIB);
    items.assumed(Category::Service, a::ALERTMANAGER_GIB);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_and_gib(b: &HostBudget) -> Vec<(String, String)> {
        b.items
            .iter()
            .map(|i| (i.name.clone(), i.gib.to_string()))
            .collect()
    }

    #[test]
    fn seed_synapse_host() {
        let b = budget(&Plan::default(), Role::Synapse);
        let synapse: Gib = b
            .items
            .iter()
            .filter(|i| i.category == Category::Synapse)
            .fold(Gib(0), |a, i| a.plus(i.gib));
        // 3 sync workers and the room worker at 2.16 GiB, 16 processes at 0.16.
        assert_eq!(
            synapse,
            Gib(4 * 216 + 16 * 16),
            "sizing::tests has the per-type cases"
        );
        // PgBouncer: 64 MiB + (1000 + 60) × 8 KiB = 72.28 MiB = 0.07 GiB.
        let pgb = b.items.iter().find(|i| i.name == "PgBouncer").unwrap();
        assert_eq!(pgb.gib, Gib(7));
        let others = 50 + 25 + 25 + 7 + 200;
        assert_eq!(synapse_services_gib(&Plan::default()), Gib(others));
        assert_eq!(b.ram_needed_gib, Gib(1120 + others));
        assert_eq!(b.ram_free_gib, SignedGib(16000 - 1427));
        assert_eq!(b.ram_used_percent, 9);
        // Each process type: its processes' bases, then their caches as one item.
        let item = |name: &str| {
            let i = b.items.iter().find(|i| i.name == name).unwrap();
            (i.count, i.each_gib, i.gib)
        };
        assert_eq!(item("Sync workers"), (3, Gib(16), Gib(48)));
        // 2,500 users × 2.8 MiB = 6.84 GiB, held at 3 × 2 GiB.
        assert_eq!(item("Sync workers: caches"), (1, Gib(600), Gib(600)));
        assert_eq!(item("Room workers: caches"), (1, Gib(200), Gib(200)));
        assert!(!b.items.iter().any(|i| i.name == "Pushers: caches"));
    }

    #[test]
    fn seed_patroni_host() {
        let b = budget(&Plan::default(), Role::Patroni);
        assert_eq!(
            names_and_gib(&b),
            [
                ("shared_buffers", "16"),
                // 75 backends (60 PgBouncer + 15 reserved) × 32513 kB = 2.33 GiB.
                ("work_mem, worst case", "2.33"),
                // 75 × 10 MiB.
                ("Per-connection overhead", "0.73"),
                // 4 × autovacuum_work_mem 1GB.
                ("Autovacuum workers", "4"),
                ("One manual maintenance operation", "2"),
                ("etcd member (Patroni's DCS)", "0.5"),
                ("Patroni daemon (Python)", "0.25"),
                ("postgres_exporter", "0.1"),
                ("pgBackRest archive-push/backup on a database node", "0.25"),
                ("Operating system, Docker daemon, node exporter", "2"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(b.ram_needed_gib, Gib(2816));
        // Backends are bounded by max_connections when it is the smaller.
        let p = Plan::default()
            .with_text("postgres.max-connections", "40")
            .unwrap();
        let w = budget(&p, Role::Patroni)
            .items
            .into_iter()
            .find(|i| i.name == "Per-connection overhead")
            .unwrap();
        assert_eq!(w.formula, "40 backends × 10 MiB");
        // A bigger PgBouncer pool means more backends.
        let p = Plan::default()
            .with_text("pgbouncer.default-pool-size", "200")
            .unwrap();
        // 225 backends: work_mem 6.98 GiB (+4.65), overhead 2.20 GiB (+1.47).
        assert_eq!(
            budget(&p, Role::Patroni).ram_needed_gib,
            Gib(2816 + 465 + 147)
        );
    }

    #[test]
    fn roles_that_are_off_need_nothing() {
        let p = Plan::default()
            .with_text("hosts.livekit.count", "0")
            .unwrap();
        let b = budget(&p, Role::Livekit);
        assert!(b.items.is_empty());
        assert_eq!(b.ram_needed_gib, Gib(0));
    }

    #[test]
    fn minio_guidance_follows_storage() {
        let p = Plan::default().with_text("minio.drive-tib", "30").unwrap();
        let b = budget(&p, Role::Minio);
        assert_eq!(b.ram_needed_gib, Gib(6400), "4 × 30 TiB = 120 TiB → 64 GiB");
    }
}
