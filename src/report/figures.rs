//! Every figure of the report, declared once: its JSON path, how it is shown, whether
//! more is better, and for lists the field that names an item across two reports.
//!
//! The comparison reads which way is better and how lists align from here, the page's
//! compare view its units, the explanations which figures are inputs shown back; a test (`tests/figures.rs`) checks that every leaf of the
//! named plans' reports is declared here, that every declared path is in one of them,
//! and that every path the page, the comparison and the explanations use is declared.
//! Paths are written as [`shape`] gives them: list positions `[*]`; a last segment `*`
//! stands for every key below (a map's keys, a finding's fields).

use super::Unit;

/// Whether a larger value of a figure is better, worse, or neither (a size, a count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
    Neutral,
}

/// One figure of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Figure {
    /// Its JSON path, positions as `[*]`.
    pub path: &'static str,
    /// How a number of it is shown (text and flags: `Plain`).
    pub unit: Unit,
    pub better: Direction,
    /// One of the plan's own inputs (or a text) shown back: nothing computed to explain.
    pub input: bool,
    /// Prose that changes with the figures it explains (a why, a formula, a source, a
    /// label): a comparison compares the figures, not it.
    pub prose: bool,
}

/// A computed figure.
const fn fig(path: &'static str, unit: Unit, better: Direction) -> Figure {
    Figure {
        path,
        unit,
        better,
        input: false,
        prose: false,
    }
}

/// An input of the plan (or a text) shown back as entered.
const fn input(path: &'static str, unit: Unit) -> Figure {
    Figure {
        path,
        unit,
        better: Direction::Neutral,
        input: true,
        prose: false,
    }
}

/// Prose about figures (see [`Figure::prose`]).
const fn prose(path: &'static str) -> Figure {
    Figure {
        path,
        unit: Unit::Plain,
        better: Direction::Neutral,
        input: true,
        prose: true,
    }
}

use Direction::{HigherIsBetter as H, LowerIsBetter as L, Neutral as N};
use Unit::{Count, Gib, Percent, Plain};

