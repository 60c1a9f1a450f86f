//! The report: everything the engine computes for a plan, as one serialisable value.
//!
//! The CLI prints it as JSON or text; the browser shows the same values, each element
//! tagged with its JSON path (`data-metric`), read from this struct's JSON form.

use crate::findings::{self, Finding};
use crate::format::{group, plural, two_decimals};
use crate::plan::Plan;
use crate::sizing::{self, Connections, HostBudget, SynapseSummary, postgres};
use serde::{Serialize, Serializer};

pub mod figures;

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    pub schema: u64,
    pub plan: PlanSummary,
    pub synapse: SynapseSummary,
    pub hosts: Vec<HostBudget>,
    /// vCPUs per host role, next to the RAM budgets.
    pub cpu: sizing::cpu::Cpu,
    pub connections: Connections,
    pub postgres: PostgresReport,
    pub storage: sizing::storage::Storage,
    pub object_storage: sizing::objectstore::ObjectStorage,
    pub calls: sizing::calls::Calls,
    /// The worst single host of each deployed role, lost.
    pub failures: Vec<sizing::failures::Failure>,
    pub findings: Vec<Finding>,
    pub summary: Summary,
    /// Every constant the figures rest on, as this plan sets it.
    pub assumptions: Vec<AssumptionUsed>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct AssumptionUsed {
    pub id: &'static str,
    pub label: &'static str,
    pub value: f64,
    pub default: f64,
    pub unit: &'static str,
    pub source: &'static str,
    /// The plan sets it to something else than its default.
    pub overridden: bool,
    /// A plan may override it (`assumptions.<id>`).
    pub overridable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PlanSummary {
    pub name: String,
    pub domain: String,
    pub users_registered: u64,
    pub users_peak_concurrent: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct PostgresReport {
    /// name → value exactly as written in postgresql.conf, in file order.
    #[serde(serialize_with = "as_map")]
    pub parameters: Vec<postgres::Parameter>,
    /// name → how the value was computed.
    #[serde(serialize_with = "formulas_map", rename = "formulas")]
    pub formulas: Vec<postgres::Parameter>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

fn as_map<S: Serializer>(params: &[postgres::Parameter], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(params.iter().map(|p| (p.name, &p.value)))
}

fn formulas_map<S: Serializer>(params: &[postgres::Parameter], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(params.iter().map(|p| (p.name, &p.formula)))
}

impl Report {
    pub fn new(plan: &Plan) -> Report {
        let hosts = sizing::ram::budgets(plan);
        let connections = sizing::connections::connections(plan);
        let storage = sizing::storage::storage(plan);
        let object_storage = sizing::objectstore::object_storage(plan);
        let calls = sizing::calls::calls(plan);
        let failures = sizing::failures::failures(plan);
        let findings = findings::evaluate(
            plan,
            &findings::Inputs {
                hosts: &hosts,
                connections: &connections,
                storage: &storage,
                object_storage: &object_storage,
                calls: &calls,
                failures: &failures,
            },
        );
        let count = |s| findings.iter().filter(|f| f.severity == s).count();
        let summary = Summary {
            errors: count(crate::Severity::Error),
            warnings: count(crate::Severity::Warning),
            infos: count(crate::Severity::Info),
        };
        let params = postgres::parameters(plan);
        Report {
            schema: crate::plan::SCHEMA_VERSION,
            plan: PlanSummary {
                name: plan.name.clone(),
                domain: plan.domain.clone(),
                users_registered: plan.users.registered,
                users_peak_concurrent: plan.peak_concurrent_users(),
            },
            synapse: sizing::synapse_summary(plan),
            hosts,
            cpu: sizing::cpu::cpu(plan),
            connections,
            postgres: PostgresReport {
                parameters: params.clone(),
                formulas: params,
            },
            storage,
            object_storage,
            calls,
            failures,
            findings,
            summary,
            assumptions: crate::assumptions::all()
                .map(|a| {
                    let value = plan.assume(a);
                    AssumptionUsed {
                        id: a.id,
                        label: a.label,
                        value,
                        default: a.default_value(),
                        unit: a.unit,
                        source: a.source,
                        overridden: value != a.default_value(),
                        overridable: a.overridable(),
                    }
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        // A tree of plain structs, strings and finite numbers: serialisation cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The CPU section of [`Report::to_text`]: vCPUs per host role and ESS's band.
    fn cpu_text(&self, o: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(o, "\nCPU PER HOST");
        for h in self.cpu.hosts.iter().filter(|h| h.count > 0) {
            let _ = writeln!(
                o,
                "  {:<28} {} vCPU: needs {} ({}%), free {}",
                h.label, h.vcpus, h.vcpus_needed, h.vcpus_used_percent, h.vcpus_free
            );
            for i in &h.items {
                let count = if i.count > 1 {
                    format!("{} × {} = ", i.count, i.each_vcpus)
                } else {
                    String::new()
                };
                let _ = writeln!(o, "      {:<60} {count}{} vCPU", i.name, i.vcpus);
            }
        }
        let e = &self.cpu.ess;
        let _ = writeln!(
            o,
            "  ESS ({}): Synapse {} CPU (the planner: {} vCPU), PostgreSQL {} CPU",
            e.band, e.synapse_vcpus, e.planner_synapse_vcpus, e.postgres_vcpus
        );
    }

    /// A plain-text rendering for terminals.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "synapse-planner report: {} ({})",
            self.plan.name, self.plan.domain
        );
        let _ = writeln!(
            o,
            "{} registered users, {} at peak\n",
            self.plan.users_registered, self.plan.users_peak_concurrent
        );
        let s = &self.synapse;
        let _ = writeln!(o, "SYNAPSE");
        let _ = writeln!(
            o,
            "  {} (main + {}): {} GiB (the deployment notes' rule would say {} GiB)",
            plural(s.process_count as usize, "process", "processes"),
            plural(s.worker_count as usize, "worker", "workers"),
            s.ram_total_gib,
            s.seed_rule_total_gib
        );
        for p in &s.processes {
            let _ = writeln!(o, "    {:<26} {} × {} GiB", p.label, p.count, p.each_gib);
        }
        let _ = writeln!(
            o,
            "  cache autotuning: max {} GiB, target {} GiB, min TTL {}",
            s.cache_autotuning_max_gib, s.cache_autotuning_target_gib, s.cache_autotuning_min_ttl
        );
        let _ = writeln!(o, "\nRAM BUDGET PER HOST");
        for h in &self.hosts {
            if h.count == 0 {
                let _ = writeln!(o, "  {:<28} not deployed", h.label);
                continue;
            }
            let _ = writeln!(
                o,
                "  {:<28} {} × {} GiB, {} vCPU: needs {} GiB ({}%), free {} GiB",
                h.label,
                h.count,
                h.ram_gib,
                h.vcpus,
                h.ram_needed_gib,
                h.ram_used_percent,
                h.ram_free_gib
            );
            for i in &h.items {
                let count = if i.count > 1 {
                    format!("{} × {} = ", i.count, i.each_gib)
                } else {
                    String::new()
                };
                let _ = writeln!(o, "      {:<60} {count}{} GiB", i.name, i.gib);
            }
        }
        self.cpu_text(&mut o);
        let c = &self.connections;
        let _ = writeln!(o, "\nCONNECTION CHAIN");
        let _ = writeln!(
            o,
            "  Synapse pools              {:>7}  ({} × cp_max {})",
            c.synapse_pool_total,
            plural(c.synapse_processes as usize, "process", "processes"),
            c.cp_max
        );
        let _ = writeln!(
            o,
            "  PgBouncer max_client_conn  {:>7}  ({} mode)",
            c.pgbouncer_max_client_conn,
            c.pgbouncer_pool_mode.key()
        );
        let _ = writeln!(
            o,
            "  PgBouncer server conns     {:>7}  ({} × (default + reserve pool))",
            c.pgbouncer_server_connections, c.pgbouncer_instances
        );
        let _ = writeln!(
            o,
            "  PostgreSQL available       {:>7}  (max_connections {} − {} reserved)",
            c.postgres_available, c.postgres_max_connections, c.postgres_reserved_total
        );
        let _ = writeln!(o, "\nPOSTGRESQL PARAMETERS (each Patroni node)");
        for p in &self.postgres.parameters {
            let _ = writeln!(o, "  {:<34} = {:<8}  # {}", p.name, p.value, p.formula);
        }
        self.storage_text(&mut o);
        self.object_storage_text(&mut o);
        self.calls_text(&mut o);
        self.failures_text(&mut o);
        let _ = writeln!(
            o,
            "\nFINDINGS ({}, {}, {})",
            plural(self.summary.errors, "error", "errors"),
            plural(self.summary.warnings, "warning", "warnings"),
            plural(self.summary.infos, "note", "notes")
        );
        for f in &self.findings {
            let _ = writeln!(o, "  [{}] {} ({})", f.severity, f.message, f.code);
            let _ = writeln!(o, "      why: {}", f.why);
            let _ = writeln!(o, "      fix: {}", f.fix);
        }
        o
    }
}

impl Report {
    fn storage_text(&self, o: &mut String) {
        use std::fmt::Write;
        let s = &self.storage;
        let _ = writeln!(
            o,
            "\nSTORAGE OVER {} MONTHS (a disk is full at {} %)",
            s.months, s.full_percent
        );
        for d in &s.disks {
            let full = match d.month_full {
                Some(m) => format!("full in month {m}"),
                None => "does not fill".to_string(),
            };
            let _ = writeln!(
                o,
                "  {:<40} {:>9} GiB: now {} GiB, +{} GiB/month, month {} {} GiB ({} %); {full}",
                d.label,
                group(d.capacity_gib.round() as u64),
                d.now_gib,
                d.growth_gib_per_month,
                s.months,
                d.end_gib,
                d.end_percent
            );
        }
    }

    fn object_storage_text(&self, o: &mut String) {
        use std::fmt::Write;
        let m = &self.object_storage;
        let _ = writeln!(o, "\nOBJECT STORAGE (MinIO, {})", m.layout);
        if let Some(problem) = &m.problem {
            let _ = writeln!(o, "  refused: {problem}");
            return;
        }
        let _ = writeln!(
            o,
            "  {} × {} drives of {} TiB = {} TiB raw; {} of {} drives, EC:{}: {} TiB usable",
            m.nodes,
            m.drives_per_node,
            m.drive_tib,
            m.raw_tib,
            plural(m.sets as usize, "set", "sets"),
            m.set_size,
            m.parity,
            m.usable_tib
        );
        let _ = writeln!(
            o,
            "  read quorum {}, write quorum {}; survives {} drive(s) ({} for writes) and {} node(s) ({} for writes) down",
            m.read_quorum,
            m.write_quorum,
            m.drive_failures_tolerated,
            m.drive_failures_tolerated_for_writes,
            m.node_failures_tolerated,
            m.node_failures_tolerated_for_writes
        );
    }

    fn calls_text(&self, o: &mut String) {
        use std::fmt::Write;
        let (t, l) = (&self.calls.turn, &self.calls.livekit);
        let _ = writeln!(o, "\nCALLS");
        if t.nodes == 0 {
            let _ = writeln!(o, "  TURN     no coturn host");
        } else {
            let _ = writeln!(
                o,
                "  TURN     {} relayed calls → {} allocations per node of {} (limited by {}; {} by bandwidth); {} Mbit/s per node",
                t.relayed_calls,
                t.allocations_per_node,
                t.max_allocations_per_node,
                t.limited_by,
                t.max_allocations_by_bandwidth_per_node,
                t.relay_mbps_per_node
            );
        }
        if l.nodes == 0 {
            let _ = writeln!(o, "  LiveKit  no LiveKit host");
        } else {
            let _ = writeln!(
                o,
                "  LiveKit  {} rooms × {} participants → {} per node, {} of {} UDP ports, {} Mbit/s out; largest room {}",
                l.rooms,
                l.participants_per_room,
                l.participants_per_node,
                l.ports_needed_per_node,
                l.port_range,
                l.egress_mbps_per_node,
                if l.largest_room_fits {
                    "fits one node"
                } else {
                    "does not fit one node"
                }
            );
        }
    }

    fn failures_text(&self, o: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(o, "\nLOSING ONE HOST (the worst of each role)");
        for f in &self.failures {
            let _ = writeln!(
                o,
                "  {:<12} {:<10} {:<9} N+1: {}  {}",
                f.host,
                f.role.key(),
                f.verdict,
                if f.n_plus_one { "yes" } else { "no " },
                f.why
            );
        }
    }
}

/// Looks a value up in a JSON tree by a report path: `hosts[0].items[2].gib`,
/// `postgres.parameters.shared_buffers`.
pub fn lookup<'a>(value: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let mut v = value;
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            v = v.get(key)?;
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let n: usize = idx.strip_suffix(']')?.parse().ok()?;
            v = v.get(n)?;
        }
    }
    Some(v)
}

/// How a figure is shown on the page and in text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Gib,
    Count,
    Percent,
    Plain,
}

/// Formats a report value for people: `133.07 GiB`, `1,000`, `83 %`.
pub fn display(value: &serde_json::Value, unit: Unit) -> String {
    use serde_json::Value as J;
    match (value, unit) {
        (J::Number(n), Unit::Gib) => {
            let x = n.as_f64().unwrap_or(0.0);
            let sign = if x < 0.0 { "−" } else { "" };
            format!("{sign}{} GiB", two_decimals(x.abs()))
        }
        (J::Number(n), Unit::Count) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => group(u),
            (None, Some(i)) => format!("−{}", group(i.unsigned_abs())),
            _ => n.to_string(),
        },
        (J::Number(n), Unit::Percent) => format!("{n} %"),
        (J::String(s), _) => s.clone(),
        (J::Bool(true), _) => "yes".to_string(),
        (J::Bool(false), _) => "no".to_string(),
        (J::Null, _) => "—".to_string(),
        (other, _) => other.to_string(),
    }
}

