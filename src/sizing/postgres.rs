//! PostgreSQL parameters for a Patroni node, by PGTune's rules.
//!
//! Source: le0pard/pgtune `src/features/configuration/configurationSlice.js` at 7caef27
//! (2026-07-30), OLTP profile, Linux; its own outputs for a set of hosts are
//! `tests/data/pgtune_cases.tsv`, which `tests/pgtune.rs` holds these parameters to.
//! Deliberate differences, each commented where it is made: autovacuum_max_workers is
//! at least the seed's 4 (PGTune leaves PostgreSQL's 3 below 16 vCPUs);
//! autovacuum_work_mem is written even where PGTune leaves -1 (the same value);
//! checkpoint_timeout is the seed's 15min; effective_cache_size is capped at PostgreSQL's
//! maximum; hash_mem_multiplier, wal_level, wal_log_hints and hot_standby are written
//! for the RAM budget and Patroni.

use crate::assumptions::fixed;
use crate::plan::{Plan, Role, Storage};
use serde::Serialize;

const KB_PER_MB: u64 = 1024;
const KB_PER_GB: u64 = 1024 * 1024;

/// The ranges PostgreSQL 15, 16 and 17 accept for the parameters computed here, from
/// `src/backend/utils/misc/guc_tables.c` (the same bounds in all three; `postgres
/// --describe-config` of Debian 12's 15 prints them): a value outside is refused at
/// start ("… is outside the valid range for parameter", or "Value exceeds integer
/// range" past INT_MAX of the unit), so every figure below stays inside.
pub mod limits {
    /// C's INT_MAX: integer parameters are `int`.
    pub const INT_MAX: u64 = 2_147_483_647;
    /// BLCKSZ and XLOG_BLCKSZ in kB (8192 bytes: Debian's and PGDG's builds).
    pub const BLOCK_KB: u64 = 8;
    /// effective_cache_size: GUC_UNIT_BLOCKS, 1 .. INT_MAX pages (16 TiB − 8 kB).
    pub const EFFECTIVE_CACHE_SIZE_MAX_KB: u64 = INT_MAX * BLOCK_KB;
    /// shared_buffers: GUC_UNIT_BLOCKS, 16 .. INT_MAX / 2 pages (8 TiB − 8 kB).
    pub const SHARED_BUFFERS_MAX_KB: u64 = INT_MAX / 2 * BLOCK_KB;
    /// work_mem, maintenance_work_mem, autovacuum_work_mem: GUC_UNIT_KB, at most
    /// MAX_KILOBYTES (INT_MAX on 64-bit builds).
    pub const MAX_KILOBYTES: u64 = INT_MAX;
    /// work_mem's minimum (64 kB) and maintenance_work_mem's (1024 kB).
    pub const WORK_MEM_MIN_KB: u64 = 64;
    pub const MAINTENANCE_WORK_MEM_MIN_KB: u64 = 1024;
    /// wal_buffers: GUC_UNIT_XBLOCKS, -1 .. INT_MAX / XLOG_BLCKSZ pages.
    pub const WAL_BUFFERS_MAX_KB: u64 = INT_MAX / 8192 * BLOCK_KB;
    /// max_connections, max_worker_processes: at most MAX_BACKENDS (2^18 − 1).
    pub const MAX_BACKENDS: u64 = 262_143;
    /// max_parallel_workers, …_per_gather, …_maintenance_workers: at most
    /// MAX_PARALLEL_WORKER_LIMIT.
    pub const MAX_PARALLEL_WORKER_LIMIT: u64 = 1024;
    /// effective_io_concurrency: 0 .. MAX_IO_CONCURRENCY.
    pub const MAX_IO_CONCURRENCY: u64 = 1000;
}

/// effective_cache_size in kB: RAM × 3/4 (PGTune), at most PostgreSQL's maximum (the
/// parameter is a planner estimate; capping it changes no memory use). The second value
/// is whether the cap applied.
pub fn effective_cache_size_kb(plan: &Plan) -> (u64, bool) {
    let total_kb = plan.host(Role::Patroni).ram_gib.saturating_mul(KB_PER_GB);
    let want = total_kb / 4 * 3;
    if want > limits::EFFECTIVE_CACHE_SIZE_MAX_KB {
        (limits::EFFECTIVE_CACHE_SIZE_MAX_KB, true)
    } else {
        (want, false)
    }
}

/// One parameter: its value exactly as written in postgresql.conf, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Parameter {
    pub name: &'static str,
    pub value: String,
    pub formula: String,
    /// The value as a size, for a memory or WAL parameter: `value` is its text.
    #[serde(skip)]
    pub size: Option<Size>,
    /// How the value was computed, in a sentence with the plan's numbers and the source.
    #[serde(skip)]
    pub how: String,
}

/// PGTune's rules, the source of most PostgreSQL parameters (DESIGN.md §3).
const PGTUNE: &str = "PGTune, le0pard/pgtune src/features/configuration/configurationSlice.js (https://github.com/le0pard/pgtune)";
/// The seed's PostgreSQL section.
const SEED_PG: &str = "the seed's deployment notes §4 (PostgreSQL tuning)";

