//! Losing a node: what survives the loss of one host, role by role.

use crate::plan::Plan;
use serde::Serialize;

/// One entry of the JSON list `failures`: the worst single host of a role lost.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Failure {
    /// The host lost, by its short name (`patroni1`).
    pub host: String,
    pub role: &'static str,
    /// The service keeps running with the plan's load.
    pub survives: bool,
    pub why: String,
}

pub fn failures(_plan: &Plan) -> Vec<Failure> {
    Vec::new()
}

/// How the entry at `path` (relative to the list, e.g. `[2].survives`) was decided.
pub fn explain(plan: &Plan, failures: &[Failure], path: &str) -> Option<String> {
    let _ = (plan, failures, path);
    None
}
