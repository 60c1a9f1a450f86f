//! Calls: coturn (TURN for 1:1 calls) on each coturn host; LiveKit (the SFU for group
//! calls) on each LiveKit host, multi-node through its own Redis on the first one.
//!
//! Per coturn host: `/etc/turnserver.conf` (coturn 4.6.1, Debian 12) and
//! `/etc/default/coturn`. Per LiveKit host: `/etc/livekit/livekit.yaml` (livekit-server
//! v1.13.5, the version matrix-docker-ansible-deploy @ c0681e4 pins through
//! ansible-role-livekit-server v1.13.5-0), the systemd unit that runs its container, and
//! a setup script; on `livekit1` also `/etc/redis/redis.conf` (Redis 7.0, Debian 12) and
//! the Redis exporter's settings. No files when the plan has no such hosts.
//!
//! Sources: coturn's `turnserver --help` and example turnserver.conf; Synapse's
//! `docs/setup/turn/coturn.md` (quotas, denied peers); livekit/livekit v1.13.5
//! `pkg/config/config.go` and livekit/mediatransportutil `pkg/rtcconfig` (every key and
//! type of livekit.yaml; the server decodes it strictly); element-hq/lk-jwt-service
//! README (room auto-creation off); Redis 7.0's redis.conf.

use super::{Comment, Ctx, File, Host, Scope, SecretId, ports};
use crate::assumptions as a;
use crate::plan::Role;
use crate::syntax::conf::Format;
use crate::syntax::{shell, yaml};
use std::fmt::Write;
use std::net::Ipv4Addr;

/// The LiveKit server version and its image (Docker Hub, the playbook's registry).
pub(super) const LIVEKIT_VERSION: &str = "v1.13.5";
const LIVEKIT_IMAGE: &str = "docker.io/livekit/livekit-server";
/// systemd unit and container name (scripts/certs/distribute.sh restarts `livekit`).
const LIVEKIT_UNIT: &str = "livekit";

/// Address ranges no TURN relay may reach: IANA special-purpose IPv4 blocks (RFC 6890),
/// the list Synapse's coturn guide recommends besides the private ranges. (first, last,
/// what.) Loopback peers are refused by coturn 4.6 unless `allow-loopback-peers`;
/// multicast (224.0.0.0 and above) by `no-multicast-peers`; both are listed anyway.
const SPECIAL_RANGES: &[(&str, &str, &str)] = &[
    ("0.0.0.0", "0.255.255.255", "\"this\" network"),
    ("100.64.0.0", "100.127.255.255", "carrier-grade NAT"),
    ("127.0.0.0", "127.255.255.255", "loopback"),
    (
        "169.254.0.0",
        "169.254.255.255",
        "link-local (cloud metadata services)",
    ),
    ("192.0.0.0", "192.0.0.255", "IETF protocol assignments"),
    ("192.0.2.0", "192.0.2.255", "documentation (TEST-NET-1)"),
    ("192.88.99.0", "192.88.99.255", "6to4 relay anycast"),
    ("198.18.0.0", "198.19.255.255", "benchmarking"),
    (
        "198.51.100.0",
        "198.51.100.255",
        "documentation (TEST-NET-2)",
    ),
    ("203.0.113.0", "203.0.113.255", "documentation (TEST-NET-3)"),
    ("240.0.0.0", "255.255.255.255", "reserved and broadcast"),
];

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Coturn) {
        out.push(turnserver_conf(ctx, h));
        out.push(coturn_default(ctx, h));
    }
    let redis = ctx.topology.first(Role::Livekit).cloned();
    for h in ctx.hosts(Role::Livekit) {
        let redis = redis.as_ref().unwrap_or(h);
        out.push(livekit_yaml(ctx, h, redis));
        out.push(livekit_unit(ctx, h, redis));
        out.push(livekit_setup(ctx, h, redis));
        if h.name == redis.name {
            out.push(redis_conf(ctx, h));
            out.push(redis_exporter(ctx, h));
        }
    }
    out
}

fn role_file(role: Role, h: &Host, path: &str, about: &str, body: String) -> File {
    File::new(
        format!("hosts/{}{path}", h.name),
        Scope::Role(role),
        about,
        body,
    )
    .for_host(h)
}