/// A PostgreSQL size, in kB (the unit PostgreSQL's memory parameters count in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Size {
    pub kb: u64,
}

impl Size {
    pub const fn kb(kb: u64) -> Size {
        Size { kb }
    }

    pub const fn gb(gb: u64) -> Size {
        Size {
            kb: gb.saturating_mul(KB_PER_GB),
        }
    }

    /// In GiB (PostgreSQL's GB is 1024 MB).
    pub fn gib(self) -> f64 {
        self.kb as f64 / KB_PER_GB as f64
    }

    /// The text postgresql.conf holds: [`format_kb`].
    pub fn text(self) -> String {
        format_kb(self.kb)
    }
}

/// `min_wal_size`: PGTune's OLTP value.
pub const MIN_WAL_SIZE: Size = Size::gb(2);
/// `max_wal_size`: PGTune's OLTP value; the storage model keeps this much WAL in pg_wal.
pub const MAX_WAL_SIZE: Size = Size::gb(8);

/// Memory figures the RAM budget needs, in kB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    pub shared_buffers_kb: u64,
    /// The work_mem written: PGTune's, or less where PGTune's would let the worst case
    /// outgrow the host ([`memory`]).
    pub work_mem_kb: u64,
    /// PGTune's work_mem for this host (configurationSlice.js:358-437, OLTP, Linux).
    pub pgtune_work_mem_kb: u64,
    /// The most work_mem with which the worst case fits the tight share of RAM, when
    /// work_mem was lowered from PGTune's for it; None when PGTune's value is written.
    pub fitted_work_mem_kb: Option<u64>,
    /// When work_mem was lowered to fit: what the budget reserves for sorts and hash
    /// tables, the tight share of RAM less every other item (at least the worst case
    /// with the lowered work_mem, which is floored to whole kB).
    pub sort_hash_reserved: Option<super::Gib>,
    pub maintenance_work_mem_kb: u64,
    pub autovacuum_work_mem_kb: u64,
    pub autovacuum_max_workers: u64,
    /// What one autovacuum worker may take: autovacuum_work_mem, at most 1 GB on
    /// PostgreSQL 15 and 16 (VACUUM's dead-tuple limit).
    pub autovacuum_worker_kb: u64,
    /// The parallel workers PGTune counts beside max_connections (max_worker_processes:
    /// the vCPUs from 4, PostgreSQL's default 8 below); each may run its own sorts and
    /// hashes (PostgreSQL docs, parallel query: work_mem applies to each worker).
    pub parallel_workers: u64,
    /// Backends that can exist ([`backends`]).
    pub backends: u64,
}

impl Memory {
    /// Backends and parallel workers: the processes that may sort and hash at once.
    pub fn processes(&self) -> u64 {
        self.backends.saturating_add(self.parallel_workers)
    }

    /// How many work_mem one process may hold at once: sorts at 1, hash tables at
    /// hash_mem_multiplier (6 with PGTune's 3 operations, all counted as hashes).
    pub fn work_mems_per_process() -> f64 {
        let ops = fixed!(PG_OPERATIONS_PER_CONNECTION);
        let hashes = fixed!(PG_HASH_OPERATIONS_PER_CONNECTION).min(ops);
        ops - hashes + hashes * fixed!(PG_HASH_MEM_MULTIPLIER)
    }

    /// The most sort and hash memory one process may hold at once, in kB: PGTune's
    /// operations per process, the hash ones at hash_mem_multiplier × work_mem, the rest
    /// (sorts) at work_mem.
    pub fn per_process_sort_hash_kb(&self) -> u64 {
        let per = Self::work_mems_per_process() * self.work_mem_kb as f64;
        // work_mem ≤ MAX_KILOBYTES, so this is far below u64::MAX.
        per.round() as u64
    }
}

/// PGTune's unit formatting: GB when whole, else MB when whole, else kB.
pub fn format_kb(kb: u64) -> String {
    if kb >= KB_PER_GB && kb.is_multiple_of(KB_PER_GB) {
        format!("{}GB", kb / KB_PER_GB)
    } else if kb >= KB_PER_MB && kb.is_multiple_of(KB_PER_MB) {
        format!("{}MB", kb / KB_PER_MB)
    } else {
        format!("{kb}kB")
    }
}

/// The seed's aggressive autovacuum block (seed §4 "Aggressive autovacuum (CRITICAL
/// for Synapse)": Synapse churns dead tuples in events and state tables).
pub const AUTOVACUUM_MAX_WORKERS: u64 = 4;

/// autovacuum_max_workers: PGTune's (configurationSlice.js:481-487: 5 from 32 vCPUs, 4
/// from 16, PostgreSQL's 3 below), at least the seed's 4. A deliberate difference below
/// 16 vCPUs: Synapse's churn wants the seed's fourth worker on any host.
pub fn autovacuum_max_workers(vcpus: u64) -> u64 {
    let pgtune = match vcpus {
        32.. => 5,
        16.. => 4,
        _ => 3,
    };
    AUTOVACUUM_MAX_WORKERS.max(pgtune)
}

