//! Capacity: object storage (MinIO erasure coding), calls (coturn, LiveKit) and losing a
//! node, each formula against cases computed by hand from its source (the arithmetic is
//! in the comments), then properties over arbitrary valid plans: more parity never
//! gives more usable space, losing a node never increases a capacity, and no plan
//! makes these sections panic or print a number that is not finite.
//!
//! `PROPTEST_CASES=2000 cargo test --test capacity` runs the properties harder.

#[path = "support/props.rs"]
mod props;
use props::config;
use proptest::prelude::*;
use serde_json::Value as Json;
use synapse_planner::plan::{Plan, RawPlan, Role, validate};
use synapse_planner::report::Report;
use synapse_planner::sizing::calls::{self, Calls};
use synapse_planner::sizing::failures::{self, Failure};
use synapse_planner::sizing::objectstore::{self, ObjectStorage};

fn plan(changes: &[(&str, &str)]) -> Plan {
    Plan::default()
        .with_texts(changes)
        .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
}

/// A section as JSON, to compare figures by their report keys.
fn json<T: serde::Serialize>(x: &T) -> Json {
    serde_json::to_value(x).expect("serialisable")
}

/// A hand case: what it is, the plan's changes, the figures expected (key path, value).
type Case = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    Vec<(&'static str, Json)>,
);

