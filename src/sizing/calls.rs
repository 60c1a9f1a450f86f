//! Call capacity: TURN relays (coturn) for 1:1 calls, LiveKit SFUs for group calls.
//!
//! TURN (coturn): relayed calls = concurrent 1:1 calls × relayed share; each holds
//! `turn-allocations-per-call` allocations; one allocation is one relay port of
//! min-port..max-port on the node's relay IP (RFC 8656 §2, coturn README.turnserver);
//! coturn serves about (open-file limit / 2) sessions (mainrelay.c print_features). The
//! bundle's `total-quota` is the least of the ports and the sessions the descriptors
//! allow, so coturn refuses an allocation it could not serve with a clean 486
//! (Allocation Quota Reached, RFC 8656 §7.2) before its port pool (508 Insufficient
//! Capacity) or its descriptors run out, and the client's ICE uses another TURN host
//! from Synapse's list. Bandwidth is not a quota: an audio call needs 50 times less
//! than a video one, and the quota counts allocations, not bits; it is a finding.
//!
//! LiveKit: every participant publishes audio and one video track sent as simulcast
//! layers; the SFU forwards one layer of each published track to every other
//! participant, so a room of P forwards (video + audio) × P × (P − 1) (DESIGN.md §3;
//! LiveKit docs, Self-hosting › Benchmarks: work grows with tracks published and
//! subscribers). A room lives on one node (same page: "each room must fit within a
//! single node"); rooms spread evenly over the nodes (the bundle's node_selector picks
//! the node with the fewest rooms). Each participant holds two UDP ports of the node's
//! rtc.port_range (LiveKit docs, Ports and firewall).

use super::objectstore::round2;
use crate::assumptions as a;
use crate::plan::{Plan, Role};
use serde::Serialize;

/// JSON section `calls`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Calls {
    pub turn: Turn,
    pub livekit: Livekit,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Turn {
    pub nodes: u64,
    /// 1:1 calls through TURN at the peak: ⌈concurrent × relayed share⌉.
    pub relayed_calls: u64,
    pub allocations_per_call: f64,
    /// Allocations at the peak, all nodes.
    pub allocations: u64,
    /// Allocations one node holds at the peak (spread evenly).
    pub allocations_per_node: u64,
    /// Ports of min-port..max-port: one allocation each, on the node's relay IP.
    pub relay_ports_per_node: u64,
    /// The open-file limit coturn runs with.
    pub nofile: u64,
    /// Sessions coturn can hold with that limit (about two descriptors each).
    pub sessions_by_file_descriptors: u64,
    /// coturn's `total-quota` on each node (the bundle writes exactly this).
    pub total_quota: u64,
    /// coturn's `user-quota` (the bundle writes exactly this).
    pub user_quota: u64,
    /// The most allocations one node can hold: the least of its relay ports,
    /// `total-quota` and its file descriptors.
    pub max_allocations_per_node: u64,
    /// What sets that figure: `relay ports` or `file descriptors`.
    pub limited_by: TurnLimit,
    /// Relay traffic of one node in each direction (in from the parties, out to them).
    pub relay_mbps_each_way_per_node: f64,
    /// In plus out.
    pub relay_mbps_per_node: f64,
    /// A node's network bandwidth in each direction (assumption turn-nic-mbps).
    pub nic_mbps: f64,
    /// Allocations one node's network carries at the plan's bitrate.
    pub max_allocations_by_bandwidth_per_node: u64,
    /// Relayed calls all nodes carry at once (allocations and bandwidth).
    pub relayed_calls_supported: u64,
}

/// What limits the allocations one coturn node holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum TurnLimit {
    #[serde(rename = "relay ports")]
    RelayPorts,
    #[serde(rename = "file descriptors")]
    FileDescriptors,
}

impl TurnLimit {
    /// `relay ports`, `file descriptors`: the JSON value, shown as is.
    pub fn key(self) -> &'static str {
        match self {
            TurnLimit::RelayPorts => "relay ports",
            TurnLimit::FileDescriptors => "file descriptors",
        }
    }
}