/// Backends that can exist: Synapse reaches PostgreSQL only through PgBouncer, so at most
/// its server connections plus the reserved direct ones, and never more than
/// max_connections (which PGTune counts; the connection chain is the tighter bound).
pub fn backends(plan: &Plan) -> u64 {
    let c = super::connections::connections(plan);
    c.pgbouncer_server_connections
        .saturating_add(c.postgres_reserved_total)
        .min(plan.postgres.max_connections)
}

/// The memory parameters. work_mem is PGTune's unless the worst case with it (every
/// backend and parallel worker holding [`Memory::work_mems_per_process`] × work_mem,
/// beside every other item of the Patroni host's budget) would pass the tight share of
/// the host's RAM: then the largest work_mem that fits, at least PGTune's 4 MB floor. A
/// deliberate difference: PGTune's rule gives all of RAM − shared_buffers to three
/// operations at 1 × work_mem per max_connections, leaving nothing for hash_mem_multiplier,
/// maintenance, autovacuum or the OS.
pub fn memory(plan: &Plan) -> Memory {
    let mut mem = pgtune_memory(plan);
    // In hundredths of a GiB, the grain of the budget, so the budget's total with the
    // reserved item is exactly the tight share.
    let ram = plan.host(Role::Patroni).ram_gib.saturating_mul(100);
    let share = plan
        .assume(&crate::assumptions::TIGHT_RAM_SHARE)
        .clamp(0.0, 1.0);
    let tight = (ram as f64 * share).floor() as u64;
    let taken = super::Gib::from_kb(mem.shared_buffers_kb)
        .plus(super::ram::patroni_rest(plan, &mem))
        .0;
    let left = tight.saturating_sub(taken);
    let left_kb = left.saturating_mul(KB_PER_GB) / 100;
    let per = Memory::work_mems_per_process() * mem.processes().max(1) as f64;
    let fit_kb = (left_kb as f64 / per).floor() as u64;
    let floor_kb = fixed!(PGTUNE_WORK_MEM_FLOOR_MIB) as u64 * KB_PER_MB;
    // Lowered only when that writes less than PGTune: where PGTune's value is already
    // the floor, it stays, and the budget shows the host short.
    if fit_kb.max(floor_kb) < mem.pgtune_work_mem_kb {
        mem.fitted_work_mem_kb = Some(fit_kb);
        mem.work_mem_kb = fit_kb.max(floor_kb);
        if fit_kb >= floor_kb {
            mem.sort_hash_reserved = Some(super::Gib(left));
        }
    }
    mem
}

/// PGTune's memory parameters for the Patroni hosts, work_mem included as PGTune has it.
fn pgtune_memory(plan: &Plan) -> Memory {
    let host = plan.host(Role::Patroni);
    let total_kb = host.ram_gib.saturating_mul(KB_PER_GB);
    let shared_buffers_kb = total_kb / 4;
    let parallel = parallel_for_work_mem(host.vcpus);
    // work_mem = (RAM − shared_buffers) / ((max_connections + max_worker_processes) × 3),
    // floor 4 MB (PGTune "web"/"oltp").
    let divisor = plan
        .postgres
        .max_connections
        .saturating_add(parallel)
        .saturating_mul(3)
        .max(1);
    let floor_kb = fixed!(PGTUNE_WORK_MEM_FLOOR_MIB) as u64 * KB_PER_MB;
    let work_mem_kb = ((total_kb - shared_buffers_kb) / divisor).max(floor_kb);
    // PGTune: RAM / 16, at most 8 GB since 2026-04-04 (2 GB before, which the seed's
    // notes follow; the source wins).
    let cap_kb = fixed!(PGTUNE_MAINTENANCE_WORK_MEM_CAP_GIB) as u64 * KB_PER_GB;
    let maintenance_work_mem_kb = (total_kb / 16).min(cap_kb);
    let autovacuum_work_mem_kb = autovacuum_work_mem_kb(maintenance_work_mem_kb);
    let autovacuum_worker_kb = if plan.postgres.version <= 16 {
        let vacuum_max_kb = fixed!(PG_VACUUM_DEAD_TUPLES_MAX_GIB) as u64 * KB_PER_GB;
        autovacuum_work_mem_kb.min(vacuum_max_kb)
    } else {
        autovacuum_work_mem_kb
    };
    Memory {
        shared_buffers_kb,
        work_mem_kb,
        pgtune_work_mem_kb: work_mem_kb,
        fitted_work_mem_kb: None,
        sort_hash_reserved: None,
        maintenance_work_mem_kb,
        autovacuum_work_mem_kb,
        autovacuum_max_workers: autovacuum_max_workers(host.vcpus),
        autovacuum_worker_kb,
        parallel_workers: parallel,
        backends: backends(plan),
    }
}

