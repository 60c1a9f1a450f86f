//! Scale presets: consistent topologies for 500, 5,000, 20,000 and 100,000 registered
//! users, and what applying one changes.
//!
//! A preset owns the *topology and load* of a plan: the users and their activity, the
//! Synapse workers and caches, every host role's count, RAM, vCPUs and disk, PostgreSQL
//! and PgBouncer limits, the MinIO layout, the call load and the media port ranges.
//! It never touches what is the user's own: the plan's name and domain, the network and
//! operations settings, retention policy, the PostgreSQL version, and assumption
//! overrides. [`apply`] writes the owned fields over a [`RawPlan`]; [`changes`] lists
//! every field that differs, in schema order, for the "what changed" list and its undo.
//!
//! Where the numbers come from (DESIGN.md §3):
//! * Scale ratios are the default plan's (docs/default-plan.md): 50 % of registered
//!   users active on a day, half of them at peak, one 1:1 call per 100 peak users, one
//!   group call of eight per 500 peak users. The presets leave these to their derivation
//!   from users (`src/assumptions/activity.rs`, empty text), so a preset's activity
//!   follows a change of its users; the 500-user preset keeps its rounded-up calls (2
//!   and 1) where the derivation would round down.
//! * Workers: Element's ESS sizing (ems-docs "ESS Sizing", LTS 23.10) runs one process
//!   for the 1–500 and 501–2,500 bands and workers above; the worker set is the
//!   playbook's "specialized-workers" preset (configuring-playbook-synapse.md), one sync
//!   worker per 2,000 concurrent users (assumption `sync-users-per-worker`).
//! * RAM per Synapse process: the seed heuristic 1.5 GiB + 0.5 GiB × cache factor
//!   (seed §3). At cache factor 1 one process is 2 GiB, ESS's 2,000 MiB for 1–500 users.
//!   With workers each process caches one slice of the traffic, so the presets keep the
//!   factor at 4 (tests/plans/100k.yaml) instead of the playbook's 10.
//! * PostgreSQL: ESS gives 4–16 GiB and 1–4 CPU to the database up to 10,000 users and
//!   up to 32 GiB / 10 CPU with open federation; the seed's 64 GiB / 16 cores / 500
//!   connections node is the 10,000–20,000 tier. PgBouncer's pool covers Synapse's
//!   concurrent queries, not its Σ cp_max (transaction pooling, seed §4).
//! * MinIO: node RAM by storage per node (MinIO hardware checklist: ≤1 TiB 8 GiB,
//!   ≤10 TiB 16 GiB, ≤100 TiB 32 GiB); drive counts that give one erasure set per pool
//!   with MinIO's default parity (EC:2 for 4 drives, EC:4 for 8–16).
//! * LiveKit: its own default UDP range 50000–60000 (LiveKit docs, config-sample.yaml
//!   rtc.port_range_start/end) instead of the seed's 50100–50200, which holds only ~50
//!   participants per node (two ports each).
//! * Disks: sized for 36 months of the preset's own activity with the storage view's
//!   assumptions (1 upload of 2 MiB per active user a day, 30 messages), so that no
//!   disk reaches the full line within the span (the preset test checks it). The
//!   backup host holds the media mirror of every local upload besides the database
//!   backups, so it is the largest disk.

use super::{Plan, RawPlan, fields};

/// A named scale.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// Stable key (`5k`), for tests and the picker.
    pub key: &'static str,
    pub label: &'static str,
    /// One sentence: what it is for.
    pub about: &'static str,
    build: fn() -> Vec<(String, String)>,
}

