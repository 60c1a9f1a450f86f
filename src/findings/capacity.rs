//! Findings on object storage, calls and node failures.

use super::Out;
use crate::Severity;
use crate::plan::{Plan, Role};
use crate::sizing::calls::Calls;
use crate::sizing::failures::Failure;
use crate::sizing::objectstore::ObjectStorage;

pub(crate) fn check(
    plan: &Plan,
    _object_storage: &ObjectStorage,
    _calls: &Calls,
    _failures: &[Failure],
    out: &mut Out,
) {
    calls(plan, out);
}

fn calls(plan: &Plan, out: &mut Out) {
    if plan.host(Role::Coturn).count == 0 {
        out.push(
            Severity::Info,
            "calls-turn-off",
            &["hosts.coturn.count"],
            "No TURN server: 1:1 calls between clients behind NAT will fail.".to_string(),
            "Clients behind symmetric NAT or strict firewalls need a relay (Synapse docs, turn-howto.md).",
            "Plan at least one coturn host if users call each other.",
        );
    }
    if plan.host(Role::Livekit).count == 0 {
        out.push(
            Severity::Info,
            "calls-livekit-off",
            &["hosts.livekit.count"],
            "No LiveKit: Element Call group calls are off.".to_string(),
            "MatrixRTC group calls need an SFU (the playbook's matrix_rtc_enabled + LiveKit).",
            "Plan LiveKit hosts if users need group calls.",
        );
    }
}
