//! The edge: HAProxy on every HAProxy host, all of them bound to the keepalived VIP,
//! and keepalived moving that VIP to a node whose HAProxy answers.
//!
//! Per HAProxy host: `/etc/haproxy/haproxy.cfg` (HAProxy 2.6, Debian 12; nothing in it
//! is deprecated on 2.8–3.x), `/etc/keepalived/keepalived.conf` with its track script,
//! and the sysctl that lets the standby bind the VIP it does not hold.
//!
//! Sources: HAProxy 2.6 configuration manual (`/usr/share/doc/haproxy/configuration.txt`),
//! keepalived.conf(5) of keepalived 2.2, Patroni's `haproxy.cfg` example (REST API
//! health checks), matrix-docker-ansible-deploy `docs/configuring-playbook-own-webserver.md`
//! @ c0681e4 ("Fronting the integrated reverse-proxy webserver with another reverse-proxy").

use super::{Comment, Ctx, File, Host, Scope, ports};
use crate::assumptions as a;
use crate::plan::Role;
use crate::syntax::conf::Format;
use std::fmt::Write;

/// certbot's standalone HTTP-01 server on the HAProxy node's loopback while a certificate
/// is issued or renewed (scripts/certs/letsencrypt.sh).
const ACME_PORT: u16 = super::ports::ACME_HTTP01;
const ACME_ADDRESS: &str = "127.0.0.1";
/// The public path of LiveKit's signalling (the playbook's `livekit_server_path_prefix`,
/// group_vars/matrix_servers @ c0681e4); the JWT service hands clients
/// `wss://<server name>/livekit-server`.
use super::topology::LIVEKIT_PATH;
/// Where keepalived's track script lives on each HAProxy node.
const TRACK_SCRIPT: &str = "/etc/keepalived/check-haproxy.sh";
/// HAProxy answers this itself on the stats front end (monitor-uri): the track script's probe.
const MONITOR_URI: &str = "/healthz";
/// Debian 12's HAProxy 2.6 is built with MAX_THREADS=64 (`haproxy -vv`) and one thread group.
const HAPROXY_MAX_THREADS: u64 = 64;
/// Synapse health paths reachable through Traefik. The playbook's Traefik routes only
/// `/_matrix`, `/_synapse/client` and `/_synapse/admin` on the Matrix host name
/// (roles/custom/matrix-synapse/defaults/main.yml, `*_traefik_path_prefix`): a GET
/// `/health` there is a 404, so these Matrix endpoints, which Synapse answers without
/// authentication, check the whole path HAProxy → Traefik → worker.
const CLIENT_HEALTH_URI: &str = "/_matrix/client/versions";
const FEDERATION_HEALTH_URI: &str = "/_matrix/federation/v1/version";
/// User of the HAProxy stats page.
const STATS_USER: &str = "admin";

/// `s` as one haproxy.cfg value (a word as it is, anything else single-quoted).
fn hv(s: &str) -> String {
    Format::Haproxy.value(s)
}

/// `text` as `#` comment lines through the comment writer (one per `\n`, none ending
/// early whatever a value in it holds), each indented by `indent`.
fn comment(indent: &str, text: &str) -> String {
    Comment::Hash
        .lines(text)
        .lines()
        .map(|l| format!("{indent}{l}\n"))
        .collect()
}

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Haproxy) {
        out.push(haproxy_cfg(ctx, h));
        out.push(keepalived_conf(ctx, h));
        out.push(track_script(ctx, h));
        out.push(nonlocal_bind(ctx, h));
    }
    out
}

fn role_file(h: &Host, path: &str, about: &str, body: String) -> File {
    File::new(
        format!("hosts/{}{path}", h.name),
        Scope::Role(Role::Haproxy),
        about,
        body,
    )
    .for_host(h)
}

/// `nbthread`: one per vCPU, within what the build supports.
fn threads(ctx: &Ctx) -> u64 {
    ctx.plan
        .host(Role::Haproxy)
        .vcpus
        .clamp(1, HAPROXY_MAX_THREADS)
}

