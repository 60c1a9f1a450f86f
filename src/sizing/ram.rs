//! RAM budget per host role: every item that lives on a host of that role, its size
//! and the formula behind it, against the host's RAM. A role's budget is that of its
//! busiest host (e.g. the LiveKit node that also runs LiveKit's Redis).

use super::{Gib, connections, postgres};
use crate::assumptions::{self as a, Assumption, fixed};
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
    let processes = mem.processes();
    let processes_why = format!(
        "({} backends = min(max_connections {}, PgBouncer's {} server connections + {} reserved), + {} parallel workers)",
        mem.backends,
        plan.postgres.max_connections,
        c.pgbouncer_server_connections,
        c.postgres_reserved_total,
        mem.parallel_workers
    );
    items.add(
        "shared_buffers",
        Category::Database,
        1,
        Gib::from_kb(mem.shared_buffers_kb),
        format!("RAM / 4 = {}", postgres::format_kb(mem.shared_buffers_kb)),
        "PGTune (le0pard/pgtune configurationSlice.js:130-149)",
    );
    let worst = Gib::from_kb(mem.per_process_sort_hash_kb().saturating_mul(processes));
    let formula = format!(
        "{processes} processes {processes_why} × {} operations at once × hash_mem_multiplier {:.1} × work_mem {}, every operation counted as a hash table",
        fixed!(PG_OPERATIONS_PER_CONNECTION),
        fixed!(PG_HASH_MEM_MULTIPLIER),
        postgres::format_kb(mem.work_mem_kb)
    );
    let (gib, formula) = match mem.sort_hash_reserved {
        Some(reserved) => (
            reserved,
            format!(
                "{} % of {} GiB − shared_buffers {} GiB − the other items {} GiB = {reserved} GiB, reserved for {formula} = {worst} GiB (work_mem lowered from PGTune's {} to fit)",
                crate::format::number(plan.assume(&a::TIGHT_RAM_SHARE) * 100.0),
                plan.host(Role::Patroni).ram_gib,
                Gib::from_kb(mem.shared_buffers_kb),
                patroni_rest(plan, &mem),
                postgres::format_kb(mem.pgtune_work_mem_kb)
            ),
        ),
        None => (worst, formula),
    };
    items.add(
        "Sorts and hash tables, worst case",
        Category::Database,
        1,
        gib,
        formula,
        format!(
            "PGTune (configurationSlice.js:396-399) allows 3 sort or hash operations per connection and parallel worker; PostgreSQL docs, hash_mem_multiplier: a hash table may use {:.1} × work_mem, a sort 1 × (all three counted as hash tables: the bound PostgreSQL enforces, not an average)",
            fixed!(PG_HASH_MEM_MULTIPLIER)
        ),
    );
    patroni_rest_items(plan, &mem, items);
}

/// Every item of a Patroni host but shared_buffers and the sorts and hash tables, the OS
/// reserve included: what work_mem must leave room for ([`postgres::memory`]).
pub(crate) fn patroni_rest(plan: &Plan, mem: &postgres::Memory) -> Gib {
    let mut items = Items {
        plan,
        items: Vec::new(),
    };
    patroni_rest_items(plan, mem, &mut items);
    items.assumed(Category::System, a::OS_RESERVE_GIB);
    items.items.iter().fold(Gib(0), |acc, i| acc.plus(i.gib))
}

