//! The edge: HAProxy on every HAProxy host, all of them bound to the keepalived VIP,
//! and keepalived moving that VIP to a node whose HAProxy answers.
//!
//! Per HAProxy host: `haproxy.cfg` ([`haproxy`]: HAProxy 2.6, Debian 12; nothing in it
//! is deprecated on 2.8–3.x), `keepalived.conf` with its track script, and the sysctl
//! that lets the standby bind the VIP it does not hold ([`keepalived`]).
//!
//! Sources: HAProxy 2.6 configuration manual (`/usr/share/doc/haproxy/configuration.txt`),
//! keepalived.conf(5) of keepalived 2.2, Patroni's `haproxy.cfg` example (REST API
//! health checks), matrix-docker-ansible-deploy `docs/configuring-playbook-own-webserver.md`
//! @ c0681e4 ("Fronting the integrated reverse-proxy webserver with another reverse-proxy").

mod haproxy;
mod keepalived;

pub(super) use haproxy::HAPROXY_CFG;

use super::{Comment, Ctx, File, Scope};
use crate::deploy::Host;
use crate::plan::Role;
use crate::syntax::conf::Format;

/// `s` as one haproxy.cfg value (a word as it is, anything else single-quoted).
fn hv(s: &str) -> String {
    Format::Haproxy.value(s)
}

/// `text` as `#` comment lines through the comment writer (one per `\n`, none ending
/// early whatever a value in it holds), each indented by `indent`.
fn comment(indent: &str, text: &str) -> String {
    Comment::Hash
        .lines(text)
        .lines()
        .map(|l| format!("{indent}{l}\n"))
        .collect()
}

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Haproxy) {
        out.push(haproxy::haproxy_cfg(ctx, h));
        out.push(keepalived::keepalived_conf(ctx, h));
        out.push(keepalived::track_script(ctx, h));
        out.push(keepalived::nonlocal_bind(ctx, h));
    }
    out
}

/// A file of HAProxy host `h` at `path` on that host. The bundle index names the module
/// that calls this as the file's source.
#[track_caller]
fn role_file(h: &Host, path: &str, about: &str, body: String) -> File {
    File::new(
        format!("hosts/{}{path}", h.name),
        Scope::Role(Role::Haproxy),
        about,
        body,
    )
    .for_host(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Plan;

    pub(super) fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    /// The file without comment lines.
    pub(super) fn uncommented(text: &str) -> String {
        text.lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn files_per_haproxy_host() {
        for (changes, expect) in [
            (&[][..], vec!["haproxy1", "haproxy2"]),
            (&[("hosts.haproxy.count", "1")][..], vec!["haproxy1"]),
            (
                &[("hosts.haproxy.count", "3")][..],
                vec!["haproxy1", "haproxy2", "haproxy3"],
            ),
        ] {
            let p = plan(changes);
            let files = crate::bundle::with_ctx(&p, files);
            let mut want = Vec::new();
            for h in &expect {
                for path in [
                    haproxy::HAPROXY_CFG,
                    keepalived::KEEPALIVED_CONF,
                    keepalived::TRACK_SCRIPT,
                    keepalived::NONLOCAL_BIND_SYSCTL,
                ] {
                    want.push(format!("hosts/{h}{path}"));
                }
            }
            let got: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
            assert_eq!(got, want, "{changes:?}");
            for f in &files {
                let mode = match f.path.as_str() {
                    p if p.ends_with("haproxy.cfg") => 0o600,
                    p if p.ends_with(".sh") => 0o755,
                    _ => 0o644,
                };
                assert_eq!(f.mode, mode, "{}", f.path);
                assert!(f.contents.starts_with("#"), "{}: header", f.path);
            }
        }
    }
}
