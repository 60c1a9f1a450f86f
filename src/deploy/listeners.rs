//! The port inventory: what listens on each host of the plan, on which address, and
//! who may connect. One home for it: the host firewalls (`bundle::system::firewall`),
//! PORTS.md, the pre-deploy check's free-port list and the browser's bundle view read
//! it, and `tests/listeners.rs` compares it with what the generated files make each
//! service bind.
//!
//! "Who may connect" is what the generated files configure as a client of that port
//! (HAProxy's back ends, Prometheus' scrape jobs, pg_hba, the backup scripts), plus the
//! admin networks (`network.admin-networks`) for what operators open by hand (ssh, the
//! web UIs, the post-deploy check). Nothing else.

use super::{Host, Topology, ports, workers};
use crate::plan::{Ipv4Net, Plan, Role};

/// Transport of a listener. `Vrrp` is IP protocol 112 (keepalived), no port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Proto {
    Tcp,
    Udp,
    Vrrp,
}

impl Proto {
    pub fn key(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Vrrp => "vrrp",
        }
    }
}

/// The address a service binds, as its generated file writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bind {
    /// The host's private address.
    Private,
    /// The host's private address and 127.0.0.1.
    PrivateAndLoopback,
    /// keepalived's virtual address (HAProxy binds it on every node:
    /// `net.ipv4.ip_nonlocal_bind`).
    Vip,
    /// The private address, the VIP and 127.0.0.1 (HAProxy's stats).
    PrivateVipAndLoopback,
    /// 127.0.0.1 only: nothing from outside the host.
    Loopback,
    /// Every address of the host (the service's default or `:port`).
    All,
    /// Published by Docker (`-p <private address>:<port>:…`) on the private address:
    /// DNAT before the host's input, so the firewall filters it before routing.
    Published,
}

impl Bind {
    /// Whether a packet from another host can reach it at all.
    pub fn reachable(self) -> bool {
        self != Bind::Loopback
    }

    pub fn label(self) -> &'static str {
        match self {
            Bind::Private => "private address",
            Bind::PrivateAndLoopback => "private address, 127.0.0.1",
            Bind::Vip => "VIP",
            Bind::PrivateVipAndLoopback => "private address, VIP, 127.0.0.1",
            Bind::Loopback => "127.0.0.1",
            Bind::All => "all addresses",
            Bind::Published => "private address (Docker -p)",
        }
    }
}

/// Who may connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "role")]
pub enum Source {
    /// Every host of this role (its private addresses).
    Role(Role),
    /// Every host of the plan (chrony's NTP clients).
    Cluster,
    /// The plan's admin networks ([`Plan::admin_networks`]).
    AdminNetworks,
    /// Containers on this host's Docker bridges (`docker0`, `br-*`): the playbook's
    /// networks get addresses from Docker's default pools, so the interface says it.
    DockerBridges,
    /// Any address: clients, other homeservers, call peers.
    Anywhere,
}

impl Source {
    pub fn label(self) -> String {
        match self {
            Source::Role(r) => format!("{} hosts", r.key()),
            Source::Cluster => "every host of the cluster".into(),
            Source::AdminNetworks => "admin networks".into(),
            Source::DockerBridges => "this host's containers (Docker bridges)".into(),
            Source::Anywhere => "anywhere".into(),
        }
    }

    /// The IPv4 networks this source stands for, or None when it is not a set of
    /// addresses (anywhere, the Docker bridges).
    pub fn networks(self, plan: &Plan, topo: &Topology) -> Option<Vec<Ipv4Net>> {
        let host = |h: &Host| Ipv4Net {
            addr: h.ip,
            prefix: 32,
        };
        match self {
            Source::Role(r) => Some(topo.role(r).map(host).collect()),
            Source::Cluster => Some(topo.hosts.iter().map(host).collect()),
            Source::AdminNetworks => Some(plan.admin_networks()),
            Source::DockerBridges | Source::Anywhere => None,
        }
    }
}

