//! The port inventory (`deploy::listeners`) is what the generated files make each
//! service bind. For every named plan and every host, the sockets read out of that
//! host's files (haproxy.cfg's `bind` lines, pgbouncer.ini's `listen_addr`, Patroni's
//! `listen`, the exporters' `--web.listen-address`, coturn's `listening-ip`, LiveKit's
//! `bind_addresses`, vars.yml's published ports …) equal the inventory's listeners with
//! their addresses resolved. A service the files bind that the inventory lacks would be
//! closed by the firewall; one the inventory has that nothing binds would be a hole
//! opened for nothing.

#[path = "support/bundles.rs"]
mod bundles;

use bundles::{bundle, named_plans};
use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use synapse_planner::bundle::{File, Host, Topology, workers};
use synapse_planner::deploy::listeners::{Bind, Proto, listeners};
use synapse_planner::plan::{Plan, Role};

/// Where a socket listens: one address, or every address of the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Addr {
    Ip(Ipv4Addr),
    All,
}

/// (protocol, first port, last port, address).
type Socket = (Proto, u16, u16, Addr);

const LOOPBACK: Ipv4Addr = Ipv4Addr::LOCALHOST;

fn expected(plan: &Plan, topo: &Topology, h: &Host) -> BTreeSet<Socket> {
    let mut out = BTreeSet::new();
    for l in listeners(plan, topo, h) {
        let addrs: Vec<Addr> = match l.bind {
            Bind::Private | Bind::Published => vec![Addr::Ip(h.ip)],
            Bind::PrivateAndLoopback => vec![Addr::Ip(h.ip), Addr::Ip(LOOPBACK)],
            Bind::Vip => vec![Addr::Ip(topo.vip)],
            Bind::PrivateVipAndLoopback => {
                vec![Addr::Ip(h.ip), Addr::Ip(topo.vip), Addr::Ip(LOOPBACK)]
            }
            Bind::Loopback => vec![Addr::Ip(LOOPBACK)],
            Bind::All => vec![Addr::All],
        };
        for a in addrs {
            out.insert((l.proto, l.ports.0, l.ports.1, a));
        }
    }
    out
}

/// The file at `path` under this host, if the bundle has it.
fn host_file<'a>(files: &'a [File], h: &Host, path: &str) -> Option<&'a str> {
    let full = format!("hosts/{}{path}", h.name);
    files
        .iter()
        .find(|f| f.path == full)
        .map(|f| f.contents.as_str())
}

fn file<'a>(files: &'a [File], path: &str) -> Option<&'a str> {
    files
        .iter()
        .find(|f| f.path == path)
        .map(|f| f.contents.as_str())
}

/// Lines without comments (`#`, `;`), trimmed.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
}

/// The value of the first `key<sep>value` line, quotes stripped.
fn value<'a>(text: &'a str, key: &str, sep: char) -> Option<&'a str> {
    lines(text).find_map(|l| {
        let (k, v) = l.split_once(sep)?;
        (k.trim() == key).then(|| v.trim().trim_matches(['\'', '"']))
    })
}

fn ip(s: &str) -> Addr {
    let s = s.trim().trim_start_matches("http://");
    if s.is_empty() || s == "0.0.0.0" {
        Addr::All
    } else {
        Addr::Ip(s.parse().unwrap_or_else(|_| panic!("not an address: {s}")))
    }
}

fn port(s: &str) -> u16 {
    s.trim()
        .trim_end_matches('/')
        .parse()
        .unwrap_or_else(|_| panic!("not a port: {s}"))
}

/// `10.0.1.28:8008`, `:9090`, `http://10.0.1.28:2379`, `10.0.1.28,127.0.0.1:5432`.
fn host_ports(s: &str, proto: Proto, out: &mut BTreeSet<Socket>) {
    let s = s
        .trim()
        .trim_matches(['\'', '"'])
        .trim_start_matches("http://");
    let (addrs, p) = s
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("no port in {s}"));
    let p = port(p);
    for a in addrs.split(',') {
        out.insert((proto, p, p, ip(a)));
    }
}

/// The argument of a `--flag=value` or `-flag value` in an ARGS line.
fn flag<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let args = value(text, "ARGS", '=')?;
    let words: Vec<&str> = args.split_whitespace().collect();
    words.iter().enumerate().find_map(|(i, w)| {
        if let Some(v) = w.strip_prefix(&format!("{name}=")) {
            Some(v)
        } else if *w == name {
            words.get(i + 1).copied()
        } else {
            None
        }
    })
}

