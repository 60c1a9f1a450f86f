//! Schema 1 → schema 2: the plan a first-release file or link meant.
//!
//! Schema 1 had absolute defaults for activity: a file without
//! `activity.daily-active-users` meant 5,000 daily active users, one without
//! `users.peak-concurrent` meant 2,500 at peak, whatever its registered users. Schema 2
//! derives both from `users.registered` when a plan leaves them out. A schema-1 plan keeps
//! its meaning where that meaning fits its users (peak ≤ daily active ≤ registered); where
//! it does not (5,000 daily active users of 2,000 registered, which schema 1 refused, or
//! fewer daily active users than the peak the file sets) the field becomes derived and a
//! warning says what it became. A kept value that the derivation gives anyway is left to
//! the derivation, so schema 1's default plan is schema 2's. The calls (25 1:1 calls and 5
//! group rooms in schema 1, derived from the peak in schema 2) keep their meaning always.

use super::validate::Problem;
use super::{RawPlan, derive_daily_active, derive_peak, share_of};
use crate::assumptions::{self as a, Assumption};
use crate::format::group;

/// Schema 1's daily active users where a file did not set them.
pub(crate) const SCHEMA_1_DAILY_ACTIVE: u64 = 5_000;
/// Schema 1's peak concurrent users where a file did not set them.
pub(crate) const SCHEMA_1_PEAK: u64 = 2_500;
/// Schema 1's calls where a file did not set them: (key path, value, the assumption that
/// derives it from the peak in schema 2, the field's bound).
const SCHEMA_1_CALLS: [(&str, u64, &Assumption, u64); 2] = [
    (
        SCHEMA_1_DEFAULTS[2].0,
        SCHEMA_1_DEFAULTS[2].1,
        &a::CALLS_1TO1_PER_PEAK_USER,
        super::MAX_CONCURRENT_1TO1,
    ),
    (
        SCHEMA_1_DEFAULTS[3].0,
        SCHEMA_1_DEFAULTS[3].1,
        &a::GROUP_ROOMS_PER_PEAK_USER,
        super::MAX_GROUP_ROOMS,
    ),
];

/// Schema 1's default of each field schema 2 derives.
pub(crate) const SCHEMA_1_DEFAULTS: [(&str, u64); 4] = [
    (DAU, SCHEMA_1_DAILY_ACTIVE),
    (PEAK, SCHEMA_1_PEAK),
    ("calls.concurrent-1to1", 25),
    ("calls.group-rooms", 5),
];

const DAU: &str = "activity.daily-active-users";
const PEAK: &str = "users.peak-concurrent";

/// What the migration does with a field the schema-1 file left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Meant {
    /// The file set it (or it is not a number: validation says so): left alone.
    Set(Option<u64>),
    /// Keep schema 1's value.
    Keep(u64),
    /// Schema 1's value does not fit: derive it, with a warning.
    Derive,
}

