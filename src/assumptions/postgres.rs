//! PostgreSQL memory: the rules PGTune computes the parameters with and the limits
//! PostgreSQL applies to them, which the Patroni hosts' worst case counts.
//!
//! All are facts of a program (PGTune's code at le0pard/pgtune 7caef27, 2026-07-30, or
//! PostgreSQL's documented behaviour), not estimates, so none is a plan field; they are
//! listed in the assumptions panel with their sources and read through [`super::fixed!`].
//! "configurationSlice.js:N" is a line of `src/features/configuration/configurationSlice.js`
//! at that commit.

use super::Assumption;

assumptions! {
    group POSTGRES;
    PG_OPERATIONS_PER_CONNECTION = "pg-operations-per-connection", "Sort or hash operations one PostgreSQL process runs at once (PGTune's allowance)", 3.0, "operations",
        "PGTune, le0pard/pgtune 7caef27 configurationSlice.js:396-399: work_mem = (RAM − shared_buffers) / ((max_connections + max_worker_processes) × 3), \"assuming max_connections * 2 or max_connections * 3 is the amount of RAM that will actually use\"; PostgreSQL docs, runtime-config-resource, work_mem: \"a complex query might perform several sort and hash operations at the same time\"";
    PG_HASH_OPERATIONS_PER_CONNECTION = "pg-hash-operations-per-connection", "Of those, operations counted as hash tables (at hash_mem_multiplier × work_mem)", 3.0, "operations",
        "worst case: any of the three may be a hash join, hash aggregate, memoize or hashed subplan, each allowed hash_mem_multiplier × work_mem (PostgreSQL docs, runtime-config-resource, hash_mem_multiplier); a sort gets 1 × work_mem, so counting all three as hashes is the bound PostgreSQL enforces, not an average";
    PG_HASH_MEM_MULTIPLIER = "pg-hash-mem-multiplier", "hash_mem_multiplier (written to postgresql.conf)", 2.0, "× work_mem",
        "PostgreSQL docs (15, 16, 17), runtime-config-resource: hash_mem_multiplier \"The default value is 2.0\" (1.0 in 13 and 14); hash-based operations may use work_mem × hash_mem_multiplier";
    PGTUNE_MAINTENANCE_WORK_MEM_CAP_GIB = "pgtune-maintenance-work-mem-cap-gib", "Cap of maintenance_work_mem (RAM / 16)", 8.0, "GiB",
        "PGTune configurationSlice.js:185-200: \"Default cap is 8GB\", since commit 6919ea7 of 2026-04-04 (2 GB before); PostgreSQL docs: each maintenance operation (VACUUM, CREATE INDEX, ALTER TABLE ADD FOREIGN KEY) may use this much";
    PGTUNE_AUTOVACUUM_WORK_MEM_CAP_GIB = "pgtune-autovacuum-work-mem-cap-gib", "Cap of autovacuum_work_mem, per autovacuum worker", 2.0, "GiB",
        "PGTune configurationSlice.js:489-501 (since commit bfbd524 of 2026-04-04): from maintenance_work_mem ≥ 2 GB, autovacuum_work_mem = 2 GB \"to cap background vacuum memory\"; below, -1 (= maintenance_work_mem); PostgreSQL docs: each of autovacuum_max_workers may use it";
    PG_VACUUM_DEAD_TUPLES_MAX_GIB = "pg-vacuum-dead-tuples-max-gib", "Most memory VACUUM uses for dead tuples, PostgreSQL 15 and 16", 1.0, "GiB",
        "PostgreSQL docs 15 and 16, runtime-config-resource, autovacuum_work_mem: \"For the collection of dead tuple identifiers, autovacuum is only able to utilize up to a maximum of 1GB of memory\"; PostgreSQL 17 release notes: vacuum's memory limit removed, maintenance_work_mem and autovacuum_work_mem may use more than 1 GB";
    PGTUNE_WORK_MEM_FLOOR_MIB = "pgtune-work-mem-floor-mib", "Least work_mem PGTune writes", 4.0, "MiB",
        "PGTune configurationSlice.js:419-423: \"Modern floor limit: 4 MB minimum to prevent disk-spill for simple queries\"";
    PGTUNE_HIGH_MEMORY_GIB = "pgtune-high-memory-gib", "RAM above which PGTune warns its rules are not optimal", 100.0, "GiB",
        "PGTune configurationSlice.js:566-571: above 100 GB of RAM it prints \"WARNING: this tool not being optimal for very high memory systems\"";
}