impl PartialEq for Preset {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for Preset {}

/// Every preset, smallest first.
pub const ALL: &[Preset] = &[
    Preset {
        key: "500",
        label: "500 users",
        about: "A team or small organisation: one Synapse process, a small HA database, two of each edge service.",
        build: users_500,
    },
    Preset {
        key: "5k",
        label: "5,000 users",
        about: "A mid-size organisation: nine specialised workers, 32 GiB database nodes.",
        build: users_5k,
    },
    Preset {
        key: "20k",
        label: "20,000 users",
        about: "A large organisation: the playbook's specialised workers doubled where they scale, the seed's 64 GiB database nodes.",
        build: users_20k,
    },
    Preset {
        key: "100k",
        label: "100,000 users",
        about: "A very large deployment: thirteen sync workers, 256 GiB database nodes, eight MinIO nodes.",
        build: users_100k,
    },
];

/// The preset with this key.
pub fn by_key(key: &str) -> Option<&'static Preset> {
    ALL.iter().find(|p| p.key == key)
}

impl Preset {
    /// The preset over the default plan, as text by key path (what [`apply`] writes).
    pub fn raw(&self) -> RawPlan {
        let mut raw = RawPlan::default();
        for (path, text) in (self.build)() {
            raw.set(&path, text);
        }
        raw
    }

    /// The preset over the default plan. Every preset validates (a test checks it);
    /// the default plan stands in should one ever not.
    pub fn plan(&self) -> Plan {
        super::validate(&self.raw()).plan.unwrap_or_default()
    }
}

/// Whether a preset sets this field. Everything but identity, network, operations,
/// retention policy, the PostgreSQL version and assumption overrides.
pub fn owns(path: &str) -> bool {
    let kept = ["name", "domain", "postgres.version"];
    let kept_prefixes = ["network.", "ops.", "retention.", "assumptions."];
    !kept.contains(&path) && !kept_prefixes.iter().any(|p| path.starts_with(p))
}

/// `raw` with every field the preset owns set to the preset's value; the rest (and
/// any half-typed text there) untouched.
pub fn apply(preset: &Preset, raw: &RawPlan) -> RawPlan {
    let target = preset.raw();
    let mut out = raw.clone();
    for f in fields().iter().filter(|f| owns(&f.path)) {
        out.set(&f.path, target.get(&f.path));
    }
    out
}

/// Every field whose text differs, in schema order: (key path, before, after).
pub fn changes(before: &RawPlan, after: &RawPlan) -> Vec<(&'static str, String, String)> {
    fields()
        .iter()
        .filter(|f| before.get(&f.path) != after.get(&f.path))
        .map(|f| {
            (
                f.path.as_str(),
                before.get(&f.path).to_string(),
                after.get(&f.path).to_string(),
            )
        })
        .collect()
}

