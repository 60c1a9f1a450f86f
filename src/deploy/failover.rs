//! The timings that decide how fast the cluster recovers from losing a host: Patroni's
//! leader key, HAProxy's health checks, keepalived's VRRP. The bundle writes them into
//! Patroni's bootstrap, haproxy.cfg and keepalived.conf; the failure analysis
//! (`sizing::failures`) and the alerts reason from the same values, and the recovery
//! times (best, average, worst) are computed from them here, next to what the lab
//! measured.

use serde::Serialize;

/// Patroni's leader-key TTL in bootstrap.dcs: a failed primary is replaced after at
/// most this.
pub const PATRONI_TTL_S: u64 = 30;
/// Patroni's `loop_wait`: the HA loop's period. The leader renews its key once a cycle,
/// and a replica sees the key expired at its next cycle. Patroni's default (Patroni docs,
/// "Dynamic Configuration Settings": loop_wait 10), written out.
pub const PATRONI_LOOP_WAIT_S: u64 = 10;
/// Patroni's `retry_timeout`: how long etcd and PostgreSQL calls are retried
/// (loop_wait + 2 × retry_timeout ≤ ttl, Patroni's rule). Patroni's default (same page:
/// retry_timeout 10), written out.
pub const PATRONI_RETRY_TIMEOUT_S: u64 = 10;
/// PgBouncer's `server_login_retry`: after a failed server login it waits this long
/// before it tries again. Its default, 15 s, added up to 15 s to every failover in the
/// lab (HAProxy refuses the connection while no node is primary; docs/lab.md, layer 3);
/// at 1 s a retry costs one TCP connection to HAProxy a second during an outage.
pub const PGBOUNCER_SERVER_LOGIN_RETRY_S: u64 = 1;
/// Patroni's default `maximum_lag_on_failover` (1 MiB), set explicitly: a replica
/// further behind is not promoted, so lag beyond it costs the cluster its failover
/// candidate.
pub const PATRONI_MAX_LAG_BYTES: u64 = 1_048_576;
/// HAProxy's checks (`default-server inter 3s fall 3 rise 2`): a server is marked down
/// after `fall` failed checks and up after `rise` good ones, `inter` apart.
pub const HAPROXY_CHECK_INTER_S: u64 = 3;
pub const HAPROXY_CHECK_FALL: u64 = 3;
pub const HAPROXY_CHECK_RISE: u64 = 2;
/// keepalived's `advert_int`, seconds.
pub const KEEPALIVED_ADVERT_INT_S: u64 = 1;

// HAProxy marks a promoted replica up well within the leader key's TTL, and a dead
// primary down before its key can expire: `fall` failed checks, each up to `inter` plus
// its connect timeout, min(timeout connect, inter) (HAProxy 2.6 manual, "timeout
// check"), so at most fall × 2 × inter (checked when compiling). The lab saw 16.7 s
// (docs/lab.md, layer 3).
const _: () = assert!(
    PATRONI_LOOP_WAIT_S + 2 * PATRONI_RETRY_TIMEOUT_S <= PATRONI_TTL_S
        && HAPROXY_CHECK_RISE * HAPROXY_CHECK_INTER_S < PATRONI_TTL_S
        && HAPROXY_CHECK_FALL * 2 * HAPROXY_CHECK_INTER_S <= PATRONI_TTL_S - PATRONI_LOOP_WAIT_S
);

/// The timers one recovery depends on, in the units the bundle writes them (seconds,
/// check counts). [`BUNDLE`] is what Patroni's bootstrap.dcs, haproxy.cfg, pgbouncer.ini
/// and keepalived.conf carry; the functions below take any set, so tests can vary them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// Patroni `ttl`: the leader key's lifetime.
    pub ttl_s: u64,
    /// Patroni `loop_wait`: the HA loop's period.
    pub loop_wait_s: u64,
    /// Patroni `retry_timeout`: how long etcd and PostgreSQL calls are retried before
    /// the leader demotes itself.
    pub retry_timeout_s: u64,
    /// HAProxy `inter`: seconds between two checks of a server.
    pub check_inter_s: u64,
    /// HAProxy `fall`: failed checks before a server is marked down.
    pub check_fall: u64,
    /// HAProxy `rise`: good checks before a server is marked up.
    pub check_rise: u64,
    /// PgBouncer `server_login_retry`.
    pub login_retry_s: u64,
    /// keepalived `advert_int`.
    pub advert_int_s: u64,
}

/// The timers the bundle writes.
pub const BUNDLE: Timers = Timers {
    ttl_s: PATRONI_TTL_S,
    loop_wait_s: PATRONI_LOOP_WAIT_S,
    retry_timeout_s: PATRONI_RETRY_TIMEOUT_S,
    check_inter_s: HAPROXY_CHECK_INTER_S,
    check_fall: HAPROXY_CHECK_FALL,
    check_rise: HAPROXY_CHECK_RISE,
    login_retry_s: PGBOUNCER_SERVER_LOGIN_RETRY_S,
    advert_int_s: KEEPALIVED_ADVERT_INT_S,
};

