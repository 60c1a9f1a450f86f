//! Grafana on the monitoring host, from its pinned image: the environment file, the
//! systemd unit, the provisioned Prometheus datasource and dashboard folder, and the
//! README of which dashboards to put there.

use super::path;
use super::setup::SETUP_SCRIPT;
use crate::bundle::{Comment, Ctx, File, Scope, SecretId, objectstore};
use crate::deploy::facts::SCRAPE_INTERVAL_S;
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::conf::Format;
use crate::syntax::yaml::{Doc, Map, Seq};

/// Grafana 12.4: the last 12.x minor, security fixes until May 2027. Not 13.x: it saves
/// dashboards in a v2 JSON format that file provisioning rejects (grafana/grafana#122663).
/// `grafana/grafana` carries the OSS build (`grafana/grafana-oss` stopped at 12.3).
pub const GRAFANA_IMAGE: &str = "docker.io/grafana/grafana:12.4.2";
/// Where the dashboards' JSON files go (the provisioning reads them from there).
pub const GRAFANA_DASHBOARDS: &str = "/etc/grafana/dashboards";
/// The README in it.
const DASHBOARDS_README: &str = "/etc/grafana/dashboards/README.md";
/// The dashboard provisioning, which the README names.
const DASHBOARDS_PROVISIONING: &str = "/etc/grafana/provisioning/dashboards/synapse-planner.yml";
/// The environment file grafana.service reads.
const GRAFANA_ENV_FILE: &str = "/etc/default/grafana";

/// Variables grafana.service passes from its EnvironmentFile into the container.
pub const GRAFANA_ENV: &[&str] = &[
    "GF_SECURITY_ADMIN_USER",
    "GF_SECURITY_ADMIN_PASSWORD",
    "GF_SERVER_ROOT_URL",
    "GF_ANALYTICS_REPORTING_ENABLED",
    "GF_ANALYTICS_CHECK_FOR_UPDATES",
    "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES",
    "GF_NEWS_NEWS_FEED_ENABLED",
    "GF_USERS_ALLOW_SIGN_UP",
    "GF_AUTH_ANONYMOUS_ENABLED",
];

pub fn grafana_env(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}# Grafana settings (GF_<SECTION>_<KEY> overrides grafana.ini), read by grafana.service
# and passed into the container by name.
# The admin password only applies when Grafana creates its database (first start);
# later: docker exec grafana grafana cli admin reset-admin-password <new>.
GF_SECURITY_ADMIN_USER=admin
GF_SECURITY_ADMIN_PASSWORD={password}
GF_SERVER_ROOT_URL={root_url}
# The cluster goes offline after set-up: no phoning home, no update checks, no news.
GF_ANALYTICS_REPORTING_ENABLED=false
GF_ANALYTICS_CHECK_FOR_UPDATES=false
GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false
GF_NEWS_NEWS_FEED_ENABLED=false
GF_USERS_ALLOW_SIGN_UP=false
GF_AUTH_ANONYMOUS_ENABLED=false
"#,
        header = ctx.header(Comment::Hash),
        password = Format::EnvFile.value(ctx.secret(SecretId::GrafanaAdminPassword)),
        root_url = Format::EnvFile.value(&format!("http://{}:{}/", h.fqdn, ports::GRAFANA)),
    );
    File::new(
        path(h, GRAFANA_ENV_FILE),
        Scope::Role(Role::Monitoring),
        "Grafana environment: admin password, root URL, no phoning home.",
        body,
    )
    .for_host(h)
    .secret()
}