impl std::fmt::Display for TurnLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.key())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Livekit {
    pub nodes: u64,
    pub rooms: u64,
    pub participants_per_room: u64,
    pub participants: u64,
    /// Simulcast layers' bitrate over the top layer's.
    pub simulcast_factor: f64,
    /// What one participant publishes: video (all layers) + audio, kbit/s.
    pub publish_kbps: f64,
    /// What one participant receives: the top layer and audio of every other one.
    pub subscribe_kbps: f64,
    /// One room, into the SFU (every participant's publication).
    pub room_ingress_mbps: f64,
    /// One room, out of the SFU: the forwarded bitrate.
    pub room_egress_mbps: f64,
    /// Rooms on one node at the peak (a room lives on one node).
    pub rooms_per_node: u64,
    pub participants_per_node: u64,
    pub ingress_mbps_per_node: f64,
    pub egress_mbps_per_node: f64,
    /// A node's network bandwidth in each direction (assumption livekit-nic-mbps).
    pub nic_mbps: f64,
    /// Ports of rtc.port_range_start..end.
    pub port_range: u64,
    /// UDP ports one node needs at the plan's peak (two per participant).
    pub ports_needed_per_node: u64,
    /// Participants one node's port range holds.
    pub participants_supported_per_node: u64,
    /// Participants one node's network carries in rooms of the plan's size.
    pub participants_supported_by_bandwidth_per_node: u64,
    /// Ports the largest room needs on its node.
    pub largest_room_ports: u64,
    /// The largest room's traffic on its node, the busier direction.
    pub largest_room_mbps: f64,
    /// The largest room fits on one node (ports and bandwidth).
    pub largest_room_fits: bool,
}

/// The relay ports of one coturn node: coturn.min-port..=coturn.max-port (the report's
/// `relay-ports-per-node` divides them by the ports an allocation holds; the bundle's
/// alerts name the range).
pub fn coturn_relay_ports(plan: &Plan) -> u64 {
    plan.coturn
        .max_port
        .saturating_add(1)
        .saturating_sub(plan.coturn.min_port)
}

pub fn calls(plan: &Plan) -> Calls {
    Calls {
        turn: turn(plan, plan.host(Role::Coturn).count),
        livekit: livekit(plan, plan.host(Role::Livekit).count),
    }
}

/// ⌈x / n⌉, 0 when n is 0.
fn per_node(x: u64, n: u64) -> u64 {
    if n == 0 { 0 } else { x.div_ceil(n) }
}

/// f64 → u64, finite and non-negative (saturates).
fn whole(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x as u64
    } else {
        0
    }
}

/// coturn's session count for an open-file limit (mainrelay.c print_features):
/// limit / 2, rounded down to a multiple of 500, at least 500.
pub fn coturn_sessions(nofile: u64) -> u64 {
    let per = a::fixed!(COTURN_FDS_PER_SESSION) as u64;
    ((nofile / per.max(1)) / 500 * 500).max(500)
}

/// TURN capacity with `nodes` coturn nodes carrying the plan's relayed calls.
pub fn turn(plan: &Plan, nodes: u64) -> Turn {
    let c = &plan.calls;
    let relayed_calls = whole((plan.concurrent_1to1_calls() as f64 * c.relayed_share).ceil());
    let per_call = plan.assume(&a::TURN_ALLOCATIONS_PER_CALL);
    let allocations = whole((relayed_calls as f64 * per_call).ceil());
    let allocations_per_node = per_node(allocations, nodes);
    let ports = coturn_relay_ports(plan) / (a::fixed!(TURN_PORTS_PER_ALLOCATION) as u64).max(1);
    let nofile = plan.assume(&a::NOFILE_LIMIT) as u64;
    let sessions = coturn_sessions(nofile);
    let total_quota = ports.min(sessions);
    // What one user may need: the product of the two assumptions, rounded once, up.
    let user_quota = super::round_up_needed(
        plan.assume(&a::TURN_USER_CALLS) * plan.assume(&a::TURN_ALLOCATIONS_PER_USER_CALL),
    )
    .clamp(1, total_quota.max(1));
    let max_allocations = ports.min(total_quota).min(sessions);
    let kbps = c.turn_kbps as f64;
    let each_way = allocations_per_node as f64 * 2.0 * kbps / 1000.0;
    let nic = plan.assume(&a::TURN_NIC_MBPS);
    let by_bandwidth = whole((nic * 1000.0 / (2.0 * kbps).max(1.0)).floor());
    // No allocation per call (assumption set to 0): nothing to count calls by.
    let supported = if per_call > 0.0 {
        whole((nodes.saturating_mul(max_allocations.min(by_bandwidth)) as f64 / per_call).floor())
    } else {
        0
    };
    Turn {
        nodes,
        relayed_calls,
        allocations_per_call: per_call,
        allocations,
        allocations_per_node,
        relay_ports_per_node: ports,
        nofile,
        sessions_by_file_descriptors: sessions,
        total_quota,
        user_quota,
        max_allocations_per_node: max_allocations,
        limited_by: if ports <= sessions {
            TurnLimit::RelayPorts
        } else {
            TurnLimit::FileDescriptors
        },
        relay_mbps_each_way_per_node: round2(each_way),
        relay_mbps_per_node: round2(each_way * 2.0),
        nic_mbps: nic,
        max_allocations_by_bandwidth_per_node: by_bandwidth,
        relayed_calls_supported: supported,
    }
}

