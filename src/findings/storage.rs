//! Findings on storage growth: disks that fill within the planned span, retention that
//! cannot fit, and media retention that does not free MinIO.

use super::{Out, n};
use crate::Severity;
use crate::assumptions as a;
use crate::plan::{Federation, Plan};
use crate::sizing::storage::{Disk, DiskId, Storage, num};

/// A disk that fills within this many months is an error: less time than it takes to
/// order, install and migrate to bigger disks.
const SOON_MONTHS: u64 = 3;

pub(crate) fn check(plan: &Plan, storage: &Storage, out: &mut Out) {
    for id in DiskId::ALL {
        if let Some(d) = storage.disks.get(id.index()) {
            fills(plan, storage, id, d, out);
        }
    }
    backup_retention(plan, storage, out);
    media_retention(plan, storage, out);
}

/// What running out does on each disk.
fn consequence(id: DiskId) -> &'static str {
    match id {
        DiskId::Patroni => {
            "A PostgreSQL that cannot write WAL stops (PANIC) and Synapse with it; every node holds the whole database, so a full primary means full standbys."
        }
        DiskId::Minio => {
            "MinIO refuses writes to full drives: uploads fail, and Synapse never deletes media from MinIO by itself (element-hq/synapse#16989)."
        }
        DiskId::Backup => {
            "pgBackRest and the media snapshots fail, and WAL that cannot be archived piles up on the Patroni nodes until they fill too."
        }
        DiskId::Monitoring => {
            "Prometheus stops ingesting samples: alerts go blind exactly when something is wrong."
        }
        DiskId::Synapse => {
            "Uploads fail (media are written locally first) and containers cannot write their logs."
        }
    }
}

/// The largest item on a disk at the end of the span, for the message.
fn largest(d: &Disk) -> String {
    d.items
        .iter()
        .rev()
        .max_by(|x, y| x.end_gib.total_cmp(&y.end_gib))
        .filter(|i| i.end_gib > 0.0)
        .map(|i| format!("; the largest part is {} at {} GiB", i.name, num(i.end_gib)))
        .unwrap_or_default()
}

fn fix(plan: &Plan, storage: &Storage, id: DiskId, d: &Disk) -> String {
    let need = num(d.needed_gib);
    let months = storage.months;
    match id {
        DiskId::Patroni => format!(
            "Raise hosts.patroni.disk-gib to at least {need} GiB on every node (that keeps it below {} % through month {months}), or keep less history: Synapse's purge history admin API, message retention, synapse_auto_compressor for state.",
            num(storage.full_percent)
        ),
        DiskId::Minio => format!(
            "Give MinIO at least {} TiB usable (now {} TiB): more or larger drives (minio.drives-per-node, minio.drive-tib) or another server pool. Media retention does not free MinIO space: Synapse never deletes from a storage provider.",
            num(d.needed_gib / 1024.0),
            num(d.capacity_gib / 1024.0)
        ),
        DiskId::Backup => {
            let incr = d
                .items
                .iter()
                .find(|i| i.name.starts_with("pgBackRest incremental"))
                .map(|i| {
                    format!(
                        " The hourly incrementals alone take {} GiB: pgBackRest 2.45 copies every changed 1 GiB file whole; pgBackRest 2.46 or later (PGDG) with repo1-block=y stores only the changed blocks.",
                        num(i.end_gib)
                    )
                })
                .unwrap_or_default();
            format!(
                "Raise hosts.backup.disk-gib to at least {need} GiB, or keep fewer full backups (retention.full-backups) or media snapshots (retention.media-snapshots).{incr}"
            )
        }
        DiskId::Monitoring => {
            let per_day = storage.rates.prometheus_gib_per_day;
            let line = d.capacity_gib * storage.full_percent / 100.0;
            let days = if per_day > 0.0 {
                (line / per_day).floor()
            } else {
                0.0
            };
            let shorter = if days >= 1.0 && (days as u64) < plan.retention.prometheus_days {
                format!(
                    ", or lower retention.prometheus-days to {} or less",
                    n(days as u64)
                )
            } else {
                String::new()
            };
            format!("Raise hosts.monitoring.disk-gib to at least {need} GiB{shorter}.")
        }
        DiskId::Synapse => format!("Raise hosts.synapse.disk-gib to at least {need} GiB."),
    }
}

