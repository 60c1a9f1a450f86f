//! The host firewalls: one nftables file per host, made from the port inventory
//! (`deploy::listeners`), and the systemd unit that loads it at boot.
//!
//! One table of its own (`inet synapse_planner`), one base chain on the prerouting hook
//! at priority -150: after conntrack (-200), before Docker's DNAT (dstnat, -100), so a
//! port Docker publishes is filtered on the address and port the client sent to (an
//! input chain would see the container's address after the DNAT, and forwarded packets
//! never pass input at all). What is not for this host (`fib daddr type != local`) is
//! left to Docker's own chains. Reloading deletes and re-creates only this table, never
//! `flush ruleset`, which would remove Docker's iptables-nft tables too.

use super::{Comment, Ctx, File, Scope};
use crate::deploy::listeners::{self, Bind, Listener, Proto, Source};
use crate::deploy::{Host, Topology, ports};
use crate::plan::{Ipv4Net, Plan};
use std::net::Ipv4Addr;

/// The rules file, under each host's tree (`hosts/<name>/…`) and, from the root, where
/// prepare-host.sh installs it.
pub(super) const FIREWALL_NFT: &str = "etc/synapse-planner/firewall.nft";

/// The unit that loads it, on every host.
pub(super) const FIREWALL_UNIT: &str =
    "hosts/all/etc/systemd/system/synapse-planner-firewall.service";

/// The unit's name, as prepare-host.sh enables it.
pub(super) fn unit_name() -> &'static str {
    FIREWALL_UNIT.rsplit('/').next().unwrap_or(FIREWALL_UNIT)
}

/// The nftables table the firewall owns (family inet).
pub(super) const TABLE: &str = "synapse_planner";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out: Vec<File> = ctx
        .topology
        .hosts
        .iter()
        .map(|h| {
            File::new(
                format!("hosts/{}/{FIREWALL_NFT}", h.name),
                Scope::Role(h.role),
                "Host firewall (nftables): admits what the port inventory says may connect to this host, drops the rest.",
                ruleset(ctx, h),
            )
            .for_host(h)
        })
        .collect();
    out.push(unit(ctx));
    out
}

/// Who a rule admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Any address.
    Anywhere,
    /// These source networks.
    Networks(Vec<Ipv4Net>),
    /// Packets arriving on interfaces matching this name (`docker0`, `br-*`).
    Interface(&'static str),
}

/// One accept rule of the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rule {
    /// Destination addresses; empty: any address of the host.
    pub daddr: Vec<Ipv4Addr>,
    pub proto: Proto,
    pub ports: (u16, u16),
    pub from: Admit,
    pub service: String,
    /// Who, for the rule's comment: the inventory's source labels.
    pub who: String,
    pub why: &'static str,
}

/// The Docker bridges of a host: the default one and the user-defined networks'.
const DOCKER_BRIDGES: [&str; 2] = ["docker0", "br-*"];

/// The accept rules for host `h`: one per reachable listener and kind of source, none
/// where the source is an empty set (a role the plan has no host of).
pub(crate) fn rules(plan: &Plan, topo: &Topology, h: &Host) -> Vec<Rule> {
    let mut out = Vec::new();
    for l in listeners::listeners(plan, topo, h) {
        if !l.bind.reachable() {
            continue;
        }
        let rule = |from: Admit| {
            let who: Vec<String> = match &from {
                Admit::Interface(i) => vec![format!("containers on {i}")],
                _ => l
                    .from
                    .iter()
                    .filter(|s| **s != Source::DockerBridges)
                    .map(|s| s.label())
                    .collect(),
            };
            Rule {
                daddr: daddr(&l, topo, h),
                proto: l.proto,
                ports: l.ports,
                from,
                service: l.service.clone(),
                who: who.join(", "),
                why: l.why,
            }
        };
        if l.from.contains(&Source::Anywhere) {
            out.push(rule(Admit::Anywhere));
            continue;
        }
        let nets: Vec<Ipv4Net> = l
            .from
            .iter()
            .filter_map(|s| s.networks(plan, topo))
            .flatten()
            .collect();
        let nets = merge(nets);
        if !nets.is_empty() {
            out.push(rule(Admit::Networks(nets)));
        }
        if l.from.contains(&Source::DockerBridges) {
            for i in DOCKER_BRIDGES {
                out.push(rule(Admit::Interface(i)));
            }
        }
    }
    out
}

