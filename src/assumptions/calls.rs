//! Call capacity constants (TURN, LiveKit).
//!
//! The group holds the estimates a plan may override; [`CALLS_FACTS`] the facts of
//! coturn's and LiveKit's behaviour (fixed, with their sources).

use super::Assumption;

assumptions! {
    group CALLS;
    TURN_ALLOCATIONS_PER_CALL = "turn-allocations-per-call", "TURN allocations held by one relayed 1:1 call", 2.0, "allocations",
        "assumption: each of the two parties behind NAT holds one relay allocation for the call, because WebRTC sends audio and video over one transport (BUNDLE, RFC 8843) with RTCP multiplexed (RFC 5761), as JSEP requires (RFC 8829 §4.1.1); Synapse's coturn guide counts 4 streams per video call, the un-bundled count (audio and video, each RTP + RTCP), which the per-user quota keeps; set 1 if only one side is ever relayed";
    TURN_USER_CALLS = "turn-user-calls", "Relayed calls one user may hold at once (user-quota)", 3.0, "calls",
        "Synapse docs, setup/turn/coturn.md: user-quota=12 is \"3 simultaneous relayed calls per user\"";
    TURN_ALLOCATIONS_PER_USER_CALL = "turn-allocations-per-user-call", "Allocations one user may hold per call (user-quota)", 4.0, "allocations",
        "Synapse docs, setup/turn/coturn.md: \"4 streams per video call\"; also covers a client gathering relays over both the UDP and TCP URIs Synapse lists for a host";
    TURN_NIC_MBPS = "turn-nic-mbps", "Network bandwidth of one coturn node, each direction", 1000.0, "Mbit/s",
        "assumption: a 1 Gbit/s full-duplex interface; set your hosts' figure (or what the provider allows)";
    LIVEKIT_AUDIO_KBPS = "livekit-audio-kbps", "Audio bitrate each group-call participant publishes", 48.0, "kbit/s",
        "LiveKit client-sdk-js, src/room/track/options.ts: the default publish preset AudioPresets.music, maxBitrate 48,000";
    LIVEKIT_LAYER2_SHARE = "livekit-simulcast-layer2-share", "Second simulcast layer's bitrate, as a share of the top layer", 0.26, "ratio",
        "LiveKit client-sdk-js, src/room/track/options.ts: VideoPresets h360 450 kbit/s against h720 1,700 kbit/s (defaultSimulcastPresets169 = h180, h360)";
    LIVEKIT_LAYER3_SHARE = "livekit-simulcast-layer3-share", "Third simulcast layer's bitrate, as a share of the top layer", 0.09, "ratio",
        "LiveKit client-sdk-js, src/room/track/options.ts: VideoPresets h180 160 kbit/s against h720 1,700 kbit/s";
    LIVEKIT_NIC_MBPS = "livekit-nic-mbps", "Network bandwidth of one LiveKit node, each direction", 1000.0, "Mbit/s",
        "assumption: a 1 Gbit/s full-duplex interface; set your hosts' figure (or what the provider allows)";
}

/// Ports of coturn's relay range one allocation holds.
pub const TURN_PORTS_PER_ALLOCATION: Assumption = Assumption {
    id: "turn-ports-per-allocation",
    label: "Relay ports one TURN allocation holds",
    value: 1.0,
    unit: "ports",
    source: "RFC 8656 §2 and §7.2: an allocation is one relayed transport address (IP and port) on the server; coturn takes it from min-port..max-port on the relay IP (README.turnserver, --min-port/--max-port)",
};

/// File descriptors coturn counts per session.
pub const COTURN_FDS_PER_SESSION: Assumption = Assumption {
    id: "coturn-fds-per-session",
    label: "File descriptors per coturn session",
    value: 2.0,
    unit: "files",
    source: "coturn src/apps/relay/mainrelay.c print_features: \"max supported number of TURN Sessions\" = open-file limit / 2, rounded down to a multiple of 500 (at least 500)",
};

/// UDP ports of LiveKit's range one participant uses.
pub const LIVEKIT_PORTS_PER_PARTICIPANT: Assumption = Assumption {
    id: "livekit-ports-per-participant",
    label: "UDP ports of LiveKit's range per participant",
    value: 2.0,
    unit: "ports",
    source: "LiveKit docs, Self-hosting › Ports and firewall: rtc.port_range_start/end, \"each participant in the room will use two ports\" (a publisher and a subscriber connection)",
};

/// Call facts the sizing uses; fixed (not plan fields).
pub const CALLS_FACTS: &[Assumption] = &[
    TURN_PORTS_PER_ALLOCATION,
    COTURN_FDS_PER_SESSION,
    LIVEKIT_PORTS_PER_PARTICIPANT,
];