/// One listening service of one host.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Listener {
    pub service: String,
    pub proto: Proto,
    /// First and last port (equal for one port; 0–0 for VRRP).
    pub ports: (u16, u16),
    pub bind: Bind,
    /// Empty for loopback listeners.
    pub from: Vec<Source>,
    /// Why these sources, in a line.
    pub why: &'static str,
}

impl Listener {
    fn new(
        service: &str,
        proto: Proto,
        port: u16,
        bind: Bind,
        from: &[Source],
        why: &'static str,
    ) -> Listener {
        Listener {
            service: service.to_string(),
            proto,
            ports: (port, port),
            bind,
            from: if bind.reachable() {
                from.to_vec()
            } else {
                Vec::new()
            },
            why,
        }
    }

    fn range(mut self, last: u16) -> Listener {
        self.ports.1 = last;
        self
    }

    /// `5432`, `49152–65535`, or `—` for VRRP.
    pub fn ports_text(&self) -> String {
        match self.ports {
            _ if self.proto == Proto::Vrrp => "—".into(),
            (a, b) if a == b => a.to_string(),
            (a, b) => format!("{a}–{b}"),
        }
    }
}

use Source::{AdminNetworks as Admin, Anywhere, DockerBridges, Role as R};

/// Every listener of host `h`, in a fixed order: the role's services, then what every
/// host runs (sshd, node_exporter).
pub fn listeners(plan: &Plan, topo: &Topology, h: &Host) -> Vec<Listener> {
    let mut out = Vec::new();
    match h.role {
        Role::Synapse => synapse(plan, &mut out),
        Role::Patroni => patroni(&mut out),
        Role::Minio => minio(&mut out),
        Role::Haproxy => haproxy(&mut out),
        Role::Coturn => coturn(plan, &mut out),
        Role::Livekit => livekit(plan, topo, h, &mut out),
        Role::Monitoring => monitoring(&mut out),
        Role::Backup => {}
    }
    every_host(h, &mut out);
    out
}

fn synapse(plan: &Plan, out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    out.push(l(
        "PgBouncer",
        Tcp,
        ports::PGBOUNCER,
        PrivateAndLoopback,
        &[DockerBridges],
        "Synapse's containers connect to the host's private address from the playbook's Docker networks (vars.yml matrix_synapse_database_host).",
    ));
    out.push(l(
        "pgbouncer_exporter",
        Tcp,
        ports::PGBOUNCER_EXPORTER,
        Private,
        &[R(Role::Monitoring)],
        "Prometheus' pgbouncer job.",
    ));
    out.push(l(
        "Traefik (web entrypoint, TLS off)",
        Tcp,
        ports::SYNAPSE_WEB,
        Published,
        &[R(Role::Haproxy)],
        "HAProxy's synapse-web back end; Traefik trusts X-Forwarded-* from the HAProxy nodes only.",
    ));
    out.push(l(
        "Traefik (federation entrypoint, TLS off)",
        Tcp,
        ports::SYNAPSE_FEDERATION,
        Published,
        &[R(Role::Haproxy)],
        "HAProxy's synapse-federation back end.",
    ));
    out.push(l(
        "Synapse main process metrics",
        Tcp,
        ports::SYNAPSE_MAIN_METRICS,
        Published,
        &[R(Role::Monitoring)],
        "Prometheus' synapse job.",
    ));
    for w in workers::workers(plan) {
        if let Some(port) = w.port {
            out.push(l(
                &format!("{} (HTTP)", w.name),
                Tcp,
                port,
                Published,
                &[R(Role::Haproxy)],
                "Worker listeners set x_forwarded: Synapse takes the client's address from X-Forwarded-For, so only HAProxy may send it.",
            ));
        }
        out.push(l(
            &format!("{} (metrics)", w.name),
            Tcp,
            w.metrics_port,
            Published,
            &[R(Role::Monitoring)],
            "Prometheus' synapse job.",
        ));
    }
}