/// What the files of host `h` make its services bind.
fn bound(plan: &Plan, topo: &Topology, files: &[File], h: &Host) -> BTreeSet<Socket> {
    use Proto::*;
    let mut out = BTreeSet::new();
    // Not written by the bundle: the Debian packages' defaults. openssh-server listens
    // on every address (sshd_config(5), ListenAddress); prometheus-node-exporter with
    // no ARGS on :9100 (its --help shows the compiled-in --web.listen-address).
    out.insert((Tcp, 22, 22, Addr::All));
    out.insert((Tcp, 9100, 9100, Addr::All));
    let mut had = 0;
    if let Some(cfg) = host_file(files, h, "/etc/haproxy/haproxy.cfg") {
        had += 1;
        for l in lines(cfg) {
            if let Some(rest) = l.strip_prefix("bind ") {
                host_ports(rest.split_whitespace().next().unwrap_or(""), Tcp, &mut out);
            }
        }
        // certbot's standalone server, which HAProxy's acme back end on this node
        // reaches (scripts/certs/letsencrypt.sh: --http-01-address, --http-01-port).
        let le = file(files, "scripts/certs/letsencrypt.sh").expect("letsencrypt.sh");
        let words: Vec<&str> = le.split_whitespace().collect();
        let arg = |name: &str| {
            words
                .iter()
                .position(|w| *w == name)
                .and_then(|i| words.get(i + 1))
                .copied()
                .unwrap_or_else(|| panic!("no {name} in letsencrypt.sh"))
        };
        out.insert((
            Tcp,
            port(arg("--http-01-port")),
            port(arg("--http-01-port")),
            ip(arg("--http-01-address")),
        ));
    }
    if let Some(k) = host_file(files, h, "/etc/keepalived/keepalived.conf") {
        had += 1;
        assert!(k.contains("vrrp_instance"), "{}", h.name);
        // Adverts go out from (and peers answer to) the node's address: unicast_src_ip,
        // or with one node (no peers) the interface's own address.
        let src = value(k, "unicast_src_ip", ' ')
            .map(ip)
            .unwrap_or(Addr::Ip(h.ip));
        out.insert((Vrrp, 0, 0, src));
    }
    if let Some(ini) = host_file(files, h, "/etc/pgbouncer/pgbouncer.ini") {
        had += 1;
        let p = port(value(ini, "listen_port", '=').expect("listen_port"));
        for a in value(ini, "listen_addr", '=')
            .expect("listen_addr")
            .split(',')
        {
            out.insert((Tcp, p, p, ip(a)));
        }
    }
    if let Some(c) = host_file(files, h, "/etc/prometheus-pgbouncer-exporter.conf") {
        let p = port(value(c, "port", '=').expect("port"));
        out.insert((Tcp, p, p, ip(value(c, "host", '=').expect("host"))));
    }
    if h.role == Role::Synapse {
        had += 1;
        synapse_published(plan, files, &mut out);
    }
    if let Some(p) = host_file(files, h, "/etc/patroni/config.yml") {
        had += 1;
        let y: serde_yaml::Value = serde_yaml::from_str(p).expect("patroni yaml");
        for key in ["restapi", "postgresql"] {
            host_ports(y[key]["listen"].as_str().expect("listen"), Tcp, &mut out);
        }
    }
    if let Some(e) = host_file(files, h, "/etc/default/etcd") {
        for key in ["ETCD_LISTEN_CLIENT_URLS", "ETCD_LISTEN_PEER_URLS"] {
            for url in value(e, key, '=').expect(key).split(',') {
                host_ports(url, Tcp, &mut out);
            }
        }
    }
    for (path, name) in [
        (
            "/etc/default/prometheus-postgres-exporter",
            "--web.listen-address",
        ),
        (
            "/etc/default/prometheus-redis-exporter",
            "-web.listen-address",
        ),
        ("/etc/default/prometheus", "--web.listen-address"),
        (
            "/etc/default/prometheus-alertmanager",
            "--web.listen-address",
        ),
        (
            "/etc/default/prometheus-blackbox-exporter",
            "--web.listen-address",
        ),
    ] {
        if let Some(t) = host_file(files, h, path) {
            host_ports(flag(t, name).expect(name), Tcp, &mut out);
        }
    }
    if let Some(m) = host_file(files, h, "/etc/default/minio") {
        had += 1;
        let opts = value(m, "MINIO_OPTS", '=').expect("MINIO_OPTS");
        let words: Vec<&str> = opts.split_whitespace().collect();
        let arg = |name: &str, default: &'static str| {
            words
                .iter()
                .position(|w| *w == name)
                .and_then(|i| words.get(i + 1))
                .copied()
                .unwrap_or(default)
        };
        // MinIO's default --address is ":9000" (minio server --help).
        host_ports(arg("--address", ":9000"), Tcp, &mut out);
        host_ports(arg("--console-address", ""), Tcp, &mut out);
    }
    if let Some(t) = host_file(files, h, "/etc/turnserver.conf") {
        had += 1;
        let listen = ip(value(t, "listening-ip", '=').expect("listening-ip"));
        let relay = ip(value(t, "relay-ip", '=').expect("relay-ip"));
        let (min, max) = (
            port(value(t, "min-port", '=').expect("min-port")),
            port(value(t, "max-port", '=').expect("max-port")),
        );
        for proto in [Udp, Tcp] {
            for key in ["listening-port", "tls-listening-port"] {
                let p = port(value(t, key, '=').expect(key));
                out.insert((proto, p, p, listen));
            }
            // UDP relays, and TCP relays (RFC 6062) listen in the same range.
            out.insert((proto, min, max, relay));
        }
    }
    if let Some(l) = host_file(files, h, "/etc/livekit/livekit.yaml") {
        had += 1;
        let y: serde_yaml::Value = serde_yaml::from_str(l).expect("livekit yaml");
        let n = |v: &serde_yaml::Value| u16::try_from(v.as_u64().expect("port")).expect("u16");
        let binds: Vec<Addr> = y["bind_addresses"]
            .as_sequence()
            .expect("bind_addresses")
            .iter()
            .map(|a| ip(a.as_str().expect("address")))
            .collect();
        for p in [n(&y["port"]), n(&y["prometheus"]["port"])] {
            for a in &binds {
                out.insert((Tcp, p, p, *a));
            }
        }
        // rtc.tcp_port and the UDP range: LiveKit listens on every address for them
        // (no rtc.interfaces or rtc.ips in the file).
        let rtc = &y["rtc"];
        assert!(rtc.get("interfaces").is_none() && rtc.get("ips").is_none());
        out.insert((Tcp, n(&rtc["tcp_port"]), n(&rtc["tcp_port"]), Addr::All));
        out.insert((
            Udp,
            n(&rtc["port_range_start"]),
            n(&rtc["port_range_end"]),
            Addr::All,
        ));
    }
    if let Some(r) = host_file(files, h, "/etc/redis/redis.conf") {
        let p = port(value(r, "port", ' ').expect("port"));
        for a in value(r, "bind", ' ').expect("bind").split_whitespace() {
            out.insert((Tcp, p, p, ip(a)));
        }
    }
    if let Some(g) = host_file(files, h, "/etc/default/grafana") {
        had += 1;
        // Grafana's defaults: http_addr empty (every address), http_port 3000
        // (conf/defaults.ini), unless the environment file sets them.
        let addr = value(g, "GF_SERVER_HTTP_ADDR", '=').map_or(Addr::All, ip);
        let p = value(g, "GF_SERVER_HTTP_PORT", '=').map_or(3000, port);
        out.insert((Tcp, p, p, addr));
    }
    if let Some(c) = host_file(files, h, "/etc/chrony/chrony.conf") {
        // `allow` makes chronyd an NTP server on port 123 of every address
        // (chrony.conf(5): port, default 123; bindaddress unset).
        if lines(c).any(|l| l.starts_with("allow ")) {
            assert!(value(c, "bindaddress", ' ').is_none());
            out.insert((Udp, 123, 123, Addr::All));
        }
    }
    assert!(
        had > 0 || h.role == Role::Backup,
        "{}: none of its service files was found",
        h.name
    );
    let _ = topo;
    out
}