/// autovacuum_work_mem: PGTune's 2 GB once maintenance_work_mem reaches it
/// (configurationSlice.js:489-501), else maintenance_work_mem itself, written out where
/// PGTune leaves -1 (which means the same) so the RAM budget reads one value.
fn autovacuum_work_mem_kb(maintenance_work_mem_kb: u64) -> u64 {
    let cap_kb = fixed!(PGTUNE_AUTOVACUUM_WORK_MEM_CAP_GIB) as u64 * KB_PER_GB;
    if maintenance_work_mem_kb >= cap_kb {
        cap_kb
    } else {
        maintenance_work_mem_kb
    }
}

/// PGTune: below 4 cores the parallel settings are left at PostgreSQL's defaults and
/// work_mem counts the default max_worker_processes (8).
fn parallel_for_work_mem(vcpus: u64) -> u64 {
    if vcpus >= 4 { vcpus } else { 8 }
}

/// The parameters as they are made, in file order.
#[derive(Default)]
struct Params(Vec<Parameter>);

impl Params {
    fn text(&mut self, name: &'static str, value: impl Into<String>, formula: impl Into<String>) {
        self.0.push(Parameter {
            name,
            value: value.into(),
            formula: formula.into(),
            size: None,
            how: String::new(),
        });
    }

    fn size(&mut self, name: &'static str, size: Size, formula: impl Into<String>) {
        self.0.push(Parameter {
            name,
            value: size.text(),
            formula: formula.into(),
            size: Some(size),
            how: String::new(),
        });
    }
}

/// Every parameter the plan sets, in postgresql.conf order.
pub fn parameters(plan: &Plan) -> Vec<Parameter> {
    let mem = memory(plan);
    let mut out = Params::default();
    connections_and_memory(plan, &mem, &mut out);
    checkpoints_and_planner(plan, &mem, &mut out);
    wal(&mut out);
    parallel(plan.host(Role::Patroni).vcpus, &mut out);
    replication(&mut out);
    autovacuum(&mem, &mut out);
    for i in 0..out.0.len() {
        out.0[i].how = how(plan, &mem, &out.0[i]);
    }
    out.0
}

/// Connections, shared_buffers, effective_cache_size, maintenance_work_mem.
fn connections_and_memory(plan: &Plan, mem: &Memory, p: &mut Params) {
    let host = plan.host(Role::Patroni);
    p.text(
        "max_connections",
        plan.postgres.max_connections.to_string(),
        "postgres.max-connections; must be equal on every node, set in Patroni's bootstrap.dcs",
    );
    p.text(
        "superuser_reserved_connections",
        "3",
        "PostgreSQL default, written out so the connection budget is explicit",
    );
    p.size(
        "shared_buffers",
        Size::kb(mem.shared_buffers_kb),
        format!("RAM / 4 = {} GiB / 4 (PGTune)", host.ram_gib),
    );
    let (ecs_kb, ecs_capped) = effective_cache_size_kb(plan);
    p.size(
        "effective_cache_size",
        Size::kb(ecs_kb),
        if ecs_capped {
            format!(
                "RAM × 3/4 = {} GiB × 3/4 (PGTune), capped at PostgreSQL's maximum of INT_MAX 8 kB pages = {} (guc_tables.c)",
                host.ram_gib,
                format_kb(ecs_kb)
            )
        } else {
            format!("RAM × 3/4 = {} GiB × 3/4 (PGTune)", host.ram_gib)
        },
    );
    p.size(
        "maintenance_work_mem",
        Size::kb(mem.maintenance_work_mem_kb),
        "min(RAM / 16, 8GB) (PGTune; its cap is 8 GB since 2026-04-04, 2 GB before)",
    );
}

/// Checkpoints, wal_buffers, the planner's costs, work_mem and huge pages.
fn checkpoints_and_planner(plan: &Plan, mem: &Memory, p: &mut Params) {
    let host = plan.host(Role::Patroni);
    let storage = plan.postgres.storage;
    p.text(
        "checkpoint_completion_target",
        "0.9",
        "PGTune (PostgreSQL 14+ default)",
    );
    // The seed sets 15min; PGTune leaves the 5min default. Longer checkpoints cut
    // full-page writes on a write-heavy Synapse database.
    p.text(
        "checkpoint_timeout",
        "15min",
        "seed §4 (fewer full-page writes on write-heavy Synapse)",
    );
    p.size(
        "wal_buffers",
        Size::kb(wal_buffers_kb(mem.shared_buffers_kb)),
        "3% of shared_buffers, at most 16MB (PGTune; the seed's 64MB gains nothing past one WAL segment)",
    );
    p.text("default_statistics_target", "100", "PGTune OLTP");
    p.text(
        "random_page_cost",
        match storage {
            Storage::Hdd => "4",
            Storage::Ssd | Storage::Nvme => "1.1",
        },
        format!("postgres.storage = {} (PGTune)", storage.key()),
    );
    p.text(
        "effective_io_concurrency",
        match storage {
            Storage::Hdd => "2",
            Storage::Ssd => "200",
            Storage::Nvme => "1000",
        },
        format!(
            "postgres.storage = {} (PGTune: HDD 2, SSD 200, NVMe 1000)",
            storage.key()
        ),
    );
    p.size(
        "work_mem",
        Size::kb(mem.work_mem_kb),
        match mem.fitted_work_mem_kb {
            None => format!(
                "(RAM − shared_buffers) / ((max_connections + {}) × 3), at least 4MB (PGTune)",
                parallel_for_work_mem(host.vcpus)
            ),
            Some(_) => format!(
                "lowered from PGTune's {} so the worst case fits the host (RAM budget), at least 4MB",
                format_kb(mem.pgtune_work_mem_kb)
            ),
        },
    );
    p.text(
        "hash_mem_multiplier",
        format!("{:.1}", fixed!(PG_HASH_MEM_MULTIPLIER)),
        "PostgreSQL 15+ default, written out: the RAM budget counts hash tables at this × work_mem",
    );
    let huge = if mem.shared_buffers_kb >= 2 * KB_PER_GB {
        "try"
    } else {
        "off"
    };
    p.text("huge_pages", huge, "try when shared_buffers ≥ 2GB (PGTune)");
}

