//! The sizing engine: RAM per host role, the database connection chain and the
//! PostgreSQL parameters, from a validated [`Plan`]. Pure and deterministic.

pub mod calls;
pub mod connections;
pub mod cpu;
pub mod descriptors;
pub mod failures;
pub mod objectstore;
pub mod postgres;
pub mod ram;
pub mod storage;

pub use connections::{Connections, Reserved};
pub use ram::{Category, HostBudget, Item};

use crate::plan::{Plan, WorkerKind};
use serde::{Serialize, Serializer};

/// A RAM figure in hundredths of a GiB. Items are rounded to this grain before they
/// are summed, so every total is exactly the sum of its items.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Gib(pub u64);

impl Gib {
    pub fn from_gib(x: f64) -> Gib {
        // Validated inputs keep x finite and far below u64::MAX / 100.
        Gib((x.max(0.0) * 100.0).round() as u64)
    }

    pub fn from_mib(mib: f64) -> Gib {
        Gib::from_gib(mib / 1024.0)
    }

    pub fn from_kb(kb: u64) -> Gib {
        Gib::from_gib(kb as f64 / (1024.0 * 1024.0))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 100.0
    }

    pub fn times(self, n: u64) -> Gib {
        Gib(self.0.saturating_mul(n))
    }

    pub fn plus(self, other: Gib) -> Gib {
        Gib(self.0.saturating_add(other.0))
    }
}

impl Serialize for Gib {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl std::fmt::Display for Gib {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        if frac == 0 {
            write!(f, "{whole}")
        } else if frac % 10 == 0 {
            write!(f, "{whole}.{}", frac / 10)
        } else {
            write!(f, "{whole}.{frac:02}")
        }
    }
}

/// `x` rounded up to a whole number, for what the plan *needs* (connections,
/// descriptors, series): rounding never provisions less than the formula asks. A
/// fractional assumption is multiplied first and this is applied once, to the result.
/// Saturates: NaN and negatives are 0, values past `u64::MAX` are `u64::MAX` (Rust's
/// float-to-integer casts saturate).
pub fn round_up_needed(x: f64) -> u64 {
    x.ceil() as u64
}

/// `x` rounded down to a whole number, for what is *available* (capacity, a share of
/// something): rounding never promises more than there is. Saturates like
/// [`round_up_needed`].
pub fn round_down_available(x: f64) -> u64 {
    x.floor() as u64
}

/// Synapse processes at a glance.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SynapseSummary {
    /// Main process + workers.
    pub process_count: u64,
    pub worker_count: u64,
    /// The busiest process's budget (the largest of `processes[*].each-gib`).
    pub ram_per_process_gib: Gib,
    /// All Synapse processes together: Σ `processes[*].gib`.
    pub ram_total_gib: Gib,
    pub ram_formula: String,
    /// RAM per process type: a base measured in the lab plus the caches the load brings,
    /// bounded by cache autotuning.
    pub processes: Vec<ProcessRam>,
    /// What cache autotuning holds one process at: base + max_cache_memory_usage
    /// (Synapse compares the max with the whole process's jemalloc-allocated bytes; the
    /// base stands for what jemalloc does not count).
    pub process_bound_gib: Gib,
    /// Every process at that bound at once: processes × `process-bound-gib`.
    pub ram_bound_total_gib: Gib,
    /// The deployment notes' rule per process (1.5 GiB + 0.5 GiB × cache factor): shown
    /// as a comparison, never used.
    pub seed_rule_per_process_gib: Gib,
    /// The deployment notes' rule for every process.
    pub seed_rule_total_gib: Gib,
    /// Synapse `caches.cache_autotuning.max_cache_memory_usage`, one value for every
    /// process: the largest working set one process is expected to hold, at most
    /// min(host RAM × 1/8, 2 GiB) (the playbook's rule), never below the floor.
    pub cache_autotuning_max_gib: Gib,
    /// `target_cache_memory_usage`: half the maximum, the playbook's own ratio
    /// (min(RAM/8, 2 GiB) against min(RAM/16, 1 GiB)).
    pub cache_autotuning_target_gib: Gib,
    /// `min_cache_ttl`: the playbook's default.
    pub cache_autotuning_min_ttl: &'static str,
    pub workers: Vec<WorkerCount>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct WorkerCount {
    /// Serialized as its key (`sync`, `federation-sender`, …).
    #[serde(rename = "type", serialize_with = "worker_key")]
    pub kind: WorkerKind,
    pub count: u64,
}

