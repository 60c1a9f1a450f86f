//! The blackbox exporter on the monitoring host: its probe modules (blackbox.yml) and
//! its arguments (loopback only). What exports no metrics of its own is probed.

use super::{args_line, path};
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::yaml::{Doc, Map};

/// blackbox.yml, which the setup script checks.
pub const BLACKBOX_CONFIG: &str = "/etc/prometheus/blackbox.yml";
/// Its arguments, read by Debian's unit (blackbox.yml's header names the file).
const BLACKBOX_ARGS: &str = "/etc/default/prometheus-blackbox-exporter";
/// The blackbox exporter's port (loopback only).
pub const BLACKBOX: u16 = ports::BLACKBOX;
/// Blackbox probe modules (blackbox.yml) and the scrape jobs that use them.
pub const MODULE_TURN_TCP: &str = "turn_tcp";
pub const MODULE_TURNS_TLS: &str = "turns_tls";
pub const MODULE_HTTPS_TLS: &str = "https_tls";
pub const JOB_TURN: &str = "coturn-turn";
pub const JOB_TURNS: &str = "coturn-turns";
pub const JOB_VIP_TLS: &str = "vip-tls";
/// Every probe job: their `up` is the blackbox exporter's, not the probed service's.
pub const PROBE_JOBS: [&str; 3] = [JOB_TURN, JOB_TURNS, JOB_VIP_TLS];
/// A probe that gets no answer within 5 s has failed: a TCP connect or TLS handshake on
/// the private network takes milliseconds; 5 s stays under the 10 s scrape timeout.
const PROBE_TIMEOUT_S: u64 = 5;

/// One probe module of blackbox.yml: a TCP connect, with a TLS handshake when `tls`.
pub struct ProbeModule {
    pub name: &'static str,
    pub tls: bool,
    pub why: &'static str,
}

/// The modules the probe jobs use, and no other (Debian's example modules are dropped:
/// its `http_2xx` follows redirects wherever they point, `icmp` needs raw sockets).
pub fn probe_modules() -> [ProbeModule; 3] {
    [
        ProbeModule {
            name: MODULE_TURN_TCP,
            tls: false,
            why: "TURN over TCP (coturn's listening-port): the connection is accepted.",
        },
        ProbeModule {
            name: MODULE_TURNS_TLS,
            tls: true,
            why: "TURN over TLS (coturn's tls-listening-port): a TLS handshake; coturn serves the server name's certificate.",
        },
        ProbeModule {
            name: MODULE_HTTPS_TLS,
            tls: true,
            why: "HAProxy's TLS front ends on the VIP (443, 8448): a TLS handshake with the server name as SNI, so HAProxy picks that certificate.",
        },
    ]
}

pub fn blackbox_yml(ctx: &Ctx, h: &Host) -> File {
    let mut modules = Map::new();
    for m in probe_modules() {
        let mut tcp = Map::new()
            .with("preferred_ip_protocol", "ip4")
            .with("ip_protocol_fallback", false);
        if m.tls {
            tcp.insert("tls", true);
            tcp.insert(
                "tls_config",
                Map::new()
                    .with("server_name", &ctx.topology.server_name)
                    .with("insecure_skip_verify", true),
            );
        }
        modules.comment(m.why);
        modules.insert(
            m.name,
            Map::new()
                .with("prober", "tcp")
                .with("timeout", format!("{PROBE_TIMEOUT_S}s"))
                .with("tcp", tcp),
        );
    }
    let doc = Doc::new(Map::new().with("modules", modules))
        .header(ctx.provenance())
        .header(format!(
            "Blackbox exporter 0.23 (Debian 12 prometheus-blackbox-exporter) on {}, asked
by the local Prometheus only: it listens on 127.0.0.1:{BLACKBOX}
({BLACKBOX_ARGS}). It probes what exports no metrics itself:
coturn (Debian 12's coturn 4.6.1 is built without Prometheus support) and the TLS
certificates (expiry).
Check: prometheus-blackbox-exporter --config.check --config.file={BLACKBOX_CONFIG}

Only TCP probes of the ip:port Prometheus passes as target (prometheus.yml lists
cluster addresses only): no HTTP prober (it follows redirects), no DNS, no ICMP.
IPv4 only: every target is an IPv4 address of the cluster.
Certificates are not verified (insecure_skip_verify): once the cluster is offline it
uses the internal CA of scripts/certs/internal-ca.sh, which this host need not trust,
and a verifying probe would then fail for good. The expiry is read from the chain the
server presents either way (probe_ssl_earliest_cert_expiry), and an expired
certificate still shows, with negative time left (alert CertificateExpiringCritical).",
            h.fqdn
        ))
        .start();
    File::new(
        path(h, BLACKBOX_CONFIG),
        Scope::Role(Role::Monitoring),
        "Blackbox exporter modules: TCP connect to coturn, TLS handshakes with coturn and HAProxy (certificate expiry); nothing else.",
        doc.render(),
    )
    .for_host(h)
}

pub fn blackbox_default(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}# Arguments of Debian's prometheus-blackbox-exporter.service
# (ExecStart=/usr/bin/prometheus-blackbox-exporter $ARGS). Loopback only: the local
# Prometheus is its one client, and whoever reaches the exporter can make it connect to
# any address with these modules.
{args}"#,
        header = ctx.header(Comment::Hash),
        args = args_line(&format!(
            "--config.file={BLACKBOX_CONFIG} --web.listen-address=127.0.0.1:{BLACKBOX}"
        )),
    );
    File::new(
        path(h, BLACKBOX_ARGS),
        Scope::Role(Role::Monitoring),
        "Blackbox exporter arguments: its config, listening on loopback only.",
        body,
    )
    .for_host(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    /// blackbox.yml: exactly the probe modules, TCP probers only, IPv4, TLS with the
    /// server name; the exporter listens on loopback only.
    #[test]
    fn blackbox_modules() {
        let plan = Plan::default()
            .with_text("domain", "chat.example.org")
            .unwrap();
        with_ctx(&plan, |ctx| {
            let h = ctx.topology.first(Role::Monitoring).unwrap();
            let y: serde_yaml::Value =
                serde_yaml::from_str(&blackbox_yml(ctx, h).contents).unwrap();
            let modules = y["modules"].as_mapping().unwrap();
            let names: Vec<&str> = modules.keys().map(|k| k.as_str().unwrap()).collect();
            assert_eq!(names, ["turn_tcp", "turns_tls", "https_tls"]);
            for (name, tls) in [
                ("turn_tcp", false),
                ("turns_tls", true),
                ("https_tls", true),
            ] {
                let m = &y["modules"][name];
                assert_eq!(m["prober"].as_str(), Some("tcp"), "{name}");
                assert_eq!(m["timeout"].as_str(), Some("5s"), "{name}");
                assert_eq!(m["tcp"]["preferred_ip_protocol"].as_str(), Some("ip4"));
                assert_eq!(m["tcp"]["ip_protocol_fallback"].as_bool(), Some(false));
                assert_eq!(m["tcp"]["tls"].as_bool().unwrap_or(false), tls, "{name}");
                let sni = m["tcp"]["tls_config"]["server_name"].as_str();
                assert_eq!(sni, tls.then_some("chat.example.org"), "{name}");
                assert!(m["tcp"]["query_response"].is_null(), "{name}");
            }
            let args = blackbox_default(ctx, h).contents;
            assert!(
                args.contains(
                    "ARGS='--config.file=/etc/prometheus/blackbox.yml --web.listen-address=127.0.0.1:9115'\n"
                ),
                "{args}"
            );
        });
    }
}