/// First and last address of an IPv4 network.
fn network_range(net: Ipv4Addr, prefix: u8) -> (Ipv4Addr, Ipv4Addr) {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    };
    let base = u32::from(net) & mask;
    (Ipv4Addr::from(base), Ipv4Addr::from(base | !mask))
}

fn turnserver_conf(ctx: &Ctx, h: &Host) -> File {
    let t = &ctx.topology;
    let p = &ctx.plan.coturn;
    let server = &t.server_name;
    let cv = |s: &str| Format::Coturn.value(s);
    let ip = cv(&h.ip.to_string());
    let (net_first, net_last) = network_range(ctx.plan.network.subnet, ctx.plan.network.prefix);
    let turn = &ctx.report.calls.turn;
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        r#"coturn 4.6 (Debian 12's package) on {name} ({addr}): TURN/STUN for 1:1 calls. Synapse
hands clients short-lived credentials derived from static-auth-secret (its
turn_shared_secret) and lists every coturn host as turn:<host>:{turn} and turns:<host>:{turns}.
Check after editing: turnserver -c /etc/turnserver.conf --log-file=stdout (coturn never
stops on an unknown line; it prints "Bad configuration format" and goes on).
This file holds the shared secret: keep it root:turnserver 0640 (the package's
dpkg-statoverride), readable by the turnserver user."#,
        name = h.name,
        addr = h.ip,
        turn = ports::TURN,
        turns = ports::TURNS,
    )));
    let _ = write!(
        o,
        r#"
# Listeners: STUN/TURN on UDP and TCP {turn}, TURN over TLS (and DTLS) {turns}, on this host's
# private address only.
listening-ip={ip}
listening-port={turn}
tls-listening-port={turns}

# One address, so no RFC 5780 NAT behaviour discovery (it needs two to answer
# CHANGE-REQUEST; coturn would warn on every start).
no-rfc5780

{relay_note}relay-ip={ip}
external-ip={ip}

# Relay ports from the plan (coturn.min-port..max-port): one allocation holds one port, so
# {ports} ports bound the concurrent allocations on this host. 91-reserved-ports.conf keeps
# them out of the kernel's ephemeral ports. File descriptors: coturn needs about two per
# session; systemd's default nofile {nofile} allows about {sessions} sessions (coturn prints
# the same figure at start). The plan's peak puts {need} allocations on this host
# (calls.turn.allocations-per-node).
min-port={min}
max-port={max}

# Authentication: the TURN REST API scheme (username = expiry:user, password = HMAC of
# it with the shared secret), as Synapse's turn_shared_secret expects.
use-auth-secret
static-auth-secret={secret}
realm={realm}
# WebRTC clients require the FINGERPRINT attribute.
fingerprint
# Nonces expire after 600 s, limiting replays.
stale-nonce=600

{quota_note}user-quota={user_quota}
total-quota={total_quota}

# TLS for turns: the server name's certificate (scripts/certs/distribute.sh installs it,
# key readable by the turnserver group). TLS 1.2 and later only.
cert={cert}
pkey={pkey}
no-tlsv1
no-tlsv1_1

{peers_note}no-multicast-peers
denied-peer-ip={denied}
"#,
        turn = ports::TURN,
        turns = ports::TURNS,
        relay_note = Comment::Hash.lines(&format!(
            "Relays are allocated on this address. external-ip is what clients are told to send to\n\
             (XOR-RELAYED-ADDRESS): the same private address, since clients reach this host\n\
             directly on the intranet. Behind a 1:1 NAT it would be external-ip=<public>/{}.",
            h.ip
        )),
        ports = turn.relay_ports_per_node,
        nofile = turn.nofile,
        sessions = turn.sessions_by_file_descriptors,
        need = turn.allocations_per_node,
        min = p.min_port,
        max = p.max_port,
        secret = cv(ctx.secret(SecretId::TurnSharedSecret)),
        realm = cv(server),
        quota_note = Comment::Hash.lines(&format!(
            "Quotas, from the plan's report (calls.turn). user-quota: Synapse's coturn guide allows\n\
             {user_calls} simultaneous relayed calls per user at {user_streams} streams per video call = {user_quota}\n\
             allocations per user. total-quota: the most this host can hold, the smaller of its {ports}\n\
             relay ports and the {sessions} sessions its descriptors allow: past it coturn answers\n\
             486 Allocation Quota Reached and the client's ICE uses another coturn host, instead of\n\
             this one running out of ports or descriptors. (The guide's 1200 is an example.)",
            user_calls = ctx.plan.assume(&a::TURN_USER_CALLS),
            user_streams = ctx.plan.assume(&a::TURN_ALLOCATIONS_PER_USER_CALL),
            user_quota = turn.user_quota,
            ports = turn.relay_ports_per_node,
            sessions = turn.sessions_by_file_descriptors,
        )),
        user_quota = turn.user_quota,
        total_quota = turn.total_quota,
        cert = cv(&format!("/etc/ssl/synapse-planner/{server}/fullchain.pem")),
        pkey = cv(&format!("/etc/ssl/synapse-planner/{server}/privkey.pem")),
        peers_note = Comment::Hash.lines(&format!(
            "Peers a relay may reach. An authenticated user can make this server send UDP (and,\n\
             with RFC 6062 TCP relays, open TCP connections) to any address it may reach, from\n\
             inside the cluster's network: that is what this list is for.\n\
             Denied: the cluster's own subnet {subnet} (PostgreSQL, PgBouncer, Redis, MinIO, the VIP,\n\
             SSH and every exporter live there), and the special-purpose ranges below.\n\
             Allowed: every coturn host's own address (a call where both sides relay goes from\n\
             one TURN server to the other's relay address; Synapse's guide special-cases the TURN\n\
             server itself the same way; allowed-peer-ip wins over denied-peer-ip).\n\
             Not denied, unlike the seed: the rest of 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16.\n\
             On an intranet the clients themselves are on those ranges, and denying them makes\n\
             every relayed call fail; the users who get TURN credentials (this homeserver's\n\
             logged-in users) already reach those networks from their own machines. If clients and servers share\n\
             one subnet, or part of the intranet must stay out of reach, add denied-peer-ip lines.\n\
             Ranges, not CIDR: coturn takes <first>-<last>.",
            subnet = t.subnet,
        )),
        denied = cv(&format!("{net_first}-{net_last}")),
    );
    for (first, last, what) in SPECIAL_RANGES {
        let _ = writeln!(o, "# {what}\ndenied-peer-ip={first}-{last}");
    }
    for c in ctx.hosts(Role::Coturn) {
        let _ = writeln!(o, "allowed-peer-ip={}", cv(&c.ip.to_string()));
    }
    let _ = write!(
        o,
        r#"# TCP relays stay allowed (the seed: do NOT set no-tcp-relay); the denied peers above
# apply to them too.

# Operations: no telnet CLI (it listens on 127.0.0.1:5766 with an empty password by
# default), no software version in responses, logs to stdout (systemd's journal).
no-cli
no-software-attribute
log-file=stdout
# No Prometheus exporter: Debian 12's coturn 4.6.1 is built without it ("prometheus" is
# "Bad configuration format" there). Monitor coturn through node_exporter's systemd
# unit state and the post-deploy check's TURN probe.
"#,
    );
    role_file(
        Role::Coturn,
        h,
        "/etc/turnserver.conf",
        "coturn: TURN on 3478/5349 with Synapse's shared secret, relay range from the plan, quotas, peers the relays may not reach.",
        o,
    )
    .secret()
}

