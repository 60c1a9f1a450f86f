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

use super::workers::{self, Worker};
use super::{Comment, Ctx, File, Host, Scope, SecretId, objectstore, ports};
use crate::plan::Role;

/// Grafana 12.4: the last 12.x minor, security fixes until May 2027. Not 13.x: it saves
/// dashboards in a v2 JSON format that file provisioning rejects (grafana/grafana#122663).
/// `grafana/grafana` carries the OSS build (`grafana/grafana-oss` stopped at 12.3).
pub const GRAFANA_IMAGE: &str = "docker.io/grafana/grafana:12.4.2";
/// Synapse's docs/metrics-howto.md scrapes every 15 s; so does everything else here.
pub const SCRAPE_INTERVAL_S: u64 = 15;
/// Prometheus's storage doc (docs/storage.md, "Operational aspects"): a sample takes
/// 1–2 bytes on disk after compression; the upper end, for safety.
pub const BYTES_PER_SAMPLE: f64 = 2.0;
/// 30 days: a month of history to compare a working day with the same day weeks ago,
/// twice Prometheus's 15-day default. The size cap below follows from it.
pub const RETENTION_DAYS: u64 = 30;
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
    out
}

fn path(h: &Host, p: &str) -> String {
    format!("hosts/{}{p}", h.name)
}

/// A YAML single-quoted scalar.
pub fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
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

/// `--storage.tsdb.retention.size`, whole GiB: the retention's estimate × headroom.
pub fn retention_size_gib(series: u64) -> u64 {
    let bytes = disk_bytes_per_day(series) * RETENTION_DAYS as f64 * SIZE_HEADROOM;
    (bytes / (1024.0 * 1024.0 * 1024.0)).ceil().max(1.0) as u64
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
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&format!(
        "# Prometheus 2.42 (Debian 12) on {fqdn}: every Synapse process and exporter of the\n\
         # cluster. Check: promtool check config {PROM_DIR}/prometheus.yml\n\
         # Targets are addresses (no DNS on the scrape path); `instance` names the host.\n\
         ---\n\
         global:\n\
         \x20 scrape_interval: {SCRAPE_INTERVAL_S}s\n\
         \x20 scrape_timeout: 10s\n\
         \x20 evaluation_interval: {SCRAPE_INTERVAL_S}s\n\
         \x20 external_labels:\n\
         \x20   cluster: {cluster}\n\
         \n\
         rule_files:\n\
         \x20 - {RULES_DIR}/*.yml\n\
         \n\
         alerting:\n\
         \x20 alertmanagers:\n\
         \x20   - static_configs:\n\
         \x20       - targets:\n\
         \x20           - 127.0.0.1:{am}\n\
         \n\
         scrape_configs:\n",
        fqdn = h.fqdn,
        cluster = q(&ctx.topology.server_name),
        am = ports::ALERTMANAGER,
    ));
    for job in scrape_jobs(ctx) {
        o.push_str(&format!(
            "  # {}\n  - job_name: {}\n    metrics_path: {}\n",
            job.why, job.name, job.metrics_path
        ));
        if job.basic_auth {
            o.push_str(&format!(
                "    basic_auth:\n      username: {HAPROXY_STATS_USER}\n      password_file: {HAPROXY_PASSWORD_FILE}\n"
            ));
        }
        if let Some(module) = job.probe {
            o.push_str(&format!("    params:\n      module:\n        - {module}\n"));
        }
        o.push_str("    static_configs:\n");
        for t in &job.targets {
            o.push_str(&format!("      - targets:\n          - {}\n", t.address));
            o.push_str("        labels:\n");
            for (k, v) in &t.labels {
                o.push_str(&format!("          {k}: {}\n", q(v)));
            }
        }
        if job.probe.is_some() {
            // The blackbox exporter's relabelling (its README, "Prometheus
            // Configuration"): the address becomes the probe's `target` parameter and
            // the scrape goes to the local exporter. `instance` stays the probed host's
            // FQDN (static label above) like every other job's, so alerts name hosts and
            // a host's HostDown inhibits its probe warnings; the probed `ip:port` is kept
            // in `target`, which also keeps the VIP's 443 and 8448 apart.
            o.push_str(&format!(
                "    relabel_configs:\n\
                 \x20     - source_labels:\n\
                 \x20         - __address__\n\
                 \x20       target_label: __param_target\n\
                 \x20     - source_labels:\n\
                 \x20         - __param_target\n\
                 \x20       target_label: target\n\
                 \x20     - target_label: __address__\n\
                 \x20       replacement: 127.0.0.1:{BLACKBOX}\n"
            ));
        }
    }
    File::new(
        path(h, "/etc/prometheus/prometheus.yml"),
        Scope::Role(Role::Monitoring),
        "Prometheus: scrape every Synapse process (dashboard labels) and every exporter, rules, the local Alertmanager.",
        o,
    )
    .for_host(h)
}

