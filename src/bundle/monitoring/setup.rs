//! setup-monitoring.sh: run once on the monitoring host, it checks every config with
//! the packages' own tools and (re)starts the services.

use super::alertmanager::ALERTMANAGER_YML;
use super::alerts::RULES_DIR;
use super::blackbox::BLACKBOX_CONFIG;
use super::grafana::{GRAFANA_DASHBOARDS, GRAFANA_IMAGE};
use super::prometheus::{HAPROXY_PASSWORD_FILE, PROMETHEUS_YML};
use super::{path, rules};
use crate::bundle::{Comment, Ctx, File, Scope};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::syntax::shell;

/// The script's path on the monitoring host.
pub const SETUP_SCRIPT: &str = "/usr/local/sbin/setup-monitoring.sh";

pub fn setup_script(ctx: &Ctx, h: &Host) -> File {
    let rule_files: Vec<String> = rules::groups(ctx)
        .iter()
        .map(|g| g.name.to_string())
        .collect();
    let body = format!(
        r#"#!/usr/bin/env bash
{header}{notes}set -euo pipefail

# This host's name, for the addresses printed at the end.
{fqdn}

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root" >&2
  exit 1
fi

# Prometheus runs as user prometheus: it must read the HAProxy stats password.
chown root:prometheus {HAPROXY_PASSWORD_FILE}
chmod 0640 {HAPROXY_PASSWORD_FILE}

promtool check config {PROMETHEUS_YML}
for group in {groups}; do
  promtool test rules "{RULES_DIR}/tests/$group.test.yml"
done
amtool check-config {ALERTMANAGER_YML}
prometheus-blackbox-exporter --config.check --config.file={BLACKBOX_CONFIG}

systemctl daemon-reload
systemctl restart prometheus prometheus-alertmanager prometheus-blackbox-exporter
systemctl enable prometheus prometheus-alertmanager prometheus-blackbox-exporter

# Grafana: the image's user (uid 472) owns its data.
install -d -o 472 -g 472 -m 0750 /var/lib/grafana
install -d -m 0755 {GRAFANA_DASHBOARDS}
docker pull {image}
systemctl enable --now grafana
systemctl restart grafana

echo "monitoring up: Prometheus http://$fqdn:{prom}/ Alertmanager http://$fqdn:{am}/ Grafana http://$fqdn:{graf}/ (user admin)"
"#,
        header = ctx.header(Comment::Hash),
        notes = Comment::Hash.lines(&format!(
            "
Run once on {} as root, after hosts/all/prepare-host.sh {} (which installed
prometheus, prometheus-alertmanager, prometheus-blackbox-exporter and docker.io with
this bundle's files):
  sudo {SETUP_SCRIPT}
Checks every config with the packages' own tools, makes the secret files readable by
the services, then (re)starts Prometheus, Alertmanager, the blackbox exporter and
Grafana. Safe to run again.",
            h.fqdn, h.name
        )),
        fqdn = shell::assign("fqdn", &h.fqdn),
        groups = rule_files.join(" "),
        image = GRAFANA_IMAGE,
        prom = ports::PROMETHEUS,
        am = ports::ALERTMANAGER,
        graf = ports::GRAFANA,
    );
    File::new(
        path(h, SETUP_SCRIPT),
        Scope::Role(Role::Monitoring),
        "Run once on the monitoring host: checks configs and rule tests, fixes secret file ownership, starts Prometheus, Alertmanager, the blackbox exporter, Grafana.",
        body,
    )
    .for_host(h)
    .script()
}
