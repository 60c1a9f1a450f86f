//! `haproxy.cfg` on each HAProxy node: TLS on the VIP for clients and federation, Synapse
//! through the playbook's Traefik, PostgreSQL's primary and replicas by Patroni's health
//! checks, MinIO's S3 API, LiveKit's signalling, and the stats, metrics and monitor URI
//! front end. One function per part of the file, in the file's order.

use super::keepalived::NONLOCAL_BIND_SYSCTL;
use super::{Comment, Ctx, File, comment, hv, role_file};
use crate::assumptions as a;
use crate::bundle::checks::certs::{HAPROXY_CERT_DIR, LETSENCRYPT};
use crate::deploy::Host;
use crate::deploy::failover::{HAPROXY_CHECK_FALL, HAPROXY_CHECK_INTER_S, HAPROXY_CHECK_RISE};
use crate::deploy::ports;
use crate::plan::Role;
use std::fmt::Write;

/// HAProxy's configuration on each HAProxy node.
pub(in crate::bundle) const HAPROXY_CFG: &str = "/etc/haproxy/haproxy.cfg";
/// certbot's standalone HTTP-01 server on the HAProxy node's loopback while a certificate
/// is issued or renewed ([`LETSENCRYPT`]).
const ACME_PORT: u16 = ports::ACME_HTTP01;
const ACME_ADDRESS: &str = "127.0.0.1";
/// The public path of LiveKit's signalling (the playbook's `livekit_server_path_prefix`,
/// group_vars/matrix_servers @ c0681e4); the JWT service hands clients
/// `wss://<server name>/livekit-server`.
use crate::deploy::facts::{ADMIN_API_PATH, HAPROXY_STATS_USER, KETESA_PATH, LIVEKIT_PATH};
/// HAProxy answers this itself on the stats front end (monitor-uri): keepalived's track
/// script's probe.
pub(super) const MONITOR_URI: &str = "/healthz";
/// Debian 12's HAProxy 2.6 is built with MAX_THREADS=64 (`haproxy -vv`) and one thread
/// group.
const HAPROXY_MAX_THREADS: u64 = 64;
/// Synapse health paths reachable through Traefik. The playbook's Traefik routes only
/// `/_matrix`, `/_synapse/client` and `/_synapse/admin` on the Matrix host name
/// (roles/custom/matrix-synapse/defaults/main.yml, `*_traefik_path_prefix`): a GET
/// `/health` there is a 404, so these Matrix endpoints, which Synapse answers without
/// authentication, check the whole path HAProxy → Traefik → worker.
const CLIENT_HEALTH_URI: &str = "/_matrix/client/versions";
const FEDERATION_HEALTH_URI: &str = "/_matrix/federation/v1/version";

/// `nbthread`: one per vCPU, within what the build supports.
fn threads(ctx: &Ctx) -> u64 {
    ctx.plan
        .host(Role::Haproxy)
        .vcpus
        .clamp(1, HAPROXY_MAX_THREADS)
}

/// The health-check rhythm of every server (`deploy::failover`): `inter 3s fall 3 rise 2`.
fn checks() -> String {
    format!("inter {HAPROXY_CHECK_INTER_S}s fall {HAPROXY_CHECK_FALL} rise {HAPROXY_CHECK_RISE}")
}

/// `address:port` on the VIP, as one value.
fn on_vip(ctx: &Ctx, port: u16) -> String {
    hv(&format!("{}:{port}", ctx.topology.vip))
}

/// The TLS certificate (full chain and key) the public front ends present, as one value.
fn certificate(ctx: &Ctx) -> String {
    hv(&format!(
        "{HAPROXY_CERT_DIR}/{}.pem",
        ctx.topology.server_name
    ))
}

/// `haproxy.cfg` of HAProxy node `h`.
pub(super) fn haproxy_cfg(ctx: &Ctx, h: &Host) -> File {
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&intro(ctx, h));
    o.push_str(&global_and_defaults(ctx));
    o.push_str(&frontends(ctx));
    o.push_str(&web_backends(ctx));
    o.push_str(&postgres(ctx));
    o.push_str(&minio(ctx));
    o.push_str(&stats(ctx, h));
    role_file(
        h,
        HAPROXY_CFG,
        "HAProxy: TLS on the VIP (443, 8448, 80 → HTTPS + ACME), Synapse via Traefik, PostgreSQL primary/replicas by Patroni health, MinIO, LiveKit signalling, stats and metrics on 8404.",
        o,
    )
    .secret()
}