fn patroni_rest_items(plan: &Plan, mem: &postgres::Memory, items: &mut Items) {
    let processes = mem.processes();
    items.add(
        "Per-process overhead",
        Category::Database,
        1,
        Gib::from_mib(processes as f64 * plan.assume(&a::PG_BACKEND_OVERHEAD_MIB)),
        format!(
            "{processes} backends and parallel workers × {} MiB",
            plan.assume(&a::PG_BACKEND_OVERHEAD_MIB)
        ),
        a::PG_BACKEND_OVERHEAD_MIB.source,
    );
    let per_worker = if mem.autovacuum_worker_kb < mem.autovacuum_work_mem_kb {
        format!(
            "autovacuum_work_mem {}, of which VACUUM uses at most {} on PostgreSQL {}",
            postgres::format_kb(mem.autovacuum_work_mem_kb),
            postgres::format_kb(mem.autovacuum_worker_kb),
            plan.postgres.version
        )
    } else {
        format!(
            "autovacuum_work_mem {}",
            postgres::format_kb(mem.autovacuum_work_mem_kb)
        )
    };
    items.add(
        "Autovacuum workers",
        Category::Database,
        mem.autovacuum_max_workers,
        Gib::from_kb(mem.autovacuum_worker_kb),
        format!(
            "autovacuum_max_workers {} × {per_worker}",
            mem.autovacuum_max_workers
        ),
        "PostgreSQL docs, autovacuum_work_mem; PGTune configurationSlice.js:481-501",
    );
    items.add(
        "One maintenance operation",
        Category::Database,
        1,
        Gib::from_kb(mem.maintenance_work_mem_kb),
        format!(
            "maintenance_work_mem {} (CREATE INDEX, VACUUM or ALTER TABLE by hand)",
            postgres::format_kb(mem.maintenance_work_mem_kb)
        ),
        "PostgreSQL docs, maintenance_work_mem; PGTune configurationSlice.js:175-203",
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
    let gib = a::minio_ram_band_gib(tib);
    items.add(
        "MinIO server (whole-node guidance)",
        Category::Service,
        1,
        Gib::from_gib(gib),
        format!(
            "{} drives × {} TiB = {} TiB per node → {gib} GiB (≤1 TiB 8, ≤10 TiB 16, ≤100 TiB 32, ≤1 PiB 64, more 128)",
            plan.minio.drives_per_node, plan.minio.drive_tib, tib
        ),
        a::MINIO_RAM_SOURCE,
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
                // (75 backends (60 PgBouncer + 15 reserved) + 16 parallel workers) × 3
                // hash tables × 2.0 × work_mem 32513 kB = 17,752,098 kB = 16.93 GiB.
                ("Sorts and hash tables, worst case", "16.93"),
                // 91 × 10 MiB.
                ("Per-process overhead", "0.89"),
                // 4 × autovacuum_work_mem 2GB, of which VACUUM uses 1GB on PostgreSQL 15.
                ("Autovacuum workers", "4"),
                // 64 GiB / 16 = 4GB, under PGTune's 8 GB cap.
                ("One maintenance operation", "4"),
                ("etcd member (Patroni's DCS)", "0.5"),
                ("Patroni daemon (Python)", "0.25"),
                ("postgres_exporter", "0.1"),
                ("pgBackRest archive-push/backup on a database node", "0.25"),
                ("Operating system, Docker daemon, node exporter", "2"),
            ]
            .map(|(a, b)| (a.to_string(), b.to_string()))
        );
        assert_eq!(b.ram_needed_gib, Gib(4492));
        let item = |p: &Plan, name: &str| {
            budget(p, Role::Patroni)
                .items
                .into_iter()
                .find(|i| i.name == name)
                .unwrap()
        };
        // Backends are bounded by max_connections when it is the smaller.
        let p = Plan::default()
            .with_text("postgres.max-connections", "40")
            .unwrap();
        assert_eq!(
            item(&p, "Per-process overhead").formula,
            "56 backends and parallel workers × 10 MiB"
        );
        // On PostgreSQL 17 an autovacuum worker may use all of autovacuum_work_mem.
        let p = Plan::default().with_text("postgres.version", "17").unwrap();
        assert_eq!(item(&p, "Autovacuum workers").gib, Gib(800));
        // A bigger PgBouncer pool means more backends (225 + 16), and PGTune's work_mem
        // would pass 90% of the 64 GiB: work_mem is lowered until the budget fits.
        let p = Plan::default()
            .with_text("pgbouncer.default-pool-size", "200")
            .unwrap();
        let b = budget(&p, Role::Patroni);
        let mem = postgres::memory(&p);
        assert_eq!(mem.pgtune_work_mem_kb, 32513);
        assert!(mem.work_mem_kb < 32513, "{mem:?}");
        assert_eq!(b.ram_used_percent, 90, "{:?}", names_and_gib(&b));
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