/// Simulcast layers' total bitrate over the top layer's.
pub fn simulcast_factor(plan: &Plan) -> f64 {
    let layers = plan.calls.simulcast_layers;
    let mut f = 1.0;
    if layers >= 2 {
        f += plan.assume(&a::LIVEKIT_LAYER2_SHARE);
    }
    if layers >= 3 {
        f += plan.assume(&a::LIVEKIT_LAYER3_SHARE);
    }
    f
}

/// LiveKit capacity with `nodes` LiveKit nodes carrying the plan's group calls.
pub fn livekit(plan: &Plan, nodes: u64) -> Livekit {
    let c = &plan.calls;
    let p = c.participants_per_room;
    let audio = plan.assume(&a::LIVEKIT_AUDIO_KBPS);
    let video = c.group_kbps as f64;
    let factor = simulcast_factor(plan);
    let publish = video * factor + audio;
    let subscribe = p.saturating_sub(1) as f64 * (video + audio);
    let room_in = p as f64 * publish / 1000.0;
    let room_out = p as f64 * subscribe / 1000.0;
    let rooms_per_node = per_node(plan.group_call_rooms(), nodes).min(plan.group_call_rooms());
    let participants_per_node = rooms_per_node.saturating_mul(p);
    let ports_per = a::fixed!(LIVEKIT_PORTS_PER_PARTICIPANT) as u64;
    let range = (plan.livekit.port_range_end.saturating_add(1))
        .saturating_sub(plan.livekit.port_range_start);
    let nic = plan.assume(&a::LIVEKIT_NIC_MBPS);
    let per_participant = publish.max(subscribe);
    let by_bandwidth = whole((nic * 1000.0 / per_participant.max(1e-9)).floor());
    let largest_ports = p.saturating_mul(ports_per);
    let largest_mbps = room_in.max(room_out);
    Livekit {
        nodes,
        rooms: plan.group_call_rooms(),
        participants_per_room: p,
        participants: plan.group_call_rooms().saturating_mul(p),
        // Shown to four decimals (0.1 + 0.2 is not 0.3 in binary).
        simulcast_factor: (factor * 10_000.0).round() / 10_000.0,
        publish_kbps: round2(publish),
        subscribe_kbps: round2(subscribe),
        room_ingress_mbps: round2(room_in),
        room_egress_mbps: round2(room_out),
        rooms_per_node,
        participants_per_node,
        ingress_mbps_per_node: round2(rooms_per_node as f64 * room_in),
        egress_mbps_per_node: round2(rooms_per_node as f64 * room_out),
        nic_mbps: nic,
        port_range: range,
        ports_needed_per_node: participants_per_node.saturating_mul(ports_per),
        participants_supported_per_node: range / ports_per.max(1),
        participants_supported_by_bandwidth_per_node: by_bandwidth,
        largest_room_ports: largest_ports,
        largest_room_mbps: round2(largest_mbps),
        largest_room_fits: largest_ports <= range && largest_mbps <= nic,
    }
}