fn fills(plan: &Plan, storage: &Storage, id: DiskId, d: &Disk, out: &mut Out) {
    let Some(month) = d.month_full else {
        return;
    };
    let line = d.capacity_gib * storage.full_percent / 100.0;
    let mut paths = vec![d.capacity_path];
    match id {
        DiskId::Minio => paths.push("minio.drives-per-node"),
        DiskId::Backup => paths.extend(["retention.full-backups", "retention.media-snapshots"]),
        DiskId::Monitoring => paths.push("retention.prometheus-days"),
        _ => {}
    }
    paths.push("activity.daily-active-users");
    let why = format!(
        "{} A disk counts as full at {} % ({}).",
        consequence(id),
        num(storage.full_percent),
        a::DISK_FULL_SHARE.source
    );
    let (severity, code, message) = if d.capacity_gib <= 0.0 {
        (
            Severity::Error,
            "storage-full-now",
            format!(
                "The {} is 0 GiB: nothing can be stored on it ({}).",
                d.label, d.capacity_formula
            ),
        )
    } else if month == 0 {
        (
            Severity::Error,
            "storage-full-now",
            format!(
                "The {} holds {} GiB at go-live, already past {} % of its {} GiB ({} GiB){}.",
                d.label,
                num(d.now_gib),
                num(storage.full_percent),
                num(d.capacity_gib),
                num(line),
                largest(d)
            ),
        )
    } else {
        let sev = if month <= SOON_MONTHS {
            Severity::Error
        } else {
            Severity::Warning
        };
        let code = if month <= SOON_MONTHS {
            "storage-fills-soon"
        } else {
            "storage-fills"
        };
        (
            sev,
            code,
            format!(
                "The {} reaches {} % of its {} GiB in month {month} of {}: it grows by {} GiB a month{}.",
                d.label,
                num(storage.full_percent),
                num(d.capacity_gib),
                storage.months,
                num(d.growth_gib_per_month),
                largest(d)
            ),
        )
    };
    out.push(
        severity,
        code,
        &paths,
        message,
        why,
        fix(plan, storage, id, d),
    );
}

/// The full backups `retention.full-backups` asks for do not fit on the backup disk by
/// the end of the span, whatever else is there.
fn backup_retention(plan: &Plan, storage: &Storage, out: &mut Out) {
    let Some(d) = storage.disks.get(DiskId::Backup.index()) else {
        return;
    };
    let Some(fulls) = d
        .items
        .iter()
        .find(|i| i.name.starts_with("pgBackRest full"))
    else {
        return;
    };
    let at_peak = storage.rates.full_backups_at_peak.max(1);
    let one = fulls.end_gib / at_peak as f64;
    let line = d.capacity_gib * storage.full_percent / 100.0;
    if fulls.end_gib <= line || one <= 0.0 {
        return;
    }
    // Fulls that fit at the peak (kept + the next), and so the retention that fits.
    let fit = (line / one).floor() as u64;
    let kept = plan.retention.full_backups;
    let fix = if fit >= 2 {
        format!(
            "Keep at most {} full backups (retention.full-backups), or raise hosts.backup.disk-gib to at least {} GiB for the fulls alone.",
            fit - 1,
            num((fulls.end_gib / (storage.full_percent / 100.0)).ceil())
        )
    } else {
        format!(
            "Raise hosts.backup.disk-gib to at least {} GiB: not even one full backup and the next fit.",
            num((2.0 * one / (storage.full_percent / 100.0)).ceil())
        )
    };
    out.push(
        Severity::Error,
        "backup-retention-impossible",
        &["retention.full-backups", "hosts.backup.disk-gib"],
        format!(
            "Keeping {kept} full backups needs {} fulls of {} GiB at month {} ({} GiB), more than {} % of the backup disk ({} GiB).",
            at_peak,
            num(one),
            storage.months,
            num(fulls.end_gib),
            num(storage.full_percent),
            num(line)
        ),
        "pgBackRest expires the oldest full only after the next one completes, so retention.full-backups + 1 fulls must fit at once; when they do not, every weekly full fails and the restore window shrinks to nothing (pgBackRest user guide, Retention).",
        fix,
    );
}

fn media_retention(plan: &Plan, storage: &Storage, out: &mut Out) {
    let r = &plan.retention;
    let per_month = num(storage.rates.media_gib_per_month);
    if plan.activity.federation == Federation::Open && r.remote_media_days == 0 {
        out.push(
            Severity::Warning,
            "remote-media-forever",
            &["retention.remote-media-days", "activity.federation"],
            format!(
                "Remote media are cached forever (retention.remote-media-days = 0) on an openly federated server: {} GiB a day from other servers, never expired.",
                num(storage.rates.remote_media_gib_per_day)
            ),
            "Synapse keeps cached remote media until media_retention.remote_media_lifetime expires them (Synapse docs, config_documentation.md, media_retention); large public rooms bring a steady stream of images and avatars that can always be fetched again from their origin.",
            "Set retention.remote-media-days (e.g. 14 to 90): Synapse then drops cached remote media nobody viewed for that long. The copies already in MinIO stay (element-hq/synapse#16989) until an orphan cleanup removes them.",
        );
    }
    if r.local_media_days > 0 || r.remote_media_days > 0 {
        let set: Vec<String> = [
            ("local", r.local_media_days),
            ("remote", r.remote_media_days),
        ]
        .iter()
        .filter(|(_, d)| *d > 0)
        .map(|(k, d)| format!("{k} {d} days"))
        .collect();
        out.push(
            Severity::Info,
            "media-retention-keeps-minio",
            &[
                "retention.local-media-days",
                "retention.remote-media-days",
                "minio.drive-tib",
            ],
            format!(
                "Media retention ({}) does not free MinIO space: the bucket grows by {per_month} GiB a month whatever the lifetimes.",
                set.join(", ")
            ),
            "Synapse's media_retention deletes media from its own store and database only; it never deletes from a storage provider such as synapse-s3-storage-provider (element-hq/synapse#16989, matrix-org/synapse-s3-storage-provider#115, both open).",
            "Size MinIO for every upload (the storage view does), or run a periodic job that deletes bucket objects whose media Synapse no longer knows.",
        );
    }
}
