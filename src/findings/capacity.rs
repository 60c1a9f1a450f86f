//! Findings on object storage, calls and node failures.

use super::{Out, n};
use crate::Severity;
use crate::assumptions as a;
use crate::plan::{Plan, Role};
use crate::sizing::calls::{Calls, Livekit, Turn};
use crate::sizing::failures::Failure;
use crate::sizing::objectstore::{Mode, ObjectStorage};

pub(crate) fn check(
    plan: &Plan,
    object_storage: &ObjectStorage,
    calls: &Calls,
    failures: &[Failure],
    out: &mut Out,
) {
    objects(plan, object_storage, out);
    turn(plan, &calls.turn, out);
    livekit(plan, &calls.livekit, out);
    losses(plan, calls, failures, out);
}

fn objects(plan: &Plan, s: &ObjectStorage, out: &mut Out) {
    if s.refused && s.set_size > 0 {
        out.push(
            Severity::Error,
            "minio-parity-invalid",
            &["minio.parity"],
            format!(
                "minio.parity is {}, but the largest parity MinIO accepts for an erasure set of {} drive(s) is {}.",
                plan.minio.parity, s.set_size, s.max_parity
            ),
            format!(
                "MinIO checks MINIO_STORAGE_CLASS_STANDARD against the set: parity at most half of it (storageclass.ValidateParity; MinIO docs, Erasure Coding), and refuses to start otherwise. {}",
                s.problem.clone().unwrap_or_default()
            ),
            if s.max_parity == 0 {
                "Set minio.parity to 0 (a single drive has no erasure coding), or add drives or nodes.".to_string()
            } else {
                format!(
                    "Set minio.parity to at most {} (0 = MinIO's default EC:{}).",
                    s.max_parity, s.default_parity
                )
            },
        );
    } else if s.refused {
        out.push(
            Severity::Error,
            "minio-layout-refused",
            &["hosts.minio.count", "minio.drives-per-node"],
            format!(
                "MinIO refuses {} drives over {} nodes: no erasure set of 2–16 drives fits.",
                s.total_drives, s.nodes
            ),
            format!(
                "{} MinIO's deployment guide uses node and drive counts with a common divisor in that range.",
                s.problem.clone().unwrap_or_default()
            ),
            "Use a node count of 4, 6, 8, 12 or 16 (or a multiple of a set size), or change minio.drives-per-node so the drive count divides into sets of 2–16.",
        );
    }
    if s.refused {
        return;
    }
    match s.layout {
        Mode::Distributed if s.node_failures_tolerated_for_writes == 0 => out.push(
            Severity::Warning,
            "minio-node-loss-stops-writes",
            &["hosts.minio.count", "minio.drives-per-node", "minio.parity"],
            format!(
                "Losing one MinIO node stops uploads: each erasure set has {} of its {} drives on a node and accepts writes with {} missing.",
                s.drives_per_set_per_node, s.set_size, s.drive_failures_tolerated_for_writes
            ),
            format!(
                "A write needs {} drives of the set (K, or K + 1 when parity is half the set: cmd/erasure.go defaultWQuorum); {} node(s) may fail for reads.",
                s.write_quorum, s.node_failures_tolerated
            ),
            "Use 4 or more MinIO nodes so a node holds a quarter of each set or less.",
        ),
        Mode::SingleNode | Mode::SingleDrive => out.push(
            Severity::Warning,
            "minio-single-node",
            &["hosts.minio.count"],
            format!(
                "One MinIO node ({} drive(s)): losing the host stops media until it is back{}.",
                s.drives_per_node,
                if s.layout == Mode::SingleDrive {
                    ", and a failed drive loses media (no erasure coding)"
                } else {
                    ""
                }
            ),
            "Erasure coding on one node protects against drive failures, not against the host (MinIO docs, Deployment topologies: single-node multi-drive).",
            "Use 4 or more MinIO nodes for a distributed pool that survives the loss of one.",
        ),
        _ => {}
    }
}