fn worker_key<S: serde::Serializer>(kind: &WorkerKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.key())
}

/// One Synapse process type (the main process or a worker kind) and its RAM.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct ProcessRam {
    /// `main` or the worker kind's key.
    #[serde(rename = "type")]
    pub key: &'static str,
    /// None for the main process.
    #[serde(skip)]
    pub kind: Option<WorkerKind>,
    pub label: &'static str,
    pub count: u64,
    /// Concurrent users whose per-user caches one process of this type holds.
    pub users_each: u64,
    /// The caches one process would hold for its load, before autotuning.
    pub working_set_gib: Gib,
    /// What autotuning leaves of it: min(working set, max_cache_memory_usage).
    pub cache_gib: Gib,
    /// Base + cache: one process's budget.
    pub each_gib: Gib,
    /// The base of one process (assumption synapse-process-base-mib).
    pub base_gib: Gib,
    /// The caches of all processes of the type: their users' working set, at most
    /// `count ×` max_cache_memory_usage, rounded once.
    pub caches_gib: Gib,
    pub caches_formula: String,
    /// `count × base + caches`: what the type needs on the host.
    pub gib: Gib,
    /// The working set is above max_cache_memory_usage: autotuning evicts every 30 s.
    pub at_bound: bool,
    pub formula: String,
}

/// The per-user load a process type carries: the lab's rate and the users it serves.
struct Load {
    rate_mib: f64,
    users: f64,
    what: &'static str,
}

/// What loads a process of this type carries (None: the main process). Sync and room
/// workers hold per-user caches (the lab measured them grow); the main process carries
/// those of the types the plan has no worker for. Open federation adds remote rooms'
/// state to the processes that hold it: main, sync, room, federation reader and sender.
fn loads(plan: &Plan, kind: Option<WorkerKind>) -> (Vec<Load>, bool) {
    use crate::assumptions::{
        SYNAPSE_ROOM_MIB_PER_USER as ROOM, SYNAPSE_SYNC_MIB_PER_USER as SYNC,
    };
    let peak = plan.peak_concurrent_users() as f64;
    let mut out = Vec::new();
    for (k, a, what) in [
        (WorkerKind::Sync, &SYNC, "sync"),
        (WorkerKind::Room, &ROOM, "room"),
    ] {
        let carrier = carrier(plan, k);
        if carrier == kind {
            out.push(Load {
                rate_mib: plan.assume(a),
                users: peak / carrier.map_or(1, |c| plan.workers(c)).max(1) as f64,
                what,
            });
        }
    }
    let holds_remote_state = matches!(
        kind,
        None | Some(
            WorkerKind::Sync
                | WorkerKind::Room
                | WorkerKind::FederationReader
                | WorkerKind::FederationSender
        )
    );
    (out, holds_remote_state)
}

/// Which processes hold a worker kind's per-user caches: its workers, else the main
/// process (None). The planner does not move them to generic workers: one process's
/// bound is what the main process can hold, so adding a worker never lowers the need.
fn carrier(plan: &Plan, kind: WorkerKind) -> Option<WorkerKind> {
    (plan.workers(kind) > 0).then_some(kind)
}

/// Open federation's remote rooms' state per process that holds it, MiB (ESS: small
/// federation needs no more than none).
fn federation_mib(plan: &Plan) -> f64 {
    match plan.activity.federation {
        crate::plan::Federation::Open => {
            plan.assume(&crate::assumptions::SYNAPSE_OPEN_FEDERATION_MIB)
        }
        _ => 0.0,
    }
}