fn coturn_default(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}\
# Read by Debian's /etc/init.d/coturn only: with systemd, coturn.service runs
# turnserver -c /etc/turnserver.conf and the package enables it. Set so that the
# daemon also starts where the SysV script is used.
TURNSERVER_ENABLED=1
",
        ctx.header(Comment::Hash)
    );
    role_file(
        Role::Coturn,
        h,
        "/etc/default/coturn",
        "Enables the coturn daemon for the SysV init script (systemd ignores it).",
        body,
    )
}

fn livekit_yaml(ctx: &Ctx, h: &Host, redis: &Host) -> File {
    use yaml::{Doc, Map, Seq};
    let p = &ctx.plan.livekit;
    let nodes = ctx.hosts(Role::Livekit).count();
    let lk = &ctx.report.calls.livekit;
    let ip = h.ip.to_string();
    let mut root = Map::new();
    root.comment(format!(
        "HTTP/WebSocket (signalling and the API) on this host's address, and on loopback for\n\
         local tools. HAProxy's livekit backend sends to {ip}:{port}.",
        port = ports::LIVEKIT_HTTP,
    ));
    root.insert("port", ports::LIVEKIT_HTTP);
    root.insert(
        "bind_addresses",
        Seq::new().with(ip.as_str()).with("127.0.0.1"),
    );
    let mut rtc = Map::new();
    rtc.comment("ICE over TCP for clients whose UDP is blocked.");
    rtc.insert("tcp_port", ports::LIVEKIT_RTC_TCP);
    rtc.comment(format!(
        "UDP media ports from the plan (livekit.port-range-*): {range} ports; each participant\n\
         uses two (one to publish, one to subscribe), so {participants} participants on this node at\n\
         a time; the plan's peak puts {need} here ({need_ports} ports, calls.livekit). 91-reserved-ports.conf\n\
         keeps them out of the ephemeral ports.",
        range = lk.port_range,
        participants = lk.participants_supported_per_node,
        need = lk.participants_per_node,
        need_ports = lk.ports_needed_per_node,
    ));
    rtc.insert("port_range_start", p.port_range_start);
    rtc.insert("port_range_end", p.port_range_end);
    rtc.comment(
        "Intranet: clients reach the node's private address, so it is announced as is and no\n\
         STUN lookup of a public address is made (use_external_ip would ask Google's STUN\n\
         servers, unreachable once the cluster is offline).",
    );
    rtc.insert("node_ip", ip.as_str());
    rtc.insert("use_external_ip", false);
    root.insert("rtc", rtc);
    root.comment(
        "Multi-node: rooms, nodes and the message bus between nodes live in Redis; a room runs\n\
         on one node, any node accepts its participants and relays them there.",
    );
    root.insert(
        "redis",
        Map::new()
            .with("address", format!("{}:{}", redis.ip, ports::LIVEKIT_REDIS))
            .with("password", ctx.secret(SecretId::LivekitRedisPassword)),
    );
    root.comment(
        "API key and secret, shared with the MatrixRTC JWT service on the Synapse host\n\
         (LIVEKIT_KEY / LIVEKIT_SECRET there). LiveKit wants secrets of 32 characters or more.",
    );
    root.insert(
        "keys",
        Map::new().with(
            ctx.secret(SecretId::LivekitApiKey),
            ctx.secret(SecretId::LivekitApiSecret),
        ),
    );
    root.insert(
        "room",
        Map::new()
            .commented(
                "Only the JWT service creates rooms (for users of this homeserver); without this any\n\
                 valid token would create one (lk-jwt-service README).",
            )
            .with("auto_create", false)
            .commented("Seconds an empty room is kept, so a reconnecting call finds its room.")
            .with("empty_timeout", 300u64)
            .commented("Seconds a room is kept after its last participant left.")
            .with("departure_timeout", 20u64),
    );
    root.comment(format!(
        "Where a new room runs: the node with the fewest rooms (LiveKit's default picks a random\n\
         node: kind any, sort_by random, pkg/config/config.go). The plan's sizing spreads rooms\n\
         evenly, ⌈rooms / nodes⌉ = {rooms_per_node} per node; this keeps placement close to that (each\n\
         node reports its room count every 2 s, node_stats_config.stats_update_interval).",
        rooms_per_node = lk.rooms_per_node,
    ));
    root.insert(
        "node_selector",
        Map::new()
            .with("kind", "any")
            .with("sort_by", "rooms")
            .with("algorithm", "lowest"),
    );
    root.comment(format!(
        "Prometheus metrics on {metrics} (prometheus.port; the top-level prometheus_port is\n\
         deprecated in {LIVEKIT_VERSION} and logs a warning).",
        metrics = ports::LIVEKIT_METRICS,
    ));
    root.insert(
        "prometheus",
        Map::new().with("port", ports::LIVEKIT_METRICS),
    );
    root.insert("logging", Map::new().with("level", "info"));
    root.comment("TURN is coturn's job (its own hosts); LiveKit's embedded TURN stays off.");
    root.insert("turn", Map::new().with("enabled", false));
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "LiveKit SFU {LIVEKIT_VERSION} on {name} ({ip}), one of {nodes} node(s) sharing rooms through the\n\
             Redis on {redis_name}. Every key is one of livekit-server {LIVEKIT_VERSION}'s config keys: the server\n\
             refuses unknown keys at start. Clients reach the signalling port through HAProxy\n\
             (wss://{server}/livekit-server, prefix stripped) and send media straight to this host.\n\
             This file holds the API secret and the Redis password: keep it 0600.",
            name = h.name,
            redis_name = redis.name,
            server = ctx.topology.server_name,
        ))
        .start();
    role_file(
        Role::Livekit,
        h,
        "/etc/livekit/livekit.yaml",
        "LiveKit SFU config: ports, RTC range and node IP, Redis, API key, rooms, metrics.",
        doc.render(),
    )
    .secret()
}