/// The comment that opens the file: what it is for, how to check it.
fn intro(ctx: &Ctx, h: &Host) -> String {
    comment(
        "",
        &format!(
            r#"HAProxy for {server} on {name} ({ip}). Written for HAProxy 2.6 (Debian 12), in forms
later versions keep: health checks use "http-check send", not the old "option httpchk
GET /x HTTP/1.1\r\nHost:..." trick that 2.7 and later refuse. Every HAProxy node has the same
front ends on the VIP {vip}; keepalived gives the VIP to one node at a time, and the
others can still start because net.ipv4.ip_nonlocal_bind = 1
({NONLOCAL_BIND_SYSCTL}).
Check after editing: haproxy -c -f {HAPROXY_CFG}
This file holds the stats page password: keep it 0600."#,
            server = ctx.topology.server_name,
            vip = ctx.topology.vip,
            name = h.name,
            ip = h.ip,
        ),
    )
}

/// `global` (logging, the stats socket, maxconn, threads, TLS defaults) and `defaults`
/// (timeouts, retries, health check rhythm).
fn global_and_defaults(ctx: &Ctx) -> String {
    let peak = ctx.report.plan.users_peak_concurrent;
    let per_user = ctx.plan.assume(&a::HAPROXY_CONNS_PER_USER);
    let nofile = a::fixed!(NOFILE_LIMIT) as u64;
    let vcpus = ctx.plan.host(Role::Haproxy).vcpus;
    format!(
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
    # The seed's health checks: every {inter} s, down after {fall} failures, up after {rise}.
    default-server {checks}
"#,
        maxconn = ctx.report.connections.haproxy_maxconn,
        nbthread = threads(ctx),
        checks = checks(),
        inter = HAPROXY_CHECK_INTER_S,
        fall = HAPROXY_CHECK_FALL,
        rise = HAPROXY_CHECK_RISE,
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
    )
}

/// The public front ends on the VIP: HTTP (ACME and the redirect), HTTPS for clients
/// (with LiveKit's path when the plan has LiveKit nodes) and federation.
fn frontends(ctx: &Ctx) -> String {
    let crt = certificate(ctx);
    let mut o = format!(
        r#"
# Port {http}: Let's Encrypt's HTTP-01 challenge goes to certbot's standalone server on
# this node's loopback ({acme_addr}:{acme}, {LETSENCRYPT}); every other
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
{admin}"#,
        admin = admin_rule(ctx),
        bind_http = on_vip(ctx, ports::HTTP),
        bind_https = on_vip(ctx, ports::HTTPS),
        http = ports::HTTP,
        https = ports::HTTPS,
        acme = ACME_PORT,
        acme_addr = ACME_ADDRESS,
    );
    if ctx.hosts(Role::Livekit).next().is_some() {
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
"#,
        federation = ports::FEDERATION,
        bind_federation = on_vip(ctx, ports::FEDERATION),
    );
    o
}

/// The admin paths: Synapse's admin API and Ketesa, its admin console, answer only the
/// plan's admin networks (`network.admin-networks`, the private subnet when it names
/// none). The playbook routes `/_synapse/admin` on its public entrypoint whenever Ketesa
/// is on (group_vars/matrix_servers:5064 @ c0681e4,
/// `matrix_synapse_container_labels_public_client_synapse_admin_api_enabled`) and Ketesa
/// at `/synapse-admin` (roles/custom/matrix-ketesa/defaults/main.yml:153), so HAProxy is
/// where they are closed.
fn admin_rule(ctx: &Ctx) -> String {
    let nets: Vec<String> = ctx
        .plan
        .admin_networks()
        .iter()
        .map(|n| hv(&n.to_string()))
        .collect();
    format!(
        r#"    # Admin paths only from the admin networks (network.admin-networks{subnet_note}).
    # The playbook routes {admin_api} on its public entrypoint when Ketesa is on, and
    # Ketesa itself at {ketesa}. Matched on the path %-decoded and lower-cased, anywhere
    # in it ("_synapse/" followed later by "admin"): //_synapse//admin, /_synapse/%61dmin,
    # /x/../_synapse/admin all match, whatever Traefik's path cleaning makes of them.
    # (HAProxy 2.6's normalize-uri is experimental, so the match is made wide instead.)
    acl admin_path path,url_dec,lower -m reg {patterns}
    acl admin_network src {nets}
    http-request deny deny_status 403 if admin_path !admin_network
"#,
        subnet_note = if ctx.plan.network.admin_networks.is_empty() {
            ": none named, so the private subnet"
        } else {
            ""
        },
        admin_api = ADMIN_API_PATH,
        ketesa = KETESA_PATH,
        patterns = [ADMIN_API_PATH, KETESA_PATH]
            .map(|p| p.trim_start_matches('/').replace('/', "/.*"))
            .join(" "),
        nets = nets.join(" "),
    )
}