/// WAL sizes, compression and JIT.
fn wal(p: &mut Params) {
    p.size("min_wal_size", MIN_WAL_SIZE, "PGTune OLTP");
    p.size("max_wal_size", MAX_WAL_SIZE, "PGTune OLTP");
    // PGTune: lz4 from PostgreSQL 15 (Debian and PGDG builds include lz4).
    p.text("wal_compression", "lz4", "PGTune for PostgreSQL 15+");
    p.text(
        "jit",
        "off",
        "PGTune for OLTP: JIT slows Synapse's short queries",
    );
}

/// PGTune's parallel settings, from 4 vCPUs (below, PostgreSQL's defaults stay).
fn parallel(vcpus: u64, p: &mut Params) {
    if vcpus < 4 {
        return;
    }
    let per_gather = vcpus.div_ceil(2).min(4);
    p.text("max_worker_processes", vcpus.to_string(), "vCPUs (PGTune)");
    p.text(
        "max_parallel_workers_per_gather",
        per_gather.to_string(),
        "ceil(vCPUs / 2), at most 4 (PGTune)",
    );
    p.text("max_parallel_workers", vcpus.to_string(), "vCPUs (PGTune)");
    p.text(
        "max_parallel_maintenance_workers",
        per_gather.to_string(),
        "ceil(vCPUs / 2), at most 4 (PGTune)",
    );
}

/// Replication for Patroni: never PGTune's desktop wal_level=minimal.
fn replication(p: &mut Params) {
    p.text(
        "wal_level",
        "replica",
        "streaming replication for Patroni standbys",
    );
    p.text(
        "wal_log_hints",
        "on",
        "lets Patroni run pg_rewind on a former primary",
    );
    p.text(
        "hot_standby",
        "on",
        "standbys answer read-only queries and health checks",
    );
}

/// The seed's §4 autovacuum block.
fn autovacuum(mem: &Memory, p: &mut Params) {
    p.text("autovacuum", "on", "seed §4");
    p.text(
        "autovacuum_max_workers",
        mem.autovacuum_max_workers.to_string(),
        "PGTune (5 from 32 vCPUs, 4 from 16), at least seed §4's 4",
    );
    p.size(
        "autovacuum_work_mem",
        Size::kb(mem.autovacuum_work_mem_kb),
        "2GB once maintenance_work_mem reaches 2GB, else maintenance_work_mem (PGTune)",
    );
    p.text("autovacuum_naptime", "10s", "seed §4");
    p.text(
        "autovacuum_vacuum_scale_factor",
        "0.05",
        "seed §4 (vacuum at 5% dead rows, not 20%)",
    );
    p.text("autovacuum_analyze_scale_factor", "0.05", "seed §4");
    p.text("autovacuum_vacuum_cost_delay", "2ms", "seed §4");
}