fn image() -> String {
    format!("{LIVEKIT_IMAGE}:{LIVEKIT_VERSION}")
}

/// The open-file limit LiveKit's container runs with: its need at the plan's peak
/// (`sizing::descriptors`), never below the cluster's default, never above fs.nr_open's
/// ceiling (past it the report has an error finding).
fn livekit_nofile(ctx: &Ctx) -> u64 {
    use crate::sizing::descriptors::{self as d, NR_OPEN_MAX, limit_nofile};
    let need = d::needs(ctx.plan, &ctx.report.connections, &ctx.report.calls)
        .into_iter()
        .find(|n| n.role == Role::Livekit)
        .map_or(0, |n| n.per_process);
    limit_nofile(need.min(NR_OPEN_MAX))
}

fn livekit_unit(ctx: &Ctx, h: &Host, redis: &Host) -> File {
    let nofile = livekit_nofile(ctx);
    let redis_dep = if h.name == redis.name {
        "# Redis for every LiveKit node runs on this host: start after it.\nAfter=redis-server.service\nWants=redis-server.service\n"
    } else {
        ""
    };
    let body = format!(
        r#"{header}{about}[Unit]
Description=LiveKit SFU {version} (container)
Documentation=https://github.com/livekit/livekit
Wants=network-online.target
After=network-online.target docker.service
Requires=docker.service
{redis_dep}
[Service]
Type=simple
ExecStartPre=-/usr/bin/docker rm --force {unit}
# nofile {nofile}: one descriptor per UDP port of the range in use, per signalling
# WebSocket and TCP connection, and its own; the plan's need or the seed's 65535,
# whichever is more (dockerd would give the container its own, much higher, default).
# Above 1048576 this host's fs.nr_open is raised for it (/etc/sysctl.d/93-file-descriptors.conf).
ExecStart=/usr/bin/docker run --rm --name {unit} --network host --ulimit nofile={nofile}:{nofile} --volume /etc/livekit/livekit.yaml:/etc/livekit.yaml:ro {image} --config /etc/livekit.yaml
# LiveKit closes its rooms on SIGTERM; give it 30 s.
ExecStop=/usr/bin/docker stop --time 30 {unit}
Restart=always
RestartSec=5s
# The first start may pull the image.
TimeoutStartSec=300

[Install]
WantedBy=multi-user.target
"#,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "LiveKit SFU {LIVEKIT_VERSION} on {name}: the pinned upstream image, host networking (the UDP\n\
             range, TCP {tcp}, {port} and {metrics} are the host's own), the config read-only.",
            name = h.name,
            tcp = ports::LIVEKIT_RTC_TCP,
            port = ports::LIVEKIT_HTTP,
            metrics = ports::LIVEKIT_METRICS,
        )),
        version = LIVEKIT_VERSION,
        unit = LIVEKIT_UNIT,
        image = image(),
    );
    role_file(
        Role::Livekit,
        h,
        &format!("/etc/systemd/system/{LIVEKIT_UNIT}.service"),
        "systemd unit running the pinned livekit-server container with host networking.",
        body,
    )
}

