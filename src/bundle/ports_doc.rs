//! `PORTS.md`: every port each host listens on, on which address, and who may connect,
//! from the port inventory ([`crate::deploy::listeners`]). [`groups`] resolves the
//! inventory to rows of plain strings (addresses and host names instead of "private
//! address" and "haproxy hosts"); PORTS.md and the browser's bundle view both draw them.

use super::{Comment, Ctx, File, Scope};
use crate::deploy::listeners::{self, Bind, Listener, Proto, Source};
use crate::deploy::{Host, Topology};
use crate::plan::{Plan, Role, networks_text};
use crate::syntax::markdown::{code, text};
use std::fmt::Write as _;

/// The document at the bundle root.
pub const PORTS_DOC: &str = "PORTS.md";

/// One listener with everything resolved to text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortRow {
    pub service: String,
    /// `TCP`, `UDP` or `VRRP`.
    pub proto: String,
    /// `5432`, `49152–65535`, or `—` for VRRP.
    pub ports: String,
    /// The addresses it binds: `10.0.1.27, 127.0.0.1`, `VIP 10.0.1.10`, `all addresses`.
    pub listens_on: String,
    /// Who may connect: `haproxy1 10.0.1.11, haproxy2 10.0.1.12; admin networks
    /// 10.0.1.0/24`, `anywhere`, `this host only`.
    pub from: String,
    pub why: String,
}

/// The hosts of one role that listen alike, and their rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortGroup {
    pub role: Role,
    /// `livekit1 10.0.1.173`, or several joined by `, `.
    pub hosts: String,
    pub rows: Vec<PortRow>,
}