fn turn(plan: &Plan, t: &Turn, out: &mut Out) {
    let count = plan.host(Role::Coturn).count;
    if count == 0 && t.relayed_calls == 0 {
        out.push(
            Severity::Info,
            "calls-turn-off",
            &["hosts.coturn.count"],
            "No TURN server: 1:1 calls between clients behind NAT will fail.".to_string(),
            "Clients behind symmetric NAT or strict firewalls need a relay (Synapse docs, turn-howto.md).",
            "Plan at least one coturn host if users call each other.",
        );
        return;
    }
    if count == 0 {
        out.push(
            Severity::Warning,
            "calls-turn-needed",
            &["hosts.coturn.count", "calls.relayed-share"],
            format!(
                "The plan relays {} of its {} concurrent 1:1 calls ({} × {}), but has no coturn host.",
                n(t.relayed_calls),
                n(plan.concurrent_1to1_calls()),
                plan.concurrent_1to1_calls(),
                plan.calls.relayed_share
            ),
            "A call whose parties cannot reach each other directly has no path without a TURN relay: it fails to connect (Synapse docs, turn-howto.md).",
            "Set hosts.coturn.count to 2 (one to spare), or calls.relayed-share to 0 if every client reaches every other directly.",
        );
        return;
    }
    let per_node = t.allocations_per_node;
    if per_node > t.relay_ports_per_node {
        out.push(
            Severity::Error,
            "turn-port-range-short",
            &["coturn.min-port", "coturn.max-port", "hosts.coturn.count"],
            format!(
                "Each coturn node needs {} relay allocations at the peak, but coturn.min-port..max-port gives {} ports.",
                n(per_node),
                n(t.relay_ports_per_node)
            ),
            "One allocation holds one relay port on the node's relay address (RFC 8656; coturn README.turnserver, --min-port/--max-port); with the range used up coturn answers 508 Insufficient Capacity.",
            if per_node <= MAX_RELAY_PORTS {
                format!(
                    "Widen the range to at least {} ports (e.g. coturn.min-port 49152, max-port 65535 gives 16,384){}.",
                    n(per_node),
                    more_hosts("coturn", turn_hosts_needed(plan))
                )
            } else {
                format!(
                    "No relay range holds that many on one node (ports 1024–65535 are {}): {}.",
                    n(MAX_RELAY_PORTS),
                    match turn_hosts_needed(plan) {
                        Some(h) => format!("use {h} coturn hosts (hosts.coturn.count)"),
                        None => "add coturn hosts".to_string(),
                    }
                )
            },
        );
    }
    if per_node > t.sessions_by_file_descriptors {
        out.push(
            Severity::Error,
            "turn-file-descriptors-short",
            &["hosts.coturn.count"],
            format!(
                "Each coturn node needs {} sessions at the peak; its open-file limit {} allows about {}.",
                n(per_node),
                n(t.nofile),
                n(t.sessions_by_file_descriptors)
            ),
            a::COTURN_FDS_PER_SESSION.source,
            format!(
                "Raise LimitNOFILE for coturn.service (each session takes about two descriptors){}.",
                more_hosts("coturn", turn_hosts_needed(plan))
            ),
        );
    }
    if t.relay_mbps_each_way_per_node > t.nic_mbps {
        out.push(
            Severity::Error,
            "turn-bandwidth-over",
            &["hosts.coturn.count", "calls.turn-kbps", "assumptions.turn-nic-mbps"],
            format!(
                "Each coturn node relays {} Mbit/s each way at the peak, more than its {} Mbit/s.",
                t.relay_mbps_each_way_per_node, t.nic_mbps
            ),
            format!(
                "coturn relays each stream in and out: {} allocations × 2 × {} kbit/s per node (coturn issue #328: ~2 Mbit/s per relayed video stream). Past the interface's bandwidth packets drop and every relayed call degrades.",
                n(per_node),
                plan.calls.turn_kbps
            ),
            format!(
                "Use hosts with faster interfaces (assumptions.turn-nic-mbps), or a lower calls.turn-kbps{}.",
                more_hosts("coturn", turn_hosts_needed(plan))
            ),
        );
    }
}

/// The fewest coturn hosts that carry the plan's peak (within the schema's 64).
fn turn_hosts_needed(plan: &Plan) -> Option<u64> {
    (1..=MAX_CALL_HOSTS).find(|&n| turn_fits(plan, n))
}

/// The fewest LiveKit hosts that carry the plan's rooms (within the schema's 64).
fn livekit_hosts_needed(plan: &Plan) -> Option<u64> {
    (1..=MAX_CALL_HOSTS).find(|&n| livekit_fits(plan, n))
}