pub fn grafana_unit(ctx: &Ctx, h: &Host) -> File {
    let env: String = GRAFANA_ENV
        .iter()
        .map(|v| format!("  --env {v} \\\n"))
        .collect();
    let body = format!(
        r#"{header}{notes}[Unit]
Description=Grafana ({image})
Documentation=https://grafana.com/docs/grafana/latest/setup-grafana/installation/docker/
Requires=docker.service
After=docker.service network-online.target prometheus.service
Wants=network-online.target

[Service]
EnvironmentFile={GRAFANA_ENV_FILE}
ExecStartPre=-/usr/bin/docker rm --force grafana
ExecStart=/usr/bin/docker run --rm --name grafana --network host \
  --volume /var/lib/grafana:/var/lib/grafana \
  --volume /etc/grafana/provisioning:/etc/grafana/provisioning:ro \
  --volume {GRAFANA_DASHBOARDS}:{GRAFANA_DASHBOARDS}:ro \
{env}  {image}
ExecStop=/usr/bin/docker stop --time 30 grafana
Restart=always
RestartSec=10
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
"#,
        header = ctx.header(Comment::Hash),
        notes = Comment::Hash.lines(&format!(
            "
Grafana on {}:{} from the pinned image with Docker (host networking).
Data in /var/lib/grafana (owned by the image's user 472), provisioning from
/etc/grafana/provisioning, dashboards from {GRAFANA_DASHBOARDS}.
Install: {SETUP_SCRIPT} (creates the data directory, enables this unit).",
            h.fqdn,
            ports::GRAFANA
        )),
        image = GRAFANA_IMAGE,
    );
    File::new(
        path(h, "/etc/systemd/system/grafana.service"),
        Scope::Role(Role::Monitoring),
        "systemd unit running the pinned Grafana image with Docker.",
        body,
    )
    .for_host(h)
}

pub fn grafana_datasource(ctx: &Ctx, h: &Host) -> File {
    let root = Map::new().with("apiVersion", 1u64).with(
        "datasources",
        Seq::new().with(
            Map::new()
                .with("name", "Prometheus")
                .with("uid", "prometheus")
                .with("type", "prometheus")
                .with("access", "proxy")
                .with("url", format!("http://127.0.0.1:{}", ports::PROMETHEUS))
                .with("isDefault", true)
                .with("editable", false)
                .with(
                    "jsonData",
                    Map::new().with("timeInterval", format!("{SCRAPE_INTERVAL_S}s")),
                ),
        ),
    );
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(
            "Grafana provisioning: the local Prometheus as the default datasource. The uid is\n\
             fixed so dashboards can refer to it.",
        )
        .start();
    File::new(
        path(h, "/etc/grafana/provisioning/datasources/prometheus.yml"),
        Scope::Role(Role::Monitoring),
        "Grafana datasource provisioning: the local Prometheus.",
        doc.render(),
    )
    .for_host(h)
}

pub fn grafana_dashboards(ctx: &Ctx, h: &Host) -> File {
    let root = Map::new().with("apiVersion", 1u64).with(
        "providers",
        Seq::new().with(
            Map::new()
                .with("name", "synapse-planner")
                .with("folder", "Synapse cluster")
                .with("type", "file")
                .with("disableDeletion", false)
                .with("allowUiUpdates", true)
                .with("updateIntervalSeconds", 60u64)
                .with(
                    "options",
                    Map::new()
                        .with("path", GRAFANA_DASHBOARDS)
                        .with("foldersFromFilesStructure", false),
                ),
        ),
    );
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "Grafana provisioning: every dashboard JSON in {GRAFANA_DASHBOARDS} (see the README.md\n\
             there for which to put in), in folder \"Synapse cluster\", reloaded every minute."
        ))
        .start();
    File::new(
        path(h, DASHBOARDS_PROVISIONING),
        Scope::Role(Role::Monitoring),
        "Grafana dashboard provisioning: loads the JSON dashboards you put in /etc/grafana/dashboards.",
        doc.render(),
    )
    .for_host(h)
}

pub fn grafana_dashboards_readme(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}
# Dashboards for Grafana

Grafana loads every `*.json` file in this directory ({GRAFANA_DASHBOARDS}), in the
folder "Synapse cluster" (provisioning: {DASHBOARDS_PROVISIONING}).
The bundle ships no dashboard JSON: it is other projects' work, and the cluster is
offline later. While online, download these and copy them here:

| file | from | reads |
|---|---|---|
| `synapse.json` | Synapse's `contrib/grafana/synapse.json` (element-hq/synapse, the release you deploy) | Synapse processes: `instance`, `job` (master / worker type), `index` labels, as prometheus.yml sets them |
| `node-exporter-full.json` | Grafana dashboard 1860 "Node Exporter Full" | `job="node"` |
| `minio.json` | MinIO's `docs/metrics/prometheus/grafana/minio-dashboard.json` (minio/minio) | `job="{minio_job}"` |
| `postgres.json` | Grafana dashboard 9628 "PostgreSQL Database" | `job="postgres"` |
| `haproxy.json` | Grafana dashboard 12693 "HAProxy 2 Full" | `job="haproxy"` |

Synapse's dashboard also uses its recording rules (`contrib/prometheus/synapse-v2.rules`):
put that file into /etc/prometheus/rules/ as `synapse-v2.yml` and run
`promtool check rules` on it before reloading Prometheus.

Each dashboard asks for a datasource: pick "Prometheus" (uid `prometheus`). Then:
`sudo systemctl restart grafana` (or wait a minute).
"#,
        header = ctx.header(Comment::Html),
        minio_job = objectstore::PROMETHEUS_JOB,
    );
    File::new(
        path(h, DASHBOARDS_README),
        Scope::Role(Role::Monitoring),
        "Which dashboard JSON files to download into /etc/grafana/dashboards (the bundle ships none).",
        body,
    )
    .for_host(h)
}
