//! Every constant the sizing engine rests on, with its value and its source.
//!
//! A constant that comes from a document says so; one that is our own estimate says
//! "assumption" and why. The report lists them all, and a plan may override the
//! overridable ones (`assumptions.<id>` keys).
//!
//! Two ways to read a value, and no third:
//! * an overridable one through [`crate::plan::Plan::assume`]: the plan's override or the
//!   default, wherever a plan is at hand (which is everywhere such a value is used);
//! * a fixed one (a setting the bundle writes as it is, such as nofile, or a fact of a
//!   program's behaviour, such as MinIO's set sizes: [`Assumption::overridable`] is
//!   false) through [`fixed!`]`(NAME)`, which is evaluated at compile time, so it also
//!   serves `const` items and naming an overridable one there fails the build.
//!
//! [`Assumption::default_value`] is for the plan's own defaults and the report's
//! "default" column only. The `value` field is private to this module, so there is no
//! other way to read one.

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Assumption {
    pub id: &'static str,
    pub label: &'static str,
    /// The default value (what the plan uses unless it overrides it). Private: read it
    /// through [`crate::plan::Plan::assume`] or [`fixed!`] (the module doc says why), or
    /// [`Assumption::default_value`] for a default column. Serialized as `value`.
    value: f64,
    pub unit: &'static str,
    /// A URL or a short citation; "assumption: …" when it is an estimate of ours.
    pub source: &'static str,
}

impl Assumption {
    /// Whether a plan may change it. Settings the bundle writes as they are
    /// (superuser_reserved_connections, nofile) are facts of the deployment, not
    /// estimates, and stay fixed.
    /// Facts of a program's behaviour ([`CALLS_FACTS`], [`OBJECT_STORE_FACTS`]; the
    /// [`POSTGRES`] group of PGTune's rules and PostgreSQL's limits, which the panel lists)
    /// are fixed too; no plan field changes them.
    pub const fn overridable(&self) -> bool {
        !(contains_id(FIXED_SETTINGS, self.id)
            || contains(POSTGRES, self.id)
            || contains(CALLS_FACTS, self.id)
            || contains(OBJECT_STORE_FACTS, self.id))
    }

    /// The default: what a plan uses unless it overrides it. For the plan's own defaults
    /// and the report's "default" column; a figure reads an overridable value through
    /// [`crate::plan::Plan::assume`] and a fixed one through [`fixed!`].
    pub const fn default_value(&self) -> f64 {
        self.value
    }

    /// The value of a fixed assumption; [`fixed!`] calls it in a `const` block, so the
    /// assertion runs at compile time. Use [`fixed!`].
    #[doc(hidden)]
    pub const fn fixed_value(&self) -> f64 {
        assert!(
            !self.overridable(),
            "an overridable assumption is read through Plan::assume"
        );
        self.value
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

/// The value of a fixed assumption (a setting the bundle writes as it is, or a fact of a
/// program's behaviour): `a::fixed!(NOFILE_LIMIT)`, an `f64`. Evaluated at compile time:
/// naming an overridable assumption fails the build (`cargo build` and `cargo test`;
/// `cargo check` does not evaluate const blocks), so those are read through
/// [`crate::plan::Plan::assume`]; and it serves `const` items.
macro_rules! fixed {
    ($name:ident) => {
        const { $crate::assumptions::$name.fixed_value() }
    };
}
pub(crate) use fixed;

/// Ids of the settings the bundle writes as they are (superuser_reserved_connections,
/// nofile, PostgreSQL's max_files_per_process, …): facts of the deployment, not
/// estimates, so fixed although they are listed with the plan's assumptions.
const FIXED_SETTINGS: &[&str] = &[
    "pg-superuser-reserved",
    "nofile-limit",
    "haproxy-own-fds",
    "pg-files-per-process",
    "pg-aux-processes",
    "livekit-own-fds",
];

/// Byte-wise string equality, usable in `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn contains_id(ids: &[&str], id: &str) -> bool {
    let mut i = 0;
    while i < ids.len() {
        if same(ids[i], id) {
            return true;
        }
        i += 1;
    }
    false
}

const fn contains(list: &[Assumption], id: &str) -> bool {
    let mut i = 0;
    while i < list.len() {
        if same(list[i].id, id) {
            return true;
        }
        i += 1;
    }
    false
}

mod activity;
mod calls;
mod cpu;
mod descriptors;
mod objectstore;
mod postgres;
mod ram;
mod storage;

pub use activity::*;
pub use calls::*;
pub use cpu::*;
pub use descriptors::*;
pub use objectstore::*;
pub use postgres::*;
pub use ram::*;
pub use storage::*;

/// Every constant, in a fixed order: RAM and connections, storage, object storage, calls,
/// file descriptors, activity, PostgreSQL memory, CPU (new groups go last: `Slot::Assumption`
/// indexes this order).
pub fn all() -> impl Iterator<Item = &'static Assumption> {
    RAM.iter()
        .chain(STORAGE.iter())
        .chain(OBJECT_STORE.iter())
        .chain(CALLS.iter())
        .chain(DESCRIPTORS.iter())
        .chain(ACTIVITY.iter())
        .chain(POSTGRES.iter())
        .chain(CPU.iter())
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

    /// The fixed settings are assumptions the plan lists; the facts are not (no plan
    /// field, no override); every other assumption is a plan field.
    #[test]
    fn fixed_ones_are_the_settings_and_the_facts() {
        for id in FIXED_SETTINGS {
            assert!(by_id(id).is_some_and(|a| !a.overridable()), "{id}");
        }
        for f in CALLS_FACTS.iter().chain(OBJECT_STORE_FACTS) {
            assert!(!f.overridable() && by_id(f.id).is_none(), "{}", f.id);
        }
        for p in POSTGRES {
            assert!(!p.overridable() && by_id(p.id).is_some(), "{}", p.id);
        }
        let overridable = all().filter(|a| a.overridable()).count();
        assert_eq!(
            overridable + FIXED_SETTINGS.len() + POSTGRES.len(),
            all().count()
        );
    }
}