/// How a parameter's value was computed, with the plan's numbers put in and the source
/// (what the page shows under "how is this computed?" after `name = value.`).
fn how(plan: &Plan, mem: &Memory, p: &Parameter) -> String {
    let host = plan.host(Role::Patroni);
    let gib = |g: u64| format!("{g} GiB");
    let ram = gib(host.ram_gib);
    let v = &p.value;
    match p.name {
        "max_connections" => format!(
            "{v}: postgres.max-connections as entered, equal on every Patroni node (set in Patroni's bootstrap.dcs: Patroni docs, dynamic configuration)."
        ),
        "shared_buffers" => format!("RAM / 4 = {ram} / 4 = {v}. Source: {PGTUNE}."),
        "effective_cache_size" => format!("RAM × 3/4 = {ram} × 3/4 = {v}. Source: {PGTUNE}."),
        "maintenance_work_mem" => format!(
            "min(RAM / 16, 8GB) = min({ram} / 16, 8GB) = {v}: PGTune's cap is 8 GB since its commit 6919ea7 of 2026-04-04 (2 GB before, which {SEED_PG} follows; the source wins). Each maintenance operation (VACUUM, CREATE INDEX, ALTER TABLE ADD FOREIGN KEY) may use this much (PostgreSQL docs, maintenance_work_mem). Source: {PGTUNE}."
        ),
        "work_mem" => work_mem_how(plan, mem, &ram),
        "wal_buffers" => format!(
            "3% of shared_buffers {} = {}, at most 16MB (rounded up to 16MB from 14MB) = {v}. Source: {PGTUNE}.",
            format_kb(mem.shared_buffers_kb),
            format_kb(3 * mem.shared_buffers_kb / 100)
        ),
        "autovacuum_work_mem" => format!(
            "{v}: 2GB once maintenance_work_mem ({}) reaches 2GB, else maintenance_work_mem (PGTune writes nothing then: -1, the same value). Each of the {} autovacuum workers may use it{}. Source: {PGTUNE}; PostgreSQL docs, autovacuum_work_mem.",
            format_kb(mem.maintenance_work_mem_kb),
            mem.autovacuum_max_workers,
            if plan.postgres.version <= 16 {
                format!(
                    ", but VACUUM uses at most 1GB on PostgreSQL {} (the RAM budget counts {} each)",
                    plan.postgres.version,
                    format_kb(mem.autovacuum_worker_kb)
                )
            } else {
                String::new()
            }
        ),
        "autovacuum_max_workers" => format!(
            "{v}: PGTune's 5 from 32 vCPUs, 4 from 16, PostgreSQL's default 3 below, and at least the 4 of {SEED_PG} (Synapse churns dead tuples in its event and state tables); the hosts have {} vCPUs. Source: {PGTUNE}.",
            host.vcpus
        ),
        "hash_mem_multiplier" => format!(
            "{v}: PostgreSQL's default from 15, written out because the RAM budget counts each hash table (hash join, hash aggregate, memoize) at {v} × work_mem (PostgreSQL docs, runtime-config-resource, hash_mem_multiplier)."
        ),
        "max_worker_processes" | "max_parallel_workers" => format!(
            "{v} = the Patroni hosts' {} vCPUs (hosts.patroni.vcpus). Source: {PGTUNE}.",
            host.vcpus
        ),
        "max_parallel_workers_per_gather" | "max_parallel_maintenance_workers" => format!(
            "ceil({} vCPUs / 2), at most 4 = {v}. Source: {PGTUNE}.",
            host.vcpus
        ),
        "huge_pages" => format!(
            "{v}: shared_buffers {} is {} 2GB; PGTune sets try from 2GB. Source: {PGTUNE}.",
            format_kb(mem.shared_buffers_kb),
            if mem.shared_buffers_kb >= 2 * 1024 * 1024 {
                "at least"
            } else {
                "below"
            }
        ),
        _ => format!("{v}: {}.", p.formula),
    }
}

/// work_mem's "how": PGTune's formula, and the fit when it lowered the value.
fn work_mem_how(plan: &Plan, mem: &Memory, ram: &str) -> String {
    let vcpus = plan.host(Role::Patroni).vcpus;
    let parallel = parallel_for_work_mem(vcpus);
    let pgtune = format!(
        "(RAM − shared_buffers) / ((max_connections + {parallel}) × 3) = ({ram} − {}) / (({} + {parallel}) × 3) = {}, at least 4MB; {parallel} is {} (PGTune counts the parallel workers)",
        format_kb(mem.shared_buffers_kb),
        plan.postgres.max_connections,
        format_kb(mem.pgtune_work_mem_kb),
        if vcpus >= 4 {
            "the vCPUs"
        } else {
            "PostgreSQL's default max_worker_processes below 4 vCPUs"
        }
    );
    match mem.fitted_work_mem_kb {
        None => format!("{pgtune}. Source: {PGTUNE}."),
        Some(fit) => format!(
            "Less than PGTune's {pgtune}. With PGTune's value the worst case ({n} processes × {per} work_mem: 3 operations each, every one a hash table at hash_mem_multiplier {:.1}) would pass {share}% of the host's RAM; the most that fits is ({share}% × {ram} − shared_buffers {} − the budget's other items {} GiB) / ({n} × {per}) = {}{}. A deliberate difference: PGTune gives all of RAM − shared_buffers to 3 operations at 1 × work_mem per connection. Source: {PGTUNE}; PostgreSQL docs, hash_mem_multiplier.",
            fixed!(PG_HASH_MEM_MULTIPLIER),
            format_kb(mem.shared_buffers_kb),
            super::ram::patroni_rest(plan, mem),
            format_kb(fit),
            if fit < mem.work_mem_kb {
                ", below PGTune's 4MB floor, which is kept"
            } else {
                ""
            },
            n = mem.processes(),
            per = Memory::work_mems_per_process(),
            share =
                crate::format::number(plan.assume(&crate::assumptions::TIGHT_RAM_SHARE) * 100.0),
        ),
    }
}