fn number(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

fn share(raw: &RawPlan, x: &Assumption) -> f64 {
    raw.get(&format!("assumptions.{}", x.id))
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(x.default_value())
}

/// (daily active, peak) as `Plan`'s accessors resolve them.
fn resolve(registered: u64, dau: Option<u64>, peak: Option<u64>, shares: (f64, f64)) -> (u64, u64) {
    let d = dau.unwrap_or_else(|| derive_daily_active(registered, shares.0, peak));
    (d, peak.unwrap_or_else(|| derive_peak(d, shares.1)))
}

/// Rewrites a schema-1 raw plan (as read, defaults where the file was silent) to the
/// schema-2 plan it meant, adding a warning for each value that changed meaning.
pub(crate) fn schema_1(raw: &mut RawPlan, problems: &mut Vec<Problem>) {
    // An unreadable registered count has its own error; nothing to migrate against.
    let Some(registered) = number(raw.get("users.registered")) else {
        return;
    };
    let shares = (
        share(raw, &a::DAILY_ACTIVE_SHARE),
        share(raw, &a::PEAK_CONCURRENT_SHARE),
    );
    let set = |path: &str| {
        let t = raw.get(path);
        (!t.trim().is_empty()).then(|| number(t))
    };
    let peak_set = set(PEAK);
    let dau = match set(DAU) {
        Some(n) => Meant::Set(n),
        None if SCHEMA_1_DAILY_ACTIVE <= registered
            && peak_set
                .flatten()
                .is_none_or(|p| p <= SCHEMA_1_DAILY_ACTIVE) =>
        {
            Meant::Keep(SCHEMA_1_DAILY_ACTIVE)
        }
        None => Meant::Derive,
    };
    let peak = match peak_set {
        Some(n) => Meant::Set(n),
        None => {
            // The daily active users the peak must stay within.
            let within = match dau {
                Meant::Set(n) => n.unwrap_or(u64::MAX),
                Meant::Keep(n) => n,
                Meant::Derive => resolve(registered, None, None, shares).0,
            };
            if SCHEMA_1_PEAK <= registered && SCHEMA_1_PEAK <= within {
                Meant::Keep(SCHEMA_1_PEAK)
            } else {
                Meant::Derive
            }
        }
    };
    // The fewest pinned values that resolve to what the file meant.
    let pinned = |m: Meant, pin: bool| match m {
        Meant::Set(n) => n,
        Meant::Keep(n) if pin => Some(n),
        _ => None,
    };
    let wanted = |m: Meant, got: u64| !matches!(m, Meant::Keep(n) if n != got);
    let (pin_dau, pin_peak) = [(false, false), (true, false), (false, true), (true, true)]
        .into_iter()
        .find(|&(pd, pp)| {
            let (d, p) = resolve(registered, pinned(dau, pd), pinned(peak, pp), shares);
            wanted(dau, d) && wanted(peak, p)
        })
        .unwrap_or((true, true));
    for (path, m, pin) in [(DAU, dau, pin_dau), (PEAK, peak, pin_peak)] {
        if let Meant::Keep(n) = m {
            raw.set(path, if pin { n.to_string() } else { String::new() });
        }
    }
    let (d, p) = resolve(
        registered,
        pinned(dau, pin_dau),
        pinned(peak, pin_peak),
        shares,
    );
    for (path, meant, per_peak, max) in SCHEMA_1_CALLS {
        if raw.get(path).trim().is_empty() {
            let derived = share_of(p, share(raw, per_peak)).min(max);
            let text = if derived == meant {
                String::new()
            } else {
                meant.to_string()
            };
            raw.set(path, text);
        }
    }
    let percent = |s: f64| {
        let t = format!("{:.2}", s * 100.0);
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    };
    if dau == Meant::Derive {
        let why = if SCHEMA_1_DAILY_ACTIVE > registered {
            format!("more than its {} registered users", group(registered))
        } else {
            format!(
                "fewer than the {} peak concurrent users it sets",
                group(peak_set.flatten().unwrap_or(0))
            )
        };
        problems.push(Problem::warning(
            DAU,
            format!(
                "This schema-1 plan leaves out daily active users, which meant {} there: {why}. It is now derived from users: {} ({} % of registered users, at least the peak). Set activity.daily-active-users to choose another.",
                group(SCHEMA_1_DAILY_ACTIVE),
                group(d),
                percent(shares.0)
            ),
        ));
    }
    if peak == Meant::Derive {
        let why = if SCHEMA_1_PEAK > registered {
            format!("more than its {} registered users", group(registered))
        } else {
            format!("more than its {} daily active users", group(d))
        };
        problems.push(Problem::warning(
            PEAK,
            format!(
                "This schema-1 plan leaves out peak concurrent users, which meant {} there: {why}. It is now derived from users: {} ({} % of daily active users). Set users.peak-concurrent to choose another.",
                group(SCHEMA_1_PEAK),
                group(p),
                percent(shares.1)
            ),
        ));
    }
}
