//! The PostgreSQL parameters against PGTune's own outputs (`tests/data/pgtune_cases.tsv`:
//! PGTune's selectors at le0pard/pgtune 7caef27 evaluated for each host), and the Patroni
//! hosts' worst case against PGTune's and PostgreSQL's counts.
//!
//! Every parameter PGTune computes must equal the planner's, except the deliberate
//! differences in [`DIFFERENCES`], each with its reason; every parameter the planner
//! writes that PGTune does not compute is in [`OWN`], with its reason.

use synapse_planner::plan::Plan;
use synapse_planner::report::Report;
use synapse_planner::sizing::postgres::{self, Parameter};

/// Parameters where the planner differs from PGTune on purpose, and why. The test checks
/// the planner's value for each by the rule stated here.
const DIFFERENCES: &[(&str, &str)] = &[
    (
        "work_mem",
        "PGTune's value unless the worst case with it (backends that can exist and parallel workers, each holding 3 hash tables of hash_mem_multiplier 2.0 × work_mem) would pass the tight share of RAM beside the rest of the budget; then less, at least PGTune's 4MB floor",
    ),
    (
        "autovacuum_max_workers",
        "at least the seed's 4 (Synapse churns dead tuples in events and state tables); PGTune leaves PostgreSQL's 3 below 16 vCPUs",
    ),
    (
        "autovacuum_work_mem",
        "written as maintenance_work_mem where PGTune leaves -1, which PostgreSQL reads as maintenance_work_mem: the same value",
    ),
];

/// Parameters PGTune does not compute that the planner writes, and why.
const OWN: &[(&str, &str)] = &[
    ("max_connections", "postgres.max-connections as entered"),
    (
        "superuser_reserved_connections",
        "PostgreSQL's default 3, written so the connection budget is explicit",
    ),
    (
        "checkpoint_timeout",
        "the seed's 15min: fewer full-page writes on a write-heavy Synapse database",
    ),
    (
        "hash_mem_multiplier",
        "PostgreSQL 15+'s default 2.0, written because the RAM budget counts hash tables at it",
    ),
    ("wal_level", "replica: Patroni's standbys stream WAL"),
    ("wal_log_hints", "on: Patroni runs pg_rewind"),
    ("hot_standby", "on: standbys answer read-only queries"),
    ("autovacuum", "on: the seed's autovacuum block"),
    ("autovacuum_naptime", "the seed's autovacuum block"),
    (
        "autovacuum_vacuum_scale_factor",
        "the seed's autovacuum block",
    ),
    (
        "autovacuum_analyze_scale_factor",
        "the seed's autovacuum block",
    ),
    (
        "autovacuum_vacuum_cost_delay",
        "the seed's autovacuum block",
    ),
];

/// One row of the data file: the inputs, and PGTune's value for each column ("-": none).
struct Case {
    ram_gib: u64,
    vcpus: u64,
    connections: u64,
    storage: String,
    version: u64,
    values: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/pgtune_cases.tsv");
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    assert_eq!(
        header[..6],
        [
            "ram_gb",
            "cpus",
            "connections",
            "storage",
            "version",
            "db_type"
        ]
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), header.len(), "{l}");
            // The planner follows PGTune's OLTP profile only.
            assert_eq!(f[5], "oltp", "{l}");
            let n = |i: usize| f[i].parse::<u64>().expect(f[i]);
            Case {
                ram_gib: n(0),
                vcpus: n(1),
                connections: n(2),
                storage: f[3].to_string(),
                version: n(4),
                values: header[6..]
                    .iter()
                    .zip(&f[6..])
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect(),
            }
        })
        .collect()
}

