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
//! Backups. The backup host's jobs (backup.rs) write their results into node_exporter's
//! textfile directory; Prometheus gets them through job `node` on the backup host, with
//! the jobs' own `job` label stored as `exported_job`. Group `backup` alerts on a
//! failed job, on a backup late against backup.rs's cron schedule (thresholds computed
//! from it, [`schedule_gap_s`]), and on results that never arrived (absent()).
//!
//! Budgets (issue 5, item 7). Groups `budgets` and `disks` alert on the plan's own
//! numbers: PostgreSQL connections above 80 % of the usable count, a Synapse process
//! above its RAM budget, MinIO drives offline at or above parity, coturn allocations
//! near total-quota, disks full within 30 days at the current growth. Every threshold
//! is a figure of the report ([`budgets`]), written into its rule with a comment that
//! says where it comes from. coturn's allocations come from a script on each coturn
//! host, run by a systemd timer, that writes [`COTURN_ALLOCATIONS`] for node_exporter's
//! textfile collector (coturn itself has no metrics here). Prometheus keeps metrics for
//! the plan's `retention.prometheus-days`.

use super::workers::{self, Worker};
use super::{Comment, Ctx, File, Host, Scope, SecretId, objectstore, ports};
use crate::plan::Role;
use crate::syntax::conf::Format;
use crate::syntax::yaml::{Doc, Map, Seq};
use crate::syntax::{promql, shell, template};

/// Grafana 12.4: the last 12.x minor, security fixes until May 2027. Not 13.x: it saves
/// dashboards in a v2 JSON format that file provisioning rejects (grafana/grafana#122663).
/// `grafana/grafana` carries the OSS build (`grafana/grafana-oss` stopped at 12.3).
pub const GRAFANA_IMAGE: &str = "docker.io/grafana/grafana:12.4.2";
/// Synapse's docs/metrics-howto.md scrapes every 15 s; so does everything else here.
pub const SCRAPE_INTERVAL_S: u64 = 15;
/// Prometheus's storage doc (docs/storage.md, "Operational aspects"): a sample takes
/// 1–2 bytes on disk after compression; the upper end, for safety.
pub const BYTES_PER_SAMPLE: f64 = 2.0;
/// Headroom of the size cap over the estimate (the series counts are assumptions).
pub const SIZE_HEADROOM: f64 = 1.25;
/// Patroni's default `maximum_lag_on_failover` (1 MiB): a replica further behind is not
/// promoted, so lag beyond it costs the cluster its failover candidate.
pub const PATRONI_MAX_LAG_BYTES: u64 = 1_048_576;
/// Seed §1: clocks must agree within 100 ms (Patroni, etcd).
pub const CLOCK_SKEW_S: f64 = 0.1;

const PROM_DIR: &str = "/etc/prometheus";
const RULES_DIR: &str = "/etc/prometheus/rules";
const HAPROXY_PASSWORD_FILE: &str = "/etc/prometheus/haproxy-stats.password";
/// The HAProxy stats user (SecretId::HaproxyStatsPassword's description: user admin).
const HAPROXY_STATS_USER: &str = "admin";
const GRAFANA_DASHBOARDS: &str = "/etc/grafana/dashboards";
const BLACKBOX_CONFIG: &str = "/etc/prometheus/blackbox.yml";
/// The blackbox exporter's port (loopback only).
const BLACKBOX: u16 = ports::BLACKBOX;
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
/// Certificate expiry alerts. certbot renews when less than 30 days remain (its default
/// `renew_before_expiry`), so at 21 days renewal has failed for over a week; 7 days
/// leaves time to issue and distribute one by hand (internal CA included).
pub const CERT_WARN_DAYS: u64 = 21;
pub const CERT_CRIT_DAYS: u64 = 7;
const SETUP_SCRIPT: &str = "/usr/local/sbin/setup-monitoring.sh";

/// Backup results: backup.rs's `write_metrics` writes them, one `.prom` file per job and
/// type, into node_exporter's textfile directory on the backup host. Each carries the
/// labels `job` (pgbackrest, media, pg_dump) and `type` (full, diff, incr or check for
/// pgbackrest; full for the other two).
pub const BACKUP_SUCCESS: &str = "synapse_planner_backup_last_success_timestamp_seconds";
pub const BACKUP_DURATION: &str = "synapse_planner_backup_last_duration_seconds";
pub const BACKUP_FAILURE: &str = "synapse_planner_backup_last_failure_timestamp_seconds";
/// The directory Debian's prometheus-node-exporter reads by default
/// (`--collector.textfile.directory`; its `--help` shows the compiled-in default).
pub const NODE_TEXTFILE_DIR: &str = "/var/lib/prometheus/node-exporter";
/// Where the backup metrics' own `job` label ends up. Prometheus scrapes them through
/// job `node`, whose target labels include `job`; with `honor_labels` false (the
/// default) a scraped label that clashes with a target label is renamed
/// `exported_<name>` (Prometheus docs, configuration.md, `scrape_config`:
/// honor_labels). So Prometheus stores `job="node"`, `exported_job="pgbackrest"`.
pub const BACKUP_JOB_LABEL: &str = "exported_job";
/// backup.rs's scripts on the backup host (its cron file runs them).
pub const PGBACKREST_SCRIPT: &str = "/usr/local/sbin/pgbackrest-backup.sh";
pub const MEDIA_SCRIPT: &str = "/usr/local/sbin/backup-media.sh";
pub const PGDUMP_SCRIPT: &str = "/usr/local/sbin/pg-dump-synapse.sh";
pub const PGBACKREST_SETUP_SCRIPT: &str = "/usr/local/sbin/setup-pgbackrest.sh";
/// Margin over the longest scheduled gap between two pgBackRest backups of a level.
/// The rule adds the longest last run of that level (the metrics' duration) as well:
/// incrementals are skipped while the daily full or diff holds the backup lock, so a
/// full on a large database widens the gap by its run time, which no fixed margin knows.
pub const PGBACKREST_MARGIN_S: u64 = 3_600;
/// Margin over a day between media snapshots: a run taking up to 2 h longer than the
/// previous one (a day of many uploads, rclone's 50 MB/s bandwidth limit).
pub const MEDIA_MARGIN_S: u64 = 2 * 3_600;
/// Margin over the week between fulls and between pg_dumps: a run taking up to a day
/// longer than the previous one.
pub const WEEKLY_MARGIN_S: u64 = 86_400;
/// A never-run (or never-reported) backup alerts after an hour: long enough that a
/// restart of Prometheus or node_exporter does not alert, short enough to notice on
/// the day of setup.
const BACKUP_ABSENT_FOR: &str = "1h";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let Some(h) = ctx.topology.first(Role::Monitoring) else {
        return Vec::new();
    };
    let mut out = vec![
        prometheus_yml(ctx, h),
        haproxy_password(ctx, h),
        prometheus_default(ctx, h),
        blackbox_yml(ctx, h),
        blackbox_default(ctx, h),
    ];
    for g in rule_groups(ctx) {
        out.push(rule_file(ctx, h, &g));
        out.push(rule_test_file(ctx, h, &g));
    }
    out.extend([
        alertmanager_yml(ctx, h),
        alertmanager_default(ctx, h),
        grafana_env(ctx, h),
        grafana_unit(ctx, h),
        grafana_datasource(ctx, h),
        grafana_dashboards(ctx, h),
        grafana_dashboards_readme(ctx, h),
        setup_script(ctx, h),
    ]);
    out.extend(coturn_metric_files(ctx));
    out
}

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

// ---------------------------------------------------------------------------------
// Scrape targets

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `ip:port`: addresses, not names, so scraping does not depend on name resolution.
    pub address: String,
    pub labels: Vec<(&'static str, String)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub name: &'static str,
    pub metrics_path: &'static str,
    /// A blackbox probe job: the module; `targets` are the probed addresses, scraped
    /// through the local blackbox exporter.
    pub probe: Option<&'static str>,
    pub basic_auth: bool,
    pub targets: Vec<Target>,
    pub why: &'static str,
}

fn host_target(h: &Host, port: u16) -> Target {
    Target {
        address: format!("{}:{port}", h.ip),
        labels: vec![("instance", h.fqdn.clone())],
    }
}

/// The playbook's worker type (`sync_worker`, `stream_writer`) and the worker's number.
pub fn worker_type_and_index(w: &Worker) -> (String, String) {
    if w.stream.is_some() {
        // stream-writer-<idx>-<stream>
        let idx = w.id.split('-').nth(2).unwrap_or("0");
        return ("stream_writer".to_string(), idx.to_string());
    }
    match w.id.rsplit_once('-') {
        Some((kind, n)) => (kind.replace('-', "_"), n.to_string()),
        None => (w.id.replace('-', "_"), "0".to_string()),
    }
}

/// Every scrape job and its targets, in prometheus.yml's order.
pub fn scrape_jobs(ctx: &Ctx) -> Vec<Job> {
    let t = &ctx.topology;
    let hosts = |role| ctx.hosts(role).collect::<Vec<_>>();
    let on = |role, port| -> Vec<Target> {
        hosts(role)
            .into_iter()
            .map(|h| host_target(h, port))
            .collect()
    };
    let mut jobs = Vec::new();
    if let Some(s) = t.first(Role::Synapse) {
        let mut targets = vec![Target {
            address: format!("{}:{}", s.ip, ports::SYNAPSE_MAIN_METRICS),
            labels: vec![
                ("instance", s.fqdn.clone()),
                ("job", "master".to_string()),
                ("index", "0".to_string()),
            ],
        }];
        for w in workers::workers(ctx.plan) {
            let (kind, index) = worker_type_and_index(&w);
            targets.push(Target {
                address: format!("{}:{}", s.ip, w.metrics_port),
                labels: vec![
                    ("instance", s.fqdn.clone()),
                    ("job", kind),
                    ("index", index),
                    ("worker_id", w.id.clone()),
                ],
            });
        }
        jobs.push(Job {
            name: "synapse",
            metrics_path: "/_synapse/metrics",
            basic_auth: false,
            probe: None,
            targets,
            why: "every Synapse process; `job` is overridden per target (master / worker type) as Synapse's dashboard expects",
        });
    }
    jobs.push(Job {
        name: "node",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: t
            .hosts
            .iter()
            .map(|h| host_target(h, ports::NODE_EXPORTER))
            .collect(),
        why: "node_exporter on every host (Debian prometheus-node-exporter)",
    });
    jobs.push(Job {
        name: "postgres",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: on(Role::Patroni, ports::POSTGRES_EXPORTER),
        why: "postgres_exporter on every Patroni node (role postgres_exporter, pg_monitor)",
    });
    jobs.push(Job {
        name: "patroni",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: on(Role::Patroni, ports::PATRONI_REST),
        why: "Patroni's REST API /metrics (GET needs no auth)",
    });
    jobs.push(Job {
        name: "etcd",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: on(Role::Patroni, ports::ETCD_CLIENT),
        why: "etcd's client port serves /metrics (Patroni's DCS, on the Patroni hosts)",
    });
    jobs.push(Job {
        name: "pgbouncer",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: on(Role::Synapse, ports::PGBOUNCER_EXPORTER),
        why: "Debian's prometheus-pgbouncer-exporter next to PgBouncer on the Synapse host",
    });
    jobs.push(Job {
        name: "haproxy",
        metrics_path: "/metrics",
        basic_auth: true,
        probe: None,
        targets: on(Role::Haproxy, ports::HAPROXY_STATS),
        why: "HAProxy's built-in Prometheus exporter on each HAProxy host",
    });
    jobs.push(Job {
        name: "haproxy-vip",
        metrics_path: "/metrics",
        basic_auth: true,
        probe: None,
        targets: vec![Target {
            address: format!("{}:{}", t.vip, ports::HAPROXY_STATS),
            labels: vec![("instance", format!("vip.{}", t.suffix))],
        }],
        why: "the same endpoint through the keepalived VIP: down = no host holds the VIP (or its HAProxy is down); its process start time changes when the VIP moves",
    });
    jobs.push(Job {
        name: objectstore::PROMETHEUS_JOB,
        metrics_path: "/minio/v2/metrics/cluster",
        basic_auth: false,
        probe: None,
        targets: on(Role::Minio, ports::MINIO_API),
        why: "MinIO cluster metrics from every node (MINIO_PROMETHEUS_AUTH_TYPE=public), so losing one node loses no metrics; rules aggregate with max/min",
    });
    // Blackbox probes (module doc: coturn has no metrics endpoint in Debian 12).
    if ctx.hosts(Role::Coturn).next().is_some() {
        jobs.push(Job {
            name: JOB_TURN,
            metrics_path: "/probe",
            basic_auth: false,
            probe: Some(MODULE_TURN_TCP),
            targets: on(Role::Coturn, ports::TURN),
            why: "blackbox probe: coturn accepts TCP on its TURN port (listening-port) on every coturn host",
        });
        jobs.push(Job {
            name: JOB_TURNS,
            metrics_path: "/probe",
            basic_auth: false,
            probe: Some(MODULE_TURNS_TLS),
            targets: on(Role::Coturn, ports::TURNS),
            why: "blackbox probe: TLS handshake with coturn's TURN-over-TLS port (tls-listening-port), the server name's certificate and its expiry",
        });
    }
    jobs.push(Job {
        name: JOB_VIP_TLS,
        metrics_path: "/probe",
        basic_auth: false,
        probe: Some(MODULE_HTTPS_TLS),
        targets: [ports::HTTPS, ports::FEDERATION]
            .into_iter()
            .map(|port| Target {
                address: format!("{}:{port}", t.vip),
                labels: vec![("instance", format!("vip.{}", t.suffix))],
            })
            .collect(),
        why: "blackbox probe: TLS handshake with HAProxy on the VIP (clients 443, federation 8448) with the server name as SNI: HAProxy's certificate and its expiry",
    });
    if ctx.hosts(Role::Livekit).next().is_some() {
        jobs.push(Job {
            name: "livekit",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: on(Role::Livekit, ports::LIVEKIT_METRICS),
            why: "LiveKit's prometheus_port on every SFU",
        });
        jobs.push(Job {
            name: "redis",
            metrics_path: "/metrics",
            basic_auth: false,
            probe: None,
            targets: t
                .first(Role::Livekit)
                .map(|h| vec![host_target(h, ports::REDIS_EXPORTER)])
                .unwrap_or_default(),
            why: "redis_exporter for LiveKit's Redis on the first LiveKit host",
        });
    }
    let mon: Vec<&Host> = hosts(Role::Monitoring);
    jobs.push(Job {
        name: "alertmanager",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: mon
            .iter()
            .map(|h| host_target(h, ports::ALERTMANAGER))
            .collect(),
        why: "Alertmanager",
    });
    jobs.push(Job {
        name: "blackbox",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: mon
            .iter()
            .map(|h| Target {
                address: format!("127.0.0.1:{BLACKBOX}"),
                labels: vec![("instance", h.fqdn.clone())],
            })
            .collect(),
        why: "the blackbox exporter itself (loopback only); down = every probe job above is blind",
    });
    jobs.push(Job {
        name: "prometheus",
        metrics_path: "/metrics",
        basic_auth: false,
        probe: None,
        targets: mon
            .iter()
            .map(|h| host_target(h, ports::PROMETHEUS))
            .collect(),
        why: "Prometheus itself",
    });
    jobs
}

// ---------------------------------------------------------------------------------
// Storage estimate and retention

/// Active series of the plan: the same estimate the report's Prometheus RAM item uses.
pub fn series_estimate(ctx: &Ctx) -> u64 {
    crate::sizing::ram::prometheus_series(ctx.plan)
}

/// Bytes a day on disk: series / scrape interval × 86,400 s × bytes per sample.
pub fn disk_bytes_per_day(series: u64) -> f64 {
    series as f64 / SCRAPE_INTERVAL_S as f64 * 86_400.0 * BYTES_PER_SAMPLE
}

/// `--storage.tsdb.retention.time` in days: the plan's `retention.prometheus-days`
/// (default 30: a month of history to compare a working day with the same day weeks
/// ago, twice Prometheus's 15-day default).
pub fn retention_days(ctx: &Ctx) -> u64 {
    ctx.plan.retention.prometheus_days
}

/// `--storage.tsdb.retention.size`, whole GiB: the estimate for `days` of retention ×
/// headroom.
pub fn retention_size_gib(series: u64, days: u64) -> u64 {
    let bytes = disk_bytes_per_day(series) * days as f64 * SIZE_HEADROOM;
    let gib = (bytes / (1024.0 * 1024.0 * 1024.0)).ceil();
    // Finite for every valid plan (series and days are bounded); saturates otherwise.
    if gib.is_finite() {
        gib.max(1.0) as u64
    } else {
        u64::MAX
    }
}

fn prometheus_ram_item(ctx: &Ctx) -> Option<String> {
    ctx.report
        .hosts
        .iter()
        .find(|b| b.role == Role::Monitoring.key())
        .and_then(|b| b.items.iter().find(|i| i.name == "Prometheus"))
        .map(|i| format!("{} GiB ({})", i.gib, i.formula))
}

// ---------------------------------------------------------------------------------
// prometheus.yml

fn prometheus_yml(ctx: &Ctx, h: &Host) -> File {
    let mut root = Map::new();
    root.insert(
        "global",
        Map::new()
            .with("scrape_interval", format!("{SCRAPE_INTERVAL_S}s"))
            .with("scrape_timeout", "10s")
            .with("evaluation_interval", format!("{SCRAPE_INTERVAL_S}s"))
            .with(
                "external_labels",
                Map::new().with("cluster", &ctx.topology.server_name),
            ),
    );
    root.blank();
    root.insert("rule_files", Seq::new().with(format!("{RULES_DIR}/*.yml")));
    root.blank();
    let alertmanager = format!("127.0.0.1:{}", ports::ALERTMANAGER);
    root.insert(
        "alerting",
        Map::new().with(
            "alertmanagers",
            Seq::new().with(Map::new().with(
                "static_configs",
                Seq::new().with(Map::new().with("targets", Seq::new().with(alertmanager))),
            )),
        ),
    );
    root.blank();
    let mut jobs = Seq::new();
    for job in scrape_jobs(ctx) {
        jobs.comment(job.why);
        let mut j = Map::new()
            .with("job_name", job.name)
            .with("metrics_path", job.metrics_path);
        if job.basic_auth {
            j.insert(
                "basic_auth",
                Map::new()
                    .with("username", HAPROXY_STATS_USER)
                    .with("password_file", HAPROXY_PASSWORD_FILE),
            );
        }
        if let Some(module) = job.probe {
            j.insert("params", Map::new().with("module", Seq::new().with(module)));
        }
        let static_configs: Seq = job
            .targets
            .iter()
            .map(|t| {
                let mut labels = Map::new();
                for (k, v) in &t.labels {
                    labels.insert(*k, v);
                }
                Map::new()
                    .with("targets", Seq::new().with(&t.address))
                    .with("labels", labels)
            })
            .collect();
        j.insert("static_configs", static_configs);
        if job.probe.is_some() {
            // The blackbox exporter's relabelling (its README, "Prometheus
            // Configuration"): the address becomes the probe's `target` parameter and
            // the scrape goes to the local exporter. `instance` stays the probed host's
            // FQDN (static label above) like every other job's, so alerts name hosts and
            // a host's HostDown inhibits its probe warnings; the probed `ip:port` is kept
            // in `target`, which also keeps the VIP's 443 and 8448 apart.
            j.insert(
                "relabel_configs",
                Seq::new()
                    .with(
                        Map::new()
                            .with("source_labels", Seq::new().with("__address__"))
                            .with("target_label", "__param_target"),
                    )
                    .with(
                        Map::new()
                            .with("source_labels", Seq::new().with("__param_target"))
                            .with("target_label", "target"),
                    )
                    .with(
                        Map::new()
                            .with("target_label", "__address__")
                            .with("replacement", format!("127.0.0.1:{BLACKBOX}")),
                    ),
            );
        }
        jobs.push(j);
    }
    root.insert("scrape_configs", jobs);
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "Prometheus 2.42 (Debian 12) on {}: every Synapse process and exporter of the\n\
             cluster. Check: promtool check config {PROM_DIR}/prometheus.yml\n\
             Targets are addresses (no DNS on the scrape path); `instance` names the host.",
            h.fqdn
        ))
        .start();
    File::new(
        path(h, "/etc/prometheus/prometheus.yml"),
        Scope::Role(Role::Monitoring),
        "Prometheus: scrape every Synapse process (dashboard labels) and every exporter, rules, the local Alertmanager.",
        doc.render(),
    )
    .for_host(h)
}

fn haproxy_password(ctx: &Ctx, h: &Host) -> File {
    // Prometheus reads the whole file as the password: no header, no newline.
    File::new(
        path(h, HAPROXY_PASSWORD_FILE),
        Scope::Role(Role::Monitoring),
        "Password of HAProxy's stats user, for scraping /metrics (setup-monitoring.sh makes it readable by prometheus).",
        crate::syntax::one_line(ctx.secret(SecretId::HaproxyStatsPassword)).into_owned(),
    )
    .for_host(h)
    .secret()
}

fn prometheus_default(ctx: &Ctx, h: &Host) -> File {
    let series = series_estimate(ctx);
    let per_day = disk_bytes_per_day(series) / 1e9;
    let days = retention_days(ctx);
    let size = retention_size_gib(series, days);
    let ram = prometheus_ram_item(ctx).unwrap_or_default();
    let notes = format!(
        r#"Arguments of Debian's prometheus.service (ExecStart=/usr/bin/prometheus $ARGS).
Config /etc/prometheus/prometheus.yml and data /var/lib/prometheus/metrics2 are
Debian's defaults.

Retention, from the plan's series estimate (the report's Prometheus RAM item:
{ram}):
  {series} series / {interval} s scrape interval = {rate} samples/s
  × 86,400 s × {bps} bytes per sample (Prometheus docs/storage.md: 1–2 after compression)
  ≈ {per_day:.2} GB a day, {month:.0} GB for {days} days.
Time-based retention is {days} days (the plan's retention.prometheus-days); the size cap ({size} GiB = that estimate × {headroom})
only bites if the series estimate was low, and keeps Prometheus from filling the disk.
/var/lib/prometheus needs {size} GiB free plus ~10% for the WAL and compaction."#,
        interval = SCRAPE_INTERVAL_S,
        rate = series / SCRAPE_INTERVAL_S,
        bps = BYTES_PER_SAMPLE,
        month = per_day * days as f64,
        headroom = SIZE_HEADROOM,
    );
    let body = format!(
        "{}{}{}",
        ctx.header(Comment::Hash),
        Comment::Hash.lines(&notes),
        args_line(&format!(
            "--storage.tsdb.retention.time={days}d --storage.tsdb.retention.size={size}GB --web.listen-address=:{}",
            ports::PROMETHEUS
        ))
    );
    File::new(
        path(h, "/etc/default/prometheus"),
        Scope::Role(Role::Monitoring),
        "Prometheus arguments: retention (time and size) derived from the plan's series estimate.",
        body,
    )
    .for_host(h)
}

// ---------------------------------------------------------------------------------
// Blackbox exporter

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