/// Where the database failover's timers are documented.
pub const PRIMARY_LOSS_SOURCES: &str = "Patroni docs, \"Dynamic Configuration Settings\" (ttl, loop_wait, retry_timeout); HAProxy 2.6 configuration manual, 5.2 \"Server and default-server options\" (inter, fall, rise) and 4.2 \"timeout check\"; PgBouncer docs, server_login_retry";
/// Where the VIP's timers are documented.
pub const VIP_MOVE_SOURCES: &str = "RFC 3768 §6.1 (Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time, Skew_Time = (256 − Priority) / 256), which keepalived implements for VRRPv2 (keepalived.conf(5): advert_int, priority)";

/// What the lab measured for a recovery (docs/lab.md), shown next to the computed
/// window.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Measured {
    pub low_s: f64,
    pub high_s: f64,
    /// Where, when and on which versions.
    pub cite: &'static str,
}

/// The lab's database drill: the leader's host dies (link down, every process killed)
/// while a writer on the Synapse host writes through PgBouncer and the VIP.
pub const LAB_PRIMARY_LOSS: Measured = Measured {
    low_s: 38.2,
    high_s: 38.8,
    cite: "docs/lab.md, layer 3, database drill (2026-12-07; Patroni 3.0.2, PostgreSQL 15, HAProxy 2.6, keepalived 2.2, PgBouncer 1.18; lab plan)",
};

/// The lab's VIP drill: the VIP holder dies; the time until the other HAProxy host
/// holds the VIP.
pub const LAB_VIP_MOVE: Measured = Measured {
    low_s: 2.68,
    high_s: 2.96,
    cite: "docs/lab.md, layer 3, VIP drill (2026-12-07; keepalived 2.2, HAProxy 2.6; lab plan)",
};

/// One recovery: the seconds from a host's death until the service is back, computed
/// from the timers as a sum of steps, each somewhere in a window: best (every step at
/// its shortest), average (each step in the middle of its window: the phases of the
/// timers are independent of the moment of death, so each is uniform over its window),
/// worst (every step at its longest).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct RecoveryTime {
    /// What is lost and what comes back.
    pub event: &'static str,
    pub best_s: f64,
    pub average_s: f64,
    pub worst_s: f64,
    /// The steps with their windows, and the three sums, with the timers' values.
    pub arithmetic: String,
    /// The lab's measurement of the same event.
    pub measured: Measured,
    pub sources: &'static str,
}

/// One step of a recovery: a window (shortest, longest) and how it follows from the
/// timers.
struct Step {
    what: String,
    low: f64,
    high: f64,
}