impl Case {
    fn plan(&self) -> Plan {
        let changes = [
            ("hosts.patroni.ram-gib", self.ram_gib.to_string()),
            ("hosts.patroni.vcpus", self.vcpus.to_string()),
            ("postgres.max-connections", self.connections.to_string()),
            ("postgres.storage", self.storage.clone()),
            ("postgres.version", self.version.to_string()),
        ];
        let changes: Vec<(&str, &str)> = changes.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Plan::default()
            .with_texts(&changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    fn pgtune(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| *v != "-")
    }

    fn label(&self) -> String {
        format!(
            "{} GiB / {} vCPU / {} connections / {} / PostgreSQL {}",
            self.ram_gib, self.vcpus, self.connections, self.storage, self.version
        )
    }
}

/// A planner value in PGTune's unit: kB for sizes ("4GB" → 4194304), else the text.
fn in_pgtune_units(value: &str) -> String {
    for (unit, kb) in [("GB", 1024 * 1024), ("MB", 1024), ("kB", 1)] {
        if let Some(n) = value.strip_suffix(unit)
            && let Ok(n) = n.parse::<u64>()
        {
            return (n * kb).to_string();
        }
    }
    value.to_string()
}

fn parameter<'a>(params: &'a [Parameter], name: &str) -> Option<&'a Parameter> {
    params.iter().find(|p| p.name == name)
}

#[test]
fn parameters_equal_pgtune_outputs_or_differ_on_purpose() {
    let cases = cases();
    assert!(cases.len() >= 10, "{}", cases.len());
    let mut compared = 0;
    let mut lowered = 0;
    for case in &cases {
        let plan = case.plan();
        let params = postgres::parameters(&plan);
        let mem = postgres::memory(&plan);
        lowered += usize::from(mem.work_mem_kb < mem.pgtune_work_mem_kb);
        for (name, _) in &case.values {
            if name == "high_memory_warning" || DIFFERENCES.iter().any(|(d, _)| d == name) {
                continue;
            }
            let ours = parameter(&params, name).map(|p| in_pgtune_units(&p.value));
            assert_eq!(
                ours.as_deref(),
                case.pgtune(name),
                "{name} for {}",
                case.label()
            );
            compared += 1;
        }
        differences(case, &plan, &params);
        for p in &params {
            assert!(
                case.values.iter().any(|(n, _)| n == p.name)
                    || OWN.iter().any(|(o, _)| *o == p.name),
                "{} is neither PGTune's nor listed in OWN",
                p.name
            );
        }
    }
    assert!(compared > 150, "{compared}");
    // Both sides of work_mem's rule are exercised.
    assert!(lowered > 0 && lowered < cases.len(), "{lowered}");
}

