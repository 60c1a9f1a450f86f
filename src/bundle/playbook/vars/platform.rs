//! vars.yml's platform sections: playbook basics, the web entry (Traefik behind
//! HAProxy), the external database, metrics, maintenance and web apps.

use super::super::super::{Host, SecretId, ports};
use super::Builder;
use crate::deploy::facts::{DATABASE, DB_USER};
use crate::plan::Role;
use crate::syntax::yaml::{Map, Seq};

/// The release the playbook @ c0681e4 expects users to have reviewed
/// (`roles/custom/matrix_playbook_migration/defaults/main.yml`,
/// `matrix_playbook_migration_expected_version`).
const PLAYBOOK_VALIDATED_VERSION: &str = "v2026.05.18.0";
/// Element Web's path on the server name (docs/configuring-playbook-client-element-web.md,
/// "Adjusting the Element Web URL"); `/` then redirects to it.
const ELEMENT_PATH: &str = "/element";

pub(super) fn basics(b: &mut Builder) {
    let server = b.ctx.topology.server_name.clone();
    b.section("Playbook basics");
    b.var(
        "matrix_playbook_migration_validated_version",
        PLAYBOOK_VALIDATED_VERSION,
        &[
            "Breaking changes reviewed up to the release the playbook @ c0681e4 expects",
            "(roles/custom/matrix_playbook_migration): it stops when this is older.",
        ],
    );
    b.var(
        "matrix_domain",
        server.clone(),
        &["The Matrix server name: user IDs are @user:<this>. It cannot change after the first run."],
    );
    b.var(
        "matrix_server_fqn_matrix",
        server.clone(),
        &[
            "Matrix is served on the server name itself, not on matrix.<domain> (the default):",
            "HAProxy holds one certificate, for this name, and sends every path of it to Traefik",
            "(docs/faq.md, \"How do I install on matrix.example.com without involving the base",
            "domain?\"). Federation finds it through /.well-known/matrix/server (<name>:8448).",
        ],
    );
    b.var(
        "matrix_server_fqn_element",
        server,
        &["Element Web on the same name, under a path (see matrix_client_element_path_prefix)."],
    );
    b.var("matrix_homeserver_implementation", "synapse", &[]);
    let key = b.secret(SecretId::GenericSecretKey);
    b.var(
        "matrix_homeserver_generic_secret_key",
        key,
        &["The playbook derives Synapse's macaroon, form and registration secrets from it."],
    );
    b.var(
        "devture_systemd_docker_base_ipv6_enabled",
        true,
        &[
            "The playbook's recommendation (examples/vars.yml): container networks get IPv6 now,",
            "because turning it on later means deleting and recreating every container network.",
            "Harmless on an IPv4-only network.",
        ],
    );
    b.var(
        "matrix_playbook_docker_installation_daemon_options_custom",
        Map::new().with("log-driver", "json-file").with(
            "log-opts",
            Map::new().with("max-size", "10m").with("max-file", "3"),
        ),
        &[
            "The playbook installs Docker here and writes /etc/docker/daemon.json from its own",
            "options: this keeps the same log rotation as hosts/all/etc/docker/daemon.json",
            "(json-file, 10 MB x 3 per container, seed §3). Synapse's own containers log to",
            "journald (--log-driver=none in the playbook's units), so journald's limits apply to them.",
        ],
    );
}

pub(super) fn web(b: &mut Builder, synapse: &Host) {
    let haproxies: Seq = b
        .ctx
        .hosts(Role::Haproxy)
        .map(|h| h.ip.to_string())
        .collect();
    b.section("Web: the playbook's Traefik, fronted by HAProxy on the VIP");
    b.var(
        "matrix_playbook_reverse_proxy_type",
        "playbook-managed-traefik",
        &[
            "Traefik stays: it routes every path to the right Synapse worker and service.",
            "HAProxy on the VIP terminates TLS and forwards to it (docs/configuring-playbook-own-",
            "webserver.md, \"Fronting the integrated reverse-proxy webserver with another",
            "reverse-proxy\"). HAProxy must pass the Host header, or Traefik answers 404.",
        ],
    );
    b.var(
        "matrix_playbook_ssl_enabled",
        true,
        &["Public URLs are https: HAProxy does TLS, even though Traefik does not."],
    );
    b.var(
        "traefik_config_entrypoint_web_secure_enabled",
        false,
        &[
            "traefik_* come from the external role mother-of-all-self-hosting/ansible-role-traefik",
            "(defaults/main.yml), which the playbook pulls in and which the reference lists do not",
            "cover. No 443 entrypoint and no ACME: TLS ends at HAProxy. This also turns TLS off",
            "on the federation entrypoint (matrix_federation_traefik_entrypoint_tls follows it).",
        ],
    );
    b.var_owned(
        "traefik_container_web_host_bind_port",
        format!("{}:{}", synapse.ip, ports::SYNAPSE_WEB),
        vec![
            "External role ansible-role-traefik: where Traefik's plain-HTTP entrypoint is published.".into(),
            format!(
                "The Synapse host's private address, port {}: HAProxy's web backend.",
                ports::SYNAPSE_WEB
            ),
        ],
    );
    b.var(
        "traefik_config_entrypoint_web_forwardedHeaders_trustedIPs",
        haproxies.clone(),
        &[
            "External role ansible-role-traefik: X-Forwarded-* headers are believed only from the",
            "HAProxy hosts (not `insecure: true`, since the port is on the network). Synapse takes",
            "the client's address from X-Forwarded-For; without it every user would share",
            "HAProxy's address and its per-IP rate limits.",
        ],
    );
    b.var_owned(
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_host_bind_port",
        format!("{}:{}", synapse.ip, ports::SYNAPSE_FEDERATION),
        vec![format!(
            "Federation entrypoint, plain HTTP, on the private address: HAProxy's {} (TLS) goes here.",
            ports::FEDERATION
        )],
    );
    b.var(
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_http3_enabled",
        false,
        &["HTTP/3 is HAProxy's business at the edge; off here (no UDP port published)."],
    );
    b.var(
        "matrix_playbook_public_matrix_federation_api_traefik_entrypoint_config_custom",
        Map::new().with("forwardedHeaders", Map::new().with("trustedIPs", haproxies)),
        &["Same trust as the web entrypoint: forwarded headers from the HAProxy hosts only."],
    );
}