/// Every figure, in the report's order.
pub const FIGURES: &[Figure] = &[
    input("schema", Count),
    input("plan.name", Plain),
    input("plan.domain", Plain),
    input("plan.users-registered", Count),
    input("plan.users-peak-concurrent", Count),
    fig("synapse.process-count", Count, N),
    fig("synapse.worker-count", Count, N),
    fig("synapse.ram-per-process-gib", Gib, N),
    fig("synapse.ram-total-gib", Gib, N),
    input("synapse.ram-formula", Plain),
    input("synapse.processes[*].type", Plain),
    input("synapse.processes[*].label", Plain),
    fig("synapse.processes[*].count", Count, N),
    fig("synapse.processes[*].users-each", Count, N),
    fig("synapse.processes[*].working-set-gib", Gib, N),
    fig("synapse.processes[*].cache-gib", Gib, N),
    fig("synapse.processes[*].each-gib", Gib, N),
    fig("synapse.processes[*].base-gib", Gib, N),
    fig("synapse.processes[*].caches-gib", Gib, N),
    input("synapse.processes[*].caches-formula", Plain),
    fig("synapse.processes[*].gib", Gib, N),
    fig("synapse.processes[*].at-bound", Plain, L),
    input("synapse.processes[*].formula", Plain),
    fig("synapse.process-bound-gib", Gib, N),
    fig("synapse.ram-bound-total-gib", Gib, N),
    fig("synapse.seed-rule-per-process-gib", Gib, N),
    fig("synapse.seed-rule-total-gib", Gib, N),
    fig("synapse.cache-autotuning-max-gib", Gib, N),
    fig("synapse.cache-autotuning-target-gib", Gib, N),
    fig("synapse.cache-autotuning-min-ttl", Plain, N),
    input("synapse.workers[*].type", Plain),
    input("synapse.workers[*].count", Count),
    input("hosts[*].role", Plain),
    input("hosts[*].label", Plain),
    input("hosts[*].count", Count),
    input("hosts[*].ram-gib", Gib),
    input("hosts[*].vcpus", Count),
    fig("hosts[*].ram-needed-gib", Gib, N),
    fig("hosts[*].ram-free-gib", Gib, H),
    fig("hosts[*].ram-used-percent", Percent, L),
    input("hosts[*].items[*].name", Plain),
    input("hosts[*].items[*].category", Plain),
    fig("hosts[*].items[*].count", Count, N),
    fig("hosts[*].items[*].each-gib", Gib, N),
    fig("hosts[*].items[*].gib", Gib, N),
    input("hosts[*].items[*].formula", Plain),
    input("hosts[*].items[*].source", Plain),
    input("cpu.hosts[*].role", Plain),
    input("cpu.hosts[*].label", Plain),
    input("cpu.hosts[*].count", Count),
    input("cpu.hosts[*].vcpus", Count),
    fig("cpu.hosts[*].vcpus-needed", Count, N),
    fig("cpu.hosts[*].load-vcpus", Count, N),
    fig("cpu.hosts[*].vcpus-free", Count, H),
    fig("cpu.hosts[*].vcpus-used-percent", Percent, L),
    input("cpu.hosts[*].items[*].name", Plain),
    input("cpu.hosts[*].items[*].basis", Plain),
    fig("cpu.hosts[*].items[*].count", Count, N),
    fig("cpu.hosts[*].items[*].each-vcpus", Count, N),
    fig("cpu.hosts[*].items[*].vcpus", Count, N),
    input("cpu.hosts[*].items[*].formula", Plain),
    input("cpu.hosts[*].items[*].source", Plain),
    prose("cpu.ess.band"),
    fig("cpu.ess.synapse-vcpus", Count, N),
    fig("cpu.ess.postgres-vcpus", Count, N),
    fig("cpu.ess.planner-synapse-vcpus", Count, N),
    fig("cpu.ess.synapse-ratio", Count, N),
    fig("postgres.parameters.*", Plain, N),
    input("postgres.formulas.*", Plain),
    fig("connections.synapse-processes", Count, N),
    input("connections.cp-max", Count),
    fig("connections.synapse-pool-total", Count, N),
    input("connections.pgbouncer-pool-mode", Plain),
    input("connections.pgbouncer-max-client-conn", Count),
    fig("connections.pgbouncer-instances", Count, N),
    fig("connections.pgbouncer-pools", Count, N),
    fig("connections.pgbouncer-server-connections", Count, N),
    fig("connections.pgbouncer-file-descriptors", Count, N),
    input("connections.postgres-max-connections", Count),
    input("connections.postgres-reserved[*].name", Plain),
    fig("connections.postgres-reserved[*].count", Count, N),
    input("connections.postgres-reserved[*].source", Plain),
    fig("connections.postgres-reserved-total", Count, N),
    fig("connections.postgres-available", Count, H),
    fig("connections.haproxy-maxconn", Count, N),
    fig("connections.haproxy-file-descriptors", Count, N),
    fig("storage.months", Count, N),
    fig("storage.full-percent", Percent, N),
    fig("storage.months-until-full.*", Count, H),
    fig("storage.rates.local-events-per-day", Count, N),
    fig("storage.rates.stored-events-per-day", Count, N),
    fig("storage.rates.remote-rooms", Count, N),
    fig("storage.rates.received-events-per-day", Count, N),
    fig("storage.rates.db-join-gib", Gib, N),
    fig("storage.rates.db-pools-gib", Gib, N),
    fig("storage.rates.db-start-gib", Gib, N),
    fig("storage.rates.db-gib-per-day", Gib, N),
    fig("storage.rates.db-gib-per-month", Gib, N),
    fig("storage.rates.wal-gib-per-day", Gib, N),
    fig("storage.rates.local-media-gib-per-day", Gib, N),
    fig("storage.rates.remote-media-gib-per-day", Gib, N),
    fig("storage.rates.media-gib-per-month", Gib, N),
    fig("storage.rates.max-wal-size-gib", Gib, N),
    fig("storage.rates.prometheus-series", Count, N),
    fig("storage.rates.prometheus-gib-per-day", Gib, N),
    fig("storage.rates.full-backups-at-peak", Count, N),
    fig("storage.rates.differential-backups-kept", Count, N),
    fig("storage.rates.incremental-backups-kept", Count, N),
    fig("storage.rates.wal-days-kept", Count, N),
    fig("storage.disks[*].id", Plain, N),
    prose("storage.disks[*].label"),
    fig("storage.disks[*].hosts", Count, N),
    fig("storage.disks[*].capacity-path", Plain, N),
    fig("storage.disks[*].capacity-gib", Gib, N),
    fig("storage.disks[*].capacity-formula", Plain, N),
    fig("storage.disks[*].now-gib", Gib, N),
    fig("storage.disks[*].now-percent", Percent, N),
    fig("storage.disks[*].growth-gib-per-month", Gib, N),
    fig("storage.disks[*].end-gib", Gib, N),
    fig("storage.disks[*].end-percent", Percent, N),
    fig("storage.disks[*].needed-gib", Gib, N),
    fig("storage.disks[*].month-full", Count, N),
    fig("storage.disks[*].items[*].name", Plain, N),
    fig("storage.disks[*].items[*].now-gib", Gib, N),
    fig("storage.disks[*].items[*].end-gib", Gib, N),
    fig("storage.disks[*].items[*].growth-gib-per-month", Gib, N),
    prose("storage.disks[*].items[*].formula"),
    prose("storage.disks[*].items[*].source"),
    fig("storage.disks[*].series-gib[*]", Gib, N),
    fig("storage.disks[*].series-percent[*]", Percent, N),
    fig("object-storage.layout", Plain, N),
    fig("object-storage.nodes", Count, N),
    fig("object-storage.drives-per-node", Count, N),
    fig("object-storage.drive-tib", Count, N),
    fig("object-storage.total-drives", Count, N),
    fig("object-storage.raw-tib", Count, N),
    fig("object-storage.tib-per-node", Count, N),
    fig("object-storage.set-size", Count, N),
    fig("object-storage.sets", Count, N),
    fig("object-storage.default-parity", Count, N),
    fig("object-storage.requested-parity", Count, N),
    fig("object-storage.parity", Count, N),
    fig("object-storage.max-parity", Count, N),
    fig("object-storage.data-drives", Count, N),
    fig("object-storage.usable-tib", Count, H),
    fig("object-storage.read-quorum", Count, N),
    fig("object-storage.write-quorum", Count, N),
    fig("object-storage.drives-per-set-per-node", Count, N),
    fig("object-storage.drive-failures-tolerated", Count, H),
    fig(
        "object-storage.drive-failures-tolerated-for-writes",
        Count,
        H,
    ),
    fig("object-storage.node-failures-tolerated", Count, H),
    fig(
        "object-storage.node-failures-tolerated-for-writes",
        Count,
        H,
    ),
    fig("object-storage.ram-guidance-gib", Gib, N),
    fig("object-storage.parity-options[*].parity", Count, N),
    fig("object-storage.parity-options[*].data-drives", Count, N),
    fig("object-storage.parity-options[*].usable-tib", Count, H),
    fig("object-storage.parity-options[*].read-quorum", Count, N),
    fig("object-storage.parity-options[*].write-quorum", Count, N),
    fig(
        "object-storage.parity-options[*].drive-failures-tolerated",
        Count,
        H,
    ),
    fig(
        "object-storage.parity-options[*].drive-failures-tolerated-for-writes",
        Count,
        H,
    ),
    fig(
        "object-storage.parity-options[*].node-failures-tolerated",
        Count,
        H,
    ),
    fig(
        "object-storage.parity-options[*].node-failures-tolerated-for-writes",
        Count,
        H,
    ),
    fig("object-storage.parity-options[*].in-effect", Plain, N),
    fig("object-storage.refused", Plain, N),
    fig("object-storage.problem", Plain, N),
    fig("calls.turn.nodes", Count, N),
    fig("calls.turn.relayed-calls", Count, N),
    fig("calls.turn.allocations-per-call", Count, N),
    fig("calls.turn.allocations", Count, N),
    fig("calls.turn.allocations-per-node", Count, N),
    fig("calls.turn.relay-ports-per-node", Count, N),
    fig("calls.turn.nofile", Count, N),
    fig("calls.turn.sessions-by-file-descriptors", Count, N),
    fig("calls.turn.total-quota", Count, N),
    fig("calls.turn.user-quota", Count, N),
    fig("calls.turn.max-allocations-per-node", Count, H),
    fig("calls.turn.limited-by", Plain, N),
    fig("calls.turn.relay-mbps-each-way-per-node", Count, N),
    fig("calls.turn.relay-mbps-per-node", Count, N),
    fig("calls.turn.nic-mbps", Count, N),
    fig("calls.turn.max-allocations-by-bandwidth-per-node", Count, N),
    fig("calls.turn.relayed-calls-supported", Count, N),
    fig("calls.livekit.nodes", Count, N),
    fig("calls.livekit.rooms", Count, N),
    fig("calls.livekit.participants-per-room", Count, N),
    fig("calls.livekit.participants", Count, N),
    fig("calls.livekit.simulcast-factor", Count, N),
    fig("calls.livekit.publish-kbps", Count, N),
    fig("calls.livekit.subscribe-kbps", Count, N),
    fig("calls.livekit.room-ingress-mbps", Count, N),
    fig("calls.livekit.room-egress-mbps", Count, N),
    fig("calls.livekit.rooms-per-node", Count, N),
    fig("calls.livekit.participants-per-node", Count, N),
    fig("calls.livekit.ingress-mbps-per-node", Count, N),
    fig("calls.livekit.egress-mbps-per-node", Count, N),
    fig("calls.livekit.nic-mbps", Count, N),
    fig("calls.livekit.port-range", Count, N),
    fig("calls.livekit.ports-needed-per-node", Count, N),
    fig("calls.livekit.participants-supported-per-node", Count, N),
    fig(
        "calls.livekit.participants-supported-by-bandwidth-per-node",
        Count,
        N,
    ),
    fig("calls.livekit.largest-room-ports", Count, N),
    fig("calls.livekit.largest-room-mbps", Count, N),
    fig("calls.livekit.largest-room-fits", Plain, N),
    fig("failures[*].host", Plain, N),
    fig("failures[*].role", Plain, N),
    fig("failures[*].survives", Plain, H),
    prose("failures[*].why"),
    fig("failures[*].verdict", Plain, N),
    fig("failures[*].n-plus-one", Plain, N),
    fig("failures[*].details[*]", Plain, N),
    fig("failures[*].capacity[*].name", Plain, N),
    fig("failures[*].capacity[*].unit", Plain, N),
    fig("failures[*].capacity[*].need", Count, N),
    fig("failures[*].capacity[*].before", Count, N),
    fig("failures[*].capacity[*].after", Count, N),
    prose("failures[*].capacity[*].formula"),
    fig("failures[*].rule", Plain, N),
    prose("failures[*].times[*].event"),
    fig("failures[*].times[*].best-s", Count, L),
    fig("failures[*].times[*].average-s", Count, L),
    fig("failures[*].times[*].worst-s", Count, L),
    prose("failures[*].times[*].arithmetic"),
    fig("failures[*].times[*].measured.low-s", Count, N),
    fig("failures[*].times[*].measured.high-s", Count, N),
    prose("failures[*].times[*].measured.cite"),
    prose("failures[*].times[*].sources"),
    input("findings[*].*", Plain),
    fig("summary.errors", Count, L),
    fig("summary.warnings", Count, L),
    fig("summary.infos", Count, N),
    input("assumptions[*].*", Plain),
];

