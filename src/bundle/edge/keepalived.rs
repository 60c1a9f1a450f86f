//! keepalived on each HAProxy node: VRRP moves the VIP to a node whose HAProxy answers
//! (keepalived.conf(5) of keepalived 2.2), the track script that asks HAProxy, and the
//! sysctl that lets the standby's HAProxy bind the VIP it does not hold.

use super::haproxy::MONITOR_URI;
use super::{Comment, Ctx, File, comment, role_file};
use crate::deploy::Host;
use crate::deploy::failover::{KEEPALIVED_ADVERT_INT_S, vrrp_priority};
use crate::deploy::ports;
use crate::plan::Role;
use crate::syntax::conf::Format;
use std::fmt::Write;

/// keepalived's configuration on each HAProxy node.
pub(super) const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";
/// Where keepalived's track script lives on each HAProxy node.
pub(super) const TRACK_SCRIPT: &str = "/etc/keepalived/check-haproxy.sh";
/// The sysctl drop-in that sets net.ipv4.ip_nonlocal_bind on each HAProxy node.
pub(super) const NONLOCAL_BIND_SYSCTL: &str = "/etc/sysctl.d/91-haproxy-nonlocal-bind.conf";

/// VRRP router id: the VIP's last octet, so two clusters on one network segment only
/// collide if they share the VIP anyway. VRIDs are 1–255.
fn virtual_router_id(ctx: &Ctx) -> u8 {
    match ctx.topology.vip.octets()[3] {
        0 => 1,
        n => n,
    }
}

/// keepalived.conf of HAProxy node `h`.
pub(super) fn keepalived_conf(ctx: &Ctx, h: &Host) -> File {
    let t = &ctx.topology;
    let kv = |s: &str| Format::Keepalived.value(s);
    let peers: Vec<&Host> = ctx
        .hosts(Role::Haproxy)
        .filter(|p| p.name != h.name)
        .collect();
    let order: Vec<String> = ctx
        .hosts(Role::Haproxy)
        .map(|p| format!("{} {}", p.name, vrrp_priority(p.index)))
        .collect();
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&comment(
        "",
        &format!(
            "keepalived on {name}: VRRP gives the VIP {vip} to one HAProxy node whose HAProxy answers.\n\
             Check after editing: keepalived --config-test -f {KEEPALIVED_CONF}",
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
    advert_int {advert_int}
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
        priority = vrrp_priority(h.index),
        advert_int = KEEPALIVED_ADVERT_INT_S,
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
        KEEPALIVED_CONF,
        "keepalived: VRRP for the VIP, priority by node, no preemption, tracks HAProxy.",
        o,
    )
}

/// keepalived's track script: exits 0 while HAProxy answers its monitor URI.
pub(super) fn track_script(ctx: &Ctx, h: &Host) -> File {
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

/// The sysctl drop-in that lets HAProxy bind the VIP on a node that does not hold it.
pub(super) fn nonlocal_bind(ctx: &Ctx, h: &Host) -> File {
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
        NONLOCAL_BIND_SYSCTL,
        "Lets HAProxy bind the VIP on nodes that do not hold it (net.ipv4.ip_nonlocal_bind).",
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::super::files;
    use super::super::tests::{plan, uncommented};
    use super::*;
    use crate::bundle::{contents, with_ctx};

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
            let conf = contents(&files, &format!("hosts/{host}{KEEPALIVED_CONF}"));
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
        assert_eq!(vrrp_priority(16), 50);
    }
}
