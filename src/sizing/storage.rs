//! Storage over time: database, media, WAL and backups month by month, against the
//! disks that hold them.

use crate::plan::Plan;
use serde::Serialize;
use std::collections::BTreeMap;

/// JSON section `storage`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Storage {
    /// The span planned for (`activity.months`).
    pub months: u64,
    /// Disk id → the month it fills (1 = within the first month); null when it does
    /// not fill within `months`.
    pub months_until_full: BTreeMap<&'static str, Option<u64>>,
}

pub fn storage(plan: &Plan) -> Storage {
    Storage {
        months: plan.activity.months,
        months_until_full: BTreeMap::new(),
    }
}

/// How the figure at `path` (relative to this section, e.g. `usable-tib`) was
/// computed, in a sentence with the numbers and the source; None for plain inputs.
pub fn explain(plan: &Plan, section: &Storage, path: &str) -> Option<String> {
    let _ = (plan, section, path);
    None
}
