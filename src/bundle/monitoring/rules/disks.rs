//! Group `disks`: the disks of each role full within 30 days at the growth of the last
//! 6 hours (predict_linear), with the plan's own forecast in the description.

use super::budgets::GIB;
use crate::bundle::monitoring::alerts::{
    self, Alert, Case, Group, Severity, alert, l, lbl, s, silent,
};
use crate::bundle::{Ctx, File, objectstore};
use crate::deploy::Host;
use crate::deploy::facts::{MEDIA_SNAPSHOTS, PGBACKREST_REPO, PGDUMP_DIR};
use crate::plan::Role;
use crate::syntax::{promql, template};

/// The rule file this module makes, and its unit tests.
const RULES: &str = "/etc/prometheus/rules/disks.yml";
const TESTS: &str = "/etc/prometheus/rules/tests/disks.test.yml";

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

const TIB: f64 = (1u64 << 40) as f64;

/// The rule file and its unit tests.
pub fn files(ctx: &Ctx, h: &Host) -> Vec<File> {
    alerts::files(ctx, h, &group(ctx))
}

/// The group's alerts: one per deployed role that holds data.
pub fn group(ctx: &Ctx) -> Group {
    Group {
        name: "disks",
        rules: RULES,
        tests: TESTS,
        // The cases span 13 hours (the 12 h `for`): ten-minute steps keep them fast.
        test_step: "10m",
        about: "Disks of each role full within 30 days at the growth of the last 6 hours (predict_linear).",
        alerts: Role::ALL
            .into_iter()
            .filter_map(|role| disk_alert(ctx, role))
            .collect(),
    }
}

/// The directories whose filesystems a role's disk alert watches, and what they hold.
pub fn data_paths(ctx: &Ctx, role: Role) -> Vec<String> {
    match role {
        Role::Synapse => vec![MATRIX_BASE.into(), DOCKER_ROOT.into()],
        Role::Patroni => vec![crate::bundle::postgres::data_dir(ctx), ETCD_DATA.into()],
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
                crate::bundle::postgres::data_dir(ctx),
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

/// The disk alert of a role that holds data, on its hosts; None for the others.
fn disk_alert(ctx: &Ctx, role: Role) -> Option<Alert> {
    use Severity::Warning;
    let inst = lbl("instance");
    let hosts: Vec<&Host> = ctx.hosts(role).collect();
    let (Some((name, holds, why, fix)), Some(h)) = (disk_texts(ctx, role), hosts.first()) else {
        return None;
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
    Some(
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
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