/// The lists of the report and the field that names an item in both reports of a
/// comparison (None: items are compared by position). A named item is compared with
/// the item of the same name, so a role both plans have meets itself even when other
/// roles come or go.
pub const LISTS: &[(&str, Option<&str>)] = &[
    ("synapse.workers", Some("type")),
    ("synapse.processes", Some("type")),
    ("hosts", Some("role")),
    ("hosts[*].items", Some("name")),
    ("cpu.hosts", Some("role")),
    ("cpu.hosts[*].items", Some("name")),
    ("connections.postgres-reserved", Some("name")),
    ("storage.disks", Some("id")),
    ("storage.disks[*].items", Some("name")),
    ("storage.disks[*].series-gib", None),
    ("storage.disks[*].series-percent", None),
    ("object-storage.parity-options", None),
    ("failures", Some("role")),
    ("failures[*].details", None),
    ("failures[*].capacity", Some("name")),
    ("failures[*].times", Some("event")),
    ("findings", None),
    ("findings[*].paths", None),
    ("assumptions", Some("id")),
];

/// `hosts[3].items[12].gib` → `hosts[*].items[*].gib`; a position or a name between
/// brackets (`failures[patroni]`) alike.
pub fn shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[*]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether the declared `pattern` covers a path of this `shape`.
fn covers(pattern: &str, shape: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) if !prefix.ends_with('[') => shape.starts_with(prefix),
        _ => pattern == shape,
    }
}