/// The networks host `h`'s firewall admits to sshd (prepare-host.sh checks the
/// operator's own connection against them before loading the rules).
pub(crate) fn ssh_networks(plan: &Plan, topo: &Topology, h: &Host) -> Vec<Ipv4Net> {
    rules(plan, topo, h)
        .into_iter()
        .filter(|r| r.proto == Proto::Tcp && r.ports == (ports::SSH, ports::SSH))
        .flat_map(|r| match r.from {
            Admit::Networks(n) => n,
            _ => Vec::new(),
        })
        .collect()
}

/// The addresses a listener's packets are sent to.
fn daddr(l: &Listener, topo: &Topology, h: &Host) -> Vec<Ipv4Addr> {
    match l.bind {
        Bind::Private | Bind::PrivateAndLoopback | Bind::Published => vec![h.ip],
        Bind::Vip => vec![topo.vip],
        Bind::PrivateVipAndLoopback => vec![h.ip, topo.vip],
        // Loopback listeners have no rule; 127.0.0.1 comes in on lo.
        Bind::All | Bind::Loopback => Vec::new(),
    }
}

/// `n` with its host bits cleared (nftables refuses a prefix with host bits set).
fn network(n: Ipv4Net) -> Ipv4Net {
    let prefix = n.prefix.min(32);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    Ipv4Net {
        addr: Ipv4Addr::from(u32::from(n.addr) & mask),
        prefix,
    }
}

/// Whether `outer` holds all of `inner`.
fn covers(outer: Ipv4Net, inner: Ipv4Net) -> bool {
    outer.prefix <= inner.prefix
        && network(Ipv4Net {
            prefix: outer.prefix,
            ..inner
        }) == outer
}

/// The networks, sorted, without duplicates or networks inside another one (an nft set
/// refuses overlapping intervals).
fn merge(nets: Vec<Ipv4Net>) -> Vec<Ipv4Net> {
    let mut nets: Vec<Ipv4Net> = nets.into_iter().map(network).collect();
    nets.sort_by_key(|n| (u32::from(n.addr), n.prefix));
    nets.dedup();
    let all = nets.clone();
    nets.retain(|n| !all.iter().any(|o| o != n && covers(*o, *n)));
    nets
}

/// A network as nft writes it: the bare address for a /32.
fn net_text(n: &Ipv4Net) -> String {
    if n.prefix >= 32 {
        n.addr.to_string()
    } else {
        n.to_string()
    }
}