/// What the playbook publishes on the Synapse host from vars.yml: Traefik's two
/// entrypoints, the main process's metrics, and, with workers, every worker's HTTP
/// port (when not 0) and metrics port on `matrix_synapse_workers_container_host_bind_address`
/// (roles/custom/matrix-synapse/templates/synapse/systemd/matrix-synapse-worker.service.j2:57-63
/// @ c0681e4).
fn synapse_published(plan: &Plan, files: &[File], out: &mut BTreeSet<Socket>) {
    let vars = files
        .iter()
        .find(|f| f.path.ends_with("/vars.yml") && f.path.starts_with("ansible/"))
        .expect("vars.yml");
    let y: serde_yaml::Value = serde_yaml::from_str(&vars.contents).expect("vars yaml");
    for key in [
        "traefik_container_web_host_bind_port",
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port",
        "matrix_synapse_container_metrics_api_host_bind_port",
    ] {
        host_ports(y[key].as_str().expect(key), Proto::Tcp, out);
    }
    let workers_on = y["matrix_synapse_workers_enabled"].as_bool() == Some(true);
    assert_eq!(workers_on, plan.worker_count() > 0);
    if workers_on {
        let addr = ip(y["matrix_synapse_workers_container_host_bind_address"]
            .as_str()
            .expect("bind address"));
        for w in workers::workers(plan) {
            for p in w.port.into_iter().chain([w.metrics_port]) {
                out.insert((Proto::Tcp, p, p, addr));
            }
        }
    }
}

#[test]
fn every_host_binds_what_the_inventory_lists() {
    for (name, plan) in named_plans() {
        let files = bundle(&plan);
        let topo = Topology::new(&plan);
        for h in &topo.hosts {
            let want = expected(&plan, &topo, h);
            let got = bound(&plan, &topo, &files, h);
            let missing: Vec<&Socket> = want.difference(&got).collect();
            let extra: Vec<&Socket> = got.difference(&want).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{name}/{}: in the inventory but bound by no file: {missing:?}\n\
                 bound by a file but not in the inventory: {extra:?}",
                h.name
            );
        }
    }
}

/// The comparison finds a listener the files do not bind.
#[test]
fn a_listener_nothing_binds_is_found() {
    let plan = Plan::default();
    let files = bundle(&plan);
    let topo = Topology::new(&plan);
    let h = topo.first(Role::Patroni).expect("patroni");
    let mut want = expected(&plan, &topo, h);
    assert_eq!(want, bound(&plan, &topo, &files, h));
    want.insert((Proto::Tcp, 6000, 6000, Addr::All));
    assert_ne!(want, bound(&plan, &topo, &files, h));
}