fn haproxy_cfg(ctx: &Ctx, h: &Host) -> File {
    let t = &ctx.topology;
    let vip = t.vip;
    let server = &t.server_name;
    let maxconn = ctx.report.connections.haproxy_maxconn;
    let peak = ctx.report.plan.users_peak_concurrent;
    let per_user = ctx.plan.assume(&a::HAPROXY_CONNS_PER_USER);
    let nofile = a::NOFILE_LIMIT.value as u64;
    let vcpus = ctx.plan.host(Role::Haproxy).vcpus;
    let nbthread = threads(ctx);
    let crt = hv(&format!("/etc/haproxy/certs/{server}.pem"));
    let synapse = t
        .first(Role::Synapse)
        .map(|s| s.ip.to_string())
        .unwrap_or_default();
    let livekit: Vec<&Host> = ctx.hosts(Role::Livekit).collect();
    let password = ctx.secret(super::SecretId::HaproxyStatsPassword);
    // `address:port` on the VIP, as one value.
    let on_vip = |port: u16| hv(&format!("{vip}:{port}"));

    let mut o = ctx.header(Comment::Hash);
    o.push_str(&comment(
        "",
        &format!(
            r#"HAProxy for {server} on {name} ({ip}). Written for HAProxy 2.6 (Debian 12), in forms
later versions keep: health checks use "http-check send", not the old "option httpchk
GET /x HTTP/1.1\r\nHost:..." trick that 2.7 and later refuse. Every HAProxy node has the same
front ends on the VIP {vip}; keepalived gives the VIP to one node at a time, and the
others can still start because net.ipv4.ip_nonlocal_bind = 1
(/etc/sysctl.d/91-haproxy-nonlocal-bind.conf).
Check after editing: haproxy -c -f /etc/haproxy/haproxy.cfg
This file holds the stats page password: keep it 0600."#,
            name = h.name,
            ip = h.ip,
        ),
    ));
    let _ = write!(
        o,
        r#"
global
    log /dev/log local0
    log /dev/log local1 notice
    chroot /var/lib/haproxy
    stats socket /run/haproxy/admin.sock mode 660 level admin
    stats timeout 30s
    user haproxy
    group haproxy
{maxconn_note}    maxconn {maxconn}
{threads_note}    nbthread {nbthread}
    # TLS: Mozilla's "intermediate" profile (TLS 1.2 and 1.3, forward-secret AEAD
    # ciphers), without the DHE suites, so no DH parameter file is needed.
    ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305
    ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256
    ssl-default-bind-options prefer-client-ciphers no-sslv3 no-tlsv10 no-tlsv11 no-tls-tickets

defaults
    log global
    option dontlognull
    # A request whose connection to a server failed is sent again, to another server
    # when there is one.
    option redispatch
    retries 3
    # The seed's timeouts. Clients long-poll /sync for up to 30 s (the Matrix clients'
    # default timeout parameter), so 50 s of server silence still means trouble.
    timeout connect 5s
    timeout client 50s
    timeout server 50s
    # Upgraded connections (LiveKit's signalling WebSocket) and the TCP listeners below
    # idle much longer: once a connection is a tunnel this replaces client/server.
    timeout tunnel 1h
    # Clients that vanish without acknowledging a close (the manual's advice with
    # a long tunnel timeout).
    timeout client-fin 30s
    # A request's headers must arrive within 10 s (slow-header attacks); an idle
    # keep-alive connection is closed after 10 s.
    timeout http-request 10s
    timeout http-keep-alive 10s
    timeout queue 30s
    timeout check 5s
    # The seed's health checks: every 3 s, down after 3 failures, up after 2.
    default-server inter 3s fall 3 rise 2

# Port {http}: Let's Encrypt's HTTP-01 challenge goes to certbot's standalone server on
# this node's loopback ({acme_addr}:{acme}, scripts/certs/letsencrypt.sh); every other
# request is redirected to HTTPS.
frontend http
    bind {bind_http}
    mode http
    option httplog
    acl acme_challenge path_beg /.well-known/acme-challenge/
    http-request redirect scheme https code 301 unless acme_challenge
    use_backend acme if acme_challenge

# Port {https}: clients. TLS ends here (one PEM with the full chain and the key); HTTP/2
# and HTTP/1.1 to clients, HTTP/1.1 with keep-alive to Traefik.
frontend https
    bind {bind_https} ssl crt {crt} alpn h2,http/1.1
    mode http
    option httplog
    # The client's address replaces whatever X-Forwarded-For a client sent: Synapse
    # takes the first address of that header as the client's IP (rate limits, sessions).
    http-request set-header X-Forwarded-For %[src]
    http-request set-header X-Forwarded-Proto https
    # Two years, the host name only: other names under the domain may still be plain HTTP.
    http-response set-header Strict-Transport-Security "max-age=63072000"
"#,
        maxconn_note = comment(
            "    ",
            &format!(
                "Concurrent connections, from the plan's report (connections.haproxy-maxconn):
{peak} peak users x {per_user} front-end connections each, at least 2,000, rounded up
to a thousand. Front ends inherit it (their maxconn 0 = the global one)."
            ),
        ),
        threads_note = comment(
            "    ",
            &format!(
                "File descriptors: HAProxy sizes its own limit from maxconn (2 per connection,
client and server side, plus listeners, checks and threads: at most {fds} here,
connections.haproxy-file-descriptors) and, started as root by systemd, raises
RLIMIT_NOFILE itself, up to fs.nr_open (the kernel's 1048576 unless
/etc/sysctl.d/93-file-descriptors.conf raises it); the seed's nofile {nofile}
(limits.conf, systemd's default) does not cap it, and where the need passes it
haproxy.service.d/90-synapse-planner.conf sets LimitNOFILE. strict-limits (on by
default since 2.6) makes it refuse to start if the kernel says no, instead of
silently serving fewer connections. No ulimit-n: the manual advises against it.
Threads: one per vCPU of the HAProxy hosts ({vcpus}); this build supports at most
{max_threads} (MAX_THREADS in haproxy -vv).",
                fds = ctx.report.connections.haproxy_file_descriptors,
                max_threads = HAPROXY_MAX_THREADS,
            ),
        ),
        bind_http = on_vip(ports::HTTP),
        bind_https = on_vip(ports::HTTPS),
        http = ports::HTTP,
        https = ports::HTTPS,
        acme = ACME_PORT,
        acme_addr = ACME_ADDRESS,
    );
    if !livekit.is_empty() {
        let _ = write!(
            o,
            r#"    # LiveKit's signalling (WebSocket and its HTTP API) under {path}/; the rest is Matrix.
    acl livekit path {path}
    acl livekit path_beg {path}/
    use_backend livekit if livekit
"#,
            path = LIVEKIT_PATH,
        );
    }
    let _ = write!(
        o,
        r#"    default_backend synapse-web

# Port {federation}: other homeservers.
frontend federation
    bind {bind_federation} ssl crt {crt} alpn h2,http/1.1
    mode http
    option httplog
    http-request set-header X-Forwarded-For %[src]
    http-request set-header X-Forwarded-Proto https
    default_backend synapse-federation

backend acme
    mode http
    # No check: certbot listens only while it runs; otherwise the request gets a 503.
    server certbot {acme_addr}:{acme}

{traefik_note}backend synapse-web
    mode http
    option httpchk
    http-check send meth GET uri {client_health} ver HTTP/1.1 hdr Host {host}
    http-check expect status 200
    server synapse {synapse_web} check

# Traefik's federation entry point (matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port).
backend synapse-federation
    mode http
    option httpchk
    http-check send meth GET uri {federation_health} ver HTTP/1.1 hdr Host {host}
    http-check expect status 200
    server synapse {synapse_federation} check
"#,
        federation = ports::FEDERATION,
        bind_federation = on_vip(ports::FEDERATION),
        acme = ACME_PORT,
        acme_addr = ACME_ADDRESS,
        traefik_note = comment(
            "",
            &format!(
                r#"The playbook's Traefik on the Synapse host, TLS off, bound on its private address
(traefik_container_web_host_bind_port = {synapse}:{web}). Traefik routes by Host header,
which HAProxy passes unchanged.
One server, so no balancing algorithm and no stickiness here: Traefik and the
playbook's reverse-proxy companion spread requests over the workers and already send
each user's /sync to the same sync worker. The seed's "cookie SERVERID insert" and
"stick on src" would only matter with several servers, and behind one Traefik they
would pin nothing (and a cookie would add Set-Cookie to API responses), so neither is
used."#,
                web = ports::SYNAPSE_WEB,
            ),
        ),
        host = hv(server),
        synapse_web = hv(&format!("{synapse}:{}", ports::SYNAPSE_WEB)),
        synapse_federation = hv(&format!("{synapse}:{}", ports::SYNAPSE_FEDERATION)),
        client_health = CLIENT_HEALTH_URI,
        federation_health = FEDERATION_HEALTH_URI,
    );
    if !livekit.is_empty() {
        let _ = write!(
            o,
            r#"
# LiveKit nodes' HTTP port. The prefix is stripped ({path}/rtc → /rtc). leastconn: the
# connections are long-lived WebSockets, so count them rather than take turns; with
# LiveKit's Redis any node accepts a participant and relays it to the node that hosts
# the room. A node coming back gets new connections over 60 s (slowstart).
backend livekit
    mode http
    balance leastconn
    http-request replace-path ^{path}/?(.*) /\1
    option httpchk
    http-check send meth GET uri /
    http-check expect status 200
    default-server inter 3s fall 3 rise 2 slowstart 60s
"#,
            path = LIVEKIT_PATH,
        );
        for l in &livekit {
            o.push_str(&server_line(l, ports::LIVEKIT_HTTP, ""));
        }
    }
    let _ = write!(
        o,
        r#"
# Port {pg_primary} on the VIP: PgBouncer's server connections, to the one Patroni node whose
# REST API answers 200 on GET /primary (port {rest}). When the primary changes, the old
# one's sessions are cut at once (on-marked-down shutdown-sessions) so PgBouncer
# reconnects to the new one instead of waiting on a demoted server.
listen postgres-primary
    bind {bind}
    mode tcp
    option tcplog
    # A PostgreSQL connection may be silent for long while a query runs (index builds,
    # VACUUM); PgBouncer closes its idle server connections itself (server_idle_timeout),
    # so HAProxy only has to reap dead ones: long tunnel timeout, TCP keep-alives on.
    timeout tunnel 12h
    option clitcpka
    option srvtcpka
    option httpchk
    http-check send meth GET uri /primary
    http-check expect status 200
    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
"#,
        pg_primary = ports::PG_PRIMARY,
        bind = on_vip(ports::PG_PRIMARY),
        rest = ports::PATRONI_REST,
    );
    let patroni_check = format!(" port {}", ports::PATRONI_REST);
    for p in ctx.hosts(Role::Patroni) {
        o.push_str(&server_line(p, ports::POSTGRES, &patroni_check));
    }
    let _ = write!(
        o,
        r#"
# Port {pg_replicas} on the VIP: read-only connections to the streaming replicas (GET /replica),
# for reports and dumps. leastconn: connections are long-lived.
listen postgres-replicas
    bind {bind}
    mode tcp
    option tcplog
    balance leastconn
    timeout tunnel 12h
    option clitcpka
    option srvtcpka
    option httpchk
    http-check send meth GET uri /replica
    http-check expect status 200
    default-server inter 3s fall 3 rise 2 on-marked-down shutdown-sessions
"#,
        pg_replicas = ports::PG_REPLICAS,
        bind = on_vip(ports::PG_REPLICAS),
    );
    for p in ctx.hosts(Role::Patroni) {
        o.push_str(&server_line(p, ports::POSTGRES, &patroni_check));
    }
    let _ = write!(
        o,
        r#"
# Port {minio} on the VIP: MinIO's S3 API (Synapse's media storage provider). HTTP mode, Host
# passed unchanged (S3 signatures cover it). leastconn: uploads and downloads vary
# widely in length. A node counts as up when GET /minio/health/live answers 200
# (MinIO's load-balancer probe); a node coming back gets traffic over 60 s.
listen minio
    bind {bind}
    mode http
    option httplog
    balance leastconn
    option httpchk
    http-check send meth GET uri /minio/health/live
    http-check expect status 200
    default-server inter 3s fall 3 rise 2 slowstart 60s
"#,
        minio = ports::MINIO_API,
        bind = on_vip(ports::MINIO_API),
    );
    for m in ctx.hosts(Role::Minio) {
        o.push_str(&server_line(m, ports::MINIO_API, ""));
    }
    let _ = write!(
        o,
        r#"
# Port {stats}: on this node's own address (Prometheus scrapes every node, the standby
# too), on the VIP (scraped through the VIP, it shows which node holds it) and on
# loopback (keepalived's track script). Everything but {monitor} needs a login: user
# {user}, password vault_haproxy_stats_password in vault.yml (Prometheus has it in a
# password file). Plain-text in this 0600 file: a hashed password would be hashed again
# on every scrape.
#   /metrics  Prometheus exposition (HAProxy's built-in exporter)
#   /stats    the stats page; logged-in users may drain and re-enable servers (rolling
#             restarts, seed §3)
#   {monitor}  answered by HAProxy itself, before any login: 200 while this process
#             accepts connections
userlist stats_users
    user {user} insecure-password {password}

frontend stats
    bind {bind_node}
    bind {bind_vip}
    bind 127.0.0.1:{stats}
    mode http
    no log
    monitor-uri {monitor}
    http-request auth realm haproxy unless {{ http_auth(stats_users) }}
    http-request use-service prometheus-exporter if {{ path /metrics }}
    stats enable
    stats uri /stats
    stats refresh 10s
    stats show-legends
    stats admin if {{ http_auth(stats_users) }}
"#,
        stats = ports::HAPROXY_STATS,
        bind_node = hv(&format!("{}:{}", h.ip, ports::HAPROXY_STATS)),
        bind_vip = on_vip(ports::HAPROXY_STATS),
        password = hv(password),
        user = STATS_USER,
        monitor = MONITOR_URI,
    );
    role_file(
        h,
        "/etc/haproxy/haproxy.cfg",
        "HAProxy: TLS on the VIP (443, 8448, 80 → HTTPS + ACME), Synapse via Traefik, PostgreSQL primary/replicas by Patroni health, MinIO, LiveKit signalling, stats and metrics on 8404.",
        o,
    )
    .secret()
}

