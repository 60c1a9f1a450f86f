//! The timings that decide how fast the cluster recovers from losing a host: Patroni's
//! leader key, HAProxy's health checks, keepalived's VRRP. The bundle writes them into
//! Patroni's bootstrap, haproxy.cfg and keepalived.conf; the failure analysis
//! (`sizing::failures`) and the alerts reason from the same values.

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

// HAProxy marks a promoted replica up, and a dead primary down, well within the leader
// key's TTL (checked when compiling).
const _: () = assert!(
    PATRONI_LOOP_WAIT_S + 2 * PATRONI_RETRY_TIMEOUT_S <= PATRONI_TTL_S
        && HAPROXY_CHECK_RISE * HAPROXY_CHECK_INTER_S < PATRONI_TTL_S
        && HAPROXY_CHECK_FALL * HAPROXY_CHECK_INTER_S < PATRONI_TTL_S
);

/// Seconds writes through PgBouncer and the VIP pause when the primary's host dies:
/// (shortest, typical, longest). The leader key was renewed up to loop_wait before the
/// death, so it expires ttl − loop_wait to ttl after it; a replica sees that at its next
/// cycle (up to loop_wait later) and promotes itself; HAProxy sends port 5432 to it
/// after `rise` good checks `inter` apart ((rise − 1) × inter to rise × inter); PgBouncer
/// connects at its next login retry. The typical figure takes the middle of each span.
/// The lab's database drill measures it (docs/lab.md, layer 3).
pub fn primary_loss_pause_s() -> (u64, u64, u64) {
    let haproxy_min = HAPROXY_CHECK_RISE.saturating_sub(1) * HAPROXY_CHECK_INTER_S;
    let haproxy_max = HAPROXY_CHECK_RISE * HAPROXY_CHECK_INTER_S;
    let shortest = PATRONI_TTL_S - PATRONI_LOOP_WAIT_S + haproxy_min;
    let longest =
        PATRONI_TTL_S + PATRONI_LOOP_WAIT_S + haproxy_max + PGBOUNCER_SERVER_LOGIN_RETRY_S;
    (shortest, (shortest + longest) / 2, longest)
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
