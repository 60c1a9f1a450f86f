//! The Prometheus server on the monitoring host: prometheus.yml (the scrape jobs of
//! scrape.rs, the rule files, the local Alertmanager), the HAProxy stats password it
//! scrapes with, and its arguments with the retention derived from the plan.

use super::alerts::RULES_DIR;
use super::blackbox::BLACKBOX;
use super::scrape::scrape_jobs;
use super::{args_line, path};
use crate::bundle::{Comment, Ctx, File, Scope, SecretId};
use crate::deploy::facts::{HAPROXY_STATS_USER, SCRAPE_INTERVAL_S};
use crate::deploy::{Host, ports};
use crate::plan::Role;
use crate::sizing::storage;
use crate::syntax::yaml::{Doc, Map, Seq};

/// Prometheus's configuration (Debian's default path), which the setup script checks.
pub const PROMETHEUS_YML: &str = "/etc/prometheus/prometheus.yml";
/// The password file of HAProxy's stats user, which the setup script makes readable.
pub const HAPROXY_PASSWORD_FILE: &str = "/etc/prometheus/haproxy-stats.password";
/// Headroom of the size cap over the estimate (the series counts are assumptions).
pub const SIZE_HEADROOM: f64 = 1.25;

/// Active series of the plan: the same estimate the report's Prometheus RAM item uses.
pub fn series_estimate(ctx: &Ctx) -> u64 {
    crate::sizing::ram::prometheus_series(ctx.plan)
}

/// Bytes a day on disk: the report's own figure (its storage view's TSDB growth), with
/// the plan's `assumptions.prometheus-bytes-per-sample`.
pub fn disk_bytes_per_day(ctx: &Ctx) -> f64 {
    storage::prometheus_bytes_per_day(ctx.plan)
}

/// `--storage.tsdb.retention.time` in days: the plan's `retention.prometheus-days`
/// (default 30: a month of history to compare a working day with the same day weeks
/// ago, twice Prometheus's 15-day default).
pub fn retention_days(ctx: &Ctx) -> u64 {
    ctx.plan.retention.prometheus_days
}

/// `--storage.tsdb.retention.size`, whole GiB: `bytes_per_day` for `days` of retention
/// × headroom.
pub fn retention_size_gib(bytes_per_day: f64, days: u64) -> u64 {
    let bytes = bytes_per_day * days as f64 * SIZE_HEADROOM;
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
        .find(|b| b.role == Role::Monitoring)
        .and_then(|b| b.items.iter().find(|i| i.name == "Prometheus"))
        .map(|i| format!("{} GiB ({})", i.gib, i.formula))
}

pub fn prometheus_yml(ctx: &Ctx, h: &Host) -> File {
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
             cluster. Check: promtool check config {PROMETHEUS_YML}\n\
             Targets are addresses (no DNS on the scrape path); `instance` names the host.",
            h.fqdn
        ))
        .start();
    File::new(
        path(h, PROMETHEUS_YML),
        Scope::Role(Role::Monitoring),
        "Prometheus: scrape every Synapse process (dashboard labels) and every exporter, rules, the local Alertmanager.",
        doc.render(),
    )
    .for_host(h)
}

pub fn haproxy_password(ctx: &Ctx, h: &Host) -> File {
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

pub fn prometheus_default(ctx: &Ctx, h: &Host) -> File {
    let series = series_estimate(ctx);
    let bytes_per_day = disk_bytes_per_day(ctx);
    let per_day = bytes_per_day / 1e9;
    let days = retention_days(ctx);
    let size = retention_size_gib(bytes_per_day, days);
    let ram = prometheus_ram_item(ctx).unwrap_or_default();
    let notes = format!(
        r#"Arguments of Debian's prometheus.service (ExecStart=/usr/bin/prometheus $ARGS).
Config {PROMETHEUS_YML} and data /var/lib/prometheus/metrics2 are
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
        bps = storage::prometheus_bytes_per_sample(ctx.plan),
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

#[cfg(test)]
mod tests {
    use super::super::plans::minimal;
    use super::*;
    use crate::bundle::with_ctx;
    use crate::plan::Plan;

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
        let bytes_per_day = |series: u64| series as f64 / 15.0 * 86_400.0 * 2.0;
        for (series, days, per_day_gb, size) in [
            (240_000, 30, 2.7648, 97),
            (240_000, 90, 2.7648, 290),
            (25_000, 30, 0.288, 11),
            (1, 30, 0.0, 1),
            (1, 3650, 0.0, 1),
        ] {
            assert!(
                (bytes_per_day(series) / 1e9 - per_day_gb).abs() < 1e-4,
                "{series}"
            );
            assert_eq!(
                retention_size_gib(bytes_per_day(series), days),
                size,
                "{series} {days}"
            );
        }
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(series_estimate(ctx), 240_000);
            assert_eq!(disk_bytes_per_day(ctx), bytes_per_day(240_000));
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

    /// The size cap reads the same bytes per sample as the report's storage view: an
    /// override of assumptions.prometheus-bytes-per-sample moves both, and the cap is
    /// what the report's rates.prometheus-gib-per-day implies (× days × headroom).
    #[test]
    fn retention_size_follows_the_bytes_per_sample_assumption() {
        for (bps, size) in [("2", 97), ("1", 49), ("1.5", 73), ("4", 194)] {
            let plan = Plan::default()
                .with_text("assumptions.prometheus-bytes-per-sample", bps)
                .unwrap();
            with_ctx(&plan, |ctx| {
                let h = ctx.topology.first(Role::Monitoring).unwrap();
                let args = prometheus_default(ctx, h).contents;
                assert!(
                    args.contains(&format!("--storage.tsdb.retention.size={size}GB ")),
                    "{bps}: {args}"
                );
                assert!(args.contains(&format!("× 86,400 s × {bps} bytes per sample")));
                let report = ctx.report.storage.rates.prometheus_gib_per_day;
                let days = ctx.plan.retention.prometheus_days as f64;
                let implied = (report * days * SIZE_HEADROOM).ceil() as u64;
                assert_eq!(implied, size, "{bps}: {report} GiB a day");
            });
        }
    }
}