pub(super) fn database(b: &mut Builder, synapse: &Host) {
    let c = &b.ctx.report.connections;
    let (processes, cp_max, pool_mode) =
        (c.synapse_processes, c.cp_max, c.pgbouncer_pool_mode.key());
    let cp_min = b.ctx.plan.synapse.cp_min;
    b.section("Database: external PostgreSQL (Patroni) through PgBouncer on this host");
    b.var(
        "postgres_enabled",
        false,
        &[
            "No playbook-managed PostgreSQL (docs/configuring-playbook-external-postgres.md):",
            "Synapse uses the Patroni cluster.",
        ],
    );
    b.var_owned(
        "matrix_synapse_database_host",
        synapse.ip.to_string(),
        vec![
            format!(
                "PgBouncer on this host's private address ({pool_mode} pooling), which forwards to"
            ),
            format!(
                "HAProxy on the VIP :{} and so to the Patroni primary. Not 127.0.0.1: inside the",
                ports::PG_PRIMARY
            ),
            "container that is the container itself. PgBouncer sees the containers' Docker-network"
                .into(),
            "addresses as clients.".into(),
        ],
    );
    b.var("matrix_synapse_database_port", ports::PGBOUNCER, &[]);
    b.var(
        "matrix_synapse_database_user",
        DB_USER,
        &["Synapse's own role (PgBouncer's and Patroni's files create it); never the superuser."],
    );
    let pw = b.secret(SecretId::SynapseDbPassword);
    b.var(
        "matrix_synapse_database_password",
        pw,
        &["Replaces the password the playbook would derive from the generic secret key."],
    );
    b.var("matrix_synapse_database_database", DATABASE, &[]);
    b.var_owned(
        "matrix_synapse_database_cp_min",
        cp_min,
        vec!["Connections each Synapse process keeps open (the plan's cp_min).".into()],
    );
    b.var_owned(
        "matrix_synapse_database_cp_max",
        cp_max,
        vec![
            "At most this many per process: one setting for all, no per-worker override.".into(),
            format!(
                "{processes} processes x {cp_max} = {} client connections, what PgBouncer's",
                c.synapse_pool_total
            ),
            format!(
                "max_client_conn ({}) must cover.",
                c.pgbouncer_max_client_conn
            ),
        ],
    );
}

pub(super) fn metrics(b: &mut Builder, synapse: &Host) {
    b.section("Metrics for the monitoring host");
    b.var(
        "matrix_synapse_metrics_enabled",
        true,
        &["Synapse's metrics listeners (the playbook enables them only with its own Prometheus)."],
    );
    b.var_owned(
        "matrix_synapse_container_metrics_api_host_bind_port",
        format!("{}:{}", synapse.ip, ports::SYNAPSE_MAIN_METRICS),
        vec![format!(
            "Main process: container port 9100 published as {} on the private address (9100",
            ports::SYNAPSE_MAIN_METRICS
        ),
        "on the host is node_exporter's). Workers: see matrix_synapse_workers_container_host_bind_address.".into()],
    );
}

pub(super) fn maintenance_and_apps(b: &mut Builder) {
    let vip = b.ctx.topology.vip;
    b.section("Maintenance and web apps");
    b.var(
        "matrix_synapse_auto_compressor_enabled",
        true,
        &[
            "rust-synapse-compress-state's synapse_auto_compressor compresses state_groups nightly",
            "(docs/configuring-playbook-synapse-auto-compressor.md). It takes Synapse's database",
            "user and password (group_vars); only its address differs, below.",
        ],
    );
    b.var_owned(
        "matrix_synapse_auto_compressor_database_hostname",
        vip.to_string(),
        vec![
            format!(
                "Straight to the Patroni primary through HAProxy on the VIP :{}, not through",
                ports::PG_PRIMARY
            ),
            "PgBouncer: the compressor (rust-postgres) uses named prepared statements, which"
                .into(),
            "Debian 12's PgBouncer 1.18 cannot keep in transaction pooling (supported from 1.21)."
                .into(),
            "Its one connection is in PostgreSQL's admin reserve.".into(),
        ],
    );
    b.var(
        "matrix_synapse_auto_compressor_database_port",
        ports::PG_PRIMARY,
        &[],
    );
    b.var(
        "matrix_client_element_enabled",
        true,
        &["Element Web, the seed's web client."],
    );
    b.var(
        "matrix_client_element_path_prefix",
        ELEMENT_PATH,
        &[
            "At https://<server name>/element: the name is shared with Synapse, whose / redirects",
            "here (docs/configuring-playbook-client-element-web.md).",
        ],
    );
    b.var(
        "matrix_ketesa_enabled",
        true,
        &[
            "Ketesa (formerly synapse-admin) at /synapse-admin on the server name. It uses",
            "Synapse's admin API, which the playbook then routes publicly: haproxy.cfg",
            "answers both paths only from the plan's admin networks (403 otherwise).",
        ],
    );
}
