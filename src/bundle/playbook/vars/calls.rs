//! vars.yml's calls section: TURN on the coturn hosts, MatrixRTC with the LiveKit hosts.

use super::super::super::{Ctx, SecretId, ports};
use super::Builder;
use crate::deploy::facts::LIVEKIT_PATH;
use crate::plan::Role;
use crate::syntax::yaml::Seq;

/// Synapse's `turn_uris`: every coturn host by FQDN, UDP and TCP on the TURN port.
fn turn_uris(ctx: &Ctx) -> Vec<String> {
    ctx.hosts(Role::Coturn)
        .flat_map(|h| {
            ["udp", "tcp"].map(|t| format!("turn:{}:{}?transport={t}", h.fqdn, ports::TURN))
        })
        .collect()
}

pub(super) fn calls(b: &mut Builder) {
    let ctx = b.ctx;
    let coturns = ctx.hosts(Role::Coturn).count();
    let livekits = ctx.hosts(Role::Livekit).count();
    b.section("Calls: coturn and LiveKit run on their own hosts");
    b.var(
        "coturn_enabled",
        false,
        if coturns > 0 {
            &["No coturn on this host: the coturn hosts run it (this bundle's turnserver.conf)."]
        } else {
            &["No coturn on this host; the plan has no coturn hosts, so Synapse offers no TURN."]
        },
    );
    if coturns > 0 {
        let uris: Seq = turn_uris(ctx).into_iter().collect();
        b.var_owned(
            "matrix_synapse_turn_uris",
            uris,
            vec![
                format!(
                    "Every coturn host ({coturns}) by name, UDP and TCP on {}. No turns: URIs, because the",
                    ports::TURN
                ),
                "TLS certificate names the server name, not these hosts, so clients would refuse it.".into(),
            ],
        );
        let secret = b.secret(SecretId::TurnSharedSecret);
        b.var(
            "matrix_synapse_turn_shared_secret",
            secret,
            &["coturn's static-auth-secret: Synapse hands out time-limited credentials from it."],
        );
    }
    b.var(
        "matrix_playbook_livekit_turn_traefik_entrypoint_enabled",
        false,
        &[
            "No Traefik entrypoint for LiveKit's TURN/TLS: the playbook turns it on from the proxy",
            "type alone (group_vars/matrix_servers:6545, with livekit_server_config_turn_enabled",
            "and _external_tls at :6614-6618, not livekit_server_enabled) and publishes it on every",
            "interface, port 5350 (:6547, :6605; roles/custom/matrix-base/defaults/main.yml:454-457).",
            "LiveKit runs on its own hosts, so nothing here listens behind it.",
        ],
    );
    if livekits > 0 {
        b.var_owned(
            "matrix_rtc_enabled",
            true,
            vec![format!(
                "MatrixRTC (group calls) with the {livekits} LiveKit host(s): Synapse's MSC4143 transports,"
            ),
            "delayed events and the clients' rtc_foci come with it (group_vars).".into()],
        );
        b.var(
            "livekit_server_enabled",
            false,
            &["LiveKit itself runs on the LiveKit hosts (livekit.yaml), not here."],
        );
        b.var(
            "matrix_livekit_jwt_service_enabled",
            true,
            &[
                "Only the JWT service runs here (at /livekit-jwt-service on the server name); the",
                "playbook would enable it only together with its own LiveKit, so it is set explicitly.",
            ],
        );
        b.var_owned(
            "matrix_livekit_jwt_service_environment_variable_livekit_url",
            format!(
                "wss://{}{LIVEKIT_PATH}",
                ctx.topology.server_name
            ),
            vec![format!(
                "HAProxy routes {LIVEKIT_PATH}/ on the server name to the LiveKit nodes (WebSocket)."
            )],
        );
        let key = b.secret(SecretId::LivekitApiKey);
        b.var(
            "matrix_livekit_jwt_service_environment_variable_livekit_key",
            key,
            &["The key pair in every livekit.yaml (keys:), instead of one derived from the generic key."],
        );
        let secret = b.secret(SecretId::LivekitApiSecret);
        b.var(
            "matrix_livekit_jwt_service_environment_variable_livekit_secret",
            secret,
            &[],
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::super::tests::{plan, value_of};
    use crate::bundle::playbook::files;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

    #[test]
    fn calls_follow_host_counts() {
        // (coturn hosts, livekit hosts, turn URIs, rtc on, vault entries)
        for (coturn, livekit, uris, rtc, secrets) in [
            ("2", "2", 4, true, 6),
            ("0", "2", 0, true, 5),
            ("1", "0", 2, false, 4),
            ("0", "0", 0, false, 3),
        ] {
            let p = plan(&[
                ("hosts.coturn.count", coturn),
                ("hosts.livekit.count", livekit),
            ]);
            let (vars, vault) = with_ctx(&p, |ctx| {
                let f = files(ctx);
                (f[1].contents.clone(), f[2].contents.clone())
            });
            let n = vars.lines().filter(|l| l.starts_with("  - 'turn:")).count();
            assert_eq!(n, uris, "coturn {coturn}");
            assert_eq!(
                vars.contains("matrix_synapse_turn_shared_secret:"),
                uris > 0
            );
            assert_eq!(value_of(&vars, "matrix_rtc_enabled").is_some(), rtc);
            assert_eq!(
                // The group vars.yml references (the rest is kept for other hosts' files).
                vault
                    .split("# ---- not used by vars.yml")
                    .next()
                    .unwrap_or_default()
                    .lines()
                    .filter(|l| l.starts_with("vault_"))
                    .count(),
                secrets,
                "coturn {coturn} livekit {livekit}:\n{vault}"
            );
            assert!(
                !vars
                    .lines()
                    .any(|l| !l.starts_with('#') && l.contains("turns:"))
            );
            // Traefik publishes no LiveKit TURN entrypoint (5350), whatever the LiveKit hosts.
            assert_eq!(
                value_of(
                    &vars,
                    "matrix_playbook_livekit_turn_traefik_entrypoint_enabled"
                )
                .as_deref(),
                Some("false"),
                "livekit {livekit}"
            );
        }
        let uris = with_ctx(&Plan::default(), turn_uris);
        assert_eq!(
            uris,
            [
                "turn:coturn1.internal:3478?transport=udp",
                "turn:coturn1.internal:3478?transport=tcp",
                "turn:coturn2.internal:3478?transport=udp",
                "turn:coturn2.internal:3478?transport=tcp",
            ]
        );
    }
}
