//! The sizing engine: RAM per host role, the database connection chain and the
//! PostgreSQL parameters, from a validated [`Plan`]. Pure and deterministic.

pub mod calls;
pub mod connections;
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
    pub ram_per_process_gib: Gib,
    /// All Synapse processes together.
    pub ram_total_gib: Gib,
    pub ram_formula: String,
    /// Synapse `caches.cache_autotuning.max_cache_memory_usage` per process: the cache
    /// share of the budget (0.5 GiB × cache factor), so caches cannot outgrow it.
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

/// RAM per Synapse process by the seed heuristic: 1.5 GiB + 0.5 GiB × cache factor.
pub fn ram_per_process(plan: &Plan) -> Gib {
    use crate::assumptions::{
        SYNAPSE_PROCESS_BASE_GIB as BASE, SYNAPSE_PROCESS_PER_FACTOR_GIB as PER,
    };
    Gib::from_gib(plan.assume(&BASE) + plan.assume(&PER) * plan.synapse.cache_factor)
}

/// The cache part of the per-process heuristic: 0.5 GiB × cache factor.
pub fn cache_share(plan: &Plan) -> Gib {
    use crate::assumptions::SYNAPSE_PROCESS_PER_FACTOR_GIB as PER;
    Gib::from_gib(plan.assume(&PER) * plan.synapse.cache_factor)
}

pub fn synapse_summary(plan: &Plan) -> SynapseSummary {
    let per = ram_per_process(plan);
    let n = plan.synapse_process_count();
    SynapseSummary {
        process_count: n,
        worker_count: plan.worker_count(),
        ram_per_process_gib: per,
        ram_total_gib: per.times(n),
        ram_formula: format!(
            "{n} processes × ({} GiB + {} GiB × cache factor {}) = {n} × {per} GiB",
            plan.assume(&crate::assumptions::SYNAPSE_PROCESS_BASE_GIB),
            plan.assume(&crate::assumptions::SYNAPSE_PROCESS_PER_FACTOR_GIB),
            plan.synapse.cache_factor
        ),
        cache_autotuning_max_gib: cache_share(plan),
        cache_autotuning_target_gib: Gib(cache_share(plan).0 / 2),
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

    #[test]
    fn seed_heuristic() {
        // Seed §3: cache_factor 10 → 6.5 GB per process; 20 processes → 130 GB.
        let p = Plan::default();
        assert_eq!(p.synapse_process_count(), 20);
        let s = synapse_summary(&p);
        assert_eq!(s.ram_per_process_gib, Gib(650));
        assert_eq!(s.ram_total_gib, Gib(13000));
        assert_eq!(s.cache_autotuning_max_gib, Gib(500));
        assert_eq!(s.cache_autotuning_target_gib, Gib(250));
        for (factor, per) in [
            ("0.5", Gib(175)),
            ("1", Gib(200)),
            ("2.5", Gib(275)),
            ("20", Gib(1150)),
            ("0.33", Gib(167)),
        ] {
            let p = p.with_text("synapse.cache-factor", factor).unwrap();
            assert_eq!(ram_per_process(&p), per, "factor {factor}");
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