/// `    server <name> <address>:<port> check<extra>`: one backend server, its name and
/// address as HAProxy values. `extra` is the generator's own text (` port 8008`).
fn server_line(s: &Host, port: u16, extra: &str) -> String {
    format!(
        "    server {} {} check{extra}\n",
        hv(&s.name),
        hv(&format!("{}:{port}", s.ip))
    )
}

/// VRRP router id: the VIP's last octet, so two clusters on one network segment only
/// collide if they share the VIP anyway. VRIDs are 1–255.
fn virtual_router_id(ctx: &Ctx) -> u8 {
    match ctx.topology.vip.octets()[3] {
        0 => 1,
        n => n,
    }
}

/// VRRP priority of the n-th HAProxy node: 200, 190, … (at least 50 for the 16th).
fn priority(index: u64) -> u64 {
    200u64.saturating_sub(index.saturating_sub(1).saturating_mul(10))
}

fn keepalived_conf(ctx: &Ctx, h: &Host) -> File {
    let t = &ctx.topology;
    let kv = |s: &str| Format::Keepalived.value(s);
    let peers: Vec<&Host> = ctx
        .hosts(Role::Haproxy)
        .filter(|p| p.name != h.name)
        .collect();
    let order: Vec<String> = ctx
        .hosts(Role::Haproxy)
        .map(|p| format!("{} {}", p.name, priority(p.index)))
        .collect();
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&comment(
        "",
        &format!(
            "keepalived on {name}: VRRP gives the VIP {vip} to one HAProxy node whose HAProxy answers.\n\
             Check after editing: keepalived --config-test -f /etc/keepalived/keepalived.conf",
            name = h.name,
            vip = t.vip,
        ),
    ));
    let _ = write!(
        o,
        r#"
global_defs {{
    router_id {name}
    # Scripts run only if they and every directory above them are writable by root
    # alone (the track script below is root's, 0755, in /etc/keepalived).
    enable_script_security
    # Named, so keepalived does not fall back with a warning: Debian has no
    # keepalived_script user, its default. root rather than nobody: the check needs no
    # privileges, but keepalived 2.2.7's --config-test kills itself (SIGTERM, no
    # message) when script_user is an unprivileged user, which would leave this file
    # uncheckable; the daemon itself runs either way.
    script_user root
}}

# Alive = HAProxy answers {monitor} on 127.0.0.1:{stats} itself ({script}). Two failures
# in a row (4 s) put this node in FAULT: it gives up the VIP; two successes bring it back.
vrrp_script chk_haproxy {{
    script "{script}"
    interval 2
    timeout 1
    fall 2
    rise 2
}}

vrrp_instance haproxy_vip {{
{order_note}    state BACKUP
    interface {interface}
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
    # nopreempt: a recovered node of higher priority does not take the VIP back. Each
    # move cuts every connection through the VIP (clients' /sync, WebSockets,
    # PgBouncer's server connections), so the VIP moves only when its holder fails.
    nopreempt
    # No authentication block: auth_type PASS sends the password in clear in every
    # advert (anyone who can send VRRP on the segment can read it), VRRPv3 (RFC 5798)
    # dropped authentication altogether, and keepalived warns about it. Protection comes
    # from the private network and from unicast adverts to the known peers.
"#,
        name = kv(&h.name),
        monitor = MONITOR_URI,
        stats = ports::HAPROXY_STATS,
        script = TRACK_SCRIPT,
        order_note = comment(
            "    ",
            &format!(
                "Every node starts as BACKUP and the highest priority among the live ones takes\n\
                 the VIP. Priorities fall by node: {}.",
                order.join(", ")
            ),
        ),
        interface = kv(&t.interface),
        vrid = virtual_router_id(ctx),
        priority = priority(h.index),
    );
    if peers.is_empty() {
        o.push_str(
            "    # The only HAProxy node of the plan: it holds the VIP whenever HAProxy is alive.\n",
        );
    } else {
        let _ = writeln!(o, "    unicast_src_ip {}", kv(&h.ip.to_string()));
        o.push_str("    unicast_peer {\n");
        for p in &peers {
            let _ = writeln!(o, "        {}", kv(&p.ip.to_string()));
        }
        o.push_str("    }\n");
    }
    let _ = write!(
        o,
        r#"    # /32: the VIP adds no route and is never picked as a source address.
    virtual_ipaddress {{
        {vip} dev {interface}
    }}
    track_script {{
        chk_haproxy
    }}
}}
"#,
        vip = kv(&format!("{}/32", t.vip)),
        interface = kv(&t.interface),
    );
    role_file(
        h,
        "/etc/keepalived/keepalived.conf",
        "keepalived: VRRP for the VIP, priority by node, no preemption, tracks HAProxy.",
        o,
    )
}