/// `name address` of each host, joined by `, `.
fn host_text<'a>(hosts: impl IntoIterator<Item = &'a Host>) -> String {
    hosts
        .into_iter()
        .map(|h| format!("{} {}", h.name, h.ip))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan's admin networks as text: `10.0.1.0/24`.
pub fn admin_networks_text(plan: &Plan) -> String {
    networks_text(&plan.admin_networks())
}

/// The addresses `bind` stands for on `hosts` (one group; each host binds its own).
fn listens_on(bind: Bind, topo: &Topology, hosts: &[&Host]) -> String {
    let own = match hosts {
        [one] => one.ip.to_string(),
        many => format!(
            "each host's own ({})",
            many.iter()
                .map(|h| h.ip.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let vip = format!("VIP {}", topo.vip);
    match bind {
        Bind::Private => own,
        Bind::PrivateAndLoopback => format!("{own}, 127.0.0.1"),
        Bind::Vip => vip,
        Bind::PrivateVipAndLoopback => format!("{own}, {vip}, 127.0.0.1"),
        Bind::Loopback => "127.0.0.1".into(),
        Bind::All => "all addresses".into(),
        Bind::Published => format!("{own} (published by Docker)"),
    }
}

/// Who `source` is, by host names and addresses or networks.
fn source_text(source: Source, plan: &Plan, topo: &Topology) -> String {
    match source {
        Source::Role(r) => {
            let hosts = host_text(topo.role(r));
            if hosts.is_empty() {
                format!("{} hosts (none in this plan)", r.key())
            } else {
                hosts
            }
        }
        Source::Cluster => "every host of the cluster".into(),
        Source::AdminNetworks => format!("admin networks {}", admin_networks_text(plan)),
        Source::DockerBridges => "containers on this host (docker0, br-*)".into(),
        Source::Anywhere => "anywhere".into(),
    }
}

fn row(l: &Listener, plan: &Plan, topo: &Topology, hosts: &[&Host]) -> PortRow {
    let from = if l.from.is_empty() {
        "this host only".to_string()
    } else {
        l.from
            .iter()
            .map(|s| source_text(*s, plan, topo))
            .collect::<Vec<_>>()
            .join("; ")
    };
    PortRow {
        service: l.service.clone(),
        proto: match l.proto {
            Proto::Vrrp => "VRRP (IP protocol 112)".into(),
            p => p.key().to_uppercase(),
        },
        ports: l.ports_text(),
        listens_on: listens_on(l.bind, topo, hosts),
        from,
        why: l.why.to_string(),
    }
}

/// Every role with hosts, in [`Role::ALL`] order, its hosts grouped by identical
/// listeners ([`listeners::by_role`]), each listener resolved to a row.
pub fn groups(plan: &Plan) -> Vec<PortGroup> {
    let topo = Topology::new(plan);
    let mut out = Vec::new();
    for role in Role::ALL {
        for (names, ls) in listeners::by_role(plan, &topo, role) {
            let hosts: Vec<&Host> = names.iter().filter_map(|n| topo.by_name(n)).collect();
            out.push(PortGroup {
                role,
                hosts: host_text(hosts.iter().copied()),
                rows: ls.iter().map(|l| row(l, plan, &topo, &hosts)).collect(),
            });
        }
    }
    out
}

/// PORTS.md: the intro, then a table per group of hosts.
pub fn ports_doc(ctx: &Ctx) -> File {
    let mut o = ctx.header(Comment::Html);
    let _ = writeln!(o, "# Ports: {}\n", text(&ctx.plan.name));
    let _ = writeln!(
        o,
        "Every port each host of this plan listens on, on which address, and who may connect. \
         The host firewall of each host ({}) admits exactly this and drops everything else; \
         a service that binds 127.0.0.1 only is reachable from its own host only. \
         \"Admin networks\" are the plan's {} ({}), \
         from which operators reach ssh, the web consoles and the post-deploy check's ports. \
         The VIP is {}, held by one HAProxy node at a time.\n",
        code(&format!("hosts/<name>/{}", super::firewall::FIREWALL_NFT)),
        code("network.admin-networks"),
        if ctx.plan.network.admin_networks.is_empty() {
            format!(
                "empty, so the private subnet {}",
                code(&admin_networks_text(ctx.plan))
            )
        } else {
            code(&admin_networks_text(ctx.plan))
        },
        code(&ctx.topology.vip.to_string()),
    );
    for g in groups(ctx.plan) {
        let _ = writeln!(o, "## {}: {}\n", text(g.role.label()), text(&g.hosts));
        let _ = writeln!(
            o,
            "| service | proto | port(s) | listens on | who may connect | why |\n|---|---|---|---|---|---|"
        );
        for r in &g.rows {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                text(&r.service),
                text(&r.proto),
                text(&r.ports),
                text(&r.listens_on),
                text(&r.from),
                text(&r.why)
            );
        }
        let _ = writeln!(o);
    }
    File::new(
        PORTS_DOC,
        Scope::Control,
        "Every port each host listens on, on which address, and who may connect (what the host firewalls admit).",
        o,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;

    /// Every listener of every host of the default plan is a row of PORTS.md, under a
    /// heading that names the host.
    #[test]
    fn every_listener_of_every_host_is_in_ports_md() {
        let plan = Plan::default();
        let doc = with_ctx(&plan, |ctx| ports_doc(ctx).contents);
        let sections: Vec<&str> = doc.split("\n## ").skip(1).collect();
        let topo = Topology::new(&plan);
        let mut rows = 0;
        for h in &topo.hosts {
            let heading = text(&format!("{} {}", h.name, h.ip));
            let mine: Vec<&&str> = sections
                .iter()
                .filter(|s| s.lines().next().is_some_and(|l| l.contains(&heading)))
                .collect();
            assert_eq!(mine.len(), 1, "{}: one section", h.name);
            for l in listeners::listeners(&plan, &topo, h) {
                let start = format!(
                    "| {} | {} | {} |",
                    text(&l.service),
                    text(&match l.proto {
                        Proto::Vrrp => "VRRP (IP protocol 112)".to_string(),
                        p => p.key().to_uppercase(),
                    }),
                    text(&l.ports_text())
                );
                assert!(
                    mine[0].lines().any(|line| line.starts_with(&start)),
                    "{}: no row {start}",
                    h.name
                );
                rows += 1;
            }
        }
        assert!(rows > 60, "{rows}");
    }

    #[test]
    fn sources_resolve_to_hosts_and_networks() {
        let plan = Plan::default();
        let gs = groups(&plan);
        let synapse = gs
            .iter()
            .find(|g| g.role == Role::Synapse)
            .expect("synapse");
        let pgb = synapse
            .rows
            .iter()
            .find(|r| r.service == "PgBouncer")
            .expect("PgBouncer");
        assert_eq!(pgb.from, "containers on this host (docker0, br-*)");
        assert_eq!(pgb.listens_on, "10.0.1.27, 127.0.0.1");
        let worker = synapse
            .rows
            .iter()
            .find(|r| r.service.ends_with("(HTTP)"))
            .expect("a worker");
        assert_eq!(worker.from, "haproxy1 10.0.1.11, haproxy2 10.0.1.12");
        let patroni = gs
            .iter()
            .find(|g| g.role == Role::Patroni)
            .expect("patroni");
        assert_eq!(
            patroni.hosts,
            "patroni1 10.0.1.28, patroni2 10.0.1.29, patroni3 10.0.1.30"
        );
        let ssh = patroni
            .rows
            .iter()
            .find(|r| r.service == "sshd")
            .expect("sshd");
        assert_eq!(ssh.from, "admin networks 10.0.1.0/24; backup 10.0.1.44");
    }

    /// A hostile plan name stays literal text in PORTS.md.
    #[test]
    fn hostile_name_is_text() {
        let mut plan = crate::bundle::hostile_plan();
        plan.name = crate::bundle::HOSTILE.into();
        let doc = with_ctx(&plan, |ctx| ports_doc(ctx).contents);
        assert!(doc.contains(&format!("# Ports: {}", text(crate::bundle::HOSTILE))));
        assert!(doc.lines().all(|l| !l.starts_with("INJECTED")));
    }
}