fn base(plan: &Plan) -> Gib {
    Gib::from_mib(plan.assume(&crate::assumptions::SYNAPSE_BASE_MIB))
}

/// The process types the plan runs: the main process (None), then each worker kind
/// with at least one worker, in the schema's order.
fn kinds(plan: &Plan) -> impl Iterator<Item = Option<WorkerKind>> + '_ {
    std::iter::once(None)
        .chain(WorkerKind::ALL.iter().map(|&k| Some(k)))
        .filter(|k| k.is_none_or(|k| plan.workers(k) > 0))
}

/// The caches one process of this type holds for its load, MiB: the lab's per-user
/// rates × the users it serves, plus open federation's remote state.
fn working_mib(plan: &Plan, kind: Option<WorkerKind>) -> (f64, Vec<Load>, f64) {
    let (loads, remote) = loads(plan, kind);
    let fed = if remote { federation_mib(plan) } else { 0.0 };
    let mib = loads.iter().map(|l| l.rate_mib * l.users).sum::<f64>() + fed;
    (mib, loads, fed)
}

/// One process's working set as a need: rounded up, so no process of the type is above
/// it.
fn working_gib(mib: f64) -> Gib {
    Gib(round_up_needed(mib * 100.0 / 1024.0))
}

/// What Synapse does with it (element-hq/synapse at a58ad44, v1.157.1+16; the lab ran
/// 1.159.0): every 30 s (synapse/util/caches/lrucache.py:252, `looping_call`)
/// `_expire_old_entries` (lrucache.py:114) reads jemalloc's "allocated" bytes for the
/// whole process (lrucache.py:148) and, when they exceed max_cache_memory_usage
/// (lrucache.py:149), drops least recently used entries, never one used less than
/// min_cache_ttl ago (lrucache.py:172), re-reading every 100 evictions until the process
/// is below target_cache_memory_usage (lrucache.py:191). Entry counts are another bound:
/// each cache's size × its factor (lrucache.py:496; synapse/config/cache.py:47 default
/// factor 0.5), the event cache event_cache_size × factor
/// (synapse/storage/databases/main/events_worker.py:300, config/cache.py:130), which the
/// playbook sets to 100K × 10: far above what fits the maximum, so autotuning binds.
///
/// `caches.cache_autotuning.max_cache_memory_usage`, one value for every process: the
/// largest working set one process is expected to hold, so autotuning starts evicting
/// where the busiest process would outgrow its budget; at most the playbook's
/// min(RAM / 8, 2 GiB) of the Synapse host, never below the floor. Adding a worker may
/// lower it only while no process is held at it, so it never lowers a budget.
pub fn cache_autotuning_max(plan: &Plan) -> Gib {
    use crate::assumptions::{
        SYNAPSE_CACHE_MAX_CAP_GIB as CAP, SYNAPSE_CACHE_MAX_FLOOR_GIB as FLOOR,
        SYNAPSE_CACHE_MAX_RAM_SHARE as SHARE,
    };
    let ram = plan.host(crate::plan::Role::Synapse).ram_gib as f64;
    // Rounded down to the hundredth: never more than the rule gives.
    let playbook = Gib(round_down_available(
        (ram * plan.assume(&SHARE)).min(plan.assume(&CAP)) * 100.0,
    ));
    let floor = Gib(round_up_needed(plan.assume(&FLOOR) * 100.0));
    let largest = kinds(plan)
        .map(|k| working_gib(working_mib(plan, k).0))
        .max()
        .unwrap_or_default();
    largest.min(playbook).max(floor)
}