/// ", or use N <what> hosts" when some host count carries the peak.
fn more_hosts(what: &str, needed: Option<u64>) -> String {
    match needed {
        Some(n) => format!(
            ", or use {n} {what} hosts (hosts.{}.count)",
            what.to_lowercase()
        ),
        None => String::new(),
    }
}

fn livekit(plan: &Plan, l: &Livekit, out: &mut Out) {
    let count = plan.host(Role::Livekit).count;
    let (start, end) = (plan.livekit.port_range_start, plan.livekit.port_range_end);
    if count == 0 && l.rooms == 0 {
        out.push(
            Severity::Info,
            "calls-livekit-off",
            &["hosts.livekit.count"],
            "No LiveKit: Element Call group calls are off.".to_string(),
            "MatrixRTC group calls need an SFU (the playbook's matrix_rtc_enabled + LiveKit).",
            "Plan LiveKit hosts if users need group calls.",
        );
        return;
    }
    if count == 0 {
        out.push(
            Severity::Warning,
            "calls-livekit-needed",
            &["hosts.livekit.count", "calls.group-rooms"],
            format!(
                "The plan has {} group calls at the peak, but no LiveKit host.",
                n(l.rooms)
            ),
            "Element Call's group calls run through LiveKit (MatrixRTC); without an SFU they cannot start.",
            "Set hosts.livekit.count to 2, or calls.group-rooms to 0.",
        );
        return;
    }
    if !l.largest_room_fits {
        out.push(
            Severity::Error,
            "livekit-room-too-large",
            &["calls.participants-per-room", "livekit.port-range-end", "assumptions.livekit-nic-mbps"],
            format!(
                "A group call of {} needs {} UDP ports and {} Mbit/s on one node; a node has {} ports ({start}–{end}) and {} Mbit/s.",
                n(l.participants_per_room),
                n(l.largest_room_ports),
                l.largest_room_mbps,
                n(l.port_range),
                l.nic_mbps
            ),
            "A LiveKit room must fit within a single node (LiveKit docs, Self-hosting › Benchmarks and Distributed multi-region): adding nodes does not help one room.",
            format!(
                "Widen the range to at least {} ports, use faster interfaces, or plan smaller calls (the forwarded bitrate grows with participants × (participants − 1)).",
                n(l.largest_room_ports)
            ),
        );
    }
    if !l.largest_room_fits {
        // One room alone is over a node: per-node sums say nothing more.
    } else if l.ports_needed_per_node > l.port_range {
        out.push(
            Severity::Error,
            "livekit-ports-short",
            &["livekit.port-range-start", "livekit.port-range-end", "hosts.livekit.count"],
            format!(
                "Each LiveKit node needs {} UDP ports at the peak ({} participants × 2), but {start}–{end} gives {}: enough for {} participants.",
                n(l.ports_needed_per_node),
                n(l.participants_per_node),
                n(l.port_range),
                n(l.participants_supported_per_node)
            ),
            a::LIVEKIT_PORTS_PER_PARTICIPANT.source,
            format!(
                "Widen the range to at least {} ports (LiveKit's default is 50000–60000){}.",
                n(l.ports_needed_per_node),
                more_hosts("LiveKit", livekit_hosts_needed(plan))
            ),
        );
    } else if l.participants_supported_per_node < l.participants_supported_by_bandwidth_per_node {
        out.push(
            Severity::Warning,
            "livekit-port-range-small",
            &["livekit.port-range-start", "livekit.port-range-end"],
            format!(
                "LiveKit's UDP range {start}–{end} ({} ports) supports {} participants per node, fewer than its network carries ({} in calls of {}); the plan puts {} on a node.",
                n(l.port_range),
                n(l.participants_supported_per_node),
                n(l.participants_supported_by_bandwidth_per_node),
                n(l.participants_per_room),
                n(l.participants_per_node)
            ),
            format!(
                "{}. The range, not the hardware, caps each node: past it a new participant gets no UDP port; it may still connect over ICE/TCP on {} (slower, more CPU) or not at all.",
                a::LIVEKIT_PORTS_PER_PARTICIPANT.source,
                crate::deploy::ports::LIVEKIT_RTC_TCP
            ),
            format!(
                "Widen the range to at least {} ports (2 per participant the network carries), e.g. LiveKit's default 50000–60000, and open it in the firewall.",
                n(l.participants_supported_by_bandwidth_per_node.saturating_mul(2))
            ),
        );
    }
    let busiest = l.egress_mbps_per_node.max(l.ingress_mbps_per_node);
    if busiest > l.nic_mbps && l.largest_room_fits {
        out.push(
            Severity::Error,
            "livekit-bandwidth-over",
            &["hosts.livekit.count", "calls.group-kbps", "assumptions.livekit-nic-mbps"],
            format!(
                "Each LiveKit node forwards {} Mbit/s (and receives {} Mbit/s) at the peak, more than its {} Mbit/s.",
                l.egress_mbps_per_node, l.ingress_mbps_per_node, l.nic_mbps
            ),
            format!(
                "{} rooms per node × (video {} + audio) kbit/s × {} × {} subscribers (LiveKit docs, Benchmarks: work grows with tracks published × subscribers).",
                l.rooms_per_node,
                plan.calls.group_kbps,
                l.participants_per_room,
                l.participants_per_room.saturating_sub(1)
            ),
            format!(
                "Use faster interfaces (assumptions.livekit-nic-mbps) or a lower calls.group-kbps{}.",
                more_hosts("LiveKit", livekit_hosts_needed(plan))
            ),
        );
    }
    if l.rooms > 0 {
        out.push(
            Severity::Info,
            "livekit-redis-single",
            &["hosts.livekit.count"],
            "LiveKit's Redis runs once, on livekit1: while it is down nobody can join a group call.".to_string(),
            "In a multi-node setup Redis is LiveKit's shared store and message bus (LiveKit docs, Self-hosting › Distributed multi-region); the bundle runs one Redis without replica or persistence, since it holds only live state.",
            "Nothing to change in the plan. Restarting Redis (or livekit1) restores service; a Redis with Sentinel (redis.sentinel_* in livekit.yaml) removes the single point, outside this bundle.",
        );
    }
}