fn haproxy_password(ctx: &Ctx, h: &Host) -> File {
    // Prometheus reads the whole file as the password: no header, no newline.
    File::new(
        path(h, HAPROXY_PASSWORD_FILE),
        Scope::Role(Role::Monitoring),
        "Password of HAProxy's stats user, for scraping /metrics (setup-monitoring.sh makes it readable by prometheus).",
        ctx.secret(SecretId::HaproxyStatsPassword).to_string(),
    )
    .for_host(h)
    .secret()
}

fn prometheus_default(ctx: &Ctx, h: &Host) -> File {
    let series = series_estimate(ctx);
    let per_day = disk_bytes_per_day(series) / 1e9;
    let size = retention_size_gib(series);
    let ram = prometheus_ram_item(ctx).unwrap_or_default();
    let body = format!(
        r#"{header}# Arguments of Debian's prometheus.service (ExecStart=/usr/bin/prometheus $ARGS).
# Config /etc/prometheus/prometheus.yml and data /var/lib/prometheus/metrics2 are
# Debian's defaults.
#
# Retention, from the plan's series estimate (the report's Prometheus RAM item:
# {ram}):
#   {series} series / {interval} s scrape interval = {rate} samples/s
#   × 86,400 s × {bps} bytes per sample (Prometheus docs/storage.md: 1–2 after compression)
#   ≈ {per_day:.2} GB a day, {month:.0} GB for {days} days.
# Time-based retention is {days} days; the size cap ({size} GiB = that estimate × {headroom})
# only bites if the series estimate was low, and keeps Prometheus from filling the disk.
# /var/lib/prometheus needs {size} GiB free plus ~10% for the WAL and compaction.
ARGS="--storage.tsdb.retention.time={days}d --storage.tsdb.retention.size={size}GB --web.listen-address=:{port}"
"#,
        header = ctx.header(Comment::Hash),
        interval = SCRAPE_INTERVAL_S,
        rate = series / SCRAPE_INTERVAL_S,
        bps = BYTES_PER_SAMPLE,
        month = per_day * RETENTION_DAYS as f64,
        days = RETENTION_DAYS,
        headroom = SIZE_HEADROOM,
        port = ports::PROMETHEUS,
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
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&format!(
        r#"# Blackbox exporter 0.23 (Debian 12 prometheus-blackbox-exporter) on {fqdn}, asked
# by the local Prometheus only: it listens on 127.0.0.1:{BLACKBOX}
# (/etc/default/prometheus-blackbox-exporter). It probes what exports no metrics itself:
# coturn (Debian 12's coturn 4.6.1 is built without Prometheus support) and the TLS
# certificates (expiry).
# Check: prometheus-blackbox-exporter --config.check --config.file={BLACKBOX_CONFIG}
#
# Only TCP probes of the ip:port Prometheus passes as target (prometheus.yml lists
# cluster addresses only): no HTTP prober (it follows redirects), no DNS, no ICMP.
# IPv4 only: every target is an IPv4 address of the cluster.
# Certificates are not verified (insecure_skip_verify): once the cluster is offline it
# uses the internal CA of scripts/certs/internal-ca.sh, which this host need not trust,
# and a verifying probe would then fail for good. The expiry is read from the chain the
# server presents either way (probe_ssl_earliest_cert_expiry), and an expired
# certificate still shows, with negative time left (alert CertificateExpiringCritical).
---
modules:
"#,
        fqdn = h.fqdn,
    ));
    for m in probe_modules() {
        o.push_str(&format!(
            "  # {}
  {}:
    prober: tcp
    timeout: {PROBE_TIMEOUT_S}s
    tcp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
",
            m.why, m.name
        ));
        if m.tls {
            o.push_str(&format!(
                "      tls: true
      tls_config:
        server_name: {}
        insecure_skip_verify: true
",
                q(&ctx.topology.server_name)
            ));
        }
    }
    File::new(
        path(h, BLACKBOX_CONFIG),
        Scope::Role(Role::Monitoring),
        "Blackbox exporter modules: TCP connect to coturn, TLS handshakes with coturn and HAProxy (certificate expiry); nothing else.",
        o,
    )
    .for_host(h)
}