fn process(plan: &Plan, kind: Option<WorkerKind>, max: Gib) -> ProcessRam {
    let (mib, loads, fed) = working_mib(plan, kind);
    let count = kind.map_or(1, |k| plan.workers(k));
    // One process, for the page and the busiest budget.
    let working = working_gib(mib);
    let cache = working.min(max);
    let base = base(plan);
    let each = base.plus(cache);
    // All processes of the type, rounded once (up, a need): the users' caches are split
    // among them, each held at the maximum.
    let caches = working_gib(mib * count as f64).min(max.times(count));
    let mut parts: Vec<String> = loads
        .iter()
        .map(|l| {
            format!(
                "{} MiB × {} {} users",
                crate::format::number(l.rate_mib),
                crate::format::group(round_up_needed(l.users * count as f64)),
                l.what
            )
        })
        .collect();
    if fed > 0.0 {
        parts.push(format!(
            "{count} × {} MiB open federation",
            crate::format::number(fed)
        ));
    }
    let base_mib = crate::format::number(plan.assume(&crate::assumptions::SYNAPSE_BASE_MIB));
    let caches_formula = format!(
        "min({} = {} GiB, autotuning max {max} GiB × {count}) = {caches} GiB",
        parts.join(" + "),
        working_gib(mib * count as f64)
    );
    let formula = if parts.is_empty() {
        format!("{base_mib} MiB each, no per-user caches")
    } else {
        format!("{count} × {base_mib} MiB + caches {caches_formula}")
    };
    ProcessRam {
        key: kind.map_or("main", |k| k.key()),
        kind,
        label: kind.map_or("Synapse main process", |k| k.label()),
        count,
        users_each: round_up_needed(loads.iter().map(|l| l.users).fold(0.0, f64::max)),
        working_set_gib: working,
        cache_gib: cache,
        each_gib: each,
        base_gib: base,
        caches_gib: caches,
        caches_formula,
        gib: base.times(count).plus(caches),
        at_bound: working > max,
        formula,
    }
}

/// RAM of every Synapse process type the plan runs: the main process, then each worker
/// kind with at least one worker, in the schema's order.
pub fn processes(plan: &Plan) -> Vec<ProcessRam> {
    let max = cache_autotuning_max(plan);
    kinds(plan).map(|k| process(plan, k, max)).collect()
}

/// The busiest Synapse process's budget (what the lab checks every process against).
pub fn ram_per_process(plan: &Plan) -> Gib {
    processes(plan)
        .iter()
        .map(|p| p.each_gib)
        .max()
        .unwrap_or_default()
}

/// The deployment notes' rule, 1.5 GiB + 0.5 GiB × cache factor per process: a
/// comparison only.
pub fn seed_rule_per_process(plan: &Plan) -> Gib {
    use crate::assumptions::{
        SYNAPSE_PROCESS_BASE_GIB as BASE, SYNAPSE_PROCESS_PER_FACTOR_GIB as PER,
    };
    Gib::from_gib(plan.assume(&BASE) + plan.assume(&PER) * plan.synapse.cache_factor)
}