/// The widest relay range the schema allows (coturn.min-port ≥ 1024, max-port ≤ 65535).
const MAX_RELAY_PORTS: u64 = 65535 - 1024 + 1;

/// The schema's bound on coturn and LiveKit hosts (Role::count_bounds).
const MAX_CALL_HOSTS: u64 = 64;

/// `nodes` coturn nodes carry the plan's peak: allocations and bandwidth per node.
fn turn_fits(plan: &Plan, nodes: u64) -> bool {
    let t = crate::sizing::calls::turn(plan, nodes);
    t.nodes > 0
        && t.allocations_per_node <= t.max_allocations_per_node
        && t.relay_mbps_each_way_per_node <= t.nic_mbps
}

/// `nodes` LiveKit nodes carry the plan's rooms: ports and bandwidth per node.
fn livekit_fits(plan: &Plan, nodes: u64) -> bool {
    let l = crate::sizing::calls::livekit(plan, nodes);
    l.nodes > 0
        && l.ports_needed_per_node <= l.port_range
        && l.egress_mbps_per_node.max(l.ingress_mbps_per_node) <= l.nic_mbps
}

fn losses(plan: &Plan, calls: &Calls, failures: &[Failure], out: &mut Out) {
    let t = &calls.turn;
    let l = &calls.livekit;
    let coturn = plan.host(Role::Coturn).count;
    if coturn > 0 && t.allocations > 0 {
        let after = crate::sizing::calls::turn(plan, coturn - 1);
        if !turn_fits(plan, coturn - 1) {
            let message = if after.nodes == 0 {
                format!(
                    "One coturn host: losing it leaves the plan's {} relayed calls without a relay.",
                    n(t.relayed_calls)
                )
            } else {
                format!(
                    "Losing one coturn host leaves {} node(s) to carry {} allocations each ({} Mbit/s each way), more than they hold ({} allocations, {} Mbit/s).",
                    after.nodes,
                    n(after.allocations_per_node),
                    after.relay_mbps_each_way_per_node,
                    n(after.max_allocations_per_node),
                    after.nic_mbps
                )
            };
            out.push(
                Severity::Warning,
                "turn-not-n-plus-one",
                &["hosts.coturn.count"],
                message,
                "N+1: the peak must fit on the nodes left after one fails; relayed calls on the lost node drop and reconnect through the others.",
                match (coturn + 1..=MAX_CALL_HOSTS).find(|&n| turn_fits(plan, n - 1)) {
                    Some(n) => format!("Set hosts.coturn.count to {n}."),
                    None => format!(
                        "Even {MAX_CALL_HOSTS} coturn hosts would not carry the peak after one is lost: widen coturn.min-port..max-port, or use faster interfaces (assumptions.turn-nic-mbps)."
                    ),
                },
            );
        }
    }
    let livekit = plan.host(Role::Livekit).count;
    if livekit > 0 && l.rooms > 0 {
        let after = crate::sizing::calls::livekit(plan, livekit - 1);
        if !livekit_fits(plan, livekit - 1) && l.largest_room_fits {
            let message = if after.nodes == 0 {
                format!(
                    "One LiveKit host: losing it stops the plan's {} group calls.",
                    n(l.rooms)
                )
            } else {
                format!(
                    "Losing one LiveKit host leaves {} node(s) to carry {} rooms each: {} of {} UDP ports, {} Mbit/s against {} Mbit/s.",
                    after.nodes,
                    n(after.rooms_per_node),
                    n(after.ports_needed_per_node),
                    n(after.port_range),
                    after.egress_mbps_per_node.max(after.ingress_mbps_per_node),
                    after.nic_mbps
                )
            };
            out.push(
                Severity::Warning,
                "livekit-not-n-plus-one",
                &["hosts.livekit.count", "livekit.port-range-end"],
                message,
                "N+1: the rooms of a lost node are recreated on the others when their participants reconnect, so the peak must fit on the nodes left.",
                match (livekit + 1..=MAX_CALL_HOSTS).find(|&n| livekit_fits(plan, n - 1)) {
                    Some(n) => format!(
                        "Set hosts.livekit.count to {n}, or widen livekit.port-range-start..end."
                    ),
                    None => format!(
                        "Even {MAX_CALL_HOSTS} LiveKit hosts would not carry the peak after one is lost: widen livekit.port-range-start..end, or use faster interfaces (assumptions.livekit-nic-mbps)."
                    ),
                },
            );
        }
    }
    let _ = failures;
}