/// A loss: changes, host, survives, verdict, capacities (name, before, after).
type LossCase = (
    Vec<(&'static str, &'static str)>,
    &'static str,
    bool,
    &'static str,
    Vec<(&'static str, f64, f64)>,
);

/// Every `(key, value)` of `expect` equals the section's figure at that key path.
fn check(section: &Json, what: &str, expect: &[(&str, Json)]) {
    for (key, want) in expect {
        let got = synapse_planner::report::lookup(section, key)
            .unwrap_or_else(|| panic!("{what}: no {key} in {section:#}"));
        assert_eq!(got, want, "{what}: {key}");
    }
}

// ---------------------------------------------------------------------------------
// Object storage (MinIO docs, Erasure Coding; minio/minio cmd/erasure.go,
// internal/config/storageclass, cmd/endpoint-ellipses.go)
// ---------------------------------------------------------------------------------

fn object_storage(changes: &[(&str, &str)]) -> ObjectStorage {
    objectstore::object_storage(&plan(changes))
}

#[test]
fn minio_hand_cases() {
    use serde_json::json;
    let cases: Vec<Case> = vec![
        (
            // 4 nodes × 4 drives × 1 TiB = 16 drives: one set of 16, EC:4 (8–16 → 4).
            // K = 16 − 4 = 12; usable = 16 TiB × 12/16 = 12 TiB; RQ = WQ = 12 (K ≠ M).
            // Each node holds 16/4 = 4 drives of the set: ⌊4/4⌋ = 1 node for reads,
            // ⌊(16 − 12)/4⌋ = 1 for writes.
            "16 × 1 TiB, EC:4",
            vec![],
            vec![
                ("layout", json!("distributed")),
                ("set-size", json!(16)),
                ("sets", json!(1)),
                ("parity", json!(4)),
                ("default-parity", json!(4)),
                ("max-parity", json!(8)),
                ("data-drives", json!(12)),
                ("raw-tib", json!(16.0)),
                ("usable-tib", json!(12.0)),
                ("read-quorum", json!(12)),
                ("write-quorum", json!(12)),
                ("drives-per-set-per-node", json!(4)),
                ("drive-failures-tolerated", json!(4)),
                ("drive-failures-tolerated-for-writes", json!(4)),
                ("node-failures-tolerated", json!(1)),
                ("node-failures-tolerated-for-writes", json!(1)),
                ("ram-guidance-gib", json!(16.0)),
                ("refused", json!(false)),
                ("problem", Json::Null),
            ],
        ),
        (
            // EC:8 on 16: K = 8 = M, so WQ = K + 1 = 9, RQ = 8; usable 16 × 8/16 = 8.
            // Drives: 16 − 8 = 8 for reads, 16 − 9 = 7 for writes; nodes ⌊8/4⌋ = 2,
            // ⌊7/4⌋ = 1.
            "16 × 1 TiB, EC:8",
            vec![("minio.parity", "8")],
            vec![
                ("parity", json!(8)),
                ("requested-parity", json!(8)),
                ("usable-tib", json!(8.0)),
                ("read-quorum", json!(8)),
                ("write-quorum", json!(9)),
                ("drive-failures-tolerated", json!(8)),
                ("drive-failures-tolerated-for-writes", json!(7)),
                ("node-failures-tolerated", json!(2)),
                ("node-failures-tolerated-for-writes", json!(1)),
            ],
        ),
        (
            // 8 × 4 = 32 drives: sizes dividing 32 and symmetric with 8 nodes: 2, 4, 8,
            // 16 → 16 (fewest sets): 2 sets of 16, EC:4, 16/8 = 2 drives of a set per
            // node; usable 32 × 12/16 = 24; nodes ⌊4/2⌋ = 2 for reads and writes.
            "8 × 4",
            vec![("hosts.minio.count", "8")],
            vec![
                ("set-size", json!(16)),
                ("sets", json!(2)),
                ("parity", json!(4)),
                ("usable-tib", json!(24.0)),
                ("read-quorum", json!(12)),
                ("write-quorum", json!(12)),
                ("drives-per-set-per-node", json!(2)),
                ("node-failures-tolerated", json!(2)),
                ("node-failures-tolerated-for-writes", json!(2)),
            ],
        ),
        (
            // 4 × 1: one set of 4, EC:2 (4–5 → 2), K = 2 = M → WQ = 3; usable
            // 4 × 2/4 = 2; one drive per node: 2 nodes for reads, 4 − 3 = 1 for writes.
            "4 × 1",
            vec![("minio.drives-per-node", "1")],
            vec![
                ("set-size", json!(4)),
                ("parity", json!(2)),
                ("usable-tib", json!(2.0)),
                ("read-quorum", json!(2)),
                ("write-quorum", json!(3)),
                ("drives-per-set-per-node", json!(1)),
                ("drive-failures-tolerated", json!(2)),
                ("drive-failures-tolerated-for-writes", json!(1)),
                ("node-failures-tolerated", json!(2)),
                ("node-failures-tolerated-for-writes", json!(1)),
            ],
        ),
        (
            // 1 node × 4 drives: single-node erasure coding, set of 4, EC:2, WQ 3;
            // no node may fail (it holds every drive).
            "1 × 4, single node",
            vec![("hosts.minio.count", "1")],
            vec![
                ("layout", json!("single-node")),
                ("set-size", json!(4)),
                ("parity", json!(2)),
                ("usable-tib", json!(2.0)),
                ("read-quorum", json!(2)),
                ("write-quorum", json!(3)),
                ("drive-failures-tolerated", json!(2)),
                ("drive-failures-tolerated-for-writes", json!(1)),
                ("node-failures-tolerated", json!(0)),
                ("node-failures-tolerated-for-writes", json!(0)),
            ],
        ),
        (
            // 1 × 1: single drive, no erasure coding (DefaultParityBlocks(1) = 0): a set
            // of one, usable = raw = 1 TiB, both quorums 1, nothing may fail.
            "1 × 1, single drive",
            vec![("hosts.minio.count", "1"), ("minio.drives-per-node", "1")],
            vec![
                ("layout", json!("single-drive")),
                ("set-size", json!(1)),
                ("parity", json!(0)),
                ("max-parity", json!(0)),
                ("usable-tib", json!(1.0)),
                ("read-quorum", json!(1)),
                ("write-quorum", json!(1)),
                ("drive-failures-tolerated", json!(0)),
                ("node-failures-tolerated", json!(0)),
            ],
        ),
        (
            // 64 × 1: 4 sets of 16, one drive of a set per node, EC:4: usable
            // 64 × 12/16 = 48; ⌊4/1⌋ = 4 nodes for reads and writes.
            "64 × 1",
            vec![("hosts.minio.count", "64"), ("minio.drives-per-node", "1")],
            vec![
                ("set-size", json!(16)),
                ("sets", json!(4)),
                ("usable-tib", json!(48.0)),
                ("drives-per-set-per-node", json!(1)),
                ("node-failures-tolerated", json!(4)),
                ("node-failures-tolerated-for-writes", json!(4)),
            ],
        ),
        (
            // 17 × 1: 17 is prime, no set of 2–16 divides it: MinIO refuses.
            "17 × 1, refused",
            vec![("hosts.minio.count", "17"), ("minio.drives-per-node", "1")],
            vec![
                ("set-size", json!(0)),
                ("refused", json!(true)),
                ("usable-tib", json!(0.0)),
                ("write-quorum", json!(0)),
            ],
        ),
        (
            // 4 × 1 with EC:3: a set of 4 takes at most 4/2 = 2: refused.
            "4 × 1, EC:3, refused",
            vec![("minio.drives-per-node", "1"), ("minio.parity", "3")],
            vec![
                ("set-size", json!(4)),
                ("parity", json!(3)),
                ("max-parity", json!(2)),
                ("refused", json!(true)),
                ("usable-tib", json!(0.0)),
            ],
        ),
        (
            // 1 × 1 with EC:1: no parity on a single drive (ValidateParity: 1 > 1/2 = 0).
            "1 × 1, EC:1, refused",
            vec![
                ("hosts.minio.count", "1"),
                ("minio.drives-per-node", "1"),
                ("minio.parity", "1"),
            ],
            vec![("refused", json!(true)), ("max-parity", json!(0))],
        ),
        (
            // 4 drives × 30 TiB = 120 TiB per node: above 100 TiB → 64 GiB of RAM.
            "RAM guidance",
            vec![("minio.drive-tib", "30")],
            vec![
                ("tib-per-node", json!(120.0)),
                ("ram-guidance-gib", json!(64.0)),
            ],
        ),
    ];
    for (what, changes, expect) in cases {
        check(&json(&object_storage(&changes)), what, &expect);
    }
}

#[test]
fn minio_refusals_say_why() {
    let s = object_storage(&[("minio.drives-per-node", "1"), ("minio.parity", "3")]);
    let p = s.problem.expect("a problem");
    assert!(p.contains("EC:3") && p.contains("at most EC:2"), "{p}");
    let s = object_storage(&[("hosts.minio.count", "17"), ("minio.drives-per-node", "1")]);
    assert!(s.problem.expect("a problem").contains("17 drive(s)"));
}

// ---------------------------------------------------------------------------------
// Calls (Synapse docs setup/turn/coturn.md; coturn mainrelay.c; RFC 8656; LiveKit docs
// Ports and firewall, Benchmarks; client-sdk-js presets)
// ---------------------------------------------------------------------------------

fn calls_of(changes: &[(&str, &str)]) -> Calls {
    calls::calls(&plan(changes))
}

#[test]
fn turn_hand_cases() {
    use serde_json::json;
    let cases: Vec<Case> = vec![
        (
            // 25 concurrent × 0.3 = 7.5 → 8 relayed calls × 2 allocations = 16, over 2
            // nodes = 8 each. Ports 65535 − 49152 + 1 = 16,384; sessions 65,535 / 2 =
            // 32,767 → 32,500 (coturn rounds down to 500). total-quota = min = 16,384;
            // user-quota 3 × 4 = 12. Each way 8 × 2 × 2,000 kbit/s = 32 Mbit/s, in + out
            // 64. By bandwidth 1,000,000 / (2 × 2,000) = 250; calls 2 × 250 / 2 = 250.
            "default",
            vec![],
            vec![
                ("turn.nodes", json!(2)),
                ("turn.relayed-calls", json!(8)),
                ("turn.allocations", json!(16)),
                ("turn.allocations-per-node", json!(8)),
                ("turn.relay-ports-per-node", json!(16384)),
                ("turn.nofile", json!(65535)),
                ("turn.sessions-by-file-descriptors", json!(32500)),
                ("turn.total-quota", json!(16384)),
                ("turn.user-quota", json!(12)),
                ("turn.max-allocations-per-node", json!(16384)),
                ("turn.limited-by", json!("relay ports")),
                ("turn.relay-mbps-each-way-per-node", json!(32.0)),
                ("turn.relay-mbps-per-node", json!(64.0)),
                ("turn.max-allocations-by-bandwidth-per-node", json!(250)),
                ("turn.relayed-calls-supported", json!(250)),
            ],
        ),
        (
            // 1,000 relay ports: quota 1,000, the limit is the ports.
            "narrow relay range",
            vec![("coturn.min-port", "50000"), ("coturn.max-port", "50999")],
            vec![
                ("turn.relay-ports-per-node", json!(1000)),
                ("turn.total-quota", json!(1000)),
                ("turn.max-allocations-per-node", json!(1000)),
            ],
        ),
        (
            // 1,000 calls all relayed, audio (40 kbit/s), 4 nodes: 2,000 allocations,
            // 500 each; each way 500 × 2 × 40 = 40 Mbit/s.
            "audio, all relayed",
            vec![
                ("calls.concurrent-1to1", "1000"),
                ("calls.relayed-share", "1"),
                ("calls.turn-kbps", "40"),
                ("hosts.coturn.count", "4"),
            ],
            vec![
                ("turn.relayed-calls", json!(1000)),
                ("turn.allocations", json!(2000)),
                ("turn.allocations-per-node", json!(500)),
                ("turn.relay-mbps-each-way-per-node", json!(40.0)),
            ],
        ),
        (
            // No coturn host: nothing per node, nothing supported.
            "no coturn",
            vec![("hosts.coturn.count", "0")],
            vec![
                ("turn.nodes", json!(0)),
                ("turn.allocations-per-node", json!(0)),
                ("turn.relay-mbps-each-way-per-node", json!(0.0)),
                ("turn.relayed-calls-supported", json!(0)),
            ],
        ),
    ];
    for (what, changes, expect) in cases {
        check(&json(&calls_of(&changes)), what, &expect);
    }
}

#[test]
fn livekit_hand_cases() {
    use serde_json::json;
    let cases: Vec<Case> = vec![
        (
            // Simulcast 1 + 0.26 + 0.09 = 1.35; publish 1,700 × 1.35 + 48 = 2,343 kbit/s;
            // subscribe 7 × (1,700 + 48) = 12,236. Room in 8 × 2,343 = 18,744 → 18.74
            // Mbit/s; out 8 × 12,236 = 97,888 → 97.89. ⌈5 rooms / 2⌉ = 3 per node, 24
            // participants, 48 ports of 50,200 − 50,100 + 1 = 101 (⌊101/2⌋ = 50
            // participants); in 3 × 18.744 = 56.23, out 3 × 97.888 = 293.66. The
            // network carries ⌊1,000,000 / 12,236⌋ = 81 participants.
            "default",
            vec![],
            vec![
                ("livekit.participants", json!(40)),
                ("livekit.simulcast-factor", json!(1.35)),
                ("livekit.publish-kbps", json!(2343.0)),
                ("livekit.subscribe-kbps", json!(12236.0)),
                ("livekit.room-ingress-mbps", json!(18.74)),
                ("livekit.room-egress-mbps", json!(97.89)),
                ("livekit.rooms-per-node", json!(3)),
                ("livekit.participants-per-node", json!(24)),
                ("livekit.ports-needed-per-node", json!(48)),
                ("livekit.port-range", json!(101)),
                ("livekit.participants-supported-per-node", json!(50)),
                (
                    "livekit.participants-supported-by-bandwidth-per-node",
                    json!(81),
                ),
                ("livekit.ingress-mbps-per-node", json!(56.23)),
                ("livekit.egress-mbps-per-node", json!(293.66)),
                ("livekit.largest-room-ports", json!(16)),
                ("livekit.largest-room-fits", json!(true)),
            ],
        ),
        (
            // One layer: factor 1; publish 1,700 + 48 = 1,748.
            "one layer",
            vec![("calls.simulcast-layers", "1")],
            vec![
                ("livekit.simulcast-factor", json!(1.0)),
                ("livekit.publish-kbps", json!(1748.0)),
            ],
        ),
        (
            // A room of 60: 120 ports > 101: it does not fit on a node.
            "room of 60",
            vec![("calls.participants-per-room", "60")],
            vec![
                ("livekit.largest-room-ports", json!(120)),
                ("livekit.largest-room-fits", json!(false)),
            ],
        ),
        (
            // One participant: nothing to receive; publish 2,343.
            "alone",
            vec![("calls.participants-per-room", "1")],
            vec![
                ("livekit.subscribe-kbps", json!(0.0)),
                ("livekit.room-egress-mbps", json!(0.0)),
                (
                    "livekit.participants-supported-by-bandwidth-per-node",
                    json!(426),
                ),
            ],
        ),
        (
            "no LiveKit",
            vec![("hosts.livekit.count", "0")],
            vec![
                ("livekit.rooms-per-node", json!(0)),
                ("livekit.ports-needed-per-node", json!(0)),
            ],
        ),
    ];
    for (what, changes, expect) in cases {
        check(&json(&calls_of(&changes)), what, &expect);
    }
}

// ---------------------------------------------------------------------------------
// Losing a node
// ---------------------------------------------------------------------------------

fn lose(changes: &[(&str, &str)], host: &str) -> Failure {
    failures::lose(&plan(changes), host).unwrap_or_else(|| panic!("no {host}"))
}

#[test]
fn loss_hand_cases() {
    // (changes, host, survives, verdict, capacity (name, before, after))
    let cases: Vec<LossCase> = vec![
        // 3 etcd members, majority ⌊3/2⌋ + 1 = 2: 2 left keep it.
        (
            vec![],
            "patroni1",
            true,
            "n+1",
            vec![
                ("etcd members", 3.0, 2.0),
                ("PostgreSQL connections for PgBouncer", 485.0, 485.0),
            ],
        ),
        // 2 members, majority 2: 1 left loses it.
        (
            vec![("hosts.patroni.count", "2")],
            "patroni2",
            false,
            "down",
            vec![
                ("etcd members", 2.0, 1.0),
                ("PostgreSQL connections for PgBouncer", 485.0, 0.0),
            ],
        ),
        // 16 drives, 4 on the node: 12 left ≥ WQ 12. New objects get EC:min(4 + 4, 8)
        // = 8: 16 × 8/16 = 8 TiB at that rate.
        (
            vec![],
            "minio1",
            true,
            "n+1",
            vec![
                ("Usable TiB for new writes", 12.0, 8.0),
                ("Drives of each erasure set online", 16.0, 12.0),
            ],
        ),
        // 2 × 2, EC:2: a node takes 2 of 4; RQ 2 holds, WQ 3 does not.
        (
            vec![("hosts.minio.count", "2"), ("minio.drives-per-node", "2")],
            "minio2",
            false,
            "degraded",
            vec![("Usable TiB for new writes", 2.0, 0.0)],
        ),
        // The VIP moves; maxconn 8,000 either way.
        (
            vec![],
            "haproxy1",
            true,
            "n+1",
            vec![
                ("HAProxy connections through the VIP", 8000.0, 8000.0),
                ("Nodes able to hold the VIP", 2.0, 1.0),
            ],
        ),
        // 16 allocations fit on one node: 2 × 16,384 → 1 × 16,384; bandwidth 2,000 → 1,000.
        (
            vec![],
            "coturn2",
            true,
            "n+1",
            vec![
                ("TURN allocations, all nodes", 32768.0, 16384.0),
                ("TURN relay bandwidth each way, all nodes", 2000.0, 1000.0),
            ],
        ),
        // livekit2: 5 rooms on livekit1 = 40 participants, 80 of 101 ports, 489.44 Mbit/s.
        (
            vec![],
            "livekit2",
            true,
            "n+1",
            vec![
                ("LiveKit UDP ports, all nodes", 202.0, 101.0),
                ("LiveKit bandwidth out, all nodes", 2000.0, 1000.0),
            ],
        ),
        // livekit1 runs LiveKit's only Redis.
        (vec![], "livekit1", false, "down", vec![]),
        (
            vec![],
            "synapse",
            false,
            "down",
            vec![("Synapse hosts", 1.0, 0.0)],
        ),
        (vec![], "monitoring", true, "degraded", vec![]),
        (vec![], "backup", true, "degraded", vec![]),
    ];
    for (changes, host, survives, verdict, capacity) in cases {
        let f = lose(&changes, host);
        assert_eq!(
            (f.survives, f.verdict.key(), f.n_plus_one),
            (survives, verdict, verdict == "n+1"),
            "{changes:?} {host}: {}",
            f.why
        );
        for (name, before, after) in capacity {
            let c = f
                .capacity
                .iter()
                .find(|c| c.name == name)
                .unwrap_or_else(|| panic!("{host}: no {name}"));
            assert_eq!(
                (c.before.as_f64(), c.after.as_f64()),
                (before, after),
                "{host}: {name}"
            );
        }
    }
    // keepalived: 3 × 1 s + (256 − 190)/256 s = 3.26 s for haproxy2 to take the VIP at
    // worst, counted from the last advert (up to 1 s before the death): 2.76 s on average.
    assert!(
        lose(&[], "haproxy1")
            .why
            .contains("within 3.26 s (2.76 s on average)")
    );
    // The Synapse host is the playbook's single point of failure, and the text says so.
    let s = lose(&[], "synapse");
    assert!(s.why.starts_with("Single point of failure"));
    assert!(s.details.iter().any(|d| d.contains("standby host")));
}

#[test]
fn failures_list_the_worst_host_of_each_deployed_role() {
    let r = Report::new(&plan(&[
        ("hosts.coturn.count", "0"),
        ("hosts.livekit.count", "3"),
    ]));
    let got: Vec<(&str, &str, &str)> = r
        .failures
        .iter()
        .map(|f| (f.host.as_str(), f.role.key(), f.verdict.key()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("synapse", "synapse", "down"),
            ("patroni1", "patroni", "n+1"),
            ("minio1", "minio", "n+1"),
            ("haproxy1", "haproxy", "n+1"),
            ("livekit1", "livekit", "down"),
            ("monitoring", "monitoring", "degraded"),
            ("backup", "backup", "degraded"),
        ]
    );
    let v = r.to_json_value();
    for key in ["host", "role", "survives", "why", "verdict", "n-plus-one"] {
        assert!(v["failures"][0].get(key).is_some(), "{key}");
    }
}

#[test]
fn required_json_keys() {
    let v = Report::new(&Plan::default()).to_json_value();
    for path in [
        "object-storage.usable-tib",
        "object-storage.set-size",
        "object-storage.parity",
        "object-storage.read-quorum",
        "object-storage.write-quorum",
        "object-storage.drive-failures-tolerated",
        "object-storage.node-failures-tolerated",
        "calls.turn.max-allocations-per-node",
        "calls.livekit.ports-needed-per-node",
        "failures[0].host",
        "failures[0].role",
        "failures[0].survives",
        "failures[0].why",
    ] {
        assert!(
            synapse_planner::report::lookup(&v, path).is_some(),
            "{path}"
        );
    }
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

/// A valid plan varying every input of these sections, extremes included: 0–64 coturn
/// and LiveKit hosts, 1–64 MinIO nodes of 1–64 drives, any parity, 1 to 1,000,000
/// users, any call load and port ranges, NICs and shares overridden.
fn capacity_plan() -> impl Strategy<Value = Plan> {
    let hosts = (
        0u64..=64,
        0u64..=64,
        1u64..=64,
        1u64..=64,
        1u64..=15,
        1u64..=16,
    );
    let minio = (
        prop_oneof![Just(0.01), Just(1.0), 0.01f64..1024.0],
        0u64..=8,
    );
    let calls = (
        prop_oneof![Just(0u64), 0u64..=1_000_000],
        prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0],
        1u64..=100_000,
        0u64..=100_000,
        1u64..=10_000,
        1u64..=100_000,
        1u64..=3,
    );
    let ports = (7882u64..65535, 1u64..20_000, 7882u64..65535, 1u64..20_000);
    let users = prop_oneof![Just(1u64), Just(1_000_000u64), 1u64..=1_000_000];
    let assume = (
        prop_oneof![
            Just(None),
            Just(Some(0.0)),
            (1.0f64..100_000.0).prop_map(Some)
        ],
        prop_oneof![Just(None), (0.0f64..10.0).prop_map(Some)],
    );
    (hosts, minio, calls, ports, users, assume).prop_map(
        |((coturn, livekit, minio, drives, patroni, haproxy), (tib, parity), c, pr, users, a)| {
            let (lo1, span1, lo2, span2) = pr;
            let hi1 = (lo1 + span1).min(65535);
            let hi2 = (lo2 + span2).min(65535);
            let mut changes: Vec<(String, String)> = vec![
                ("hosts.coturn.count".into(), coturn.to_string()),
                ("hosts.livekit.count".into(), livekit.to_string()),
                ("hosts.minio.count".into(), minio.to_string()),
                ("minio.drives-per-node".into(), drives.to_string()),
                ("minio.drive-tib".into(), format!("{tib:.2}")),
                ("minio.parity".into(), parity.to_string()),
                ("hosts.patroni.count".into(), patroni.to_string()),
                ("hosts.haproxy.count".into(), haproxy.to_string()),
                ("users.registered".into(), users.to_string()),
                (
                    "users.peak-concurrent".into(),
                    users.div_ceil(4).to_string(),
                ),
                (
                    "activity.daily-active-users".into(),
                    users.div_ceil(2).to_string(),
                ),
                ("calls.concurrent-1to1".into(), c.0.to_string()),
                ("calls.relayed-share".into(), format!("{:.3}", c.1)),
                ("calls.turn-kbps".into(), c.2.to_string()),
                ("calls.group-rooms".into(), c.3.to_string()),
                ("calls.participants-per-room".into(), c.4.to_string()),
                ("calls.group-kbps".into(), c.5.to_string()),
                ("calls.simulcast-layers".into(), c.6.to_string()),
                ("coturn.min-port".into(), lo1.min(hi1 - 1).to_string()),
                (
                    "coturn.max-port".into(),
                    hi1.max(lo1 + 1).min(65535).to_string(),
                ),
                (
                    "livekit.port-range-start".into(),
                    lo2.min(hi2 - 1).to_string(),
                ),
                (
                    "livekit.port-range-end".into(),
                    hi2.max(lo2 + 1).min(65535).to_string(),
                ),
            ];
            if let Some(nic) = a.0 {
                changes.push(("assumptions.turn-nic-mbps".into(), format!("{nic:.1}")));
                changes.push(("assumptions.livekit-nic-mbps".into(), format!("{nic:.1}")));
            }
            if let Some(share) = a.1 {
                changes.push((
                    "assumptions.livekit-simulcast-layer2-share".into(),
                    format!("{share:.2}"),
                ));
            }
            // All at once: the cross-field rules hold for the whole set, not each step.
            let mut raw = RawPlan::default();
            for (k, v) in &changes {
                assert!(raw.set(k, v.clone()), "{k} is not a field");
            }
            let v = validate(&raw);
            v.plan
                .unwrap_or_else(|| panic!("invalid: {:?}\n{changes:?}", v.problems))
        },
    )
}

/// Every number in a JSON tree is finite (serde_json writes a non-finite f64 as null,
/// so a null where a number belongs is caught by the key checks below).
fn finite(v: &Json, at: &str) -> Result<(), String> {
    match v {
        Json::Number(n) if n.as_f64().is_none_or(|x| !x.is_finite()) => {
            Err(format!("{at}: {n} is not finite"))
        }
        Json::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| finite(x, &format!("{at}[{i}]"))),
        Json::Object(o) => o
            .iter()
            .try_for_each(|(k, x)| finite(x, &format!("{at}.{k}"))),
        _ => Ok(()),
    }
}