fn blackbox_yml(ctx: &Ctx, h: &Host) -> File {
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
(/etc/default/prometheus-blackbox-exporter). It probes what exports no metrics itself:
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

fn blackbox_default(ctx: &Ctx, h: &Host) -> File {
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
        path(h, "/etc/default/prometheus-blackbox-exporter"),
        Scope::Role(Role::Monitoring),
        "Blackbox exporter arguments: its config, listening on loopback only.",
        body,
    )
    .for_host(h)
}

// ---------------------------------------------------------------------------------
// Alert rules and their unit tests

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Critical,
    Warning,
}

impl Severity {
    pub fn key(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// One unit-test case of an alert: input series (`series`, `values` in promtool's
/// expanding notation), the evaluation time, and the label sets of the alerts that
/// must fire then (besides `alertname` and `severity`); empty = must stay silent.
#[derive(Clone, Debug)]
pub struct Case {
    pub series: Vec<(String, String)>,
    pub eval: &'static str,
    pub fires: Vec<Vec<(&'static str, String)>>,
}

#[derive(Clone, Debug)]
pub struct Alert {
    pub name: &'static str,
    pub expr: String,
    pub for_: &'static str,
    pub severity: Severity,
    /// Go templates that may use `{{ $labels.<name> }}` only, so the tests can render
    /// them ([`render`]); a plan or topology value in them is written with
    /// [`template::literal`].
    pub summary: String,
    pub description: String,
    pub cases: Vec<Case>,
    /// Where the expression's threshold comes from (a comment above the rule in its
    /// file): set on every rule whose threshold the report computes.
    pub threshold: Option<String>,
}

impl Alert {
    /// The comment saying where the threshold comes from.
    fn because(mut self, note: impl Into<String>) -> Alert {
        self.threshold = Some(note.into());
        self
    }
}

#[derive(Clone, Debug)]
pub struct Group {
    /// File stem: rules/<name>.yml and rules/tests/<name>.test.yml.
    pub name: &'static str,
    pub about: &'static str,
    pub alerts: Vec<Alert>,
    /// promtool's evaluation_interval in the group's unit tests (a duration): 1m, or
    /// coarser where the cases span many hours.
    pub test_step: &'static str,
}

fn s(series: &str, values: &str) -> (String, String) {
    (series.to_string(), values.to_string())
}

fn l(pairs: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
}

/// A case where `bad` fires with `labels` and `good` stays silent.
fn fires_on(
    bad: (String, String),
    good: (String, String),
    eval: &'static str,
    labels: Vec<(&'static str, String)>,
) -> Case {
    Case {
        series: vec![bad, good],
        eval,
        fires: vec![labels],
    }
}

fn silent(series: Vec<(String, String)>, eval: &'static str) -> Case {
    Case {
        series,
        eval,
        fires: Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
fn alert(
    name: &'static str,
    expr: impl Into<String>,
    for_: &'static str,
    severity: Severity,
    summary: impl Into<String>,
    description: impl Into<String>,
    cases: Vec<Case>,
) -> Alert {
    Alert {
        name,
        expr: expr.into(),
        for_,
        severity,
        summary: summary.into(),
        description: description.into(),
        cases,
        threshold: None,
    }
}

/// Renders an annotation as Prometheus does, for the expected annotations of the unit
/// tests: the rules' only actions are `{{ $labels.x }}`, the label's value, and the
/// action [`template::literal`] writes for a `{{` in a value, which prints `{{`. One
/// pass: what a label's value holds is printed, not read as template.
pub fn render(text: &str, labels: &[(&'static str, String)]) -> String {
    let open = template::literal("{{");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'actions: while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix(open.as_str()) {
            out.push_str("{{");
            rest = after;
            continue;
        }
        for (k, v) in labels {
            if let Some(after) = rest.strip_prefix(&format!("{{{{ $labels.{k} }}}}")) {
                out.push_str(v);
                rest = after;
                continue 'actions;
            }
        }
        out.push_str("{{");
        rest = &rest[2..];
    }
    out.push_str(rest);
    out
}

/// Every rule group of the plan, in file order.
pub fn rule_groups(ctx: &Ctx) -> Vec<Group> {
    use Severity::{Critical, Warning};
    let mut groups = Vec::new();

    // --- hosts and scraping ---------------------------------------------------------
    groups.push(Group {
        name: "hosts",
        test_step: "1m",
        about: "Scrape targets, hosts (node_exporter), clocks, disks, memory, Prometheus itself.",
        alerts: vec![
            alert(
                "TargetDown",
                // Probe jobs left out: their `up` is the local blackbox exporter's (job
                // blackbox says when it is down), the probed service's state is
                // probe_success (rules of the calls and tls groups).
                format!(r#"up{{job!~"{}"}} == 0"#, PROBE_JOBS.join("|")),
                "5m",
                Warning,
                "{{ $labels.job }} on {{ $labels.instance }} is not answering",
                "Prometheus cannot scrape job {{ $labels.job }} on {{ $labels.instance }} for 5 minutes: the service or its exporter is down, or a firewall blocks the port.",
                vec![Case {
                    series: vec![
                        s(r#"up{job="postgres",instance="patroni2.internal"}"#, "0x10"),
                        s(r#"up{job="postgres",instance="patroni1.internal"}"#, "1x10"),
                        s(&format!(r#"up{{job="{JOB_TURN}",instance="coturn1.internal",target="10.0.1.109:3478"}}"#), "0x10"),
                    ],
                    eval: "10m",
                    fires: vec![l(&[("job", "postgres"), ("instance", "patroni2.internal")])],
                }],
            ),
            alert(
                "HostDown",
                r#"up{job="node"} == 0"#,
                "2m",
                Critical,
                "Host {{ $labels.instance }} is down",
                "node_exporter on {{ $labels.instance }} has not answered for 2 minutes: the host is down or unreachable. Its other alerts are inhibited.",
                vec![fires_on(
                    s(r#"up{job="node",instance="minio2.internal"}"#, "0x5"),
                    s(r#"up{job="node",instance="minio1.internal"}"#, "1x5"),
                    "5m",
                    l(&[("job", "node"), ("instance", "minio2.internal")]),
                )],
            ),
            alert(
                "ClockSkew",
                format!("abs(node_timex_offset_seconds) > {CLOCK_SKEW_S}"),
                "5m",
                Critical,
                "Clock of {{ $labels.instance }} is off by more than 100 ms",
                "The kernel's time offset on {{ $labels.instance }} exceeds 100 ms (seed §1: Patroni and etcd need < 100 ms between nodes). Check chronyc tracking and the time source (the monitoring host).",
                vec![fires_on(
                    s(r#"node_timex_offset_seconds{job="node",instance="patroni1.internal"}"#, "-0.25x10"),
                    s(r#"node_timex_offset_seconds{job="node",instance="patroni2.internal"}"#, "0.002x10"),
                    "10m",
                    l(&[("job", "node"), ("instance", "patroni1.internal")]),
                )],
            ),
            alert(
                "ClockNotSynchronised",
                "min_over_time(node_timex_sync_status[5m]) == 0",
                "10m",
                Warning,
                "Clock of {{ $labels.instance }} is not synchronised",
                "The kernel reports {{ $labels.instance }}'s clock unsynchronised for 15 minutes: chrony has no usable source.",
                vec![fires_on(
                    s(r#"node_timex_sync_status{job="node",instance="backup.internal"}"#, "0x30"),
                    s(r#"node_timex_sync_status{job="node",instance="synapse.internal"}"#, "1x30"),
                    "30m",
                    l(&[("job", "node"), ("instance", "backup.internal")]),
                )],
            ),
            alert(
                "DiskSpaceLow",
                format!(r#"node_filesystem_avail_bytes{{fstype!~"{NOT_DISKS}"}} / node_filesystem_size_bytes < 0.15 and node_filesystem_readonly == 0"#),
                "10m",
                Warning,
                "{{ $labels.mountpoint }} on {{ $labels.instance }} has less than 15% free",
                "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} is more than 85% full.",
                vec![disk_case("0.10", "0.50")],
            ),
            alert(
                "DiskSpaceCritical",
                format!(r#"node_filesystem_avail_bytes{{fstype!~"{NOT_DISKS}"}} / node_filesystem_size_bytes < 0.05 and node_filesystem_readonly == 0"#),
                "5m",
                Critical,
                "{{ $labels.mountpoint }} on {{ $labels.instance }} has less than 5% free",
                "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} is more than 95% full: PostgreSQL, MinIO or Prometheus stop writing when it fills.",
                vec![disk_case("0.02", "0.50")],
            ),
            alert(
                "MemoryLow",
                "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.05",
                "10m",
                Warning,
                "{{ $labels.instance }} has less than 5% memory available",
                "MemAvailable on {{ $labels.instance }} is under 5% of RAM: the next allocation may wake the OOM killer. Compare with the plan's RAM budget for the role.",
                vec![Case {
                    series: vec![
                        s(r#"node_memory_MemAvailable_bytes{job="node",instance="synapse.internal"}"#, "2x15"),
                        s(r#"node_memory_MemTotal_bytes{job="node",instance="synapse.internal"}"#, "100x15"),
                        s(r#"node_memory_MemAvailable_bytes{job="node",instance="backup.internal"}"#, "50x15"),
                        s(r#"node_memory_MemTotal_bytes{job="node",instance="backup.internal"}"#, "100x15"),
                    ],
                    eval: "15m",
                    fires: vec![l(&[("job", "node"), ("instance", "synapse.internal")])],
                }],
            ),
            alert(
                "OomKill",
                "increase(node_vmstat_oom_kill[30m]) > 0",
                "0m",
                Warning,
                "The OOM killer ran on {{ $labels.instance }}",
                "The kernel killed a process for lack of memory on {{ $labels.instance }} in the last 30 minutes (dmesg says which).",
                vec![fires_on(
                    s(r#"node_vmstat_oom_kill{job="node",instance="synapse.internal"}"#, "0x10 1x10"),
                    s(r#"node_vmstat_oom_kill{job="node",instance="patroni1.internal"}"#, "0x20"),
                    "20m",
                    l(&[("job", "node"), ("instance", "synapse.internal")]),
                )],
            ),
            alert(
                "PrometheusRuleFailures",
                "increase(prometheus_rule_evaluation_failures_total[10m]) > 0",
                "0m",
                Warning,
                "Prometheus fails to evaluate rules in group {{ $labels.rule_group }}",
                "Rules of {{ $labels.rule_group }} failed to evaluate in the last 10 minutes: alerts of that group may be silent. See the Prometheus log.",
                vec![fires_on(
                    s(r#"prometheus_rule_evaluation_failures_total{job="prometheus",instance="monitoring.internal",rule_group="/etc/prometheus/rules/a.yml;a"}"#, "0x5 3x10"),
                    s(r#"prometheus_rule_evaluation_failures_total{job="prometheus",instance="monitoring.internal",rule_group="/etc/prometheus/rules/b.yml;b"}"#, "0x15"),
                    "10m",
                    l(&[("job", "prometheus"), ("instance", "monitoring.internal"), ("rule_group", "/etc/prometheus/rules/a.yml;a")]),
                )],
            ),
        ],
    });

    // --- Synapse ---------------------------------------------------------------------
    groups.push(Group {
        name: "synapse",
        test_step: "1m",
        about: "Synapse processes, requests, federation sending, event processing.",
        alerts: vec![
            alert(
                "SynapseDown",
                // Seed: up{job="synapse-main"}; here the main process is job="master".
                r#"up{job="master"} == 0"#,
                "2m",
                Critical,
                "Synapse main process on {{ $labels.instance }} is down",
                "The main Synapse process's metrics listener has not answered for 2 minutes: logins, replication to workers and everything routed to it fail. journalctl -u matrix-synapse on the Synapse host.",
                vec![fires_on(
                    s(r#"up{job="master",instance="synapse.internal",index="0"}"#, "0x5"),
                    s(r#"up{job="sync_worker",instance="synapse.internal",index="0",worker_id="sync-worker-0"}"#, "1x5"),
                    "5m",
                    l(&[("job", "master"), ("instance", "synapse.internal"), ("index", "0")]),
                )],
            ),
            alert(
                "SynapseWorkerDown",
                r#"up{worker_id!=""} == 0"#,
                "2m",
                Critical,
                "Synapse worker {{ $labels.worker_id }} is down",
                "Worker {{ $labels.worker_id }} ({{ $labels.job }}) on {{ $labels.instance }} has not answered for 2 minutes: the requests or streams routed to it fail. journalctl -u matrix-synapse-worker-* on the Synapse host.",
                vec![fires_on(
                    s(r#"up{job="sync_worker",instance="synapse.internal",index="1",worker_id="sync-worker-1"}"#, "0x5"),
                    s(r#"up{job="sync_worker",instance="synapse.internal",index="0",worker_id="sync-worker-0"}"#, "1x5"),
                    "5m",
                    l(&[("job", "sync_worker"), ("instance", "synapse.internal"), ("index", "1"), ("worker_id", "sync-worker-1")]),
                )],
            ),
            alert(
                // Replaces the seed's HighSyncLatency: /sync long-polls (clients wait up to
                // their timeout, 30 s in Element, when nothing happens), so its latency
                // is the clients' timeout, not Synapse's speed, and Synapse's histogram
                // buckets stop at 10 s; the seed's quantile also lacked sum by (le).
                // Failing syncs are what users notice.
                "SynapseSyncErrors",
                r#"sum(rate(synapse_http_server_response_time_seconds_count{servlet="SyncRestServlet",code=~"5.."}[5m])) / sum(rate(synapse_http_server_response_time_seconds_count{servlet="SyncRestServlet"}[5m])) > 0.05"#,
                "5m",
                Warning,
                "More than 5% of /sync requests fail",
                "Over 5% of /sync responses are 5xx for 5 minutes: clients stop receiving messages. Check the sync workers' logs and PgBouncer's waiting clients.",
                vec![
                    Case {
                        series: vec![
                            s(r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="200"}"#, "0+100x15"),
                            s(r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="502"}"#, "0+20x15"),
                        ],
                        eval: "15m",
                        fires: vec![Vec::new()],
                    },
                    silent(
                        vec![
                            s(r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="200"}"#, "0+100x15"),
                            s(r#"synapse_http_server_response_time_seconds_count{job="sync_worker",instance="synapse.internal",servlet="SyncRestServlet",code="502"}"#, "0+1x15"),
                        ],
                        "15m",
                    ),
                ],
            ),
            alert(
                // Synapse's "Event Send Time" graph (docs/usage/administration/
                // understanding_synapse_through_grafana_graphs.md): how long sending a
                // message takes, persistence included. 1 s at p95 is our threshold
                // (assumption: sends normally take tens of milliseconds).
                "SynapseSlowEventSend",
                r#"histogram_quantile(0.95, sum by (le) (rate(synapse_http_server_response_time_seconds_bucket{servlet="RoomSendEventRestServlet"}[5m]))) > 1"#,
                "10m",
                Warning,
                "Sending a message takes more than 1 s (p95)",
                "The 95th percentile of RoomSendEventRestServlet has been above 1 s for 10 minutes: event persistence (the event persisters, PostgreSQL) is falling behind.",
                vec![
                    Case {
                        series: send_buckets("0x20", "0x20", "0+10x20"),
                        eval: "20m",
                        fires: vec![Vec::new()],
                    },
                    silent(send_buckets("0+10x20", "0+10x20", "0+10x20"), "20m"),
                ],
            ),
            alert(
                "SynapseFederationSendQueue",
                "sum(synapse_federation_transaction_queue_pending_pdus) > 1000",
                "15m",
                Warning,
                "More than 1000 events wait to be sent over federation",
                "Synapse's federation sender has had over 1000 PDUs queued for 15 minutes (normally near 0): remote servers receive messages late. Check the federation sender's log and outbound connectivity.",
                vec![
                    Case {
                        series: vec![s(r#"synapse_federation_transaction_queue_pending_pdus{job="federation_sender",instance="synapse.internal",index="0",worker_id="federation-sender-0"}"#, "5000x20")],
                        eval: "20m",
                        fires: vec![Vec::new()],
                    },
                    silent(vec![s(r#"synapse_federation_transaction_queue_pending_pdus{job="federation_sender",instance="synapse.internal",index="0",worker_id="federation-sender-0"}"#, "3x20")], "20m"),
                ],
            ),
            alert(
                "SynapseEventProcessingLag",
                // synapse_event_processing_lag: ms between an event's arrival and its
                // processing by the named stream consumer (synapse/metrics/__init__.py).
                "max by (name) (synapse_event_processing_lag) > 60000",
                "10m",
                Warning,
                "Synapse's {{ $labels.name }} is more than a minute behind",
                "The {{ $labels.name }} stream consumer processes events over 60 s after they were persisted, for 10 minutes: federation, appservices or pushes are late.",
                vec![fires_on(
                    s(r#"synapse_event_processing_lag{job="federation_sender",instance="synapse.internal",name="federation_sender"}"#, "120000x15"),
                    s(r#"synapse_event_processing_lag{job="master",instance="synapse.internal",name="appservice_sender"}"#, "40x15"),
                    "15m",
                    l(&[("name", "federation_sender")]),
                )],
            ),
        ],
    });

    // --- database -----------------------------------------------------------------------
    let patroni = ctx.plan.host(Role::Patroni).count.max(1);
    let quorum = patroni / 2 + 1;
    groups.push(Group {
        name: "database",
        test_step: "1m",
        about: "PostgreSQL, Patroni, etcd, PgBouncer.",
        alerts: vec![
            alert(
                // Seed: up{job="postgres"} == 0 tests the exporter, not PostgreSQL.
                "PostgreSQLDown",
                "pg_up == 0 or patroni_postgres_running == 0",
                "1m",
                Critical,
                "PostgreSQL on {{ $labels.instance }} is down",
                "postgres_exporter cannot connect, or Patroni reports PostgreSQL not running, on {{ $labels.instance }} for 1 minute. patronictl list; journalctl -u patroni.",
                vec![fires_on(
                    s(r#"pg_up{job="postgres",instance="patroni3.internal"}"#, "0x5"),
                    s(r#"pg_up{job="postgres",instance="patroni1.internal"}"#, "1x5"),
                    "5m",
                    l(&[("job", "postgres"), ("instance", "patroni3.internal")]),
                )],
            ),
            alert(
                // Seed: blks_hit / (blks_hit + blks_read) on the raw counters gives the
                // ratio since the statistics reset, never today's; rates over a window,
                // summed over the database's series, give the current ratio.
                "LowCacheHitRatio",
                r#"sum by (instance) (rate(pg_stat_database_blks_hit{datname="synapse"}[10m])) / (sum by (instance) (rate(pg_stat_database_blks_hit{datname="synapse"}[10m])) + sum by (instance) (rate(pg_stat_database_blks_read{datname="synapse"}[10m]))) < 0.95"#,
                "10m",
                Warning,
                "PostgreSQL cache hit ratio on {{ $labels.instance }} is below 95%",
                "Fewer than 95% of the synapse database's block reads on {{ $labels.instance }} came from shared buffers over 10 minutes: the working set no longer fits (shared_buffers, RAM).",
                vec![Case {
                    series: vec![
                        s(r#"pg_stat_database_blks_hit{job="postgres",instance="patroni1.internal",datname="synapse"}"#, "0+800x25"),
                        s(r#"pg_stat_database_blks_read{job="postgres",instance="patroni1.internal",datname="synapse"}"#, "0+200x25"),
                        s(r#"pg_stat_database_blks_hit{job="postgres",instance="patroni2.internal",datname="synapse"}"#, "0+990x25"),
                        s(r#"pg_stat_database_blks_read{job="postgres",instance="patroni2.internal",datname="synapse"}"#, "0+10x25"),
                    ],
                    eval: "25m",
                    fires: vec![l(&[("instance", "patroni1.internal")])],
                }],
            ),
            alert(
                "PostgresConnectionsNearMax",
                "sum by (instance) (pg_stat_activity_count) > 0.95 * max by (instance) (pg_settings_max_connections - pg_settings_superuser_reserved_connections)",
                "5m",
                Critical,
                "PostgreSQL on {{ $labels.instance }} is close to max_connections",
                "More than 95% of the connections non-superusers may open on {{ $labels.instance }} are in use: new connections will be refused.",
                vec![Case {
                    series: vec![
                        s(r#"pg_stat_activity_count{job="postgres",instance="patroni1.internal",datname="synapse",state="idle"}"#, "98x10"),
                        s(r#"pg_settings_max_connections{job="postgres",instance="patroni1.internal"}"#, "103x10"),
                        s(r#"pg_settings_superuser_reserved_connections{job="postgres",instance="patroni1.internal"}"#, "3x10"),
                        s(r#"pg_stat_activity_count{job="postgres",instance="patroni2.internal",datname="synapse",state="idle"}"#, "20x10"),
                        s(r#"pg_settings_max_connections{job="postgres",instance="patroni2.internal"}"#, "103x10"),
                        s(r#"pg_settings_superuser_reserved_connections{job="postgres",instance="patroni2.internal"}"#, "3x10"),
                    ],
                    eval: "10m",
                    fires: vec![l(&[("instance", "patroni1.internal")])],
                }],
            ),
            alert(
                "PatroniNoLeader",
                "sum by (scope) (patroni_primary) == 0 or max by (scope) (patroni_cluster_unlocked) == 1",
                "1m",
                Critical,
                "Patroni cluster {{ $labels.scope }} has no leader",
                "No Patroni node of {{ $labels.scope }} is primary (or the leader lock is free) for 1 minute: writes fail. patronictl list; check etcd.",
                vec![Case {
                    series: vec![
                        s(r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-a"}"#, "0x5"),
                        s(r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-a"}"#, "0x5"),
                        s(r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-b"}"#, "1x5"),
                        s(r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-b"}"#, "0x5"),
                    ],
                    eval: "5m",
                    fires: vec![l(&[("scope", "pg-a")])],
                }],
            ),
            alert(
                "PatroniMultiplePrimaries",
                "sum by (scope) (patroni_primary) > 1",
                "1m",
                Critical,
                "Patroni cluster {{ $labels.scope }} has more than one primary",
                "Several nodes of {{ $labels.scope }} report themselves primary for 1 minute: split brain. HAProxy sends writes to whichever answers /primary first. Stop the stale one.",
                vec![Case {
                    series: vec![
                        s(r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-a"}"#, "1x5"),
                        s(r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-a"}"#, "1x5"),
                        s(r#"patroni_primary{job="patroni",instance="patroni1.internal",scope="pg-b"}"#, "1x5"),
                        s(r#"patroni_primary{job="patroni",instance="patroni2.internal",scope="pg-b"}"#, "0x5"),
                    ],
                    eval: "5m",
                    fires: vec![l(&[("scope", "pg-a")])],
                }],
            ),
            alert(
                "PatroniReplicationLag",
                format!("max by (scope) (patroni_xlog_location) - on (scope) group_right () (patroni_xlog_received_location and on (instance) patroni_replica == 1) > {PATRONI_MAX_LAG_BYTES}"),
                "5m",
                Warning,
                "Replica {{ $labels.instance }} lags more than 1 MiB behind the primary",
                "{{ $labels.instance }} has received WAL more than 1 MiB behind the primary of {{ $labels.scope }} for 5 minutes: beyond Patroni's maximum_lag_on_failover it is no failover candidate.",
                vec![Case {
                    series: vec![
                        s(r#"patroni_xlog_location{job="patroni",instance="patroni1.internal",scope="pg"}"#, "900000000x10"),
                        s(r#"patroni_xlog_location{job="patroni",instance="patroni2.internal",scope="pg"}"#, "0x10"),
                        s(r#"patroni_xlog_location{job="patroni",instance="patroni3.internal",scope="pg"}"#, "0x10"),
                        s(r#"patroni_xlog_received_location{job="patroni",instance="patroni1.internal",scope="pg"}"#, "0x10"),
                        s(r#"patroni_xlog_received_location{job="patroni",instance="patroni2.internal",scope="pg"}"#, "800000000x10"),
                        s(r#"patroni_xlog_received_location{job="patroni",instance="patroni3.internal",scope="pg"}"#, "899990000x10"),
                        s(r#"patroni_replica{job="patroni",instance="patroni1.internal",scope="pg"}"#, "0x10"),
                        s(r#"patroni_replica{job="patroni",instance="patroni2.internal",scope="pg"}"#, "1x10"),
                        s(r#"patroni_replica{job="patroni",instance="patroni3.internal",scope="pg"}"#, "1x10"),
                    ],
                    eval: "10m",
                    fires: vec![l(&[("job", "patroni"), ("instance", "patroni2.internal"), ("scope", "pg")])],
                }],
            ),
            alert(
                "PatroniPaused",
                "max by (scope) (patroni_is_paused) == 1",
                "1h",
                Warning,
                "Patroni cluster {{ $labels.scope }} has been paused for an hour",
                "Maintenance mode (patronictl pause) has been on for over an hour: no automatic failover happens. patronictl resume when done.",
                vec![fires_on(
                    s(r#"patroni_is_paused{job="patroni",instance="patroni1.internal",scope="pg-a"}"#, "1x70"),
                    s(r#"patroni_is_paused{job="patroni",instance="patroni1.internal",scope="pg-b"}"#, "0x70"),
                    "70m",
                    l(&[("scope", "pg-a")]),
                )],
            ),
            alert(
                "PatroniPendingRestart",
                "patroni_pending_restart == 1",
                "1h",
                Warning,
                "PostgreSQL on {{ $labels.instance }} waits for a restart",
                "A changed parameter on {{ $labels.instance }} only takes effect after a restart (patronictl restart, one node at a time).",
                vec![fires_on(
                    s(r#"patroni_pending_restart{job="patroni",instance="patroni2.internal",scope="pg"}"#, "1x70"),
                    s(r#"patroni_pending_restart{job="patroni",instance="patroni1.internal",scope="pg"}"#, "0x70"),
                    "70m",
                    l(&[("job", "patroni"), ("instance", "patroni2.internal"), ("scope", "pg")]),
                )],
            ),
            alert(
                "EtcdNoLeader",
                "etcd_server_has_leader == 0",
                "1m",
                Critical,
                "etcd member {{ $labels.instance }} has no leader",
                "etcd on {{ $labels.instance }} sees no leader for 1 minute: Patroni cannot renew its leader lock and demotes the primary when its TTL ends.",
                vec![fires_on(
                    s(r#"etcd_server_has_leader{job="etcd",instance="patroni1.internal"}"#, "0x5"),
                    s(r#"etcd_server_has_leader{job="etcd",instance="patroni2.internal"}"#, "1x5"),
                    "5m",
                    l(&[("job", "etcd"), ("instance", "patroni1.internal")]),
                )],
            ),
            alert(
                "EtcdQuorumLost",
                format!(r#"(count(up{{job="etcd"}} == 1) or vector(0)) < {quorum}"#),
                "1m",
                Critical,
                format!("Fewer than {quorum} of {patroni} etcd members answer: quorum lost"),
                format!(
                    "etcd needs {quorum} of its {patroni} members for a quorum; fewer answer. Patroni cannot hold its leader lock: PostgreSQL goes read-only (or fails over in failsafe mode only)."
                ),
                vec![
                    Case {
                        series: etcd_up(patroni, quorum - 1),
                        eval: "5m",
                        fires: vec![Vec::new()],
                    },
                    silent(etcd_up(patroni, quorum), "5m"),
                ],
            ),
            alert(
                "EtcdFrequentLeaderChanges",
                "increase(etcd_server_leader_changes_seen_total[1h]) > 3",
                "0m",
                Warning,
                "etcd on {{ $labels.instance }} saw more than 3 leader changes in an hour",
                "Frequent etcd elections mean slow disks (fsync) or a flaky network between the Patroni hosts; each may cost a Patroni leader-lock renewal.",
                vec![fires_on(
                    s(r#"etcd_server_leader_changes_seen_total{job="etcd",instance="patroni1.internal"}"#, "0+1x60"),
                    s(r#"etcd_server_leader_changes_seen_total{job="etcd",instance="patroni2.internal"}"#, "1x60"),
                    "60m",
                    l(&[("job", "etcd"), ("instance", "patroni1.internal")]),
                )],
            ),
            alert(
                "PgBouncerWaitingClients",
                "sum by (instance, database) (pgbouncer_waiting_clients) > 0",
                "5m",
                Warning,
                "Clients wait for a PgBouncer server connection on {{ $labels.instance }}",
                "Synapse's connections to {{ $labels.database }} have waited for a server connection for 5 minutes: the pool (default_pool_size + reserve_pool_size) is exhausted. Compare with the plan's connection chain.",
                vec![fires_on(
                    s(r#"pgbouncer_waiting_clients{job="pgbouncer",instance="synapse.internal",database="synapse",user="synapse"}"#, "4x10"),
                    s(r#"pgbouncer_waiting_clients{job="pgbouncer",instance="synapse.internal",database="pgbouncer",user="pgbouncer"}"#, "0x10"),
                    "10m",
                    l(&[("instance", "synapse.internal"), ("database", "synapse")]),
                )],
            ),
        ],
    });

    // --- edge: HAProxy and the VIP ----------------------------------------------------------
    groups.push(Group {
        name: "edge",
        test_step: "1m",
        about: "HAProxy backends and the keepalived VIP.",
        alerts: vec![
            alert(
                // Backends with servers but none usable. The PostgreSQL replicas backend
                // is excluded: with one Patroni node it is empty by design (assumption:
                // its name contains "replica").
                "HaproxyBackendDown",
                r#"(haproxy_backend_active_servers{job="haproxy",proxy!~"(?i).*replica.*"} + haproxy_backend_backup_servers{job="haproxy",proxy!~"(?i).*replica.*"}) == 0 and on (instance, proxy) (count by (instance, proxy) (haproxy_server_weight{job="haproxy"}) > 0)"#,
                "1m",
                Critical,
                "HAProxy backend {{ $labels.proxy }} on {{ $labels.instance }} has no server up",
                "Every server of backend {{ $labels.proxy }} fails its health check on {{ $labels.instance }}: the requests it carries fail.",
                vec![Case {
                    series: vec![
                        s(r#"haproxy_backend_active_servers{job="haproxy",instance="haproxy1.internal",proxy="synapse"}"#, "0x5"),
                        s(r#"haproxy_backend_backup_servers{job="haproxy",instance="haproxy1.internal",proxy="synapse"}"#, "0x5"),
                        s(r#"haproxy_server_weight{job="haproxy",instance="haproxy1.internal",proxy="synapse",server="synapse"}"#, "1x5"),
                        s(r#"haproxy_backend_active_servers{job="haproxy",instance="haproxy1.internal",proxy="minio"}"#, "4x5"),
                        s(r#"haproxy_backend_backup_servers{job="haproxy",instance="haproxy1.internal",proxy="minio"}"#, "0x5"),
                        s(r#"haproxy_server_weight{job="haproxy",instance="haproxy1.internal",proxy="minio",server="minio1"}"#, "1x5"),
                        s(r#"haproxy_backend_active_servers{job="haproxy",instance="haproxy1.internal",proxy="stats"}"#, "0x5"),
                        s(r#"haproxy_backend_backup_servers{job="haproxy",instance="haproxy1.internal",proxy="stats"}"#, "0x5"),
                    ],
                    eval: "5m",
                    fires: vec![l(&[("job", "haproxy"), ("instance", "haproxy1.internal"), ("proxy", "synapse")])],
                }],
            ),
            alert(
                "VipDown",
                r#"up{job="haproxy-vip"} == 0"#,
                "1m",
                Critical,
                "Nothing answers on the VIP {{ $labels.instance }}",
                "HAProxy's stats port does not answer on the keepalived VIP for 1 minute: no HAProxy host holds the VIP, or HAProxy is down on the one that does. Every client request fails. Check keepalived on the HAProxy hosts.",
                vec![fires_on(
                    s(r#"up{job="haproxy-vip",instance="vip.internal"}"#, "0x5"),
                    s(r#"up{job="haproxy",instance="haproxy1.internal"}"#, "0x5"),
                    "5m",
                    l(&[("job", "haproxy-vip"), ("instance", "vip.internal")]),
                )],
            ),
            alert(
                "VipMoved",
                r#"changes(haproxy_process_start_time_seconds{job="haproxy-vip"}[10m]) > 0"#,
                "0m",
                Warning,
                "The VIP moved to another HAProxy (or HAProxy restarted on its holder)",
                "The HAProxy answering on the VIP changed in the last 10 minutes: keepalived failed over, or HAProxy restarted on the VIP holder. Find out why the former holder gave it up.",
                vec![fires_on(
                    s(r#"haproxy_process_start_time_seconds{job="haproxy-vip",instance="vip.internal"}"#, "1000x5 2000x5"),
                    s(r#"haproxy_process_start_time_seconds{job="haproxy",instance="haproxy1.internal"}"#, "1000x5 2000x5"),
                    "8m",
                    l(&[("job", "haproxy-vip"), ("instance", "vip.internal")]),
                )],
            ),
        ],
    });

    // --- object storage ----------------------------------------------------------------
    let mut storage = vec![
        alert(
            "MinioNodesOffline",
            r#"max(minio_cluster_nodes_offline_total{job="minio"}) > 0"#,
            "5m",
            Warning,
            "MinIO nodes are offline",
            "MinIO reports offline nodes for 5 minutes; erasure coding keeps media available while each set keeps its quorum. minio-health-check.sh on a MinIO node shows which.",
            vec![
                Case {
                    series: vec![
                        s(
                            r#"minio_cluster_nodes_offline_total{job="minio",instance="minio1.internal"}"#,
                            "1x10",
                        ),
                        s(
                            r#"minio_cluster_nodes_offline_total{job="minio",instance="minio3.internal"}"#,
                            "1x10",
                        ),
                    ],
                    eval: "10m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![s(
                        r#"minio_cluster_nodes_offline_total{job="minio",instance="minio1.internal"}"#,
                        "0x10",
                    )],
                    "10m",
                ),
            ],
        ),
        alert(
            "MinioDrivesOffline",
            r#"max(minio_cluster_drive_offline_total{job="minio"}) > 0"#,
            "5m",
            Warning,
            "MinIO drives are offline",
            "MinIO reports offline drives for 5 minutes: replace or remount them (XFS, /dataN) and MinIO heals them.",
            vec![
                Case {
                    series: vec![s(
                        r#"minio_cluster_drive_offline_total{job="minio",instance="minio1.internal"}"#,
                        "2x10",
                    )],
                    eval: "10m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![s(
                        r#"minio_cluster_drive_offline_total{job="minio",instance="minio1.internal"}"#,
                        "0x10",
                    )],
                    "10m",
                ),
            ],
        ),
        alert(
            "MinioCapacityLow",
            r#"min(minio_cluster_capacity_usable_free_bytes{job="minio"}) / max(minio_cluster_capacity_usable_total_bytes{job="minio"}) < 0.15"#,
            "30m",
            Warning,
            "MinIO has less than 15% usable capacity free",
            "The media store is over 85% full: add a server pool or drives, or shorten media retention.",
            vec![
                Case {
                    series: vec![
                        s(
                            r#"minio_cluster_capacity_usable_free_bytes{job="minio",instance="minio1.internal"}"#,
                            "10x40",
                        ),
                        s(
                            r#"minio_cluster_capacity_usable_total_bytes{job="minio",instance="minio1.internal"}"#,
                            "100x40",
                        ),
                    ],
                    eval: "40m",
                    fires: vec![Vec::new()],
                },
                silent(
                    vec![
                        s(
                            r#"minio_cluster_capacity_usable_free_bytes{job="minio",instance="minio1.internal"}"#,
                            "60x40",
                        ),
                        s(
                            r#"minio_cluster_capacity_usable_total_bytes{job="minio",instance="minio1.internal"}"#,
                            "100x40",
                        ),
                    ],
                    "40m",
                ),
            ],
        ),
    ];
    if objectstore::erasure(objectstore::Layout::of(ctx.plan)).is_some() {
        storage.push(alert(
            // MinIO's own sample rule (docs/metrics/prometheus/alerts.md).
            "MinioErasureSetQuorumLost",
            r#"min by (pool, set) (minio_cluster_health_erasure_set_status{job="minio"}) < 1"#,
            "1m",
            Critical,
            "MinIO erasure set {{ $labels.set }} of pool {{ $labels.pool }} lost quorum",
            "More drives of erasure set {{ $labels.set }} (pool {{ $labels.pool }}) are out than its parity allows: its objects cannot be read or written. Bring nodes and drives back first.",
            vec![fires_on(
                s(r#"minio_cluster_health_erasure_set_status{job="minio",instance="minio1.internal",pool="0",set="1"}"#, "0x5"),
                s(r#"minio_cluster_health_erasure_set_status{job="minio",instance="minio1.internal",pool="0",set="0"}"#, "1x5"),
                "5m",
                l(&[("pool", "0"), ("set", "1")]),
            )],
        ));
    }
    groups.push(Group {
        name: "objectstore",
        test_step: "1m",
        about: "MinIO nodes, drives, erasure sets, capacity.",
        alerts: storage,
    });

    // --- calls -----------------------------------------------------------------------------
    let mut calls = Vec::new();
    let coturns = ctx.plan.host(Role::Coturn).count;
    if coturns > 0 {
        let turn = |i: u64, v: &str| {
            s(
                &format!(
                    r#"probe_success{{job="{JOB_TURN}",instance="coturn{i}.internal",target="10.0.1.{}:{}"}}"#,
                    108 + i,
                    ports::TURN
                ),
                v,
            )
        };
        calls.push(alert(
            "CoturnDown",
            format!(r#"probe_success{{job="{JOB_TURN}"}} == 0"#),
            "2m",
            Warning,
            "coturn on {{ $labels.instance }} does not accept TURN connections",
            "The blackbox exporter's TCP connection to {{ $labels.target }} (coturn's listening-port) has failed for 2 minutes: coturn is down on {{ $labels.instance }} or a firewall blocks the port. Clients try the other TURN servers Synapse hands out. systemctl status coturn; journalctl -u coturn.",
            vec![fires_on(
                turn(2, "0x5"),
                turn(1, "1x5"),
                "5m",
                l(&[("job", JOB_TURN), ("instance", "coturn2.internal"), ("target", "10.0.1.110:3478")]),
            )],
        ));
        calls.push(alert(
            "CoturnAllDown",
            // No series (the blackbox exporter is down) is no verdict: job blackbox's
            // TargetDown reports that.
            format!(r#"max(probe_success{{job="{JOB_TURN}"}}) == 0"#),
            "2m",
            Critical,
            "No coturn host accepts TURN connections",
            format!("None of the {coturns} coturn hosts has accepted a TCP connection on its TURN port for 2 minutes: 1:1 calls between clients behind NAT fail."),
            vec![
                Case {
                    series: vec![turn(1, "0x5"), turn(2, "0x5")],
                    eval: "5m",
                    fires: vec![Vec::new()],
                },
                silent(vec![turn(1, "0x5"), turn(2, "1x5")], "5m"),
            ],
        ));
        calls.push(alert(
            "CoturnTlsDown",
            format!(r#"probe_success{{job="{JOB_TURNS}"}} == 0"#),
            "5m",
            Warning,
            "TURN over TLS on {{ $labels.instance }} fails",
            format!(
                "The TLS handshake with {{{{ $labels.target }}}} (coturn's tls-listening-port) has failed for 5 minutes: coturn is down on {{{{ $labels.instance }}}}, or it cannot read /etc/ssl/synapse-planner/{server}/fullchain.pem and privkey.pem (scripts/certs/distribute.sh installs them). Clients that only get out through TLS cannot relay there.",
                server = template::literal(&ctx.topology.server_name)
            ),
            vec![fires_on(
                s(&format!(r#"probe_success{{job="{JOB_TURNS}",instance="coturn1.internal",target="10.0.1.109:5349"}}"#), "0x10"),
                s(&format!(r#"probe_success{{job="{JOB_TURNS}",instance="coturn2.internal",target="10.0.1.110:5349"}}"#), "1x10"),
                "10m",
                l(&[("job", JOB_TURNS), ("instance", "coturn1.internal"), ("target", "10.0.1.109:5349")]),
            )],
        ));
    }
    let livekits = ctx.plan.host(Role::Livekit).count;
    if livekits > 0 {
        calls.push(alert(
            "LivekitAllDown",
            r#"(count(up{job="livekit"} == 1) or vector(0)) == 0"#,
            "2m",
            Critical,
            "No LiveKit node answers",
            format!("None of the {livekits} LiveKit nodes (the SFUs of group calls) has answered on its metrics endpoint for 2 minutes: group calls fail."),
            vec![
                Case {
                    series: vec![s(r#"up{job="livekit",instance="livekit1.internal"}"#, "0x5")],
                    eval: "5m",
                    fires: vec![Vec::new()],
                },
                silent(vec![s(r#"up{job="livekit",instance="livekit1.internal"}"#, "1x5")], "5m"),
            ],
        ));
        calls.push(alert(
            "LivekitRedisDown",
            r#"redis_up{job="redis"} == 0"#,
            "2m",
            Critical,
            "LiveKit's Redis on {{ $labels.instance }} is down",
            "redis_exporter cannot reach LiveKit's Redis on {{ $labels.instance }}: LiveKit nodes cannot share rooms, new calls fail.",
            vec![fires_on(
                s(r#"redis_up{job="redis",instance="livekit1.internal"}"#, "0x5"),
                s(r#"redis_up{job="redis",instance="livekit2.internal"}"#, "1x5"),
                "5m",
                l(&[("job", "redis"), ("instance", "livekit1.internal")]),
            )],
        ));
    }
    if !calls.is_empty() {
        groups.push(Group {
            name: "calls",
            test_step: "1m",
            about: "coturn (blackbox probes), LiveKit and LiveKit's Redis.",
            alerts: calls,
        });
    }

    // --- TLS: HAProxy on the VIP, certificate expiry -------------------------------------
    // probe_ssl_earliest_cert_expiry is the earliest notAfter of the chain a TLS probe
    // was served (HAProxy on the VIP; coturn's TURN over TLS): every copy of the
    // certificate is watched, including one distribute.sh failed to replace.
    let expiry = |days: u64| format!("probe_ssl_earliest_cert_expiry - time() < {days} * 86400");
    let vip_tls = |port: u16, v: &str| {
        s(
            &format!(
                r#"probe_success{{job="{JOB_VIP_TLS}",instance="vip.internal",target="10.0.1.10:{port}"}}"#
            ),
            v,
        )
    };
    let cert = |port: u16, v: &str| {
        s(
            &format!(
                r#"probe_ssl_earliest_cert_expiry{{job="{JOB_VIP_TLS}",instance="vip.internal",target="10.0.1.10:{port}"}}"#
            ),
            v,
        )
    };
    let cert_labels = |port: u16| {
        l(&[
            ("job", JOB_VIP_TLS),
            ("instance", "vip.internal"),
            ("target", &format!("10.0.1.10:{port}")),
        ])
    };
    // Seconds at the unit tests' evaluation time 30m: expiry in 3, 10 and 60 days.
    let in_days = |d: u64| format!("{}x40", d * 86_400 + 1_800);
    let renew = format!(
        "certbot renews 30 days ahead, so renewal has failed. Online: scripts/certs/letsencrypt.sh on the first HAProxy node; offline: scripts/certs/internal-ca.sh renew; then scripts/certs/distribute.sh. openssl s_client -connect {{{{ $labels.target }}}} -servername {} shows the dates.",
        template::literal(&ctx.topology.server_name)
    );
    groups.push(Group {
        name: "tls",
        test_step: "1m",
        about: "TLS handshakes with HAProxy on the VIP and the expiry of every certificate the blackbox exporter is served.",
        alerts: vec![
            alert(
                "TlsProbeFailed",
                format!(r#"probe_success{{job="{JOB_VIP_TLS}"}} == 0"#),
                "2m",
                Critical,
                "TLS on the VIP's {{ $labels.target }} fails",
                format!(
                    "The TLS handshake with HAProxy on {{{{ $labels.target }}}} (SNI {server}) has failed for 2 minutes: clients (443) or federating servers (8448) cannot connect. No HAProxy holds the VIP, HAProxy is down on the holder, or /etc/haproxy/certs/{server}.pem is missing or broken.",
                    server = template::literal(&ctx.topology.server_name)
                ),
                vec![fires_on(vip_tls(8448, "0x5"), vip_tls(443, "1x5"), "5m", cert_labels(8448))],
            ),
            alert(
                "CertificateExpiringSoon",
                expiry(CERT_WARN_DAYS),
                "10m",
                Warning,
                format!("The certificate on {{{{ $labels.target }}}} expires in less than {CERT_WARN_DAYS} days"),
                format!("The certificate chain served on {{{{ $labels.target }}}} ({{{{ $labels.job }}}}, {{{{ $labels.instance }}}}) holds a certificate that ends within {CERT_WARN_DAYS} days. {renew}"),
                vec![fires_on(cert(443, &in_days(10)), cert(8448, &in_days(60)), "30m", cert_labels(443))],
            ),
            alert(
                "CertificateExpiringCritical",
                expiry(CERT_CRIT_DAYS),
                "10m",
                Critical,
                format!("The certificate on {{{{ $labels.target }}}} expires in less than {CERT_CRIT_DAYS} days"),
                format!("The certificate chain served on {{{{ $labels.target }}}} ({{{{ $labels.job }}}}, {{{{ $labels.instance }}}}) holds a certificate that ends within {CERT_CRIT_DAYS} days, or has ended (the probes do not verify, so an expired certificate still shows, with negative time left): clients will refuse it. {renew}"),
                vec![
                    fires_on(cert(8448, &in_days(3)), cert(443, &in_days(10)), "30m", cert_labels(8448)),
                    // Already expired (a day ago) still fires.
                    fires_on(cert(443, "-84600x40"), cert(8448, &in_days(60)), "30m", cert_labels(443)),
                ],
            ),
        ],
    });

    // --- backups ------------------------------------------------------------------------
    if let Some(b) = ctx.topology.first(Role::Backup) {
        groups.push(backup_group(&b.fqdn));
    }

    // --- the plan's budgets -----------------------------------------------------------
    groups.extend(budget_groups(ctx));
    groups
}

/// The backup rules: the results backup.rs's jobs write for node_exporter's textfile
/// collector on the backup host, as Prometheus stores them (job `node`, the job's own
/// name in `exported_job`, see [`BACKUP_JOB_LABEL`]).
fn backup_group(fqdn: &str) -> Group {
    use BackupLevel::{Media, PgDump, PgbackrestAny, PgbackrestDaily, PgbackrestFull};
    use Severity::{Critical, Warning};
    // The unit tests evaluate at 20m, when time() is 1200: timestamps are written as
    // "so many seconds before that".
    const NOW: i64 = 1_200;
    let instance = promql::string(fqdn);
    let series = |metric: &str, job: &str, ty: &str, values: String| {
        s(
            &format!(
                r#"{metric}{{job="node",instance={instance},{BACKUP_JOB_LABEL}="{job}",type="{ty}"}}"#
            ),
            &values,
        )
    };
    let at = |v: i64| format!("{v}x20");
    let ago = |secs: i64| format!("{}x20", NOW - secs);
    let labels = |job: &str, ty: &str| {
        l(&[
            ("job", "node"),
            ("instance", fqdn),
            (BACKUP_JOB_LABEL, job),
            ("type", ty),
        ])
    };
    let host = || l(&[("instance", fqdn)]);
    const H: i64 = 3_600;
    const D: i64 = 86_400;
    let stanza = super::postgres::CLUSTER;
    let text = |t: &str| {
        t.replace("@STANZA@", stanza)
            .replace("@PGBACKREST@", PGBACKREST_SCRIPT)
            .replace("@MEDIA@", MEDIA_SCRIPT)
            .replace("@PGDUMP@", PGDUMP_SCRIPT)
            .replace("@SETUP@", PGBACKREST_SETUP_SCRIPT)
            .replace("@DIR@", NODE_TEXTFILE_DIR)
    };
    let gap = |level| seconds_text(schedule_gap_s(level).unwrap_or(WEEK_S));
    let margin = |level: BackupLevel| seconds_text(level.margin_s());
    let limit = |level| seconds_text(backup_threshold_s(level));
    let pgbackrest_sel =
        |level: BackupLevel| backup_sel("pgbackrest", &type_matcher(level.pgbackrest_types()));
    // Newest success of a pgBackRest level older than the threshold plus the level's
    // longest last run (the duration is written with the success, so both exist).
    let pgbackrest_late = |level: BackupLevel| {
        let sel = pgbackrest_sel(level);
        format!(
            "time() - max by (instance) ({BACKUP_SUCCESS}{sel}) > {} + max by (instance) ({BACKUP_DURATION}{sel})",
            seconds_expr(backup_threshold_s(level))
        )
    };
    let late = |sel: String, level| {
        format!(
            "time() - max by (instance) ({BACKUP_SUCCESS}{sel}) > {}",
            seconds_expr(backup_threshold_s(level))
        )
    };
    let (success, failure, duration) = (BACKUP_SUCCESS, BACKUP_FAILURE, BACKUP_DURATION);
    // A pgBackRest level's successes and last durations: (type, seconds ago, duration).
    let runs = |rows: &[(&str, i64, i64)]| -> Vec<(String, String)> {
        rows.iter()
            .flat_map(|(ty, before, took)| {
                [
                    series(success, "pgbackrest", ty, ago(*before)),
                    series(duration, "pgbackrest", ty, at(*took)),
                ]
            })
            .collect()
    };

    // A job that failed after its last success fires, while `other` (another job, or
    // another type of the same) failing does not; a success since the failure is silent.
    let failed_cases =
        |(job, ty): (&str, &str), (other_job, other_ty): (&str, &str), later: i64, earlier: i64| {
            vec![
                Case {
                    series: vec![
                        series(failure, job, ty, at(later)),
                        series(success, job, ty, at(earlier)),
                        series(failure, other_job, other_ty, at(later)),
                        series(success, other_job, other_ty, at(earlier)),
                    ],
                    eval: "5m",
                    fires: vec![labels(job, ty)],
                },
                silent(
                    vec![
                        series(failure, job, ty, at(earlier)),
                        series(success, job, ty, at(later)),
                    ],
                    "5m",
                ),
            ]
        };

    Group {
        name: "backup",
        test_step: "1m",
        about: "Backups on the backup host (pgBackRest, media snapshots, pg_dump): failed, late against the cron schedule, or never reported.",
        alerts: vec![
            alert(
                "PgBackRestBackupFailed",
                backup_failed_expr(&pgbackrest_sel(PgbackrestAny)),
                "0m",
                Warning,
                "pgBackRest {{ $labels.type }} backup failed on {{ $labels.instance }}",
                text(
                    "The last {{ $labels.type }} backup of stanza @STANZA@ on {{ $labels.instance }} failed, or none has succeeded yet. On {{ $labels.instance }}: its log is /var/log/pgbackrest/@STANZA@-backup.log, what the repository holds: sudo -u postgres pgbackrest --stanza=@STANZA@ info. Run it again: sudo @PGBACKREST@ {{ $labels.type }}. Resolves when one succeeds.",
                ),
                vec![Case {
                    series: vec![
                        // Failed after its last success: fires.
                        series(failure, "pgbackrest", "incr", at(7_000)),
                        series(success, "pgbackrest", "incr", at(3_600)),
                        // Succeeded since it failed: silent.
                        series(failure, "pgbackrest", "diff", at(1_000)),
                        series(success, "pgbackrest", "diff", at(5_000)),
                        // Failed, never succeeded: fires.
                        series(failure, "pgbackrest", "full", at(900)),
                        // The check is PgBackRestCheckFailed's.
                        series(failure, "pgbackrest", "check", at(7_000)),
                        series(success, "pgbackrest", "check", at(3_600)),
                    ],
                    eval: "5m",
                    fires: vec![labels("pgbackrest", "incr"), labels("pgbackrest", "full")],
                }],
            ),
            alert(
                "PgBackRestCheckFailed",
                backup_failed_expr(&backup_sel("pgbackrest", r#"type="check""#)),
                "0m",
                // Not only the backups: unarchived WAL stays in the primary's pg_wal.
                Critical,
                "pgbackrest check fails on {{ $labels.instance }}: WAL archiving is broken",
                text(
                    "The daily pgbackrest check on {{ $labels.instance }} (a WAL switch on the primary, then waiting for that segment in the repository) failed, or has never succeeded. While WAL does not reach the repository, point-in-time restore ends at the last archived segment, and the primary keeps every unarchived segment in pg_wal until its disk fills. Run on {{ $labels.instance }}: sudo @PGBACKREST@ check (the error names the failing side). Logs: /var/log/pgbackrest/@STANZA@-check.log there, /var/log/pgbackrest/@STANZA@-archive-push-async.log on the primary.",
                ),
                // A failed backup is PgBackRestBackupFailed's.
                failed_cases(("pgbackrest", "check"), ("pgbackrest", "incr"), 7_000, 3_600),
            ),
            alert(
                "MediaBackupFailed",
                backup_failed_expr(&backup_sel("media", "")),
                "0m",
                Warning,
                "The media backup failed on {{ $labels.instance }}",
                text(
                    "The last media snapshot on {{ $labels.instance }} failed, or none has succeeded yet: media uploaded since the newest snapshot exist only in MinIO and in the Synapse host's media store. Run on {{ $labels.instance }}: sudo @MEDIA@ and read its error (rclone from the MinIO bucket through the VIP, then rsync from the Synapse host; rclone's --immutable fails the run when a stored media file has changed).",
                ),
                failed_cases(("media", "full"), ("pg_dump", "full"), 90_000, 3_600),
            ),
            alert(
                "PgDumpFailed",
                backup_failed_expr(&backup_sel("pg_dump", "")),
                "0m",
                Warning,
                "The weekly pg_dump failed on {{ $labels.instance }}",
                text(
                    "The last logical dump of the synapse database on {{ $labels.instance }} failed, or none has succeeded yet. pgBackRest's backups do not depend on it; it is the independent copy, restorable into another PostgreSQL version. Run on {{ $labels.instance }}: sudo @PGDUMP@ and read its error (it connects to a standby through HAProxy on the VIP as user synapse).",
                ),
                failed_cases(("pg_dump", "full"), ("media", "full"), 90_000, 3_600),
            ),
            alert(
                "PgBackRestBackupsLate",
                pgbackrest_late(PgbackrestAny),
                "10m",
                Warning,
                "No pgBackRest backup has completed on {{ $labels.instance }} for longer than the hourly schedule allows",
                text(&format!(
                    "A pgBackRest backup starts every hour (/etc/cron.d/synapse-planner-backup: the daily full or diff, incrementals in the other hours, skipped while the daily one runs), yet none has completed for {} (the schedule's longest gap, {}, plus {} margin) plus the longest last run of a backup. cron may not run, a backup may hang (pgrep -a pgbackrest), or every run fails (PgBackRestBackupFailed). Run on {{{{ $labels.instance }}}}: sudo @PGBACKREST@ incr.",
                    limit(PgbackrestAny),
                    gap(PgbackrestAny),
                    margin(PgbackrestAny),
                )),
                vec![
                    // 2 h 50 since the last incr, the longest last run half an hour: the
                    // threshold is 2 h 30, passed 20 min ago (for: 10m). A recent check
                    // is no backup.
                    Case {
                        series: [
                            runs(&[
                                ("incr", 2 * H + 50 * 60, 60),
                                ("diff", 2 * D, 900),
                                ("full", 3 * D, 1_800),
                            ]),
                            vec![series(success, "pgbackrest", "check", ago(200))],
                        ]
                        .concat(),
                        eval: "20m",
                        fires: vec![host()],
                    },
                    // Sunday 06:45: the full started at 01:30 still runs (last week's
                    // took 4 h 30), so the 00:30 incr (6 h 14 ago) is the newest: on
                    // schedule, 16 min short of 2 h + 4 h 30.
                    silent(
                        runs(&[
                            ("incr", 6 * H + 14 * 60, 60),
                            ("diff", D + 6 * H + 14 * 60, 900),
                            ("full", 7 * D + 2 * H, 16_200),
                        ]),
                        "20m",
                    ),
                ],
            ),
            alert(
                "PgBackRestDailyBackupLate",
                pgbackrest_late(PgbackrestDaily),
                "10m",
                Warning,
                "No full or differential pgBackRest backup has completed on {{ $labels.instance }} for longer than the daily schedule allows",
                text(&format!(
                    "A full (weekly) or differential (the other days) backup starts every day (/etc/cron.d/synapse-planner-backup), yet none has completed for {} (the schedule's gap, {}, plus {} margin) plus the longest last run of either: restores replay ever more incrementals and WAL. Run on {{{{ $labels.instance }}}}: sudo @PGBACKREST@ diff (it waits for a running backup).",
                    limit(PgbackrestDaily),
                    gap(PgbackrestDaily),
                    margin(PgbackrestDaily),
                )),
                vec![
                    // 26 h 20 since the last diff, the longest last run 1 h: 20 min past
                    // 25 h + 1 h. Recent incrementals do not count.
                    Case {
                        series: runs(&[
                            ("diff", 26 * H + 20 * 60, 900),
                            ("full", 6 * D, 3_600),
                            ("incr", 600, 60),
                        ]),
                        eval: "20m",
                        fires: vec![host()],
                    },
                    // Sunday 06:45: Saturday's diff ended at 01:45 (29 h ago), the full
                    // is still running (last week's took 4 h 30): on schedule (25 h +
                    // 4 h 30), though 4 h over 25 h.
                    silent(
                        runs(&[
                            ("diff", 29 * H, 900),
                            ("full", 7 * D + 2 * H, 16_200),
                            ("incr", 600, 60),
                        ]),
                        "20m",
                    ),
                ],
            ),
            alert(
                "PgBackRestFullBackupLate",
                late(pgbackrest_sel(PgbackrestFull), PgbackrestFull),
                "10m",
                Warning,
                format!(
                    "No full pgBackRest backup has completed on {{{{ $labels.instance }}}} for over {}",
                    limit(PgbackrestFull)
                ),
                text(&format!(
                    "The weekly full backup has not completed for {} (the schedule's gap, {}, plus {} margin): differentials and incrementals pile up against an old full, and a restore replays more of them. Run on {{{{ $labels.instance }}}}: sudo @PGBACKREST@ full (hours on a large database; it waits for a running backup).",
                    limit(PgbackrestFull),
                    gap(PgbackrestFull),
                    margin(PgbackrestFull),
                )),
                vec![
                    Case {
                        // 20 min past 8 days; a recent diff is no full.
                        series: runs(&[("full", 8 * D + 20 * 60, 1_800), ("diff", H, 900)]),
                        eval: "20m",
                        fires: vec![host()],
                    },
                    // 10 min short of 8 days: within the margin.
                    silent(runs(&[("full", 8 * D - 10 * 60, 1_800)]), "20m"),
                ],
            ),
            alert(
                "MediaBackupLate",
                late(backup_sel("media", ""), Media),
                "10m",
                Warning,
                format!(
                    "No media backup has completed on {{{{ $labels.instance }}}} for over {}",
                    limit(Media)
                ),
                text(&format!(
                    "The daily media snapshot has not completed for {} (the schedule's gap, {}, plus {} margin): media uploaded since exist only in MinIO and in the Synapse host's media store. A run may hang (pgrep -a 'rclone|rsync'; the script holds a lock) or cron may not run. Run on {{{{ $labels.instance }}}}: sudo @MEDIA@.",
                    limit(Media),
                    gap(Media),
                    margin(Media),
                )),
                vec![
                    Case {
                        series: vec![series(success, "media", "full", ago(26 * H + 20 * 60))],
                        eval: "20m",
                        fires: vec![host()],
                    },
                    silent(
                        vec![series(success, "media", "full", ago(26 * H - 10 * 60))],
                        "20m",
                    ),
                ],
            ),
            alert(
                "PgDumpLate",
                late(backup_sel("pg_dump", ""), PgDump),
                "10m",
                Warning,
                format!(
                    "No pg_dump has completed on {{{{ $labels.instance }}}} for over {}",
                    limit(PgDump)
                ),
                text(&format!(
                    "The weekly logical dump of the synapse database has not completed for {} (the schedule's gap, {}, plus {} margin). Run on {{{{ $labels.instance }}}}: sudo @PGDUMP@.",
                    limit(PgDump),
                    gap(PgDump),
                    margin(PgDump),
                )),
                vec![
                    Case {
                        series: vec![
                            series(success, "pg_dump", "full", ago(8 * D + 20 * 60)),
                            // Another job's recent success does not count.
                            series(success, "media", "full", ago(H)),
                        ],
                        eval: "20m",
                        fires: vec![host()],
                    },
                    silent(
                        vec![series(success, "pg_dump", "full", ago(8 * D - 10 * 60))],
                        "20m",
                    ),
                ],
            ),
            alert(
                // absent() keeps the equality matchers' labels: one alert per job, on
                // the backup host's instance (so HostDown there inhibits it).
                "BackupMetricsMissing",
                ["pgbackrest", "media", "pg_dump"]
                    .iter()
                    .map(|job| {
                        format!(
                            r#"absent({BACKUP_SUCCESS}{{job="node",instance={instance},{BACKUP_JOB_LABEL}="{job}",type="full"}})"#
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" or "),
                BACKUP_ABSENT_FOR,
                Warning,
                "No {{ $labels.exported_job }} backup has reported success on {{ $labels.instance }}",
                text(
                    "Prometheus has had no successful {{ $labels.exported_job }} backup from node_exporter on {{ $labels.instance }} for an hour: the job has never succeeded (a backup never run is no backup), its result file in @DIR@ is gone, or node_exporter does not read that directory (ls @DIR@ on {{ $labels.instance }}). Run it once by hand there: pgbackrest: sudo @SETUP@ (takes the first full); media: sudo @MEDIA@; pg_dump: sudo @PGDUMP@.",
                ),
                vec![
                    // Nothing has run: all three.
                    Case {
                        series: vec![s(&format!(r#"up{{job="node",instance={instance}}}"#), "1x70")],
                        eval: "70m",
                        fires: vec![
                            labels("pgbackrest", "full"),
                            labels("media", "full"),
                            labels("pg_dump", "full"),
                        ],
                    },
                    // Set up and the media run, the weekly dump not yet.
                    Case {
                        series: vec![
                            series(success, "pgbackrest", "full", "1x70".into()),
                            series(success, "media", "full", "1x70".into()),
                            // A failed dump reports no success.
                            series(failure, "pg_dump", "full", "1x70".into()),
                        ],
                        eval: "70m",
                        fires: vec![labels("pg_dump", "full")],
                    },
                    silent(
                        vec![
                            series(success, "pgbackrest", "full", "1x70".into()),
                            series(success, "media", "full", "1x70".into()),
                            series(success, "pg_dump", "full", "1x70".into()),
                        ],
                        "70m",
                    ),
                ],
            ),
        ],
    }
}

fn disk_case(bad: &str, good: &str) -> Case {
    let fs = |inst: &str, avail: &str| {
        vec![
            s(
                &format!(
                    r#"node_filesystem_avail_bytes{{job="node",instance="{inst}",device="/dev/sdb1",fstype="xfs",mountpoint="/data1"}}"#
                ),
                &format!("{avail}x15"),
            ),
            s(
                &format!(
                    r#"node_filesystem_size_bytes{{job="node",instance="{inst}",device="/dev/sdb1",fstype="xfs",mountpoint="/data1"}}"#
                ),
                "1x15",
            ),
            s(
                &format!(
                    r#"node_filesystem_readonly{{job="node",instance="{inst}",device="/dev/sdb1",fstype="xfs",mountpoint="/data1"}}"#
                ),
                "0x15",
            ),
        ]
    };
    let mut series = fs("minio1.internal", bad);
    series.extend(fs("minio2.internal", good));
    Case {
        series,
        eval: "15m",
        fires: vec![l(&[
            ("job", "node"),
            ("instance", "minio1.internal"),
            ("device", "/dev/sdb1"),
            ("fstype", "xfs"),
            ("mountpoint", "/data1"),
        ])],
    }
}

fn send_buckets(le05: &str, le1: &str, le25: &str) -> Vec<(String, String)> {
    let b = |le: &str, v: &str| {
        s(
            &format!(
                r#"synapse_http_server_response_time_seconds_bucket{{job="stream_writer",instance="synapse.internal",servlet="RoomSendEventRestServlet",method="PUT",code="200",le="{le}"}}"#
            ),
            v,
        )
    };
    vec![b("0.5", le05), b("1", le1), b("2.5", le25), b("+Inf", le25)]
}

fn etcd_up(members: u64, up: u64) -> Vec<(String, String)> {
    (1..=members)
        .map(|i| {
            s(
                &format!(r#"up{{job="etcd",instance="patroni{i}.internal"}}"#),
                if i <= up { "1x5" } else { "0x5" },
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// Alerts from the plan's budgets (issue 5, item 7)
//
// Each threshold is a number of the report (or of the plan it is computed from),
// written into the rule with a comment saying where it comes from; the unit tests put
// series just below and just above it. tests/validate_monitoring.rs recomputes every
// threshold from the report on its own and runs promtool on its own series against
// the generated rules, so a rule whose threshold drifts from the report fails there.

/// PostgresSynapseConnectionsHigh: above this share (%) of the usable connections
/// (issue 5: "Postgres connections above 80 % of the computed usable count").
pub const CONNECTIONS_WARN_PERCENT: u64 = 80;
/// A coturn node's relay allocations: warning above this share (%) of its limit…
pub const TURN_WARN_PERCENT: u64 = 80;
/// …critical at or above this one.
pub const TURN_CRIT_PERCENT: u64 = 95;
/// The disk alerts' horizon (issue 5: "disk full within 30 days at the current growth").
pub const DISK_HORIZON_DAYS: u64 = 30;
/// The growth the disk alerts extrapolate: predict_linear's least-squares fit over the
/// last 6 hours (Prometheus docs, querying/functions.md, `predict_linear`).
pub const DISK_WINDOW: &str = "6h";
/// DISK_WINDOW and DISK_FOR in words, for the annotations.
const DISK_WINDOW_TEXT: &str = "6 hours";
const DISK_FOR_TEXT: &str = "12 hours";
/// The disk alerts' `for`: twice the window. A burst of writes (a full backup, a
/// pg_dump, a bulk upload, a restore test) steepens the fitted slope for as long as it
/// is inside the window, i.e. the window plus the burst, so 12 h lets bursts of up to
/// 6 h pass; steady growth still alerts with weeks to spare (12 h of 30 days). Where
/// growth follows the working day, the 6 h fit is steeper by day than the day's
/// average: the alert comes early rather than late.
pub const DISK_FOR: &str = "12h";
/// Filesystems that are no disk (node_exporter lists them too).
pub const NOT_DISKS: &str = "tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*";

/// The relay allocations of a coturn node, written for node_exporter's textfile
/// collector by [`COTURN_METRIC_SCRIPT`] (Debian 12's coturn exports no metrics).
pub const COTURN_ALLOCATIONS: &str = "synapse_planner_coturn_relay_allocations";
pub const COTURN_METRIC_SCRIPT: &str = "/usr/local/sbin/coturn-allocations-metric.sh";
/// The systemd service and timer that run the script (`<unit>.service`, `<unit>.timer`).
pub const COTURN_METRIC_UNIT: &str = "synapse-planner-coturn-allocations";
/// The drop-in that makes coturn.service pull the timer in.
pub const COTURN_DROP_IN: &str =
    "/etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf";
/// The timer runs the script every scrape interval; a file older than 5 minutes (20
/// runs missed) means the timer or the script stopped.
pub const COTURN_METRIC_STALE_S: u64 = 300;

/// The playbook's data root on the Synapse host (`matrix_base_data_path`,
/// roles/custom/matrix-base/defaults/main.yml): the media store
/// (/matrix/synapse/storage/media-store), Valkey, Traefik, logs.
const MATRIX_BASE: &str = "/matrix";
/// Docker's data root (images and container layers of the playbook and Grafana).
const DOCKER_ROOT: &str = "/var/lib/docker";
/// etcd's data (postgres.rs: ETCD_DATA_DIR=/var/lib/etcd/default).
const ETCD_DATA: &str = "/var/lib/etcd";
/// Prometheus' TSDB: Debian's default --storage.tsdb.path.
const PROMETHEUS_TSDB: &str = "/var/lib/prometheus/metrics2";
/// Grafana's data (grafana.service mounts it into the container).
const GRAFANA_DATA: &str = "/var/lib/grafana";
/// backup.rs: the pgBackRest repository (repo1-path), the media snapshots and the
/// pg_dump directory on the backup host.
const PGBACKREST_REPO: &str = "/var/lib/pgbackrest";
const MEDIA_SNAPSHOTS: &str = "/var/backups/synapse-media";
const PGDUMP_DIR: &str = "/var/backups/synapse-pgdump";

const GIB: u64 = 1 << 30;
const TIB: f64 = (1u64 << 40) as f64;

/// `{{ $labels.<name> }}`.
fn lbl(name: &str) -> String {
    format!("{{{{ $labels.{name} }}}}")
}

/// `floor(n × percent / 100)`.
fn percent_floor(n: u64, percent: u64) -> u64 {
    n.saturating_mul(percent) / 100
}

/// `ceil(n × percent / 100)`.
fn percent_ceil(n: u64, percent: u64) -> u64 {
    n.saturating_mul(percent).div_ceil(100)
}

/// The thresholds of the budget alerts, each from the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budgets {
    /// connections.postgres-available (at least 1).
    pub pg_usable: u64,
    /// PostgresSynapseConnectionsHigh fires above this: 80 % of `pg_usable`, floored.
    pub pg_warn: u64,
    /// connections.postgres-max-connections.
    pub pg_max_connections: u64,
    /// synapse.ram-per-process-gib in bytes.
    pub synapse_process_bytes: u64,
    /// object-storage.set-size and .parity; None without erasure coding.
    pub erasure: Option<(u64, u64)>,
    /// The allocations one coturn node can hold and what bounds it; None without coturn.
    pub turn: Option<TurnLimit>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnLimit {
    pub limit: u64,
    /// What the limit is, for the annotations.
    pub what: String,
    /// Fires above this (80 %, floored)…
    pub warn: u64,
    /// …and critical at or above this (95 %, rounded up).
    pub crit: u64,
}

/// The budget thresholds of the plan.
pub fn budgets(ctx: &Ctx) -> Budgets {
    let c = &ctx.report.connections;
    let pg_usable = c.postgres_available.max(1) as u64;
    let os = &ctx.report.object_storage;
    let t = &ctx.report.calls.turn;
    let ports = (ctx.plan.coturn.max_port + 1).saturating_sub(ctx.plan.coturn.min_port);
    let (limit, what) = turn_limit(t.total_quota, t.max_allocations_per_node, ports);
    Budgets {
        pg_usable,
        pg_warn: percent_floor(pg_usable, CONNECTIONS_WARN_PERCENT),
        pg_max_connections: c.postgres_max_connections,
        synapse_process_bytes: gib_bytes(ctx.report.synapse.ram_per_process_gib),
        // Parity below the set size: anything else is a layout MinIO refuses (an error
        // finding), with no set to watch.
        erasure: (os.parity > 0 && os.parity < os.set_size).then_some((os.set_size, os.parity)),
        turn: (ctx.hosts(Role::Coturn).next().is_some() && limit > 0).then(|| TurnLimit {
            limit,
            what,
            warn: percent_floor(limit, TURN_WARN_PERCENT),
            crit: percent_ceil(limit, TURN_CRIT_PERCENT).max(1),
        }),
    }
}

/// The allocations one coturn node can hold, and what sets it: coturn refuses an
/// allocation beyond `total-quota` with 486 (coturn 4.6.1 src/server/ns_turn_server.c,
/// inc_quota; 0 = no quota: examples/etc/turnserver.conf, "Total allocation quota.
/// default value is 0 (no quota)"); the report's calls.turn.max-allocations-per-node is
/// lower when the relay ports or file descriptors run out first (each allocation holds
/// one relay port); 0 there = not computed. With neither, the relay ports.
pub fn turn_limit(total_quota: u64, max_per_node: u64, ports: u64) -> (u64, String) {
    match (total_quota, max_per_node) {
        (q, m) if m > 0 && (q == 0 || m < q) => (
            m,
            format!(
                "calls.turn.max-allocations-per-node: the relay ports (coturn.min-port..coturn.max-port) or file descriptors run out {}",
                if q == 0 {
                    "(no total-quota)".to_string()
                } else {
                    format!("before total-quota {q}")
                }
            ),
        ),
        (q, _) if q > 0 => (
            q,
            "coturn's total-quota (calls.turn.total-quota)".to_string(),
        ),
        _ => (
            ports,
            format!("the {ports} relay ports coturn.min-port..coturn.max-port (no total-quota)"),
        ),
    }
}

/// A report GiB figure (hundredths) in bytes, rounded down.
fn gib_bytes(g: crate::sizing::Gib) -> u64 {
    (u128::from(g.0) * u128::from(GIB) / 100).min(u128::from(u64::MAX)) as u64
}

/// The directories whose filesystems a role's disk alert watches, and what they hold.
pub fn data_paths(ctx: &Ctx, role: Role) -> Vec<String> {
    match role {
        Role::Synapse => vec![MATRIX_BASE.into(), DOCKER_ROOT.into()],
        Role::Patroni => vec![super::postgres::data_dir(ctx), ETCD_DATA.into()],
        Role::Minio => objectstore::mounts(objectstore::Layout::of(ctx.plan)),
        Role::Monitoring => vec![PROMETHEUS_TSDB.into(), GRAFANA_DATA.into()],
        Role::Backup => vec![
            PGBACKREST_REPO.into(),
            MEDIA_SNAPSHOTS.into(),
            PGDUMP_DIR.into(),
        ],
        Role::Haproxy | Role::Coturn | Role::Livekit => Vec::new(),
    }
}

/// The mount points that may hold `paths`: each path and every directory above it
/// (node_exporter names a filesystem by its mount point; the data may be on a volume
/// of its own or on one above it, the root filesystem at worst). MinIO's drives are
/// mount points themselves (minio.service requires them mounted): exactly those.
pub fn mount_points(role: Role, paths: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let mut found = vec![p.clone()];
        if role != Role::Minio {
            let mut cur = p.as_str();
            while let Some((parent, _)) = cur.rsplit_once('/') {
                found.push(if parent.is_empty() { "/" } else { parent }.to_string());
                cur = parent;
            }
        }
        for m in found.into_iter().rev() {
            if !out.contains(&m) {
                out.push(m);
            }
        }
    }
    out
}

/// The disk of one host of the role in bytes: a MinIO drive (minio.drive-tib), else
/// hosts.<role>.disk-gib.
fn disk_bytes(ctx: &Ctx, role: Role) -> u64 {
    if role == Role::Minio {
        let b = ctx.plan.minio.drive_tib * TIB;
        if b.is_finite() {
            b.max(0.0).min(u64::MAX as f64) as u64
        } else {
            0
        }
    } else {
        ctx.plan.host(role).disk_gib.saturating_mul(GIB)
    }
}

/// What the plan's own forecast says of the role's disk (report
/// storage.months-until-full), as a sentence; empty when the report has no forecast
/// for it.
fn forecast(ctx: &Ctx, role: Role) -> String {
    let s = &ctx.report.storage;
    // MinIO's forecast is the pool's usable capacity; the others' one host's disk.
    let what = if role == Role::Minio {
        "the MinIO pool's usable capacity"
    } else {
        "this disk"
    };
    match s.months_until_full.get(role.key()) {
        Some(Some(m)) => format!(
            " The plan forecasts {what} full in month {m} (storage.months-until-full.{}, from activity.* and retention.*): if the alert comes much earlier, growth outruns the plan's activity figures.",
            role.key()
        ),
        Some(None) => format!(
            " The plan forecasts {what} not full within its {} months (storage.months-until-full.{}, from activity.* and retention.*): growth outruns the plan's activity figures, or something else writes here.",
            s.months,
            role.key()
        ),
        None => String::new(),
    }
}

/// One role's disk alert: (alert name, what the disk holds, why it matters, what to change).
fn disk_texts(ctx: &Ctx, role: Role) -> Option<(&'static str, &'static str, String, String)> {
    let p = ctx.plan;
    let disk = |r: Role| format!("hosts.{}.disk-gib = {} GiB", r.key(), p.host(r).disk_gib);
    Some(match role {
        Role::Patroni => (
            "PostgresDiskFillsWithin30Days",
            "PostgreSQL's data directory (pg_wal included) and etcd's data",
            format!(
                "PostgreSQL stops (PANIC) when it cannot write WAL, and Patroni's etcd when it cannot write its log; the plan sizes this volume at {}",
                disk(role)
            ),
            format!(
                "find what grows (du -sh {}/*: tables and indexes, or WAL held for a lagging replica or a failing archive_command, see PgBackRestCheckFailed), then grow the volume and set hosts.{}.disk-gib to its size, and compare activity.daily-active-users and activity.messages-per-user-day with the real traffic",
                super::postgres::data_dir(ctx),
                role.key()
            ),
        ),
        Role::Minio => (
            "MinioDriveFillsWithin30Days",
            "a MinIO drive (its erasure-coded share of every object)",
            format!(
                "MinIO stops writing to a full drive, and uploads fail once a set has no room; the plan sizes each drive at minio.drive-tib = {} TiB",
                p.minio.drive_tib
            ),
            "add drives or a server pool (minio.drives-per-node, minio.drive-tib, hosts.minio.count), or keep media for less time (retention.local-media-days, retention.remote-media-days); compare activity.uploads-per-user-day and activity.upload-mib with the real uploads".to_string(),
        ),
        Role::Backup => (
            "BackupDiskFillsWithin30Days",
            "the pgBackRest repository, the media snapshots and the pg_dumps",
            format!(
                "backups fail when it is full (PgBackRestBackupFailed, MediaBackupFailed, PgDumpFailed) and WAL archiving stops (the primary's pg_wal then grows); the plan sizes it at {}",
                disk(role)
            ),
            format!(
                "keep fewer backups (retention.full-backups = {}, retention.media-snapshots = {}) or grow the volume and set hosts.{}.disk-gib to its size",
                p.retention.full_backups,
                p.retention.media_snapshots,
                role.key()
            ),
        ),
        Role::Monitoring => (
            "PrometheusDiskFillsWithin30Days",
            "Prometheus' TSDB and Grafana's data",
            format!(
                "Prometheus stops ingesting, and every alert goes blind, when it cannot write; its size cap (/etc/default/prometheus) should stop it first, so something else may grow here; the plan sizes it at {}",
                disk(role)
            ),
            format!(
                "keep metrics for less time (retention.prometheus-days = {}) or grow the volume and set hosts.{}.disk-gib to its size",
                p.retention.prometheus_days,
                role.key()
            ),
        ),
        Role::Synapse => (
            "SynapseDiskFillsWithin30Days",
            "the playbook's data (the local media store, Valkey, logs) and Docker's images",
            format!(
                "Synapse cannot store uploads and thumbnails, and Docker cannot pull or start containers, on a full disk; the plan sizes it at {}",
                disk(role)
            ),
            format!(
                "keep media for less time (retention.local-media-days, retention.remote-media-days), remove unused images (docker image prune), or grow the volume and set hosts.{}.disk-gib to its size",
                role.key()
            ),
        ),
        Role::Haproxy | Role::Coturn | Role::Livekit => return None,
    })
}

/// The rule groups of the plan's budgets: `budgets` (connections, RAM per process,
/// parity, TURN allocations) and `disks` (full within 30 days, per role).
fn budget_groups(ctx: &Ctx) -> Vec<Group> {
    use Severity::{Critical, Warning};
    let b = budgets(ctx);
    let c = &ctx.report.connections;
    let mut alerts = Vec::new();
    let inst = lbl("instance");

    // --- PostgreSQL connections ---------------------------------------------------
    if let Some(pg) = ctx.topology.first(Role::Patroni) {
        let reserved: Vec<String> = c
            .postgres_reserved
            .iter()
            .map(|r| format!("{} {}", r.name, r.count))
            .collect();
        let usable = format!(
            "postgres.max-connections {} − {} reserved ({})",
            c.postgres_max_connections,
            c.postgres_reserved_total,
            reserved.join(", ")
        );
        let pools = format!(
            "{} PgBouncer server connections = pgbouncer.default-pool-size {} + pgbouncer.reserve-pool-size {} per PgBouncer",
            c.pgbouncer_server_connections,
            ctx.plan.pgbouncer.default_pool_size,
            ctx.plan.pgbouncer.reserve_pool_size
        );
        let synapse_conns =
            r#"sum by (instance) (pg_stat_activity_count{job="postgres",datname="synapse"})"#;
        // pg_stat_activity_count (postgres_exporter 0.11) has one series per database and
        // state; the case splits the connections over two states so the sum counts.
        let conns = |n: u64, other: u64| -> Vec<(String, String)> {
            let series = |db: &str, state: &str, v: u64| {
                s(
                    &format!(
                        r#"pg_stat_activity_count{{job="postgres",instance={},datname="{db}",state="{state}"}}"#,
                        promql::string(&pg.fqdn)
                    ),
                    &format!("{v}x15"),
                )
            };
            vec![
                series("synapse", "active", n / 2),
                series("synapse", "idle", n - n / 2),
                // Other databases (Patroni's, the exporter's) do not count.
                series("postgres", "idle", other),
            ]
        };
        let on_pg = l(&[("instance", &pg.fqdn)]);
        alerts.push(
            alert(
                "PostgresSynapseConnectionsHigh",
                format!("{synapse_conns} > {}", b.pg_warn),
                "10m",
                Warning,
                format!(
                    "{inst} has more than {} connections to the synapse database ({CONNECTIONS_WARN_PERCENT} % of the {} the plan leaves for it)",
                    b.pg_warn, b.pg_usable
                ),
                format!(
                    "Connections to the synapse database on {inst} (PgBouncer's server connections, and the weekly pg_dump on a standby) have exceeded {} for 10 minutes: {CONNECTIONS_WARN_PERCENT} % of the {} usable connections the plan computes ({usable}). Why: the plan sizes PgBouncer to stay below that ({pools}); more means the pools are bigger than planned, or clients connect to the synapse database around PgBouncer, and at {} the reserve of the admin, backup and monitoring connections is next. Change: see who holds them (SELECT usename, client_addr, state, count(*) FROM pg_stat_activity WHERE datname = 'synapse' GROUP BY 1, 2, 3); if Synapse needs them, raise postgres.max-connections in the plan (Patroni applies it with a restart), or lower pgbouncer.default-pool-size and pgbouncer.reserve-pool-size.",
                    b.pg_warn, b.pg_usable, b.pg_usable
                ),
                vec![
                    Case {
                        series: conns(b.pg_warn + 1, 40),
                        eval: "15m",
                        fires: vec![on_pg.clone()],
                    },
                    silent(conns(b.pg_warn, 40), "15m"),
                ],
            )
            .because(format!(
                "Threshold {} = floor({CONNECTIONS_WARN_PERCENT} % × {}): report connections.postgres-available = {usable}.",
                b.pg_warn, b.pg_usable
            )),
        );
        alerts.push(
            alert(
                "PostgresSynapseConnectionsExhausted",
                format!("{synapse_conns} >= {}", b.pg_usable),
                "5m",
                Critical,
                format!(
                    "{inst} has used up the {} connections the plan leaves for the synapse database",
                    b.pg_usable
                ),
                format!(
                    "Connections to the synapse database on {inst} have reached the {} usable connections of the plan ({usable}) for 5 minutes. Why: what is left is the reserve for the superuser, Patroni, postgres_exporter, pgBackRest and admin sessions; once it is taken, PostgreSQL refuses them (and Synapse's next connection too). Change: lower pgbouncer.default-pool-size and pgbouncer.reserve-pool-size ({pools}) or raise postgres.max-connections in the plan, and find who connects around PgBouncer.",
                    b.pg_usable
                ),
                vec![
                    Case {
                        series: conns(b.pg_usable, 3),
                        eval: "15m",
                        fires: vec![on_pg.clone()],
                    },
                    silent(conns(b.pg_usable - 1, 3), "15m"),
                ],
            )
            .because(format!(
                "Threshold {}: report connections.postgres-available = {usable}.",
                b.pg_usable
            )),
        );
        let max = |v: u64| {
            s(
                &format!(
                    r#"pg_settings_max_connections{{job="postgres",instance={},server="127.0.0.1:{}"}}"#,
                    promql::string(&pg.fqdn),
                    ports::POSTGRES
                ),
                &format!("{v}x40"),
            )
        };
        alerts.push(
            alert(
                "PostgresMaxConnectionsNotAsPlanned",
                format!(
                    r#"max by (instance) (pg_settings_max_connections{{job="postgres"}}) != {}"#,
                    b.pg_max_connections
                ),
                "30m",
                Warning,
                format!(
                    "PostgreSQL on {inst} runs with a max_connections other than the plan's {}",
                    b.pg_max_connections
                ),
                format!(
                    "postgres_exporter has read a max_connections other than {} on {inst} for 30 minutes; the plan's postgres.max-connections is {}, and the connection alerts here are computed from it (usable {}, warning above {}). Why: Patroni's configuration (patronictl show-config) was changed without the plan, or a change waits for a restart (patronictl list: Pending restart). Change: set postgres.max-connections in the plan to what the cluster should run, regenerate the bundle and apply it (patronictl edit-config, then patronictl restart, one node at a time), and install the regenerated rules.",
                    b.pg_max_connections, b.pg_max_connections, b.pg_usable, b.pg_warn
                ),
                vec![
                    Case {
                        series: vec![max(b.pg_max_connections + 100)],
                        eval: "40m",
                        fires: vec![on_pg.clone()],
                    },
                    silent(vec![max(b.pg_max_connections)], "40m"),
                ],
            )
            .because(format!(
                "Threshold {}: report connections.postgres-max-connections (the plan's postgres.max-connections).",
                b.pg_max_connections
            )),
        );
    }

    // --- Synapse RAM per process ----------------------------------------------------
    let synapse_targets: Vec<Target> = scrape_jobs(ctx)
        .into_iter()
        .filter(|j| j.name == "synapse")
        .flat_map(|j| j.targets)
        .collect();
    let mut synapse_jobs: Vec<String> = Vec::new();
    for t in &synapse_targets {
        for (k, v) in &t.labels {
            if *k == "job" && !synapse_jobs.contains(v) {
                synapse_jobs.push(v.clone());
            }
        }
    }
    if let (Some(main), Some(s_host)) = (synapse_targets.first(), ctx.topology.first(Role::Synapse))
    {
        let syn = &ctx.report.synapse;
        let base = ctx
            .plan
            .assume(&crate::assumptions::SYNAPSE_PROCESS_BASE_GIB);
        let per_factor = ctx
            .plan
            .assume(&crate::assumptions::SYNAPSE_PROCESS_PER_FACTOR_GIB);
        let factor = ctx.plan.synapse.cache_factor;
        let heuristic = format!(
            "synapse.ram-per-process-gib {} GiB = assumptions.synapse-process-base-gib {base} GiB + assumptions.synapse-process-per-factor-gib {per_factor} GiB × synapse.cache-factor {factor}",
            syn.ram_per_process_gib
        );
        // The process the case fires on: the last worker (or the main process alone).
        let target = synapse_targets.last().unwrap_or(main);
        let rss = |t: &Target, v: u64| {
            let labels: Vec<String> = t
                .labels
                .iter()
                .map(|(k, v)| format!("{k}={}", promql::string(v)))
                .collect();
            s(
                &format!("process_resident_memory_bytes{{{}}}", labels.join(",")),
                &format!("{v}x40"),
            )
        };
        let other = s(
            &format!(
                r#"process_resident_memory_bytes{{job="prometheus",instance={}}}"#,
                promql::string(
                    ctx.topology
                        .first(Role::Monitoring)
                        .map_or("monitoring", |h| h.fqdn.as_str())
                )
            ),
            &format!("{}x40", b.synapse_process_bytes.saturating_mul(10)),
        );
        let fired: Vec<(&'static str, String)> = target.labels.clone();
        alerts.push(
            alert(
                "SynapseProcessOverRamBudget",
                format!(
                    r#"process_resident_memory_bytes{{job=~{},instance={}}} > {}"#,
                    promql::any_of(&synapse_jobs),
                    promql::string(&s_host.fqdn),
                    b.synapse_process_bytes
                ),
                "30m",
                Warning,
                format!(
                    "Synapse {} (index {}) on {inst} uses more than its {} GiB RAM budget",
                    lbl("job"),
                    lbl("index"),
                    syn.ram_per_process_gib
                ),
                format!(
                    "The resident memory of Synapse process {} (index {}) on {inst} has been above {} GiB for 30 minutes, the plan's budget per process ({heuristic}: the seed's heuristic, an assumption). Why: the Synapse host's RAM budget ({} processes × {} GiB = {} GiB of hosts.synapse.ram-gib = {} GiB) holds only while every process stays within it; caches are capped at {} GiB per process (caches.cache_autotuning.max_cache_memory_usage), so the rest of the process has grown: a large room's state, big syncs, or a leak. Change: if it stays there, plan more per process (assumptions.synapse-process-base-gib, then hosts.synapse.ram-gib if the host budget no longer fits) or smaller caches (synapse.cache-factor); restart the process if it keeps growing.",
                    lbl("job"),
                    lbl("index"),
                    syn.ram_per_process_gib,
                    syn.process_count,
                    syn.ram_per_process_gib,
                    syn.ram_total_gib,
                    ctx.plan.host(Role::Synapse).ram_gib,
                    syn.cache_autotuning_max_gib
                ),
                vec![
                    Case {
                        series: vec![
                            rss(target, b.synapse_process_bytes.saturating_add(1)),
                            other.clone(),
                        ],
                        eval: "40m",
                        fires: vec![fired],
                    },
                    silent(vec![rss(target, b.synapse_process_bytes), other], "40m"),
                ],
            )
            .because(format!(
                "Threshold {} bytes = {} GiB × 2^30: report {heuristic} (src/sizing/mod.rs ram_per_process; caches capped by cache_autotuning at synapse.cache-autotuning-max-gib {} GiB). Jobs: the main process and every worker type of prometheus.yml's synapse job.",
                b.synapse_process_bytes, syn.ram_per_process_gib, syn.cache_autotuning_max_gib
            )),
        );
    }

    // --- MinIO: drives offline against parity ---------------------------------------
    if let Some((set_size, parity)) = b.erasure {
        let os = &ctx.report.object_storage;
        let minio: Vec<&Host> = ctx.hosts(Role::Minio).collect();
        let online = |h: &Host, set: u64, v: u64| {
            s(
                &format!(
                    r#"minio_cluster_health_erasure_set_online_drives{{job="{}",instance={},pool="0",set="{set}"}}"#,
                    objectstore::PROMETHEUS_JOB,
                    promql::string(&h.fqdn)
                ),
                &format!("{v}x10"),
            )
        };
        let at_parity = set_size - parity;
        let mut firing = Vec::new();
        let mut quiet = Vec::new();
        for (i, h) in minio.iter().enumerate() {
            // Every node reports the cluster: set 0 at parity in every view, set 1
            // one drive short of it.
            firing.push(online(h, 0, at_parity));
            firing.push(online(h, 1, at_parity + 1));
            // One node's partial view (a node cut off sees its peers' drives offline)
            // is outvoted by the best one.
            quiet.push(online(h, 0, if i == 0 { at_parity } else { at_parity + 1 }));
        }
        if minio.len() < 2 {
            quiet = minio.iter().map(|h| online(h, 0, at_parity + 1)).collect();
        }
        let writes = if os.write_quorum <= at_parity {
            format!(
                "writes still succeed (write quorum {} of {set_size})",
                os.write_quorum
            )
        } else {
            format!(
                "writes already fail (write quorum {} of {set_size}: parity is half the set)",
                os.write_quorum
            )
        };
        alerts.push(
            alert(
                "MinioErasureSetAtParity",
                format!(
                    r#"{set_size} - max by (pool, set) (minio_cluster_health_erasure_set_online_drives{{job="{}"}}) >= {parity}"#,
                    objectstore::PROMETHEUS_JOB
                ),
                "5m",
                Critical,
                format!(
                    "MinIO erasure set {} of pool {} has {parity} or more of its {set_size} drives offline (its parity)",
                    lbl("set"),
                    lbl("pool")
                ),
                format!(
                    "At least {parity} drives of MinIO erasure set {} (pool {}) have been offline for 5 minutes, as many as its parity: object-storage.parity EC:{parity} of a {set_size}-drive set. Why: each object of the set is stored as {} data and {parity} parity shards; with {parity} drives gone it is still readable (read quorum {}) and {writes}, but one more failure makes the set's objects unreadable. Change: bring the nodes and drives back first (minio-health-check.sh on a MinIO node, mc admin info), MinIO heals them; if drives fail this often, plan more parity (minio.parity) or more drives per set (hosts.minio.count, minio.drives-per-node).",
                    lbl("set"),
                    lbl("pool"),
                    set_size - parity,
                    os.read_quorum,
                ),
                vec![
                    Case {
                        series: firing,
                        eval: "10m",
                        fires: vec![l(&[("pool", "0"), ("set", "0")])],
                    },
                    silent(quiet, "10m"),
                ],
            )
            .because(format!(
                "Threshold: offline = {set_size} − online ≥ {parity}, with {set_size} = report object-storage.set-size and {parity} = object-storage.parity (read quorum {}, write quorum {}). Online drives per set (pool, set) as MinIO counts them (cmd/erasure-server-pool.go Health: healing drives count as online), the best view among the nodes.",
                os.read_quorum, os.write_quorum
            )),
        );
    }

    // --- coturn: relay allocations against total-quota --------------------------------
    if let Some(t) = &b.turn {
        let coturn: Vec<&Host> = ctx.hosts(Role::Coturn).collect();
        let first = coturn[0];
        let allocations = |h: &Host, v: u64| {
            s(
                &format!(
                    r#"{COTURN_ALLOCATIONS}{{job="node",instance={}}}"#,
                    promql::string(&h.fqdn)
                ),
                &format!("{v}x10"),
            )
        };
        let on = |h: &Host| l(&[("job", "node"), ("instance", &h.fqdn)]);
        let why = format!(
            "Why: coturn refuses allocations beyond total-quota (486 Allocation Quota Reached) and has none to give once its {} relay ports (coturn.min-port {}..coturn.max-port {}) are taken: clients that need a relay (behind NAT, firewalls) then cannot call; Synapse hands clients every coturn host of the plan ({}), so the others take the load only while they have room.",
            (ctx.plan.coturn.max_port + 1).saturating_sub(ctx.plan.coturn.min_port),
            ctx.plan.coturn.min_port,
            ctx.plan.coturn.max_port,
            coturn.len()
        );
        let fix = "Change: add coturn hosts (hosts.coturn.count), or plan the calls again (calls.concurrent-1to1, calls.relayed-share), which sets total-quota; widen coturn.min-port..coturn.max-port if the ports run out first.";
        alerts.push(
            alert(
                "CoturnAllocationsHigh",
                format!(r#"{COTURN_ALLOCATIONS}{{job="node"}} > {}"#, t.warn),
                "5m",
                Warning,
                format!(
                    "coturn on {inst} holds more than {} relay allocations ({TURN_WARN_PERCENT} % of {})",
                    t.warn, t.limit
                ),
                format!(
                    "coturn on {inst} has held more than {} relay allocations for 5 minutes: {TURN_WARN_PERCENT} % of the {} one node can hold, {}. {why} {fix}",
                    t.warn, t.limit, t.what
                ),
                vec![
                    Case {
                        series: vec![allocations(first, t.warn + 1)],
                        eval: "10m",
                        fires: vec![on(first)],
                    },
                    silent(vec![allocations(first, t.warn)], "10m"),
                ],
            )
            .because(format!(
                "Threshold {} = floor({TURN_WARN_PERCENT} % × {}): {} = {}.",
                t.warn, t.limit, t.limit, t.what
            )),
        );
        alerts.push(
            alert(
                "CoturnAllocationsAtQuota",
                format!(r#"{COTURN_ALLOCATIONS}{{job="node"}} >= {}"#, t.crit),
                "2m",
                Critical,
                format!(
                    "coturn on {inst} holds {} or more relay allocations ({TURN_CRIT_PERCENT} % of {})",
                    t.crit, t.limit
                ),
                format!(
                    "coturn on {inst} has held {} or more relay allocations for 2 minutes: {TURN_CRIT_PERCENT} % of the {} one node can hold, {}; new relayed calls there are about to fail. {why} {fix}",
                    t.crit, t.limit, t.what
                ),
                vec![
                    Case {
                        series: vec![allocations(first, t.crit)],
                        eval: "10m",
                        fires: vec![on(first)],
                    },
                    silent(vec![allocations(first, t.crit - 1)], "10m"),
                ],
            )
            .because(format!(
                "Threshold {} = ceil({TURN_CRIT_PERCENT} % × {}): {} = {}.",
                t.crit, t.limit, t.limit, t.what
            )),
        );
        // The metric is the script's: a host without a fresh one is blind.
        let file = format!("{NODE_TEXTFILE_DIR}/{COTURN_ALLOCATIONS}.prom");
        let mtime = |h: &Host, v: &str| {
            s(
                &format!(
                    r#"node_textfile_mtime_seconds{{job="node",instance={},file="{file}"}}"#,
                    promql::string(&h.fqdn)
                ),
                v,
            )
        };
        let mut absent_case = Vec::new();
        let mut stale_case = Vec::new();
        for (i, h) in coturn.iter().enumerate() {
            // Every host answers; the last one has no allocations file (absent).
            absent_case.push(s(
                &format!(r#"up{{job="node",instance={}}}"#, promql::string(&h.fqdn)),
                "1x20",
            ));
            // Evaluated at 20m: "0+60x20" is a file rewritten every minute.
            if i + 1 < coturn.len() {
                absent_case.push(allocations(h, 3));
                absent_case.push(mtime(h, "0+60x20"));
            }
            stale_case.push(allocations(h, 3));
            stale_case.push(mtime(h, if i == 0 { "0x20" } else { "0+60x20" }));
        }
        let last = coturn[coturn.len() - 1];
        alerts.push(alert(
            "CoturnAllocationsUnknown",
            format!(
                r#"{} or time() - node_textfile_mtime_seconds{{job="node",file=~".*/{COTURN_ALLOCATIONS}[.]prom"}} > {COTURN_METRIC_STALE_S}"#,
                coturn
                    .iter()
                    .map(|h| format!(
                        r#"absent({COTURN_ALLOCATIONS}{{job="node",instance={}}})"#,
                        promql::string(&h.fqdn)
                    ))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            "10m",
            Warning,
            format!("coturn's relay allocations on {inst} are unknown"),
            format!(
                "node_exporter on {inst} has had no fresh {COTURN_ALLOCATIONS} for 10 minutes ({file}, rewritten every {SCRAPE_INTERVAL_S} s by {COTURN_METRIC_UNIT}.timer; older than {COTURN_METRIC_STALE_S} s or missing): CoturnAllocationsHigh and CoturnAllocationsAtQuota are blind there. Why: the timer is not running (it starts with coturn through {COTURN_DROP_IN}) or {COTURN_METRIC_SCRIPT} fails. Change: on {inst}, systemctl status {COTURN_METRIC_UNIT}.timer {COTURN_METRIC_UNIT}.service; journalctl -u {COTURN_METRIC_UNIT}.service; systemctl enable --now {COTURN_METRIC_UNIT}.timer."
            ),
            vec![
                Case {
                    series: absent_case,
                    eval: "20m",
                    fires: vec![on(last)],
                },
                Case {
                    series: stale_case.clone(),
                    eval: "20m",
                    fires: vec![l(&[
                        ("job", "node"),
                        ("instance", &first.fqdn),
                        ("file", &file),
                    ])],
                },
                silent(
                    stale_case
                        .into_iter()
                        .map(|(series, v)| {
                            if series.starts_with("node_textfile") {
                                (series, "0+60x20".to_string())
                            } else {
                                (series, v)
                            }
                        })
                        .collect(),
                    "20m",
                ),
            ],
        )
        .because(format!(
            "A file older than {COTURN_METRIC_STALE_S} s: {} runs of the timer (every {SCRAPE_INTERVAL_S} s) missed; one absent() per coturn host of the plan.",
            COTURN_METRIC_STALE_S / SCRAPE_INTERVAL_S
        )));
    }

    // --- call relays: network bandwidth against the plan's NIC assumption ----------
    // The calls view sizes coturn and LiveKit by bandwidth as well as by ports, and at
    // the default bitrates bandwidth runs out first (calls.turn.max-allocations-by-
    // bandwidth-per-node is far below the relay ports): this watches what the node
    // actually sends on the plan's interface.
    let iface = ctx.plan.network.interface.clone();
    for (role, name, nic, nic_key, what, count_key) in [
        (
            Role::Coturn,
            "CoturnBandwidthHigh",
            ctx.report.calls.turn.nic_mbps,
            "assumptions.turn-nic-mbps",
            "relayed 1:1 calls",
            "hosts.coturn.count",
        ),
        (
            Role::Livekit,
            "LivekitBandwidthHigh",
            ctx.report.calls.livekit.nic_mbps,
            "assumptions.livekit-nic-mbps",
            "group calls",
            "hosts.livekit.count",
        ),
    ] {
        let hosts: Vec<&Host> = ctx.hosts(role).collect();
        let Some(first) = hosts.first() else {
            continue;
        };
        // bits/s: floor(80 % × NIC Mbit/s × 10^6).
        let nic_bps = (nic.max(0.0) * 1e6).min(1e15) as u64;
        let threshold = percent_floor(nic_bps, TURN_WARN_PERCENT).max(1);
        let instances: Vec<&str> = hosts.iter().map(|h| h.fqdn.as_str()).collect();
        let tx = |instance: &str, device: &str, per_min: u64| {
            s(
                &format!(
                    r#"node_network_transmit_bytes_total{{job="node",instance={},device={}}}"#,
                    promql::string(instance),
                    promql::string(device)
                ),
                &format!("0+{per_min}x30"),
            )
        };
        // Bytes a minute for 1.2 × and 0.93 × the threshold (bits/s × 60 / 8 = × 7.5).
        let (over, under) = (threshold.saturating_mul(9), threshold.saturating_mul(7));
        let mut quiet = vec![
            tx(&first.fqdn, &iface, under),
            // Loopback and hosts of other roles are not this rule's.
            tx(&first.fqdn, "lo", over),
        ];
        if let Some(o) = ctx.topology.hosts.iter().find(|o| o.role != role) {
            quiet.push(tx(&o.fqdn, &iface, over));
        }
        alerts.push(
            alert(
                name,
                format!(
                    r#"rate(node_network_transmit_bytes_total{{job="node",instance=~{},device={}}}[5m]) * 8 > {threshold}"#,
                    promql::any_of(&instances),
                    promql::string(&iface)
                ),
                "10m",
                Warning,
                format!(
                    "{inst} sends more than {TURN_WARN_PERCENT} % of its {} Mbit/s on {}",
                    nic,
                    template::literal(&iface)
                ),
                format!(
                    "{inst} has sent more than {threshold} bit/s on {} for 10 minutes: {TURN_WARN_PERCENT} % of the {nic} Mbit/s the plan assumes for one node ({nic_key}). Why: {what} on this node are about to lose packets; the plan's calls view counts on that bandwidth (it limits the calls one node carries before its ports do). Change: add hosts ({count_key}), plan faster NICs ({nic_key}), or plan the calls again (the calls.* keys); check that clients spread over every node of the role.",
                    template::literal(&iface)
                ),
                vec![
                    Case {
                        series: vec![tx(&first.fqdn, &iface, over)],
                        eval: "20m",
                        fires: vec![l(&[
                            ("job", "node"),
                            ("instance", &first.fqdn),
                            ("device", &iface),
                        ])],
                    },
                    silent(quiet, "20m"),
                ],
            )
            .because(format!(
                "Threshold {threshold} bit/s = floor({TURN_WARN_PERCENT} % × {nic} Mbit/s × 10^6), {nic} = {nic_key}."
            )),
        );
    }

    // --- disks full within 30 days at the current growth ------------------------------
    let mut disks = Vec::new();
    for role in Role::ALL {
        let hosts: Vec<&Host> = ctx.hosts(role).collect();
        let (Some((name, holds, why, fix)), Some(h)) = (disk_texts(ctx, role), hosts.first())
        else {
            continue;
        };
        let paths = data_paths(ctx, role);
        let mounts = mount_points(role, &paths);
        let instances: Vec<&str> = hosts.iter().map(|h| h.fqdn.as_str()).collect();
        let expr = format!(
            r#"predict_linear(node_filesystem_avail_bytes{{job="node",instance=~{},mountpoint=~{},fstype!~"{NOT_DISKS}"}}[{DISK_WINDOW}], {DISK_HORIZON_DAYS} * 86400) < 0"#,
            promql::any_of(&instances),
            promql::any_of(&mounts)
        );
        // Series falling linearly by `per_min` bytes a minute (the role's disk in 60
        // days), evaluated at 13h: the 12 h `for` has run. Full in 29.9 days at the
        // start (fires), in 30.1 days at the end (silent).
        let per_min = (disk_bytes(ctx, role) / 86_400).max(1);
        let day = per_min.saturating_mul(1_440);
        let minutes = 780;
        let falling = |days_tenths: u64, end: bool| {
            let mut start = day.saturating_mul(days_tenths) / 10;
            if end {
                start = start.saturating_add(per_min.saturating_mul(minutes));
            }
            format!("{start}-{per_min}x{minutes}")
        };
        let fs = |host: &Host, mountpoint: &str, fstype: &str, values: String| {
            s(
                &format!(
                    r#"node_filesystem_avail_bytes{{job="node",instance={},device="/dev/vdb1",fstype="{fstype}",mountpoint={}}}"#,
                    promql::string(&host.fqdn),
                    promql::string(mountpoint)
                ),
                &values,
            )
        };
        let data = &paths[0];
        let other_host = ctx.topology.hosts.iter().find(|o| o.role != role);
        let mut quiet = vec![
            fs(h, data, "xfs", falling(301, true)),
            // The same growth on a tmpfs, or on a host of another role: not this rule's.
            fs(h, data, "tmpfs", falling(10, false)),
        ];
        if let Some(o) = other_host {
            quiet.push(fs(o, data, "xfs", falling(10, false)));
        }
        disks.push(
            alert(
                name,
                expr,
                DISK_FOR,
                Warning,
                format!(
                    "{} on {inst} will be full within {DISK_HORIZON_DAYS} days at its current growth",
                    lbl("mountpoint")
                ),
                format!(
                    "At the rate {} ({}) on {inst} has filled over the last {DISK_WINDOW_TEXT}, for {DISK_FOR_TEXT} running, it is full in under {DISK_HORIZON_DAYS} days. It holds {holds} ({}{}). Why: {why}.{} Change: {fix}.",
                    lbl("mountpoint"),
                    lbl("device"),
                    template::literal(&paths.join(", ")),
                    if role == Role::Minio { "" } else { ", or the filesystem they are on" },
                    forecast(ctx, role)
                ),
                vec![
                    Case {
                        series: vec![fs(h, data, "xfs", falling(299, false))],
                        eval: "13h",
                        fires: vec![l(&[
                            ("job", "node"),
                            ("instance", &h.fqdn),
                            ("device", "/dev/vdb1"),
                            ("fstype", "xfs"),
                            ("mountpoint", data),
                        ])],
                    },
                    silent(quiet, "13h"),
                ],
            )
            .because(format!(
                "Full within {DISK_HORIZON_DAYS} days (issue 5) at the growth of the last {DISK_WINDOW_TEXT} (predict_linear), for {DISK_FOR_TEXT}. Hosts: the plan's {} hosts. Mount points: {}.",
                role.key(),
                if role == Role::Minio {
                    format!("the drives {}", paths.join(", "))
                } else {
                    format!("{} and every directory above them", paths.join(", "))
                }
            )),
        );
    }

    vec![
        Group {
            name: "budgets",
            test_step: "1m",
            about: "The plan's budgets, watched: PostgreSQL connections against the usable count, Synapse RAM per process, MinIO drives offline against parity, coturn allocations against total-quota. Thresholds come from the report.",
            alerts,
        },
        Group {
            name: "disks",
            // The cases span 13 hours (the 12 h `for`): ten-minute steps keep them fast.
            test_step: "10m",
            about: "Disks of each role full within 30 days at the growth of the last 6 hours (predict_linear).",
            alerts: disks,
        },
    ]
}

// ---------------------------------------------------------------------------------
// coturn's relay allocations, for node_exporter's textfile collector

/// The files on each coturn host that publish [`COTURN_ALLOCATIONS`]: Debian 12's
/// coturn 4.6.1 is built without Prometheus support (its `turnserver -h` lists no
/// --prometheus; the option in turnserver.conf is "Bad configuration format"), so a
/// script counts the relay ports turnserver holds and writes the figure where Debian's
/// prometheus-node-exporter reads text files ([`NODE_TEXTFILE_DIR`], its compiled-in
/// --collector.textfile.directory; /etc/default/prometheus-node-exporter sets no ARGS).
/// None without coturn hosts.
fn coturn_metric_files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Coturn) {
        out.push(coturn_metric_script(ctx, h));
        out.push(coturn_metric_service(ctx, h));
        out.push(coturn_metric_timer(ctx, h));
        out.push(coturn_drop_in(ctx, h));
    }
    out
}

fn coturn_metric_script(ctx: &Ctx, h: &Host) -> File {
    let p = &ctx.plan.coturn;
    let notes = format!(
        "
Relay allocations coturn holds on {fqdn}, for Prometheus: Debian 12's coturn has no
metrics endpoint. Run every {SCRAPE_INTERVAL_S} s by {COTURN_METRIC_UNIT}.timer (as root: ss
needs it to see turnserver's sockets), it writes
  {COTURN_ALLOCATIONS} <n>
into {NODE_TEXTFILE_DIR}/, where prometheus-node-exporter's textfile collector
reads it (job node, instance {fqdn}). Alerts CoturnAllocationsHigh and
CoturnAllocationsAtQuota compare it with the plan's limit; CoturnAllocationsUnknown
fires when the file is missing or older than {COTURN_METRIC_STALE_S} s.

One allocation holds one relay port of min-port..max-port (turnserver.conf, from the
plan's coturn.min-port {min} and coturn.max-port {max}): a UDP socket, or for a TCP
relay (RFC 6062) a listening socket plus the connections from that port. So n is the
number of distinct (protocol, port) pairs in that range that turnserver holds.",
        fqdn = h.fqdn,
        min = p.min_port,
        max = p.max_port,
    );
    let body = format!(
        r##"#!/usr/bin/env bash
{header}{notes}set -euo pipefail

min_port={min}
max_port={max}
dir={NODE_TEXTFILE_DIR}
name={COTURN_ALLOCATIONS}

# ss -H: no header; -n numeric; -t -u TCP and UDP (first column: the protocol); -a
# listening and connected; -p the owning process, users:(("turnserver",pid=…,fd=…)).
allocations=$(ss -Hntuap "sport >= :$min_port and sport <= :$max_port" \
  | awk '/users:\(\("turnserver"/ {{ n = split($5, a, ":"); print $1, a[n] }}' \
  | sort -u | wc -l)

# Write a temporary file next to the real one and rename it, so node_exporter never
# reads half a file (its textfile collector reads *.prom only).
tmp=$(mktemp "$dir/.$name.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{{
  echo "# HELP $name Relay allocations coturn holds: distinct relay ports of $min_port..$max_port with a turnserver socket."
  echo "# TYPE $name gauge"
  echo "$name $allocations"
}} > "$tmp"
chmod 0644 "$tmp"
mv "$tmp" "$dir/$name.prom"
trap - EXIT
"##,
        header = ctx.header(Comment::Hash),
        notes = Comment::Hash.lines(&notes),
        min = p.min_port,
        max = p.max_port,
    );
    File::new(
        path(h, COTURN_METRIC_SCRIPT),
        Scope::Role(Role::Coturn),
        "Counts coturn's relay allocations (relay ports turnserver holds) for node_exporter's textfile collector.",
        body,
    )
    .for_host(h)
    .script()
}

fn coturn_metric_service(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}#
# Runs {COTURN_METRIC_SCRIPT} once; {COTURN_METRIC_UNIT}.timer starts it every
# {SCRAPE_INTERVAL_S} s. Root, because ss reads which process owns a socket from /proc/<pid>/fd
# of turnserver (another user); everything but the textfile directory is read-only.
[Unit]
Description=Count coturn's relay allocations for node_exporter (synapse-planner)
Documentation=man:ss(8) man:turnserver(1)
After=coturn.service

[Service]
Type=oneshot
ExecStart={COTURN_METRIC_SCRIPT}
ProtectSystem=strict
ReadWritePaths={NODE_TEXTFILE_DIR}
ProtectHome=yes
PrivateTmp=yes
NoNewPrivileges=yes
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(
            h,
            &format!("/etc/systemd/system/{COTURN_METRIC_UNIT}.service"),
        ),
        Scope::Role(Role::Coturn),
        "systemd service running the coturn allocations script once.",
        body,
    )
    .for_host(h)
}

fn coturn_metric_timer(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}#
# Runs {COTURN_METRIC_UNIT}.service every {SCRAPE_INTERVAL_S} s, Prometheus' scrape interval.
# coturn.service pulls it in ({COTURN_DROP_IN}), so it runs from coturn's
# first start without a step of its own; enabled, it also starts at boot:
#   systemctl enable --now {COTURN_METRIC_UNIT}.timer
[Unit]
Description=Count coturn's relay allocations every {SCRAPE_INTERVAL_S} s (synapse-planner)

[Timer]
OnActiveSec=1s
OnUnitActiveSec={SCRAPE_INTERVAL_S}s
AccuracySec=1s

[Install]
WantedBy=timers.target
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(
            h,
            &format!("/etc/systemd/system/{COTURN_METRIC_UNIT}.timer"),
        ),
        Scope::Role(Role::Coturn),
        "systemd timer: the coturn allocations script every 15 s.",
        body,
    )
    .for_host(h)
}

fn coturn_drop_in(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}#
# Starting coturn starts the allocations timer too: prepare-host.sh copies this file
# before it installs coturn, whose package reloads systemd and starts coturn.service.
[Unit]
Wants={COTURN_METRIC_UNIT}.timer
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(h, COTURN_DROP_IN),
        Scope::Role(Role::Coturn),
        "Drop-in for coturn.service: starts the allocations timer with coturn.",
        body,
    )
    .for_host(h)
}

// ---------------------------------------------------------------------------------
// Backup thresholds, from backup.rs's cron schedule

const WEEK_S: u64 = 7 * 86_400;

/// A kind of backup whose age the backup rules watch, as backup.rs's cron file runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackupLevel {
    /// Any pgBackRest backup (full, diff or incr): each is a restore point.
    PgbackrestAny,
    /// A full or a differential: the daily backup (a full also counts as one).
    PgbackrestDaily,
    /// A full: weekly.
    PgbackrestFull,
    /// A media snapshot (backup-media.sh).
    Media,
    /// A logical dump (pg-dump-synapse.sh).
    PgDump,
}

impl BackupLevel {
    /// The `type` values of pgBackRest backups of this level (empty for the others).
    pub fn pgbackrest_types(self) -> &'static [&'static str] {
        match self {
            BackupLevel::PgbackrestAny => &["full", "diff", "incr"],
            BackupLevel::PgbackrestDaily => &["full", "diff"],
            BackupLevel::PgbackrestFull => &["full"],
            BackupLevel::Media | BackupLevel::PgDump => &[],
        }
    }

    /// Whether a cron command of the backup host makes a backup of this level.
    pub fn runs(self, command: &str) -> bool {
        match self {
            BackupLevel::Media => command.ends_with(MEDIA_SCRIPT),
            BackupLevel::PgDump => command.ends_with(PGDUMP_SCRIPT),
            _ => self
                .pgbackrest_types()
                .iter()
                .any(|t| command == format!("{PGBACKREST_SCRIPT} {t}")),
        }
    }

    fn margin_s(self) -> u64 {
        match self {
            BackupLevel::PgbackrestAny | BackupLevel::PgbackrestDaily => PGBACKREST_MARGIN_S,
            BackupLevel::Media => MEDIA_MARGIN_S,
            BackupLevel::PgbackrestFull | BackupLevel::PgDump => WEEKLY_MARGIN_S,
        }
    }
}

/// The longest time, in seconds, between two scheduled starts of a backup of `level`
/// over the week of backup.rs's cron schedule (wrapping from Saturday to Sunday);
/// None when the schedule never runs one.
pub fn schedule_gap_s(level: BackupLevel) -> Option<u64> {
    let mut starts: Vec<u64> = super::backup::jobs()
        .iter()
        .filter(|j| level.runs(&j.command))
        .flat_map(|j| {
            j.days.iter().flat_map(move |d| {
                j.hours.iter().map(move |h| {
                    u64::from(*d) * 86_400 + u64::from(*h) * 3_600 + u64::from(j.minute) * 60
                })
            })
        })
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let (first, last) = (*starts.first()?, *starts.last()?);
    let wrap = first + WEEK_S - last;
    Some(starts.windows(2).map(|w| w[1] - w[0]).fold(wrap, u64::max))
}

/// The age (seconds) past which a backup of `level` is late: the schedule's longest
/// gap plus the level's margin. For PgbackrestAny and PgbackrestDaily the rule adds
/// the longest last run of the level. A level the schedule lacks is held to a week
/// (the unit tests assert every level is scheduled).
pub fn backup_threshold_s(level: BackupLevel) -> u64 {
    schedule_gap_s(level).unwrap_or(WEEK_S) + level.margin_s()
}

/// `8 * 86400`, `26 * 3600` or plain seconds, for rule expressions.
fn seconds_expr(s: u64) -> String {
    if s >= 86_400 && s.is_multiple_of(86_400) {
        format!("{} * 86400", s / 86_400)
    } else if s >= 3_600 && s.is_multiple_of(3_600) {
        format!("{} * 3600", s / 3_600)
    } else {
        s.to_string()
    }
}

/// `8 days`, `26 h`, `90 min`, for annotations.
fn seconds_text(s: u64) -> String {
    if s >= 2 * 86_400 && s.is_multiple_of(86_400) {
        format!("{} days", s / 86_400)
    } else if s >= 3_600 && s.is_multiple_of(3_600) {
        format!("{} h", s / 3_600)
    } else {
        format!("{} min", s.div_ceil(60))
    }
}

/// Selector of the backup metrics of one job (as Prometheus stores them: scraped by job
/// `node`, the script's job in `exported_job`) and type matcher (`type=~"full|diff"`).
fn backup_sel(job: &str, types: &str) -> String {
    if types.is_empty() {
        format!(r#"{{job="node",{BACKUP_JOB_LABEL}="{job}"}}"#)
    } else {
        format!(r#"{{job="node",{BACKUP_JOB_LABEL}="{job}",{types}}}"#)
    }
}

/// `type="full"` or `type=~"full|diff"`.
fn type_matcher(types: &[&str]) -> String {
    match types {
        [one] => format!(r#"type="{one}""#),
        _ => format!(r#"type=~"{}""#, types.join("|")),
    }
}

/// The last run of a job and type failed: its failure is newer than its success, or it
/// has failed and never succeeded. A job's failure and success series carry the same
/// labels (one target, one job and type), so the default matching (every label but the
/// name) pairs them; `on (…)` would also strip the result down to the listed labels.
fn backup_failed_expr(sel: &str) -> String {
    format!(
        "{BACKUP_FAILURE}{sel} > {BACKUP_SUCCESS} or {BACKUP_FAILURE}{sel} unless {BACKUP_SUCCESS}"
    )
}

fn rule_file(ctx: &Ctx, h: &Host, g: &Group) -> File {
    let mut rules = Seq::new();
    for a in &g.alerts {
        if let Some(t) = &a.threshold {
            rules.comment(t);
        }
        rules.push(
            Map::new()
                .with("alert", a.name)
                .with("expr", &a.expr)
                .with("for", a.for_)
                .with("labels", Map::new().with("severity", a.severity.key()))
                .with(
                    "annotations",
                    Map::new()
                        .with("summary", &a.summary)
                        .with("description", &a.description),
                ),
        );
    }
    let root = Map::new().with(
        "groups",
        Seq::new().with(Map::new().with("name", g.name).with("rules", rules)),
    );
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "{}\nUnit tests: {RULES_DIR}/tests/{}.test.yml (promtool test rules).",
            g.about, g.name
        ))
        .start();
    File::new(
        path(h, &format!("{RULES_DIR}/{}.yml", g.name)),
        Scope::Role(Role::Monitoring),
        format!("Alert rules: {}", g.about),
        doc.render(),
    )
    .for_host(h)
}

fn rule_test_file(ctx: &Ctx, h: &Host, g: &Group) -> File {
    let mut tests = Seq::new();
    for a in &g.alerts {
        for (i, c) in a.cases.iter().enumerate() {
            let input: Seq = c
                .series
                .iter()
                .map(|(series, values)| Map::new().with("series", series).with("values", values))
                .collect();
            let expected: Seq = c
                .fires
                .iter()
                .map(|labels| {
                    let mut exp_labels = Map::new().with("severity", a.severity.key());
                    for (k, v) in labels {
                        exp_labels.insert(*k, v);
                    }
                    Map::new().with("exp_labels", exp_labels).with(
                        "exp_annotations",
                        Map::new()
                            .with("summary", render(&a.summary, labels))
                            .with("description", render(&a.description, labels)),
                    )
                })
                .collect();
            tests.push(
                Map::new()
                    .with("name", format!("{} case {}", a.name, i + 1))
                    .with("interval", "1m")
                    .with("input_series", input)
                    .with(
                        "alert_rule_test",
                        Seq::new().with(
                            Map::new()
                                .with("eval_time", c.eval)
                                .with("alertname", a.name)
                                .with("exp_alerts", expected),
                        ),
                    ),
            );
        }
    }
    let root = Map::new()
        .with(
            "rule_files",
            Seq::new().with(format!("{RULES_DIR}/{}.yml", g.name)),
        )
        .with("evaluation_interval", g.test_step)
        .with("tests", tests);
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "promtool test rules {RULES_DIR}/tests/{}.test.yml\n\
             Each alert fires on a series that should fire it and stays silent on one that should not.",
            g.name
        ))
        .start();
    File::new(
        path(h, &format!("{RULES_DIR}/tests/{}.test.yml", g.name)),
        Scope::Role(Role::Monitoring),
        format!(
            "Unit tests of the {} alert rules (promtool test rules).",
            g.name
        ),
        doc.render(),
    )
    .for_host(h)
}

// ---------------------------------------------------------------------------------
// Alertmanager

/// Alertmanager's STARTTLS requirement: on port 25 an intranet relay often offers none
/// (mail stays on the private network); on 587 (submission) STARTTLS is the norm.
pub fn smtp_require_tls(smarthost: &str) -> bool {
    !smarthost.ends_with(":25")
}

fn alertmanager_yml(ctx: &Ctx, h: &Host) -> File {
    let ops = &ctx.plan.ops;
    let require_tls = smtp_require_tls(&ops.smtp_smarthost);
    // smtp_from and to are templates (Alertmanager's configuration docs: <tmpl_string>):
    // the addresses are literal text in them.
    let from = template::literal(&format!("alertmanager@{}", ctx.topology.server_name));
    let to = template::literal(&ops.email);
    let mut global = Map::new()
        .with("smtp_smarthost", &ops.smtp_smarthost)
        .with("smtp_from", from);
    global.comment(if require_tls {
        "STARTTLS required (submission port); set false only if the relay offers none."
    } else {
        "Port 25 on the private network: intranet relays often offer no STARTTLS. Set true if yours does."
    });
    global.insert("smtp_require_tls", require_tls);
    global.insert("resolve_timeout", "5m");

    let mut route = Map::new().with("receiver", "ops-email");
    route.comment("One mail per alert name and severity, listing every instance it fires on.");
    route.insert("group_by", Seq::new().with("alertname").with("severity"));
    route.insert("group_wait", "30s");
    route.insert("group_interval", "5m");
    route.insert("repeat_interval", "4h");
    let mut routes = Seq::new();
    routes.comment("Critical: sent sooner and repeated every hour until resolved.");
    routes.push(
        Map::new()
            .with("matchers", Seq::new().with(r#"severity="critical""#))
            .with("receiver", "ops-email-critical")
            .with("group_wait", "10s")
            .with("repeat_interval", "1h"),
    );
    route.insert("routes", routes);

    let email = |headers: Option<Map>| {
        let mut m = Map::new().with("to", &to).with("send_resolved", true);
        if let Some(h) = headers {
            m.insert("headers", h);
        }
        Seq::new().with(m)
    };
    let receivers = Seq::new()
        .with(
            Map::new()
                .with("name", "ops-email")
                .with("email_configs", email(None)),
        )
        .with(Map::new().with("name", "ops-email-critical").with(
            "email_configs",
            email(Some(Map::new().with(
                "Subject",
                "[CRITICAL] {{ .CommonLabels.alertname }} ({{ .Alerts.Firing | len }} firing)",
            ))),
        ));

    let mut inhibit = Seq::new();
    inhibit.comment(
        "A critical alert silences warnings about the same instance (a host that is down\n\
         also fails its scrapes, its disk checks…).",
    );
    inhibit.push(
        Map::new()
            .with("source_matchers", Seq::new().with(r#"severity="critical""#))
            .with("target_matchers", Seq::new().with(r#"severity="warning""#))
            .with("equal", Seq::new().with("instance")),
    );

    let root = Map::new()
        .with("global", global)
        .spaced()
        .with("route", route)
        .spaced()
        .with("receivers", receivers)
        .spaced()
        .with("inhibit_rules", inhibit);
    let doc = Doc::new(root)
        .header(ctx.provenance())
        .header(format!(
            "Alertmanager (Debian 12 prometheus-alertmanager) on {}: every alert goes to\n\
             {} by e-mail through {}. Check: amtool check-config {PROM_DIR}/alertmanager.yml",
            h.fqdn, ops.email, ops.smtp_smarthost
        ))
        .start();
    File::new(
        path(h, "/etc/prometheus/alertmanager.yml"),
        Scope::Role(Role::Monitoring),
        "Alertmanager: e-mail to the operator through the plan's smarthost; critical repeats hourly and inhibits warnings on the same instance.",
        doc.render(),
    )
    .for_host(h)
}

fn alertmanager_default(ctx: &Ctx, h: &Host) -> File {
    let port = ports::ALERTMANAGER;
    let body = format!(
        r#"{header}# Arguments of Debian's prometheus-alertmanager.service ($ARGS). One Alertmanager:
# no cluster gossip (an empty --cluster.listen-address turns it off, so nothing listens
# on :9094). The external URL makes the links in mails point at this host.
{args}"#,
        header = ctx.header(Comment::Hash),
        args = args_line(&format!(
            "--cluster.listen-address= --web.listen-address=:{port} --web.external-url=http://{}:{port}/",
            arg_word(&h.fqdn)
        )),
    );
    File::new(
        path(h, "/etc/default/prometheus-alertmanager"),
        Scope::Role(Role::Monitoring),
        "Alertmanager arguments: single instance (no gossip), listen address, external URL.",
        body,
    )
    .for_host(h)
}

// ---------------------------------------------------------------------------------
// Grafana

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

fn grafana_env(ctx: &Ctx, h: &Host) -> File {
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
        path(h, "/etc/default/grafana"),
        Scope::Role(Role::Monitoring),
        "Grafana environment: admin password, root URL, no phoning home.",
        body,
    )
    .for_host(h)
    .secret()
}

fn grafana_unit(ctx: &Ctx, h: &Host) -> File {
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
EnvironmentFile=/etc/default/grafana
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

fn grafana_datasource(ctx: &Ctx, h: &Host) -> File {
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

fn grafana_dashboards(ctx: &Ctx, h: &Host) -> File {
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
        path(h, "/etc/grafana/provisioning/dashboards/synapse-planner.yml"),
        Scope::Role(Role::Monitoring),
        "Grafana dashboard provisioning: loads the JSON dashboards you put in /etc/grafana/dashboards.",
        doc.render(),
    )
    .for_host(h)
}

fn grafana_dashboards_readme(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}
# Dashboards for Grafana

Grafana loads every `*.json` file in this directory ({GRAFANA_DASHBOARDS}), in the
folder "Synapse cluster" (provisioning: /etc/grafana/provisioning/dashboards/synapse-planner.yml).
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
        path(h, &format!("{GRAFANA_DASHBOARDS}/README.md")),
        Scope::Role(Role::Monitoring),
        "Which dashboard JSON files to download into /etc/grafana/dashboards (the bundle ships none).",
        body,
    )
    .for_host(h)
}

// ---------------------------------------------------------------------------------
// Setup script

fn setup_script(ctx: &Ctx, h: &Host) -> File {
    let rule_files: Vec<String> = rule_groups(ctx)
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

promtool check config {PROM_DIR}/prometheus.yml
for group in {groups}; do
  promtool test rules "{RULES_DIR}/tests/$group.test.yml"
done
amtool check-config {PROM_DIR}/alertmanager.yml
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

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::Plan;

    use crate::bundle::with_ctx;

    fn minimal() -> Plan {
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

    /// Targets = Synapse processes + node exporters (every host) + 3 per Patroni host
    /// (postgres_exporter, Patroni, etcd) + pgbouncer_exporter + HAProxy hosts + the
    /// VIP + MinIO nodes + 2 probes per coturn host (TURN, TURN over TLS) + 2 TLS probes
    /// of the VIP (443, 8448) + LiveKit nodes + redis_exporter (with LiveKit) +
    /// Alertmanager + the blackbox exporter + Prometheus.
    fn check_targets(plan: &Plan, want: usize) {
        with_ctx(plan, |ctx| {
            let p = |r| plan.host(r).count as usize;
            let hosts: usize = Role::ALL.iter().map(|&r| p(r)).sum();
            let expected = plan.synapse_process_count() as usize
                + hosts
                + 3 * p(Role::Patroni)
                + 1
                + p(Role::Haproxy)
                + 1
                + p(Role::Minio)
                + 2 * p(Role::Coturn)
                + 2
                + p(Role::Livekit)
                + usize::from(p(Role::Livekit) > 0)
                + 3;
            let got: usize = scrape_jobs(ctx).iter().map(|j| j.targets.len()).sum();
            assert_eq!(got, expected);
            assert_eq!(got, want);
        });
    }

    #[test]
    fn target_counts() {
        // Seed: 20 processes + 16 hosts + 9 + 1 + 2 + 1 + 4 + 4 + 2 + 2 + 1 + 3 = 65.
        check_targets(&Plan::default(), 65);
        // Minimal: 1 + 6 hosts + 3 + 1 + 1 + 1 + 1 + 0 + 2 + 0 + 0 + 3 = 19.
        check_targets(&minimal(), 19);
    }

    /// Probe jobs of a plan: (job, module, probed addresses, instance labels).
    fn check_probes(plan: &Plan, want: &[(&str, &str, &[&str], &[&str])]) {
        with_ctx(plan, |ctx| {
            let jobs = scrape_jobs(ctx);
            let got: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = jobs
                .iter()
                .filter_map(|j| {
                    let m = j.probe?;
                    Some((
                        j.name,
                        m,
                        j.targets.iter().map(|t| t.address.as_str()).collect(),
                        j.targets
                            .iter()
                            .flat_map(|t| t.labels.iter())
                            .filter(|(k, _)| *k == "instance")
                            .map(|(_, v)| v.as_str())
                            .collect(),
                    ))
                })
                .collect();
            let want: Vec<(&str, &str, Vec<&str>, Vec<&str>)> = want
                .iter()
                .map(|(j, m, a, i)| (*j, *m, a.to_vec(), i.to_vec()))
                .collect();
            assert_eq!(got, want);
            let modules: Vec<&str> = probe_modules().iter().map(|m| m.name).collect();
            for j in &jobs {
                assert_eq!(
                    j.probe.is_some(),
                    PROBE_JOBS.contains(&j.name),
                    "{}",
                    j.name
                );
                assert_eq!(j.probe.is_some(), j.metrics_path == "/probe", "{}", j.name);
                if let Some(m) = j.probe {
                    assert!(modules.contains(&m), "{m}");
                }
                // Nothing scrapes coturn's 9641: Debian 12's coturn has no exporter.
                assert!(
                    j.targets.iter().all(|t| !t.address.ends_with(":9641")),
                    "{}",
                    j.name
                );
            }
            let bb = jobs.iter().find(|j| j.name == "blackbox").unwrap();
            assert_eq!(bb.targets[0].address, "127.0.0.1:9115");
        });
    }

    #[test]
    fn probes() {
        check_probes(
            &Plan::default(),
            &[
                (
                    "coturn-turn",
                    "turn_tcp",
                    &["10.0.1.109:3478", "10.0.1.110:3478"],
                    &["coturn1.internal", "coturn2.internal"],
                ),
                (
                    "coturn-turns",
                    "turns_tls",
                    &["10.0.1.109:5349", "10.0.1.110:5349"],
                    &["coturn1.internal", "coturn2.internal"],
                ),
                (
                    "vip-tls",
                    "https_tls",
                    &["10.0.1.10:443", "10.0.1.10:8448"],
                    &["vip.internal", "vip.internal"],
                ),
            ],
        );
        // No coturn: only the VIP's TLS is probed.
        check_probes(
            &minimal(),
            &[(
                "vip-tls",
                "https_tls",
                &["10.0.1.10:443", "10.0.1.10:8448"],
                &["vip.internal", "vip.internal"],
            )],
        );
    }

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

    #[test]
    fn synapse_labels_follow_the_dashboard_scheme() {
        with_ctx(&Plan::default(), |ctx| {
            let jobs = scrape_jobs(ctx);
            let syn = &jobs[0];
            let row = |i: usize| -> Vec<String> {
                let t = &syn.targets[i];
                let mut v = vec![t.address.clone()];
                v.extend(t.labels.iter().map(|(k, v)| format!("{k}={v}")));
                v
            };
            assert_eq!(
                row(0),
                [
                    "10.0.1.27:9200",
                    "instance=synapse.internal",
                    "job=master",
                    "index=0"
                ]
            );
            assert_eq!(
                row(3),
                [
                    "10.0.1.27:29212",
                    "instance=synapse.internal",
                    "job=sync_worker",
                    "index=1",
                    "worker_id=sync-worker-1"
                ]
            );
            assert_eq!(
                row(10),
                [
                    "10.0.1.27:19214",
                    "instance=synapse.internal",
                    "job=stream_writer",
                    "index=3",
                    "worker_id=stream-writer-3-to_device"
                ]
            );
            // Every metrics port once.
            let mut seen = std::collections::BTreeSet::new();
            for t in &syn.targets {
                assert!(seen.insert(t.address.clone()), "{}", t.address);
            }
        });
    }

    #[test]
    fn series_match_the_reports_prometheus_item() {
        for plan in [Plan::default(), minimal()] {
            with_ctx(&plan, |ctx| {
                let series = series_estimate(ctx);
                let item = prometheus_ram_item(ctx).unwrap();
                let grouped = crate::format::group(series);
                assert!(
                    item.contains(&format!("= {grouped} series")),
                    "{item} vs {series}"
                );
            });
        }
    }

    #[test]
    fn retention() {
        // (series, days, GB a day, size cap GiB): 240,000 series / 15 s × 86,400 × 2 B,
        // × days × 1.25.
        for (series, days, per_day_gb, size) in [
            (240_000, 30, 2.7648, 97),
            (240_000, 90, 2.7648, 290),
            (25_000, 30, 0.288, 11),
            (1, 30, 0.0, 1),
            (1, 3650, 0.0, 1),
        ] {
            assert!(
                (disk_bytes_per_day(series) / 1e9 - per_day_gb).abs() < 1e-4,
                "{series}"
            );
            assert_eq!(retention_size_gib(series, days), size, "{series} {days}");
        }
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(series_estimate(ctx), 240_000);
        });
    }

    /// --storage.tsdb.retention.time is the plan's retention.prometheus-days, and the
    /// size cap follows it.
    #[test]
    fn retention_comes_from_the_plan() {
        for (days, size) in [("30", 97), ("90", 290), ("7", 23)] {
            let plan = Plan::default()
                .with_text("retention.prometheus-days", days)
                .unwrap();
            with_ctx(&plan, |ctx| {
                let h = ctx.topology.first(Role::Monitoring).unwrap();
                let args = prometheus_default(ctx, h).contents;
                assert!(
                    args.contains(&format!(
                        "ARGS='--storage.tsdb.retention.time={days}d --storage.tsdb.retention.size={size}GB "
                    )),
                    "{args}"
                );
            });
        }
    }

    #[test]
    fn worker_types() {
        with_ctx(&Plan::default(), |ctx| {
            let w = workers::workers(ctx.plan);
            let got: Vec<(String, String)> = w.iter().map(worker_type_and_index).collect();
            assert_eq!(got[0], ("room_worker".to_string(), "0".to_string()));
            assert_eq!(got[6], ("stream_writer".to_string(), "0".to_string()));
            assert_eq!(got[14], ("federation_sender".to_string(), "0".to_string()));
            assert_eq!(got[16], ("user_dir".to_string(), "0".to_string()));
            assert_eq!(got[17], ("media_repository".to_string(), "0".to_string()));
        });
    }

    #[test]
    fn every_alert_has_annotations_and_a_firing_and_a_silent_case() {
        for plan in [Plan::default(), minimal()] {
            with_ctx(&plan, |ctx| {
                let mut names = std::collections::BTreeSet::new();
                for g in rule_groups(ctx) {
                    for a in &g.alerts {
                        assert!(names.insert(a.name), "{} twice", a.name);
                        assert!(
                            !a.summary.is_empty() && !a.description.is_empty(),
                            "{}",
                            a.name
                        );
                        assert!(
                            a.cases.iter().any(|c| !c.fires.is_empty()),
                            "{} never fires",
                            a.name
                        );
                        // Silent: a case with no alert, or a firing case with a series
                        // that is not in its alerts.
                        let silent = a.cases.iter().any(|c| c.fires.is_empty())
                            || a.cases.iter().any(|c| {
                                c.series.iter().any(|(s, _)| {
                                    !c.fires.iter().any(|f| {
                                        f.iter().all(|(k, v)| s.contains(&format!("{k}=\"{v}\"")))
                                    })
                                })
                            });
                        assert!(silent, "{} has no silent series", a.name);
                        for t in [&a.summary, &a.description] {
                            let rest = t
                                .replace("{{ $labels.", "")
                                .replace(&template::literal("{{"), "");
                            assert!(
                                !rest.contains("{{"),
                                "{}: only $labels templates: {t}",
                                a.name
                            );
                        }
                    }
                }
                assert!(names.contains("ClockSkew") && names.contains("EtcdQuorumLost"));
                // The VIP's TLS is probed in every plan, with or without calls.
                for n in [
                    "TlsProbeFailed",
                    "CertificateExpiringSoon",
                    "CertificateExpiringCritical",
                ] {
                    assert!(names.contains(n), "{n}");
                }
                // The backup host is in every plan.
                for n in [
                    "PgBackRestBackupFailed",
                    "PgBackRestCheckFailed",
                    "MediaBackupFailed",
                    "PgDumpFailed",
                    "PgBackRestBackupsLate",
                    "PgBackRestDailyBackupLate",
                    "PgBackRestFullBackupLate",
                    "MediaBackupLate",
                    "PgDumpLate",
                    "BackupMetricsMissing",
                ] {
                    assert!(names.contains(n), "{n}");
                }
                let coturn = plan.host(Role::Coturn).count > 0;
                for n in ["CoturnDown", "CoturnAllDown", "CoturnTlsDown"] {
                    assert_eq!(names.contains(n), coturn, "{n}");
                }
            });
        }
    }

    #[test]
    fn thresholds_come_from_the_plan() {
        with_ctx(&Plan::default(), |ctx| {
            let all: Vec<Alert> = rule_groups(ctx)
                .into_iter()
                .flat_map(|g| g.alerts)
                .collect();
            let expr = |n: &str| all.iter().find(|a| a.name == n).unwrap().expr.clone();
            // postgres_available 485: warning at 80% = 388, critical at 485.
            assert!(expr("PostgresSynapseConnectionsHigh").ends_with("> 388"));
            assert!(expr("PostgresSynapseConnectionsExhausted").ends_with(">= 485"));
            // 3 etcd members: quorum 2.
            assert!(expr("EtcdQuorumLost").ends_with("< 2"));
            assert_eq!(
                expr("CertificateExpiringSoon"),
                "probe_ssl_earliest_cert_expiry - time() < 21 * 86400"
            );
            assert_eq!(
                expr("CertificateExpiringCritical"),
                "probe_ssl_earliest_cert_expiry - time() < 7 * 86400"
            );
            assert_eq!(
                expr("TargetDown"),
                r#"up{job!~"coturn-turn|coturn-turns|vip-tls"} == 0"#
            );
            assert_eq!(
                expr("CoturnAllDown"),
                r#"max(probe_success{job="coturn-turn"}) == 0"#
            );
        });
    }

    /// (level, longest scheduled gap, threshold) from backup.rs's cron schedule: a
    /// pgBackRest backup every hour, a full or diff every day at 01:30, a full on
    /// Sundays, media daily, pg_dump on Saturdays.
    fn check_schedule(level: BackupLevel, gap_s: u64, threshold_s: u64) {
        assert_eq!(schedule_gap_s(level), Some(gap_s), "{level:?}");
        assert_eq!(backup_threshold_s(level), threshold_s, "{level:?}");
    }

    #[test]
    fn backup_thresholds_follow_the_cron_schedule() {
        const H: u64 = 3_600;
        const D: u64 = 86_400;
        check_schedule(BackupLevel::PgbackrestAny, H, 2 * H);
        check_schedule(BackupLevel::PgbackrestDaily, D, 25 * H);
        check_schedule(BackupLevel::PgbackrestFull, 7 * D, 8 * D);
        check_schedule(BackupLevel::Media, D, 26 * H);
        check_schedule(BackupLevel::PgDump, 7 * D, 8 * D);
        // Incrementals alone leave a 2 h hole around the daily backup (none at 01:30).
        let incr_gap = |c: &str| c == format!("{PGBACKREST_SCRIPT} incr");
        assert!(
            crate::bundle::backup::jobs()
                .iter()
                .filter(|j| incr_gap(&j.command))
                .all(|j| !j.hours.contains(&1))
        );
        // The check is no backup.
        for level in [
            BackupLevel::PgbackrestAny,
            BackupLevel::PgbackrestDaily,
            BackupLevel::PgbackrestFull,
        ] {
            assert!(
                !level.runs(&format!("{PGBACKREST_SCRIPT} check")),
                "{level:?}"
            );
        }
    }

    #[test]
    fn seconds_formats() {
        for (s, expr, text) in [
            (7_200, "2 * 3600", "2 h"),
            (93_600, "26 * 3600", "26 h"),
            (86_400, "1 * 86400", "24 h"),
            (691_200, "8 * 86400", "8 days"),
            (5_400, "5400", "90 min"),
            (61, "61", "2 min"),
        ] {
            assert_eq!(
                (seconds_expr(s).as_str(), seconds_text(s).as_str()),
                (expr, text),
                "{s}"
            );
        }
    }

    /// The backup rules read the metrics as Prometheus stores them (job `node`, the
    /// script's job in `exported_job`), with the schedule's thresholds.
    #[test]
    fn backup_rules() {
        let plan = Plan::default()
            .with_text("network.internal-domain", "lan")
            .unwrap();
        with_ctx(&plan, |ctx| {
            let b = ctx.topology.first(Role::Backup).unwrap().fqdn.clone();
            let g = rule_groups(ctx)
                .into_iter()
                .find(|g| g.name == "backup")
                .unwrap();
            let expr = |n: &str| g.alerts.iter().find(|a| a.name == n).unwrap().expr.clone();
            let s = "synapse_planner_backup_last_success_timestamp_seconds";
            let f = "synapse_planner_backup_last_failure_timestamp_seconds";
            let d = "synapse_planner_backup_last_duration_seconds";
            for (name, want) in [
                (
                    "PgBackRestBackupFailed".to_string(),
                    format!(
                        r#"{f}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}} > {s} or {f}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}} unless {s}"#
                    ),
                ),
                (
                    "MediaBackupFailed".to_string(),
                    format!(
                        r#"{f}{{job="node",exported_job="media"}} > {s} or {f}{{job="node",exported_job="media"}} unless {s}"#
                    ),
                ),
                (
                    "PgBackRestBackupsLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}}) > 2 * 3600 + max by (instance) ({d}{{job="node",exported_job="pgbackrest",type=~"full|diff|incr"}})"#
                    ),
                ),
                (
                    "PgBackRestDailyBackupLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pgbackrest",type=~"full|diff"}}) > 25 * 3600 + max by (instance) ({d}{{job="node",exported_job="pgbackrest",type=~"full|diff"}})"#
                    ),
                ),
                (
                    "PgBackRestFullBackupLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pgbackrest",type="full"}}) > 8 * 86400"#
                    ),
                ),
                (
                    "MediaBackupLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="media"}}) > 26 * 3600"#
                    ),
                ),
                (
                    "PgDumpLate".to_string(),
                    format!(
                        r#"time() - max by (instance) ({s}{{job="node",exported_job="pg_dump"}}) > 8 * 86400"#
                    ),
                ),
                (
                    "BackupMetricsMissing".to_string(),
                    ["pgbackrest", "media", "pg_dump"]
                        .map(|j| {
                            format!(
                                r#"absent({s}{{job="node",instance="{b}",exported_job="{j}",type="full"}})"#
                            )
                        })
                        .join(" or "),
                ),
            ] {
                assert_eq!(expr(&name), want, "{name}");
            }
            // Every description says what to run, on which host.
            for a in &g.alerts {
                assert!(
                    a.description.contains("sudo /usr/local/sbin/"),
                    "{}",
                    a.name
                );
                assert!(
                    a.description.contains("{{ $labels.instance }}"),
                    "{}",
                    a.name
                );
            }
            let severity = |n: &str| g.alerts.iter().find(|a| a.name == n).unwrap().severity;
            assert_eq!(severity("PgBackRestCheckFailed"), Severity::Critical);
            assert_eq!(severity("PgBackRestBackupFailed"), Severity::Warning);
        });
    }

    #[test]
    fn render_labels() {
        assert_eq!(
            render(
                "{{ $labels.instance }} / {{ $labels.job }}",
                &l(&[("instance", "a"), ("job", "b")])
            ),
            "a / b"
        );
        // A value written with template::literal prints as itself; a label's value is
        // not read as template.
        let text = format!(
            "on {} of {{{{ $labels.instance }}}}",
            template::literal("x{{ .Value }}")
        );
        assert_eq!(
            render(&text, &l(&[("instance", "{{ \"{{\" }}")])),
            "on x{{ .Value }} of {{ \"{{\" }}"
        );
    }

    /// PromQL string literals hold any value as one string.

    #[test]
    fn starttls_by_port() {
        for (host, tls) in [("mail.internal:25", false), ("smtp.example.com:587", true)] {
            assert_eq!(smtp_require_tls(host), tls, "{host}");
        }
    }

    fn plan_with(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    fn group(ctx: &Ctx, name: &str) -> Option<Group> {
        rule_groups(ctx).into_iter().find(|g| g.name == name)
    }

    fn names(g: &Option<Group>) -> Vec<&'static str> {
        g.iter()
            .flat_map(|g| g.alerts.iter().map(|a| a.name))
            .collect()
    }

    #[test]
    fn percent_rounding() {
        for (n, pct, floor, ceil) in [
            (485, 80, 388, 388),
            (1200, 80, 960, 960),
            (1200, 95, 1140, 1140),
            (16384, 80, 13107, 13108),
            (16384, 95, 15564, 15565),
            (1, 80, 0, 1),
            (1, 95, 0, 1),
            (0, 80, 0, 0),
            (u64::MAX, 95, u64::MAX / 100, u64::MAX.div_ceil(100)),
        ] {
            assert_eq!(
                (percent_floor(n, pct), percent_ceil(n, pct)),
                (floor, ceil),
                "{n} × {pct} %"
            );
        }
    }

    #[test]
    fn gib_in_bytes() {
        use crate::sizing::Gib;
        for (g, bytes) in [
            (Gib(650), 6_979_321_856),
            (Gib(100), 1_073_741_824),
            (Gib(167), 1_793_148_846),
            (Gib(0), 0),
            (Gib(u64::MAX), u64::MAX),
        ] {
            assert_eq!(gib_bytes(g), bytes, "{g:?}");
        }
    }

    #[test]
    fn turn_limits() {
        // (total-quota, max-allocations-per-node, relay ports) → limit, what it names.
        for (q, m, ports, limit, names) in [
            (1200, 0, 16384, 1200, "total-quota"),
            (1200, 5000, 16384, 1200, "total-quota"),
            (1200, 800, 16384, 800, "max-allocations-per-node"),
            (0, 800, 16384, 800, "(no total-quota)"),
            (0, 0, 101, 101, "101 relay ports"),
            (0, 0, 0, 0, "0 relay ports"),
        ] {
            let (l, what) = turn_limit(q, m, ports);
            assert_eq!(l, limit, "{q} {m} {ports}");
            assert!(what.contains(names), "{q} {m} {ports}: {what}");
        }
    }

    #[test]
    fn mount_points_cover_the_data_paths() {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        for (role, paths, want) in [
            (
                Role::Patroni,
                v(&["/var/lib/postgresql/15/main", "/var/lib/etcd"]),
                v(&[
                    "/",
                    "/var",
                    "/var/lib",
                    "/var/lib/postgresql",
                    "/var/lib/postgresql/15",
                    "/var/lib/postgresql/15/main",
                    "/var/lib/etcd",
                ]),
            ),
            (Role::Synapse, v(&["/matrix"]), v(&["/", "/matrix"])),
            (Role::Backup, v(&["/"]), v(&["/"])),
            // MinIO's drives are mount points themselves.
            (
                Role::Minio,
                v(&["/data1", "/data2"]),
                v(&["/data1", "/data2"]),
            ),
        ] {
            assert_eq!(mount_points(role, &paths), want, "{role:?}");
        }
    }

    /// The budget thresholds of the seed's cluster, from its report.
    #[test]
    fn budget_thresholds_come_from_the_report() {
        with_ctx(&Plan::default(), |ctx| {
            let b = budgets(ctx);
            // connections.postgres-available 485 (500 − 15): 80 % = 388.
            assert_eq!(
                (b.pg_usable, b.pg_warn, b.pg_max_connections),
                (485, 388, 500)
            );
            // synapse.ram-per-process-gib 6.5 = 6.5 × 2^30 bytes.
            assert_eq!(b.synapse_process_bytes, 6_979_321_856);
            // 4 nodes × 4 drives: one set of 16, EC:4.
            assert_eq!(b.erasure, Some((16, 4)));
            let t = b.turn.unwrap();
            let (limit, _) = turn_limit(
                ctx.report.calls.turn.total_quota,
                ctx.report.calls.turn.max_allocations_per_node,
                16_384,
            );
            assert_eq!(t.limit, limit);
            assert_eq!(
                (t.warn, t.crit),
                (limit * 80 / 100, (limit * 95).div_ceil(100))
            );
            let g = group(ctx, "budgets").unwrap();
            let expr = |n: &str| g.alerts.iter().find(|a| a.name == n).unwrap().expr.clone();
            assert_eq!(
                expr("PostgresSynapseConnectionsHigh"),
                r#"sum by (instance) (pg_stat_activity_count{job="postgres",datname="synapse"}) > 388"#
            );
            assert_eq!(
                expr("PostgresMaxConnectionsNotAsPlanned"),
                r#"max by (instance) (pg_settings_max_connections{job="postgres"}) != 500"#
            );
            assert_eq!(
                expr("SynapseProcessOverRamBudget"),
                r#"process_resident_memory_bytes{job=~"master|room_worker|sync_worker|client_reader|federation_reader|stream_writer|federation_sender|pusher|user_dir|media_repository|background",instance="synapse.internal"} > 6979321856"#
            );
            assert_eq!(
                expr("MinioErasureSetAtParity"),
                r#"16 - max by (pool, set) (minio_cluster_health_erasure_set_online_drives{job="minio"}) >= 4"#
            );
            assert_eq!(
                expr("CoturnAllocationsHigh"),
                format!(
                    r#"synapse_planner_coturn_relay_allocations{{job="node"}} > {}"#,
                    t.warn
                )
            );
            let disks = group(ctx, "disks").unwrap();
            let disk = |n: &str| {
                disks
                    .alerts
                    .iter()
                    .find(|a| a.name == n)
                    .unwrap()
                    .expr
                    .clone()
            };
            assert_eq!(
                disk("PostgresDiskFillsWithin30Days"),
                r#"predict_linear(node_filesystem_avail_bytes{job="node",instance=~"patroni1\\.internal|patroni2\\.internal|patroni3\\.internal",mountpoint=~"/|/var|/var/lib|/var/lib/postgresql|/var/lib/postgresql/15|/var/lib/postgresql/15/main|/var/lib/etcd",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"}[6h], 30 * 86400) < 0"#
            );
            assert_eq!(
                disk("MinioDriveFillsWithin30Days"),
                r#"predict_linear(node_filesystem_avail_bytes{job="node",instance=~"minio1\\.internal|minio2\\.internal|minio3\\.internal|minio4\\.internal",mountpoint=~"/data1|/data2|/data3|/data4",fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"}[6h], 30 * 86400) < 0"#
            );
        });
    }

    /// The thresholds follow the plan's keys.
    #[test]
    fn budget_thresholds_follow_the_plan() {
        // (plan changes, pg usable, pg warn, bytes per Synapse process)
        for (changes, usable, warn, bytes) in [
            (
                vec![("postgres.max-connections", "200")],
                185,
                148,
                6_979_321_856,
            ),
            (vec![("synapse.cache-factor", "2")], 485, 388, 2_684_354_560),
            (
                vec![
                    ("assumptions.synapse-process-base-gib", "3"),
                    ("synapse.cache-factor", "1"),
                ],
                485,
                388,
                3_758_096_384,
            ),
        ] {
            let plan = plan_with(&changes);
            with_ctx(&plan, |ctx| {
                let b = budgets(ctx);
                assert_eq!(
                    (b.pg_usable, b.pg_warn, b.synapse_process_bytes),
                    (usable, warn, bytes),
                    "{changes:?}"
                );
                assert_eq!(
                    b.pg_usable as i64,
                    ctx.report.connections.postgres_available
                );
            });
        }
    }

    /// Every budget rule says where its threshold comes from, in a comment above it in
    /// its file, and names the plan keys to change in its description.
    #[test]
    fn budget_rules_say_where_their_numbers_come_from() {
        for plan in [Plan::default(), minimal()] {
            with_ctx(&plan, |ctx| {
                let h = ctx.topology.first(Role::Monitoring).unwrap();
                for g in budget_groups(ctx) {
                    let file = rule_file(ctx, h, &g).contents;
                    for a in &g.alerts {
                        let note = a
                            .threshold
                            .as_deref()
                            .unwrap_or_else(|| panic!("{}", a.name));
                        let at = file.find(&format!("      - alert: {}\n", a.name)).unwrap();
                        let comment = format!("      # {}\n", note.lines().last().unwrap());
                        assert!(file[..at].ends_with(&comment), "{}: {comment}", a.name);
                        // The number the expression compares with is in the comment.
                        let number: String = a
                            .expr
                            .rsplit(' ')
                            .next()
                            .unwrap()
                            .chars()
                            .filter(char::is_ascii_digit)
                            .collect();
                        if a.name != "CoturnAllocationsUnknown" && !a.name.ends_with("Days") {
                            assert!(note.contains(&number), "{}: {number} in {note}", a.name);
                        }
                        assert!(
                            a.description.contains("Why: ") && a.description.contains("Change: "),
                            "{}",
                            a.name
                        );
                        // A plan key (dotted, kebab-case) to change.
                        assert!(
                            [
                                "postgres.max-connections",
                                "assumptions.synapse-process-base-gib",
                                "minio.parity",
                                "hosts.coturn.count",
                                "hosts.livekit.count",
                                "disk-gib",
                                "minio.drive-tib",
                                "systemctl enable",
                            ]
                            .iter()
                            .any(|k| a.description.contains(k)),
                            "{}: {}",
                            a.name,
                            a.description
                        );
                    }
                }
            });
        }
    }

    /// Which budget alerts a plan gets: MinIO's only with erasure coding, coturn's only
    /// with coturn hosts, a disk alert per deployed role that holds data.
    #[test]
    fn budget_alerts_per_plan() {
        let all = [
            "PostgresSynapseConnectionsHigh",
            "PostgresSynapseConnectionsExhausted",
            "PostgresMaxConnectionsNotAsPlanned",
            "SynapseProcessOverRamBudget",
            "MinioErasureSetAtParity",
            "CoturnAllocationsHigh",
            "CoturnAllocationsAtQuota",
            "CoturnAllocationsUnknown",
            "CoturnBandwidthHigh",
            "LivekitBandwidthHigh",
        ];
        let disks = [
            "SynapseDiskFillsWithin30Days",
            "PostgresDiskFillsWithin30Days",
            "MinioDriveFillsWithin30Days",
            "PrometheusDiskFillsWithin30Days",
            "BackupDiskFillsWithin30Days",
        ];
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(names(&group(ctx, "budgets")), all);
            assert_eq!(names(&group(ctx, "disks")), disks);
        });
        with_ctx(&minimal(), |ctx| {
            // One MinIO drive: no erasure coding; no coturn.
            assert_eq!(names(&group(ctx, "budgets")), all[..4]);
            assert_eq!(names(&group(ctx, "disks")), disks);
        });
        // One node with four drives: erasure coded across them.
        let single = plan_with(&[("hosts.minio.count", "1"), ("minio.drives-per-node", "4")]);
        with_ctx(&single, |ctx| {
            assert!(names(&group(ctx, "budgets")).contains(&"MinioErasureSetAtParity"));
            assert_eq!(budgets(ctx).erasure, Some((4, 2)));
        });
    }

    /// The allocations script, its service and timer, and coturn's drop-in, on every
    /// coturn host; the script counts the plan's relay range.
    #[test]
    fn coturn_metric_files_per_coturn_host() {
        let plan = plan_with(&[("coturn.min-port", "40000"), ("coturn.max-port", "40999")]);
        with_ctx(&plan, |ctx| {
            let files = coturn_metric_files(ctx);
            let paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
            let mut want = Vec::new();
            for h in ["coturn1", "coturn2"] {
                want.extend([
                    format!("hosts/{h}/usr/local/sbin/coturn-allocations-metric.sh"),
                    format!("hosts/{h}/etc/systemd/system/synapse-planner-coturn-allocations.service"),
                    format!("hosts/{h}/etc/systemd/system/synapse-planner-coturn-allocations.timer"),
                    format!("hosts/{h}/etc/systemd/system/coturn.service.d/synapse-planner-allocations.conf"),
                ]);
            }
            assert_eq!(paths, want);
            assert_eq!(files[0].mode, 0o755);
            let script = &files[0].contents;
            for line in [
                "min_port=40000\n",
                "max_port=40999\n",
                "dir=/var/lib/prometheus/node-exporter\n",
                "name=synapse_planner_coturn_relay_allocations\n",
            ] {
                assert!(script.contains(line), "{line}");
            }
            assert!(
                files[1]
                    .contents
                    .contains("ExecStart=/usr/local/sbin/coturn-allocations-metric.sh\n")
            );
            assert!(files[2].contents.contains("OnUnitActiveSec=15s\n"));
            assert!(
                files[3]
                    .contents
                    .contains("Wants=synapse-planner-coturn-allocations.timer\n")
            );
            // The rules watch exactly these hosts.
            let g = group(ctx, "budgets").unwrap();
            let unknown = g
                .alerts
                .iter()
                .find(|a| a.name == "CoturnAllocationsUnknown")
                .unwrap();
            assert_eq!(unknown.expr.matches("absent(").count(), 2);
        });
        with_ctx(&minimal(), |ctx| {
            assert!(coturn_metric_files(ctx).is_empty())
        });
    }

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
                let groups = rule_groups(ctx);
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

    #[test]
    fn no_calls_group_without_calls() {
        with_ctx(&minimal(), |ctx| {
            assert!(rule_groups(ctx).iter().all(|g| g.name != "calls"));
            // The VIP's TLS and certificate rules do not depend on calls.
            assert!(rule_groups(ctx).iter().any(|g| g.name == "tls"));
            assert!(
                scrape_jobs(ctx)
                    .iter()
                    .all(|j| j.name != "livekit" && j.name != "redis")
            );
        });
    }
}