fn track_script(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"#!/usr/bin/env bash
{header}#
# keepalived's track script (vrrp_script chk_haproxy): exits 0 when HAProxy on this node
# answers its monitor URI {monitor} on 127.0.0.1:{stats} with 200. HAProxy answers that
# itself, so a stopped, crashed or hung HAProxy fails the check.
set -euo pipefail

exec 3<> /dev/tcp/127.0.0.1/{stats}
printf 'GET {monitor} HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
status=""
IFS= read -r -t 1 status <&3 || true
exec 3<&-
[[ "$status" == "HTTP/1."?" 200"* ]]
"#,
        header = ctx.header(Comment::Hash),
        monitor = MONITOR_URI,
        stats = ports::HAPROXY_STATS,
    );
    role_file(
        h,
        TRACK_SCRIPT,
        "keepalived's HAProxy liveness check (HTTP probe of HAProxy's monitor URI on loopback).",
        body,
    )
    .script()
}

fn nonlocal_bind(ctx: &Ctx, h: &Host) -> File {
    let mut body = ctx.header(Comment::Hash);
    body.push_str(&comment(
        "",
        &format!(
            "HAProxy binds the VIP {vip} on every HAProxy node, also on the nodes that do not hold it\n\
             (keepalived moves it): without this the standby's HAProxy fails to start with\n\
             \"cannot bind socket\", and would need a restart after each move.",
            vip = ctx.topology.vip,
        ),
    ));
    body.push_str("net.ipv4.ip_nonlocal_bind = 1\n");
    role_file(
        h,
        "/etc/sysctl.d/91-haproxy-nonlocal-bind.conf",
        "Lets HAProxy bind the VIP on nodes that do not hold it (net.ipv4.ip_nonlocal_bind).",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::super::Topology;
    use super::*;
    use crate::plan::Plan;

    use crate::bundle::{contents, with_ctx};

    fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    /// The `server` lines of one section of haproxy.cfg: (name, address, port, check port).
    fn servers(cfg: &str, section: &str) -> Vec<(String, String, u16, Option<u16>)> {
        let mut out = Vec::new();
        let mut inside = false;
        for line in cfg.lines() {
            if !line.starts_with(' ') && !line.is_empty() {
                inside = line.trim() == section;
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if inside && words.first() == Some(&"server") {
                let (addr, port) = words[2].rsplit_once(':').expect("addr:port");
                let check_port = words
                    .iter()
                    .position(|w| *w == "port")
                    .and_then(|i| words.get(i + 1))
                    .and_then(|p| p.parse().ok());
                out.push((
                    words[1].to_string(),
                    addr.to_string(),
                    port.parse().expect("port"),
                    check_port,
                ));
            }
        }
        out
    }

    /// The file without comment lines.
    fn uncommented(text: &str) -> String {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    fn binds(cfg: &str, section: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut inside = false;
        for line in cfg.lines() {
            if !line.starts_with(' ') && !line.is_empty() {
                inside = line.trim() == section;
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if inside && words.first() == Some(&"bind") {
                out.push(words[1].to_string());
            }
        }
        out
    }

    #[test]
    fn files_per_haproxy_host() {
        for (changes, expect) in [
            (&[][..], vec!["haproxy1", "haproxy2"]),
            (&[("hosts.haproxy.count", "1")][..], vec!["haproxy1"]),
            (
                &[("hosts.haproxy.count", "3")][..],
                vec!["haproxy1", "haproxy2", "haproxy3"],
            ),
        ] {
            let p = plan(changes);
            let files = with_ctx(&p, files);
            let mut want = Vec::new();
            for h in &expect {
                for path in [
                    "/etc/haproxy/haproxy.cfg",
                    "/etc/keepalived/keepalived.conf",
                    TRACK_SCRIPT,
                    "/etc/sysctl.d/91-haproxy-nonlocal-bind.conf",
                ] {
                    want.push(format!("hosts/{h}{path}"));
                }
            }
            let got: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
            assert_eq!(got, want, "{changes:?}");
            for f in &files {
                let mode = match f.path.as_str() {
                    p if p.ends_with("haproxy.cfg") => 0o600,
                    p if p.ends_with(".sh") => 0o755,
                    _ => 0o644,
                };
                assert_eq!(f.mode, mode, "{}", f.path);
                assert!(f.contents.starts_with("#"), "{}: header", f.path);
            }
        }
    }

    #[test]
    fn numbers_come_from_the_report_and_the_plan() {
        for (changes, maxconn, nbthread) in [
            (&[][..], "8000", "4"),
            (
                &[
                    ("users.registered", "100000"),
                    ("users.peak-concurrent", "25000"),
                    ("hosts.haproxy.vcpus", "8"),
                ][..],
                "75000",
                "8",
            ),
            (
                &[
                    ("users.peak-concurrent", "10"),
                    ("hosts.haproxy.vcpus", "128"),
                ][..],
                "2000",
                "64",
            ),
        ] {
            let p = plan(changes);
            let files = with_ctx(&p, files);
            let cfg = contents(&files, "hosts/haproxy1/etc/haproxy/haproxy.cfg");
            assert_eq!(
                maxconn,
                with_ctx(&p, |c| c.report.connections.haproxy_maxconn.to_string())
            );
            assert!(
                cfg.contains(&format!("\n    maxconn {maxconn}\n")),
                "{changes:?}"
            );
            assert!(
                cfg.contains(&format!("\n    nbthread {nbthread}\n")),
                "{changes:?}"
            );
        }
    }

    /// The ports HAProxy sends to are the ports the other files listen on.
    #[test]
    fn backend_ports_match_the_listeners() {
        let p = Plan::default();
        let (files, calls) = with_ctx(&p, |c| (files(c), super::super::calls::files(c)));
        let t = Topology::new(&p);
        let cfg = contents(&files, "hosts/haproxy1/etc/haproxy/haproxy.cfg");
        let synapse = t.first(Role::Synapse).expect("synapse").ip.to_string();
        let ips = |role| t.role(role).map(|h| h.ip.to_string()).collect::<Vec<_>>();
        let addr_ports = |section| {
            servers(&cfg, section)
                .into_iter()
                .map(|(_, a, p, c)| (a, p, c))
                .collect::<Vec<_>>()
        };
        for (section, want) in [
            (
                "backend synapse-web",
                vec![(synapse.clone(), ports::SYNAPSE_WEB, None)],
            ),
            (
                "backend synapse-federation",
                vec![(synapse.clone(), ports::SYNAPSE_FEDERATION, None)],
            ),
            (
                "backend acme",
                vec![(ACME_ADDRESS.to_string(), ACME_PORT, None)],
            ),
            (
                "listen postgres-primary",
                ips(Role::Patroni)
                    .into_iter()
                    .map(|a| (a, ports::POSTGRES, Some(ports::PATRONI_REST)))
                    .collect(),
            ),
            (
                "listen postgres-replicas",
                ips(Role::Patroni)
                    .into_iter()
                    .map(|a| (a, ports::POSTGRES, Some(ports::PATRONI_REST)))
                    .collect(),
            ),
            (
                "listen minio",
                ips(Role::Minio)
                    .into_iter()
                    .map(|a| (a, ports::MINIO_API, None))
                    .collect(),
            ),
            (
                "backend livekit",
                ips(Role::Livekit)
                    .into_iter()
                    .map(|a| (a, ports::LIVEKIT_HTTP, None))
                    .collect(),
            ),
        ] {
            assert_eq!(addr_ports(section), want, "{section}");
        }
        // Front ends: the public ports on the VIP, stats on the node and loopback.
        let vip = t.vip.to_string();
        for (section, want) in [
            ("frontend http", vec![format!("{vip}:{}", ports::HTTP)]),
            ("frontend https", vec![format!("{vip}:{}", ports::HTTPS)]),
            (
                "frontend federation",
                vec![format!("{vip}:{}", ports::FEDERATION)],
            ),
            (
                "listen postgres-primary",
                vec![format!("{vip}:{}", ports::PG_PRIMARY)],
            ),
            (
                "listen postgres-replicas",
                vec![format!("{vip}:{}", ports::PG_REPLICAS)],
            ),
            ("listen minio", vec![format!("{vip}:{}", ports::MINIO_API)]),
            (
                "frontend stats",
                vec![
                    format!("10.0.1.11:{}", ports::HAPROXY_STATS),
                    format!("{vip}:{}", ports::HAPROXY_STATS),
                    format!("127.0.0.1:{}", ports::HAPROXY_STATS),
                ],
            ),
        ] {
            assert_eq!(binds(&cfg, section), want, "{section}");
        }
        // LiveKit: the port HAProxy sends to is the port each livekit.yaml listens on.
        for h in t.role(Role::Livekit) {
            let yaml = contents(
                &calls,
                &format!("hosts/{}/etc/livekit/livekit.yaml", h.name),
            );
            let v: serde_yaml::Value = serde_yaml::from_str(&yaml).expect("livekit.yaml");
            assert_eq!(
                v["port"].as_u64(),
                Some(u64::from(ports::LIVEKIT_HTTP)),
                "{}",
                h.name
            );
            assert!(
                v["bind_addresses"]
                    .as_sequence()
                    .expect("bind_addresses")
                    .iter()
                    .any(|a| a.as_str() == Some(h.ip.to_string().as_str())),
                "{}: bind",
                h.name
            );
        }
        // The track script probes the stats front end's monitor URI.
        let script = contents(&files, &format!("hosts/haproxy1{TRACK_SCRIPT}"));
        assert!(script.contains(&format!("/dev/tcp/127.0.0.1/{}", ports::HAPROXY_STATS)));
        assert!(script.contains(&format!("GET {MONITOR_URI} ")));
        assert!(cfg.contains(&format!("monitor-uri {MONITOR_URI}\n")));
        let keepalived = contents(&files, "hosts/haproxy1/etc/keepalived/keepalived.conf");
        assert!(keepalived.contains(&format!("script \"{TRACK_SCRIPT}\"")));
    }

    /// certbot listens where HAProxy sends ACME challenges (scripts/certs/letsencrypt.sh).
    #[test]
    fn acme_backend_matches_the_certbot_script() {
        let p = Plan::default();
        let checks = with_ctx(&p, super::super::checks::files);
        let script = contents(&checks, "scripts/certs/letsencrypt.sh");
        assert!(
            script.contains(&format!(
                "--http-01-address {ACME_ADDRESS} --http-01-port {ACME_PORT}"
            )),
            "letsencrypt.sh no longer runs certbot on {ACME_ADDRESS}:{ACME_PORT}"
        );
    }

    #[test]
    fn livekit_route_only_with_livekit_hosts() {
        for (count, present) in [("0", false), ("1", true), ("4", true)] {
            let p = plan(&[("hosts.livekit.count", count)]);
            let files = with_ctx(&p, files);
            let cfg = contents(&files, "hosts/haproxy1/etc/haproxy/haproxy.cfg");
            assert_eq!(cfg.contains("backend livekit"), present, "{count}");
            assert_eq!(cfg.contains("use_backend livekit"), present, "{count}");
            assert_eq!(
                servers(&cfg, "backend livekit").len(),
                count.parse::<usize>().expect("count")
            );
        }
    }

    #[test]
    fn health_checks_use_the_modern_form_and_the_server_name() {
        let p = plan(&[("domain", "matrix.example.org")]);
        let files = with_ctx(&p, files);
        let cfg = contents(&files, "hosts/haproxy1/etc/haproxy/haproxy.cfg");
        for want in [
            "http-check send meth GET uri /_matrix/client/versions ver HTTP/1.1 hdr Host matrix.example.org\n",
            "http-check send meth GET uri /_matrix/federation/v1/version ver HTTP/1.1 hdr Host matrix.example.org\n",
            "http-check send meth GET uri /primary\n",
            "http-check send meth GET uri /replica\n",
            "http-check send meth GET uri /minio/health/live\n",
            "crt /etc/haproxy/certs/matrix.example.org.pem alpn h2,http/1.1\n",
            "timeout tunnel 1h\n",
            "on-marked-down shutdown-sessions\n",
        ] {
            assert!(cfg.contains(want), "missing {want:?}");
        }
        let config = uncommented(&cfg);
        for banned in ["\\r\\n", "httpchk GET", "stick-table", "cookie", "stick on"] {
            assert!(!config.contains(banned), "has {banned:?}");
        }
    }

    #[test]
    fn keepalived_priorities_peers_and_router_id() {
        for (changes, host, priority, peers, vrid) in [
            (&[][..], "haproxy1", "200", Some(vec!["10.0.1.12"]), "10"),
            (&[][..], "haproxy2", "190", Some(vec!["10.0.1.11"]), "10"),
            (
                &[("hosts.haproxy.count", "3")][..],
                "haproxy3",
                "180",
                Some(vec!["10.0.1.11", "10.0.1.12"]),
                "10",
            ),
            (
                &[("hosts.haproxy.count", "1")][..],
                "haproxy1",
                "200",
                None,
                "10",
            ),
            (
                &[("network.vip", "10.0.1.250")][..],
                "haproxy1",
                "200",
                Some(vec!["10.0.1.12"]),
                "250",
            ),
        ] {
            let p = plan(changes);
            let files = with_ctx(&p, files);
            let conf = contents(
                &files,
                &format!("hosts/{host}/etc/keepalived/keepalived.conf"),
            );
            assert!(
                conf.contains(&format!("    priority {priority}\n")),
                "{host}"
            );
            assert!(
                conf.contains(&format!("    virtual_router_id {vrid}\n")),
                "{host}"
            );
            match peers {
                Some(peers) => {
                    let block: String = peers.iter().map(|p| format!("        {p}\n")).collect();
                    assert!(
                        conf.contains(&format!("    unicast_peer {{\n{block}    }}\n")),
                        "{host}"
                    );
                }
                None => assert!(!uncommented(&conf).contains("unicast"), "{host}"),
            }
            assert!(conf.contains("    nopreempt\n") && conf.contains("    state BACKUP\n"));
            assert!(!uncommented(&conf).contains("auth"), "{host}");
        }
        assert_eq!(priority(16), 50);
    }
}