/// A sentence that prints a non-finite number (Rust writes them `NaN`, `inf`).
fn prints_non_finite(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "NaN" || w == "inf")
}

/// Every leaf path of a JSON tree, for the explanations.
fn leaves(v: &Json, at: String, out: &mut Vec<String>) {
    match v {
        Json::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                leaves(x, format!("{at}[{i}]"), out);
            }
        }
        Json::Object(o) => {
            for (k, x) in o {
                let p = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                leaves(x, p, out);
            }
        }
        _ => out.push(at),
    }
}

proptest! {
    #![proptest_config(config(128))]

    /// More parity never gives more usable space, for the plan's own layout: along
    /// the parity options, and between the plan at parity p and at p + 1.
    #[test]
    fn more_parity_never_gives_more_usable_space(p in capacity_plan()) {
        let s = objectstore::object_storage(&p);
        for w in s.parity_options.windows(2) {
            prop_assert!(w[1].parity > w[0].parity);
            prop_assert!(w[1].usable_tib <= w[0].usable_tib, "{:?}", w);
            prop_assert!(w[1].drive_failures_tolerated >= w[0].drive_failures_tolerated);
        }
        if p.minio.parity < 8 {
            let more = p.with_text("minio.parity", &(p.minio.parity.max(s.default_parity) + 1).min(8).to_string()).unwrap();
            let t = objectstore::object_storage(&more);
            prop_assert!(t.usable_tib <= s.usable_tib, "{} → {}", s.usable_tib, t.usable_tib);
        }
        prop_assert!(s.usable_tib <= s.raw_tib);
    }

    /// Losing a node never increases a capacity: for every host of the plan, every
    /// capacity after the loss is at most what it was (usable TiB for writes, TURN
    /// allocations and bandwidth, LiveKit ports and bandwidth, HAProxy connections,
    /// quorum members).
    #[test]
    fn losing_a_node_never_increases_capacity(p in capacity_plan()) {
        for host in failures::hosts(&p) {
            let f = failures::lose(&p, &host).unwrap();
            prop_assert!(!f.why.is_empty());
            prop_assert_eq!(f.n_plus_one, f.verdict.key() == "n+1");
            for c in &f.capacity {
                prop_assert!(
                    c.after.as_f64() <= c.before.as_f64(),
                    "{host}: {} {} → {}", c.name, c.before.as_f64(), c.after.as_f64()
                );
            }
        }
        let r = failures::failures(&p);
        let roles = Role::ALL.iter().filter(|role| p.host(**role).count > 0).count();
        prop_assert_eq!(r.len(), roles);
    }

    /// No panic and only finite numbers in the three sections, every figure explained
    /// without panic, and the report's findings well formed.
    #[test]
    fn sections_are_finite_and_explained(p in capacity_plan()) {
        let r = Report::new(&p);
        let v = r.to_json_value();
        for section in ["object-storage", "calls", "failures"] {
            finite(&v[section], section).map_err(TestCaseError::fail)?;
            let mut paths = Vec::new();
            leaves(&v[section], String::new(), &mut paths);
            for path in paths {
                let e = match section {
                    "object-storage" => objectstore::explain(&p, &r.object_storage, &path),
                    "calls" => calls::explain(&p, &r.calls, &path),
                    _ => failures::explain(&p, &r.failures, &path),
                };
                if let Some(e) = e {
                    prop_assert!(!e.is_empty() && !prints_non_finite(&e), "{section}.{path}: {e}");
                }
            }
        }
        let t = &r.calls.turn;
        prop_assert!(t.max_allocations_per_node <= t.relay_ports_per_node);
        prop_assert!(t.total_quota == t.max_allocations_per_node);
        prop_assert!(t.user_quota >= 1 && t.user_quota <= t.total_quota.max(1));
        let l = &r.calls.livekit;
        prop_assert_eq!(l.ports_needed_per_node, l.participants_per_node * 2);
        for f in &r.findings {
            prop_assert!(!prints_non_finite(&f.message) && !prints_non_finite(&f.fix), "{}", f.message);
        }
    }
}
