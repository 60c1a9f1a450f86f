//! Every constant the sizing engine rests on, with its value and its source.
//!
//! A constant that comes from a document says so; one that is our own estimate says
//! "assumption" and why. The report lists them all, and a plan may override the
//! overridable ones (`assumptions.<id>` keys): the engine reads every constant through
//! [`crate::plan::Plan::assume`], never the default directly.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Assumption {
    pub id: &'static str,
    pub label: &'static str,
    /// The default value (what the plan uses unless it overrides it).
    pub value: f64,
    pub unit: &'static str,
    /// A URL or a short citation; "assumption: …" when it is an estimate of ours.
    pub source: &'static str,
}

impl Assumption {
    /// Whether a plan may change it. Settings the bundle writes as they are
    /// (superuser_reserved_connections, nofile) are facts of the deployment, not
    /// estimates, and stay fixed.
    pub fn overridable(&self) -> bool {
        !matches!(
            self.id,
            "pg-superuser-reserved"
                | "nofile-limit"
                | "haproxy-own-fds"
                | "pg-files-per-process"
                | "pg-aux-processes"
                | "livekit-own-fds"
        )
    }

    /// The largest override accepted: generous (×1000 the default, at least 10⁶) but
    /// finite, so no figure overflows.
    pub fn max(&self) -> f64 {
        (self.value * 1000.0).max(1_000_000.0)
    }
}

macro_rules! assumptions {
    (group $group:ident; $($name:ident = $id:literal, $label:literal, $value:expr, $unit:literal, $source:literal;)*) => {
        $(pub const $name: Assumption = Assumption { id: $id, label: $label, value: $value, unit: $unit, source: $source };)*
        /// This group's constants, in a fixed order.
        pub const $group: &[Assumption] = &[$($name),*];
    };
}

mod calls;
mod descriptors;
mod objectstore;
mod ram;
mod storage;

pub use calls::*;
pub use descriptors::*;
pub use objectstore::*;
pub use ram::*;
pub use storage::*;

/// Every constant, in a fixed order: RAM and connections, storage, object storage, calls,
/// file descriptors (new groups go last: `Slot::Assumption` indexes this order).
pub fn all() -> impl Iterator<Item = &'static Assumption> {
    RAM.iter()
        .chain(STORAGE.iter())
        .chain(OBJECT_STORE.iter())
        .chain(CALLS.iter())
        .chain(DESCRIPTORS.iter())
}

/// The constant with this id.
pub fn by_id(id: &str) -> Option<&'static Assumption> {
    all().find(|a| a.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_kebab_case_and_sourced() {
        let mut ids = std::collections::BTreeSet::new();
        for a in all() {
            assert!(ids.insert(a.id), "duplicate {}", a.id);
            assert!(
                a.id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                a.id
            );
            assert!(!a.source.is_empty());
            assert!(a.value.is_finite() && a.value >= 0.0);
            assert!(a.max() >= a.value);
        }
    }
}