#[cfg(test)]
mod tests {
    use crate::plan::Plan;
    use crate::report::Report;

    fn codes(changes: &[(&str, &str)]) -> Vec<(String, &'static str)> {
        let p = Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"));
        Report::new(&p)
            .findings
            .iter()
            .map(|f| (f.severity.to_string(), f.code))
            .collect()
    }

    /// (changes, code, severity, fires)
    fn check(changes: &[(&str, &str)], code: &str, severity: &str, fires: bool) {
        let got = codes(changes);
        assert_eq!(
            got.iter().any(|(s, c)| *c == code && s == severity),
            fires,
            "{code} ({severity}) for {changes:?}: {got:?}"
        );
    }

    #[test]
    fn each_rule_fires_and_only_then() {
        for (changes, code, severity, fires) in [
            (&[][..], "minio-parity-invalid", "error", false),
            (
                &[("minio.parity", "8")][..],
                "minio-parity-invalid",
                "error",
                false,
            ),
            // 4 nodes × 1 drive: a set of 4 takes at most EC:2.
            (
                &[
                    ("hosts.minio.count", "4"),
                    ("minio.drives-per-node", "1"),
                    ("minio.parity", "3"),
                ][..],
                "minio-parity-invalid",
                "error",
                true,
            ),
            (
                &[
                    ("hosts.minio.count", "1"),
                    ("minio.drives-per-node", "1"),
                    ("minio.parity", "1"),
                ][..],
                "minio-parity-invalid",
                "error",
                true,
            ),
            (
                &[("hosts.minio.count", "17"), ("minio.drives-per-node", "1")][..],
                "minio-layout-refused",
                "error",
                true,
            ),
            (
                &[("hosts.minio.count", "2"), ("minio.drives-per-node", "2")][..],
                "minio-node-loss-stops-writes",
                "warning",
                true,
            ),
            (&[][..], "minio-node-loss-stops-writes", "warning", false),
            (
                &[("hosts.minio.count", "1")][..],
                "minio-single-node",
                "warning",
                true,
            ),
            // No coturn while the plan relays calls: the warning replaces the info.
            (
                &[("hosts.coturn.count", "0")][..],
                "calls-turn-off",
                "info",
                false,
            ),
            (
                &[("hosts.coturn.count", "0"), ("calls.relayed-share", "0")][..],
                "calls-turn-off",
                "info",
                true,
            ),
            (
                &[("hosts.coturn.count", "0")][..],
                "calls-turn-needed",
                "warning",
                true,
            ),
            (
                &[("hosts.coturn.count", "0"), ("calls.relayed-share", "0")][..],
                "calls-turn-needed",
                "warning",
                false,
            ),
            (
                &[("hosts.livekit.count", "0")][..],
                "calls-livekit-off",
                "info",
                false,
            ),
            (
                &[("hosts.livekit.count", "0"), ("calls.group-rooms", "0")][..],
                "calls-livekit-off",
                "info",
                true,
            ),
            (
                &[("hosts.livekit.count", "0")][..],
                "calls-livekit-needed",
                "warning",
                true,
            ),
            // 2,000 relayed calls × 2 = 4,000 allocations on 2 nodes; 1,000 ports each.
            (
                &[
                    ("calls.concurrent-1to1", "2000"),
                    ("calls.relayed-share", "1"),
                    ("calls.turn-kbps", "40"),
                    ("coturn.min-port", "50000"),
                    ("coturn.max-port", "50999"),
                ][..],
                "turn-port-range-short",
                "error",
                true,
            ),
            (&[][..], "turn-port-range-short", "error", false),
            // 100,000 relayed calls: 100,000 allocations per node > 32,500 sessions.
            (
                &[
                    ("calls.concurrent-1to1", "100000"),
                    ("calls.relayed-share", "1"),
                    ("calls.turn-kbps", "1"),
                ][..],
                "turn-file-descriptors-short",
                "error",
                true,
            ),
            // 250 relayed calls × 2 / 2 nodes = 250 allocations × 2 × 2 Mbit/s = 1,000: fits.
            (
                &[
                    ("calls.concurrent-1to1", "250"),
                    ("calls.relayed-share", "1"),
                ][..],
                "turn-bandwidth-over",
                "error",
                false,
            ),
            (
                &[
                    ("calls.concurrent-1to1", "251"),
                    ("calls.relayed-share", "1"),
                ][..],
                "turn-bandwidth-over",
                "error",
                true,
            ),
            (&[][..], "livekit-port-range-small", "warning", true),
            (
                &[
                    ("livekit.port-range-start", "50000"),
                    ("livekit.port-range-end", "60000"),
                ][..],
                "livekit-port-range-small",
                "warning",
                false,
            ),
            // 20 rooms of 8 over 2 nodes: 80 participants, 160 ports > 101.
            (
                &[("calls.group-rooms", "20")][..],
                "livekit-ports-short",
                "error",
                true,
            ),
            (
                &[("calls.participants-per-room", "60")][..],
                "livekit-room-too-large",
                "error",
                true,
            ),
            (
                &[
                    ("calls.group-rooms", "40"),
                    ("livekit.port-range-start", "50000"),
                    ("livekit.port-range-end", "60000"),
                ][..],
                "livekit-bandwidth-over",
                "error",
                true,
            ),
            (&[][..], "livekit-redis-single", "info", true),
            (
                &[("hosts.coturn.count", "1")][..],
                "turn-not-n-plus-one",
                "warning",
                true,
            ),
            (&[][..], "turn-not-n-plus-one", "warning", false),
            (
                &[("hosts.livekit.count", "1")][..],
                "livekit-not-n-plus-one",
                "warning",
                true,
            ),
            // 10 rooms of 8: 40 participants per node (80 ports) fit; on one node 160 do not.
            (
                &[("calls.group-rooms", "10")][..],
                "livekit-not-n-plus-one",
                "warning",
                true,
            ),
            (&[][..], "livekit-not-n-plus-one", "warning", false),
        ] {
            check(changes, code, severity, fires);
        }
    }

    #[test]
    fn parity_message_names_the_largest_valid_value() {
        let mut p = Plan::default();
        for (k, v) in [
            ("hosts.minio.count", "4"),
            ("minio.drives-per-node", "1"),
            ("minio.parity", "3"),
        ] {
            p = p.with_text(k, v).unwrap();
        }
        let r = Report::new(&p);
        let f = r
            .findings
            .iter()
            .find(|f| f.code == "minio-parity-invalid")
            .unwrap();
        assert_eq!(f.paths[0], "minio.parity");
        assert_eq!(
            f.message,
            "minio.parity is 3, but the largest parity MinIO accepts for an erasure set of 4 drive(s) is 2."
        );
        assert_eq!(
            f.fix,
            "Set minio.parity to at most 2 (0 = MinIO's default EC:2)."
        );
    }
}
