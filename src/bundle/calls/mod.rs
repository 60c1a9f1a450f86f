//! Calls: coturn (TURN for 1:1 calls) on each coturn host ([`coturn`]); LiveKit (the SFU
//! for group calls) on each LiveKit host ([`livekit`]), multi-node through its own Redis
//! on the first one ([`redis`]).
//!
//! Per coturn host: `turnserver.conf` (coturn 4.6.1, Debian 12) and coturn's
//! `/etc/default` file. Per LiveKit host: `livekit.yaml` (livekit-server v1.13.5, the
//! version matrix-docker-ansible-deploy @ c0681e4 pins through ansible-role-livekit-server
//! v1.13.5-0), the systemd unit that runs its container, and a setup script; on
//! `livekit1` also `redis.conf` (Redis 7.0, Debian 12) and the Redis exporter's settings.
//! No files when the plan has no such hosts.
//!
//! Sources: coturn's `turnserver --help` and example turnserver.conf; Synapse's
//! `docs/setup/turn/coturn.md` (quotas, denied peers); livekit/livekit v1.13.5
//! `pkg/config/config.go` and livekit/mediatransportutil `pkg/rtcconfig` (every key and
//! type of livekit.yaml; the server decodes it strictly); element-hq/lk-jwt-service
//! README (room auto-creation off); Redis 7.0's redis.conf.

mod coturn;
pub(super) mod livekit;
mod redis;

use super::{Ctx, File, Scope};
use crate::deploy::Host;
use crate::plan::Role;

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Coturn) {
        out.push(coturn::turnserver_conf(ctx, h));
        out.push(coturn::coturn_default(ctx, h));
    }
    let redis = ctx.topology.first(Role::Livekit).cloned();
    for h in ctx.hosts(Role::Livekit) {
        let redis = redis.as_ref().unwrap_or(h);
        out.push(livekit::livekit_yaml(ctx, h, redis));
        out.push(livekit::livekit_unit(ctx, h, redis));
        out.push(livekit::livekit_setup(ctx, h, redis));
        if h.name == redis.name {
            out.push(redis::redis_conf(ctx, h));
            out.push(redis::redis_exporter(ctx, h));
        }
    }
    out
}

/// A file of host `h` (of `role`) at `path` on that host. The bundle index names the
/// module that calls this as the file's source.
#[track_caller]
fn role_file(role: Role, h: &Host, path: &str, about: &str, body: String) -> File {
    File::new(
        format!("hosts/{}{path}", h.name),
        Scope::Role(role),
        about,
        body,
    )
    .for_host(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    pub(super) fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    /// `key=value` (coturn) or `key value` (Redis) settings, in order, comments skipped.
    pub(super) fn settings(text: &str, sep: char) -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| match l.split_once(sep) {
                Some((k, v)) => (k.trim().to_string(), v.trim().to_string()),
                None => (l.trim().to_string(), String::new()),
            })
            .collect()
    }

    pub(super) fn values(s: &[(String, String)], key: &str) -> Vec<String> {
        s.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    #[test]
    fn files_per_host_and_none_without_hosts() {
        use coturn::{COTURN_DEFAULT, TURNSERVER_CONF};
        use livekit::{LIVEKIT_SERVICE, LIVEKIT_YAML, SETUP_LIVEKIT};
        use redis::{REDIS_CONF, REDIS_EXPORTER_ENV};
        let on = |host: &str, paths: &[&str]| -> Vec<String> {
            paths.iter().map(|p| format!("hosts/{host}{p}")).collect()
        };
        let livekit = [LIVEKIT_YAML, LIVEKIT_SERVICE, SETUP_LIVEKIT];
        for (changes, expect) in [
            (
                &[("hosts.coturn.count", "0"), ("hosts.livekit.count", "0")][..],
                vec![],
            ),
            (
                &[("hosts.coturn.count", "1"), ("hosts.livekit.count", "0")][..],
                on("coturn1", &[TURNSERVER_CONF, COTURN_DEFAULT]),
            ),
            (
                &[("hosts.coturn.count", "0"), ("hosts.livekit.count", "2")][..],
                [
                    on("livekit1", &livekit),
                    on("livekit1", &[REDIS_CONF, REDIS_EXPORTER_ENV]),
                    on("livekit2", &livekit),
                ]
                .concat(),
            ),
        ] {
            let p = plan(changes);
            let files = with_ctx(&p, files);
            let got: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
            assert_eq!(got, expect, "{changes:?}");
            for f in &files {
                let mode = if f.path.ends_with(".sh") {
                    0o755
                } else if f.path.ends_with("coturn") || f.path.ends_with(".service") {
                    0o644
                } else {
                    0o600
                };
                assert_eq!(f.mode, mode, "{}", f.path);
            }
        }
    }
}
