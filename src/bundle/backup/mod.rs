//! Backups and restores (seed §5, DESIGN.md §4): pgBackRest with a repository on the
//! backup host (full weekly, differential daily, incremental hourly, WAL archived
//! continuously), a weekly pg_dump without `e2e_one_time_keys_json`'s data, daily media
//! snapshots (MinIO bucket and the Synapse host's local media store) with hard links,
//! and the restore procedures as scripts and a document.
//!
//! Versions targeted: Debian 12's pgbackrest 2.45, rclone 1.60, rsync 3.2, patroni 3.0.2.
//!
//! One module per generated file or family: [`cron`] (the schedule), [`pgbackrest`]
//! (its configuration on both sides, the backup wrapper, the setup script), [`pg_dump`]
//! (the weekly dump and its password file), [`media`] (rclone's remote, media backup and
//! restore), [`restore`] (the database restore and replica rebuild scripts),
//! [`ssh_keys`] (the SSH trust script) and [`restore_doc`] (RESTORE.md). This module
//! holds what they share: the plan's retention and the restore window, standby and
//! process counts, the metrics function. Names, paths, metric names and the schedule
//! that other files read too are `crate::deploy`'s (`facts`, `backups`).

pub(super) mod cron;
pub(super) mod media;
pub(super) mod pg_dump;
pub(super) mod pgbackrest;
pub(super) mod restore;
pub(super) mod restore_doc;
pub(super) mod ssh_keys;

use super::postgres::CLUSTER;
use super::{Comment, Ctx, File, Host, ports};
use crate::deploy::backups::{DIFF_RETENTION, FULL_EVERY_DAYS, PGDUMP_KEEP};
use crate::deploy::facts::{
    BACKUP_DURATION, BACKUP_FAILURE, BACKUP_SUCCESS, MEDIA_BUCKET, MEDIA_SNAPSHOTS,
    NODE_TEXTFILE_DIR, PGBACKREST_REPO, PGDUMP_DIR,
};
use crate::plan::Role;

/// pgBackRest's stanza: Patroni's cluster name.
const STANZA: &str = CLUSTER;
/// Full backups kept (`repo1-retention-full`): the plan's `retention.full-backups`
/// (default 2). A full runs weekly and WAL is kept as far back as the oldest full: see
/// [`restore_window_days`]. The storage view sizes the repository from the same value.
pub(super) fn full_retention(ctx: &Ctx) -> u64 {
    ctx.plan.retention.full_backups
}
/// Daily media snapshots kept: the plan's `retention.media-snapshots` (default the
/// seed's 7). Hard links make an unchanged file cost nothing, so a week of history
/// costs about the media that changed that week (the storage view counts it).
pub(super) fn media_snapshots(ctx: &Ctx) -> u64 {
    ctx.plan.retention.media_snapshots
}
/// The playbook's media store on the Synapse host: `matrix_synapse_media_store_path`
/// = /matrix/synapse/storage/media-store (roles/custom/matrix-synapse/defaults/main.yml).
const MEDIA_STORE: &str = "/matrix/synapse/storage/media-store";
/// The playbook's user owning /matrix (`matrix_user_name`).
const MATRIX_USER: &str = "matrix";
/// Synapse's table of one-time keys (Synapse docs, "How to back up a Synapse
/// homeserver"): never restored.
pub(in crate::bundle) const OTK_TABLE: &str = "e2e_one_time_keys_json";

pub fn files(ctx: &Ctx) -> Vec<File> {
    let mut out = Vec::new();
    for h in ctx.hosts(Role::Backup) {
        out.push(pgbackrest::repo_config(ctx, h));
        out.push(cron::cron(ctx, h));
        out.push(pgbackrest::backup_wrapper(ctx, h));
        out.push(pgbackrest::setup_pgbackrest(ctx, h));
        out.push(pg_dump::pg_dump_script(ctx, h));
        out.push(pg_dump::pgpass(ctx, h));
        out.push(media::rclone_conf(ctx, h));
        out.push(media::media_backup(ctx, h));
        out.push(media::media_restore(ctx, h));
    }
    for h in ctx.hosts(Role::Patroni) {
        out.push(pgbackrest::db_config(ctx, h));
        out.push(restore::restore_database(ctx, h));
        out.push(restore::reinit_replica(ctx, h));
    }
    if ctx.topology.first(Role::Backup).is_some() {
        out.push(ssh_keys::ssh_keys(ctx));
        out.push(restore_doc::restore_doc(ctx));
    }
    out
}

fn backup_host<'a>(ctx: &'a Ctx) -> Option<&'a Host> {
    ctx.topology.first(Role::Backup)
}

fn backup_fqdn(ctx: &Ctx) -> String {
    backup_host(ctx).map(|h| h.fqdn.clone()).unwrap_or_default()
}