/// The HTTP back ends: certbot for ACME, Synapse (clients and federation) through
/// Traefik, and the LiveKit nodes when there are any.
fn web_backends(ctx: &Ctx) -> String {
    let t = &ctx.topology;
    let synapse = t
        .first(Role::Synapse)
        .map(|s| s.ip.to_string())
        .unwrap_or_default();
    let mut o = format!(
        r#"
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
        host = hv(&t.server_name),
        synapse_web = hv(&format!("{synapse}:{}", ports::SYNAPSE_WEB)),
        synapse_federation = hv(&format!("{synapse}:{}", ports::SYNAPSE_FEDERATION)),
        client_health = CLIENT_HEALTH_URI,
        federation_health = FEDERATION_HEALTH_URI,
    );
    let livekit: Vec<&Host> = ctx.hosts(Role::Livekit).collect();
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
    default-server {checks} slowstart 60s
"#,
            path = LIVEKIT_PATH,
            checks = checks(),
        );
        for l in &livekit {
            o.push_str(&server_line(l, ports::LIVEKIT_HTTP, ""));
        }
    }
    o
}

/// PostgreSQL on the VIP: the primary and the replicas, each Patroni node checked through
/// its REST API.
fn postgres(ctx: &Ctx) -> String {
    let patroni_check = format!(" port {}", ports::PATRONI_REST);
    let mut o = format!(
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
    default-server {checks} on-marked-down shutdown-sessions
"#,
        pg_primary = ports::PG_PRIMARY,
        bind = on_vip(ctx, ports::PG_PRIMARY),
        rest = ports::PATRONI_REST,
        checks = checks(),
    );
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
    default-server {checks} on-marked-down shutdown-sessions
"#,
        pg_replicas = ports::PG_REPLICAS,
        bind = on_vip(ctx, ports::PG_REPLICAS),
        checks = checks(),
    );
    for p in ctx.hosts(Role::Patroni) {
        o.push_str(&server_line(p, ports::POSTGRES, &patroni_check));
    }
    o
}

/// MinIO's S3 API on the VIP, over every MinIO node.
fn minio(ctx: &Ctx) -> String {
    let mut o = format!(
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
    default-server {checks} slowstart 60s
"#,
        minio = ports::MINIO_API,
        bind = on_vip(ctx, ports::MINIO_API),
        checks = checks(),
    );
    for m in ctx.hosts(Role::Minio) {
        o.push_str(&server_line(m, ports::MINIO_API, ""));
    }
    o
}

/// The stats front end on the node, the VIP and loopback: Prometheus metrics, the stats
/// page behind a login, and the monitor URI keepalived's track script probes.
fn stats(ctx: &Ctx, h: &Host) -> String {
    let password = ctx.secret(crate::bundle::SecretId::HaproxyStatsPassword);
    format!(
        r#"
# Port {stats}: on this node's own address (Prometheus scrapes every node, the standby
# too), on the VIP (scraped through the VIP, it shows which node holds it) and on
# loopback (keepalived's track script). Everything but {monitor} needs a login: user
# {user}, password {vault_key} in vault.yml (Prometheus has it in a
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
        bind_vip = on_vip(ctx, ports::HAPROXY_STATS),
        password = hv(password),
        user = HAPROXY_STATS_USER,
        vault_key = crate::bundle::SecretId::HaproxyStatsPassword.vault_var(),
        monitor = MONITOR_URI,
    )
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

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::keepalived::{KEEPALIVED_CONF, TRACK_SCRIPT};
    use super::super::tests::{plan, uncommented};
    use super::*;
    use crate::bundle::{contents, with_ctx};
    use crate::deploy::Topology;
    use crate::plan::Plan;

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
            let cfg = contents(&files, &format!("hosts/haproxy1{HAPROXY_CFG}"));
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
        let (files, calls) = with_ctx(&p, |c| (files(c), crate::bundle::calls::files(c)));
        let t = Topology::new(&p);
        let cfg = contents(&files, &format!("hosts/haproxy1{HAPROXY_CFG}"));
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
                &format!(
                    "hosts/{}{}",
                    h.name,
                    crate::bundle::calls::livekit::LIVEKIT_YAML
                ),
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
        let keepalived = contents(&files, &format!("hosts/haproxy1{KEEPALIVED_CONF}"));
        assert!(keepalived.contains(&format!("script \"{TRACK_SCRIPT}\"")));
    }

    /// certbot listens where HAProxy sends ACME challenges ([`LETSENCRYPT`]).
    #[test]
    fn acme_backend_matches_the_certbot_script() {
        let p = Plan::default();
        let checks = with_ctx(&p, crate::bundle::checks::files);
        let script = contents(&checks, LETSENCRYPT);
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
            let cfg = contents(&files, &format!("hosts/haproxy1{HAPROXY_CFG}"));
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
        let cfg = contents(&files, &format!("hosts/haproxy1{HAPROXY_CFG}"));
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
}