pub fn synapse_summary(plan: &Plan) -> SynapseSummary {
    let processes = processes(plan);
    let n = plan.synapse_process_count();
    let total = processes.iter().fold(Gib(0), |a, p| a.plus(p.gib));
    let max = cache_autotuning_max(plan);
    let bound = base(plan).plus(max);
    let seed = seed_rule_per_process(plan);
    let terms: Vec<String> = processes
        .iter()
        .map(|p| {
            if p.caches_gib == Gib(0) {
                format!("{} {} × {}", p.key, p.count, p.base_gib)
            } else {
                format!(
                    "{} ({} × {} + {})",
                    p.key, p.count, p.base_gib, p.caches_gib
                )
            }
        })
        .collect();
    SynapseSummary {
        process_count: n,
        worker_count: plan.worker_count(),
        ram_per_process_gib: processes
            .iter()
            .map(|p| p.each_gib)
            .max()
            .unwrap_or_default(),
        ram_total_gib: total,
        ram_formula: format!(
            "{} = {total} GiB for {n} processes (the deployment notes' rule would say {n} × {seed} = {} GiB)",
            terms.join(" + "),
            seed.times(n)
        ),
        processes,
        process_bound_gib: bound,
        ram_bound_total_gib: bound.times(n),
        seed_rule_per_process_gib: seed,
        seed_rule_total_gib: seed.times(n),
        cache_autotuning_max_gib: max,
        cache_autotuning_target_gib: Gib(max.0 / 2),
        cache_autotuning_min_ttl: "30s",
        workers: WorkerKind::ALL
            .iter()
            .map(|&k| WorkerCount {
                kind: k,
                count: plan.workers(k),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each process type's budget, the total and the autotuning maximum, in hundredths
    /// of a GiB, for a plan with these changes. Base 160 MiB = 0.16 GiB; a sync worker
    /// adds 2.8 MiB and a room worker 1.8 MiB per concurrent user it serves, open
    /// federation 400 MiB to main, sync, room and the federation workers.
    fn check(changes: &[(&str, &str)], expect: &[(&str, u64)], total: u64, max: u64) {
        let mut p = Plan::default();
        for (k, v) in changes {
            p = p.with_text(k, v).unwrap();
        }
        let s = synapse_summary(&p);
        for (key, each) in expect {
            let got = s.processes.iter().find(|x| x.key == *key);
            assert_eq!(
                got.map(|x| x.each_gib),
                Some(Gib(*each)),
                "{changes:?} {key}"
            );
        }
        assert_eq!(s.ram_total_gib, Gib(total), "{changes:?} total");
        assert_eq!(
            s.processes.iter().fold(Gib(0), |a, x| a.plus(x.gib)),
            s.ram_total_gib,
            "the total is the sum"
        );
        assert_eq!(s.cache_autotuning_max_gib, Gib(max), "{changes:?} max");
        assert_eq!(s.cache_autotuning_target_gib, Gib(max / 2));
        assert_eq!(s.process_bound_gib, Gib(16 + max));
        // Autotuning bounds every process: no budget above base + max.
        assert!(
            s.processes
                .iter()
                .all(|x| x.each_gib <= s.process_bound_gib)
        );
        assert_eq!(s.ram_per_process_gib, ram_per_process(&p));
        // What the bundle writes is coherent with the budget: the maximum is below the
        // busiest process's budget, unless the floor (0.25 GiB) lifts it.
        assert!(
            s.cache_autotuning_max_gib < s.ram_per_process_gib || max == 25,
            "{changes:?}: max {} against {}",
            s.cache_autotuning_max_gib,
            s.ram_per_process_gib
        );
    }

    #[test]
    fn ram_per_process_type() {
        // The seed's cluster: 2,500 peak users over 3 sync workers = 834 each × 2.8 MiB
        // = 2.28 GiB and 2,500 × 1.8 MiB = 4.39 GiB on the room worker, both above the
        // playbook's 2 GiB maximum: 0.16 + 2 = 2.16 GiB. The other 16 processes 0.16.
        check(
            &[],
            &[("main", 16), ("sync", 216), ("room", 216), ("pusher", 16)],
            1120,
            200,
        );
        // 300 peak users: 100 per sync worker × 2.8 = 280 MiB = 0.28 GiB each (rounded
        // up); the three together 840 MiB = 0.83 GiB (rounded once, up); room 540 MiB = 0.53
        // GiB, the largest working set: the autotuning maximum.
        check(
            &[("users.peak-concurrent", "300")],
            &[("main", 16), ("sync", 44), ("room", 69)],
            16 + (3 * 16 + 83) + 69 + 15 * 16,
            53,
        );
        // Open federation: + 400 MiB to main, sync, room and the federation workers.
        // Sync: 3 × 680 MiB = 2 GiB; room 940 MiB; main and the federation workers
        // 400 MiB = 0.40 GiB (rounded up).
        check(
            &[
                ("users.peak-concurrent", "300"),
                ("activity.federation", "open"),
            ],
            &[
                ("main", 56),
                ("sync", 83),
                ("room", 108),
                ("federation-reader", 56),
                ("federation-sender", 56),
                ("pusher", 16),
            ],
            56 + (3 * 16 + 200) + 108 + 56 + 56 + 13 * 16,
            92,
        );
        // Small federation: ESS sizes it as no federation.
        check(
            &[
                ("users.peak-concurrent", "300"),
                ("activity.federation", "small"),
            ],
            &[("main", 16), ("sync", 44)],
            16 + (3 * 16 + 83) + 69 + 15 * 16,
            53,
        );
        // 8 GiB: max 8 / 8 = 1 GiB; the sync workers' 6.84 GiB held at 3 × 1.
        check(
            &[("hosts.synapse.ram-gib", "8")],
            &[("sync", 116), ("room", 116)],
            16 + (48 + 300) + 116 + 15 * 16,
            100,
        );
        // 1 GiB: 1 / 8 is below the floor, 0.25 GiB.
        check(
            &[("hosts.synapse.ram-gib", "1")],
            &[("sync", 41), ("room", 41)],
            16 + (48 + 75) + 41 + 15 * 16,
            25,
        );
        // No sync worker: the main process carries the sync users (2,500 × 2.8 MiB).
        check(
            &[("synapse.workers.sync", "0")],
            &[("main", 216), ("room", 216)],
            216 + 216 + 15 * 16,
            200,
        );
        // Generic workers do not take them over (one process's bound is what main holds).
        check(
            &[
                ("synapse.workers.sync", "0"),
                ("synapse.workers.generic", "4"),
            ],
            &[("main", 216), ("generic", 16)],
            216 + 4 * 16 + 216 + 15 * 16,
            200,
        );
        // The cache factor scales entry counts, not the budget.
        check(
            &[("synapse.cache-factor", "0.5")],
            &[("sync", 216)],
            1120,
            200,
        );
    }

    #[test]
    fn the_deployment_notes_rule_is_a_comparison() {
        // Seed §3: cache_factor 10 → 6.5 GB per process; 20 processes → 130 GB.
        let p = Plan::default();
        let s = synapse_summary(&p);
        assert_eq!(s.seed_rule_per_process_gib, Gib(650));
        assert_eq!(s.seed_rule_total_gib, Gib(13000));
        assert!(
            s.ram_formula.contains("would say 20 × 6.5 = 130 GiB"),
            "{}",
            s.ram_formula
        );
        for (factor, per) in [("0.5", Gib(175)), ("20", Gib(1150)), ("0.33", Gib(167))] {
            let p = p.with_text("synapse.cache-factor", factor).unwrap();
            assert_eq!(seed_rule_per_process(&p), per, "factor {factor}");
            assert_eq!(synapse_summary(&p).ram_total_gib, s.ram_total_gib);
        }
    }

    #[test]
    fn more_users_never_need_less() {
        let mut last = Gib(0);
        for peak in [0, 1, 10, 100, 1_000, 10_000, 100_000, 1_000_000] {
            let p = Plan::default()
                .with_text("users.registered", "10000000")
                .and_then(|p| p.with_text("activity.daily-active-users", "10000000"))
                .and_then(|p| p.with_text("users.peak-concurrent", &peak.to_string()))
                .unwrap();
            let t = synapse_summary(&p).ram_total_gib;
            assert!(t >= last, "{peak}: {t} < {last}");
            last = t;
        }
    }

    #[test]
    fn numbers_past_tool_limits_rounding_directions() {
        for (x, up, down) in [
            (0.0, 0, 0),
            (1.9, 2, 1),
            (190_000.0, 190_000, 190_000),
            (2.000_000_1, 3, 2),
            (-3.5, 0, 0),
            (f64::NAN, 0, 0),
            (1e30, u64::MAX, u64::MAX),
        ] {
            assert_eq!(round_up_needed(x), up, "up {x}");
            assert_eq!(round_down_available(x), down, "down {x}");
        }
    }

    #[test]
    fn gib_display_and_json() {
        assert_eq!(Gib(650).to_string(), "6.5");
        assert_eq!(Gib(13000).to_string(), "130");
        assert_eq!(Gib(167).to_string(), "1.67");
        assert_eq!(Gib(5).to_string(), "0.05");
        assert_eq!(serde_json::to_string(&Gib(167)).unwrap(), "1.67");
        assert_eq!(Gib::from_kb(16 * 1024 * 1024), Gib(1600));
    }
}