/// How the figure at `path` (relative to this section, e.g.
/// `turn.max-allocations-per-node`) was computed, in a sentence with the numbers and
/// the source; None for plain inputs.
pub fn explain(plan: &Plan, section: &Calls, path: &str) -> Option<String> {
    let (group, key) = path.split_once('.')?;
    match group {
        "turn" => explain_turn(plan, &section.turn, key),
        "livekit" => explain_livekit(plan, &section.livekit, key),
        _ => None,
    }
}

fn explain_turn(plan: &Plan, t: &Turn, key: &str) -> Option<String> {
    let c = &plan.calls;
    let text = match key {
        "relayed-calls" => format!(
            "⌈concurrent 1:1 calls × relayed share⌉ = ⌈{} × {}⌉ = {} calls go through TURN at the peak (calls.concurrent-1to1, calls.relayed-share).",
            plan.concurrent_1to1_calls(),
            c.relayed_share,
            t.relayed_calls
        ),
        "allocations-per-call" => format!(
            "{} allocations per relayed call: {}",
            t.allocations_per_call,
            a::TURN_ALLOCATIONS_PER_CALL.source
        ),
        "allocations" => format!(
            "⌈relayed calls × allocations per call⌉ = ⌈{} × {}⌉ = {} allocations at the peak.",
            t.relayed_calls, t.allocations_per_call, t.allocations
        ),
        "allocations-per-node" if t.nodes == 0 => {
            "No coturn host: relayed calls have no relay.".to_string()
        }
        "allocations-per-node" => format!(
            "⌈{} allocations / {} coturn node(s)⌉ = {} per node. Assumes an even spread: clients gather relay candidates from every TURN URI Synapse lists (all coturn hosts) and ICE keeps one.",
            t.allocations, t.nodes, t.allocations_per_node
        ),
        "relay-ports-per-node" => format!(
            "max-port − min-port + 1 = {} − {} + 1 = {} relay ports, one per allocation on the node's relay IP ({}).",
            plan.coturn.max_port,
            plan.coturn.min_port,
            t.relay_ports_per_node,
            a::TURN_PORTS_PER_ALLOCATION.source
        ),
        "nofile" => format!(
            "The open-file limit coturn runs with: {} ({}).",
            t.nofile,
            a::NOFILE_LIMIT.source
        ),
        "sessions-by-file-descriptors" => format!(
            "⌊{} / 2⌋ rounded down to a multiple of 500 = {} sessions ({}).",
            t.nofile,
            t.sessions_by_file_descriptors,
            a::COTURN_FDS_PER_SESSION.source
        ),
        "total-quota" => format!(
            "min(relay ports {}, sessions by file descriptors {}) = {}: the most one node can hold, so coturn refuses the next allocation cleanly (486 Allocation Quota Reached, RFC 8656 §7.2) and the client's ICE uses another coturn host, instead of running out of ports (508) or descriptors. Synapse's guide shows 1200 as an example (docs/setup/turn/coturn.md).",
            t.relay_ports_per_node, t.sessions_by_file_descriptors, t.total_quota
        ),
        "user-quota" => format!(
            "calls per user × allocations per call = {} × {} = {} (Synapse docs, setup/turn/coturn.md: \"4 streams per video call, so 12 streams = 3 simultaneous relayed calls per user\"), at most total-quota {}.",
            plan.assume(&a::TURN_USER_CALLS),
            plan.assume(&a::TURN_ALLOCATIONS_PER_USER_CALL),
            t.user_quota,
            t.total_quota
        ),
        "max-allocations-per-node" => format!(
            "min(relay ports {}, total-quota {}, sessions by file descriptors {}) = {} allocations per node, set by its {}.",
            t.relay_ports_per_node,
            t.total_quota,
            t.sessions_by_file_descriptors,
            t.max_allocations_per_node,
            t.limited_by
        ),
        "limited-by" => format!(
            "The smaller of the relay ports ({}) and the sessions the descriptors allow ({}).",
            t.relay_ports_per_node, t.sessions_by_file_descriptors
        ),
        "relay-mbps-each-way-per-node" => format!(
            "allocations per node × 2 streams × bitrate = {} × 2 × {} kbit/s = {} Mbit/s each way: coturn receives the party's stream and the peer's on each allocation and sends each on (calls.turn-kbps; ~2 Mbit/s per video stream, coturn issue #328).",
            t.allocations_per_node, c.turn_kbps, t.relay_mbps_each_way_per_node
        ),
        "relay-mbps-per-node" => format!(
            "in + out = 2 × {} = {} Mbit/s through the node's interface.",
            t.relay_mbps_each_way_per_node, t.relay_mbps_per_node
        ),
        "nic-mbps" => format!(
            "{} Mbit/s each way: {}",
            t.nic_mbps,
            a::TURN_NIC_MBPS.source
        ),
        "max-allocations-by-bandwidth-per-node" => format!(
            "⌊NIC / (2 × bitrate)⌋ = ⌊{} Mbit/s / (2 × {} kbit/s)⌋ = {} allocations per node.",
            t.nic_mbps, c.turn_kbps, t.max_allocations_by_bandwidth_per_node
        ),
        "relayed-calls-supported" => format!(
            "⌊nodes × min(allocations, by bandwidth) / allocations per call⌋ = ⌊{} × min({}, {}) / {}⌋ = {} relayed calls at once.",
            t.nodes,
            t.max_allocations_per_node,
            t.max_allocations_by_bandwidth_per_node,
            t.allocations_per_call,
            t.relayed_calls_supported
        ),
        _ => return None,
    };
    Some(text)
}