/// The deliberate differences, each by its stated rule.
fn differences(case: &Case, plan: &Plan, params: &[Parameter]) {
    let value = |name: &str| {
        parameter(params, name)
            .map(|p| in_pgtune_units(&p.value))
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    let num = |s: &str| s.parse::<u64>().expect(s);
    let label = case.label();
    // work_mem: PGTune's, or lowered to fit with a finding saying so.
    let mem = postgres::memory(plan);
    let pgtune_work_mem = num(case.pgtune("work_mem").expect("work_mem"));
    assert_eq!(mem.pgtune_work_mem_kb, pgtune_work_mem, "{label}");
    let written = num(&value("work_mem"));
    let lowered = Report::new(plan)
        .findings
        .iter()
        .any(|f| f.code == "postgres-work-mem-below-pgtune");
    assert_eq!(lowered, written != pgtune_work_mem, "{label}");
    assert!(written <= pgtune_work_mem && written >= 4096, "{label}");
    // autovacuum_max_workers: max(seed's 4, PGTune's or PostgreSQL's 3).
    let pgtune_workers = case.pgtune("autovacuum_max_workers").map_or(3, num);
    assert_eq!(
        num(&value("autovacuum_max_workers")),
        pgtune_workers.max(4),
        "{label}"
    );
    // autovacuum_work_mem: PGTune's, or maintenance_work_mem where PGTune leaves -1.
    let expect = case
        .pgtune("autovacuum_work_mem")
        .or(case.pgtune("maintenance_work_mem"))
        .expect("maintenance_work_mem");
    assert_eq!(value("autovacuum_work_mem"), expect, "{label}");
}

/// PGTune's high-memory warning is the planner's info finding, on the same hosts.
#[test]
fn pgtune_high_memory_warning_is_a_finding() {
    for case in cases() {
        let report = Report::new(&case.plan());
        let finding = report
            .findings
            .iter()
            .find(|f| f.code == "postgres-pgtune-high-memory");
        assert_eq!(
            finding.is_some(),
            case.pgtune("high_memory_warning") == Some("yes"),
            "{}",
            case.label()
        );
        if let Some(f) = finding {
            assert!(
                f.message
                    .contains("\"this tool not being optimal for very high memory systems\""),
                "{}",
                f.message
            );
        }
    }
}

/// PGTune sizes work_mem so (max_connections + max_worker_processes) × 3 of it fit in
/// RAM − shared_buffers: its count of the worst case, which its outputs keep wherever the
/// 4MB floor does not bind. PostgreSQL's count is larger: from 15 each hash table may take
/// hash_mem_multiplier (2.0) × work_mem. The budget's item is PostgreSQL's count over the
/// backends that can exist.
#[test]
fn worst_case_as_pgtune_and_postgresql_count_it() {
    for case in cases() {
        let plan = case.plan();
        let num = |name: &str| {
            case.pgtune(name)
                .map(|v| v.parse::<u64>().expect(v))
                .unwrap_or(0)
        };
        let ram_kb = case.ram_gib * 1024 * 1024;
        let workers = match case.pgtune("max_worker_processes") {
            Some(w) => w.parse::<u64>().expect(w),
            None => 8,
        };
        let pgtune_count = (case.connections + workers) * 3 * num("work_mem");
        if num("work_mem") > 4096 {
            assert!(
                pgtune_count <= ram_kb - num("shared_buffers"),
                "{}",
                case.label()
            );
            // With hash tables at 2.0 × work_mem, max_connections at PGTune's work_mem
            // could take twice as much: more than the whole host.
            assert!(2 * pgtune_count > ram_kb - num("shared_buffers") + ram_kb / 4);
        }
        let mem = postgres::memory(&plan);
        assert_eq!(mem.parallel_workers, workers, "{}", case.label());
        let budget =
            synapse_planner::sizing::ram::budget(&plan, synapse_planner::plan::Role::Patroni);
        let item = budget
            .items
            .iter()
            .find(|i| i.name == "Sorts and hash tables, worst case")
            .expect("item");
        let worst = synapse_planner::sizing::Gib::from_kb(mem.processes() * 6 * mem.work_mem_kb);
        match mem.sort_hash_reserved {
            // PGTune's work_mem fits: the item is the worst case.
            None => assert_eq!(item.gib, worst, "{}", case.label()),
            // Lowered: the item reserves the tight share's rest, which holds the worst
            // case (work_mem is floored to whole kB), and the budget is at 90%.
            Some(reserved) => {
                assert_eq!(item.gib, reserved, "{}", case.label());
                assert!(worst <= reserved, "{}", case.label());
                assert_eq!(budget.ram_used_percent, 90, "{}", case.label());
            }
        }
    }
}

/// Hand-checked: the default plan's Patroni host (64 GiB, 16 vCPUs, max_connections 500,
/// PostgreSQL 15), PGTune's first case.
#[test]
fn default_plan_worst_case_by_hand() {
    let plan = Plan::default();
    let budget = synapse_planner::sizing::ram::budget(&plan, synapse_planner::plan::Role::Patroni);
    let gib = |name: &str| {
        budget
            .items
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.gib.to_string())
    };
    // shared_buffers 64 GiB / 4.
    assert_eq!(gib("shared_buffers").as_deref(), Some("16"));
    // (60 PgBouncer server connections + 15 reserved + 16 parallel workers) × 3 × 2.0 ×
    // 32513 kB = 17,752,098 kB = 16.93 GiB.
    assert_eq!(
        gib("Sorts and hash tables, worst case").as_deref(),
        Some("16.93")
    );
    // 4 workers × 1 GB: autovacuum_work_mem is PGTune's 2GB, VACUUM uses 1 GB on 15.
    assert_eq!(gib("Autovacuum workers").as_deref(), Some("4"));
    // maintenance_work_mem 64 GiB / 16 = 4GB (under PGTune's 8 GB cap).
    assert_eq!(gib("One maintenance operation").as_deref(), Some("4"));
    assert_eq!(budget.ram_needed_gib.to_string(), "44.92");
}