fn patroni_count(ctx: &Ctx) -> u64 {
    ctx.plan.host(Role::Patroni).count
}

/// How far back the database can be restored, in days, with `full_retention` weekly
/// fulls (one every `FULL_EVERY_DAYS`): (always, at most). Right after a full the oldest
/// kept is (full_retention − 1) weeks old; just before the next, full_retention weeks.
pub(super) fn restore_window_days(full_retention: u64) -> (u64, u64) {
    (
        full_retention
            .saturating_sub(1)
            .saturating_mul(FULL_EVERY_DAYS),
        full_retention.saturating_mul(FULL_EVERY_DAYS),
    )
}

/// Backups read a standby's files when there is one (pgBackRest's backup-standby: only
/// the start and stop of the backup touch the primary). pgBackRest 2.45 fails a
/// standby backup when no standby answers; with a single node there is none.
pub(super) fn backup_from_standby(ctx: &Ctx) -> bool {
    patroni_count(ctx) >= 2
}

/// Compression processes on the repository host: its vCPUs, at most 4 (the RAM budget
/// counts 4 pgBackRest workers, assumptions::PGBACKREST_REPO_GIB).
pub(super) fn repo_process_max(ctx: &Ctx) -> u64 {
    ctx.plan.host(Role::Backup).vcpus.clamp(1, 4)
}

/// Restore processes on a Patroni node: the node does nothing else during a restore;
/// past 8 streams the repository host's disk and network are the limit.
pub(super) fn restore_process_max(ctx: &Ctx) -> u64 {
    ctx.plan.host(Role::Patroni).vcpus.clamp(1, 8)
}

/// Port pg_dump uses through HAProxy: the replicas when there are standbys.
pub(super) fn pg_dump_port(ctx: &Ctx) -> u16 {
    if backup_from_standby(ctx) {
        ports::PG_REPLICAS
    } else {
        ports::PG_PRIMARY
    }
}

fn synapse_fqdn(ctx: &Ctx) -> String {
    ctx.topology
        .first(Role::Synapse)
        .map(|h| h.fqdn.clone())
        .unwrap_or_default()
}

/// The bash function every backup script uses to report to node_exporter; the
/// directory and the metric names (`@METRICS_DIR@`, `@SUCCESS@`, `@DURATION@`,
/// `@FAILURE@`) are deploy's facts, filled in by [`script_common`].
fn metrics_fn() -> &'static str {
    r##"# write_metrics JOB TYPE STATUS START: the job's result for node_exporter's textfile
# collector, written atomically (a .prom file appears whole or not at all).
write_metrics() {
  local job="$1" type="$2" status="$3" start="$4" dir="${METRICS_DIR:-@METRICS_DIR@}" now file
  now="$(date +%s)"
  mkdir -p "$dir"
  if [ "$status" -eq 0 ]; then
    file="$dir/synapse_planner_backup_${job}_${type}.prom"
    {
      echo "# HELP @SUCCESS@ End of the last successful backup."
      echo "# TYPE @SUCCESS@ gauge"
      echo "@SUCCESS@{job=\"$job\",type=\"$type\"} $now"
      echo "# HELP @DURATION@ Duration of the last successful backup."
      echo "# TYPE @DURATION@ gauge"
      echo "@DURATION@{job=\"$job\",type=\"$type\"} $((now - start))"
    } > "$file.$$"
  else
    file="$dir/synapse_planner_backup_${job}_${type}_failure.prom"
    {
      echo "# HELP @FAILURE@ End of the last failed backup."
      echo "# TYPE @FAILURE@ gauge"
      echo "@FAILURE@{job=\"$job\",type=\"$type\"} $now"
    } > "$file.$$"
  fi
  mv -f "$file.$$" "$file"
}
"##
}

