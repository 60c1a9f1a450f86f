//! LiveKit's Redis on the first LiveKit host: `redis.conf` (Redis 7.0, Debian 12) and the
//! settings of its Prometheus exporter.

use super::role_file;
use crate::assumptions as a;
use crate::bundle::{Comment, Ctx, File, SecretId};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::conf::Format;
use std::fmt::Write;

/// Redis's configuration (Debian's redis-server.service reads it).
pub(super) const REDIS_CONF: &str = "/etc/redis/redis.conf";
/// prometheus-redis-exporter's environment file.
pub(super) const REDIS_EXPORTER_ENV: &str = "/etc/default/prometheus-redis-exporter";

/// Redis's maxmemory: the RAM the budget gives this Redis (assumption livekit-redis-gib),
/// in whole MiB, rounded down: it is what is available, and rounding up would let Redis
/// grow past its budget.
fn redis_maxmemory_mb(ctx: &Ctx) -> u64 {
    // At least 1: `maxmemory 0` means no limit at all (redis.conf of Redis 7.0).
    crate::sizing::round_down_available(ctx.plan.assume(&a::LIVEKIT_REDIS_GIB) * 1024.0).max(1)
}

/// redis.conf of LiveKit's Redis on host `h`.
pub(super) fn redis_conf(ctx: &Ctx, h: &Host) -> File {
    let wv = |s: &str| Format::Words.value(s);
    let nodes: Vec<String> = ctx.hosts(Role::Livekit).map(|l| l.name.clone()).collect();
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        "Redis 7.0 (Debian 12) on {name}: LiveKit's shared state for its nodes ({nodes}):\n\
         rooms and the node each runs on, node load, and the message bus between nodes. Not\n\
         Synapse's (Synapse uses the playbook's Valkey on the Synapse host).\n\
         Debian's redis-server.service runs: redis-server {REDIS_CONF} --supervised systemd --daemonize no\n\
         This file holds the password: the package keeps it redis:redis 0640 (dpkg-statoverride).",
        name = h.name,
        nodes = nodes.join(", "),
    )));
    let _ = write!(
        o,
        r#"
# This host's private address for the other LiveKit nodes, loopback for the exporter.
bind {ip} 127.0.0.1
port {port}
protected-mode yes
requirepass {password}

daemonize no
pidfile /run/redis/redis-server.pid
loglevel notice
# stdout: systemd's journal.
logfile ""
dir /var/lib/redis

# No persistence. Everything LiveKit keeps here is live state that its nodes rewrite
# within seconds (each node re-registers and reports its load every few seconds; a
# room's entry is recreated when participants join again); calls in progress keep their
# media, which never passes through Redis. Restoring a snapshot after an outage would
# bring back rooms and nodes that no longer exist, and writing one every few seconds
# buys nothing.
save ""
appendonly no

# Memory: the {mb} MiB the plan's RAM budget gives this Redis (livekit-redis-gib); LiveKit's
# data is a few MB. noeviction: when full, writes fail loudly instead of silently
# dropping the state of a room or a node.
maxmemory {mb}mb
maxmemory-policy noeviction

# Connections: each LiveKit node keeps a small pool; Redis's default of 10000 clients
# plus its own 32 descriptors fits the service's LimitNOFILE=65535.
maxclients 10000
tcp-keepalive 300
timeout 0
"#,
        ip = wv(&h.ip.to_string()),
        port = ports::LIVEKIT_REDIS,
        password = wv(ctx.secret(SecretId::LivekitRedisPassword)),
        mb = redis_maxmemory_mb(ctx),
    );
    role_file(
        Role::Livekit,
        h,
        REDIS_CONF,
        "Redis for LiveKit's multi-node state: private address + loopback, password, no persistence, memory cap.",
        o,
    )
    .secret()
}

/// The Redis exporter's environment on host `h`.
pub(super) fn redis_exporter(ctx: &Ctx, h: &Host) -> File {
    let ev = |s: &str| Format::EnvFile.value(s);
    let mut body = ctx.header(Comment::Hash);
    body.push_str(&Comment::Hash.lines(&format!(
        "prometheus-redis-exporter (Debian 12, redis_exporter 1.45) on {name}: LiveKit's Redis\n\
         metrics for Prometheus on {ip}:{exporter}/metrics. Read by prometheus-redis-exporter.service\n\
         (EnvironmentFile): ARGS are its flags; REDIS_PASSWORD, the Redis password, is read from\n\
         the environment so it does not show in the process list. Keep this file 0600.",
        name = h.name,
        ip = h.ip,
        exporter = ports::REDIS_EXPORTER,
    )));
    let _ = write!(
        body,
        "ARGS={args}\nREDIS_PASSWORD={password}\n",
        args = ev(&format!(
            "-redis.addr redis://127.0.0.1:{port} -web.listen-address {ip}:{exporter}",
            port = ports::LIVEKIT_REDIS,
            ip = h.ip,
            exporter = ports::REDIS_EXPORTER,
        )),
        password = ev(ctx.secret(SecretId::LivekitRedisPassword)),
    );
    role_file(
        Role::Livekit,
        h,
        REDIS_EXPORTER_ENV,
        "Redis exporter settings: scrapes LiveKit's Redis on loopback, serves metrics on 9121.",
        body,
    )
    .secret()
}

#[cfg(test)]
mod tests {
    use super::super::tests::plan;
    use super::*;
    use crate::bundle::with_ctx;

    #[test]
    fn numbers_past_tool_limits_redis_maxmemory_rounds_down_and_is_never_unlimited() {
        // (livekit-redis-gib, maxmemory in MiB): within the budget, never 0 (no limit).
        for (gib, mb) in [("0.5", 512), ("0.0019", 1), ("0", 1), ("1.99999", 2047)] {
            let p = plan(&[("assumptions.livekit-redis-gib", gib)]);
            with_ctx(&p, |ctx| {
                assert_eq!(redis_maxmemory_mb(ctx), mb, "{gib} GiB")
            });
        }
    }
}
