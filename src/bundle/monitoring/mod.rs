//! Monitoring host (seed §7, corrected and completed): Prometheus 2.42 (Debian 12's
//! `prometheus`) scraping every Synapse process and every exporter, alert rules with
//! unit tests `promtool test rules` runs, Alertmanager (Debian's
//! `prometheus-alertmanager`) mailing the operator, and Grafana from its pinned image
//! with the Prometheus datasource provisioned. What exports no metrics of its own is
//! probed by Debian's `prometheus-blackbox-exporter` 0.23 on the monitoring host: coturn
//! (Debian 12's coturn 4.6.1 is built without Prometheus support: `prometheus` in
//! turnserver.conf is "Bad configuration format" there and nothing listens on 9641) and
//! the TLS certificates of HAProxy and coturn (expiry).
//!
//! Label scheme. Every target carries `instance` = the FQDN of the host it runs on,
//! so alerts name hosts and Alertmanager's inhibition (critical silences warning on
//! the same instance) works across a host's exporters. Synapse processes follow
//! Synapse's docs/metrics-howto.md ("Monitoring workers") as the playbook's own example
//! does (roles/custom/matrix-synapse/templates/synapse/prometheus/
//! external_prometheus.yml.example.j2): one `instance` for the whole homeserver, `job`
//! = `master` for the main process or the worker type (`sync_worker`, `stream_writer`…),
//! `index` = the worker's number, plus `worker_id` for workers. Synapse's Grafana
//! dashboard (contrib/grafana/synapse.json) selects by exactly these labels.
//! Blackbox probe targets keep that `instance` (the probed host; `vip.<suffix>` for the
//! VIP) and add `target` = the probed `ip:port`.
//!
//! Backups. The backup host's jobs (src/bundle/backup/) write their results into
//! node_exporter's textfile directory; Prometheus gets them through job `node` on the
//! backup host, with the jobs' own `job` label stored as `exported_job`. Group `backup`
//! alerts on a failed job, on a backup late against the cron schedule of
//! `deploy::backups` (thresholds computed from it, [`rules::backup::schedule_gap_s`]),
//! and on results that never arrived (absent()).
//!
//! Budgets (issue 5, item 7). Groups `budgets` and `disks` alert on the plan's own
//! numbers: PostgreSQL connections above 80 % of the usable count, a Synapse process
//! above its RAM budget, MinIO drives offline at or above parity, coturn allocations
//! near total-quota, disks full within 30 days at the current growth. Every threshold
//! is a figure of the report ([`rules::budgets::budgets`]), written into its rule with
//! a comment that says where it comes from. coturn's allocations come from a script on
//! each coturn host, run by a systemd timer, that writes
//! [`coturn_allocations::COTURN_ALLOCATIONS`] for node_exporter's textfile collector
//! (coturn itself has no metrics here). Prometheus keeps metrics for
//! the plan's `retention.prometheus-days`.
//!
//! One room per generated file: [`scrape`] (the scrape jobs and their targets),
//! [`prometheus`] (prometheus.yml, the HAProxy stats password, Prometheus' arguments
//! and retention), [`blackbox`] (the probe modules and the exporter's arguments),
//! [`alerts`] (the alert model and the writer of a rule file and its promtool tests),
//! [`rules`] (one module per `rules/<name>.yml`), [`alertmanager`], [`grafana`]
//! (provisioning, the unit, its environment, the dashboards' README), [`setup`]
//! (setup-monitoring.sh) and [`coturn_allocations`] (the allocations metric on each
//! coturn host).

mod alertmanager;
mod alerts;
mod blackbox;
mod coturn_allocations;
mod grafana;
mod prometheus;
mod rules;
mod scrape;
mod setup;

use super::{Ctx, File};
use crate::deploy::Host;
use crate::plan::Role;
use crate::syntax::conf::Format;

pub fn files(ctx: &Ctx) -> Vec<File> {
    let Some(h) = ctx.topology.first(Role::Monitoring) else {
        return Vec::new();
    };
    let mut out = vec![
        prometheus::prometheus_yml(ctx, h),
        prometheus::haproxy_password(ctx, h),
        prometheus::prometheus_default(ctx, h),
        blackbox::blackbox_yml(ctx, h),
        blackbox::blackbox_default(ctx, h),
    ];
    out.extend(rules::files(ctx, h));
    out.extend([
        alertmanager::alertmanager_yml(ctx, h),
        alertmanager::alertmanager_default(ctx, h),
        grafana::grafana_env(ctx, h),
        grafana::grafana_unit(ctx, h),
        grafana::grafana_datasource(ctx, h),
        grafana::grafana_dashboards(ctx, h),
        grafana::grafana_dashboards_readme(ctx, h),
        setup::setup_script(ctx, h),
    ]);
    out.extend(coturn_allocations::files(ctx));
    out
}

/// A file's path in the zip: under the host's folder.
fn path(h: &Host, p: &str) -> String {
    format!("hosts/{}{p}", h.name)
}

/// `ARGS=…` of an /etc/default file, read by a Debian unit's `EnvironmentFile=` and used
/// unquoted (`ExecStart=… $ARGS`), so systemd splits it at whitespace into arguments.
fn args_line(args: &str) -> String {
    format!("ARGS={}\n", Format::EnvFile.value(args))
}

/// A value inside `ARGS`: one word, so it cannot split into further arguments
/// (conf's word characters; anything else becomes U+FFFD).
fn arg_word(s: &str) -> String {
    Format::Words.value(s)
}

/// Plans the unit tests of several rooms share.
#[cfg(test)]
mod plans {
    use crate::plan::Plan;

    /// One host per role where the role allows it, one MinIO drive, no calls, no
    /// workers.
    pub fn minimal() -> Plan {
        let mut p = Plan::default()
            .with_texts(&[
                ("hosts.patroni.count", "1"),
                ("hosts.minio.count", "1"),
                ("minio.drives-per-node", "1"),
                ("hosts.haproxy.count", "1"),
                ("hosts.coturn.count", "0"),
                ("hosts.livekit.count", "0"),
            ])
            .unwrap();
        for k in crate::plan::WorkerKind::ALL {
            p.synapse.workers[k.index()] = 0;
        }
        p
    }

    /// The default plan with `changes`.
    pub fn plan_with(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::plans::plan_with;
    use super::*;
    use crate::bundle::with_ctx;

    /// Extreme plans generate every rule without panicking, with finite thresholds.
    #[test]
    fn extreme_plans() {
        for changes in [
            vec![
                ("activity.daily-active-users", "1"),
                ("users.peak-concurrent", "1"),
                ("users.registered", "1"),
            ],
            vec![
                ("users.registered", "1000000"),
                ("users.peak-concurrent", "250000"),
                ("activity.daily-active-users", "600000"),
            ],
            vec![("hosts.minio.count", "64")],
            // Parity half the set: writes need one drive more than reads.
            vec![("minio.parity", "8")],
            vec![("coturn.min-port", "50000"), ("coturn.max-port", "50001")],
            vec![("postgres.max-connections", "10")],
        ] {
            let plan = plan_with(&changes);
            with_ctx(&plan, |ctx| {
                let groups = rules::groups(ctx);
                for g in &groups {
                    for a in &g.alerts {
                        assert!(
                            !a.expr.contains("NaN") && !a.expr.contains("inf"),
                            "{}",
                            a.name
                        );
                    }
                }
                assert!(files(ctx).len() > 10, "{changes:?}");
            });
        }
    }
}