fn patroni(out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    out.push(l(
        "PostgreSQL",
        Tcp,
        ports::POSTGRES,
        PrivateAndLoopback,
        &[
            R(Role::Haproxy),
            R(Role::Patroni),
            R(Role::Synapse),
            R(Role::Backup),
        ],
        "pg_hba: HAProxy (the VIP's 5432/5433), replication and pg_rewind between nodes, direct connections from the Synapse and backup hosts.",
    ));
    out.push(l(
        "Patroni REST API",
        Tcp,
        ports::PATRONI_REST,
        Private,
        &[R(Role::Haproxy), R(Role::Patroni), R(Role::Monitoring), Admin],
        "HAProxy's /primary and /replica checks, the members themselves, Prometheus, patronictl and /cluster for operators.",
    ));
    out.push(l(
        "etcd (clients)",
        Tcp,
        ports::ETCD_CLIENT,
        Private,
        &[R(Role::Patroni), R(Role::Monitoring)],
        "Patroni's DCS on every node; Prometheus' etcd job reads /metrics here.",
    ));
    out.push(l(
        "etcd (peers)",
        Tcp,
        ports::ETCD_PEER,
        Private,
        &[R(Role::Patroni)],
        "The etcd members.",
    ));
    out.push(l(
        "postgres_exporter",
        Tcp,
        ports::POSTGRES_EXPORTER,
        Private,
        &[R(Role::Monitoring)],
        "Prometheus' postgres job.",
    ));
}

fn minio(out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    out.push(l(
        "MinIO S3 API and node-to-node RPC",
        Tcp,
        ports::MINIO_API,
        All,
        &[R(Role::Haproxy), R(Role::Minio), R(Role::Monitoring), Admin],
        "HAProxy's minio listener (Synapse and the backup reach it on the VIP), the other MinIO nodes, Prometheus' minio job, the post-deploy check.",
    ));
    out.push(l(
        "MinIO console",
        Tcp,
        ports::MINIO_CONSOLE,
        All,
        &[Admin],
        "Operators.",
    ));
}

fn haproxy(out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    for (service, port) in [
        ("HAProxy http (ACME, redirect)", ports::HTTP),
        ("HAProxy https (clients)", ports::HTTPS),
        ("HAProxy federation", ports::FEDERATION),
    ] {
        out.push(l(
            service,
            Tcp,
            port,
            Vip,
            &[Anywhere],
            "Clients, Let's Encrypt and other homeservers.",
        ));
    }
    out.push(l(
        "HAProxy postgres-primary",
        Tcp,
        ports::PG_PRIMARY,
        Vip,
        &[R(Role::Synapse), R(Role::Backup), Admin],
        "PgBouncer and the auto-compressor on the Synapse host, pg_dump with one Patroni node, the post-deploy check.",
    ));
    out.push(l(
        "HAProxy postgres-replicas",
        Tcp,
        ports::PG_REPLICAS,
        Vip,
        &[R(Role::Backup), Admin],
        "The weekly pg_dump reads a replica.",
    ));
    out.push(l(
        "HAProxy minio",
        Tcp,
        ports::MINIO_API,
        Vip,
        &[R(Role::Synapse), R(Role::Backup), Admin],
        "Synapse's storage provider, the media backup (rclone), the post-deploy check.",
    ));
    out.push(l(
        "HAProxy stats and metrics",
        Tcp,
        ports::HAPROXY_STATS,
        PrivateVipAndLoopback,
        &[R(Role::Monitoring), Admin],
        "Prometheus' haproxy jobs; operators drain servers on /stats.",
    ));
    out.push(l(
        "certbot (HTTP-01, while it runs)",
        Tcp,
        ports::ACME_HTTP01,
        Loopback,
        &[],
        "HAProxy's acme back end on the same node.",
    ));
    out.push(l(
        "keepalived (VRRP adverts)",
        Vrrp,
        0,
        Private,
        &[R(Role::Haproxy)],
        "Unicast adverts between the HAProxy nodes.",
    ));
}