fn blackbox_default(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}# Arguments of Debian's prometheus-blackbox-exporter.service
# (ExecStart=/usr/bin/prometheus-blackbox-exporter $ARGS). Loopback only: the local
# Prometheus is its one client, and whoever reaches the exporter can make it connect to
# any address with these modules.
ARGS="--config.file={BLACKBOX_CONFIG} --web.listen-address=127.0.0.1:{BLACKBOX}"
"#,
        header = ctx.header(Comment::Hash),
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
    /// Templates may use `{{ $labels.<name> }}` only, so the tests can render them.
    pub summary: String,
    pub description: String,
    pub cases: Vec<Case>,
}

#[derive(Clone, Debug)]
pub struct Group {
    /// File stem: rules/<name>.yml and rules/tests/<name>.test.yml.
    pub name: &'static str,
    pub about: &'static str,
    pub alerts: Vec<Alert>,
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
    }
}

/// Renders the only template syntax the rules use, `{{ $labels.x }}`.
pub fn render(template: &str, labels: &[(&'static str, String)]) -> String {
    let mut out = template.to_string();
    for (k, v) in labels {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    out
}

/// Every rule group of the plan, in file order.
pub fn rule_groups(ctx: &Ctx) -> Vec<Group> {
    use Severity::{Critical, Warning};
    let mut groups = Vec::new();

    // --- hosts and scraping ---------------------------------------------------------
    groups.push(Group {
        name: "hosts",
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
                r#"node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"} / node_filesystem_size_bytes < 0.15 and node_filesystem_readonly == 0"#,
                "10m",
                Warning,
                "{{ $labels.mountpoint }} on {{ $labels.instance }} has less than 15% free",
                "Filesystem {{ $labels.mountpoint }} ({{ $labels.device }}) on {{ $labels.instance }} is more than 85% full.",
                vec![disk_case("0.10", "0.50")],
            ),
            alert(
                "DiskSpaceCritical",
                r#"node_filesystem_avail_bytes{fstype!~"tmpfs|ramfs|squashfs|overlay|nsfs|fuse.*"} / node_filesystem_size_bytes < 0.05 and node_filesystem_readonly == 0"#,
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
    let c = &ctx.report.connections;
    let available = c.postgres_available.max(1);
    let warn_conns = (available as f64 * 0.9).floor() as i64;
    let patroni = ctx.plan.host(Role::Patroni).count.max(1);
    let quorum = patroni / 2 + 1;
    groups.push(Group {
        name: "database",
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
                "PostgresSynapseConnectionsHigh",
                format!(r#"sum by (instance) (pg_stat_activity_count{{datname="synapse"}}) > {warn_conns}"#),
                "10m",
                Warning,
                format!("{{{{ $labels.instance }}}} has more than {warn_conns} connections to the synapse database"),
                format!(
                    "Connections to the synapse database on {{{{ $labels.instance }}}} exceed 90% of the {available} the plan leaves for PgBouncer (max_connections {} − {} reserved). PgBouncer's pools (default_pool_size + reserve_pool_size) should stay well below.",
                    c.postgres_max_connections, c.postgres_reserved_total
                ),
                vec![conn_case(warn_conns + 5, "synapse")],
            ),
            alert(
                "PostgresSynapseConnectionsExhausted",
                format!(r#"sum by (instance) (pg_stat_activity_count{{datname="synapse"}}) >= {available}"#),
                "5m",
                Critical,
                format!("{{{{ $labels.instance }}}} has used up the {available} connections the plan leaves for Synapse"),
                "Connections to the synapse database have taken the reserve for superuser, Patroni, postgres_exporter, pgBackRest and admin sessions: the next of those may be refused. Lower PgBouncer's pool sizes or raise max_connections.".to_string(),
                vec![conn_case(available + 2, "synapse")],
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
                server = ctx.topology.server_name
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
        ctx.topology.server_name
    );
    groups.push(Group {
        name: "tls",
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
                    server = ctx.topology.server_name
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
    let series = |metric: &str, job: &str, ty: &str, values: String| {
        s(
            &format!(
                r#"{metric}{{job="node",instance="{fqdn}",{BACKUP_JOB_LABEL}="{job}",type="{ty}"}}"#
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

    Group {
        name: "backup",
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
                vec![
                    Case {
                        series: vec![
                            series(failure, "pgbackrest", "check", at(7_000)),
                            series(success, "pgbackrest", "check", at(3_600)),
                            // A failed backup is PgBackRestBackupFailed's.
                            series(failure, "pgbackrest", "incr", at(7_000)),
                            series(success, "pgbackrest", "incr", at(3_600)),
                        ],
                        eval: "5m",
                        fires: vec![labels("pgbackrest", "check")],
                    },
                    silent(
                        vec![
                            series(failure, "pgbackrest", "check", at(3_600)),
                            series(success, "pgbackrest", "check", at(7_000)),
                        ],
                        "5m",
                    ),
                ],
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
                vec![
                    Case {
                        series: vec![
                            series(failure, "media", "full", at(90_000)),
                            series(success, "media", "full", at(3_600)),
                            // Another job's failure.
                            series(failure, "pg_dump", "full", at(90_000)),
                            series(success, "pg_dump", "full", at(3_600)),
                        ],
                        eval: "5m",
                        fires: vec![labels("media", "full")],
                    },
                    silent(
                        vec![
                            series(failure, "media", "full", at(3_600)),
                            series(success, "media", "full", at(90_000)),
                        ],
                        "5m",
                    ),
                ],
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
                vec![
                    Case {
                        series: vec![
                            series(failure, "pg_dump", "full", at(90_000)),
                            series(success, "pg_dump", "full", at(3_600)),
                            series(failure, "media", "full", at(90_000)),
                            series(success, "media", "full", at(3_600)),
                        ],
                        eval: "5m",
                        fires: vec![labels("pg_dump", "full")],
                    },
                    silent(
                        vec![
                            series(failure, "pg_dump", "full", at(3_600)),
                            series(success, "pg_dump", "full", at(90_000)),
                        ],
                        "5m",
                    ),
                ],
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
                            r#"absent({BACKUP_SUCCESS}{{job="node",instance="{fqdn}",{BACKUP_JOB_LABEL}="{job}",type="full"}})"#
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
                        series: vec![s(&format!(r#"up{{job="node",instance="{fqdn}"}}"#), "1x70")],
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

fn conn_case(bad: i64, db: &str) -> Case {
    let c = |inst: &str, n: i64| {
        s(
            &format!(
                r#"pg_stat_activity_count{{job="postgres",instance="{inst}",datname="{db}",state="active"}}"#
            ),
            &format!("{n}x15"),
        )
    };
    Case {
        series: vec![c("patroni1.internal", bad), c("patroni2.internal", 1)],
        eval: "15m",
        fires: vec![l(&[("instance", "patroni1.internal")])],
    }
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
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&format!(
        "# {}\n# Unit tests: {RULES_DIR}/tests/{}.test.yml (promtool test rules).\n---\ngroups:\n  - name: {}\n    rules:\n",
        g.about, g.name, g.name
    ));
    for a in &g.alerts {
        o.push_str(&format!(
            "      - alert: {}\n        expr: {}\n        for: {}\n        labels:\n          severity: {}\n        annotations:\n          summary: {}\n          description: {}\n",
            a.name,
            q(&a.expr),
            a.for_,
            a.severity.key(),
            q(&a.summary),
            q(&a.description)
        ));
    }
    File::new(
        path(h, &format!("{RULES_DIR}/{}.yml", g.name)),
        Scope::Role(Role::Monitoring),
        format!("Alert rules: {}", g.about),
        o,
    )
    .for_host(h)
}

fn rule_test_file(ctx: &Ctx, h: &Host, g: &Group) -> File {
    let mut o = ctx.header(Comment::Hash);
    o.push_str(&format!(
        "# promtool test rules {RULES_DIR}/tests/{name}.test.yml\n# Each alert fires on a series that should fire it and stays silent on one that should not.\n---\nrule_files:\n  - {RULES_DIR}/{name}.yml\nevaluation_interval: 1m\ntests:\n",
        name = g.name
    ));
    for a in &g.alerts {
        for (i, c) in a.cases.iter().enumerate() {
            o.push_str(&format!(
                "  - name: {}\n    interval: 1m\n    input_series:\n",
                q(&format!("{} case {}", a.name, i + 1))
            ));
            for (series, values) in &c.series {
                o.push_str(&format!(
                    "      - series: {}\n        values: {}\n",
                    q(series),
                    q(values)
                ));
            }
            o.push_str(&format!(
                "    alert_rule_test:\n      - eval_time: {}\n        alertname: {}\n",
                c.eval, a.name
            ));
            if c.fires.is_empty() {
                o.push_str("        exp_alerts: []\n");
                continue;
            }
            o.push_str("        exp_alerts:\n");
            for labels in &c.fires {
                o.push_str("          - exp_labels:\n");
                o.push_str(&format!("              severity: {}\n", a.severity.key()));
                for (k, v) in labels {
                    o.push_str(&format!("              {k}: {}\n", q(v)));
                }
                o.push_str(&format!(
                    "            exp_annotations:\n              summary: {}\n              description: {}\n",
                    q(&render(&a.summary, labels)),
                    q(&render(&a.description, labels))
                ));
            }
        }
    }
    File::new(
        path(h, &format!("{RULES_DIR}/tests/{}.test.yml", g.name)),
        Scope::Role(Role::Monitoring),
        format!(
            "Unit tests of the {} alert rules (promtool test rules).",
            g.name
        ),
        o,
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
    let from = format!("alertmanager@{}", ctx.topology.server_name);
    let body = format!(
        r#"{header}# Alertmanager (Debian 12 prometheus-alertmanager) on {fqdn}: every alert goes to
# {email} by e-mail through {smarthost}. Check: amtool check-config {PROM_DIR}/alertmanager.yml
---
global:
  smtp_smarthost: {smarthost_q}
  smtp_from: {from_q}
  # {tls_why}
  smtp_require_tls: {tls}
  resolve_timeout: 5m

route:
  receiver: ops-email
  # One mail per alert name and severity, listing every instance it fires on.
  group_by:
    - alertname
    - severity
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
    # Critical: sent sooner and repeated every hour until resolved.
    - matchers:
        - severity="critical"
      receiver: ops-email-critical
      group_wait: 10s
      repeat_interval: 1h

receivers:
  - name: ops-email
    email_configs:
      - to: {email_q}
        send_resolved: true
  - name: ops-email-critical
    email_configs:
      - to: {email_q}
        send_resolved: true
        headers:
          Subject: '[CRITICAL] {{{{ .CommonLabels.alertname }}}} ({{{{ .Alerts.Firing | len }}}} firing)'

inhibit_rules:
  # A critical alert silences warnings about the same instance (a host that is down
  # also fails its scrapes, its disk checks…).
  - source_matchers:
      - severity="critical"
    target_matchers:
      - severity="warning"
    equal:
      - instance
"#,
        header = ctx.header(Comment::Hash),
        fqdn = h.fqdn,
        email = ops.email,
        smarthost = ops.smtp_smarthost,
        smarthost_q = q(&ops.smtp_smarthost),
        from_q = q(&from),
        email_q = q(&ops.email),
        tls = smtp_require_tls(&ops.smtp_smarthost),
        tls_why = if smtp_require_tls(&ops.smtp_smarthost) {
            "STARTTLS required (submission port); set false only if the relay offers none."
        } else {
            "Port 25 on the private network: intranet relays often offer no STARTTLS. Set true if yours does."
        },
    );
    File::new(
        path(h, "/etc/prometheus/alertmanager.yml"),
        Scope::Role(Role::Monitoring),
        "Alertmanager: e-mail to the operator through the plan's smarthost; critical repeats hourly and inhibits warnings on the same instance.",
        body,
    )
    .for_host(h)
}

fn alertmanager_default(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}# Arguments of Debian's prometheus-alertmanager.service ($ARGS). One Alertmanager:
# no cluster gossip (an empty --cluster.listen-address turns it off, so nothing listens
# on :9094). The external URL makes the links in mails point at this host.
ARGS="--cluster.listen-address= --web.listen-address=:{port} --web.external-url=http://{fqdn}:{port}/"
"#,
        header = ctx.header(Comment::Hash),
        port = ports::ALERTMANAGER,
        fqdn = h.fqdn,
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
GF_SERVER_ROOT_URL=http://{fqdn}:{port}/
# The cluster goes offline after set-up: no phoning home, no update checks, no news.
GF_ANALYTICS_REPORTING_ENABLED=false
GF_ANALYTICS_CHECK_FOR_UPDATES=false
GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES=false
GF_NEWS_NEWS_FEED_ENABLED=false
GF_USERS_ALLOW_SIGN_UP=false
GF_AUTH_ANONYMOUS_ENABLED=false
"#,
        header = ctx.header(Comment::Hash),
        password = ctx.secret(SecretId::GrafanaAdminPassword),
        fqdn = h.fqdn,
        port = ports::GRAFANA,
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
        r#"{header}#
# Grafana on {fqdn}:{port} from the pinned image with Docker (host networking).
# Data in /var/lib/grafana (owned by the image's user 472), provisioning from
# /etc/grafana/provisioning, dashboards from {GRAFANA_DASHBOARDS}.
# Install: {SETUP_SCRIPT} (creates the data directory, enables this unit).
[Unit]
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
        fqdn = h.fqdn,
        port = ports::GRAFANA,
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
    let body = format!(
        r#"{header}# Grafana provisioning: the local Prometheus as the default datasource. The uid is
# fixed so dashboards can refer to it.
---
apiVersion: 1
datasources:
  - name: Prometheus
    uid: prometheus
    type: prometheus
    access: proxy
    url: http://127.0.0.1:{port}
    isDefault: true
    editable: false
    jsonData:
      timeInterval: {SCRAPE_INTERVAL_S}s
"#,
        header = ctx.header(Comment::Hash),
        port = ports::PROMETHEUS,
    );
    File::new(
        path(h, "/etc/grafana/provisioning/datasources/prometheus.yml"),
        Scope::Role(Role::Monitoring),
        "Grafana datasource provisioning: the local Prometheus.",
        body,
    )
    .for_host(h)
}

fn grafana_dashboards(ctx: &Ctx, h: &Host) -> File {
    let body = format!(
        r#"{header}# Grafana provisioning: every dashboard JSON in {GRAFANA_DASHBOARDS} (see the README.md
# there for which to put in), in folder "Synapse cluster", reloaded every minute.
---
apiVersion: 1
providers:
  - name: synapse-planner
    folder: Synapse cluster
    type: file
    disableDeletion: false
    allowUiUpdates: true
    updateIntervalSeconds: 60
    options:
      path: {GRAFANA_DASHBOARDS}
      foldersFromFilesStructure: false
"#,
        header = ctx.header(Comment::Hash),
    );
    File::new(
        path(h, "/etc/grafana/provisioning/dashboards/synapse-planner.yml"),
        Scope::Role(Role::Monitoring),
        "Grafana dashboard provisioning: loads the JSON dashboards you put in /etc/grafana/dashboards.",
        body,
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
{header}#
# Run once on {fqdn} as root, after hosts/all/prepare-host.sh {name} (which installed
# prometheus, prometheus-alertmanager, prometheus-blackbox-exporter and docker.io with
# this bundle's files):
#   sudo {SETUP_SCRIPT}
# Checks every config with the packages' own tools, makes the secret files readable by
# the services, then (re)starts Prometheus, Alertmanager, the blackbox exporter and
# Grafana. Safe to run again.
set -euo pipefail

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

echo "monitoring up: Prometheus http://{fqdn}:{prom}/ Alertmanager http://{fqdn}:{am}/ Grafana http://{fqdn}:{graf}/ (user admin)"
"#,
        header = ctx.header(Comment::Hash),
        fqdn = h.fqdn,
        name = h.name,
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
        let mut p = Plan::default();
        for (k, v) in [
            ("hosts.patroni.count", "1"),
            ("hosts.minio.count", "1"),
            ("minio.drives-per-node", "1"),
            ("hosts.haproxy.count", "1"),
            ("hosts.coturn.count", "0"),
            ("hosts.livekit.count", "0"),
        ] {
            p = p.with_text(k, v).unwrap();
        }
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
                    "ARGS=\"--config.file=/etc/prometheus/blackbox.yml --web.listen-address=127.0.0.1:9115\""
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
                let grouped = crate::report::group(series);
                assert!(
                    item.contains(&format!("= {grouped} series")),
                    "{item} vs {series}"
                );
            });
        }
    }

    #[test]
    fn retention() {
        // (series, GB a day, size cap GiB): 240,000 series / 15 s × 86,400 × 2 B.
        for (series, per_day_gb, size) in [(240_000, 2.7648, 97), (25_000, 0.288, 11), (1, 0.0, 1)]
        {
            assert!(
                (disk_bytes_per_day(series) / 1e9 - per_day_gb).abs() < 1e-4,
                "{series}"
            );
            assert_eq!(retention_size_gib(series), size, "{series}");
        }
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(series_estimate(ctx), 240_000);
        });
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
                            let rest = t.replace("{{ $labels.", "");
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
            // postgres_available 485: warning at 90% = 436, critical at 485.
            assert!(expr("PostgresSynapseConnectionsHigh").ends_with("> 436"));
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
    }

    #[test]
    fn starttls_by_port() {
        for (host, tls) in [("mail.internal:25", false), ("smtp.example.com:587", true)] {
            assert_eq!(smtp_require_tls(host), tls, "{host}");
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