/// A plain number as people write it (`format::number`), or the value's display when it
/// is not a number.
pub fn number_text(value: &serde_json::Value) -> String {
    match value.as_f64() {
        Some(x) => crate::format::number(x),
        None => display(value, Unit::Plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_units() {
        use serde_json::json;
        assert_eq!(display(&json!(133.07), Unit::Gib), "133.07 GiB");
        assert_eq!(display(&json!(130.0), Unit::Gib), "130 GiB");
        assert_eq!(display(&json!(6.5), Unit::Gib), "6.5 GiB");
        assert_eq!(display(&json!(-2.5), Unit::Gib), "−2.5 GiB");
        assert_eq!(display(&json!(1000), Unit::Count), "1,000");
        assert_eq!(display(&json!(-15), Unit::Count), "−15");
        assert_eq!(display(&json!(83), Unit::Percent), "83 %");
        assert_eq!(display(&json!("16GB"), Unit::Plain), "16GB");
        assert_eq!(display(&serde_json::Value::Null, Unit::Count), "—");
        assert_eq!(display(&json!(true), Unit::Plain), "yes");
        assert_eq!(display(&json!(false), Unit::Plain), "no");
        assert_eq!(number_text(&json!(64.0)), "64");
        assert_eq!(number_text(&json!(65535)), "65,535");
        assert_eq!(number_text(&json!(-3.0)), "−3");
        assert_eq!(number_text(&json!(0.25)), "0.25");
        assert_eq!(number_text(&json!("16GB")), "16GB");
        assert_eq!(two_decimals(12.0), "12");
        assert_eq!(two_decimals(97.889), "97.89");
    }

    #[test]
    fn json_has_the_promised_paths() {
        let v = Report::new(&Plan::default()).to_json_value();
        for (path, want) in [
            ("synapse.process-count", serde_json::json!(20)),
            ("synapse.ram-per-process-gib", serde_json::json!(2.16)),
            ("synapse.ram-total-gib", serde_json::json!(11.2)),
            ("synapse.seed-rule-total-gib", serde_json::json!(130.0)),
            ("synapse.processes[1].type", serde_json::json!("sync")),
            ("synapse.processes[1].each-gib", serde_json::json!(2.16)),
            ("hosts[0].role", serde_json::json!("synapse")),
            ("hosts[1].ram-gib", serde_json::json!(64)),
            ("connections.synapse-pool-total", serde_json::json!(200)),
            (
                "connections.pgbouncer-max-client-conn",
                serde_json::json!(1000),
            ),
            (
                "connections.pgbouncer-server-connections",
                serde_json::json!(60),
            ),
            (
                "connections.postgres-max-connections",
                serde_json::json!(500),
            ),
            ("connections.postgres-available", serde_json::json!(485)),
            (
                "postgres.parameters.shared_buffers",
                serde_json::json!("16GB"),
            ),
            (
                "postgres.parameters.effective_cache_size",
                serde_json::json!("48GB"),
            ),
            ("findings[0].severity", serde_json::json!("warning")),
        ] {
            assert_eq!(lookup(&v, path), Some(&want), "{path}");
        }
        for key in ["role", "count", "ram-gib", "ram-needed-gib", "items"] {
            assert!(lookup(&v, &format!("hosts[3].{key}")).is_some(), "{key}");
        }
        for key in ["severity", "code", "paths", "message"] {
            assert!(lookup(&v, &format!("findings[0].{key}")).is_some(), "{key}");
        }
        assert_eq!(lookup(&v, "hosts[99].role"), None);
        assert_eq!(lookup(&v, "nope"), None);
    }
}