fn coturn(plan: &Plan, out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    for proto in [Udp, Tcp] {
        out.push(l(
            "coturn STUN/TURN",
            proto,
            ports::TURN,
            Private,
            &[Anywhere],
            "Clients; the blackbox probe from the monitoring host.",
        ));
        out.push(l(
            "coturn TURN over TLS/DTLS",
            proto,
            ports::TURNS,
            Private,
            &[Anywhere],
            "Clients; the blackbox probe from the monitoring host.",
        ));
        out.push(
            l(
                "coturn relay ports",
                proto,
                port16(plan.coturn.min_port),
                Private,
                &[Anywhere],
                "Clients and their call peers (TCP: RFC 6062 relays).",
            )
            .range(port16(plan.coturn.max_port)),
        );
    }
}

fn livekit(plan: &Plan, topo: &Topology, h: &Host, out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    out.push(l(
        "LiveKit HTTP (signalling, API)",
        Tcp,
        ports::LIVEKIT_HTTP,
        PrivateAndLoopback,
        &[R(Role::Haproxy), Admin],
        "HAProxy's livekit back end (clients reach it on the VIP at /livekit-server), the post-deploy check.",
    ));
    out.push(l(
        "LiveKit metrics",
        Tcp,
        ports::LIVEKIT_METRICS,
        PrivateAndLoopback,
        &[R(Role::Monitoring)],
        "Prometheus' livekit job.",
    ));
    out.push(l(
        "LiveKit ICE over TCP",
        Tcp,
        ports::LIVEKIT_RTC_TCP,
        All,
        &[Anywhere],
        "Clients whose UDP is blocked.",
    ));
    out.push(
        l(
            "LiveKit media (ICE UDP)",
            Udp,
            port16(plan.livekit.port_range_start),
            All,
            &[Anywhere],
            "Clients.",
        )
        .range(port16(plan.livekit.port_range_end)),
    );
    if topo.first(Role::Livekit).is_some_and(|f| f.name == h.name) {
        out.push(l(
            "Redis (LiveKit's routing)",
            Tcp,
            ports::LIVEKIT_REDIS,
            PrivateAndLoopback,
            &[R(Role::Livekit)],
            "Every LiveKit node.",
        ));
        out.push(l(
            "redis_exporter",
            Tcp,
            ports::REDIS_EXPORTER,
            Private,
            &[R(Role::Monitoring)],
            "Prometheus' redis job.",
        ));
    }
}

fn monitoring(out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    out.push(l(
        "Prometheus",
        Tcp,
        ports::PROMETHEUS,
        All,
        &[R(Role::Minio), Admin],
        "Operators; the MinIO console's MINIO_PROMETHEUS_URL.",
    ));
    out.push(l(
        "Alertmanager",
        Tcp,
        ports::ALERTMANAGER,
        All,
        &[Admin],
        "Operators (Prometheus sends alerts on 127.0.0.1).",
    ));
    out.push(l(
        "Grafana",
        Tcp,
        ports::GRAFANA,
        All,
        &[Admin],
        "Operators.",
    ));
    out.push(l(
        "blackbox exporter",
        Tcp,
        ports::BLACKBOX,
        Loopback,
        &[],
        "Prometheus on the same host.",
    ));
    out.push(l(
        "chrony (NTP server)",
        Udp,
        ports::NTP,
        All,
        &[Source::Cluster],
        "Every host's chrony syncs from here (chrony.conf allows the subnet).",
    ));
}

/// sshd and node_exporter, on every host.
fn every_host(h: &Host, out: &mut Vec<Listener>) {
    use Bind::*;
    use Proto::*;
    let l = Listener::new;
    let mut ssh = vec![Admin];
    match h.role {
        // pgBackRest: the backup host runs backups over ssh as postgres on each node,
        // and the nodes push WAL to the backup host over ssh.
        Role::Patroni => ssh.push(R(Role::Backup)),
        Role::Backup => ssh.push(R(Role::Patroni)),
        // The media backup rsyncs the media store over ssh.
        Role::Synapse => ssh.push(R(Role::Backup)),
        _ => {}
    }
    out.push(l(
        "sshd",
        Tcp,
        ports::SSH,
        All,
        &ssh,
        "Operators and Ansible from the admin networks; the backups where they use ssh.",
    ));
    out.push(l(
        "node_exporter",
        Tcp,
        ports::NODE_EXPORTER,
        All,
        &[R(Role::Monitoring)],
        "Prometheus' node job.",
    ));
}