/// Worker counts by type key; types not listed are 0.
fn workers(counts: &[(&'static str, u64)]) -> Vec<(String, String)> {
    super::WorkerKind::ALL
        .iter()
        .map(|k| {
            let n = counts
                .iter()
                .find(|(key, _)| *key == k.key())
                .map(|(_, n)| *n)
                .unwrap_or(0);
            (format!("synapse.workers.{}", k.key()), n.to_string())
        })
        .collect()
}

/// A preset's values by key path: `base` and every worker count. Every value is a
/// literal checked by the tests (valid, and every owned field set explicitly).
fn with_workers(base: &[(&str, &str)], counts: &[(&'static str, u64)]) -> Vec<(String, String)> {
    base.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain(workers(counts))
        .collect()
}

/// 1–500 users (ESS band 1): Synapse's main process alone, cache factor 1 → 2 GiB,
/// ESS's 2,000 MiB. Redis stays on so workers can be added without a second change.
fn users_500() -> Vec<(String, String)> {
    with_workers(
        &[
            ("users.registered", "500"),
            ("users.peak-concurrent", ""),
            ("synapse.cache-factor", "1"),
            ("synapse.per-cache-factors", ""),
            ("synapse.cp-min", "5"),
            ("synapse.cp-max", "10"),
            ("synapse.redis", "true"),
            // 1 process: 2 GiB + Valkey, proxy, clients, PgBouncer, OS ≈ 5 GiB.
            ("hosts.synapse.count", "1"),
            ("hosts.synapse.ram-gib", "8"),
            ("hosts.synapse.vcpus", "4"),
            ("hosts.synapse.disk-gib", "100"),
            // ESS: 1–4 CPU, 4–16 GiB for the database at this scale; 16 GiB holds
            // PGTune's shared_buffers (4 GiB) and the seed's four 1 GiB autovacuum workers.
            ("hosts.patroni.count", "3"),
            ("hosts.patroni.ram-gib", "16"),
            ("hosts.patroni.vcpus", "4"),
            ("hosts.patroni.disk-gib", "200"),
            // 4 nodes × 1 drive × 0.5 TiB: one set of 4, EC:2, 1 TiB usable for ~20 GiB
            // of media a month; ≤1 TiB per node → MinIO's 8 GiB guidance is the whole
            // node's memory: 16 GiB keeps it out of the tight band.
            ("hosts.minio.count", "4"),
            ("hosts.minio.ram-gib", "16"),
            ("hosts.minio.vcpus", "2"),
            ("hosts.minio.disk-gib", "50"),
            ("hosts.haproxy.count", "2"),
            ("hosts.haproxy.ram-gib", "4"),
            ("hosts.haproxy.vcpus", "2"),
            ("hosts.haproxy.disk-gib", "50"),
            ("hosts.coturn.count", "2"),
            ("hosts.coturn.ram-gib", "4"),
            ("hosts.coturn.vcpus", "2"),
            ("hosts.coturn.disk-gib", "50"),
            ("hosts.livekit.count", "2"),
            ("hosts.livekit.ram-gib", "8"),
            ("hosts.livekit.vcpus", "4"),
            ("hosts.livekit.disk-gib", "50"),
            ("hosts.monitoring.count", "1"),
            ("hosts.monitoring.ram-gib", "8"),
            ("hosts.monitoring.vcpus", "2"),
            ("hosts.monitoring.disk-gib", "100"),
            ("hosts.backup.count", "1"),
            ("hosts.backup.ram-gib", "8"),
            ("hosts.backup.vcpus", "2"),
            // The media mirror keeps every local upload (~20 GiB a month here) next to
            // the database backups: ~1.2 TiB after 36 months.
            ("hosts.backup.disk-gib", "2000"),
            // Synapse opens ≤ 10 connections; 25 server connections + 15 reserved fit
            // well inside 100.
            ("postgres.max-connections", "100"),
            ("postgres.storage", "ssd"),
            ("pgbouncer.pool-mode", "transaction"),
            ("pgbouncer.default-pool-size", "20"),
            ("pgbouncer.reserve-pool-size", "5"),
            ("pgbouncer.max-client-conn", "100"),
            ("minio.drives-per-node", "1"),
            ("minio.drive-tib", "0.5"),
            ("minio.parity", "0"),
            ("activity.daily-active-users", ""),
            ("activity.messages-per-user-day", "30"),
            ("activity.uploads-per-user-day", "1"),
            ("activity.upload-mib", "2"),
            ("activity.federation", "small"),
            ("activity.months", "36"),
            ("calls.concurrent-1to1", "2"),
            ("calls.relayed-share", "0.3"),
            ("calls.turn-kbps", "2000"),
            ("calls.group-rooms", "1"),
            ("calls.participants-per-room", "8"),
            ("calls.group-kbps", "1700"),
            ("calls.simulcast-layers", "3"),
            ("coturn.min-port", "49152"),
            ("coturn.max-port", "65535"),
            ("livekit.port-range-start", "50000"),
            ("livekit.port-range-end", "60000"),
        ],
        &[],
    )
}

/// 5,000 users (ESS band 3, 2,501–10,000): nine specialised workers, 10 processes at
/// cache factor 4 (3.5 GiB each).
fn users_5k() -> Vec<(String, String)> {
    with_workers(
        &[
            ("users.registered", "5000"),
            ("users.peak-concurrent", ""),
            ("synapse.cache-factor", "4"),
            ("synapse.per-cache-factors", ""),
            ("synapse.cp-min", "5"),
            ("synapse.cp-max", "10"),
            ("synapse.redis", "true"),
            // 10 processes × 3.5 GiB = 35 GiB + ~3 GiB; one vCPU per process and room.
            ("hosts.synapse.count", "1"),
            ("hosts.synapse.ram-gib", "64"),
            ("hosts.synapse.vcpus", "16"),
            ("hosts.synapse.disk-gib", "250"),
            ("hosts.patroni.count", "3"),
            ("hosts.patroni.ram-gib", "32"),
            ("hosts.patroni.vcpus", "8"),
            ("hosts.patroni.disk-gib", "1000"),
            // 4 nodes × 4 drives × 1 TiB (the seed's layout): one set of 16, EC:4,
            // 12 TiB usable for ~200 GiB of media a month; 4 TiB per node → 16 GiB
            // guidance on a 32 GiB node.
            ("hosts.minio.count", "4"),
            ("hosts.minio.ram-gib", "32"),
            ("hosts.minio.vcpus", "4"),
            ("hosts.minio.disk-gib", "50"),
            ("hosts.haproxy.count", "2"),
            ("hosts.haproxy.ram-gib", "4"),
            ("hosts.haproxy.vcpus", "2"),
            ("hosts.haproxy.disk-gib", "50"),
            ("hosts.coturn.count", "2"),
            ("hosts.coturn.ram-gib", "4"),
            ("hosts.coturn.vcpus", "4"),
            ("hosts.coturn.disk-gib", "50"),
            ("hosts.livekit.count", "2"),
            ("hosts.livekit.ram-gib", "8"),
            ("hosts.livekit.vcpus", "8"),
            ("hosts.livekit.disk-gib", "50"),
            ("hosts.monitoring.count", "1"),
            ("hosts.monitoring.ram-gib", "8"),
            ("hosts.monitoring.vcpus", "4"),
            ("hosts.monitoring.disk-gib", "250"),
            ("hosts.backup.count", "1"),
            ("hosts.backup.ram-gib", "8"),
            ("hosts.backup.vcpus", "4"),
            // The media mirror and backups grow ~330 GiB a month: ~12 TiB after 36.
            ("hosts.backup.disk-gib", "16000"),
            // Σ cp_max = 100 clients; 50 server connections + 15 reserved in 200.
            ("postgres.max-connections", "200"),
            ("postgres.storage", "nvme"),
            ("pgbouncer.pool-mode", "transaction"),
            ("pgbouncer.default-pool-size", "40"),
            ("pgbouncer.reserve-pool-size", "10"),
            ("pgbouncer.max-client-conn", "200"),
            ("minio.drives-per-node", "4"),
            ("minio.drive-tib", "1"),
            ("minio.parity", "0"),
            ("activity.daily-active-users", ""),
            ("activity.messages-per-user-day", "30"),
            ("activity.uploads-per-user-day", "1"),
            ("activity.upload-mib", "2"),
            ("activity.federation", "small"),
            ("activity.months", "36"),
            ("calls.concurrent-1to1", ""),
            ("calls.relayed-share", "0.3"),
            ("calls.turn-kbps", "2000"),
            ("calls.group-rooms", ""),
            ("calls.participants-per-room", "8"),
            ("calls.group-kbps", "1700"),
            ("calls.simulcast-layers", "3"),
            ("coturn.min-port", "49152"),
            ("coturn.max-port", "65535"),
            ("livekit.port-range-start", "50000"),
            ("livekit.port-range-end", "60000"),
        ],
        &[
            ("sync", 1),
            ("client-reader", 1),
            ("federation-reader", 1),
            ("federation-sender", 1),
            ("pusher", 1),
            ("user-dir", 1),
            ("background", 1),
            ("media-repository", 1),
            ("stream-writer-events", 1),
        ],
    )
}

/// 20,000 users: the playbook's specialised workers with the load-bearing types doubled
/// (25 processes at cache factor 4), on the seed's database node.
fn users_20k() -> Vec<(String, String)> {
    with_workers(
        &[
            ("users.registered", "20000"),
            ("users.peak-concurrent", ""),
            ("synapse.cache-factor", "4"),
            ("synapse.per-cache-factors", "get_users_in_room: 5"),
            ("synapse.cp-min", "5"),
            ("synapse.cp-max", "10"),
            ("synapse.redis", "true"),
            // 25 processes × 3.5 GiB = 87.5 GiB + ~3 GiB.
            ("hosts.synapse.count", "1"),
            ("hosts.synapse.ram-gib", "128"),
            ("hosts.synapse.vcpus", "32"),
            ("hosts.synapse.disk-gib", "500"),
            // The seed's node: 64 GiB, 16 cores, NVMe, 500 connections (seed §4).
            ("hosts.patroni.count", "3"),
            ("hosts.patroni.ram-gib", "64"),
            ("hosts.patroni.vcpus", "16"),
            ("hosts.patroni.disk-gib", "4000"),
            // 4 nodes × 4 drives × 4 TiB: one set of 16, EC:4, 48 TiB usable for
            // ~800 GiB of media a month; 16 TiB per node → 32 GiB guidance.
            ("hosts.minio.count", "4"),
            ("hosts.minio.ram-gib", "64"),
            ("hosts.minio.vcpus", "8"),
            ("hosts.minio.disk-gib", "100"),
            ("hosts.haproxy.count", "2"),
            ("hosts.haproxy.ram-gib", "8"),
            ("hosts.haproxy.vcpus", "4"),
            ("hosts.haproxy.disk-gib", "50"),
            ("hosts.coturn.count", "2"),
            ("hosts.coturn.ram-gib", "8"),
            ("hosts.coturn.vcpus", "4"),
            ("hosts.coturn.disk-gib", "50"),
            ("hosts.livekit.count", "2"),
            ("hosts.livekit.ram-gib", "16"),
            ("hosts.livekit.vcpus", "8"),
            ("hosts.livekit.disk-gib", "50"),
            ("hosts.monitoring.count", "1"),
            ("hosts.monitoring.ram-gib", "16"),
            ("hosts.monitoring.vcpus", "4"),
            ("hosts.monitoring.disk-gib", "500"),
            ("hosts.backup.count", "1"),
            ("hosts.backup.ram-gib", "16"),
            ("hosts.backup.vcpus", "4"),
            // The media mirror and backups grow ~1.3 TiB a month: ~47 TiB after 36.
            ("hosts.backup.disk-gib", "64000"),
            // Σ cp_max = 250 clients; 60 server connections + 15 reserved in 500.
            ("postgres.max-connections", "500"),
            ("postgres.storage", "nvme"),
            ("pgbouncer.pool-mode", "transaction"),
            ("pgbouncer.default-pool-size", "50"),
            ("pgbouncer.reserve-pool-size", "10"),
            ("pgbouncer.max-client-conn", "1000"),
            ("minio.drives-per-node", "4"),
            ("minio.drive-tib", "4"),
            ("minio.parity", "0"),
            ("activity.daily-active-users", ""),
            ("activity.messages-per-user-day", "30"),
            ("activity.uploads-per-user-day", "1"),
            ("activity.upload-mib", "2"),
            ("activity.federation", "small"),
            ("activity.months", "36"),
            ("calls.concurrent-1to1", ""),
            ("calls.relayed-share", "0.3"),
            ("calls.turn-kbps", "2000"),
            ("calls.group-rooms", ""),
            ("calls.participants-per-room", "8"),
            ("calls.group-kbps", "1700"),
            ("calls.simulcast-layers", "3"),
            ("coturn.min-port", "49152"),
            ("coturn.max-port", "65535"),
            ("livekit.port-range-start", "50000"),
            ("livekit.port-range-end", "60000"),
        ],
        &[
            ("sync", 3),
            ("client-reader", 2),
            ("federation-reader", 2),
            ("federation-sender", 2),
            ("room", 2),
            ("pusher", 1),
            ("user-dir", 1),
            ("background", 1),
            ("media-repository", 2),
            ("stream-writer-events", 2),
            ("stream-writer-typing", 1),
            ("stream-writer-to-device", 1),
            ("stream-writer-account-data", 1),
            ("stream-writer-receipts", 1),
            ("stream-writer-push-rules", 1),
            ("stream-writer-device-lists", 1),
        ],
    )
}

/// 100,000 users: tests/plans/100k.yaml's topology (49 processes at cache factor 4,
/// thirteen sync workers for 25,000 at peak), with disks and calls for its activity.
fn users_100k() -> Vec<(String, String)> {
    with_workers(
        &[
            ("users.registered", "100000"),
            ("users.peak-concurrent", ""),
            ("synapse.cache-factor", "4"),
            (
                "synapse.per-cache-factors",
                "_get_state_group_delta: 2\nget_users_in_room: 5",
            ),
            ("synapse.cp-min", "5"),
            ("synapse.cp-max", "10"),
            ("synapse.redis", "true"),
            // 49 processes × 3.5 GiB = 171.5 GiB + ~3 GiB.
            ("hosts.synapse.count", "1"),
            ("hosts.synapse.ram-gib", "384"),
            ("hosts.synapse.vcpus", "64"),
            ("hosts.synapse.disk-gib", "2000"),
            ("hosts.patroni.count", "3"),
            ("hosts.patroni.ram-gib", "256"),
            ("hosts.patroni.vcpus", "32"),
            ("hosts.patroni.disk-gib", "20000"),
            // 8 nodes × 8 drives × 4 TiB: four sets of 16, EC:4, 192 TiB usable for
            // ~3.8 TiB of media a month; 32 TiB per node → 32 GiB guidance.
            ("hosts.minio.count", "8"),
            ("hosts.minio.ram-gib", "64"),
            ("hosts.minio.vcpus", "16"),
            ("hosts.minio.disk-gib", "100"),
            // maxconn 25,000 × 3 = 75,000 × 64 KiB ≈ 4.6 GiB.
            ("hosts.haproxy.count", "2"),
            ("hosts.haproxy.ram-gib", "16"),
            ("hosts.haproxy.vcpus", "8"),
            ("hosts.haproxy.disk-gib", "50"),
            ("hosts.coturn.count", "4"),
            ("hosts.coturn.ram-gib", "8"),
            ("hosts.coturn.vcpus", "8"),
            ("hosts.coturn.disk-gib", "50"),
            // 50 rooms of 8 at 1.7 Mbit/s with simulcast: about 2.5 Gbit/s forwarded
            // in all; eight nodes keep each below its 1 Gbit/s (assumption
            // livekit-nic-mbps).
            ("hosts.livekit.count", "8"),
            ("hosts.livekit.ram-gib", "32"),
            ("hosts.livekit.vcpus", "16"),
            ("hosts.livekit.disk-gib", "50"),
            ("hosts.monitoring.count", "1"),
            ("hosts.monitoring.ram-gib", "32"),
            ("hosts.monitoring.vcpus", "8"),
            ("hosts.monitoring.disk-gib", "2000"),
            ("hosts.backup.count", "1"),
            ("hosts.backup.ram-gib", "32"),
            ("hosts.backup.vcpus", "8"),
            // The media mirror and backups grow ~7 TiB a month: ~253 TiB after 36
            // months (database growth as measured in docs/lab.md, 2026-12-08). Shorter
            // local media retention or fewer snapshots shrink it.
            ("hosts.backup.disk-gib", "320000"),
            // Σ cp_max = 490 clients; 170 server connections + 15 reserved in 1,000.
            ("postgres.max-connections", "1000"),
            ("postgres.storage", "nvme"),
            ("pgbouncer.pool-mode", "transaction"),
            ("pgbouncer.default-pool-size", "150"),
            ("pgbouncer.reserve-pool-size", "20"),
            ("pgbouncer.max-client-conn", "2000"),
            ("minio.drives-per-node", "8"),
            ("minio.drive-tib", "4"),
            ("minio.parity", "0"),
            ("activity.daily-active-users", ""),
            ("activity.messages-per-user-day", "30"),
            ("activity.uploads-per-user-day", "1"),
            ("activity.upload-mib", "2"),
            ("activity.federation", "small"),
            ("activity.months", "36"),
            ("calls.concurrent-1to1", ""),
            ("calls.relayed-share", "0.3"),
            ("calls.turn-kbps", "2000"),
            ("calls.group-rooms", ""),
            ("calls.participants-per-room", "8"),
            ("calls.group-kbps", "1700"),
            ("calls.simulcast-layers", "3"),
            ("coturn.min-port", "49152"),
            ("coturn.max-port", "65535"),
            ("livekit.port-range-start", "50000"),
            ("livekit.port-range-end", "60000"),
        ],
        &[
            ("sync", 13),
            ("client-reader", 4),
            ("federation-reader", 4),
            ("federation-sender", 4),
            ("room", 4),
            ("pusher", 2),
            ("appservice", 1),
            ("user-dir", 1),
            ("background", 1),
            ("media-repository", 2),
            ("stream-writer-events", 4),
            ("stream-writer-typing", 1),
            ("stream-writer-to-device", 1),
            ("stream-writer-account-data", 1),
            ("stream-writer-receipts", 1),
            ("stream-writer-presence", 1),
            ("stream-writer-push-rules", 1),
            ("stream-writer-device-lists", 2),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;
    use crate::plan::validate;
    use crate::report::Report;

    /// Every preset sets every field it owns explicitly (no silent default), validates
    /// without a problem, and its report has no error and no host over budget.
    #[test]
    fn presets_are_valid_and_fit() {
        for p in ALL {
            assert_eq!(validate(&p.raw()).problems, vec![], "{}", p.key);
            let raw = apply(p, &RawPlan::default());
            assert_eq!(raw, p.raw(), "{}: applied over the default plan", p.key);
            let v = validate(&raw);
            assert_eq!(v.problems, vec![], "{}", p.key);
            let plan = v.plan.expect("valid");
            let report = Report::new(&plan);
            let errors: Vec<String> = report
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("{}: {}", f.code, f.message))
                .collect();
            assert_eq!(errors, Vec::<String>::new(), "{}", p.key);
            // No disk reaches the full line within the span.
            let json = report.to_json_value();
            if let Some(serde_json::Value::Object(m)) =
                crate::report::lookup(&json, "storage.months-until-full")
            {
                for (disk, month) in m {
                    assert!(month.is_null(), "{}: {disk} fills in month {month}", p.key);
                }
            }
            for h in report.hosts.iter().filter(|h| h.count > 0) {
                assert!(
                    h.ram_free_gib.0 >= 0,
                    "{}: {} needs {} of {} GiB",
                    p.key,
                    h.role.key(),
                    h.ram_needed_gib,
                    h.ram_gib
                );
                let tight = (plan.assume(&crate::assumptions::TIGHT_RAM_SHARE) * 100.0) as u64;
                assert!(
                    h.ram_used_percent <= tight,
                    "{}: {} at {} %",
                    p.key,
                    h.role.key(),
                    h.ram_used_percent
                );
            }
        }
    }

    /// Each preset lists every field it owns, once: none falls back to the default.
    #[test]
    fn presets_set_every_owned_field_once() {
        let owned: Vec<&str> = fields()
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| owns(p))
            .collect();
        for p in ALL {
            let mut set: Vec<String> = (p.build)().into_iter().map(|(k, _)| k).collect();
            let n = set.len();
            set.sort();
            set.dedup();
            assert_eq!(set.len(), n, "{}: a field twice", p.key);
            let mut want: Vec<String> = owned.iter().map(|s| s.to_string()).collect();
            want.sort();
            assert_eq!(set, want, "{}", p.key);
        }
    }

    /// Larger presets never have fewer processes, hosts, RAM or connections.
    /// The presets leave their activity to the derivation from users; it gives the
    /// figures they set explicitly before (daily active, peak, 1:1 calls, group rooms).
    #[test]
    fn preset_activity_is_derived_from_users() {
        for (key, want) in [
            ("500", (250, 125, 2, 1)),
            ("5k", (2_500, 1_250, 13, 3)),
            ("20k", (10_000, 5_000, 50, 10)),
            ("100k", (50_000, 25_000, 250, 50)),
        ] {
            let p = by_key(key).expect("preset").plan();
            assert_eq!(
                (
                    p.daily_active_users(),
                    p.peak_concurrent_users(),
                    p.concurrent_1to1_calls(),
                    p.group_call_rooms()
                ),
                want,
                "{key}"
            );
            assert_eq!(p.activity.daily_active_users, None, "{key}");
        }
    }

    #[test]
    fn presets_grow_monotonically() {
        let plans: Vec<Plan> = ALL.iter().map(Preset::plan).collect();
        for w in plans.windows(2) {
            let (a, b) = (&w[0], &w[1]);
            assert!(b.users.registered > a.users.registered);
            assert!(b.synapse_process_count() >= a.synapse_process_count());
            assert!(b.postgres.max_connections >= a.postgres.max_connections);
            for r in crate::plan::Role::ALL {
                assert!(b.host(r).ram_gib >= a.host(r).ram_gib, "{r:?}");
                assert!(b.host(r).disk_gib >= a.host(r).disk_gib, "{r:?}");
                assert!(b.host(r).count >= a.host(r).count, "{r:?}");
            }
        }
    }

    fn check(preset: &str, before: &[(&str, &str)], expect: &[(&str, &str, &str)]) {
        let mut raw = RawPlan::default();
        for (k, v) in before {
            raw.set(k, *v);
        }
        let after = apply(by_key(preset).expect("preset"), &raw);
        let got: Vec<(&str, String, String)> = changes(&raw, &after)
            .into_iter()
            .filter(|(path, _, _)| expect.iter().any(|(p, _, _)| p == path))
            .collect();
        let want: Vec<(&str, String, String)> = expect
            .iter()
            .map(|(p, a, b)| (*p, a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want, "{preset}");
        // Nothing the preset does not own has moved.
        for (path, _, _) in changes(&raw, &after) {
            assert!(owns(path), "{preset} changed {path}");
        }
    }

    #[test]
    fn applying_keeps_identity_network_ops_retention_and_overrides() {
        check(
            "5k",
            &[
                ("name", "acme"),
                ("domain", "matrix.acme.example"),
                ("network.vip", "10.0.1.9"),
                ("ops.email", "noc@acme.example"),
                ("retention.full-backups", "4"),
                ("assumptions.valkey-gib", "1"),
                ("postgres.version", "17"),
                // Half-typed text in an owned field is replaced; elsewhere it stays.
                ("synapse.cache-factor", "abc"),
            ],
            &[
                ("users.registered", "10000", "5000"),
                ("synapse.cache-factor", "abc", "4"),
                ("synapse.workers.sync", "3", "1"),
                ("synapse.workers.room", "1", "0"),
                ("hosts.synapse.ram-gib", "160", "64"),
                ("postgres.max-connections", "500", "200"),
                ("livekit.port-range-start", "50100", "50000"),
            ],
        );
        let mut raw = RawPlan::default();
        raw.set("name", "acme");
        raw.set("assumptions.valkey-gib", "1");
        let after = apply(by_key("100k").expect("preset"), &raw);
        assert_eq!(after.get("name"), "acme");
        assert_eq!(after.get("assumptions.valkey-gib"), "1");
        assert_eq!(after.get("hosts.minio.count"), "8");
    }

    #[test]
    fn changes_are_in_schema_order_and_empty_for_the_same_plan() {
        let raw = RawPlan::default();
        assert_eq!(changes(&raw, &raw), vec![]);
        let after = apply(by_key("500").expect("preset"), &raw);
        let paths: Vec<&str> = changes(&raw, &after).iter().map(|c| c.0).collect();
        let order: Vec<&str> = fields()
            .iter()
            .map(|f| f.path.as_str())
            .filter(|p| paths.contains(p))
            .collect();
        assert_eq!(paths, order);
        assert!(paths.contains(&"synapse.workers.sync"), "{paths:?}");
        // Applying twice is applying once.
        assert_eq!(apply(by_key("500").expect("preset"), &after), after);
        assert_eq!(by_key("nope"), None);
    }
}
