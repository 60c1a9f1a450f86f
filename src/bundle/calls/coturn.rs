//! coturn on each coturn host: `turnserver.conf` (listeners, relays, Synapse's shared
//! secret, the report's quotas, TLS, the peers a relay may reach) and the SysV switch in
//! `/etc/default`.

use super::role_file;
use crate::assumptions as a;
use crate::bundle::checks::certs::{DISTRIBUTE, TLS_DIR};
use crate::bundle::{Comment, Ctx, File, SecretId};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::conf::Format;
use std::fmt::Write;
use std::net::Ipv4Addr;

/// coturn's configuration (Debian's coturn.service runs `turnserver -c` with it).
pub(super) const TURNSERVER_CONF: &str = "/etc/turnserver.conf";
/// Read by Debian's SysV init script for coturn.
pub(super) const COTURN_DEFAULT: &str = "/etc/default/coturn";

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

/// turnserver.conf of coturn host `h`.
pub(super) fn turnserver_conf(ctx: &Ctx, h: &Host) -> File {
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&Comment::Hash.lines(&format!(
        r#"coturn 4.6 (Debian 12's package) on {name} ({addr}): TURN/STUN for 1:1 calls. Synapse
hands clients short-lived credentials derived from static-auth-secret (its
turn_shared_secret) and lists every coturn host as turn:<host>:{turn} and turns:<host>:{turns}.
Check after editing: turnserver -c {TURNSERVER_CONF} --log-file=stdout (coturn never
stops on an unknown line; it prints "Bad configuration format" and goes on).
This file holds the shared secret: keep it root:turnserver 0640 (the package's
dpkg-statoverride), readable by the turnserver user."#,
        name = h.name,
        addr = h.ip,
        turn = ports::TURN,
        turns = ports::TURNS,
    )));
    o.push_str(&listeners_and_relays(ctx, h));
    o.push_str(&authentication(ctx));
    o.push_str(&quotas_and_tls(ctx));
    o.push_str(&peers(ctx));
    o.push_str(OPERATIONS);
    role_file(
        Role::Coturn,
        h,
        TURNSERVER_CONF,
        "coturn: TURN on 3478/5349 with Synapse's shared secret, relay range from the plan, quotas, peers the relays may not reach.",
        o,
    )
    .secret()
}

/// `s` as one turnserver.conf value.
fn cv(s: &str) -> String {
    Format::Coturn.value(s)
}

/// Where coturn listens and relays, and the relay port range with what it allows.
fn listeners_and_relays(ctx: &Ctx, h: &Host) -> String {
    let p = &ctx.plan.coturn;
    let turn = &ctx.report.calls.turn;
    format!(
        r#"
# Listeners: STUN/TURN on UDP and TCP {turn_port}, TURN over TLS (and DTLS) {turns_port}, on this host's
# private address only.
listening-ip={ip}
listening-port={turn_port}
tls-listening-port={turns_port}

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
"#,
        ip = cv(&h.ip.to_string()),
        turn_port = ports::TURN,
        turns_port = ports::TURNS,
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
    )
}

/// Synapse's shared-secret scheme, the realm, and the attributes WebRTC clients need.
fn authentication(ctx: &Ctx) -> String {
    format!(
        r#"
# Authentication: the TURN REST API scheme (username = expiry:user, password = HMAC of
# it with the shared secret), as Synapse's turn_shared_secret expects.
use-auth-secret
static-auth-secret={secret}
realm={realm}
# WebRTC clients require the FINGERPRINT attribute.
fingerprint
# Nonces expire after 600 s, limiting replays.
stale-nonce=600
"#,
        secret = cv(ctx.secret(SecretId::TurnSharedSecret)),
        realm = cv(&ctx.topology.server_name),
    )
}

/// The report's quotas, and the certificate turns uses.
fn quotas_and_tls(ctx: &Ctx) -> String {
    let turn = &ctx.report.calls.turn;
    let server = &ctx.topology.server_name;
    format!(
        r#"
{quota_note}user-quota={user_quota}
total-quota={total_quota}

# TLS for turns: the server name's certificate ({DISTRIBUTE} installs it,
# key readable by the turnserver group). TLS 1.2 and later only.
cert={cert}
pkey={pkey}
no-tlsv1
no-tlsv1_1
"#,
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
        cert = cv(&format!("{TLS_DIR}/{server}/fullchain.pem")),
        pkey = cv(&format!("{TLS_DIR}/{server}/privkey.pem")),
    )
}

/// The peers a relay may not reach (the cluster's subnet, the special-purpose ranges)
/// and the ones it may (every coturn host).
fn peers(ctx: &Ctx) -> String {
    let (net_first, net_last) = network_range(ctx.plan.network.subnet, ctx.plan.network.prefix);
    let mut o = format!(
        "\n{peers_note}no-multicast-peers\ndenied-peer-ip={denied}\n",
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
            subnet = ctx.topology.subnet,
        )),
        denied = cv(&format!("{net_first}-{net_last}")),
    );
    for (first, last, what) in SPECIAL_RANGES {
        let _ = writeln!(o, "# {what}\ndenied-peer-ip={first}-{last}");
    }
    for c in ctx.hosts(Role::Coturn) {
        let _ = writeln!(o, "allowed-peer-ip={}", cv(&c.ip.to_string()));
    }
    o
}

/// The end of turnserver.conf: TCP relays, and what operations need (no CLI, logs).
const OPERATIONS: &str = r#"# TCP relays stay allowed (the seed: do NOT set no-tcp-relay); the denied peers above
# apply to them too.

# Operations: no telnet CLI (it listens on 127.0.0.1:5766 with an empty password by
# default), no software version in responses, logs to stdout (systemd's journal).
no-cli
no-software-attribute
log-file=stdout
# No Prometheus exporter: Debian 12's coturn 4.6.1 is built without it ("prometheus" is
# "Bad configuration format" there). Monitor coturn through node_exporter's systemd
# unit state and the post-deploy check's TURN probe.
"#;

/// coturn's `/etc/default` file: enables the daemon for the SysV init script.
pub(super) fn coturn_default(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        "{}\
# Read by Debian's /etc/init.d/coturn only: with systemd, coturn.service runs
# turnserver -c {TURNSERVER_CONF} and the package enables it. Set so that the
# daemon also starts where the SysV script is used.
TURNSERVER_ENABLED=1
",
        ctx.header(Comment::Hash)
    );
    role_file(
        Role::Coturn,
        h,
        COTURN_DEFAULT,
        "Enables the coturn daemon for the SysV init script (systemd ignores it).",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::tests::{plan, settings, values};
    use super::*;
    use crate::bundle::{Secrets, contents, with_ctx};

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
    fn coturn_settings_follow_the_plan() {
        let p = plan(&[("coturn.min-port", "40000"), ("coturn.max-port", "40999")]);
        let files = with_ctx(&p, files);
        let s = settings(
            &contents(&files, &format!("hosts/coturn2{TURNSERVER_CONF}")),
            '=',
        );
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
}