/// A plan port (validated to 1024–65535) as a port number.
fn port16(p: u64) -> u16 {
    u16::try_from(p).unwrap_or(u16::MAX)
}

/// The hosts of a role grouped by identical listeners (livekit1 runs Redis, the others
/// do not): (host names, listeners), in topology order.
pub fn by_role(plan: &Plan, topo: &Topology, role: Role) -> Vec<(Vec<String>, Vec<Listener>)> {
    let mut groups: Vec<(Vec<String>, Vec<Listener>)> = Vec::new();
    for h in topo.role(role) {
        let mine = listeners(plan, topo, h);
        match groups.iter_mut().find(|(_, l)| *l == mine) {
            Some((names, _)) => names.push(h.name.clone()),
            None => groups.push((vec![h.name.clone()], mine)),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(ls: &'a [Listener], service: &str) -> &'a Listener {
        ls.iter()
            .find(|l| l.service == service)
            .unwrap_or_else(|| panic!("no {service}"))
    }

    #[test]
    fn worker_http_ports_admit_haproxy_only() {
        let plan = Plan::default();
        let topo = Topology::new(&plan);
        let synapse = topo.first(Role::Synapse).expect("synapse");
        let ls = listeners(&plan, &topo, synapse);
        let http: Vec<&Listener> = ls
            .iter()
            .filter(|l| l.service.ends_with("(HTTP)"))
            .collect();
        let with_port = workers::workers(&plan)
            .iter()
            .filter(|w| w.port.is_some())
            .count();
        assert_eq!(http.len(), with_port);
        assert!(with_port > 5);
        for l in http {
            assert_eq!(l.from, [R(Role::Haproxy)], "{}", l.service);
            assert_eq!(l.bind, Bind::Published);
        }
        assert_eq!(find(&ls, "PgBouncer").from, [DockerBridges]);
    }

    #[test]
    fn redis_only_on_the_first_livekit_host() {
        let plan = Plan::default();
        let topo = Topology::new(&plan);
        let groups = by_role(&plan, &topo, Role::Livekit);
        let names: Vec<&Vec<String>> = groups.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [&vec!["livekit1".to_string()], &vec!["livekit2".to_string()]]
        );
        assert!(
            groups[0]
                .1
                .iter()
                .any(|l| l.ports == (ports::LIVEKIT_REDIS, ports::LIVEKIT_REDIS))
        );
        assert!(
            !groups[1]
                .1
                .iter()
                .any(|l| l.ports == (ports::LIVEKIT_REDIS, ports::LIVEKIT_REDIS))
        );
    }

    /// No two reachable listeners of one host share a protocol and port: two services
    /// on one port would be a plan error, and the firewall rules would merge them.
    #[test]
    fn no_port_twice_on_a_host() {
        let mut plans: Vec<Plan> = crate::plan::presets::ALL.iter().map(|p| p.plan()).collect();
        plans.push(Plan::default());
        for plan in plans {
            let topo = Topology::new(&plan);
            for h in &topo.hosts {
                let ls = listeners(&plan, &topo, h);
                for (i, a) in ls.iter().enumerate() {
                    for b in &ls[i + 1..] {
                        let overlap = a.proto == b.proto
                            && a.proto != Proto::Vrrp
                            && a.ports.0 <= b.ports.1
                            && b.ports.0 <= a.ports.1;
                        assert!(
                            !overlap,
                            "{}: {} and {} share {} {}",
                            h.name,
                            a.service,
                            b.service,
                            a.proto.key(),
                            a.ports_text()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn loopback_listeners_admit_no_one() {
        let plan = Plan::default();
        let topo = Topology::new(&plan);
        for h in &topo.hosts {
            for l in listeners(&plan, &topo, h) {
                assert_eq!(l.bind == Bind::Loopback, l.from.is_empty(), "{}", l.service);
            }
        }
    }
}