fn sum(
    event: &'static str,
    steps: &[Step],
    measured: Measured,
    sources: &'static str,
    note: &str,
) -> RecoveryTime {
    let best: f64 = steps.iter().map(|s| s.low).sum();
    let worst: f64 = steps.iter().map(|s| s.high).sum();
    let average: f64 = steps.iter().map(|s| (s.low + s.high) / 2.0).sum();
    let terms = |f: &dyn Fn(&Step) -> f64| {
        steps
            .iter()
            .map(|s| seconds(f(s)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let listed: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "({}) {}: {}–{} s",
                i + 1,
                s.what,
                seconds(s.low),
                seconds(s.high)
            )
        })
        .collect();
    RecoveryTime {
        event,
        best_s: round2(best),
        average_s: round2(average),
        worst_s: round2(worst),
        arithmetic: format!(
            "{}. Best {} = {} s; average {} = {} s (each step in the middle of its window); worst {} = {} s.{note}",
            listed.join("; "),
            terms(&|s| s.low),
            seconds(best),
            terms(&|s| (s.low + s.high) / 2.0),
            seconds(average),
            terms(&|s| s.high),
            seconds(worst),
        ),
        measured,
        sources,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Seconds as the sentences show them: 23, 2.26, 0.5.
pub fn seconds(x: f64) -> String {
    format!("{}", round2(x))
}

/// The primary's host dies; writes through PgBouncer, the VIP and HAProxy resume on the
/// promoted replica. Steps: the leader key was renewed up to loop_wait before the death,
/// so it expires ttl − loop_wait to ttl after it; a replica's HA loop sees that at its
/// next cycle (0 to loop_wait later) and promotes itself; HAProxy sends the port to it
/// after `rise` good checks `inter` apart ((rise − 1) × inter to rise × inter after the
/// promotion); PgBouncer's next server login comes within server_login_retry. HAProxy
/// marks the dead primary down after `fall` failed checks, before the key expires (a
/// compile-time check below), so that adds nothing. PostgreSQL's promotion itself and the
/// client's own retry are not timers: the lab's measurement includes them.
pub fn primary_loss(t: &Timers) -> RecoveryTime {
    let (ttl, lw) = (t.ttl_s as f64, t.loop_wait_s as f64);
    let inter = t.check_inter_s as f64;
    let rise = t.check_rise as f64;
    let steps = [
        Step {
            what: format!(
                "the leader key expires ttl − loop_wait to ttl after the death ({} − {} to {})",
                t.ttl_s, t.loop_wait_s, t.ttl_s
            ),
            low: (ttl - lw).max(0.0),
            high: ttl,
        },
        Step {
            what: format!(
                "a replica's HA loop sees it at its next cycle, within loop_wait ({})",
                t.loop_wait_s
            ),
            low: 0.0,
            high: lw,
        },
        Step {
            what: format!(
                "HAProxy marks the promoted node up after rise {} good /primary checks inter {} s apart ((rise − 1) × inter to rise × inter)",
                t.check_rise, t.check_inter_s
            ),
            low: (rise - 1.0).max(0.0) * inter,
            high: rise * inter,
        },
        Step {
            what: format!(
                "PgBouncer's next server login, within server_login_retry ({})",
                t.login_retry_s
            ),
            low: 0.0,
            high: t.login_retry_s as f64,
        },
    ];
    let down = t
        .check_fall
        .saturating_mul(t.check_inter_s.saturating_mul(2));
    sum(
        "primary's host dies: writes through PgBouncer and the VIP resume on the promoted replica",
        &steps,
        LAB_PRIMARY_LOSS,
        PRIMARY_LOSS_SOURCES,
        &format!(
            " HAProxy marks the dead primary down meanwhile (fall {} failed checks, each up to inter {} s plus its connect timeout min(timeout connect, inter) = {} s: at most {} s, before the key can expire; the lab saw 16.7 s), and retry_timeout ({} s) does not add: it bounds how long a primary cut off from etcd keeps trying before it demotes itself. Not timers, so not counted: PostgreSQL's promotion and the client's own retry (the lab's figure includes both).",
            t.check_fall, t.check_inter_s, t.check_inter_s, down, t.retry_timeout_s
        ),
    )
}

/// VRRP's Master_Down_Interval for a backup of this priority: 3 ×
/// Advertisement_Interval plus Skew_Time, Skew_Time = (256 − Priority) / 256 ×
/// Advertisement_Interval (RFC 3768 §6.1 for keepalived's default VRRPv2; RFC 5798 §6.1 says the same for v3).
pub fn master_down_interval_s(t: &Timers, priority: u64) -> f64 {
    let advert = t.advert_int_s as f64;
    let skew = (256.0 - priority.min(255) as f64) / 256.0 * advert;
    round2(3.0 * advert + skew)
}

/// The VIP holder dies; the backup of this priority takes the VIP. It counts
/// Master_Down_Interval from the last advertisement it heard, which the master sent up to
/// advert_int before its death: the VIP moves Master_Down_Interval − advert_int to
/// Master_Down_Interval after the death.
pub fn vip_move(t: &Timers, priority: u64) -> RecoveryTime {
    let mdi = master_down_interval_s(t, priority);
    let advert = t.advert_int_s as f64;
    let steps = [Step {
        what: format!(
            "the backup (priority {priority}) declares the master down Master_Down_Interval = 3 × advert_int + (256 − {priority}) / 256 × advert_int = {} s after the last advertisement it heard, which came up to advert_int ({}) before the death",
            seconds(mdi),
            t.advert_int_s
        ),
        low: (mdi - advert).max(0.0),
        high: mdi,
    }];
    sum(
        "VIP holder dies: the next HAProxy node holds the VIP",
        &steps,
        LAB_VIP_MOVE,
        VIP_MOVE_SOURCES,
        " It then announces the VIP with gratuitous ARP; connections through the VIP reopen on the new holder (the lab measured writes through the VIP again 3.8–3.9 s after the death).",
    )
}

/// Seconds writes through PgBouncer and the VIP pause when the primary's host dies, as
/// whole seconds: (best, average, worst) of [`primary_loss`] with the bundle's timers.
/// The lab's database drill checks its measurement against them (docs/lab.md, layer 3).
pub fn primary_loss_pause_s() -> (u64, u64, u64) {
    let r = primary_loss(&BUNDLE);
    (
        r.best_s.floor() as u64,
        r.average_s.round() as u64,
        r.worst_s.ceil() as u64,
    )
}

/// VRRP priority of the n-th HAProxy node in keepalived.conf: 200, 190, … (at least 50
/// for the 16th, the largest count validation allows).
pub fn vrrp_priority(index: u64) -> u64 {
    200u64.saturating_sub(index.saturating_sub(1).saturating_mul(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// VRRP priorities of backups are 1–254 (RFC 3768 §5.3.4; 255 is the address owner's),
    /// strictly decreasing over the largest HAProxy count validation allows.
    #[test]
    fn priorities_are_valid_and_decreasing() {
        let (_, max, _) = crate::plan::Role::Haproxy.count_bounds();
        let p: Vec<u64> = (1..=max).map(vrrp_priority).collect();
        assert!(p.iter().all(|p| (1..=254).contains(p)), "{p:?}");
        assert!(p.windows(2).all(|w| w[0] > w[1]), "{p:?}");
    }
}
