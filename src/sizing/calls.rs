//! Call capacity: TURN relays (coturn) for 1:1 calls, LiveKit SFUs for group calls.

use crate::plan::Plan;
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
    /// coturn's `total-quota` on each node (the bundle writes exactly this).
    pub total_quota: u64,
    /// coturn's `user-quota`.
    pub user_quota: u64,
    /// The most allocations one node can hold: the least of its relay ports,
    /// `total-quota` and its file descriptors.
    pub max_allocations_per_node: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Livekit {
    pub nodes: u64,
    /// UDP ports one node needs at the plan's peak (two per participant).
    pub ports_needed_per_node: u64,
}

pub fn calls(plan: &Plan) -> Calls {
    use crate::plan::Role;
    Calls {
        turn: Turn {
            nodes: plan.host(Role::Coturn).count,
            total_quota: 1200,
            user_quota: 12,
            max_allocations_per_node: 0,
        },
        livekit: Livekit {
            nodes: plan.host(Role::Livekit).count,
            ports_needed_per_node: 0,
        },
    }
}

/// How the figure at `path` (relative to this section, e.g. `usable-tib`) was
/// computed, in a sentence with the numbers and the source; None for plain inputs.
pub fn explain(plan: &Plan, section: &Calls, path: &str) -> Option<String> {
    let _ = (plan, section, path);
    None
}