fn script_common(ctx: &Ctx) -> Vec<(&'static str, String)> {
    vec![
        ("@HEADER@", ctx.header(Comment::Hash)),
        (
            "@METRICS_FN@",
            metrics_fn()
                .replace("@METRICS_DIR@", NODE_TEXTFILE_DIR)
                .replace("@SUCCESS@", BACKUP_SUCCESS)
                .replace("@DURATION@", BACKUP_DURATION)
                .replace("@FAILURE@", BACKUP_FAILURE),
        ),
        ("@STANZA@", STANZA.to_string()),
        ("@METRICS_DIR@", NODE_TEXTFILE_DIR.to_string()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::plan::Plan;

    use crate::bundle::with_ctx;

    fn plan(changes: &[(&str, &str)]) -> Plan {
        Plan::default()
            .with_texts(changes)
            .unwrap_or_else(|e| panic!("{changes:?}: {e:?}"))
    }

    #[test]
    fn retention_covers_a_week_at_least() {
        for (fulls, window) in [(1, (0, 7)), (2, (7, 14)), (4, (21, 28))] {
            assert_eq!(restore_window_days(fulls), window, "{fulls}");
        }
        // The default plan's choice: never less than a week back.
        with_ctx(&Plan::default(), |ctx| {
            assert_eq!(restore_window_days(full_retention(ctx)), (7, 14));
            // A week of dailies (6 diffs between fulls) and of media snapshots.
            for (kept, at_least) in [
                (DIFF_RETENTION, 6),
                (media_snapshots(ctx), 7),
                (PGDUMP_KEEP, 2),
            ] {
                assert!(kept >= at_least, "{kept}");
            }
            let f = files(ctx)
                .into_iter()
                .find(|f| f.path == "hosts/backup/etc/pgbackrest.conf")
                .expect("repo config");
            assert!(f.contents.contains("\nrepo1-retention-full=2\n"));
            assert!(f.contents.contains("\nrepo1-retention-diff=7\n"));
            assert_eq!(f.mode, 0o600);
        });
        // The plan's retention reaches the files.
        let p = plan(&[
            ("retention.full-backups", "4"),
            ("retention.media-snapshots", "30"),
        ]);
        with_ctx(&p, |ctx| {
            let all = files(ctx);
            let get = |path: &str| {
                all.iter()
                    .find(|f| f.path == path)
                    .map(|f| f.contents.clone())
                    .unwrap_or_default()
            };
            assert!(get("hosts/backup/etc/pgbackrest.conf").contains("\nrepo1-retention-full=4\n"));
            assert!(
                get("hosts/backup/usr/local/sbin/backup-media.sh")
                    .contains("keep=\"${MEDIA_SNAPSHOTS:-30}\"")
            );
            let doc = get("backup/RESTORE.md");
            assert!(doc.contains("| 4 fulls |"), "{doc}");
            assert!(doc.contains("last **21 days** (up to 28"), "{doc}");
            assert!(doc.contains("| 30 snapshots |"), "{doc}");
        });
    }

    #[test]
    fn standby_backups_and_process_counts_follow_the_plan() {
        for (changes, standby, repo_max, restore_max, dump_port) in [
            (&[][..], true, 4, 8, 5433),
            (
                &[
                    ("hosts.patroni.count", "1"),
                    ("hosts.backup.vcpus", "2"),
                    ("hosts.patroni.vcpus", "2"),
                ][..],
                false,
                2,
                2,
                5432,
            ),
        ] {
            with_ctx(&plan(changes), |ctx| {
                assert_eq!(backup_from_standby(ctx), standby, "{changes:?}");
                assert_eq!(repo_process_max(ctx), repo_max, "{changes:?}");
                assert_eq!(restore_process_max(ctx), restore_max, "{changes:?}");
                assert_eq!(pg_dump_port(ctx), dump_port, "{changes:?}");
                let repo = files(ctx)
                    .into_iter()
                    .find(|f| f.path == "hosts/backup/etc/pgbackrest.conf")
                    .expect("repo config");
                assert!(repo.contents.contains(&format!(
                    "\nbackup-standby={}\n",
                    if standby { "y" } else { "n" }
                )));
                for (i, h) in ctx.hosts(Role::Patroni).enumerate() {
                    assert!(
                        repo.contents
                            .contains(&format!("\npg{}-host={}\n", i + 1, h.fqdn))
                    );
                }
            });
        }
    }

    /// Values no validation would let through (a plan file is untrusted; the writers must
    /// not rely on validation) never change a file's structure: every one stays on its
    /// line, inside its quotes.
    #[test]
    fn hostile_values_stay_values() {
        with_ctx(&crate::bundle::hostile_plan(), |ctx| {
            crate::bundle::assert_no_injected_line(&files(ctx), &["#", "<!--"]);
            for f in files(ctx) {
                if f.path.ends_with(".sh") {
                    // In scripts a value is one quoted word: the command substitution
                    // only ever appears inside single quotes or $'…'.
                    for line in f
                        .contents
                        .lines()
                        .filter(|l| l.contains("$(touch") && !l.trim_start().starts_with('#'))
                    {
                        assert!(
                            line.contains("'synapse.e\\'v")
                                || line.contains("'backup.e\\'v")
                                || line.contains("'patroni1.e\\'v")
                                || line.contains("'root@synapse.e\\'v"),
                            "{}: {line}",
                            f.path
                        );
                    }
                }
            }
            let doc = files(ctx)
                .into_iter()
                .find(|f| f.path == "backup/RESTORE.md")
                .expect("RESTORE.md");
            assert!(
                doc.contents
                    .contains("for **e\\'v\\\"il\\$\\(touch \\/tmp\\/pwn\\)"),
                "{}",
                doc.contents
            );
        });
    }
}