/// PGTune: 3% of shared_buffers, capped at 16MB, rounded up to 16MB from 14MB, at
/// least 32kB.
fn wal_buffers_kb(shared_buffers_kb: u64) -> u64 {
    let max = 16 * KB_PER_MB;
    let mut v = (3 * shared_buffers_kb / 100).min(max);
    if v > 14 * KB_PER_MB && v < max {
        v = max;
    }
    v.max(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_typed_and_written_from_the_type() {
        let params = parameters(&Plan::default());
        let size = |name: &str| params.iter().find(|p| p.name == name).and_then(|p| p.size);
        assert_eq!(size("max_wal_size").map(Size::gib), Some(8.0));
        assert_eq!(size("shared_buffers").map(Size::gib), Some(16.0));
        assert_eq!(size("work_mem"), Some(Size::kb(32513)));
        assert_eq!(size("max_connections"), None);
        for p in &params {
            if let Some(s) = p.size {
                assert_eq!(p.value, s.text(), "{}", p.name);
            }
        }
        assert_eq!(Size::kb(512 * 1024).gib(), 0.5);
    }

    fn params(ram: u64, vcpus: u64, conns: u64, storage: &str) -> Vec<(String, String)> {
        let p = Plan::default()
            .with_text("hosts.patroni.ram-gib", &ram.to_string())
            .and_then(|p| p.with_text("hosts.patroni.vcpus", &vcpus.to_string()))
            .and_then(|p| p.with_text("postgres.max-connections", &conns.to_string()))
            .and_then(|p| p.with_text("postgres.storage", storage))
            .expect("valid");
        parameters(&p)
            .into_iter()
            .map(|p| (p.name.to_string(), p.value))
            .collect()
    }

    fn check(ram: u64, vcpus: u64, conns: u64, storage: &str, expect: &[(&str, &str)]) {
        let got = params(ram, vcpus, conns, storage);
        for (name, value) in expect {
            let found = got.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            assert_eq!(
                found,
                Some(*value),
                "{name} for {ram} GiB / {vcpus} vCPU / {conns} / {storage}"
            );
        }
    }

    #[test]
    fn seed_64gb_16_cores_500_nvme() {
        // Seed §4: shared_buffers 16GB, effective_cache_size 48GB, work_mem ≈ 32MB,
        // maintenance_work_mem 2GB (PGTune's cap before 2026-04-04; 8 GB now, so RAM / 16),
        // random_page_cost 1.1.
        check(
            64,
            16,
            500,
            "nvme",
            &[
                ("shared_buffers", "16GB"),
                ("effective_cache_size", "48GB"),
                // (64 GiB − 16 GiB) / ((500 + 16) × 3) = 50331648 kB / 1548 = 32513 kB.
                ("work_mem", "32513kB"),
                ("hash_mem_multiplier", "2.0"),
                ("maintenance_work_mem", "4GB"),
                ("autovacuum_work_mem", "2GB"),
                ("autovacuum_max_workers", "4"),
                ("wal_buffers", "16MB"),
                ("random_page_cost", "1.1"),
                ("effective_io_concurrency", "1000"),
                ("huge_pages", "try"),
                ("max_worker_processes", "16"),
                ("max_parallel_workers_per_gather", "4"),
                ("max_parallel_maintenance_workers", "4"),
                ("wal_level", "replica"),
            ],
        );
    }

    #[test]
    fn small_hdd_host() {
        // 4 GiB: shared_buffers 1GB, ecs 3GB, mwm 256MB, wal_buffers 3% of 1GB = 31457 kB → 16MB cap;
        // 2 vCPU → no parallel settings, PGTune's work_mem divisor (100 + 8) × 3 gives
        // 9709kB, but the default plan's 83 processes cannot hold 6 × that beside the rest
        // of the budget on 4 GiB: PGTune's 4MB floor is written.
        check(
            4,
            2,
            100,
            "hdd",
            &[
                ("shared_buffers", "1GB"),
                ("effective_cache_size", "3GB"),
                ("maintenance_work_mem", "256MB"),
                ("wal_buffers", "16MB"),
                ("work_mem", "4MB"),
                ("autovacuum_work_mem", "256MB"),
                ("autovacuum_max_workers", "4"),
                ("random_page_cost", "4"),
                ("effective_io_concurrency", "2"),
                ("huge_pages", "off"),
            ],
        );
        assert!(
            !params(4, 2, 100, "hdd")
                .iter()
                .any(|(n, _)| n == "max_worker_processes")
        );
        let p = Plan::default()
            .with_texts(&[
                ("hosts.patroni.ram-gib", "4"),
                ("hosts.patroni.vcpus", "2"),
                ("postgres.max-connections", "100"),
            ])
            .expect("valid");
        let mem = memory(&p);
        assert_eq!(
            (mem.pgtune_work_mem_kb, mem.fitted_work_mem_kb),
            (9709, Some(0))
        );
    }

    #[test]
    fn work_mem_floor_and_wal_buffers_rounding() {
        // 1 GiB, 5000 connections: far below 4MB → floor.
        check(
            1,
            4,
            5000,
            "ssd",
            &[
                ("work_mem", "4MB"),
                ("shared_buffers", "256MB"),
                ("wal_buffers", "7864kB"),
            ],
        );
        // shared_buffers 480 MiB → 3% = 14745 kB > 14MB → rounded up to 16MB.
        assert_eq!(wal_buffers_kb(480 * 1024), 16 * 1024);
        assert_eq!(wal_buffers_kb(100), 32);
    }

    /// A parameter's value in the unit PostgreSQL counts it in: kB for memory, the
    /// number itself otherwise.
    fn base_value(value: &str) -> Option<u64> {
        for (unit, kb) in [("GB", KB_PER_GB), ("MB", KB_PER_MB), ("kB", 1)] {
            if let Some(n) = value.strip_suffix(unit) {
                return n.parse::<u64>().ok().map(|n| n * kb);
            }
        }
        value.parse().ok()
    }

    /// (min, max) PostgreSQL 15–17 accept, in kB for memory (see [`limits`]).
    fn range(name: &str) -> Option<(u64, u64)> {
        use limits::*;
        Some(match name {
            "shared_buffers" => (16 * BLOCK_KB, SHARED_BUFFERS_MAX_KB),
            "effective_cache_size" => (BLOCK_KB, EFFECTIVE_CACHE_SIZE_MAX_KB),
            "work_mem" => (WORK_MEM_MIN_KB, MAX_KILOBYTES),
            "maintenance_work_mem" => (MAINTENANCE_WORK_MEM_MIN_KB, MAX_KILOBYTES),
            "autovacuum_work_mem" => (1, MAX_KILOBYTES),
            "wal_buffers" => (4 * BLOCK_KB, WAL_BUFFERS_MAX_KB),
            "max_connections" => (1, MAX_BACKENDS),
            "max_worker_processes" => (0, MAX_BACKENDS),
            "max_parallel_workers"
            | "max_parallel_workers_per_gather"
            | "max_parallel_maintenance_workers" => (0, MAX_PARALLEL_WORKER_LIMIT),
            "effective_io_concurrency" => (0, MAX_IO_CONCURRENCY),
            "superuser_reserved_connections" | "autovacuum_max_workers" => (0, MAX_BACKENDS),
            // min_wal_size, max_wal_size: MB units, 2 MB .. MAX_KILOBYTES MB.
            "min_wal_size" | "max_wal_size" => (2 * KB_PER_MB, MAX_KILOBYTES * KB_PER_MB),
            _ => return None,
        })
    }

    /// Every computed parameter is inside PostgreSQL's range at the corners of the plan
    /// schema (RAM, vCPUs and max_connections at their bounds, read from the schema so a
    /// wider bound fails here first).
    #[test]
    fn numbers_past_tool_limits_postgres_parameters_within_guc_ranges() {
        let bounds = |path: &str| match crate::plan::field(path).map(|f| f.kind) {
            Some(crate::plan::Kind::Int { min, max, .. }) => (min, max),
            other => panic!("{path}: {other:?}"),
        };
        let (ram_min, ram_max) = bounds("hosts.patroni.ram-gib");
        let (cpu_min, cpu_max) = bounds("hosts.patroni.vcpus");
        let (conn_min, conn_max) = bounds("postgres.max-connections");
        let mut checked = 0;
        for ram in [ram_min, 21_845, 21_846, ram_max] {
            for vcpus in [cpu_min, 4, cpu_max] {
                for conns in [conn_min, conn_max] {
                    for (name, value) in params(ram, vcpus, conns, "nvme") {
                        let Some((min, max)) = range(&name) else {
                            continue;
                        };
                        let v = base_value(&value)
                            .unwrap_or_else(|| panic!("{name} = {value} is not a number"));
                        assert!(
                            (min..=max).contains(&v),
                            "{name} = {value} ({v}) outside {min}..={max} for {ram} GiB / {vcpus} vCPU / {conns}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    #[test]
    fn numbers_past_tool_limits_effective_cache_size_is_capped_at_int_max_pages() {
        // (RAM GiB, value, capped): 21,845 GiB × 3/4 still fits INT_MAX 8 kB pages
        // (16 TiB − 8 kB); from 21,846 GiB PostgreSQL would refuse RAM × 3/4.
        for (ram, value, capped) in [
            (64, "48GB", false),
            (21_845, "16776960MB", false),
            (21_846, "17179869176kB", true),
            (24_576, "17179869176kB", true),
        ] {
            let p = Plan::default()
                .with_text("hosts.patroni.ram-gib", &ram.to_string())
                .expect("valid");
            let ecs = parameters(&p)
                .into_iter()
                .find(|x| x.name == "effective_cache_size")
                .expect("effective_cache_size");
            assert_eq!(ecs.value, value, "{ram} GiB");
            assert_eq!(ecs.formula.contains("capped"), capped, "{}", ecs.formula);
            assert_eq!(effective_cache_size_kb(&p).1, capped);
        }
        assert_eq!(
            limits::EFFECTIVE_CACHE_SIZE_MAX_KB / limits::BLOCK_KB,
            limits::INT_MAX
        );
    }

    #[test]
    fn formats_like_pgtune() {
        assert_eq!(format_kb(16 * KB_PER_GB), "16GB");
        assert_eq!(format_kb(1536 * KB_PER_MB), "1536MB");
        assert_eq!(format_kb(32513), "32513kB");
        assert_eq!(format_kb(0), "0kB");
    }
}