/// `a` or `{ a, b }`.
fn set<T: AsRef<str>>(items: &[T]) -> String {
    match items {
        [one] => one.as_ref().to_string(),
        _ => format!(
            "{{ {} }}",
            items
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The longest comment nftables keeps (NFTNL_UDATA_COMMENT_MAXLEN, with its NUL).
const COMMENT_MAX: usize = 127;

/// `comment "…"` for a rule: printable ASCII only, no `"` or `\` (nft's strings have no
/// escapes), at most [`COMMENT_MAX`] bytes. Anything else becomes `_`.
pub(crate) fn nft_comment(text: &str) -> String {
    let clean: String = text
        .chars()
        .map(|c| {
            if (c.is_ascii_graphic() || c == ' ') && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .take(COMMENT_MAX)
        .collect();
    format!("comment \"{clean}\"")
}

/// One accept rule as nft text, with its reason as `#` lines above it when `with_why`
/// (the first rule of its listener).
fn rule_text(r: &Rule, with_why: bool) -> String {
    let mut m: Vec<String> = Vec::new();
    if !r.daddr.is_empty() {
        let a: Vec<String> = r.daddr.iter().map(Ipv4Addr::to_string).collect();
        m.push(format!("ip daddr {}", set(&a)));
    }
    match &r.from {
        Admit::Anywhere => {}
        Admit::Networks(nets) => {
            let n: Vec<String> = nets.iter().map(net_text).collect();
            m.push(format!("ip saddr {}", set(&n)));
        }
        Admit::Interface(i) => m.push(format!("iifname \"{i}\"")),
    }
    // Nothing planned listens on IPv6: a rule without an IPv4 match is limited to IPv4.
    if m.is_empty() || (matches!(r.from, Admit::Interface(_)) && r.daddr.is_empty()) {
        m.insert(0, "meta nfproto ipv4".into());
    }
    match r.proto {
        Proto::Vrrp => m.push("ip protocol 112".into()),
        p => {
            let ports = if r.ports.0 == r.ports.1 {
                r.ports.0.to_string()
            } else {
                format!("{}-{}", r.ports.0, r.ports.1)
            };
            m.push(format!("{} dport {ports}", p.key()));
        }
    }
    let mut s = String::new();
    if with_why {
        s.push_str("\t\t");
        s.push_str(
            &Comment::Hash
                .lines(&format!("{}: {}", r.service, r.why))
                .replace("\n#", "\n\t\t#"),
        );
    }
    s.push_str(&format!(
        "\t\t{} accept {}\n",
        m.join(" "),
        nft_comment(&format!("{} from {}", r.service, r.who))
    ));
    s
}

/// The header of a host's rules file: how it works and what to check before enabling it.
fn explanation(ctx: &Ctx, h: &Host) -> String {
    let nets: Vec<String> = ctx.plan.admin_networks().iter().map(net_text).collect();
    let admin = if ctx.plan.network.admin_networks.is_empty() {
        format!("none named, so the private subnet {}", nets.join(", "))
    } else {
        nets.join(", ")
    };
    format!(
        "Host firewall of {name} ({role}), made from the plan's port inventory (PORTS.md):\n\
         each listener of this host admits the hosts and networks that are its clients, the\n\
         rest of what is sent to this host is dropped and counted.\n\
         \n\
         BEFORE ENABLING: ssh and the web UIs are admitted from the admin networks\n\
         (network.admin-networks: {admin}).\n\
         Run Ansible and the checks from there, or you lock yourself out (the session you\n\
         load this from stays open: it is established).\n\
         \n\
         Loaded by {unit} at boot (nft -f {path}),\n\
         before the network and Docker.\n\
         The chain hooks prerouting at priority -150: after conntrack (-200), before\n\
         Docker's DNAT (-100), so ports Docker publishes (-p) are filtered on the address and\n\
         port clients send to. Packets not addressed to this host (containers' and routed\n\
         traffic) are accepted here and left to Docker's own chains.\n\
         Reloading deletes and re-creates this table only: never `flush ruleset`, which would\n\
         remove Docker's tables too (Debian's nftables.service runs /etc/nftables.conf, which\n\
         starts with flush ruleset: leave that service disabled).\n\
         IPv6: nothing the plan runs listens on IPv6, so only ICMPv6 (neighbour discovery,\n\
         errors, echo) is admitted.",
        name = h.name,
        role = h.role.key(),
        unit = unit_name(),
        path = format_args!("/{FIREWALL_NFT}"),
    )
}

fn ruleset(ctx: &Ctx, h: &Host) -> String {
    let mut s = ctx.header(Comment::Hash);
    s.push_str(&Comment::Hash.lines(&explanation(ctx, h)));
    s.push_str(&format!(
        "\n# Create the table if it is missing, so the delete below never fails, then define it anew.\n\
         table inet {TABLE}\ndelete table inet {TABLE}\n\ntable inet {TABLE} {{\n\
         \tchain prerouting {{\n\
         \t\ttype filter hook prerouting priority -150; policy accept;\n\
         \t\tiif lo accept {lo}\n\
         \t\tfib daddr type != local accept {fib}\n\
         \t\tct state established,related accept {est}\n\
         \t\tct state invalid drop {inv}\n\
         \t\t# ICMP: ping and the errors path MTU discovery and connection failures need.\n\
         \t\tmeta l4proto icmp icmp type {{ echo-request, destination-unreachable, time-exceeded, parameter-problem }} accept {icmp}\n\
         \t\tmeta l4proto ipv6-icmp icmpv6 type {{ echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert }} accept {icmp6}\n",
        lo = nft_comment("loopback: the host's own connections"),
        fib = nft_comment("not for this host: containers and routed traffic, Docker's chains decide"),
        est = nft_comment("replies and related packets of admitted connections"),
        inv = nft_comment("packets conntrack cannot place"),
        icmp = nft_comment("ICMP echo and errors"),
        icmp6 = nft_comment("ICMPv6 echo, errors and neighbour discovery"),
    ));
    let mut last: Option<(String, &str)> = None;
    for r in rules(ctx.plan, &ctx.topology, h) {
        let this = Some((r.service.clone(), r.why));
        s.push_str(&rule_text(&r, this != last));
        last = this;
    }
    for l in listeners::listeners(ctx.plan, &ctx.topology, h) {
        if !l.bind.reachable() {
            s.push_str(&format!(
                "\t\t{}",
                Comment::Hash.lines(&format!(
                    "No rule for {} (port {}): it listens on 127.0.0.1 only.",
                    l.service,
                    l.ports_text()
                ))
            ));
        }
    }
    s.push_str(&format!(
        "\t\t# Everything else sent to this host: logged (a sample, 5 a minute, so a scan cannot\n\
         \t\t# flood the journal) and dropped, counted.\n\
         \t\tlimit rate 5/minute burst 5 packets log prefix \"synapse-planner drop: \" {log}\n\
         \t\tcounter drop {drop}\n\t}}\n}}\n",
        log = nft_comment("log a sample of dropped packets"),
        drop = nft_comment("not in the port inventory"),
    ));
    s
}

/// The oneshot unit that loads the rules at boot and deletes them on stop.
fn unit(ctx: &Ctx) -> File {
    let path = format!("/{FIREWALL_NFT}");
    let body = format!(
        "{header}\
# Loads this host's firewall (/{FIREWALL_NFT}, from the bundle's
# hosts/<name>/ tree) before the network comes up and before Docker, so no port is
# open unfiltered at boot.
# It touches only its own table (inet {TABLE}); Docker's tables are never flushed.
[Unit]
Description=synapse-planner host firewall (nftables table inet {TABLE})
Documentation=man:nft(8)
# Early boot: no default dependencies, like Debian's nftables.service.
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target docker.service
Conflicts=shutdown.target

[Service]
Type=oneshot
RemainAfterExit=yes
# Check the file first: a broken file leaves the rules loaded before it in place.
ExecStartPre=/usr/sbin/nft -c -f {path}
# The file deletes and re-creates its table: starting again reloads it.
ExecStart=/usr/sbin/nft -f {path}
ExecReload=/usr/sbin/nft -f {path}
# Stopping the unit removes the firewall (every port open again).
ExecStop=/usr/sbin/nft delete table inet {TABLE}

[Install]
WantedBy=multi-user.target
",
        header = ctx.header(Comment::Hash),
    );
    File::new(
        FIREWALL_UNIT,
        Scope::AllHosts,
        "systemd unit: loads the host's firewall.nft at boot, before the network and Docker.",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;
    use std::collections::BTreeSet;

    /// (proto, first port, last port) of every accept rule with a port in `text`.
    fn opened(text: &str) -> BTreeSet<(String, u16, u16)> {
        let mut out = BTreeSet::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with('#') || !line.contains(" accept") {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            for (i, w) in words.iter().enumerate() {
                if *w == "dport" {
                    let proto = words[i - 1].to_string();
                    let p = words[i + 1];
                    let (a, b) = p.split_once('-').unwrap_or((p, p));
                    out.insert((proto, a.parse().expect("port"), b.parse().expect("port")));
                }
            }
            if line.contains("ip protocol 112") {
                out.insert(("vrrp".into(), 0, 0));
            }
        }
        out
    }

    /// Every host of the default plan and of the presets: the ports its firewall opens
    /// are exactly its inventory's reachable listeners with someone to admit.
    #[test]
    fn rules_open_exactly_the_inventory() {
        let mut plans: Vec<Plan> = crate::plan::presets::ALL.iter().map(|p| p.plan()).collect();
        plans.push(Plan::default());
        for plan in plans {
            with_ctx(&plan, |ctx| {
                let fw = files(ctx);
                for h in &ctx.topology.hosts {
                    let text = &fw
                        .iter()
                        .find(|f| f.path == format!("hosts/{}/{FIREWALL_NFT}", h.name))
                        .expect("a firewall per host")
                        .contents;
                    let want: BTreeSet<(String, u16, u16)> =
                        listeners::listeners(&plan, &ctx.topology, h)
                            .iter()
                            .filter(|l| l.bind.reachable())
                            .filter(|l| {
                                l.from.iter().any(|s| {
                                    s.networks(&plan, &ctx.topology)
                                        .is_none_or(|n| !n.is_empty())
                                })
                            })
                            .map(|l| (l.proto.key().to_string(), l.ports.0, l.ports.1))
                            .collect();
                    assert_eq!(opened(text), want, "{}:\n{text}", h.name);
                }
            });
        }
    }

    /// The default plan's Synapse host: worker ports admit the HAProxy nodes only,
    /// PgBouncer the Docker bridges only.
    #[test]
    fn synapse_worker_ports_admit_haproxy_only() {
        let plan = Plan::default();
        let topo = Topology::new(&plan);
        let synapse = topo.first(crate::plan::Role::Synapse).expect("synapse");
        let haproxy: Vec<Ipv4Net> = topo
            .role(crate::plan::Role::Haproxy)
            .map(|h| Ipv4Net {
                addr: h.ip,
                prefix: 32,
            })
            .collect();
        let rs = rules(&plan, &topo, synapse);
        let http: Vec<&Rule> = rs
            .iter()
            .filter(|r| r.service.ends_with("(HTTP)"))
            .collect();
        assert!(http.len() > 5);
        for r in http {
            assert_eq!(r.from, Admit::Networks(haproxy.clone()), "{}", r.service);
            assert_eq!(r.daddr, [synapse.ip]);
        }
        let pgb: Vec<&Admit> = rs
            .iter()
            .filter(|r| r.service == "PgBouncer")
            .map(|r| &r.from)
            .collect();
        assert_eq!(
            pgb,
            [&Admit::Interface("docker0"), &Admit::Interface("br-*")]
        );
    }

    #[test]
    fn merge_drops_covered_networks() {
        let n = |s: &str, p: u8| Ipv4Net {
            addr: s.parse().expect("ip"),
            prefix: p,
        };
        assert_eq!(
            merge(vec![
                n("10.0.1.10", 32),
                n("10.0.1.7", 24),
                n("10.0.1.10", 32),
                n("192.0.2.1", 32)
            ]),
            [n("10.0.1.0", 24), n("192.0.2.1", 32)]
        );
    }

    #[test]
    fn comments_stay_one_quoted_string() {
        let c = nft_comment("a\"b\\c\nd\u{2028}é");
        assert_eq!(c, "comment \"a_b_c_d__\"");
        assert_eq!(
            nft_comment(&"x".repeat(300)).len(),
            "comment \"\"".len() + COMMENT_MAX
        );
    }
}
