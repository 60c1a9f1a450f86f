//! The Patroni hosts' PostgreSQL memory against PGTune, whose rules set it: where the
//! planner writes less work_mem than PGTune, and PGTune's own warning above 100 GB.

use super::Out;
use crate::Severity;
use crate::assumptions::fixed;
use crate::plan::{Plan, Role};
use crate::sizing::postgres;

pub(super) fn check(plan: &Plan, out: &mut Out) {
    limits(plan, out);
    against_pgtune(plan, out);
}

/// Where PostgreSQL's limits or PGTune's floor hold a parameter.
fn limits(plan: &Plan, out: &mut Out) {
    let host = plan.host(Role::Patroni);
    if let (ecs_kb, true) = postgres::effective_cache_size_kb(plan) {
        out.push(
            Severity::Info,
            "postgres-effective-cache-size-capped",
            &["hosts.patroni.ram-gib"],
            format!(
                "effective_cache_size would be {} GiB (RAM × 3/4 of {} GiB); it is set to PostgreSQL's maximum, {} (2,147,483,647 pages of 8 kB, 16 TiB − 8 kB).",
                crate::sizing::Gib::from_kb(host.ram_gib.saturating_mul(1024 * 1024) / 4 * 3),
                host.ram_gib,
                postgres::format_kb(ecs_kb)
            ),
            "effective_cache_size is an int counted in 8 kB pages, 1 to INT_MAX (PostgreSQL 15–17, src/backend/utils/misc/guc_tables.c); a larger value makes PostgreSQL refuse to start. It only tells the planner how much data the caches may hold, so the cap changes no memory use; the planner sees 16 TiB of cache instead of more.",
            "Nothing to change.",
        );
    }
    let mem = postgres::memory(plan);
    let total_kb = host.ram_gib.saturating_mul(1024 * 1024);
    let parallel = if host.vcpus >= 4 { host.vcpus } else { 8 };
    let raw = (total_kb - mem.shared_buffers_kb)
        / plan
            .postgres
            .max_connections
            .saturating_add(parallel)
            .saturating_mul(3)
            .max(1);
    if raw < 4 * 1024 {
        out.push(
            Severity::Warning,
            "postgres-work-mem-floor",
            &["postgres.max-connections", "hosts.patroni.ram-gib"],
            format!(
                "work_mem would be {} by PGTune's formula; it is held at the 4MB floor.",
                postgres::format_kb(raw)
            ),
            "PGTune divides the memory left after shared_buffers by (max_connections + workers) × 3; with this many connections for this RAM, sorts spill to disk.",
            "Lower postgres.max-connections (PgBouncer needs only its server connections) or add RAM to the Patroni hosts.",
        );
    }
}

/// Where the planner writes less than PGTune, and PGTune's own warning.
fn against_pgtune(plan: &Plan, out: &mut Out) {
    let host = plan.host(Role::Patroni);
    if host.count == 0 {
        return;
    }
    let mem = postgres::memory(plan);
    if let Some(fit) = mem.fitted_work_mem_kb {
        out.push(
            Severity::Info,
            "postgres-work-mem-below-pgtune",
            &["hosts.patroni.ram-gib", "pgbouncer.default-pool-size", "postgres.max-connections"],
            format!(
                "work_mem is {}, not PGTune's {}: with PGTune's value the worst case of {} backends and parallel workers, each holding 3 hash tables of hash_mem_multiplier {:.1} × work_mem, would not fit the Patroni hosts' {} GiB beside shared_buffers, maintenance, autovacuum and the OS.",
                postgres::format_kb(mem.work_mem_kb),
                postgres::format_kb(mem.pgtune_work_mem_kb),
                crate::format::group(mem.processes()),
                fixed!(PG_HASH_MEM_MULTIPLIER),
                host.ram_gib
            ),
            "PGTune gives (RAM − shared_buffers) to (max_connections + max_worker_processes) × 3 operations at 1 × work_mem (le0pard/pgtune configurationSlice.js:396-399), leaving nothing for the OS or maintenance; from PostgreSQL 15 a hash table may take hash_mem_multiplier (2.0) × work_mem (PostgreSQL docs, runtime-config-resource). Sorts and hashes that need more than work_mem spill to temporary files instead of growing.",
            if fit < mem.work_mem_kb {
                "Add RAM to the Patroni hosts or lower pgbouncer.default-pool-size: even PGTune's 4MB floor does not fit the worst case (see the RAM budget).".to_string()
            } else {
                format!(
                    "Nothing to change if {} per operation is enough for Synapse's queries (watch temp_files in pg_stat_database); else add RAM to the Patroni hosts or lower pgbouncer.default-pool-size.",
                    postgres::format_kb(mem.work_mem_kb)
                )
            },
        );
    }
    let high = fixed!(PGTUNE_HIGH_MEMORY_GIB);
    if host.ram_gib as f64 > high {
        out.push(
            Severity::Info,
            "postgres-pgtune-high-memory",
            &["hosts.patroni.ram-gib"],
            format!(
                "The Patroni hosts have {} GiB of RAM; above {high} GB PGTune, whose rules set the PostgreSQL parameters, warns: \"this tool not being optimal for very high memory systems\".",
                host.ram_gib
            ),
            "PGTune's rules are fractions of RAM (shared_buffers RAM/4, effective_cache_size 3/4, work_mem from the rest) with caps only on maintenance_work_mem (8 GB), autovacuum_work_mem (2 GB) and wal_buffers; it prints this warning above 100 GB (le0pard/pgtune 7caef27, src/features/configuration/configurationSlice.js:566-571).",
            "Check shared_buffers and work_mem against the workload (pg_buffercache, pg_stat_statements, temp_files) once it runs; the RAM budget still counts every item.",
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::Plan;
    use crate::report::Report;

    /// (plan changes, finding code, whether it fires).
    fn check(changes: &[(&str, &str)], code: &str, fires: bool) {
        let p = Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"));
        let got = Report::new(&p).findings.iter().any(|f| f.code == code);
        assert_eq!(got, fires, "{code} for {changes:?}");
    }

    #[test]
    fn each_rule_fires_and_only_then() {
        let high = "postgres-pgtune-high-memory";
        let lowered = "postgres-work-mem-below-pgtune";
        for (changes, code, fires) in [
            // PGTune warns above 100 GB (totalMemory > 100 × 1024³ bytes): 100 is quiet.
            (&[][..], high, false),
            (&[("hosts.patroni.ram-gib", "100")][..], high, false),
            (&[("hosts.patroni.ram-gib", "101")][..], high, true),
            // The default plan's 91 processes fit PGTune's 32513kB (44.92 of 64 GiB).
            (&[][..], lowered, false),
            // 241 processes do not: work_mem 20413kB.
            (&[("pgbouncer.default-pool-size", "200")][..], lowered, true),
            // PGTune's value is already its 4MB floor: nothing lower is written, and
            // ram-over-budget says the host is short.
            (
                &[
                    ("hosts.patroni.ram-gib", "1"),
                    ("postgres.max-connections", "5000"),
                ][..],
                lowered,
                false,
            ),
            (
                &[
                    ("hosts.patroni.ram-gib", "1"),
                    ("postgres.max-connections", "5000"),
                ][..],
                "ram-over-budget",
                true,
            ),
        ] {
            check(changes, code, fires);
        }
    }
}