fn livekit_setup(ctx: &Ctx, h: &Host, redis: &Host) -> File {
    let redis_part = if h.name == redis.name {
        format!(
            r#"
# LiveKit's Redis and its exporter (packages installed by prepare-host.sh with this
# bundle's config): restart so they run with it, then check the password works.
systemctl restart redis-server
systemctl enable --now prometheus-redis-exporter
systemctl restart prometheus-redis-exporter
password="$(awk '$1 == "requirepass" {{ print $2 }}' /etc/redis/redis.conf)"
if [ "$(REDISCLI_AUTH="$password" redis-cli -h "$ip" -p {redis_port} ping)" != "PONG" ]; then
  echo "Redis on $ip:{redis_port} does not answer PING with the configured password" >&2
  exit 1
fi
echo "Redis on $ip:{redis_port}: ok"
"#,
            redis_port = ports::LIVEKIT_REDIS,
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"#!/usr/bin/env bash
{header}#
{about}#   sudo /usr/local/sbin/setup-livekit.sh
set -euo pipefail

image="{image}"
{ip}
if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi
{redis_part}
systemctl enable --now docker
docker pull "$image"
systemctl daemon-reload
systemctl enable {unit}.service
systemctl restart {unit}.service

# LiveKit answers GET / with "OK" once it runs (bash's /dev/tcp: no curl needed).
probe() {{
  timeout 5 bash -c 'exec 3<> "/dev/tcp/$0/$1" && printf "GET / HTTP/1.0\r\n\r\n" >&3 && grep -q "^OK" <&3' "$1" "$2" 2> /dev/null
}}
for _ in $(seq 1 60); do
  if probe "$ip" {port}; then
    echo "LiveKit {version} answers on $ip:{port}"
    exit 0
  fi
  sleep 2
done
echo "LiveKit does not answer on $ip:{port}: see journalctl -u {unit}" >&2
exit 1
"#,
        header = ctx.header(Comment::Hash),
        about = Comment::Hash.lines(&format!(
            "Run once on {name}, as root, after prepare-host.sh (which installed this bundle's files and\n\
             the packages): pulls the pinned LiveKit image, starts LiveKit under systemd and waits\n\
             until it answers on {addr}:{port}.",
            name = h.name,
            addr = h.ip,
            port = ports::LIVEKIT_HTTP,
        )),
        ip = shell::assign("ip", &h.ip.to_string()),
        port = ports::LIVEKIT_HTTP,
        image = image(),
        unit = LIVEKIT_UNIT,
        version = LIVEKIT_VERSION,
    );
    role_file(
        Role::Livekit,
        h,
        "/usr/local/sbin/setup-livekit.sh",
        "Run once on the LiveKit node: pulls the pinned image, starts LiveKit (and on the first node checks Redis).",
        body,
    )
    .script()
}

/// Redis's maxmemory: the RAM the budget gives this Redis (assumption livekit-redis-gib),
/// in whole MiB, rounded down: it is what is available, and rounding up would let Redis
/// grow past its budget.
fn redis_maxmemory_mb(ctx: &Ctx) -> u64 {
    // At least 1: `maxmemory 0` means no limit at all (redis.conf of Redis 7.0).
    crate::sizing::round_down_available(ctx.plan.assume(&a::LIVEKIT_REDIS_GIB) * 1024.0).max(1)
}

fn redis_conf(ctx: &Ctx, h: &Host) -> File {
    let wv = |s: &str| Format::Words.value(s);
    let nodes: Vec<String> = ctx.hosts(Role::Livekit).map(|l| l.name.clone()).collect();
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        "Redis 7.0 (Debian 12) on {name}: LiveKit's shared state for its nodes ({nodes}):\n\
         rooms and the node each runs on, node load, and the message bus between nodes. Not\n\
         Synapse's (Synapse uses the playbook's Valkey on the Synapse host).\n\
         Debian's redis-server.service runs: redis-server /etc/redis/redis.conf --supervised systemd --daemonize no\n\
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
        "/etc/redis/redis.conf",
        "Redis for LiveKit's multi-node state: private address + loopback, password, no persistence, memory cap.",
        o,
    )
    .secret()
}