fn explain_livekit(plan: &Plan, l: &Livekit, key: &str) -> Option<String> {
    let c = &plan.calls;
    let audio = plan.assume(&a::LIVEKIT_AUDIO_KBPS);
    let text = match key {
        "participants" => format!(
            "rooms × participants per room = {} × {} = {}.",
            l.rooms, l.participants_per_room, l.participants
        ),
        "simulcast-factor" => format!(
            "{} layer(s): 1 + {} = {} times the top layer ({}; {}).",
            c.simulcast_layers,
            l.simulcast_factor - 1.0,
            l.simulcast_factor,
            a::LIVEKIT_LAYER2_SHARE.source,
            a::LIVEKIT_LAYER3_SHARE.source
        ),
        "publish-kbps" => format!(
            "Assumption: every participant publishes video and audio. video × simulcast factor + audio = {} × {} + {} = {} kbit/s up (calls.group-kbps; {}).",
            c.group_kbps,
            l.simulcast_factor,
            audio,
            l.publish_kbps,
            a::LIVEKIT_AUDIO_KBPS.source
        ),
        "subscribe-kbps" => format!(
            "(participants − 1) × (top layer + audio) = {} × ({} + {}) = {} kbit/s down: the SFU forwards one layer of each other participant's video, the top one at worst.",
            l.participants_per_room.saturating_sub(1),
            c.group_kbps,
            audio,
            l.subscribe_kbps
        ),
        "room-ingress-mbps" => format!(
            "participants × publish = {} × {} kbit/s = {} Mbit/s into the SFU per room.",
            l.participants_per_room, l.publish_kbps, l.room_ingress_mbps
        ),
        "room-egress-mbps" => format!(
            "forwarded = track bitrate × tracks published × subscribers = ({} + {}) kbit/s × {} × {} = {} Mbit/s out per room (DESIGN.md §3; LiveKit docs, Benchmarks: work grows with tracks published and subscribers).",
            c.group_kbps,
            audio,
            l.participants_per_room,
            l.participants_per_room.saturating_sub(1),
            l.room_egress_mbps
        ),
        "rooms-per-node" if l.nodes == 0 => "No LiveKit host: no group calls.".to_string(),
        "rooms-per-node" => format!(
            "⌈{} rooms / {} node(s)⌉ = {} per node: a room lives on one node (LiveKit docs, Benchmarks: \"each room must fit within a single node\"); the bundle's node_selector (sort_by rooms) puts each new room on the node with the fewest.",
            l.rooms, l.nodes, l.rooms_per_node
        ),
        "participants-per-node" => format!(
            "{} rooms × {} participants = {} on the busiest node.",
            l.rooms_per_node, l.participants_per_room, l.participants_per_node
        ),
        "ingress-mbps-per-node" => format!(
            "{} rooms × {} Mbit/s = {} Mbit/s in.",
            l.rooms_per_node, l.room_ingress_mbps, l.ingress_mbps_per_node
        ),
        "egress-mbps-per-node" => format!(
            "{} rooms × {} Mbit/s = {} Mbit/s out.",
            l.rooms_per_node, l.room_egress_mbps, l.egress_mbps_per_node
        ),
        "nic-mbps" => format!(
            "{} Mbit/s each way: {}",
            l.nic_mbps,
            a::LIVEKIT_NIC_MBPS.source
        ),
        "port-range" => format!(
            "port_range_end − port_range_start + 1 = {} − {} + 1 = {} UDP ports per node.",
            plan.livekit.port_range_end, plan.livekit.port_range_start, l.port_range
        ),
        "ports-needed-per-node" => format!(
            "2 × participants on the node = 2 × {} = {} ports ({}).",
            l.participants_per_node,
            l.ports_needed_per_node,
            a::LIVEKIT_PORTS_PER_PARTICIPANT.source
        ),
        "participants-supported-per-node" => format!(
            "⌊port range / 2⌋ = ⌊{} / 2⌋ = {} participants per node.",
            l.port_range, l.participants_supported_per_node
        ),
        "participants-supported-by-bandwidth-per-node" => format!(
            "⌊NIC / max(publish, subscribe)⌋ = ⌊{} Mbit/s / {} kbit/s⌋ = {} participants per node in rooms of {}.",
            l.nic_mbps,
            l.publish_kbps.max(l.subscribe_kbps),
            l.participants_supported_by_bandwidth_per_node,
            l.participants_per_room
        ),
        "largest-room-ports" => format!(
            "2 × {} participants = {} ports on one node.",
            l.participants_per_room, l.largest_room_ports
        ),
        "largest-room-mbps" => format!(
            "max(in {}, out {}) = {} Mbit/s on one node.",
            l.room_ingress_mbps, l.room_egress_mbps, l.largest_room_mbps
        ),
        "largest-room-fits" => format!(
            "A room cannot span nodes: its {} ports against the range's {}, its {} Mbit/s against the node's {} Mbit/s.",
            l.largest_room_ports, l.port_range, l.largest_room_mbps, l.nic_mbps
        ),
        _ => return None,
    };
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coturn_session_rule() {
        // (nofile, sessions): coturn prints limit / 2 rounded down to 500, at least 500.
        for (nofile, want) in [
            (65535, 32500),
            (1024, 500),
            (4096, 2000),
            (1_048_576, 524_000),
        ] {
            assert_eq!(coturn_sessions(nofile), want, "{nofile}");
        }
    }

    #[test]
    fn numbers_past_tool_limits_turn_user_quota_multiplies_before_rounding() {
        // (calls per user, allocations per call, user-quota): one rounding, up.
        for (calls_, per_call, want) in [
            ("3", "4", 12),
            ("2.5", "3", 8),
            ("1.5", "1.5", 3),
            ("0.1", "0.1", 1),
        ] {
            let p = Plan::default()
                .with_texts(&[
                    ("assumptions.turn-user-calls", calls_),
                    ("assumptions.turn-allocations-per-user-call", per_call),
                ])
                .expect("valid");
            assert_eq!(turn(&p, 2).user_quota, want, "{calls_} × {per_call}");
        }
    }

    #[test]
    fn every_figure_is_explained() {
        let plan = Plan::default();
        let s = calls(&plan);
        let v = serde_json::to_value(&s).unwrap();
        let inputs = ["nodes", "rooms", "participants-per-room"];
        for group in ["turn", "livekit"] {
            for key in v[group].as_object().unwrap().keys() {
                let e = explain(&plan, &s, &format!("{group}.{key}"));
                assert_eq!(
                    e.is_none(),
                    inputs.contains(&key.as_str()),
                    "{group}.{key}: {e:?}"
                );
            }
        }
    }
}
