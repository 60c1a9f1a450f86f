//! LiveKit on each LiveKit host: `livekit.yaml` (every key one of livekit-server's, which
//! decodes it strictly), the systemd unit that runs the pinned container, and the setup
//! script that starts it.

use super::redis::REDIS_CONF;
use super::role_file;
use crate::bundle::{Comment, Ctx, File, SecretId};
use crate::deploy::facts::LIVEKIT_PATH;
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::{shell, yaml};

/// LiveKit's configuration on each LiveKit host (mounted read-only into the container).
pub(in crate::bundle) const LIVEKIT_YAML: &str = "/etc/livekit/livekit.yaml";
/// The systemd unit that runs LiveKit's container (named after [`LIVEKIT_UNIT`]).
pub(super) const LIVEKIT_SERVICE: &str = "/etc/systemd/system/livekit.service";
/// The script that starts LiveKit on each LiveKit host.
pub(super) const SETUP_LIVEKIT: &str = "/usr/local/sbin/setup-livekit.sh";
/// The LiveKit server version and its image (Docker Hub, the playbook's registry).
pub(super) const LIVEKIT_VERSION: &str = "v1.13.5";
const LIVEKIT_IMAGE: &str = "docker.io/livekit/livekit-server";
/// systemd unit and container name (the certificate copy script restarts `livekit`).
const LIVEKIT_UNIT: &str = "livekit";

/// livekit.yaml of LiveKit host `h`, sharing rooms through the Redis on `redis`.
pub(super) fn livekit_yaml(ctx: &Ctx, h: &Host, redis: &Host) -> File {
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
             (wss://{server}{LIVEKIT_PATH}, prefix stripped) and send media straight to this host.\n\
             This file holds the API secret and the Redis password: keep it 0600.",
            name = h.name,
            redis_name = redis.name,
            server = ctx.topology.server_name,
        ))
        .start();
    role_file(
        Role::Livekit,
        h,
        LIVEKIT_YAML,
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

/// The systemd unit that runs LiveKit's container on host `h`.
pub(super) fn livekit_unit(ctx: &Ctx, h: &Host, redis: &Host) -> File {
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
ExecStart=/usr/bin/docker run --rm --name {unit} --network host --ulimit nofile={nofile}:{nofile} --volume {yaml}:/etc/livekit.yaml:ro {image} --config /etc/livekit.yaml
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
        yaml = LIVEKIT_YAML,
    );
    role_file(
        Role::Livekit,
        h,
        LIVEKIT_SERVICE,
        "systemd unit running the pinned livekit-server container with host networking.",
        body,
    )
}

/// setup-livekit.sh of host `h` (on the Redis host it also checks Redis).
pub(super) fn livekit_setup(ctx: &Ctx, h: &Host, redis: &Host) -> File {
    let redis_part = if h.name == redis.name {
        format!(
            r#"
# LiveKit's Redis and its exporter (packages installed by prepare-host.sh with this
# bundle's config): restart so they run with it, then check the password works.
systemctl restart redis-server
systemctl enable --now prometheus-redis-exporter
systemctl restart prometheus-redis-exporter
password="$(awk '$1 == "requirepass" {{ print $2 }}' {redis_conf})"
if [ "$(REDISCLI_AUTH="$password" redis-cli -h "$ip" -p {redis_port} ping)" != "PONG" ]; then
  echo "Redis on $ip:{redis_port} does not answer PING with the configured password" >&2
  exit 1
fi
echo "Redis on $ip:{redis_port}: ok"
"#,
            redis_port = ports::LIVEKIT_REDIS,
            redis_conf = REDIS_CONF,
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"#!/usr/bin/env bash
{header}#
{about}#   sudo {SETUP_LIVEKIT}
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
        SETUP_LIVEKIT,
        "Run once on the LiveKit node: pulls the pinned image, starts LiveKit (and on the first node checks Redis).",
        body,
    )
    .script()
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::tests::{plan, settings, values};
    use super::*;
    use crate::bundle::{Secrets, contents, with_ctx};
    use crate::deploy::Topology;

    /// The ports and passwords the LiveKit files agree on.
    #[test]
    fn livekit_redis_and_ports_agree() {
        let p = plan(&[
            ("livekit.port-range-start", "50000"),
            ("livekit.port-range-end", "50999"),
        ]);
        let files = with_ctx(&p, files);
        let redis = settings(
            &contents(&files, &format!("hosts/livekit1{REDIS_CONF}")),
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
            let y = contents(&files, &format!("hosts/{n}{LIVEKIT_YAML}"));
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
            let unit = contents(&files, &format!("hosts/{n}{LIVEKIT_SERVICE}"));
            assert!(unit.contains(&format!(
                "{LIVEKIT_IMAGE}:{LIVEKIT_VERSION} --config /etc/livekit.yaml"
            )));
            assert!(unit.contains(&format!("--volume {LIVEKIT_YAML}:/etc/livekit.yaml:ro")));
            assert_eq!(
                unit.contains("After=redis-server.service"),
                n == "livekit1",
                "{n}"
            );
        }
        let exporter = contents(
            &files,
            &format!("hosts/livekit1{}", super::super::redis::REDIS_EXPORTER_ENV),
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

    #[test]
    fn the_unit_is_named_after_its_container() {
        assert_eq!(
            LIVEKIT_SERVICE,
            format!("/etc/systemd/system/{LIVEKIT_UNIT}.service")
        );
    }
}
