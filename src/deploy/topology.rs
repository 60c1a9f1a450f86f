//! Every host of the plan with its name and address.
//!
//! Names follow the seed: `<role><n>.<suffix>` (`patroni1.internal`), and the bare role
//! for roles that have one host at most (`synapse.internal`). Addresses are fixed
//! offsets of the subnet per role ([`Role::address_block`]).

use crate::plan::{Plan, Role};
use std::net::Ipv4Addr;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub role: Role,
    /// 1-based index within the role.
    pub index: u64,
    /// Short name: `patroni1`, `synapse`.
    pub name: String,
    /// `patroni1.internal`.
    pub fqdn: String,
    pub ip: Ipv4Addr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// In role order ([`Role::ALL`]), then index.
    pub hosts: Vec<Host>,
    pub vip: Ipv4Addr,
    /// `10.0.1.0/24`.
    pub subnet: String,
    pub interface: String,
    pub suffix: String,
    /// The public Matrix server name (`plan.domain`).
    pub server_name: String,
}

impl Topology {
    pub fn new(plan: &Plan) -> Topology {
        let n = &plan.network;
        let base = u32::from(n.subnet);
        let mut hosts = Vec::new();
        for role in Role::ALL {
            let (first, _) = role.address_block();
            for i in 1..=plan.host(role).count {
                let name = role.host_name(i);
                hosts.push(Host {
                    role,
                    index: i,
                    fqdn: format!("{name}.{}", n.internal_domain),
                    name,
                    // Validation keeps counts within blocks and blocks within the subnet.
                    ip: Ipv4Addr::from(base.saturating_add(first).saturating_add(i as u32 - 1)),
                });
            }
        }
        Topology {
            hosts,
            vip: n.vip,
            subnet: format!("{}/{}", n.subnet, n.prefix),
            interface: n.interface.clone(),
            suffix: n.internal_domain.clone(),
            server_name: plan.domain.clone(),
        }
    }

    /// The hosts of one role, in index order.
    pub fn role(&self, role: Role) -> impl Iterator<Item = &Host> {
        self.hosts.iter().filter(move |h| h.role == role)
    }

    pub fn first(&self, role: Role) -> Option<&Host> {
        self.role(role).next()
    }

    pub fn by_name(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_names_and_addresses() {
        let t = Topology::new(&Plan::default());
        let names: Vec<(&str, String)> = t
            .hosts
            .iter()
            .map(|h| (h.fqdn.as_str(), h.ip.to_string()))
            .collect();
        assert_eq!(
            names,
            [
                ("synapse.internal", "10.0.1.27"),
                ("patroni1.internal", "10.0.1.28"),
                ("patroni2.internal", "10.0.1.29"),
                ("patroni3.internal", "10.0.1.30"),
                ("minio1.internal", "10.0.1.45"),
                ("minio2.internal", "10.0.1.46"),
                ("minio3.internal", "10.0.1.47"),
                ("minio4.internal", "10.0.1.48"),
                ("haproxy1.internal", "10.0.1.11"),
                ("haproxy2.internal", "10.0.1.12"),
                ("coturn1.internal", "10.0.1.109"),
                ("coturn2.internal", "10.0.1.110"),
                ("livekit1.internal", "10.0.1.173"),
                ("livekit2.internal", "10.0.1.174"),
                ("monitoring.internal", "10.0.1.43"),
                ("backup.internal", "10.0.1.44"),
            ]
            .map(|(a, b)| (a, b.to_string()))
        );
        assert_eq!(t.vip.to_string(), "10.0.1.10");
    }

    /// At the longest internal domain and server name validation accepts, with every
    /// role at its largest count, every name the bundle writes fits: host names and
    /// labels (DNS), file names (NAME_MAX) and mail addresses (RFC 5321).
    #[test]
    fn numbers_past_tool_limits_every_generated_name_fits_at_the_longest_valid_names() {
        use crate::plan::{DNS_LABEL_MAX, DNS_NAME_MAX, FILE_NAME_MAX, MAIL_ADDRESS_MAX};
        let longest_ok = |path: &str| {
            (1..=253)
                .rev()
                .map(crate::plan::tests_dns_name)
                .find(|name| Plan::default().with_text(path, name).is_ok())
                .unwrap_or_else(|| panic!("no valid {path}"))
        };
        let suffix = longest_ok("network.internal-domain");
        let server = longest_ok("domain");
        assert_eq!((suffix.len(), server.len()), (242, 241));
        let mut changes = vec![
            ("network.internal-domain".to_string(), suffix.clone()),
            ("domain".to_string(), server.clone()),
        ];
        for role in Role::ALL {
            let (_, max, _) = role.count_bounds();
            changes.push((format!("hosts.{}.count", role.key()), max.to_string()));
        }
        let refs: Vec<(&str, &str)> = changes
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let plan = Plan::default().with_texts(&refs).expect("valid");
        let t = Topology::new(&plan);
        for h in &t.hosts {
            assert!(
                h.fqdn.len() <= DNS_NAME_MAX,
                "{} is {}",
                h.fqdn,
                h.fqdn.len()
            );
            assert!(
                h.fqdn.split('.').all(|l| l.len() <= DNS_LABEL_MAX),
                "{}",
                h.fqdn
            );
        }
        let date = crate::bundle::Date::parse("2026-11-26").expect("date");
        let files = crate::bundle::files(&plan, &date, &crate::bundle::Secrets::placeholders());
        let mut seen = 0;
        for f in &files {
            for word in f
                .contents
                .split(|c: char| c.is_whitespace() || "\"'<>=,;()[]{}`|".contains(c))
                .filter(|w| w.contains(server.as_str()) || w.contains(suffix.as_str()))
            {
                seen += 1;
                // The pieces of paths and URIs (`/etc/haproxy/certs/<server>.pem`,
                // `turn:<host>:3478?transport=udp`, `https://<host>:8008/…`). Other
                // words holding a name (etcd's cluster token) are no name of a tool.
                let is_path = word.contains('/');
                for part in word.split(['/', ':', '?']) {
                    let part = part.trim_end_matches('.');
                    if let Some((local, host)) = part.split_once('@') {
                        // A mail address at the server name; `root@<host>` is ssh's.
                        assert!(
                            host != server || part.len() <= MAIL_ADDRESS_MAX,
                            "{}: {local}@… is {} characters",
                            f.path,
                            part.len()
                        );
                        assert!(host.len() <= DNS_NAME_MAX, "{}: {host}", f.path);
                    } else if is_path {
                        assert!(
                            part.len() <= FILE_NAME_MAX,
                            "{}: {part} is {}",
                            f.path,
                            part.len()
                        );
                    }
                }
            }
        }
        assert!(seen > 100, "{seen}");
    }

    #[test]
    fn adding_a_host_moves_no_other() {
        let a = Topology::new(&Plan::default());
        let p = Plan::default()
            .with_text("hosts.patroni.count", "5")
            .unwrap();
        let b = Topology::new(&p);
        for h in &a.hosts {
            assert_eq!(b.by_name(&h.name).map(|x| x.ip), Some(h.ip), "{}", h.name);
        }
    }
}