fn redis_exporter(ctx: &Ctx, h: &Host) -> File {
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
        "/etc/default/prometheus-redis-exporter",
        "Redis exporter settings: scrapes LiveKit's Redis on loopback, serves metrics on 9121.",
        body,
    )
    .secret()
}

#[cfg(test)]
mod tests {
    use super::super::{Secrets, Topology};
    use super::*;
    use crate::plan::Plan;

    use crate::bundle::{contents, with_ctx};

    fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

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

    /// `key=value` (coturn) or `key value` (Redis) settings, in order, comments skipped.
    fn settings(text: &str, sep: char) -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| match l.split_once(sep) {
                Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                None => (l.trim().to_string(), String::new()),
            })
            .collect()
    }

    fn values(s: &[(String, String)], key: &str) -> Vec<String> {
        s.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    #[test]
    fn network_ranges() {
        for (net, prefix, first, last) in [
            ("10.0.1.0", 24, "10.0.1.0", "10.0.1.255"),
            ("10.0.0.0", 16, "10.0.0.0", "10.0.255.255"),
            ("10.0.1.77", 24, "10.0.1.0", "10.0.1.255"),
            ("172.16.0.0", 12, "172.16.0.0", "172.31.255.255"),
            ("10.0.0.0", 8, "10.0.0.0", "10.255.255.255"),
            ("0.0.0.0", 0, "0.0.0.0", "255.255.255.255"),
        ] {
            let (a, b) = network_range(net.parse().expect("ip"), prefix);
            assert_eq!(
                (a.to_string(), b.to_string()),
                (first.into(), last.into()),
                "{net}/{prefix}"
            );
        }
    }

    #[test]
    fn files_per_host_and_none_without_hosts() {
        for (changes, expect) in [
            (
                &[("hosts.coturn.count", "0"), ("hosts.livekit.count", "0")][..],
                vec![],
            ),
            (
                &[("hosts.coturn.count", "1"), ("hosts.livekit.count", "0")][..],
                vec![
                    "hosts/coturn1/etc/turnserver.conf",
                    "hosts/coturn1/etc/default/coturn",
                ],
            ),
            (
                &[("hosts.coturn.count", "0"), ("hosts.livekit.count", "2")][..],
                vec![
                    "hosts/livekit1/etc/livekit/livekit.yaml",
                    "hosts/livekit1/etc/systemd/system/livekit.service",
                    "hosts/livekit1/usr/local/sbin/setup-livekit.sh",
                    "hosts/livekit1/etc/redis/redis.conf",
                    "hosts/livekit1/etc/default/prometheus-redis-exporter",
                    "hosts/livekit2/etc/livekit/livekit.yaml",
                    "hosts/livekit2/etc/systemd/system/livekit.service",
                    "hosts/livekit2/usr/local/sbin/setup-livekit.sh",
                ],
            ),
        ] {
            let p = plan(changes);
            let files = with_ctx(&p, files);
            let got: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            assert_eq!(got, expect, "{changes:?}");
            for f in &files {
                let mode = if f.path.ends_with(".sh") {
                    0o755
                } else if f.path.ends_with("coturn") || f.path.ends_with(".service") {
                    0o644
                } else {
                    0o600
                };
                assert_eq!(f.mode, mode, "{}", f.path);
            }
        }
    }

    #[test]
    fn coturn_settings_follow_the_plan() {
        let p = plan(&[("coturn.min-port", "40000"), ("coturn.max-port", "40999")]);
        let files = with_ctx(&p, files);
        let s = settings(&contents(&files, "hosts/coturn2/etc/turnserver.conf"), '=');
        let (turn, turns) = (ports::TURN.to_string(), ports::TURNS.to_string());
        for (key, want) in [
            ("listening-ip", vec!["10.0.1.110"]),
            ("relay-ip", vec!["10.0.1.110"]),
            ("external-ip", vec!["10.0.1.110"]),
            ("listening-port", vec![turn.as_str()]),
            ("tls-listening-port", vec![turns.as_str()]),
            ("min-port", vec!["40000"]),
            ("max-port", vec!["40999"]),
            ("realm", vec!["chat.example.com"]),
            // The report's quotas: 3 calls × 4 streams; min(1,000 relay ports, 32,500 sessions).
            ("user-quota", vec!["12"]),
            ("total-quota", vec!["1000"]),
            (
                "static-auth-secret",
                vec![Secrets::placeholders().get(SecretId::TurnSharedSecret)],
            ),
            ("allowed-peer-ip", vec!["10.0.1.109", "10.0.1.110"]),
            ("use-auth-secret", vec![""]),
            ("no-multicast-peers", vec![""]),
            ("no-cli", vec![""]),
            ("no-tcp-relay", vec![]),
            ("no-loopback-peers", vec![]),
            ("prometheus", vec![]),
            (
                "cert",
                vec!["/etc/ssl/synapse-planner/chat.example.com/fullchain.pem"],
            ),
            (
                "pkey",
                vec!["/etc/ssl/synapse-planner/chat.example.com/privkey.pem"],
            ),
        ] {
            assert_eq!(values(&s, key), want, "{key}");
        }
        let denied = values(&s, "denied-peer-ip");
        assert_eq!(
            denied[0], "10.0.1.0-10.0.1.255",
            "the cluster's subnet first"
        );
        assert_eq!(denied.len(), 1 + SPECIAL_RANGES.len());
        for d in &denied {
            let (a, b) = d.split_once('-').expect("a range");
            let (a, b): (Ipv4Addr, Ipv4Addr) = (a.parse().expect("ip"), b.parse().expect("ip"));
            assert!(a <= b, "{d}");
        }
        // Intranet clients' private ranges outside the cluster subnet stay reachable.
        for d in [
            "10.0.0.0-10.255.255.255",
            "192.168.0.0-192.168.255.255",
            "172.16.0.0-172.31.255.255",
        ] {
            assert!(!denied.contains(&d.to_string()), "{d}");
        }
    }

    /// The ports and passwords the LiveKit files agree on.
    #[test]
    fn livekit_redis_and_ports_agree() {
        let p = plan(&[
            ("livekit.port-range-start", "50000"),
            ("livekit.port-range-end", "50999"),
        ]);
        let files = with_ctx(&p, files);
        let redis = settings(
            &contents(&files, "hosts/livekit1/etc/redis/redis.conf"),
            ' ',
        );
        assert_eq!(
            values(&redis, "port"),
            vec![ports::LIVEKIT_REDIS.to_string()]
        );
        assert_eq!(values(&redis, "bind"), vec!["10.0.1.173 127.0.0.1"]);
        assert_eq!(values(&redis, "maxmemory"), vec!["512mb"]);
        let password = values(&redis, "requirepass").remove(0);
        let secrets = Secrets::placeholders();
        assert_eq!(password, secrets.get(SecretId::LivekitRedisPassword));
        for n in ["livekit1", "livekit2"] {
            let y = contents(&files, &format!("hosts/{n}/etc/livekit/livekit.yaml"));
            let v: serde_yaml::Value = serde_yaml::from_str(&y).expect("yaml");
            let get = |path: &str| {
                path.split('.')
                    .try_fold(&v, |v, k| v.get(k))
                    .unwrap_or_else(|| panic!("{n}: no {path}"))
                    .clone()
            };
            let num = |path: &str| get(path).as_u64().unwrap_or_else(|| panic!("{path}"));
            let text = |path: &str| {
                get(path)
                    .as_str()
                    .unwrap_or_else(|| panic!("{path}"))
                    .to_string()
            };
            assert_eq!(num("port"), u64::from(ports::LIVEKIT_HTTP));
            assert_eq!(num("rtc.tcp_port"), u64::from(ports::LIVEKIT_RTC_TCP));
            assert_eq!(num("rtc.port_range_start"), 50000);
            assert_eq!(num("rtc.port_range_end"), 50999);
            assert_eq!(num("prometheus.port"), u64::from(ports::LIVEKIT_METRICS));
            assert_eq!(
                text("redis.address"),
                format!("10.0.1.173:{}", ports::LIVEKIT_REDIS)
            );
            assert_eq!(text("redis.password"), password);
            let ip = Topology::new(&p).by_name(n).expect("host").ip.to_string();
            assert_eq!(text("rtc.node_ip"), ip);
            assert_eq!(get("rtc.use_external_ip"), serde_yaml::Value::Bool(false));
            assert_eq!(get("room.auto_create"), serde_yaml::Value::Bool(false));
            assert_eq!(text("node_selector.kind"), "any");
            assert_eq!(text("node_selector.sort_by"), "rooms");
            assert_eq!(text("node_selector.algorithm"), "lowest");
            assert_eq!(
                text(&format!("keys.{}", secrets.get(SecretId::LivekitApiKey))),
                secrets.get(SecretId::LivekitApiSecret)
            );
            let unit = contents(
                &files,
                &format!("hosts/{n}/etc/systemd/system/livekit.service"),
            );
            assert!(unit.contains(&format!(
                "{LIVEKIT_IMAGE}:{LIVEKIT_VERSION} --config /etc/livekit.yaml"
            )));
            assert!(unit.contains("--volume /etc/livekit/livekit.yaml:/etc/livekit.yaml:ro"));
            assert_eq!(
                unit.contains("After=redis-server.service"),
                n == "livekit1",
                "{n}"
            );
        }
        let exporter = contents(
            &files,
            "hosts/livekit1/etc/default/prometheus-redis-exporter",
        );
        assert!(exporter.contains(&format!(
            "-redis.addr redis://127.0.0.1:{}",
            ports::LIVEKIT_REDIS
        )));
        assert!(exporter.contains(&format!(
            "-web.listen-address 10.0.1.173:{}",
            ports::REDIS_EXPORTER
        )));
        assert!(exporter.contains(&format!("\nREDIS_PASSWORD={password}\n")));
    }
}