/// The figure at `path` (positions or item names in brackets); None for a path the
/// report does not have.
pub fn find(path: &str) -> Option<&'static Figure> {
    let shape = shape(path);
    FIGURES.iter().find(|f| covers(f.path, &shape))
}

/// Which way is better for the figure at `path`; Neutral for an unknown path.
pub fn direction(path: &str) -> Direction {
    find(path).map_or(Direction::Neutral, |f| f.better)
}

/// How a number at `path` is shown; Count for an unknown path.
pub fn unit(path: &str) -> Unit {
    find(path).map_or(Unit::Count, |f| f.unit)
}

/// The list at `path` (positions or names in brackets): whether it is declared, and
/// the field naming its items.
pub fn list(path: &str) -> Option<Option<&'static str>> {
    let shape = shape(path);
    LISTS.iter().find(|(p, _)| *p == shape).map(|(_, id)| *id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_find_their_figures() {
        assert_eq!(shape("hosts[3].items[12].gib"), "hosts[*].items[*].gib");
        assert_eq!(
            find("failures[patroni].survives").map(|f| f.better),
            Some(H)
        );
        assert_eq!(unit("hosts[0].ram-free-gib"), Gib);
        assert_eq!(unit("hosts[0].ram-used-percent"), Percent);
        assert_eq!(
            find("postgres.parameters.work_mem").map(|f| f.unit),
            Some(Plain)
        );
        assert_eq!(
            find("storage.months-until-full.minio").map(|f| f.better),
            Some(H)
        );
        assert_eq!(find("findings[2].paths[0]").map(|f| f.unit), Some(Plain));
        assert_eq!(find("hosts[0].nope"), None);
        assert_eq!(find("hosts[*"), None);
        assert_eq!(list("failures"), Some(Some("role")));
        assert_eq!(list("failures[minio].details"), Some(None));
        assert_eq!(list("nope"), None);
    }

    #[test]
    fn each_path_is_declared_once() {
        for (i, f) in FIGURES.iter().enumerate() {
            assert!(
                FIGURES[..i].iter().all(|g| g.path != f.path),
                "{} twice",
                f.path
            );
        }
    }
}
